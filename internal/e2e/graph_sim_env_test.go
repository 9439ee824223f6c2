package e2e

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/identity"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// gsEnv is the simulator over real HTTP plus the production identity and Graph client pointed at it:
// app tokens by client credentials, user tokens by the dev assertion exchanged on-behalf-of.
type gsEnv struct {
	t      *testing.T
	sim    *tenantsim.Sim
	url    string
	calls  atomic.Int64 // Graph requests (under /v1.0) seen by the simulator
	app    *identity.AppCredential
	obo    *identity.OBO
	dev    *identity.DevIdentity
	client *graph.Client
}

func newGSEnv(t *testing.T, mod ...func(*graph.Config)) *gsEnv {
	t.Helper()
	e := &gsEnv{t: t}
	var mu sync.RWMutex
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/v1.0" {
			e.calls.Add(1)
		}
		mu.RLock()
		hh := h
		mu.RUnlock()
		hh.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
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
		ClientSecret: info.BotClientSecret, AuthorityHost: info.AuthorityHost, HTTPClient: srv.Client(), Now: sim.Now})
	if err != nil {
		t.Fatalf("obo: %v", err)
	}
	e.dev, err = identity.NewDevIdentity(identity.DevConfig{InsecureDev: true, SimulatorURL: srv.URL, OBO: e.obo, HTTPClient: srv.Client()})
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
