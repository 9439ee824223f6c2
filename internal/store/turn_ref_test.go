package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestSameUpToUpdatedAt(t *testing.T) {
	ref := validRef()
	ref.Locale = "en-US"
	ref.UpdatedAt = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	enc := mustMarshal(t, ref)
	later := ref
	later.UpdatedAt = ref.UpdatedAt.Add(time.Hour)
	moved := ref
	moved.ServiceURL = "https://smba.trafficmanager.net/amer/"
	noName := ref
	noName.UserName = ""
	tests := []struct {
		name string
		raw  []byte
		enc  []byte // nil: enc
		want bool
	}{
		{"same, other time", mustMarshal(t, later), nil, true},
		{"same bytes", enc, nil, true},
		{"another service url", mustMarshal(t, moved), nil, false},
		{"stored name, turn without one", enc, mustMarshal(t, noName), false},
		{"unreadable time", []byte(string(enc[:len(enc)-len(`"2026-12-07T10:00:00Z"}`)]) + `"yesterday"}`), nil, false},
		{"a property after updatedAt", []byte(string(enc[:len(enc)-1]) + `,"tenantId":"x"}`), nil, false},
		{"no updatedAt", []byte(`{"tenantId":"11111111-1111-1111-1111-111111111111"}`), nil, false},
		{"truncated", enc[:len(enc)-1], nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := enc
			if tc.enc != nil {
				e = tc.enc
			}
			if got := sameUpToUpdatedAt(tc.raw, e); got != tc.want {
				t.Errorf("sameUpToUpdatedAt(%s, %s) = %v, want %v", tc.raw, e, got, tc.want)
			}
		})
	}
}

// TestCompleteTurnReference: the reference a completion stores follows putConversationEncoded's rules whether the
// stored bytes are compared or decoded: unchanged is not rewritten, a changed or unreadable one is, a name and
// locale the turn lacks are kept from the stored one, and keepNewer leaves a newer stored reference alone.
func TestCompleteTurnReference(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	base := validRef()
	base.Locale = "de-DE"
	base.UpdatedAt = t0
	with := func(f func(*ConversationRef)) ConversationRef { r := base; f(&r); return r }
	tests := []struct {
		name      string
		stored    []byte // nil: base, encoded
		turn      ConversationRef
		keepNewer bool
		want      ConversationRef
	}{
		{"unchanged", nil, with(func(r *ConversationRef) { r.UpdatedAt = t0.Add(time.Hour) }), false, base},
		{"moved", nil, with(func(r *ConversationRef) { r.ConversationID = "a:2"; r.UpdatedAt = t0.Add(time.Hour) }),
			false, with(func(r *ConversationRef) { r.ConversationID = "a:2"; r.UpdatedAt = t0.Add(time.Hour) })},
		{"invoke without name or locale", nil, with(func(r *ConversationRef) { r.UserName, r.Locale, r.UpdatedAt = "", "", t0.Add(time.Hour) }), false, base},
		{"older turn, keep newer", nil, with(func(r *ConversationRef) { r.ConversationID = "a:old"; r.UpdatedAt = t0.Add(-time.Hour) }), true, base},
		{"unreadable stored time", []byte(`{"tenantId":"11111111-1111-1111-1111-111111111111","aadObjectId":"aaaaaaaa-0000-0000-0000-000000000001","updatedAt":"x"}`),
			with(func(r *ConversationRef) { r.UpdatedAt = t0.Add(time.Hour) }), false, with(func(r *ConversationRef) { r.UpdatedAt = t0.Add(time.Hour) })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t, Options{})
			stored := tc.stored
			if stored == nil {
				stored = mustMarshal(t, base)
			}
			err := s.db.Update(func(tx *bbolt.Tx) error {
				return tx.Bucket([]byte(bucketConversations)).Put(joinKey(base.TenantID, base.AADObjectID), stored)
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			c, err := s.ClaimActivity(ctx, "msteams|a:1|"+tc.name, time.Minute)
			if err != nil || !c.Won {
				t.Fatalf("claim: %+v %v", c, err)
			}
			turn := tc.turn
			if err := s.CompleteTurn(ctx, "msteams|a:1|"+tc.name, c.Token, nil, TurnWrites{Ref: &turn, KeepNewerRef: tc.keepNewer}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Conversation(ctx, base.TenantID, base.AADObjectID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.UpdatedAt.Equal(tc.want.UpdatedAt) || !SameConversation(got, tc.want) {
				t.Errorf("stored %+v, want %+v", got, tc.want)
			}
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
