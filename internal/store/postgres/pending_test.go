package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// TestAnsweredTurnSurvivesAFailedCompletion: a replica answered an activity but could not write its
// completion (the database stopped answering, here: a lock held past the statement timeout). A redelivery to
// that replica replays the answer from memory, the failed turn's release keeps the claim, the replica is not
// ready while the completion waits, and once the database answers Ping writes it, so a redelivery to another
// replica gets the same answer instead of processing the activity a second time.
func TestAnsweredTurnSurvivesAFailedCompletion(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	replicas := make([]*postgres.Store, 2)
	for i := range replicas {
		s, err := postgres.Open(ctx, url, postgres.Options{StatementTimeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		replicas[i] = s
	}
	a, b := replicas[0], replicas[1]
	const key, answer = "msteams|chat|act-1", `{"statusCode":200}`
	if c, err := a.ClaimActivity(ctx, key, 15*time.Second); err != nil || !c.Won {
		t.Fatalf("first claim = %+v, %v; want won", c, err)
	}

	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE processed IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatalf("lock: %v", err)
	}
	if err := a.CompleteTurn(ctx, key, []byte(answer), nil); err == nil {
		t.Fatal("CompleteTurn succeeded while the table was locked: the test proves nothing")
	}
	for _, step := range []struct {
		name string
		run  func() error
	}{
		{"redelivery to the same replica replays", func() error {
			c, err := a.ClaimActivity(ctx, key, 15*time.Second)
			if err != nil || c.Won || !c.Done || string(c.Response) != answer {
				t.Errorf("claim = %+v, %v; want done with the answer", c, err)
			}
			return nil
		}},
		{"the failed turn's release keeps the claim", func() error { return a.ReleaseActivity(ctx, key) }},
	} {
		if err := step.run(); err != nil {
			t.Errorf("%s: %v", step.name, err)
		}
	}
	if err := a.Ping(ctx); err == nil {
		t.Error("Ping = nil while a completion cannot be written; want not ready")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping after the database answers again: %v", err)
	}
	c, err := b.ClaimActivity(ctx, key, 15*time.Second)
	if err != nil || c.Won || !c.Done || string(c.Response) != answer {
		t.Fatalf("redelivery to another replica = %+v, %v; want done with the answer", c, err)
	}
}
