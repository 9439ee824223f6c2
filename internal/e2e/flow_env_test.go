package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/bot"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/reviews"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// envOptions selects what an end-to-end environment's bot is configured with; the zero value is the
// request/approve flows' setup.
type envOptions struct {
	// Brokered turns on brokered requests (the bot runs the approval for connected-organization users).
	Brokered bool
	// AdminGroup is the id of the group whose members may run admin commands ("" = nobody).
	AdminGroup string
	// AdminRoles are directory role template ids whose holders may run admin commands too (nil = none).
	AdminRoles []string
	// Members are registered with the fake connector, so the bot can look them up (e.g. their email).
	Members []teamsfake.Member
	// Reviews turns on access reviews and expiry notices; tests sweep with botEnv.sweep (no background loop,
	// so what is sent when is deterministic).
	Reviews bool
	// CacheTTL turns the Graph client's cache on (0: off, so tests read what the simulator holds now).
	CacheTTL time.Duration
}

// botEnv is THE end-to-end environment: the simulator (Graph + Entra over HTTP) with the production identity
// and Graph client (gsEnv), the bot behind the real Bot Framework endpoint (dev verifier) with its tracker and
// outbox worker running, and the fake Teams connector that records what the bot sends.
type botEnv struct {
	*gsEnv
	conn  *teamsfake.Connector
	teams *teamsfake.Client
	bot   *bot.Bot
	store *store.Store
}

// flowEnv is botEnv with the helpers of the request/approve and partner flow tests.
type flowEnv struct {
	*botEnv
}

// patchGate, when armed, holds the first approval-stage PATCH until a second one arrives, so two approvers'
// decisions really race at Graph (one wins, the other gets 409).
type patchGate struct {
	mu      sync.Mutex
	armed   bool
	arrived int
	both    chan struct{}
	patches []int // statuses answered to stage PATCHes
}

func (g *patchGate) arm() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.arrived, g.both = true, 0, make(chan struct{})
}

func (g *patchGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch || !strings.Contains(r.URL.Path, "/stages/") {
			next.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		armed, both := g.armed, g.both
		if armed {
			g.arrived++
			if g.arrived == 2 {
				close(g.both)
				g.armed = false
			}
		}
		g.mu.Unlock()
		if armed {
			select {
			case <-both:
			case <-time.After(20 * time.Second):
			}
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		g.mu.Lock()
		g.patches = append(g.patches, rec.status)
		g.mu.Unlock()
	})
}

func (g *patchGate) statuses() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.patches...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

// newBotEnv starts a botEnv configured by opts.
func newBotEnv(t *testing.T, opts envOptions) *botEnv {
	t.Helper()
	gs := newGSEnv(t, func(c *graph.Config) {
		c.CacheTTL = -1
		if opts.CacheTTL > 0 {
			c.CacheTTL = opts.CacheTTL
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log, info := gs.log, gs.sim.Info()
	e := &botEnv{gsEnv: gs}
	var err error
	e.store, err = store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = e.store.Close() })

	e.conn = teamsfake.NewConnector(t)
	for _, m := range opts.Members {
		e.conn.AddMember(m)
	}
	connector := botframework.NewClient(botframework.ClientConfig{Logger: log, MaxRetries: -1})
	var reviewSvc *reviews.Service
	if opts.Reviews {
		reviewSvc, err = reviews.New(reviews.Config{Reviews: gs.client, Directory: gs.client, Tokens: gs.dev, Store: e.store,
			Tenant: reviews.Tenant{ID: tenantsim.ContosoTenantID, Name: "Contoso", Domain: "contoso.onmicrosoft.com"},
			Logger: log, Now: gs.sim.Now, Audit: e.store})
		if err != nil {
			t.Fatalf("reviews: %v", err)
		}
	}
	e.bot, err = bot.New(bot.Config{Connector: connector, Store: e.store, Logger: log, Now: gs.sim.Now,
		BotID: info.BotTeamsID, BotName: "AccessBot", Entitlement: gs.client, Builder: gs.client, Tokens: gs.dev,
		Brokered: opts.Brokered, AdminGroupID: opts.AdminGroup, AdminRoleIDs: opts.AdminRoles,
		Tenant:     bot.TenantInfo{ID: tenantsim.ContosoTenantID, Name: "Contoso", Domain: "contoso.onmicrosoft.com"},
		TeamsAppID: "accessbot-teams-app", PollInterval: 100 * time.Millisecond, PollMax: 500 * time.Millisecond,
		ReminderAfter: 72 * time.Hour, Reviews: reviewSvc})
	if err != nil {
		t.Fatalf("bot: %v", err)
	}
	worker := store.NewOutboxWorker(e.store, e.bot.HandleOutbox, store.WorkerOptions{Logger: log,
		PollInterval: 100 * time.Millisecond, BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	e.bot.SetOutboxKicker(worker.Kick)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = worker.Run(ctx) }()
	go func() { defer wg.Done(); _ = e.bot.RunTracker(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	endpoint := botframework.NewEndpoint(botframework.NewDevVerifier(log), e.bot, botframework.EndpointOptions{Logger: log})
	botSrv := httptest.NewServer(endpoint)
	t.Cleanup(botSrv.Close)
	e.teams = &teamsfake.Client{Endpoint: botSrv.URL, ServiceURL: e.conn.URL(), BotID: info.BotTeamsID, BotName: "AccessBot"}
	return e
}

// newFlowEnv starts the environment of the request/approve flows (opts, when given, as for newBotEnv).
func newFlowEnv(t *testing.T, opts ...envOptions) *flowEnv {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	return &flowEnv{botEnv: newBotEnv(t, o)}
}

// Seeded people (docs/ARCHITECTURE.md).
var (
	rita   = teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: tenantsim.UserRita, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:rita"}
	aaron  = teamsfake.User{ID: "29:aaron", Name: "Aaron Approver", AADObjectID: tenantsim.UserAaron, TenantID: tenantsim.ContosoTenantID}
	isaiah = teamsfake.User{ID: "29:isaiah", Name: "Isaiah Langer", AADObjectID: tenantsim.UserIsaiah, TenantID: tenantsim.ContosoTenantID}
	lynne  = teamsfake.User{ID: "29:lynne", Name: "Lynne Robbins", AADObjectID: tenantsim.UserLynne, TenantID: tenantsim.ContosoTenantID}
	megan  = teamsfake.User{ID: "29:megan", Name: "Megan Bowen", AADObjectID: tenantsim.UserMegan, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:megan"}
)

// inChat is u in a 1:1 chat with the bot ("a:<name>"): the people seeded without one (the bot reaches them in
// chats it creates) when a test has them write to the bot.
func inChat(u teamsfake.User) teamsfake.User {
	u.ConversationID = "a:" + strings.TrimPrefix(u.ID, "29:")
	return u
}

const wait = 20 * time.Second

// say sends text as u and returns the bot's last card answer in u's chat.
func (e *flowEnv) say(u teamsfake.User, text string, want string) teamsfake.Activity {
	e.t.Helper()
	from := e.conn.Len()
	resp, err := e.teams.Message(context.Background(), u, text)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("%s says %q: status %d, %v", u.Name, text, resp.Status, err)
	}
	return e.conn.WaitFor(e.t, from, wait, fmt.Sprintf("answer to %q containing %q", text, want), func(a teamsfake.Activity) bool {
		return a.ConversationID == u.ConversationID && strings.Contains(a.CardText()+a.Text()+rawCard(a), want)
	})
}

// rawCard is the card of an activity as JSON (verbs and data included).
func rawCard(a teamsfake.Activity) string {
	raw, _ := json.Marshal(a.Card())
	return string(raw)
}

// click sends an Action.Execute as u on the card with id replyTo and returns the card the bot answered with
// (as text and as JSON).
func (e *botEnv) click(u teamsfake.User, replyTo, verb string, data map[string]any) (string, map[string]any) {
	e.t.Helper()
	resp, err := e.teams.Execute(context.Background(), u, replyTo, verb, data)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("%s clicks %s: status %d %v, %v", u.Name, verb, resp.Status, resp.Body, err)
	}
	if resp.Body["type"] != "application/vnd.microsoft.card.adaptive" {
		e.t.Fatalf("%s clicks %s: answer is not a card: %v", u.Name, verb, resp.Body)
	}
	card, _ := resp.Body["value"].(map[string]any)
	a := teamsfake.Activity{Body: map[string]any{"attachments": []any{map[string]any{
		"contentType": "application/vnd.microsoft.card.adaptive", "content": card}}}}
	return a.CardText(), card
}

// walkCard calls fn for every JSON object in a card, depth first.
func walkCard(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, c := range x {
			walkCard(c, fn)
		}
	case []any:
		for _, c := range x {
			walkCard(c, fn)
		}
	}
}

// actionData finds the data of the Action.Execute with verb anywhere in a card.
func actionData(t *testing.T, card map[string]any, verb string) map[string]any {
	t.Helper()
	var found map[string]any
	walkCard(card, func(x map[string]any) {
		if x["type"] == "Action.Execute" && x["verb"] == verb && found == nil {
			found, _ = x["data"].(map[string]any)
			if found == nil {
				found = map[string]any{}
			}
		}
	})
	if found == nil {
		t.Fatalf("card has no %s action: %v", verb, card)
	}
	out := map[string]any{}
	for k, v := range found {
		out[k] = v
	}
	return out
}

// approvalCardFor waits for the approval card pushed to an approver (in a chat the bot created) and returns it
// with the approver's conversation filled in.
func (e *flowEnv) approvalCardFor(from int, u *teamsfake.User, mustContain string) teamsfake.Activity {
	e.t.Helper()
	a := e.conn.WaitFor(e.t, from, wait, "approval card for "+u.Name+" containing "+mustContain, func(a teamsfake.Activity) bool {
		if a.Op != "send" || !strings.Contains(a.CardText(), "Approval needed") || !strings.Contains(a.CardText(), mustContain) {
			return false
		}
		return e.conversationOf(u.AADObjectID) == a.ConversationID
	})
	u.ConversationID = a.ConversationID
	return a
}

// conversationOf is the conversation the bot stored for a Contoso user ("" when none).
func (e *flowEnv) conversationOf(aad string) string {
	ref, err := e.store.Conversation(context.Background(), tenantsim.ContosoTenantID, aad)
	if err != nil {
		return ""
	}
	return ref.ConversationID
}

// requestState reads a request's state with the app's identity.
func (e *botEnv) requestState(id string) entitlement.RequestState {
	e.t.Helper()
	r, err := e.client.Request(context.Background(), id)
	if err != nil {
		e.t.Fatalf("read request %s: %v", id, err)
	}
	return r.State
}

// openAndSubmit asks for a package by name, fills the form and submits it; it returns the request id, the
// status card's message id and the status card text.
func (e *flowEnv) openAndSubmit(u teamsfake.User, text string, inputs map[string]any) (string, string, string) {
	e.t.Helper()
	form := e.say(u, text, "request.submit")
	data := actionData(e.t, form.Card(), "request.submit")
	for k, v := range inputs {
		data[k] = v
	}
	from := e.conn.Len()
	card, _ := e.click(u, form.ID, "request.submit", data)
	if !strings.Contains(card, "Submitted") && !strings.Contains(card, "Pending approval") {
		e.t.Fatalf("status card after submit: %s", card)
	}
	refs := e.statusRefs(form.ID)
	if len(refs) != 1 {
		e.t.Fatalf("status card references for message %s: %+v", form.ID, refs)
	}
	if !strings.Contains(card, "Pending approval") {
		card = e.waitUpdate(from, form.ID, "Pending approval").CardText()
	}
	return refs[0].Key, form.ID, card
}

// statusRefs finds the stored status card references pointing at a message.
func (e *flowEnv) statusRefs(activityID string) []store.CardRef {
	var out []store.CardRef
	reqs, err := e.client.Requests(context.Background(), entitlement.RequestFilter{})
	if err != nil {
		e.t.Fatalf("list requests: %v", err)
	}
	for _, r := range reqs {
		refs, err := e.store.Cards(context.Background(), r.ID)
		if err != nil {
			e.t.Fatalf("cards of %s: %v", r.ID, err)
		}
		for _, ref := range refs {
			if ref.ActivityID == activityID && strings.HasPrefix(ref.Kind, "status") {
				out = append(out, ref)
			}
		}
	}
	return out
}

// waitUpdate waits for an in-place update of the message id whose card contains want.
func (e *flowEnv) waitUpdate(from int, id, want string) teamsfake.Activity {
	e.t.Helper()
	return e.conn.WaitFor(e.t, from, wait, fmt.Sprintf("update of %s containing %q", id, want), func(a teamsfake.Activity) bool {
		return a.Op == "update" && a.ID == id && strings.Contains(a.CardText(), want)
	})
}
