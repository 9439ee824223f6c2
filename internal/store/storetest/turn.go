package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// testCompleteTurn: a turn's completion stores the user's conversation reference with it, only when it
// changed in anything but UpdatedAt (an unchanged one keeps its stored UpdatedAt: it was not rewritten), an
// empty name or locale keeps the stored one, and a bad reference is refused with nothing written.
func testCompleteTurn(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	base := store.ConversationRef{TenantID: "t1", AADObjectID: "u1", UserID: "29:rita", UserName: "Rita", ConversationID: "a:1",
		ServiceURL: "https://smba.example/emea/", Locale: "de-DE", UpdatedAt: t0}
	with := func(f func(r *store.ConversationRef)) *store.ConversationRef {
		r := base
		f(&r)
		return &r
	}
	for i, st := range []struct {
		name    string
		ref     *store.ConversationRef
		wantErr error
		want    store.ConversationRef // stored afterwards
	}{
		{"first turn stores the reference", &base, nil, base},
		{"no reference leaves it", nil, nil, base},
		{"unchanged reference is not rewritten", with(func(r *store.ConversationRef) { r.UpdatedAt = t0.Add(time.Hour) }), nil, base},
		{"no name or locale keeps the stored ones", with(func(r *store.ConversationRef) {
			r.UserName, r.Locale, r.UpdatedAt = "", "", t0.Add(2*time.Hour)
		}), nil, base},
		{"a new service URL is written", with(func(r *store.ConversationRef) {
			r.ServiceURL, r.Locale, r.UpdatedAt = "https://smba.example/amer/", "", t0.Add(3*time.Hour)
		}), nil, *with(func(r *store.ConversationRef) {
			r.ServiceURL, r.UpdatedAt = "https://smba.example/amer/", t0.Add(3*time.Hour)
		})},
		{"a bad reference is refused", with(func(r *store.ConversationRef) { r.ServiceURL, r.ConversationID = "ftp://x", "a:2" }), store.ErrInvalid,
			*with(func(r *store.ConversationRef) {
				r.ServiceURL, r.UpdatedAt = "https://smba.example/amer/", t0.Add(3*time.Hour)
			})},
	} {
		key := "turn-" + string(rune('a'+i))
		if c, err := s.ClaimActivity(ctx, key, time.Minute); err != nil || !c.Won {
			t.Fatalf("%s: claim = %+v, %v", st.name, c, err)
		}
		err := s.CompleteTurn(ctx, key, []byte(`{"status":200}`), st.ref)
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: CompleteTurn = %v, want %v", st.name, err, st.wantErr)
		}
		resp, done, perr := s.Processed(ctx, key)
		if perr != nil || done != (st.wantErr == nil) || (done && string(resp) != `{"status":200}`) {
			t.Fatalf("%s: Processed = %s, %v, %v; want completed %v", st.name, resp, done, perr, st.wantErr == nil)
		}
		got, err := s.Conversation(ctx, "t1", "u1")
		if err != nil || got != st.want {
			t.Fatalf("%s: stored %+v, %v\nwant %+v", st.name, got, err, st.want)
		}
	}
	if err := s.CompleteTurn(ctx, "", nil, nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("CompleteTurn without a key = %v, want ErrInvalid", err)
	}
}

// testReleaseActivity: a failed turn releases its claim, so the next delivery processes the activity at once;
// releasing a completed activity leaves it completed.
func testReleaseActivity(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	runClaimSteps(t, []claimStep{
		{"first claim wins", func() (store.Claim, error) { return s.ClaimActivity(ctx, "act", time.Hour) }, store.Claim{Won: true}},
		{"held while its turn runs", func() (store.Claim, error) { return s.ClaimActivity(ctx, "act", time.Hour) }, store.Claim{}},
		{"released after a failure: won again", func() (store.Claim, error) {
			if err := s.ReleaseActivity(ctx, "act"); err != nil {
				return store.Claim{}, err
			}
			return s.ClaimActivity(ctx, "act", time.Hour)
		}, store.Claim{Won: true}},
		{"completed, then released: still done", func() (store.Claim, error) {
			if err := s.CompleteActivity(ctx, "act", []byte(`{"status":200}`)); err != nil {
				return store.Claim{}, err
			}
			if err := s.ReleaseActivity(ctx, "act"); err != nil {
				return store.Claim{}, err
			}
			return s.ClaimActivity(ctx, "act", time.Hour)
		}, store.Claim{Done: true, Response: []byte(`{"status":200}`)}},
	})
	if err := s.ReleaseActivity(ctx, ""); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("ReleaseActivity without a key = %v, want ErrInvalid", err)
	}
}
