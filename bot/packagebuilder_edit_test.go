package bot

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// TestEditRefusal: a policy the wizard cannot keep whole is refused, in the admin's language, with what is wrong
// (requestors it has no step for, or more approval stages than it offers); any other policy opens.
func TestEditRefusal(t *testing.T) {
	pkg := entitlement.Package{Name: "Falcon Team Member"}
	stages := func(n int) []entitlement.Stage { return make([]entitlement.Stage, n) }
	tests := []struct {
		name string
		pol  entitlement.Policy
		want []string // in the German text; nil = not refused
	}{
		{"two stages, members", entitlement.Policy{Name: "Employees", Scope: entitlement.ScopeAllMemberUsers, Stages: stages(2)}, nil},
		{"no approval, connected orgs", entitlement.Policy{Name: "Partners", Scope: entitlement.ScopeAllConfiguredConnectedOrganizationUsers}, nil},
		{"three stages", entitlement.Policy{Name: "Employees", Scope: entitlement.ScopeAllMemberUsers, Stages: stages(3)},
			[]string{"Employees", "3 Genehmigungsstufen", "höchstens 2"}},
		{"specific users", entitlement.Policy{Name: "Named", Scope: entitlement.ScopeSpecificDirectoryUsers},
			[]string{"Named", string(entitlement.ScopeSpecificDirectoryUsers)}},
	}
	de := i18n.For("de-DE")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ae := editRefusal(pkg, tc.pol)
			if (ae != nil) != (tc.want != nil) {
				t.Fatalf("refused = %v, want %v", ae != nil, tc.want != nil)
			}
			if ae == nil {
				return
			}
			got := ae.localized(de)
			for _, w := range tc.want {
				if !strings.Contains(got.text, w) {
					t.Errorf("German refusal %q lacks %q", got.text, w)
				}
			}
			if !strings.Contains(ae.text, "Nothing was changed") {
				t.Errorf("English refusal %q does not say nothing changed", ae.text)
			}
		})
	}
}
