package identity

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestOBOCacheDropsExpiredTokens: the per-user cache does not grow with every user who ever signed in. Tokens
// that expired are dropped as new ones arrive, so the cache holds about the users active within a token
// lifetime, not the whole directory's history.
func TestOBOCacheDropsExpiredTokens(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ts := &tokenServer{reply: func(url.Values) (int, any) { return okToken("graph-token", 3600) }}
	srv := httptest.NewServer(ts.handler())
	t.Cleanup(srv.Close)
	o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: srv.URL, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	signIn := func(i int) {
		t.Helper()
		oid := fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i)
		if err := o.Exchange(ctx, tenantA, oid, jwtFor(map[string]any{"tid": tenantA, "oid": oid})); err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
	}
	size := func() int { o.mu.Lock(); defer o.mu.Unlock(); return len(o.cache) }

	const users = 3 * oboSweepMin
	for i := range users {
		signIn(i)
	}
	if got := size(); got != users {
		t.Fatalf("cache holds %d tokens, want %d (all still valid)", got, users)
	}
	advance(2 * time.Hour) // every token above has expired
	for i := range oboSweepMin {
		signIn(users + i)
	}
	if got := size(); got > oboSweepMin {
		t.Fatalf("cache holds %d tokens after all earlier ones expired, want at most %d", got, oboSweepMin)
	}
	if !o.Has(tenantA, fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", users)) {
		t.Fatal("a fresh token was dropped")
	}
}
