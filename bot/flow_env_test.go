package bot

import (
	"context"
	"encoding/json"
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
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/store"
)

// flEnv is a bot wired to the fakes, with a real bbolt store.
type flEnv struct {
	t     *testing.T
	bot   *Bot
	port  *flPort
	conn  *fakeConnector
	store *store.Store
	clock *flClock
	toks  *flTokens
	seq   int
	// metrics records the domain metrics the bot reports.
	metrics *fakeMetrics
}

// fakeMetrics records RequestFiled and RequestDecided calls as "mode" and "mode/outcome/latency".
type fakeMetrics struct {
	mu      sync.Mutex
	filed   []string
	decided []string
}

func (m *fakeMetrics) RequestFiled(mode string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.filed = append(m.filed, mode)
}

func (m *fakeMetrics) RequestDecided(mode, outcome string, latency time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.decided = append(m.decided, fmt.Sprintf("%s/%s/%s", mode, outcome, latency))
}

type flClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *flClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *flClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newFlEnv(t *testing.T) *flEnv {
	t.Helper()
	clock := &flClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &flEnv{t: t, port: newFlPort(clock.Now), conn: &fakeConnector{}, store: st, clock: clock, toks: &flTokens{signedOut: map[string]bool{}},
		metrics: &fakeMetrics{}}
	e.bot, err = New(Config{Connector: e.conn, Store: st, Metrics: e.metrics, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now,
		BotID: "28:bot", Entitlement: e.port, Tokens: e.toks, Tenant: TenantInfo{ID: flTenant, Name: "Contoso", Domain: "contoso.example"},
		TeamsAppID: "app", PollInterval: time.Second, PollMax: time.Minute, ReminderAfter: 24 * time.Hour})
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}
	return e
}

func (e *flEnv) activity(user, name, typ string) *schema.Activity {
	e.seq++
	return &schema.Activity{Type: schema.ActivityTypes(typ), ID: fmt.Sprintf("in-%d", e.seq), ChannelID: "msteams",
		ServiceURL: "https://smba.example/emea/", From: schema.ChannelAccount{ID: "29:" + name, Name: name, AadObjectID: user},
		Recipient: schema.ChannelAccount{ID: "28:bot", Name: "AccessBot"}, Conversation: schema.ConversationAccount{
			ID: "chat-" + user, ConversationType: "personal", TenantID: flTenant}}
}

// message sends typed text as user.
func (e *flEnv) message(user, name, text string) {
	e.t.Helper()
	act := e.activity(user, name, "message")
	act.Text = text
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("message %q: %v", text, err)
	}
}

// execute clicks an Action.Execute on the card with activity id replyTo.
func (e *flEnv) execute(user, name, replyTo, verb string, data map[string]any) (*schema.Activity, *botframework.InvokeResponse) {
	e.t.Helper()
	act := e.activity(user, name, "invoke")
	act.Name = "adaptiveCard/action"
	act.ReplyToID = replyTo
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil {
		e.t.Fatalf("execute %s: %v", verb, err)
	}
	return act, resp
}

// drain delivers every due outbox item with the bot's handler.
func (e *flEnv) drain() {
	e.t.Helper()
	ctx := context.Background()
	for range 20 {
		items, err := e.store.Lease(ctx, 50, time.Minute)
		if err != nil {
			e.t.Fatalf("lease outbox: %v", err)
		}
		if len(items) == 0 {
			return
		}
		for _, it := range items {
			if err := e.bot.HandleOutbox(ctx, it); err != nil {
				e.t.Fatalf("outbox item %s: %v", it.Kind, err)
			}
			if err := e.store.Complete(ctx, it.ID); err != nil {
				e.t.Fatalf("complete outbox item: %v", err)
			}
		}
	}
	e.t.Fatal("outbox never drained")
}

// poll runs the tracker once over every tracked request, then delivers the outbox.
func (e *flEnv) poll() {
	e.t.Helper()
	e.clock.Advance(2 * time.Minute) // everything due
	e.bot.PollDue(context.Background())
	e.drain()
}

// respCard decodes an invoke answer's card as JSON text.
func respCard(t *testing.T, resp *botframework.InvokeResponse) string {
	t.Helper()
	if resp == nil {
		t.Fatal("no invoke response")
	}
	raw, err := json.Marshal(resp.Body)
	if err != nil {
		t.Fatalf("encode invoke body: %v", err)
	}
	var body struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("decode invoke body: %v", err)
	}
	if body.Type != cards.ContentType {
		t.Fatalf("invoke answer type %q (value %s), want a card", body.Type, body.Value)
	}
	return string(body.Value)
}

// formIDIn returns the formId a request form card carries ("" when none).
func formIDIn(card string) string {
	i := strings.Index(card, `"formId":"`)
	if i < 0 {
		return ""
	}
	id := card[i+len(`"formId":"`):]
	return id[:strings.Index(id, `"`)]
}

// cardsTo returns the activities sent or updated in a user's chat.
func (e *flEnv) cardsTo(conv string) []sentActivity {
	var out []sentActivity
	for _, s := range e.conn.all() {
		if s.Conversation == conv {
			out = append(out, s)
		}
	}
	return out
}
