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

// TestSharedChatsOnlyGetHelp: in a group chat or channel, personal commands (requests, access, approvals, admin)
// are not answered in public; the user gets a link to the 1:1 chat. help still works there.
func TestSharedChatsOnlyGetHelp(t *testing.T) {
	tests := []struct {
		convType, text string
		private        bool
	}{
		{"channel", "status", true},
		{"groupChat", "access", true},
		{"channel", "/orgs", true},
		{"groupChat", "I need access to Falcon", true},
		{"channel", "help", false},
		{"personal", "help", false},
	}
	for _, tc := range tests {
		t.Run(tc.convType+" "+tc.text, func(t *testing.T) {
			e := newAdmEnv(t)
			n := e.conn.count()
			act := e.activity(admAdele, "message")
			act.Conversation.ConversationType = tc.convType
			act.Text = "<at>AccessBot</at> " + tc.text
			if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
				t.Fatal(err)
			}
			var got string
			for _, a := range e.conn.since(n) {
				got += admActivityText(t, a.Act)
			}
			isPrivateNotice := strings.Contains(got, "Let's take this to our 1:1 chat")
			if isPrivateNotice != tc.private {
				t.Fatalf("private-only notice = %v, want %v; answer:\n%s", isPrivateNotice, tc.private, got)
			}
			if tc.private && (strings.Contains(got, "Connected organizations") || strings.Contains(got, "Your requests")) {
				t.Fatalf("personal data shown in a shared chat:\n%s", got)
			}
		})
	}
}
