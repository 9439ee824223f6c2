package bot

import (
	"strings"
	"testing"
)

// TestUnknownCommandSuggestions checks that typos get the closest commands, and that admin command names
// are offered to admins only.
func TestUnknownCommandSuggestions(t *testing.T) {
	tests := []struct {
		name    string
		who     admPerson
		text    string
		want    []string
		mustNot []string
	}{
		{"requester typo", admRita, "pakages", []string{"Did you mean", "\npackages"}, []string{"/orgs"}},
		{"admin slash typo", admAdele, "/orgz", []string{"Did you mean", "\n/orgs"}, nil},
		{"non-admin slash typo", admRita, "/orgz", []string{"I don't know"}, []string{"/orgs"}},
		{"nothing close", admRita, "xyzzyq", []string{"Type help"}, []string{"/orgs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			got := e.say(tc.who, tc.text)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer to %q lacks %s:\n%s", tc.text, w, got)
				}
			}
			for _, w := range tc.mustNot {
				if strings.Contains(got, w) {
					t.Errorf("answer to %q offers %s:\n%s", tc.text, w, got)
				}
			}
		})
	}
}
