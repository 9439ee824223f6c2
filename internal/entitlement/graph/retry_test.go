package graph

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestRetryPolicyDelays(t *testing.T) {
	p := newRetryPolicy(10*time.Second, 3)
	tests := []struct {
		name   string
		n      int
		ra     time.Duration
		jitter time.Duration // what the jitter source returns
		want   time.Duration
	}{
		{"Retry-After is obeyed", 1, 7 * time.Second, 0, 7 * time.Second},
		{"first back-off is 1s at least", 1, 0, 0, time.Second},
		{"first back-off with the most jitter", 1, 0, 499 * time.Millisecond, 1499 * time.Millisecond},
		{"second back-off doubles", 2, 0, 0, 2 * time.Second},
		{"third back-off doubles again", 3, 0, time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked time.Duration
			p.jitter = func(d time.Duration) time.Duration { asked = d; return min(tt.jitter, d) }
			if got := p.delay(tt.n, tt.ra); got != tt.want {
				t.Errorf("delay(%d, %v) = %v, want %v", tt.n, tt.ra, got, tt.want)
			}
			if tt.ra == 0 && asked != (p.base<<(tt.n-1))/2 {
				t.Errorf("jitter bound = %v, want half the back-off", asked)
			}
		})
	}
	// The default jitter stays below its bound and the back-off never goes below the base.
	p = newRetryPolicy(10*time.Second, 3)
	for range 200 {
		if d := p.delay(1, 0); d < time.Second || d >= 1500*time.Millisecond {
			t.Fatalf("delay(1) = %v, want in [1s, 1.5s)", d)
		}
	}
}

func TestRetryPolicyBudget(t *testing.T) {
	p := newRetryPolicy(5*time.Second, 3)
	p.jitter = func(time.Duration) time.Duration { return 0 }
	tests := []struct {
		name   string
		n      int
		waited time.Duration
		ra     time.Duration
		ok     bool
	}{
		{"first back-off fits", 1, 0, 0, true},
		{"third back-off (4s) after 3s waited does not fit", 3, 3 * time.Second, 0, false},
		{"Retry-After beyond the budget", 1, 0, 6 * time.Second, false},
		{"Retry-After filling the budget exactly", 1, 0, 5 * time.Second, true},
		{"more re-sends than allowed", 4, 0, time.Millisecond, false},
	}
	for _, tt := range tests {
		if _, ok := p.next(tt.n, tt.waited, tt.ra); ok != tt.ok {
			t.Errorf("%s: next ok = %v, want %v", tt.name, ok, tt.ok)
		}
	}
}

// stamps records when a handler was called.
type stamps struct {
	mu sync.Mutex
	at []time.Time
}

func (s *stamps) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.at = append(s.at, time.Now())
		s.mu.Unlock()
		h(w, r)
	}
}

func (s *stamps) gaps() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(s.at); i++ {
		out = append(out, s.at[i].Sub(s.at[i-1]))
	}
	return out
}

// TestThrottledWithoutRetryAfter: a 429 or 503 without Retry-After is re-sent only after the back-off
// (at least 1s, never at once), a throttled POST included, and the whole call stays within MaxRetryWait.
func TestThrottledWithoutRetryAfter(t *testing.T) {
	throttled := jsonReply(http.StatusTooManyRequests, []byte(`{"error":{"code":"TooManyRequests","message":"slow down"}}`))
	unavailable := jsonReply(http.StatusServiceUnavailable, []byte(`{"error":{"code":"ServiceUnavailable","message":"try later"}}`))
	created := jsonReply(http.StatusCreated, []byte(`{"id":"99999999-0000-0000-0000-0000000000aa","displayName":"X","state":"configured"}`))
	tests := []struct {
		name      string
		method    string
		path      string
		h         http.HandlerFunc
		call      func(c *Client) error
		wantCalls int
		wantErr   error
	}{
		{"GET 429 then served", "GET", em + "/catalogs", sequence(throttled, jsonReply(200, []byte(`{"value":[]}`))),
			func(c *Client) error { _, err := c.Catalogs(context.Background()); return err }, 2, nil},
		{"GET 503 always: gives up within the budget", "GET", em + "/catalogs", unavailable,
			func(c *Client) error { _, err := c.Catalogs(context.Background()); return err }, 2, entitlement.ErrUnavailable},
		{"POST 429 then created", "POST", em + "/connectedOrganizations", sequence(throttled, created),
			func(c *Client) error {
				_, err := c.CreateConnectedOrg(context.Background(), entitlement.NewConnectedOrg{Name: "X", Domain: "x.example"})
				return err
			}, 2, nil},
		{"POST 503 is not re-sent blindly", "POST", em + "/connectedOrganizations", unavailable,
			func(c *Client) error {
				_, err := c.CreateConnectedOrg(context.Background(), entitlement.NewConnectedOrg{Name: "X", Domain: "x.example"})
				return err
			}, 1, entitlement.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			var st stamps
			f.on(tt.method, tt.path, st.wrap(tt.h))
			c := newTestClient(t, f, func(cfg *Config) { cfg.MaxRetryWait = 2 * time.Second })
			start := time.Now()
			err := tt.call(c)
			took := time.Since(start)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if n := f.callsTo(tt.method + " " + tt.path); n != tt.wantCalls {
				t.Errorf("requests sent = %d, want %d", n, tt.wantCalls)
			}
			for _, g := range st.gaps() {
				if g < time.Second {
					t.Errorf("re-sent after %v, want a back-off of at least 1s", g)
				}
			}
			if took > 2*time.Second+500*time.Millisecond {
				t.Errorf("call took %v, more than MaxRetryWait 2s (plus slack)", took)
			}
			t.Logf("%s: %d request(s), gave up or finished after %v", tt.name, tt.wantCalls, took.Round(10*time.Millisecond))
		})
	}
}

func TestRetryableByMethod(t *testing.T) {
	tests := []struct {
		method string
		status int
		want   bool
	}{
		{"GET", 429, true}, {"POST", 429, true}, {"GET", 503, true}, {"GET", 504, true}, {"DELETE", 503, true},
		{"POST", 503, false}, {"POST", 504, false}, {"GET", 500, false}, {"GET", 502, false},
	}
	for _, tt := range tests {
		if got := retryable(tt.method, tt.status); got != tt.want {
			t.Errorf("retryable(%s, %d) = %v, want %v", tt.method, tt.status, got, tt.want)
		}
	}
}
