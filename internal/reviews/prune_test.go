package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// listedReviews lists definitions and their instances (or fails with err); the other Reviews methods are not
// used here.
type listedReviews struct {
	entitlement.Reviews
	insts map[string][]entitlement.ReviewInstance // by definition id
	err   error
}

func (f *listedReviews) ReviewDefinitions(context.Context) ([]entitlement.ReviewDefinition, error) {
	var defs []entitlement.ReviewDefinition
	for id := range f.insts {
		defs = append(defs, entitlement.ReviewDefinition{ID: id, Name: id})
	}
	return defs, f.err
}

func (f *listedReviews) ReviewInstances(_ context.Context, defID string) ([]entitlement.ReviewInstance, error) {
	return f.insts[defID], nil
}

// TestPruneReviewRecords: Prune deletes the records of a finished review instance the sweeps no longer visit
// (KeepEnded after its end) and of an expiry notice whose date passed, while the records of a review in
// progress, of the latest finished instance of a review (its "removed" notices are read on every sweep), of an
// instance within the margin and any key it does not know stay. When the review listing fails, only the expiry
// notices' records go.
func TestPruneReviewRecords(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	inst := func(id string, st entitlement.ReviewStatus, start, end time.Duration) entitlement.ReviewInstance {
		return entitlement.ReviewInstance{ID: id, Status: st, Start: now.Add(start), End: now.Add(end)}
	}
	listing := map[string][]entitlement.ReviewInstance{
		// A monthly review: January's instance ended 60 days ago, February's 20 days ago, March's runs.
		"monthly": {inst("m-jan", entitlement.ReviewApplied, -90*day, -60*day), inst("m-feb", entitlement.ReviewApplied, -50*day, -20*day),
			inst("m-mar", entitlement.ReviewInProgress, -5*day, 10*day), inst("m-apr", entitlement.ReviewNotStarted, 25*day, 40*day)},
		// A one-off review that ended long ago: the sweeps still visit it (its "removed" claims).
		"oneoff": {inst("o-1", entitlement.ReviewApplied, -230*day, -200*day)},
		// A multi-stage review: the earlier instance ended 90 days ago.
		"staged": {inst("s-0", entitlement.ReviewCompleted, -120*day, -90*day), inst("s-1", entitlement.ReviewInProgress, -2*day, 12*day)},
	}
	at := func(ago time.Duration) claim { return claim{At: now.Add(-ago), Done: true} }
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	active := func(id, stage string) Active {
		a := Active{Inst: entitlement.ReviewInstance{ID: id}}
		if stage != "" {
			a.Stage = &entitlement.ReviewStage{ID: stage}
		}
		return a
	}
	type rec struct {
		bucket, key string
		value       any
		instGone    bool // goes when the instances are listed
		exprGone    bool // goes whatever the listing (an expiry notice)
	}
	recs := []rec{
		{bucketSent, sendKey("review", active("m-jan", ""), "adele"), at(88 * day), true, false},
		{bucketSent, sendKey("remind", active("m-jan", ""), "adele"), at(62 * day), true, false},
		{bucketSent, "removed/m-jan/rita", at(59 * day), true, false},
		{bucketCards, cardKey(active("m-jan", ""), "adele"), cardRecord{Seen: "f", At: now.Add(-88 * day)}, true, false},
		{bucketSent, sendKey("review", active("m-feb", ""), "adele"), at(48 * day), false, false},
		{bucketCards, cardKey(active("m-feb", ""), "adele"), cardRecord{Seen: "f"}, false, false},
		{bucketSent, sendKey("review", active("m-mar", ""), "adele"), at(5 * day), false, false},
		{bucketSent, selfKey("self-answered", entitlement.ReviewRef{InstanceID: "m-mar"}, "rita"), at(day), false, false},
		{bucketCards, cardKey(active("m-mar", ""), "adele"), cardRecord{Seen: "f", At: now.Add(-5 * day)}, false, false},
		{bucketSent, "removed/o-1/rita", at(199 * day), false, false},
		{bucketCards, cardKey(active("o-1", ""), "adele"), cardRecord{Seen: "f"}, false, false},
		{bucketSent, sendKey("review", active("s-0", "st1"), "aaron"), at(110 * day), true, false},
		{bucketCards, cardKey(active("s-0", "st1"), "aaron"), cardRecord{Seen: "f"}, true, false},
		{bucketStageReviewers, "s-0/st1", []string{"aaron"}, true, false},
		{bucketSent, sendKey("review", active("s-1", "st1"), "aaron"), at(day), false, false},
		{bucketStageReviewers, "s-1/st1", []string{"aaron"}, false, false},
		// Instances Graph no longer lists (their review was deleted).
		{bucketSent, sendKey("review", active("deleted-old", ""), "adele"), at(500 * day), true, false},
		{bucketSent, sendKey("review", active("deleted-new", ""), "adele"), at(10 * day), false, false},
		{bucketCards, cardKey(active("deleted-new", ""), "adele"), cardRecord{Seen: "f"}, true, false},
		{bucketStageReviewers, "deleted-new/st1", []string{"aaron"}, true, false},
		// Expiry notices: a warning is read until the end in its key, an end notice for a week after it.
		{bucketSent, "expiring/asg1/" + unix(-40*day), at(47 * day), true, true},
		{bucketSent, "expiring/asg2/" + unix(-10*day), at(17 * day), false, false},
		{bucketSent, "expiring/asg3/" + unix(3*day), at(4 * day), false, false},
		{bucketSent, "ended/asg4", at(40 * day), true, true},
		{bucketSent, "ended/asg5", at(20 * day), false, false},
		{bucketSent, "other/x", at(900 * day), false, false},
	}
	for _, tc := range []struct {
		name    string
		listErr error
	}{{"listed", nil}, {"listing forbidden", entitlement.ErrForbidden}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := openStore(t)
			s := &Service{cfg: Config{Reviews: &listedReviews{insts: listing, err: tc.listErr}, Store: st},
				log: slog.New(slog.DiscardHandler), now: func() time.Time { return now }}
			want := 0
			for _, r := range recs {
				raw, _ := json.Marshal(r.value)
				if err := st.UpdateKV(ctx, r.bucket, r.key, func([]byte) ([]byte, error) { return raw, nil }); err != nil {
					t.Fatal(err)
				}
				if r.exprGone || (tc.listErr == nil && r.instGone) {
					want++
				}
			}
			n, err := s.Prune(ctx)
			if (tc.listErr == nil && err != nil) || (tc.listErr != nil && !errors.Is(err, tc.listErr)) {
				t.Fatalf("Prune err = %v, want %v", err, tc.listErr)
			}
			if n != want {
				t.Errorf("Prune = %d, want %d", n, want)
			}
			for _, r := range recs {
				gone := r.exprGone || (tc.listErr == nil && r.instGone)
				if kept := stored(t, st, r.bucket, r.key); kept == gone {
					t.Errorf("%s %s: kept %v, want %v", r.bucket, r.key, kept, !gone)
				}
			}
			if n, err := s.Prune(ctx); n != 0 || (tc.listErr == nil && err != nil) {
				t.Errorf("second Prune = %d, %v; want 0", n, err)
			}
		})
	}
}

// stored reports whether bucket/key holds a record.
func stored(t *testing.T, st *store.Store, bucket, key string) bool {
	t.Helper()
	found := false
	if err := st.UpdateKV(context.Background(), bucket, key, func(raw []byte) ([]byte, error) {
		found = raw != nil
		return nil, store.ErrNoChange
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// countingKV counts the buckets pruned.
type countingKV struct {
	*store.Store
	pruned atomic.Int64
}

func (c *countingKV) PruneKV(ctx context.Context, bucket string, stale func(string, []byte) bool) (int, error) {
	c.pruned.Add(1)
	return c.Store.PruneKV(ctx, bucket, stale)
}

// sweptDir lists no assignments and counts the expiry sweeps (one "ending soon" listing each).
type sweptDir struct {
	Directory
	sweeps atomic.Int64
}

func (d *sweptDir) Assignments(_ context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	if !f.ExpiringBefore.IsZero() {
		d.sweeps.Add(1)
	}
	return nil, nil
}

// TestRunPrunesDaily: Run prunes the three review buckets after its first sweep, not on the sweeps after it,
// and again once a day has passed.
func TestRunPrunesDaily(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	kv, dir := &countingKV{Store: st}, &sweptDir{}
	s := &Service{cfg: Config{Reviews: &listedReviews{}, Directory: dir, Store: kv, Every: time.Millisecond},
		log: slog.New(slog.DiscardHandler), now: clock}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, &sentCards{}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor("first prune", func() bool { return kv.pruned.Load() == 3 })
	swept := dir.sweeps.Load()
	waitFor("five more sweeps", func() bool { return dir.sweeps.Load() >= swept+5 })
	if got := kv.pruned.Load(); got != 3 {
		t.Fatalf("%d buckets pruned over six sweeps within a day, want 3 (one prune)", got)
	}
	mu.Lock()
	now = now.Add(pruneEvery)
	mu.Unlock()
	waitFor("the next day's prune", func() bool { return kv.pruned.Load() == 6 })
}

// failingPruneKV is a store whose prunes fail.
type failingPruneKV struct{ *store.Store }

func (failingPruneKV) PruneKV(context.Context, string, func(string, []byte) bool) (int, error) {
	return 0, errors.New("disk full")
}

// lockedLog is a log destination for a Run in another goroutine.
type lockedLog struct {
	mu  sync.Mutex
	buf []byte
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	return len(p), nil
}

func (l *lockedLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return string(l.buf) }

// TestRunLogsPruneFailuresWithoutReviewPermission: without the review permission the missing permission is not
// logged again for each prune, but the store's failure to prune is.
func TestRunLogsPruneFailuresWithoutReviewPermission(t *testing.T) {
	st := openStore(t)
	logs := &lockedLog{}
	s := &Service{cfg: Config{Reviews: &listedReviews{err: entitlement.ErrForbidden}, Directory: &sweptDir{},
		Store: failingPruneKV{st}, Every: time.Millisecond}, log: slog.New(slog.NewTextHandler(logs, nil)), now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, &sentCards{}) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "prune review records"); {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("no prune failure logged within 10s; logs:\n%s", logs.String())
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "prune review records") && (!strings.Contains(line, "disk full") || strings.Contains(line, "forbidden")) {
			t.Errorf("prune failure logged as %q, want the store's error without the missing permission", line)
		}
	}
}

func TestWithoutForbidden(t *testing.T) {
	storeErr := errors.New("prune reviews.sent: disk full")
	forbidden := fmt.Errorf("list access reviews: %w", entitlement.ErrForbidden)
	tests := []struct {
		name    string
		in      error
		want    []error // still matched
		wantNil bool
	}{
		{"nil", nil, nil, true},
		{"forbidden alone", forbidden, nil, true},
		{"forbidden joined alone", errors.Join(forbidden), nil, true},
		{"a store error alone", storeErr, []error{storeErr}, false},
		{"forbidden and a store error", errors.Join(forbidden, storeErr), []error{storeErr}, false},
	}
	for _, tc := range tests {
		got := withoutForbidden(tc.in)
		if (got == nil) != tc.wantNil || errors.Is(got, entitlement.ErrForbidden) {
			t.Errorf("%s: withoutForbidden = %v, want nil: %v, never forbidden", tc.name, got, tc.wantNil)
		}
		for _, w := range tc.want {
			if !errors.Is(got, w) {
				t.Errorf("%s: withoutForbidden = %v, want it to keep %v", tc.name, got, w)
			}
		}
	}
}
