package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

// openReplicas opens n stores on one schema, as n replicas of one installation, with a short statement
// timeout (a held lock fails a statement quickly) and a short cap on the background retry.
func openReplicas(t *testing.T, url string, n int) []*postgres.Store {
	t.Helper()
	replicas := make([]*postgres.Store, n)
	for i := range replicas {
		s, err := postgres.Open(context.Background(), url, postgres.Options{
			StatementTimeout: 300 * time.Millisecond, PendingRetryMax: 200 * time.Millisecond})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		replicas[i] = s
	}
	return replicas
}

// waitDone polls the claim of key at s until it replays answer, failing after within; a claim won in the
// meantime (the activity would be processed again) fails at once.
func waitDone(t *testing.T, s *postgres.Store, key, answer string, hold, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := s.ClaimActivity(context.Background(), key, hold)
		switch {
		case err != nil:
			t.Fatalf("claim at another replica: %v", err)
		case c.Won:
			t.Fatalf("another replica won the claim of an answered activity: it would process it again")
		case c.Done && string(c.Response) == answer:
			return
		case c.Done:
			t.Fatalf("another replica replays %s, want %s", c.Response, answer)
		case time.Now().After(deadline):
			t.Fatalf("another replica still waits on the claim after %s: the completion was not written", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAnsweredTurnSurvivesAFailedCompletion: a replica answered an activity but could not write its
// completion (the database stopped answering, here: a lock held past the statement timeout). A redelivery to
// that replica replays the answer from memory, the failed turn's release keeps the claim, the replica is not
// ready while the completion waits, and once the database answers the background retry writes it — no
// readiness probe needed — so a redelivery to another replica gets the same answer instead of processing the
// activity a second time.
func TestAnsweredTurnSurvivesAFailedCompletion(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	replicas := openReplicas(t, url, 2)
	a, b := replicas[0], replicas[1]
	const key, answer = "msteams|chat|act-1", `{"statusCode":200}`
	claim, err := a.ClaimActivity(ctx, key, 15*time.Second)
	if err != nil || !claim.Won {
		t.Fatalf("first claim = %+v, %v; want won", claim, err)
	}
	tx := lockTable(t, url, "processed")
	if err := a.CompleteTurn(ctx, key, claim.Token, []byte(answer), store.TurnWrites{}); err == nil {
		t.Fatal("CompleteTurn succeeded while the table was locked: the test proves nothing")
	}
	if c, err := a.ClaimActivity(ctx, key, 15*time.Second); err != nil || c.Won || !c.Done || string(c.Response) != answer {
		t.Errorf("redelivery to the same replica = %+v, %v; want done with the answer", c, err)
	}
	if err := a.ReleaseActivity(ctx, key, claim.Token); err != nil {
		t.Errorf("the failed turn's release: %v", err)
	}
	if err := a.Ping(ctx); err == nil {
		t.Error("Ping = nil while a completion cannot be written; want not ready")
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone(t, b, key, answer, 15*time.Second, 10*time.Second)
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping after the completion was written: %v", err)
	}
}

// TestPendingAnswerKeepsItsClaim: while an answered activity's completion cannot be written, its replica
// renews the claim, so another replica's redelivery waits on it past the claim hold instead of taking it
// over and processing the activity a second time; once the completion goes through, it replays the answer.
func TestPendingAnswerKeepsItsClaim(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	replicas := openReplicas(t, url, 2)
	a, b := replicas[0], replicas[1]
	const key, answer, hold = "msteams|chat|act-2", `{"statusCode":200}`, 2 * time.Second
	claim, err := a.ClaimActivity(ctx, key, hold)
	if err != nil || !claim.Won {
		t.Fatalf("first claim = %+v, %v; want won", claim, err)
	}
	refuseCompletions(t, url)
	if err := a.CompleteTurn(ctx, key, claim.Token, []byte(answer), store.TurnWrites{}); err == nil {
		t.Fatal("CompleteTurn succeeded although completions are refused: the test proves nothing")
	}
	for until := time.Now().Add(hold + time.Second); time.Now().Before(until); time.Sleep(50 * time.Millisecond) {
		c, err := b.ClaimActivity(ctx, key, hold)
		if err != nil || c.Won || c.Done {
			t.Fatalf("redelivery to another replica while the completion waits = %+v, %v; want held (renewed)", c, err)
		}
	}
	allowCompletions(t, url)
	waitDone(t, b, key, answer, hold, 10*time.Second)
}

// refuseCompletions makes completions fail (a trigger refuses them) until allowCompletions; claims and
// renewals still go through.
func refuseCompletions(t *testing.T, url string) {
	t.Helper()
	exec(t, url, `CREATE FUNCTION refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NOT NEW.claimed THEN RAISE EXCEPTION 'completions refused by the test'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER refuse_completion BEFORE INSERT OR UPDATE ON processed FOR EACH ROW EXECUTE FUNCTION refuse_completion()`)
}

// allowCompletions drops refuseCompletions' trigger.
func allowCompletions(t *testing.T, url string) {
	t.Helper()
	exec(t, url, `DROP TRIGGER refuse_completion ON processed`)
}

// lockTable holds an exclusive lock on table until the returned transaction ends (rolled back at cleanup).
func lockTable(t *testing.T, url, table string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, `LOCK TABLE `+pgx.Identifier{table}.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatalf("lock %s: %v", table, err)
	}
	return tx
}

// exec runs statements on the test's schema.
func exec(t *testing.T, url string, statements ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, sql := range statements {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}
