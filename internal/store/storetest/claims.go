package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// takeOver claims key with a short hold and waits until a second claim takes it over: old is the claim of
// the turn that hangs, cur the new holder's.
func takeOver(ctx context.Context, t *testing.T, s store.Backend, key string) (old, cur store.Claim) {
	t.Helper()
	const hold = 50 * time.Millisecond
	old, err := s.ClaimActivity(ctx, key, hold)
	if err != nil || !old.Won {
		t.Fatalf("%s: first claim = %+v, %v", key, old, err)
	}
	eventually(t, 10*time.Second, key+": claim taken over", func() bool {
		c, err := s.ClaimActivity(ctx, key, hold)
		if err != nil {
			t.Fatalf("%s: claim: %v", key, err)
		}
		cur = c
		return c.Won
	})
	if cur.Token == old.Token {
		t.Fatalf("%s: the takeover kept the token %q", key, old.Token)
	}
	return old, cur
}

// testClaimOwnership: a claim taken over belongs to its new holder. The earlier holder (its turn hung past
// the hold) can neither release nor renew it; its completion is still recorded, but the first completion of
// an activity wins, whichever holder wrote it.
func testClaimOwnership(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const oldAnswer, newAnswer = `{"by":"old"}`, `{"by":"new"}`
	for _, tc := range []struct {
		name string
		// run acts as the two turns after the takeover, then returns the claim a redelivery gets.
		run  func(key string, old, cur store.Claim) error
		want store.Claim
	}{
		{"stale release keeps the new holder's claim", func(key string, old, cur store.Claim) error {
			if err := s.ReleaseActivity(ctx, key, old.Token); err != nil {
				return err
			}
			return expectRenew(ctx, s, key, map[string]bool{old.Token: false, cur.Token: true})
		}, store.Claim{}},
		{"stale completion while the new holder runs: the first completion wins", func(key string, old, cur store.Claim) error {
			if err := s.CompleteActivity(ctx, key, old.Token, []byte(oldAnswer)); err != nil {
				return err
			}
			if c, err := s.ClaimActivity(ctx, key, time.Hour); err != nil || !c.Done || string(c.Response) != oldAnswer {
				return fmt.Errorf("redelivery while the new holder runs = %+v, %v; want a replay of the first answer", c, err)
			}
			if err := s.CompleteActivity(ctx, key, cur.Token, []byte(newAnswer)); err != nil {
				return err
			}
			return s.ReleaseActivity(ctx, key, cur.Token)
		}, store.Claim{Done: true, Response: []byte(oldAnswer)}},
		{"the new holder completes first: a stale completion keeps its answer", func(key string, old, cur store.Claim) error {
			if err := s.CompleteActivity(ctx, key, cur.Token, []byte(newAnswer)); err != nil {
				return err
			}
			if err := s.CompleteActivity(ctx, key, old.Token, []byte(oldAnswer)); err != nil {
				return err
			}
			return s.ReleaseActivity(ctx, key, old.Token)
		}, store.Claim{Done: true, Response: []byte(newAnswer)}},
		{"the new holder failed: a stale completion still records the answer", func(key string, old, cur store.Claim) error {
			if err := s.ReleaseActivity(ctx, key, cur.Token); err != nil {
				return err
			}
			return s.CompleteTurn(ctx, key, old.Token, []byte(oldAnswer), store.TurnWrites{})
		}, store.Claim{Done: true, Response: []byte(oldAnswer)}},
	} {
		key := "own-" + tc.name
		old, cur := takeOver(ctx, t, s, key)
		if err := tc.run(key, old, cur); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		runClaimSteps(t, []claimStep{{tc.name, func() (store.Claim, error) { return s.ClaimActivity(ctx, key, time.Hour) }, tc.want}})
		if resp, done, err := s.Processed(ctx, key); err != nil || done != tc.want.Done || string(resp) != string(tc.want.Response) {
			t.Fatalf("%s: Processed = %s, %v, %v; want %s, %v", tc.name, resp, done, err, tc.want.Response, tc.want.Done)
		}
	}
}

// expectRenew renews the claim of key with each token and checks who still holds it.
func expectRenew(ctx context.Context, s store.Backend, key string, want map[string]bool) error {
	for token, holds := range want {
		got, err := s.RenewActivity(ctx, key, token)
		if err != nil {
			return err
		}
		if got != holds {
			return fmt.Errorf("renew %s with token %s: holds = %v, want %v", key, token, got, holds)
		}
	}
	return nil
}

// testRenewActivity: renewing a claim restarts its age, so it is not taken over while its holder renews it;
// a token that does not hold the claim renews nothing, and neither does a completed one.
func testRenewActivity(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const hold = time.Second
	c, err := s.ClaimActivity(ctx, "act", hold)
	if err != nil || !c.Won {
		t.Fatalf("claim = %+v, %v", c, err)
	}
	// "clock" is claimed after "act": once it can be taken over, "act" could be too, but for the renewal.
	if c, err := s.ClaimActivity(ctx, "clock", hold); err != nil || !c.Won {
		t.Fatalf("claim clock = %+v, %v", c, err)
	}
	eventually(t, 10*time.Second, "the hold has passed", func() bool {
		c, err := s.ClaimActivity(ctx, "clock", hold)
		return err == nil && c.Won
	})
	if err := expectRenew(ctx, s, "act", map[string]bool{c.Token: true, "not-the-holder": false}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimActivity(ctx, "act", hold); err != nil || got.Won || got.Done {
		t.Fatalf("claim of a renewed claim = %+v, %v; want held (renewed less than %s ago)", got, err, hold)
	}
	if err := s.CompleteActivity(ctx, "act", c.Token, nil); err != nil {
		t.Fatal(err)
	}
	if err := expectRenew(ctx, s, "act", map[string]bool{c.Token: false}); err != nil {
		t.Fatalf("after completion: %v", err)
	}
	if err := expectRenew(ctx, s, "never-claimed", map[string]bool{c.Token: false}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ key, token string }{{"", "tok"}, {"act", ""}} {
		if _, err := s.RenewActivity(ctx, bad.key, bad.token); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("RenewActivity(key %q, token %q) = %v, want ErrInvalid", bad.key, bad.token, err)
		}
	}
}
