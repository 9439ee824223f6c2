package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/store"
)

// --- harness ---------------------------------------------------------------------------------------------

type admPerson struct {
	tenant, id, name string
}

var (
	admAdele  = admPerson{admTenant, admUserID(3), "Adele Vance"}
	admRita   = admPerson{admTenant, admUserID(1), "Rita Requester"}
	admLynne  = admPerson{admTenant, admUserID(6), "Lynne Robbins"}
	admGus    = admPerson{admFabrikam, admFabUser(1), "Gus Guest"}
	admGusInA = admPerson{admFabrikam, admUserID(3), "Adele lookalike"} // Adele's object id, foreign tenant
)

type admEnv struct {
	t    *testing.T
	port *admFakePort
	conn *fakeConnector
	st   *store.Store
	bot  *Bot

	mu  sync.Mutex
	now time.Time
	seq int
}

func newAdmEnv(t *testing.T) *admEnv {
	t.Helper()
	e := &admEnv{t: t, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	e.port = newAdmFakePort(e.now)
	e.conn = &fakeConnector{failUpdate: errors.New("update not expected in admin tests"),
		failCreate: errors.New("create conversation not expected in admin tests")}
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Now: e.clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	b, err := New(Config{
		Connector:    e.conn,
		Store:        st,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:          e.clock,
		BotID:        "28:bot",
		Entitlement:  e.port,
		Tenant:       TenantInfo{ID: admTenant, Name: "Contoso", Domain: "contoso.example"},
		AdminGroupID: admGroup,
	})
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}
	e.bot = b
	return e
}

func (e *admEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *admEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *admEnv) activity(p admPerson, typ string) *schema.Activity {
	e.mu.Lock()
	e.seq++
	id := fmt.Sprintf("in-%d", e.seq)
	e.mu.Unlock()
	return &schema.Activity{
		Type:         schema.ActivityTypes(typ),
		ID:           id,
		ChannelID:    "msteams",
		ServiceURL:   "https://smba.example/",
		From:         schema.ChannelAccount{ID: "29:" + p.id, Name: p.name, AadObjectID: p.id},
		Recipient:    schema.ChannelAccount{ID: "28:bot", Name: "AccessBot"},
		Conversation: schema.ConversationAccount{ID: "a:" + p.id, ConversationType: "personal", TenantID: p.tenant},
	}
}

// say sends text as p and returns the text of every card or message the bot answered with.
func (e *admEnv) say(p admPerson, text string) string {
	e.t.Helper()
	n := e.conn.count()
	act := e.activity(p, "message")
	act.Text = text
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("%s says %q: %v", p.name, text, err)
	}
	var out []string
	for _, a := range e.conn.since(n) {
		out = append(out, admActivityText(e.t, a.Act))
	}
	if len(out) == 0 {
		e.t.Fatalf("%s says %q: the bot sent nothing", p.name, text)
	}
	return strings.Join(out, "\n")
}

// click sends an Action.Execute as p and returns the text of the card that replaces the clicked one.
func (e *admEnv) click(p admPerson, verb string, data map[string]any) string {
	e.t.Helper()
	act := e.activity(p, "invoke")
	act.Name = "adaptiveCard/action"
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil {
		e.t.Fatalf("%s clicks %s: %v", p.name, verb, err)
	}
	if resp == nil || resp.Body == nil {
		e.t.Fatalf("%s clicks %s: no invoke answer", p.name, verb)
	}
	return admJSONText(e.t, resp.Body)
}

// lastToken returns the confirmation token of the last confirm card the bot sent.
func (e *admEnv) lastToken() string {
	e.t.Helper()
	acts := e.conn.since(0)
	for i := len(acts) - 1; i >= 0; i-- {
		raw, err := json.Marshal(acts[i].Act)
		if err != nil {
			e.t.Fatal(err)
		}
		var tok string
		admWalk(admDecode(e.t, raw), func(m map[string]any) {
			if m["verb"] == cards.VerbAdminConfirm {
				if d, ok := m["data"].(map[string]any); ok {
					tok, _ = d[cards.KeyToken].(string)
				}
			}
		})
		if tok != "" {
			return tok
		}
	}
	e.t.Fatal("no confirm card was sent")
	return ""
}

func (e *admEnv) audit(q store.AuditQuery) []store.AuditEntry {
	e.t.Helper()
	es, err := e.st.Audit(context.Background(), q)
	if err != nil {
		e.t.Fatalf("read audit: %v", err)
	}
	return es
}

func admDecode(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

func admWalk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, val := range x {
			admWalk(val, fn)
		}
	case []any:
		for _, val := range x {
			admWalk(val, fn)
		}
	}
}

// admJSONText collects the text, title, value and url strings of v (a card or activity) in document order.
func admJSONText(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var b strings.Builder
	var collect func(any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"text", "title", "value", "url"} {
				if s, ok := x[k].(string); ok {
					b.WriteString(s)
					b.WriteByte('\n')
				}
			}
			for k, val := range x {
				if _, isStr := val.(string); !isStr || (k != "text" && k != "title" && k != "value" && k != "url") {
					collect(val)
				}
			}
		case []any:
			for _, val := range x {
				collect(val)
			}
		}
	}
	collect(admDecode(t, raw))
	return b.String()
}

func admActivityText(t *testing.T, a *schema.Activity) string {
	if len(a.Attachments) == 0 {
		return a.Text
	}
	return admJSONText(t, a.Attachments[0].Content)
}

func admWantAll(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

func admWantNone(t *testing.T, what, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%s: unexpected %q in:\n%s", what, w, got)
		}
	}
}
