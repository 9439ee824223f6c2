package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/identity"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// gsEnv is the simulator over real HTTP plus the production identity and Graph client pointed at it:
// app tokens by client credentials, user tokens by the dev assertion exchanged on-behalf-of. It is the base of
// every end-to-end environment (newFlowEnv adds the bot on top).
type gsEnv struct {
	t     *testing.T
	log   *slog.Logger
	sim   *tenantsim.Sim
	url   string
	calls atomic.Int64 // Graph requests (under /v1.0) seen by the simulator
	// batches counts JSON batch requests (POST /v1.0/$batch); reviewPatches single access review decision PATCHes.
	batches, reviewPatches atomic.Int64
	gate                   *patchGate // holds approval-stage PATCHes when armed (see patchGate)
	app                    *identity.AppCredential
	obo                    *identity.OBO
	dev                    *identity.DevIdentity
	client                 *graph.Client
}

// testLogger discards logs unless E2E_LOG is set (then they go to stderr).
func testLogger() *slog.Logger {
	var out io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		out = os.Stderr
	}
	return slog.New(slog.NewTextHandler(out, nil))
}

func newGSEnv(t *testing.T, mod ...func(*graph.Config)) *gsEnv {
	t.Helper()
	log := testLogger()
	e := &gsEnv{t: t, log: log, gate: &patchGate{}}
	var mu sync.RWMutex
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(e.gate.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/v1.0" {
			e.calls.Add(1)
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1.0/$batch":
			e.batches.Add(1)
		case r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/accessReviews/"):
			e.reviewPatches.Add(1)
		}
		mu.RLock()
		hh := h
		mu.RUnlock()
		hh.ServeHTTP(w, r)
	})))
	t.Cleanup(srv.Close)
	sim, err := tenantsim.New(tenantsim.Options{Path: filepath.Join(t.TempDir(), "sim.db"), BaseURL: srv.URL, Logger: log})
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	mu.Lock()
	h = sim.Handler()
	mu.Unlock()
	e.sim, e.url = sim, srv.URL
	info := sim.Info()

	e.app, err = identity.NewAppCredential(identity.AppConfig{TenantID: tenantsim.ContosoTenantID, ClientID: info.BotAppID,
		ClientSecret: info.BotClientSecret, AuthorityHost: info.AuthorityHost, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatalf("app credential: %v", err)
	}
	e.obo, err = identity.NewOBO(identity.OBOConfig{TenantID: tenantsim.ContosoTenantID, ClientID: info.BotAppID,
		ClientSecret: info.BotClientSecret, AuthorityHost: info.AuthorityHost, HTTPClient: srv.Client(), Now: sim.Now, Logger: log})
	if err != nil {
		t.Fatalf("obo: %v", err)
	}
	e.dev, err = identity.NewDevIdentity(identity.DevConfig{InsecureDev: true, SimulatorURL: srv.URL, OBO: e.obo, HTTPClient: srv.Client(),
		Logger: log})
	if err != nil {
		t.Fatalf("dev identity: %v", err)
	}
	cfg := graph.Config{BaseURL: info.GraphBaseURL, AppTokens: e.app.Graph(), TenantID: tenantsim.ContosoTenantID, Logger: log, Now: sim.Now}
	for _, m := range mod {
		m(&cfg)
	}
	e.client, err = graph.New(cfg)
	if err != nil {
		t.Fatalf("graph client: %v", err)
	}
	return e
}

// as returns the delegated port acting as a Contoso (or, for guests, home-tenant) user.
func (e *gsEnv) as(tenantID, oid string) entitlement.Delegated {
	return e.client.ForUser(e.dev.ForUser(tenantID, oid))
}

func (e *gsEnv) ctx() context.Context { return context.Background() }

// waitAssignment advances the simulator's clock a second at a time (delivery takes simulated seconds; no real
// waiting) until list returns an assignment that match accepts, and returns it. It fails t when list fails or
// when nothing matches within timeout (real time); what names the awaited assignment in the failure.
func (e *gsEnv) waitAssignment(t *testing.T, timeout time.Duration, what string, list func() ([]entitlement.Assignment, error),
	match func(entitlement.Assignment) bool) entitlement.Assignment {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		as, err := list()
		if err != nil {
			t.Fatalf("list assignments: %v", err)
		}
		if i := slices.IndexFunc(as, match); i >= 0 {
			return as[i]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %+v", what, as)
		}
		e.sim.Advance(time.Second)
	}
}
