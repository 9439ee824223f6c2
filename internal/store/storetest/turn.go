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
		c, err := s.ClaimActivity(ctx, key, time.Minute)
		if err != nil || !c.Won {
			t.Fatalf("%s: claim = %+v, %v", st.name, c, err)
		}
		err = s.CompleteTurn(ctx, key, c.Token, []byte(`{"status":200}`), store.TurnWrites{Ref: st.ref})
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
	for _, bad := range []struct{ key, token string }{{"", "tok"}, {"k", ""}} {
		if err := s.CompleteTurn(ctx, bad.key, bad.token, nil, store.TurnWrites{}); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("CompleteTurn(key %q, token %q) = %v, want ErrInvalid", bad.key, bad.token, err)
		}
	}
}

// testReleaseActivity: a failed turn releases its claim, so the next delivery processes the activity at once;
// only the claim's holder releases it, and releasing a completed activity leaves it completed.
func testReleaseActivity(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	var held store.Claim
	claim := func() (store.Claim, error) {
		c, err := s.ClaimActivity(ctx, "act", time.Hour)
		if c.Won {
			if c.Token == "" || c.Token == held.Token {
				t.Errorf("won claim token %q (previous %q): want a new, non-empty one", c.Token, held.Token)
			}
			held = c
		}
		return c, err
	}
	release := func(token string) func() (store.Claim, error) {
		return func() (store.Claim, error) {
			if err := s.ReleaseActivity(ctx, "act", token); err != nil {
				return store.Claim{}, err
			}
			return claim()
		}
	}
	runClaimSteps(t, []claimStep{
		{"first claim wins", claim, store.Claim{Won: true}},
		{"held while its turn runs", claim, store.Claim{}},
		{"a release by another token keeps it", release("not-the-holder"), store.Claim{}},
		{"released by its holder: won again", func() (store.Claim, error) { return release(held.Token)() }, store.Claim{Won: true}},
		{"completed, then released: still done", func() (store.Claim, error) {
			if err := s.CompleteActivity(ctx, "act", held.Token, []byte(`{"status":200}`)); err != nil {
				return store.Claim{}, err
			}
			return release(held.Token)()
		}, store.Claim{Done: true, Response: []byte(`{"status":200}`)}},
	})
	for _, bad := range []struct{ key, token string }{{"", "tok"}, {"act", ""}} {
		if err := s.ReleaseActivity(ctx, bad.key, bad.token); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("ReleaseActivity(key %q, token %q) = %v, want ErrInvalid", bad.key, bad.token, err)
		}
	}
}
