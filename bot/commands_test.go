package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
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

// TestWelcomeOncePerInstall: the installationUpdate and conversationUpdate of one install greet once; a
// reinstall after the window greets again.
func TestWelcomeOncePerInstall(t *testing.T) {
	e := newAdmEnv(t)
	install := func() int {
		n := e.conn.count()
		for _, typ := range []string{"installationUpdate", "conversationUpdate"} {
			act := e.activity(admRita, typ)
			act.Action = "add"
			act.MembersAdded = []schema.ChannelAccount{{ID: act.Recipient.ID}}
			if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
				t.Fatal(err)
			}
		}
		return e.conn.count() - n
	}
	if got := install(); got != 1 {
		t.Fatalf("first install sent %d welcomes, want 1", got)
	}
	if got := install(); got != 0 {
		t.Fatalf("repeated install events sent %d welcomes, want 0", got)
	}
	e.advance(welcomeWindow + time.Minute)
	if got := install(); got != 1 {
		t.Fatalf("reinstall after the window sent %d welcomes, want 1", got)
	}
}
