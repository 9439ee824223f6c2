package bot

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

func TestAdmDurationWords(t *testing.T) {
	tests := []struct{ lang, in, want string }{
		{"en", "P180D", "180 days"}, {"en", "PT8H", "8 hours"}, {"en", "P4W2D", "4 weeks 2 days"},
		{"en", "P1DT12H", "1 day 12 hours"}, {"en", "PT30M", "30 minutes"}, {"en", "P1Y2M", "1 year 2 months"},
		{"en", "P0D", "0 days"}, {"en", "P", "P"}, {"en", "", ""}, {"en", "5 days", "5 days"}, {"en", "P5H", "P5H"},
		{"en", "PT5D", "PT5D"}, {"en", "P1", "P1"}, {"en", "PTH", "PTH"}, {"en", "PT1S", "1 second"},
		{"de", "P180D", "180 Tage"}, {"de", "P1DT1H", "1 Tag 1 Stunde"}, {"de", "P1Y2M", "1 Jahr 2 Monate"},
		{"de", "P3W", "3 Wochen"}, {"de", "P0D", "0 Tage"},
		{"fr", "P180D", "180 jours"}, {"fr", "P1W1D", "1 semaine 1 jour"}, {"fr", "P2Y", "2 ans"},
		{"fr", "PT90M", "90 minutes"}, {"fr", "P0D", "0 jour"},
	}
	for _, tc := range tests {
		if got := admDurationWords(i18n.For(tc.lang), tc.in); got != tc.want {
			t.Errorf("admDurationWords(%s, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}

func TestAdmResolve(t *testing.T) {
	cs := []admCandidate{{id: "1", name: "Falcon Team"}, {id: "2", name: "Falcon Team Member"}, {id: "3", name: "Wiki", keys: []string{"wiki.example"}}}
	tests := []struct {
		arg     string
		want    int
		wantErr string
	}{
		{"2", 1, ""},
		{"falcon team", 0, ""},      // exact wins over prefix
		{"Falcon Team M", 1, ""},    // unique prefix
		{"WIKI.example", 2, ""},     // other key
		{"Falcon", -1, "matches 2"}, // ambiguous prefix
		{"Wikki", -1, `Did you mean "Wiki"?`},
		{"", -1, "give the package"},
	}
	for _, tc := range tests {
		got, err := admResolve("x", "package", tc.arg, cs)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("admResolve(%q) error = %v, want %q", tc.arg, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("admResolve(%q) = %d, %v; want %d", tc.arg, got, err, tc.want)
		}
	}
}

func TestAdmPolicyWords(t *testing.T) {
	end := time.Date(2027, 1, 31, 17, 0, 0, 0, time.UTC)
	expiry := []struct {
		lang string
		in   entitlement.Expiration
		want string
	}{
		{"en", entitlement.Expiration{Type: entitlement.ExpireNever}, "No expiry"},
		{"en", entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: end}, "On 2027-01-31 17:00 UTC"},
		{"en", entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "PT8H"}, "8 hours after assignment"},
		{"en", entitlement.Expiration{Type: entitlement.ExpireNotSpecified, Duration: "P30D"}, "30 days after assignment"},
		{"en", entitlement.Expiration{}, "Not specified"},
		{"de", entitlement.Expiration{Type: entitlement.ExpireNever}, "Kein Ablauf"},
		{"de", entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P1D"}, "1 Tag nach der Zuweisung"},
		{"de", entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: end}, "Am 2027-01-31 17:00 UTC"},
		{"fr", entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}, "30 jours après l'attribution"},
		{"fr", entitlement.Expiration{}, "Non précisé"},
	}
	for _, tc := range expiry {
		if got := admExpiryWords(i18n.For(tc.lang), tc.in); got != tc.want {
			t.Errorf("admExpiryWords(%s, %+v) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
	orgName := func(id string) string { return map[string]string{admOrgFab: "Fabrikam"}[id] }
	fab := []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: admOrgFab}}
	scope := []struct {
		lang string
		p    entitlement.Policy
		want string
	}{
		{"en", entitlement.Policy{Scope: entitlement.ScopeAllMemberUsers}, "All members of the organization"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeAllConfiguredConnectedOrganizationUsers}, "Users of all configured connected organizations"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeSpecificConnectedOrganizationUsers, SpecificTargets: fab}, "Users of Fabrikam"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeSpecificConnectedOrganizationUsers}, "Users of specific connected organizations"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeAllExternalUsers}, "All external users"},
		{"en", entitlement.Policy{}, "Nobody (admin assignments only)"},
		{"en", entitlement.Policy{Scope: "somethingNew"}, "somethingNew"},
		{"de", entitlement.Policy{Scope: entitlement.ScopeAllMemberUsers}, "Alle Mitglieder der Organisation"},
		{"de", entitlement.Policy{Scope: entitlement.ScopeSpecificConnectedOrganizationUsers, SpecificTargets: fab}, "Benutzer von Fabrikam"},
		{"fr", entitlement.Policy{}, "Personne (attributions par les administrateurs uniquement)"},
		{"fr", entitlement.Policy{Scope: entitlement.ScopeAllExternalUsers}, "Tous les utilisateurs externes"},
	}
	for _, tc := range scope {
		if got := admScopeWords(i18n.For(tc.lang), tc.p, orgName); got != tc.want {
			t.Errorf("admScopeWords(%s, %q) = %q, want %q", tc.lang, tc.p.Scope, got, tc.want)
		}
	}
	covers := []struct {
		scope    entitlement.TargetScope
		external bool
		want     bool
	}{
		{entitlement.ScopeAllMemberUsers, false, true},
		{entitlement.ScopeAllMemberUsers, true, false},
		{entitlement.ScopeSpecificConnectedOrganizationUsers, true, true},
		{entitlement.ScopeSpecificConnectedOrganizationUsers, false, false},
		{entitlement.ScopeAllDirectoryUsers, true, true},
	}
	for _, tc := range covers {
		if got := admPolicyCovers(entitlement.Policy{Scope: tc.scope}, tc.external); got != tc.want {
			t.Errorf("admPolicyCovers(%s, external=%v) = %v, want %v", tc.scope, tc.external, got, tc.want)
		}
	}
}

// TestAdmResolveSuggestionsJoined: the names "did you mean" offers are joined as the admin's language writes
// alternatives, like every other list of names.
func TestAdmResolveSuggestionsJoined(t *testing.T) {
	cs := []admCandidate{{id: "1", name: "Falcon Team"}, {id: "2", name: "Falcon Teams"}}
	_, err := admResolve("x", "package", "Falcn Team", cs)
	var ae *adminError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want an adminError", err)
	}
	for lang, want := range map[string]string{"en": `Did you mean "Falcon Team" or "Falcon Teams"?`,
		"de": `Meinten Sie "Falcon Team" oder "Falcon Teams"?`, "fr": `Vouliez-vous dire "Falcon Team" ou "Falcon Teams" ?`} {
		if got := ae.localized(i18n.For(lang)).details; !slices.Contains(got, want) {
			t.Errorf("%s: details = %q, want %q", lang, got, want)
		}
	}
}
