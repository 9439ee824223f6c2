package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestAdminByDirectoryRole: with no admin group configured and the Identity Governance Administrator role
// set, Adele (who holds the role in the simulator, read through roleManagement/directory/roleAssignments)
// runs /orgs, while Rita (no role) is refused and only the refusal is audited.
func TestAdminByDirectoryRole(t *testing.T) {
	e := &adminEnv{botEnv: newBotEnv(t, envOptions{AdminRoles: []string{tenantsim.IdentityGovernanceAdminRoleID}})}

	e.say(rita, "/orgs", "Not allowed", "/orgs is an admin command", "Nothing was changed")
	if got := e.auditOutcomes(50); !slices.Equal(got, []string{"admin.refused refused: not an admin"}) {
		t.Fatalf("audit after Rita's /orgs = %q", got)
	}

	a := e.say(admAdele, "/orgs", "Connected organizations", "Fabrikam", "configured", tenantsim.FabrikamTenantID)
	if got := a.CardText() + a.Text(); strings.Contains(got, "Not allowed") {
		t.Fatalf("Adele was refused:\n%s", got)
	}
	want := []string{"admin.orgs listed 1", "admin.refused refused: not an admin"}
	if got := e.auditOutcomes(50); !slices.Equal(got, want) {
		t.Fatalf("audit after Adele's /orgs = %q, want %q", got, want)
	}
}
