package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// BenchmarkTurnWrites is the state work of one chat turn as the bot does it: claim the activity id (in
// memory), complete the turn with the (usually unchanged) conversation reference in one write. Run with -cpu 1,8,32 to see how
// concurrent turns share the file's single writer (group commit) — ns/op is per turn. As in Teams, activity
// keys carry a conversation id that looks random, and three turns in ten (card actions) store a card as their
// answer.
func BenchmarkTurnWrites(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			ref := validRef()
			ref.AADObjectID = fmt.Sprintf("user-%d", i%100)
			key := fmt.Sprintf("msteams|a:1%015x|%d", uint64(i%100)*0x9E3779B97F4A7C15, i)
			var resp []byte
			if i%10 < 3 {
				resp = benchCardAnswer
			}
			c, err := s.ClaimActivity(ctx, key, 15*time.Second)
			if err != nil || !c.Won {
				b.Fatalf("claim: %+v %v", c, err)
			}
			if err := s.CompleteTurn(ctx, key, c.Token, resp, TurnWrites{Ref: &ref}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchCardAnswer stands for an invoke answer carrying an Adaptive Card (about 2 KB).
var benchCardAnswer = []byte(`{"Status":200,"Body":{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive","value":` +
	`{"type":"AdaptiveCard","version":"1.5","body":[` + strings.Repeat(`{"type":"TextBlock","text":"Access package details","wrap":true},`, 30) +
	`{"type":"TextBlock","text":"end"}]}}}`)

// BenchmarkPutConversationIfChanged is a turn's conversation reference work: encoding it, then the check inside
// the completion's write transaction (the file's single writer), for the usual case: the stored reference is
// unchanged but for UpdatedAt, so nothing is written.
func BenchmarkPutConversationIfChanged(b *testing.B) {
	s, _ := openTest(b, Options{})
	ref := validRef()
	ref.Locale = "en-US"
	ref.UpdatedAt = time.Date(2026, 12, 7, 10, 0, 0, 123456789, time.UTC)
	put := func(tx *bbolt.Tx) error {
		enc, err := json.Marshal(ref)
		if err != nil {
			return err
		}
		return putConversationEncoded(tx, ref, enc, false)
	}
	if err := s.db.Update(put); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for b.Loop() {
			ref.UpdatedAt = ref.UpdatedAt.Add(time.Second)
			if err := put(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
