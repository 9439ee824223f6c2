package reviews

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

func TestParseExpiryLeads(t *testing.T) {
	cases := []struct {
		in      string
		want    []ExpiryLead
		wantErr bool
	}{
		{"", nil, false},
		{"90d:7d, 0:2h", []ExpiryLead{{90 * 24 * time.Hour, 7 * 24 * time.Hour}, {0, 2 * time.Hour}}, false},
		{"30d", nil, true},
		{"30d:0", nil, true},
		{"x:1d", nil, true},
		{"-1d:1d", nil, true},
	}
	for _, c := range cases {
		got, err := ParseExpiryLeads(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: err %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func TestLeadScalesWithLength(t *testing.T) {
	s := &Service{cfg: Config{ExpiryLeads: DefaultExpiryLeads}}
	cases := []struct {
		length, want time.Duration
	}{
		{180 * 24 * time.Hour, 7 * 24 * time.Hour},
		{90 * 24 * time.Hour, 7 * 24 * time.Hour},
		{30 * 24 * time.Hour, 3 * 24 * time.Hour},
		{10 * 24 * time.Hour, 24 * time.Hour},
		{8 * time.Hour, 2 * time.Hour},
	}
	for _, c := range cases {
		if got := s.leadFor(c.length); got != c.want {
			t.Errorf("lead for %v = %v, want %v", c.length, got, c.want)
		}
	}
}

// TestOnceAcrossRestarts: a notice is sent once per key, also by a second service on the same store (a restart
// or another replica); a failed send is retried after retryFailed, not on every sweep.
func TestOnceAcrossRestarts(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := &Service{cfg: Config{Store: st}, now: clock}
	b := &Service{cfg: Config{Store: st}, now: clock}
	ctx := context.Background()
	sent := 0
	send := func() error { sent++; return nil }
	fail := func() error { return errors.New("teams is down") }

	if ok, err := a.once(ctx, "k1", fail); ok || err == nil {
		t.Fatalf("failed send: ok %v err %v", ok, err)
	}
	if ok, err := b.once(ctx, "k1", send); ok || err != nil {
		t.Fatalf("retry right after a failure: ok %v err %v, want a wait", ok, err)
	}
	now = now.Add(retryFailed)
	steps := []struct {
		svc  *Service
		key  string
		want bool
	}{
		{a, "k1", true},  // retried once retryFailed has passed
		{a, "k1", false}, // already sent
		{b, "k1", false}, // another replica / a restart
		{b, "k2", true},
		{a, "k2", false},
	}
	for i, s := range steps {
		ok, err := s.svc.once(ctx, s.key, send)
		if err != nil || ok != s.want {
			t.Fatalf("step %d (%s): ok %v err %v, want %v", i, s.key, ok, err, s.want)
		}
	}
	if sent != 2 {
		t.Fatalf("sent %d times, want 2", sent)
	}
}

// openStore is a fresh bbolt store in the test's directory, closed when the test ends.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}
