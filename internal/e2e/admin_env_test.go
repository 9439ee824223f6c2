package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// adminEnv is the admin flow end to end: the shared environment (botEnv) with the seed's admin group.
type adminEnv struct {
	*botEnv
}

// admAdele is the seeded AccessBot admin, with a 1:1 chat (docs/ARCHITECTURE.md).
var admAdele = teamsfake.User{ID: "29:adele", Name: "Adele Vance", AADObjectID: tenantsim.UserAdele, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:adele"}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	return &adminEnv{botEnv: newBotEnv(t, envOptions{AdminGroup: tenantsim.AdminsGroupID})}
}

// say sends text as u and returns the bot's answer in u's chat (the first activity it sends there), whose
// card or text must contain every want.
func (e *adminEnv) say(u teamsfake.User, text string, want ...string) teamsfake.Activity {
	e.t.Helper()
	from := e.conn.Len()
	resp, err := e.teams.Message(context.Background(), u, text)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("%s says %q: status %d, %v", u.Name, text, resp.Status, err)
	}
	a := e.conn.WaitFor(e.t, from, wait, fmt.Sprintf("answer to %q in %s's chat", text, u.Name), func(a teamsfake.Activity) bool {
		return a.ConversationID == u.ConversationID
	})
	got := a.CardText() + a.Text() + rawCard(a)
	for _, w := range want {
		if !strings.Contains(got, w) {
			e.t.Errorf("%s says %q: answer lacks %q:\n%s", u.Name, text, w, got)
		}
	}
	return a
}

// clickToken clicks Confirm or Cancel (verb) as u with a confirmation token and returns the text of the card
// that replaces the confirm card.
func (e *adminEnv) clickToken(u teamsfake.User, replyTo, verb, token string, want ...string) string {
	e.t.Helper()
	got, _ := e.click(u, replyTo, verb, map[string]any{"token": token})
	for _, w := range want {
		if !strings.Contains(got, w) {
			e.t.Errorf("%s clicks %s: answer lacks %q:\n%s", u.Name, verb, w, got)
		}
	}
	return got
}

// confirmToken returns the token of the admin.confirm button on a confirm card.
func confirmToken(t *testing.T, a teamsfake.Activity) string {
	t.Helper()
	tok, _ := actionData(t, a.Card(), "admin.confirm")["token"].(string)
	if tok == "" {
		t.Fatalf("confirm card has no token: %s", rawCard(a))
	}
	return tok
}

// auditOutcomes lists "action outcome" of the newest admin-mode entries among the newest n audit entries,
// newest first (other flows' entries are skipped).
func (e *adminEnv) auditOutcomes(n int) []string {
	e.t.Helper()
	es, err := e.store.Audit(context.Background(), store.AuditQuery{Limit: n})
	if err != nil {
		e.t.Fatalf("read audit: %v", err)
	}
	var out []string
	for _, x := range es {
		if x.Mode != store.ModeAdmin {
			continue
		}
		out = append(out, x.Action+" "+x.Outcome)
	}
	return out
}
