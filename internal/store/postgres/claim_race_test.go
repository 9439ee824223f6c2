package postgres_test

import (
	"context"
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
