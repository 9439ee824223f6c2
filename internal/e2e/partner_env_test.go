package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/bot"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// newPartnerEnv is the request/approve flows' environment (flowEnv: simulator over HTTP, real Graph client,
// bot behind the real endpoint, fake Teams connector, tracker and outbox worker running) with the partner
// settings: brokered requests on (or off) and the partner users registered with the connector so the bot
// can look up their email addresses.
func newPartnerEnv(t *testing.T, brokered bool) *flowEnv {
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
	simSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hmu.RLock()
		h := simHandler
		hmu.RUnlock()
		h.ServeHTTP(w, r)
	}))
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

	toks := &simTokens{base: simSrv.URL, secret: info.BotClientSecret, hc: simSrv.Client(), cache: map[string]cachedToken{}}
	e.port, err = graph.New(graph.Config{BaseURL: info.GraphBaseURL, AppTokens: toks.app(tenantsim.ContosoTenantID),
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
	for _, u := range []teamsfake.User{gus, nina} {
		e.conn.AddMember(teamsfake.Member{ID: u.ID, Name: u.Name, AADObjectID: u.AADObjectID, TenantID: u.TenantID,
			Email: partnerEmail[u.AADObjectID]})
	}
	connector := botframework.NewClient(botframework.ClientConfig{Logger: log, MaxRetries: -1})
	e.bot, err = bot.New(bot.Config{Connector: connector, Store: e.store, Logger: log, Now: sim.Now,
		BotID: info.BotTeamsID, BotName: "AccessBot", Entitlement: e.port, Tokens: toks, Brokered: brokered,
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

// Seeded partner people (docs/ARCHITECTURE.md) and Patti, the Fabrikam organization's internal sponsor.
var (
	gus   = teamsfake.User{ID: "29:gus", Name: "Gus Guest", AADObjectID: tenantsim.UserGus, TenantID: tenantsim.FabrikamTenantID, ConversationID: "a:gus"}
	nina  = teamsfake.User{ID: "29:nina", Name: "Nina North", AADObjectID: tenantsim.UserNina, TenantID: tenantsim.NorthwindTenantID, ConversationID: "a:nina"}
	patti = teamsfake.User{ID: "29:patti", Name: "Patti Fernandez", AADObjectID: tenantsim.UserPatti, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:patti"}

	partnerEmail = map[string]string{tenantsim.UserGus: "gus@fabrikam.example", tenantsim.UserNina: "nina@northwind.example"}
)

// brokeredRecords reads the bot's brokered request records (bucket "brokered") as JSON objects.
func brokeredRecords(t *testing.T, st *store.Store) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := st.List(context.Background(), "brokered", "", func(key string, raw []byte) error {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatalf("list brokered records: %v", err)
	}
	return out
}

// openURL finds the URL of the Action.OpenUrl titled title anywhere in a card.
func openURL(t *testing.T, card map[string]any, title string) string {
	t.Helper()
	var found string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "Action.OpenUrl" && x["title"] == title && found == "" {
				found, _ = x["url"].(string)
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
	if found == "" {
		t.Fatalf("card has no %q link: %v", title, card)
	}
	return found
}

// rawJSON renders a value as JSON text (for substring checks).
func rawJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
