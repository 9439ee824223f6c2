package cards

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGuestGuidanceVariants(t *testing.T) {
	base := GuestGuidanceView{OrgName: "Contoso", TenantID: contosoID, HomeOrgName: "Fabrikam", PackageName: "Falcon Partner Collaboration",
		InviteRedeemURL: "https://invitations.example/redeem?x=1&y=2", TeamName: "Falcon Team", TeamURL: "https://teams.example/team",
		AccessEnds: t0.Add(5 * 24 * time.Hour), Now: t0}
	tests := []struct {
		step     GuestStep
		want     []string
		wantURLs []string
	}{
		{GuestInvited, []string{"Contoso added you as a guest", "Read your name, email address and photo", "Accounts and orgs", "Contoso (Guest)"},
			[]string{"https://invitations.example/redeem?x=1&y=2", "https://teams.microsoft.com/?tenantId=" + contosoID, "https://teams.example/team"}},
		{GuestAccepted, []string{"You're in", "Find Falcon Team"}, []string{"https://teams.microsoft.com/?tenantId=" + contosoID, "https://teams.example/team"}},
		{GuestEnding, []string{"ends on", "(in 5 days)", "blocked", "deleted"}, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.step), func(t *testing.T) {
			v := base
			v.Step = tt.step
			d := decode(t, GuestGuidance(en, v))
			txt := d.texts()
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("text lacks %q:\n%s", w, txt)
				}
			}
			var urls []string
			for _, u := range d.objects("Action.OpenUrl") {
				urls = append(urls, u["url"].(string))
			}
			if !reflect.DeepEqual(urls, tt.wantURLs) {
				t.Errorf("urls = %v, want %v", urls, tt.wantURLs)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	tests := []struct{ got, want string }{
		{MyAccessURL("contoso.onmicrosoft.com", pkgTeam), "https://myaccess.microsoft.com/@contoso.onmicrosoft.com#/access-packages/" + pkgTeam},
		{MyAccessURL("contoso.example", ""), "https://myaccess.microsoft.com/@contoso.example#/access-packages"},
		{MyAccessURL("evil.example/x?y", "a b"), "https://myaccess.microsoft.com/@evil.example%2Fx%3Fy#/access-packages/a%20b"},
		{TeamsTenantURL(contosoID), "https://teams.microsoft.com/?tenantId=" + contosoID},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
	d := decode(t, LinkOut(en, LinkOutView{PackageID: pkgPartner, TenantDomain: "contoso.onmicrosoft.com", OrgName: "Contoso"}))
	if u := d.objects("Action.OpenUrl"); len(u) != 1 || u[0]["url"] != MyAccessURL("contoso.onmicrosoft.com", pkgPartner) {
		t.Errorf("link-out actions = %v", u)
	}
}
