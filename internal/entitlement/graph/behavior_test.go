package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestNewValidatesConfig(t *testing.T) {
	app := entitlement.TokenFunc(func(context.Context) (string, error) { return "t", nil })
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no app tokens", Config{BaseURL: "https://graph.microsoft.com/v1.0"}, "AppTokens is required"},
		{"relative URL", Config{BaseURL: "graph/v1.0", AppTokens: app}, "not an absolute URL"},
		{"http on a public host", Config{BaseURL: "http://graph.example.com/v1.0", AppTokens: app}, "use https"},
		{"http on a 127.-named host", Config{BaseURL: "http://127.evil.example:3979/v1.0", AppTokens: app}, "use https"},
		{"ftp", Config{BaseURL: "ftp://127.0.0.1/v1.0", AppTokens: app}, "must use https"},
		{"query", Config{BaseURL: "https://graph.microsoft.com/v1.0?x=1", AppTokens: app}, "query or fragment"},
		{"default base", Config{AppTokens: app}, ""},
		{"loopback http", Config{BaseURL: "http://127.0.0.1:3979/v1.0/", AppTokens: app}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if strings.HasSuffix(c.BaseURL(), "/") || !strings.HasSuffix(c.BaseURL(), "/v1.0") {
					t.Errorf("BaseURL() = %q", c.BaseURL())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTokensGoOnlyToTheConfiguredHost(t *testing.T) {
	ctx := context.Background()
	f := newFakeGraph(t)
	// A nextLink to a foreign host must not receive our token.
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(foreign.Close)
	foreignURL := strings.Replace(foreign.URL, "127.0.0.1", "localhost", 1)
	f.on("GET", em+"/connectedOrganizations", jsonReply(http.StatusOK, []byte(`{"value":[{"id":"a"}],"@odata.nextLink":"`+foreignURL+`/v1.0/page2"}`)))
	c := newTestClient(t, f)
	_, err := c.ConnectedOrgs(ctx)
	if err == nil || !strings.Contains(err.Error(), "refusing to send a Graph token") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if foreignHits.Load() != 0 {
		t.Fatalf("foreign host got %d requests", foreignHits.Load())
	}
	if f.auth[0] != "Bearer app-token" {
		t.Fatalf("Authorization to Graph = %q", f.auth[0])
	}
}

func TestDelegatedCallsCarryTheUserToken(t *testing.T) {
	f := newFakeGraph(t)
	f.serveFixture("GET", em+"/assignmentRequests/filterByCurrentUser(on='target')", "accesspackageassignmentrequest-filterbycurrentuser.json")
	c := newTestClient(t, f)
	tok := entitlement.TokenFunc(func(context.Context) (string, error) { return "user-token", nil })
	if _, err := c.ForUser(tok).MyRequests(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f.auth[0] != "Bearer user-token" {
		t.Fatalf("Authorization = %q, want the user's token", f.auth[0])
	}
	// A token source that cannot deliver surfaces its typed error, and nothing is sent.
	before := f.count()
	_, err := c.ForUser(entitlement.TokenFunc(func(context.Context) (string, error) {
		return "", fmt.Errorf("obo: %w", entitlement.ErrConsentRequired)
	})).MyRequests(context.Background())
	if !errors.Is(err, entitlement.ErrConsentRequired) {
		t.Fatalf("err = %v, want ErrConsentRequired", err)
	}
	if f.count() != before {
		t.Fatalf("a request was sent without a token")
	}
	if _, err := c.ForUser(nil).MyRequests(context.Background()); !errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("nil token source: err = %v", err)
	}
}

func TestThrottling(t *testing.T) {
	ctx := context.Background()
	throttle := func(after string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", after)
			jsonReply(http.StatusTooManyRequests, []byte(`{"error":{"code":"TooManyRequests","message":"slow down"}}`))(w, r)
		}
	}
	ok := jsonReply(http.StatusOK, []byte(`{"value":[{"id":"c1","displayName":"Cat"}]}`))
	tests := []struct {
		name      string
		h         http.HandlerFunc
		wantCalls int
		wantErr   bool
		wantWait  time.Duration
	}{
		{"retried then served", sequence(throttle("0"), throttle("0"), ok), 3, false, 0},
		{"always throttled: clear error after retries", throttle("0"), 4, true, 0},
		{"long Retry-After: no waiting inside the call", throttle("120"), 1, true, 120 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", em+"/catalogs", tt.h)
			c := newTestClient(t, f)
			c.retry.base = 5 * time.Millisecond // Retry-After 0 says nothing: back-off applies
			cs, err := c.Catalogs(ctx)
			if got := f.count(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if !tt.wantErr {
				if err != nil || len(cs) != 1 {
					t.Fatalf("Catalogs = %v, %v", cs, err)
				}
				return
			}
			var te *entitlement.ThrottledError
			if !errors.As(err, &te) || !errors.Is(err, entitlement.ErrThrottled) {
				t.Fatalf("err = %v, want *ThrottledError", err)
			}
			if te.RetryAfter != tt.wantWait {
				t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, tt.wantWait)
			}
			if !strings.Contains(entitlement.UserMessage(err), "busy") {
				t.Errorf("user message = %q", entitlement.UserMessage(err))
			}
		})
	}
}

func TestPagingFollowsNextLink(t *testing.T) {
	f := newFakeGraph(t)
	f.serveFixture("GET", "/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/members", "group-list-members.json")
	c := newTestClient(t, f)
	// page 2 is served on the same path: distinguish by the skiptoken.
	page1 := f.fixture("group-list-members.json")
	page2 := f.fixture("group-list-members-page2.json")
	f.on("GET", "/groups/02bd9fd6-8f93-4758-87c3-1fb73740a315/members", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$skiptoken") == "page2" {
			jsonReply(http.StatusOK, page2)(w, r)
			return
		}
		if r.URL.Query().Get("$select") == "" {
			t.Errorf("first page asked without $select: %s", r.URL.RawQuery)
		}
		jsonReply(http.StatusOK, page1)(w, r)
	})
	us, err := c.GroupMembers(context.Background(), "02bd9fd6-8f93-4758-87c3-1fb73740a315")
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Name != "Isaiah Langer" || us[1].Name != "Lynne Robbins" {
		t.Fatalf("members = %+v (the nested group must be skipped)", us)
	}
	if f.count() != 2 {
		t.Fatalf("calls = %d, want 2", f.count())
	}
}

func TestPagingStopsOnALoop(t *testing.T) {
	f := newFakeGraph(t)
	f.on("GET", em+"/connectedOrganizations", func(w http.ResponseWriter, r *http.Request) {
		jsonReply(http.StatusOK, []byte(`{"value":[{"id":"a"}],"@odata.nextLink":"`+f.base()+`/identityGovernance/entitlementManagement/connectedOrganizations?$skiptoken=same"}`))(w, r)
	})
	c := newTestClient(t, f)
	_, err := c.ConnectedOrgs(context.Background())
	if err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("err = %v, want a paging loop error", err)
	}
}

func TestCachedReads(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := newFakeGraph(t)
	f.serveFixture("GET", em+"/assignmentPolicies/87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187", "accesspackageassignmentpolicy-get.json")
	c := newTestClient(t, f, func(cfg *Config) { cfg.Now = func() time.Time { return now }; cfg.CacheTTL = time.Minute })
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := c.Policy(ctx, "87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187"); err != nil {
			t.Fatal(err)
		}
	}
	if f.count() != 1 {
		t.Fatalf("calls = %d, want 1 while cached", f.count())
	}
	now = now.Add(61 * time.Second)
	if _, err := c.Policy(ctx, "87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187"); err != nil {
		t.Fatal(err)
	}
	if f.count() != 2 {
		t.Fatalf("calls = %d, want 2 after the TTL", f.count())
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	f := newFakeGraph(t)
	c := newTestClient(t, f)
	ctx := context.Background()
	user := c.ForUser(userToken("t", "o"))
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty package id", func() error { _, err := c.Package(ctx, ""); return err }, "package id"},
		{"package id with a quote", func() error { _, err := c.Policies(ctx, "x' or 1 eq 1"); return err }, "package id"},
		{"org without tenant or domain", func() error {
			_, err := c.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{Name: "X"})
			return err
		}, "tenant id or domain"},
		{"org with bad tenant id", func() error {
			_, err := c.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{Name: "X", TenantID: "fabrikam"})
			return err
		}, "tenant id"},
		{"admin add without target", func() error {
			_, err := c.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: "p", PolicyID: "q"})
			return err
		}, "target"},
		{"admin add by email without org", func() error {
			_, err := c.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: "p", PolicyID: "q", TargetEmail: "a@b.example"})
			return err
		}, "connected organization id"},
		{"bad decision", func() error {
			return user.DecideStage(ctx, "a", "s", entitlement.Decision{Result: "Maybe"})
		}, "decision"},
		{"invite bad email", func() error {
			_, err := c.Invite(ctx, entitlement.NewInvitation{Email: "nope", RedirectURL: "https://x.example"})
			return err
		}, "email"},
		{"sponsor kind", func() error { return c.AddSponsor(ctx, "o", "friend", "u") }, "sponsor kind"},
		{"request state that would rewrite $filter", func() error {
			_, err := c.Requests(ctx, entitlement.RequestFilter{States: []entitlement.RequestState{"delivered' or state ne 'x"}})
			return err
		}, "request state"},
		{"unknown request state", func() error {
			_, err := c.Requests(ctx, entitlement.RequestFilter{States: []entitlement.RequestState{entitlement.StatePendingApproval, "Pending"}})
			return err
		}, "request state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ie *entitlement.InvalidInputError
			if !errors.As(err, &ie) || ie.Field != tt.field {
				t.Fatalf("err = %v, want InvalidInputError on %q", err, tt.field)
			}
		})
	}
	if f.count() != 0 {
		t.Fatalf("invalid input reached Graph: %v", f.calls)
	}
}

func TestUnauthorizedMeansSignInOnlyForUsers(t *testing.T) {
	f := newFakeGraph(t)
	unauth := jsonReply(http.StatusUnauthorized, []byte(`{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired."}}`))
	f.on("GET", em+"/catalogs", unauth)
	f.on("GET", em+"/assignmentRequests/filterByCurrentUser(on='target')", unauth)
	c := newTestClient(t, f)
	ctx := context.Background()
	if _, err := c.ForUser(userToken("t", "o")).MyRequests(ctx); !errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("delegated 401: err = %v, want ErrSignInRequired", err)
	}
	_, err := c.Catalogs(ctx)
	if !errors.Is(err, entitlement.ErrUnavailable) || errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("app-only 401: err = %v, want ErrUnavailable (an operator problem)", err)
	}
	broken := newTestClient(t, f, func(cfg *Config) {
		cfg.AppTokens = entitlement.TokenFunc(func(context.Context) (string, error) { return "", errors.New("certificate expired") })
	})
	before := f.count()
	if _, err := broken.Catalogs(ctx); !errors.Is(err, entitlement.ErrUnavailable) || !strings.Contains(err.Error(), "certificate expired") {
		t.Fatalf("app token failure: err = %v", err)
	}
	if f.count() != before {
		t.Fatalf("a request was sent without a token")
	}
}

func TestRetryWaitIsBoundedPerCall(t *testing.T) {
	f := newFakeGraph(t)
	f.on("GET", em+"/catalogs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		jsonReply(http.StatusTooManyRequests, []byte(`{"error":{"code":"TooManyRequests","message":"slow down"}}`))(w, r)
	})
	f.on("POST", em+"/connectedOrganizations", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		jsonReply(http.StatusTooManyRequests, []byte(`{"error":{"code":"TooManyRequests"}}`))(w, r)
	})
	c := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetryWait = 1500 * time.Millisecond })
	ctx := context.Background()
	if _, err := c.Catalogs(ctx); !errors.Is(err, entitlement.ErrThrottled) {
		t.Fatalf("err = %v", err)
	}
	if n := f.callsTo("GET " + em + "/catalogs"); n != 2 {
		t.Fatalf("GET attempts = %d, want 2 (one 1s wait fits in 1.5s, a second does not)", n)
	}
	_, err := c.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{Name: "X", Domain: "x.example"})
	if !errors.Is(err, entitlement.ErrThrottled) {
		t.Fatalf("err = %v", err)
	}
	if n := f.callsTo("POST " + em + "/connectedOrganizations"); n != 2 {
		t.Fatalf("POST attempts = %d, want 2", n)
	}
}
