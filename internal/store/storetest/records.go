package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// testOutboxLeasedOnce: 8 concurrent callers lease a queue; every item is handed out exactly once.
func testOutboxLeasedOnce(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const items = 60
	for i := range items {
		if _, err := s.Enqueue(ctx, "notify", map[string]int{"i": i}, time.Time{}); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	runParallel(t, 8, func() error {
		for {
			got, err := s.Lease(ctx, 4, time.Minute)
			if err != nil {
				return err
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, it := range got {
				seen[it.ID]++
			}
			mu.Unlock()
		}
	})
	if len(seen) != items {
		t.Fatalf("%d distinct items leased, want %d", len(seen), items)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("item %s leased %d times", id, n)
		}
		if err := s.Complete(ctx, id); err != nil {
			t.Fatalf("Complete %s: %v", id, err)
		}
	}
	if p, err := s.Pending(ctx); err != nil || len(p) != 0 {
		t.Fatalf("Pending after completing all = %d items, %v", len(p), err)
	}
	if err := s.Complete(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Complete(unknown) err = %v, want ErrNotFound", err)
	}
}

func testOutboxFail(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	later := time.Now().Add(time.Hour)
	idFuture, err := s.Enqueue(ctx, "later", "x", later)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	id, err := s.Enqueue(ctx, "now", map[string]string{"a": "b"}, time.Time{})
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	got, err := s.Lease(ctx, 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != id || got[0].Attempts != 1 || !jsonEqual(got[0].Payload, []byte(`{"a":"b"}`)) {
		t.Fatalf("Lease = %+v, %v; want only %s with attempt 1", got, err, id)
	}
	if again, err := s.Lease(ctx, 10, time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("Lease while leased = %+v, %v; want nothing", again, err)
	}
	if err := s.Fail(ctx, id, errors.New("connector 502"), time.Now().Add(-time.Second)); err != nil {
		t.Fatalf("Fail: %v", err)
	}
	got, err = s.Lease(ctx, 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "connector 502" {
		t.Fatalf("Lease after Fail = %+v, %v", got, err)
	}
	if err := s.Fail(ctx, id, fmt.Errorf("gone: %w", store.ErrPermanent), time.Now()); err != nil {
		t.Fatalf("Fail permanent: %v", err)
	}
	dead, err := s.DeadLetters(ctx)
	if err != nil || len(dead) != 1 || dead[0].ID != id {
		t.Fatalf("DeadLetters = %+v, %v", dead, err)
	}
	pending, err := s.Pending(ctx)
	if err != nil || len(pending) != 1 || pending[0].ID != idFuture || !pending[0].NotBefore.Equal(later.UTC().Truncate(time.Microsecond)) && pending[0].NotBefore.Sub(later).Abs() > time.Millisecond {
		t.Fatalf("Pending = %+v, %v; want only %s due %s", pending, err, idFuture, later)
	}
}

func testConversations(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	ref := store.ConversationRef{TenantID: "t1", AADObjectID: "u2", ConversationID: "a:1", ServiceURL: "https://smba.example/",
		UserID: "29:rita", UserName: "Rita", Locale: "de-DE"}
	for _, r := range []store.ConversationRef{ref, {TenantID: "t1", AADObjectID: "u1", ConversationID: "a:2", ServiceURL: "https://smba.example/"},
		{TenantID: "t2", AADObjectID: "u1", ConversationID: "a:3", ServiceURL: "https://smba.example/"}} {
		if err := s.PutConversation(ctx, r); err != nil {
			t.Fatalf("PutConversation: %v", err)
		}
	}
	got, err := s.Conversation(ctx, "t1", "u2")
	// The locale of the user's last activity is kept: proactive cards are written in it.
	if err != nil || got.ConversationID != "a:1" || got.UserName != "Rita" || got.Locale != "de-DE" || got.UpdatedAt.IsZero() {
		t.Fatalf("Conversation = %+v, %v", got, err)
	}
	list, err := s.Conversations(ctx, "t1")
	if err != nil || len(list) != 2 || list[0].AADObjectID != "u1" || list[1].AADObjectID != "u2" {
		t.Fatalf("Conversations = %+v, %v", list, err)
	}
	if _, err := s.Conversation(ctx, "t1", "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing conversation err = %v", err)
	}
	bad := ref
	bad.ServiceURL = "ftp://x"
	if err := s.PutConversation(ctx, bad); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad serviceUrl err = %v, want ErrInvalid", err)
	}
}

func testCardsDialogs(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	for _, c := range []store.CardRef{
		{Key: "r1", Kind: "status", TenantID: "t", AADObjectID: "u1", ConversationID: "a:1", ServiceURL: "https://smba.example/", ActivityID: "m1"},
		{Key: "r1", Kind: "approval", TenantID: "t", AADObjectID: "u2", ConversationID: "a:2", ServiceURL: "https://smba.example/", ActivityID: "m2"},
		{Key: "r1", Kind: "status", TenantID: "t", AADObjectID: "u1", ConversationID: "a:1", ServiceURL: "https://smba.example/", ActivityID: "m3"},
		{Key: "r10", Kind: "status", ConversationID: "a:1", ServiceURL: "https://smba.example/", ActivityID: "m4"},
	} {
		if err := s.PutCard(ctx, c); err != nil {
			t.Fatalf("PutCard: %v", err)
		}
	}
	cards, err := s.Cards(ctx, "r1")
	if err != nil || len(cards) != 2 || cards[0].Kind != "approval" || cards[1].ActivityID != "m3" {
		t.Fatalf("Cards = %+v, %v", cards, err)
	}
	type form struct{ Step int }
	if err := s.PutDialog(ctx, "d1", form{Step: 2}); err != nil {
		t.Fatalf("PutDialog: %v", err)
	}
	var f form
	if err := s.Dialog(ctx, "d1", &f); err != nil || f.Step != 2 {
		t.Fatalf("Dialog = %+v, %v", f, err)
	}
	if n, err := s.PruneDialogs(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("PruneDialogs(fresh) = %d, %v", n, err)
	}
	if err := s.DeleteDialog(ctx, "d1"); err != nil {
		t.Fatalf("DeleteDialog: %v", err)
	}
	if err := s.Dialog(ctx, "d1", &f); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted dialog err = %v", err)
	}
}

func testAudit(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var last uint64
	for i, e := range []store.AuditEntry{
		{Action: "request", Mode: store.ModeDelegated, ActorID: "rita", SubjectID: "rita", PackageID: "p1"},
		{Action: "approve", Mode: store.ModeDelegated, ActorID: "aaron", SubjectID: "rita", PackageID: "p1", Details: map[string]string{"k": "v"}},
		{Action: "request", Mode: store.ModeBrokered, ActorID: "gus", SubjectID: "gus", PackageID: "p3"},
	} {
		e.Time = base.Add(time.Duration(i) * time.Minute)
		seq, err := s.AppendAudit(ctx, e)
		if err != nil || seq <= last {
			t.Fatalf("AppendAudit = %d, %v (previous %d)", seq, err, last)
		}
		last = seq
	}
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want []string // actor ids, newest first
	}{
		{"all", store.AuditQuery{}, []string{"gus", "aaron", "rita"}},
		{"subject", store.AuditQuery{SubjectID: "rita"}, []string{"aaron", "rita"}},
		{"package", store.AuditQuery{PackageID: "p3"}, []string{"gus"}},
		{"actor", store.AuditQuery{ActorID: "aaron"}, []string{"aaron"}},
		{"since", store.AuditQuery{Since: base.Add(time.Minute)}, []string{"gus", "aaron"}},
		{"limit", store.AuditQuery{Limit: 1}, []string{"gus"}},
	} {
		got, err := s.Audit(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var actors []string
		for _, e := range got {
			actors = append(actors, e.ActorID)
		}
		if fmt.Sprint(actors) != fmt.Sprint(tc.want) {
			t.Errorf("%s: actors %v, want %v", tc.name, actors, tc.want)
		}
		if tc.name == "actor" && (len(got) != 1 || got[0].Details["k"] != "v") {
			t.Errorf("details lost: %+v", got)
		}
	}
	if _, err := s.AppendAudit(ctx, store.AuditEntry{Action: "x", Mode: "weird"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad mode err = %v, want ErrInvalid", err)
	}
}
