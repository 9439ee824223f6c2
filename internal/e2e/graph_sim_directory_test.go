package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestGraphSimInviteRedeemCatalogAndPolicy covers the port calls the other simulator tests leave out: an
// invitation whose redemption URL flips the guest to Accepted (read back through users/{id}), the packages
// of a catalog (hidden ones included) and one policy with its stages and questions.
func TestGraphSimInviteRedeemCatalogAndPolicy(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()

	inv, err := e.client.Invite(ctx, entitlement.NewInvitation{Email: "nina@northwind.example", DisplayName: "Nina North",
		RedirectURL: "https://teams.microsoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.ID == "" || inv.InvitedUserID == "" || inv.RedeemURL == "" || inv.Status != "PendingAcceptance" {
		t.Fatalf("invitation = %+v", inv)
	}
	guest, err := e.client.User(ctx, inv.InvitedUserID)
	if err != nil {
		t.Fatal(err)
	}
	if guest.UserType != "Guest" || guest.ExternalUserState != "PendingAcceptance" {
		t.Fatalf("invited guest = %+v, want Guest / PendingAcceptance", guest)
	}
	resp, err := http.Get(inv.RedeemURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redeem: status %d", resp.StatusCode)
	}
	guest, err = e.client.User(ctx, inv.InvitedUserID)
	if err != nil {
		t.Fatal(err)
	}
	if guest.ExternalUserState != "Accepted" {
		t.Fatalf("after redemption externalUserState = %q, want Accepted", guest.ExternalUserState)
	}

	pkgs, err := e.client.CatalogPackages(ctx, tenantsim.FalconCatalogID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pkgs, func(p entitlement.Package) bool { return p.ID == tenantsim.PkgBreakGlass && p.IsHidden }) ||
		!slices.ContainsFunc(pkgs, func(p entitlement.Package) bool { return p.ID == tenantsim.PkgProduction && !p.IsHidden }) {
		t.Fatalf("catalog packages = %+v, want the hidden break-glass package and the production package", pkgs)
	}
	for _, p := range pkgs {
		if p.CatalogID != "" && p.CatalogID != tenantsim.FalconCatalogID {
			t.Errorf("package %s is in catalog %s", p.ID, p.CatalogID)
		}
	}

	pol, err := e.client.Policy(ctx, tenantsim.PolicyProduction)
	if err != nil {
		t.Fatal(err)
	}
	if pol.PackageID != tenantsim.PkgProduction || !pol.RequestorJustificationRequired || len(pol.Stages) != 2 || len(pol.Questions) != 2 {
		t.Fatalf("production policy = %+v", pol)
	}
	if pol.Stages[0].DurationBeforeEscalation != "PT4H" || !pol.Stages[0].ApproverJustificationRequired {
		t.Errorf("stage 1 = %+v, want escalation after PT4H and approver justification", pol.Stages[0])
	}
	if pol.Expiration.Type != entitlement.ExpireAfterDuration || pol.Expiration.Duration != "P90D" {
		t.Errorf("expiration = %+v, want afterDuration P90D (not weeks)", pol.Expiration)
	}
	if _, err := e.client.Policy(ctx, "ffffffff-0000-0000-0000-00000000ffff"); !errors.Is(err, entitlement.ErrNotFound) {
		t.Errorf("unknown policy: err = %v, want ErrNotFound", err)
	}
}

// TestGraphSimInstallAppByManifestID: the bot is configured with its Teams app's manifest id, but AccessBot
// published to the organization's catalog has a generated catalog id (the manifest id is its externalId) and
// Graph installs by catalog id. Installing by the manifest id works because the client looks the catalog id up.
func TestGraphSimInstallAppByManifestID(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	for range 2 { // the second install is "already installed" (409), which is success
		if err := e.client.InstallAppForUser(ctx, tenantsim.UserLynne, tenantsim.BotTeamsAppManifestID); err != nil {
			t.Fatalf("install by manifest id: %v", err)
		}
	}
	tok, err := e.app.Graph().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, e.url+"/v1.0/users/"+tenantsim.UserLynne+"/teamwork/installedApps?$expand=teamsApp", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Value []struct {
			TeamsApp struct {
				ID         string `json:"id"`
				ExternalID string `json:"externalId"`
			} `json:"teamsApp"`
		} `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Value) != 1 || body.Value[0].TeamsApp.ID != tenantsim.BotTeamsAppCatalogID || body.Value[0].TeamsApp.ExternalID != tenantsim.BotTeamsAppManifestID {
		t.Fatalf("Lynne's installed apps = %+v, want AccessBot by catalog id %s", body.Value, tenantsim.BotTeamsAppCatalogID)
	}
}
