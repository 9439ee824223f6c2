package e2e

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestBuilderCatalogRights: an AccessBot admin without the Identity Governance Administrator role may build
// packages only in catalogs where Entra gives her Catalog owner or Access package manager. Patti (admin here
// through the Falcon Team group, Catalog owner of Project Falcon, not a Catalog creator) is refused a new
// catalog with the reason and nothing is stored, then builds in Project Falcon.
func TestBuilderCatalogRights(t *testing.T) {
	e := newFlowEnv(t, envOptions{AdminGroup: tenantsim.FalconTeamGroupID})

	rights, err := e.client.AdminRights(e.ctx(), tenantsim.UserPatti)
	roles := rights.CatalogRoles
	if err != nil || rights.GovernanceAdmin != (entitlement.RoleHold{}) || len(roles) != 1 || roles[0].RoleDefinitionID != entitlement.RoleCatalogOwner || roles[0].CatalogID != tenantsim.FalconCatalogID {
		t.Fatalf("Patti's entitlement management rights = %+v, %v", rights, err)
	}

	start := e.say(patti, "/package new", "builder.next")
	data := actionData(t, start.Card(), "builder.next")
	data["pb.name"], data["pb.catalog"], data["pb.newCatalog"] = "Patti's Pilot", "new", "Patti's Catalog"
	text, card := e.click(patti, start.ID, "builder.next", data)
	if got := text + rawJSON(card); !strings.Contains(got, "Catalog creator") || !strings.Contains(got, "Step 1 of 7") {
		t.Fatalf("a new catalog without Catalog creator was not refused with the reason: %s", got)
	}
	data = actionData(t, card, "builder.next")
	data["pb.name"], data["pb.catalog"] = "Patti's Pilot", tenantsim.FalconCatalogID
	if text, card = e.click(patti, start.ID, "builder.next", data); !strings.Contains(text+rawJSON(card), "Resources and roles") {
		t.Fatalf("the catalog Patti owns was refused: %s", text+rawJSON(card))
	}
}

// TestBuilderCatalogRightsEditDelete: admins without any role on Project Falcon (the Falcon Security Reviewers
// group as admin group) are refused /package … edit and /package … delete with the reason, before anything
// is asked or changed.
func TestBuilderCatalogRightsEditDelete(t *testing.T) {
	e := newFlowEnv(t, envOptions{AdminGroup: tenantsim.ReviewersGroupID})
	isaiahChat := inChat(isaiah)
	for _, cmd := range []string{"/package Falcon Wiki Reader edit", "/package Falcon Wiki Reader delete"} {
		a := e.say(isaiahChat, cmd, "can't manage the catalog Project Falcon")
		if got := a.CardText() + a.Text(); !strings.Contains(got, "Catalog owner or Access package manager") || strings.Contains(rawCard(a), "builder.next") {
			t.Errorf("%s: %s", cmd, got)
		}
	}
	if _, err := e.client.Package(e.ctx(), tenantsim.PkgWikiReader); err != nil {
		t.Fatalf("the package is gone after a refused delete: %v", err)
	}
}

// TestBuilderRightsThroughGroupAndPIM: Lynne holds Identity Governance Administrator through the role-assignable
// group "Identity Governance Admins" and may build in any catalog; Isaiah is only eligible for it and is refused
// with the advice to activate it in PIM, nothing stored; once he has activated it, he may.
func TestBuilderRightsThroughGroupAndPIM(t *testing.T) {
	e := newFlowEnv(t, envOptions{AdminGroup: tenantsim.ReviewersGroupID})
	rights, err := e.client.AdminRights(e.ctx(), tenantsim.UserLynne)
	if err != nil || !rights.GovernanceAdmin.Active || rights.GovernanceAdmin.Group != "Identity Governance Admins" {
		t.Fatalf("Lynne's rights = %+v, %v", rights, err)
	}
	lynneChat, isaiahChat := inChat(lynne), inChat(isaiah)
	newCatalog := func(u teamsfake.User) string {
		start := e.say(u, "/package new over", "builder.next")
		data := actionData(t, start.Card(), "builder.next")
		data["pb.name"], data["pb.catalog"], data["pb.newCatalog"] = "Reviewers' Pilot", "new", "Reviewers' Catalog"
		text, card := e.click(u, start.ID, "builder.next", data)
		return text + rawJSON(card)
	}
	if got := newCatalog(lynneChat); !strings.Contains(got, "Resources and roles") {
		t.Fatalf("Lynne (Identity Governance Administrator through a group) was refused a new catalog: %s", got)
	}
	got := newCatalog(isaiahChat)
	for _, want := range []string{"eligible for Identity Governance Administrator", "Privileged Identity Management", "Activate", "Step 1 of 7"} {
		if !strings.Contains(got, want) {
			t.Errorf("Isaiah's refusal lacks %q: %s", want, got)
		}
	}
	if err := e.sim.ActivateRole(tenantsim.UserIsaiah, tenantsim.IdentityGovernanceAdminRoleID); err != nil {
		t.Fatal(err)
	}
	if got := newCatalog(isaiahChat); !strings.Contains(got, "Resources and roles") {
		t.Fatalf("Isaiah was refused after activating the role in PIM: %s", got)
	}
}
