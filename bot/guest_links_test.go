package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// linkPort adds Graph's Team links to a port: teams maps a group id that is a Team to its webUrl.
type linkPort struct {
	entitlement.Port
	teams map[string]string
}

func (p linkPort) TeamWebURL(ctx context.Context, id string) (string, error) {
	if u, ok := p.teams[id]; ok {
		return u, nil
	}
	return "", entitlement.ErrNotFound
}

// TestGuestLinksOpenTheTeam: the guest's last step links the team itself (its webUrl, with the tenant) for
// each Team the package grants and each SharePoint site, not only the tenant switch (issue 13 item 10).
func TestGuestLinksOpenTheTeam(t *testing.T) {
	e := newPtEnv(t, true)
	const falconURL = "https://teams.microsoft.com/l/team/19%3Aabc%40thread.tacv2/conversations?groupId=g1&tenantId=t"
	e.bot.cfg.Entitlement = linkPort{Port: e.port, teams: map[string]string{"g1": falconURL, "g3": "https://teams.microsoft.com/l/team/3"}}
	rs := []entitlement.ResourceRole{
		{ResourceName: "Falcon Security Group", OriginSystem: "AadGroup", OriginID: "g2"}, // a group, not a Team
		{ResourceName: "Falcon Team", OriginSystem: "AadGroup", OriginID: "g1"},
		{ResourceName: "Falcon site", OriginSystem: "SharePointOnline", OriginID: "https://contoso.sharepoint.com/sites/falcon"},
		{ResourceName: "Ops Team", OriginSystem: "AadGroup", OriginID: "g3"},
		{ResourceName: "Falcon Portal", OriginSystem: "AadApplication", OriginID: "app"},
	}
	name, url, links := e.bot.resourceLinks(context.Background(), rs, "Falcon Security Group")
	if name != "Falcon Team" || url != falconURL {
		t.Errorf("team = %q %q, want Falcon Team and its webUrl", name, url)
	}
	var got []string
	for _, l := range links {
		got = append(got, l.Title+"="+l.URL)
	}
	want := "Falcon site=https://contoso.sharepoint.com/sites/falcon|Ops Team=https://teams.microsoft.com/l/team/3"
	if strings.Join(got, "|") != want {
		t.Errorf("links = %q, want %q", got, want)
	}
	// A port without Team links (or no Team): the team is named, the sites are still linked.
	e.bot.cfg.Entitlement = e.port
	name, url, links = e.bot.resourceLinks(context.Background(), rs, "Falcon Team")
	if name != "Falcon Team" || url != "" || len(links) != 1 {
		t.Errorf("without Team links: %q %q %v", name, url, links)
	}
}
