package postgres_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// beforeStatement runs do (once) just before the first statement whose SQL starts with prefix is sent.
type beforeStatement struct {
	prefix string
	do     func(ctx context.Context)
	done   bool
}

func (b *beforeStatement) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !b.done && strings.HasPrefix(strings.TrimSpace(data.SQL), b.prefix) {
		b.done = true
		b.do(ctx)
	}
	return ctx
}

func (b *beforeStatement) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestClaimWhileTheHolderReleases: a claim that finds the activity held, and then finds no row because the
// holder released it in between (its turn failed), is neither won nor done — the caller polls again and wins
// the next time — instead of failing the delivery.
func TestClaimWhileTheHolderReleases(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	const key = "msteams|chat|act-race"
	holder := openReplicas(t, url, 1)[0]
	held, err := holder.ClaimActivity(ctx, key, time.Hour)
	if err != nil || !held.Won {
		t.Fatalf("holder's claim = %+v, %v", held, err)
	}
	release := &beforeStatement{prefix: "SELECT claimed, response FROM processed", do: func(ctx context.Context) {
		if err := holder.ReleaseActivity(ctx, key, held.Token); err != nil {
			t.Errorf("release: %v", err)
		}
	}}
	other, err := postgres.Open(ctx, url, postgres.Options{Tracer: release})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	c, err := other.ClaimActivity(ctx, key, time.Hour)
	if !release.done {
		t.Fatal("the claim never read the row it lost to: the test proves nothing")
	}
	if err != nil || c.Won || c.Done {
		t.Fatalf("claim while the holder released = %+v, %v; want neither won nor done (poll again)", c, err)
	}
	if c, err := other.ClaimActivity(ctx, key, time.Hour); err != nil || !c.Won {
		t.Fatalf("the next claim = %+v, %v; want won", c, err)
	}
}

// TestTakeoverIsLogged: taking over an abandoned claim says so in the log (as on bbolt), with the old claim's
// time; winning a fresh claim logs nothing.
func TestTakeoverIsLogged(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var logs bytes.Buffer
	s, err := postgres.Open(ctx, url, postgres.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	key := "msteams|chat|act-takeover-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	first, err := s.ClaimActivity(ctx, key, time.Hour)
	if err != nil || !first.Won {
		t.Fatalf("first claim = %+v, %v", first, err)
	}
	if strings.Contains(logs.String(), "taking over") {
		t.Fatalf("a fresh claim logged a takeover: %s", logs.String())
	}
	second, err := s.ClaimActivity(ctx, key, time.Microsecond) // the first claim is older than that by now
	if err != nil || !second.Won || second.Token == first.Token {
		t.Fatalf("takeover = %+v, %v; want won with a new token", second, err)
	}
	out := logs.String()
	for _, want := range []string{"taking over an abandoned activity claim", "key=" + key, "claimed_at="} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
