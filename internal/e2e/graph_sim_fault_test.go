package e2e

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestGraphSimFaults runs the production Graph client against the simulator's failure switch and measures
// what the issue asks: requests sent per throttled call (a POST filing a request, a GET listing catalogs) and
// the time to give up, with and without Retry-After; 503, a cut connection and an answer slower than the
// client's timeout are outages (ErrUnavailable), a change whose answer was lost has an unknown outcome, and
// nothing ever asks for a sign-in. The numbers are logged (go test -v -run TestGraphSimFaults).
func TestGraphSimFaults(t *testing.T) {
	fileWiki := func(e *gsEnv) error {
		_, err := e.as(tenantsim.ContosoTenantID, tenantsim.UserRita).SubmitRequest(e.ctx(),
			entitlement.NewRequest{PackageID: tenantsim.PkgWikiReader})
		return err
	}
	listCatalogs := func(e *gsEnv) error { _, err := e.client.ConnectedOrgs(e.ctx()); return err } // not cached
	always := -1
	tests := []struct {
		name      string
		fault     tenantsim.Fault
		call      func(*gsEnv) error
		wantHits  int
		wantErr   error // nil: the call succeeds
		notErr    error
		minTook   time.Duration
		maxTook   time.Duration
		clientOpt func(*graph.Config)
	}{
		{"POST 429 with Retry-After 1s, always", tenantsim.Fault{Requests: always, Status: 429, RetryAfter: time.Second, Method: "POST"},
			fileWiki, 4, entitlement.ErrThrottled, nil, 3 * time.Second, 4500 * time.Millisecond, nil},
		{"POST 429 without Retry-After, always", tenantsim.Fault{Requests: always, Status: 429, NoRetryAfter: true, Method: "POST"},
			fileWiki, 3, entitlement.ErrThrottled, nil, 3 * time.Second, 5 * time.Second, nil},
		{"POST 429 without Retry-After, twice", tenantsim.Fault{Requests: 2, Status: 429, NoRetryAfter: true, Method: "POST"},
			fileWiki, 2, nil, nil, 3 * time.Second, 5 * time.Second, nil},
		{"GET 429 with Retry-After 1s, always", tenantsim.Fault{Requests: always, Status: 429, RetryAfter: time.Second},
			listCatalogs, 4, entitlement.ErrThrottled, nil, 3 * time.Second, 4500 * time.Millisecond, nil},
		{"GET 429 without Retry-After, always", tenantsim.Fault{Requests: always, Status: 429, NoRetryAfter: true},
			listCatalogs, 3, entitlement.ErrThrottled, nil, 3 * time.Second, 5 * time.Second, nil},
		{"GET 503 without Retry-After, always", tenantsim.Fault{Requests: always, Status: 503, NoRetryAfter: true},
			listCatalogs, 3, entitlement.ErrUnavailable, entitlement.ErrSignInRequired, 3 * time.Second, 5 * time.Second, nil},
		// After a 503 the client waits the back-off, checks the open requests (GET), and only then re-sends once.
		{"POST 503: re-sent once, after waiting and checking", tenantsim.Fault{Requests: always, Status: 503, NoRetryAfter: true, Method: "POST"},
			fileWiki, 2, entitlement.ErrUnavailable, entitlement.ErrSignInRequired, time.Second, 2 * time.Second, nil},
		{"GET 502 gateway page", tenantsim.Fault{Requests: always, Status: 502, NoRetryAfter: true},
			listCatalogs, 1, entitlement.ErrUnavailable, entitlement.ErrSignInRequired, 0, time.Second, nil},
		{"GET on a cut connection", tenantsim.Fault{Requests: always, Kind: tenantsim.FaultCut},
			listCatalogs, 0, entitlement.ErrUnavailable, entitlement.ErrOutcomeUnknown, 0, time.Second, nil},
		{"POST on a cut connection: outcome unknown", tenantsim.Fault{Requests: always, Kind: tenantsim.FaultCut, Method: "POST"},
			fileWiki, 2, entitlement.ErrOutcomeUnknown, entitlement.ErrSignInRequired, time.Second, 2 * time.Second, nil},
		{"GET slower than the client timeout", tenantsim.Fault{Requests: 1, Kind: tenantsim.FaultSlow, Delay: 1500 * time.Millisecond},
			listCatalogs, 1, entitlement.ErrUnavailable, entitlement.ErrSignInRequired, 400 * time.Millisecond, 1400 * time.Millisecond,
			func(c *graph.Config) { c.HTTPClient = &http.Client{Timeout: 500 * time.Millisecond} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mods []func(*graph.Config)
			if tt.clientOpt != nil {
				mods = append(mods, tt.clientOpt)
			}
			e := newGSEnv(t, mods...)
			// Warm the tokens and the cached requirements (a POST too), so the fault meets the measured call.
			if _, err := e.as(tenantsim.ContosoTenantID, tenantsim.UserRita).Requirements(e.ctx(), tenantsim.PkgWikiReader); err != nil {
				t.Fatal(err)
			}
			e.sim.SetFault(tt.fault)
			start := time.Now()
			err := tt.call(e)
			took := time.Since(start)
			hits := e.sim.FaultHits()
			e.sim.SetFault(tenantsim.Fault{})
			t.Logf("MEASURE %-45s requests that met the fault: %d, gave up or succeeded after %v, err: %v", tt.name, hits, took.Round(10*time.Millisecond), err)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			case tt.notErr != nil && errors.Is(err, tt.notErr):
				t.Fatalf("err = %v must not match %v", err, tt.notErr)
			}
			if tt.wantHits > 0 && hits != tt.wantHits {
				t.Errorf("requests that met the fault = %d, want %d", hits, tt.wantHits)
			}
			if took < tt.minTook || took > tt.maxTook {
				t.Errorf("took %v, want between %v and %v", took, tt.minTook, tt.maxTook)
			}
		})
	}
}
