package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/bot"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/identity"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// flowEnv runs the real simulator (Graph + Entra over HTTP), the real Graph client, the bot behind the real
// Bot Framework endpoint (dev verifier) and the fake Teams connector, with the bot's tracker and outbox worker.
type flowEnv struct {
	t      *testing.T
	sim    *tenantsim.Sim
	simURL string
	gate   *patchGate
	conn   *teamsfake.Connector
	client *teamsfake.Client
	bot    *bot.Bot
	port   *graph.Client
	store  *store.Store
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

// simTokens gets tokens from the simulator's Entra endpoints with plain HTTP: client credentials for the app, and
// for users the development assertion exchanged on-behalf-of. The flow tests use internal/identity instead;
// this small independent client is kept for tests that want tokens without it (partner_env_test.go).
type simTokens struct {
	base, secret string
	hc           *http.Client
	mu           sync.Mutex
	cache        map[string]cachedToken
}

type cachedToken struct {
	tok string
	exp time.Time
}

func (s *simTokens) post(ctx context.Context, path string, form url.Values, jsonBody any) (map[string]any, error) {
	var req *http.Request
	var err error
	if jsonBody != nil {
		raw, _ := json.Marshal(jsonBody)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, strings.NewReader(string(raw)))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return nil, err
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("post %s: status %d: %s", path, resp.StatusCode, out["error_description"])
	}
	return out, nil
}

func (s *simTokens) cached(key string, fetch func(ctx context.Context) (string, error)) entitlement.TokenSource {
	return entitlement.TokenFunc(func(ctx context.Context) (string, error) {
		s.mu.Lock()
		c, ok := s.cache[key]
		s.mu.Unlock()
		if ok && time.Until(c.exp) > time.Minute {
			return c.tok, nil
		}
		tok, err := fetch(ctx)
		if err != nil {
			return "", err
		}
		s.mu.Lock()
		s.cache[key] = cachedToken{tok, time.Now().Add(30 * time.Minute)}
		s.mu.Unlock()
		return tok, nil
	})
}

func (s *simTokens) app(tenant string) entitlement.TokenSource {
	return s.cached("app", func(ctx context.Context) (string, error) {
		out, err := s.post(ctx, "/"+tenant+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
			"client_id": {tenantsim.BotAppID}, "client_secret": {s.secret}, "scope": {"https://graph.microsoft.com/.default"}}, nil)
		if err != nil {
			return "", err
		}
		tok, _ := out["access_token"].(string)
		return tok, nil
	})
}

// ForUser implements bot.UserTokens.
func (s *simTokens) ForUser(tenantID, userID string) entitlement.TokenSource {
	return s.cached(tenantID+"/"+userID, func(ctx context.Context) (string, error) {
		a, err := s.post(ctx, "/_sim/dev/assertion", nil, map[string]string{"tenantId": tenantID, "oid": userID})
		if err != nil {
			return "", fmt.Errorf("%w: %v", entitlement.ErrSignInRequired, err)
		}
		out, err := s.post(ctx, "/"+tenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"client_id": {tenantsim.BotAppID}, "client_secret": {s.secret}, "assertion": {a["token"].(string)},
			"scope": {"https://graph.microsoft.com/.default"}, "requested_token_use": {"on_behalf_of"}}, nil)
		if err != nil {
			return "", fmt.Errorf("%w: %v", entitlement.ErrSignInRequired, err)
		}
		tok, _ := out["access_token"].(string)
		return tok, nil
	})
}

// ExchangeSSO implements bot.UserTokens (the dev identity needs no SSO token).
func (s *simTokens) ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error {
	return nil
}

func newFlowEnv(t *testing.T) *flowEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var logOut io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logOut = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	e := &flowEnv{t: t, gate: &patchGate{}}

	var simHandler http.Handler = http.NotFoundHandler()
	var hmu sync.RWMutex
	simSrv := httptest.NewServer(e.gate.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hmu.RLock()
		h := simHandler
		hmu.RUnlock()
		h.ServeHTTP(w, r)
	})))
	t.Cleanup(simSrv.Close)
	sim, err := tenantsim.New(tenantsim.Options{Path: filepath.Join(t.TempDir(), "sim.db"), BaseURL: simSrv.URL, Logger: log})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	hmu.Lock()
	simHandler = sim.Handler()
	hmu.Unlock()
	e.sim, e.simURL = sim, simSrv.URL
	info := sim.Info()

	// The real identity code: app credential (client secret) and the development identity (the simulator's
	// stand-in for Teams SSO) exchanged on-behalf-of, all against the simulator's Entra endpoints.
	app, err := identity.NewAppCredential(identity.AppConfig{TenantID: tenantsim.ContosoTenantID, ClientID: tenantsim.BotAppID,
		ClientSecret: info.BotClientSecret, AuthorityHost: info.AuthorityHost, HTTPClient: simSrv.Client()})
	if err != nil {
		t.Fatalf("app credential: %v", err)
	}
	obo, err := identity.NewOBO(identity.OBOConfig{TenantID: tenantsim.ContosoTenantID, ClientID: tenantsim.BotAppID,
		ClientSecret: info.BotClientSecret, AuthorityHost: info.AuthorityHost, HTTPClient: simSrv.Client(), Logger: log})
	if err != nil {
		t.Fatalf("on-behalf-of: %v", err)
	}
	toks, err := identity.NewDevIdentity(identity.DevConfig{InsecureDev: true, SimulatorURL: simSrv.URL, OBO: obo,
		HTTPClient: simSrv.Client(), Logger: log})
	if err != nil {
		t.Fatalf("dev identity: %v", err)
	}
	e.port, err = graph.New(graph.Config{BaseURL: info.GraphBaseURL, AppTokens: app.Graph(),
		TenantID: tenantsim.ContosoTenantID, Logger: log, CacheTTL: -1, Now: sim.Now})
	if err != nil {
		t.Fatalf("graph client: %v", err)
	}
	e.store, err = store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Logger: log})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = e.store.Close() })

	e.conn = teamsfake.NewConnector(t)
	connector := botframework.NewClient(botframework.ClientConfig{Logger: log, MaxRetries: -1})
	e.bot, err = bot.New(bot.Config{Connector: connector, Store: e.store, Logger: log, Now: sim.Now,
		BotID: info.BotTeamsID, BotName: "AccessBot", Entitlement: e.port, Tokens: toks,
		Tenant:     bot.TenantInfo{ID: tenantsim.ContosoTenantID, Name: "Contoso", Domain: "contoso.onmicrosoft.com"},
		TeamsAppID: "accessbot-teams-app", PollInterval: 100 * time.Millisecond, PollMax: 500 * time.Millisecond,
		ReminderAfter: 72 * time.Hour})
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
	e.client = &teamsfake.Client{Endpoint: botSrv.URL, ServiceURL: e.conn.URL(), BotID: info.BotTeamsID, BotName: "AccessBot"}
	return e
}

// Seeded people (docs/ARCHITECTURE.md).
var (
	rita   = teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: tenantsim.UserRita, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:rita"}
	aaron  = teamsfake.User{ID: "29:aaron", Name: "Aaron Approver", AADObjectID: tenantsim.UserAaron, TenantID: tenantsim.ContosoTenantID}
	isaiah = teamsfake.User{ID: "29:isaiah", Name: "Isaiah Langer", AADObjectID: tenantsim.UserIsaiah, TenantID: tenantsim.ContosoTenantID}
	lynne  = teamsfake.User{ID: "29:lynne", Name: "Lynne Robbins", AADObjectID: tenantsim.UserLynne, TenantID: tenantsim.ContosoTenantID}
	megan  = teamsfake.User{ID: "29:megan", Name: "Megan Bowen", AADObjectID: tenantsim.UserMegan, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:megan"}
)

const wait = 20 * time.Second

// say sends text as u and returns the bot's last card answer in u's chat.
func (e *flowEnv) say(u teamsfake.User, text string, want string) teamsfake.Activity {
	e.t.Helper()
	from := e.conn.Len()
	resp, err := e.client.Message(context.Background(), u, text)
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

// click sends an Action.Execute as u on the card with id replyTo and returns the card the bot answered with.
func (e *flowEnv) click(u teamsfake.User, replyTo, verb string, data map[string]any) (string, map[string]any) {
	e.t.Helper()
	resp, err := e.client.Execute(context.Background(), u, replyTo, verb, data)
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

// actionData finds the data of the Action.Execute with verb anywhere in a card.
func actionData(t *testing.T, card map[string]any, verb string) map[string]any {
	t.Helper()
	var found map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "Action.Execute" && x["verb"] == verb && found == nil {
				found, _ = x["data"].(map[string]any)
				if found == nil {
					found = map[string]any{}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(card)
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
func (e *flowEnv) requestState(id string) entitlement.RequestState {
	e.t.Helper()
	r, err := e.port.Request(context.Background(), id)
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
	reqs, err := e.port.Requests(context.Background(), entitlement.RequestFilter{})
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
