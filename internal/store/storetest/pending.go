package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// testPendingAnswerRef: a completion that cannot be written keeps the turn's conversation reference with the
// answer, and the background retry writes it with the completion, so proactive cards reach the conversation
// the user last wrote from even if they write no more. A reference stored meanwhile that is newer than the
// pending one (a later turn of the user) is kept.
func testPendingAnswerRef(t *testing.T, open FaultFactory) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ref := func(conv, serviceURL string, at time.Time) store.ConversationRef {
		return store.ConversationRef{TenantID: "t1", AADObjectID: "u1", UserID: "29:rita", UserName: "Rita",
			ConversationID: conv, ServiceURL: serviceURL, Locale: "de-DE", UpdatedAt: at}
	}
	old := ref("a:old", "https://smba.example/emea/", t0)
	turn := ref("a:new", "https://smba.example/amer/", t0.Add(time.Hour))
	newer := ref("a:newer", "https://smba.example/apac/", t0.Add(2*time.Hour))
	for _, tc := range []struct {
		name   string
		stored *store.ConversationRef // before the turn
		want   store.ConversationRef  // after its completion is written
	}{
		{"a first contact's reference is written with the completion", nil, turn},
		{"a changed reference is written with the completion", &old, turn},
		{"a newer stored reference is kept", &newer, newer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t)
			s, ctx := f.Backend, ctxT(t)
			if tc.stored != nil {
				if err := s.PutConversation(ctx, *tc.stored); err != nil {
					t.Fatal(err)
				}
			}
			const key = "pending-ref"
			// A large answer, so the completion cannot fit in space freed on a full disk.
			resp := []byte(`{"status":200,"body":"` + strings.Repeat("a", 100<<10) + `"}`)
			c, err := s.ClaimActivity(ctx, key, time.Hour)
			if err != nil || !c.Won {
				t.Fatalf("claim = %+v, %v", c, err)
			}
			f.Break(t)
			w := turn
			if err := s.CompleteTurn(ctx, key, c.Token, resp, store.TurnWrites{Ref: &w}); err == nil {
				t.Fatal("CompleteTurn succeeded while writes fail: the test proves nothing")
			}
			w.ConversationID = "a:scribbled" // the caller's copy is not the one kept
			if got, err := s.Conversation(ctx, "t1", "u1"); (tc.stored == nil) != errors.Is(err, store.ErrNotFound) ||
				(tc.stored != nil && got != *tc.stored) {
				t.Fatalf("reference before the completion was written = %+v, %v; want %+v", got, err, tc.stored)
			}
			f.Mend(t)
			eventually(t, 20*time.Second, "the completion written after writes returned", func() bool {
				got, done, err := s.Processed(ctx, key)
				return err == nil && done && string(got) == string(resp)
			})
			if got, err := s.Conversation(ctx, "t1", "u1"); err != nil || got != tc.want {
				t.Fatalf("reference after the completion was written = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

// testCompleteTurnKeepNewerRef: with KeepNewerRef (a pending answer's writes, see PendingAnswers.Flush) a
// completion's reference does not replace a stored one with a later UpdatedAt, but does replace an older one
// or one of the same time; without it, the completion's reference replaces the stored one whatever its time.
func testCompleteTurnKeepNewerRef(t *testing.T, open Factory) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	stored := store.ConversationRef{TenantID: "t1", AADObjectID: "u1", UserName: "Rita", ConversationID: "a:stored",
		ServiceURL: "https://smba.example/emea/", Locale: "de-DE", UpdatedAt: t0}
	at := func(d time.Duration) store.ConversationRef {
		r := stored
		r.ConversationID, r.ServiceURL, r.UpdatedAt = "a:turn", "https://smba.example/amer/", t0.Add(d)
		return r
	}
	for _, tc := range []struct {
		name      string
		ref       store.ConversationRef
		keepNewer bool
		want      store.ConversationRef
	}{
		{"an older reference leaves the newer stored one", at(-time.Minute), true, stored},
		{"a reference of the same time replaces it", at(0), true, at(0)},
		{"a newer reference replaces it", at(time.Minute), true, at(time.Minute)},
		{"without KeepNewerRef an older reference replaces it", at(-time.Minute), false, at(-time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ctx := open(t), ctxT(t)
			if err := s.PutConversation(ctx, stored); err != nil {
				t.Fatal(err)
			}
			c, err := s.ClaimActivity(ctx, "keep-newer", time.Minute)
			if err != nil || !c.Won {
				t.Fatalf("claim = %+v, %v", c, err)
			}
			w := store.TurnWrites{Ref: &tc.ref, KeepNewerRef: tc.keepNewer}
			if err := s.CompleteTurn(ctx, "keep-newer", c.Token, []byte(`{"status":200}`), w); err != nil {
				t.Fatal(err)
			}
			if _, done, err := s.Processed(ctx, "keep-newer"); err != nil || !done {
				t.Fatalf("completed = %v, %v; want the completion written whatever happens to the reference", done, err)
			}
			if got, err := s.Conversation(ctx, "t1", "u1"); err != nil || got != tc.want {
				t.Fatalf("stored %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}
