package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/testkit"
)

func TestAudit(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s, _ := openTest(t, Options{Now: clock.Now})

	for _, tc := range []struct {
		name  string
		e     AuditEntry
		field string
	}{
		{"no action", AuditEntry{Mode: ModeSystem}, "action"},
		{"no mode", AuditEntry{Action: "request.create"}, "mode"},
		{"bad mode", AuditEntry{Action: "request.create", Mode: "root"}, "mode"},
	} {
		var ve *ValidationError
		if _, err := s.AppendAudit(ctx, tc.e); !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: AppendAudit = %v, want validation error on %s", tc.name, err, tc.field)
		}
	}

	entries := []AuditEntry{
		{ActorID: "rita", Action: "request.create", Mode: ModeDelegated, PackageID: "p1", SubjectID: "rita"},
		{ActorID: "aaron", Action: "approval.approve", Mode: ModeDelegated, PackageID: "p1", SubjectID: "rita",
			Details: map[string]string{"stage": "1"}},
		{ActorID: "patti", Action: "approval.approve", Mode: ModeBrokered, PackageID: "p3", SubjectID: "gus"},
		{ActorID: "adele", Action: "assignment.remove", Mode: ModeAdmin, PackageID: "p1", SubjectID: "megan"},
		{Action: "outbox.deadletter", Mode: ModeSystem, Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i, e := range entries {
		e.Seq = 999 // ignored
		seq, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint64(i+1) {
			t.Fatalf("entry %d got seq %d, want %d", i, seq, i+1)
		}
		clock.Advance(time.Minute)
	}
	start := testkit.NewClock().Now()

	tests := []struct {
		name string
		q    AuditQuery
		want []uint64
	}{
		{"all newest first", AuditQuery{}, []uint64{5, 4, 3, 2, 1}},
		{"by subject", AuditQuery{SubjectID: "rita"}, []uint64{2, 1}},
		{"by package", AuditQuery{PackageID: "p1"}, []uint64{4, 2, 1}},
		{"by actor", AuditQuery{ActorID: "patti"}, []uint64{3}},
		{"package and actor", AuditQuery{PackageID: "p1", ActorID: "aaron"}, []uint64{2}},
		{"since", AuditQuery{Since: start.Add(2 * time.Minute)}, []uint64{4, 3}},
		{"limit", AuditQuery{Limit: 2}, []uint64{5, 4}},
		{"no match", AuditQuery{SubjectID: "nobody"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if seqs := auditSeqs(t, s, tc.q); fmt.Sprint(seqs) != fmt.Sprint(tc.want) {
				t.Errorf("Audit(%+v) seqs = %v, want %v", tc.q, seqs, tc.want)
			}
		})
	}
	got, _ := s.Audit(ctx, AuditQuery{ActorID: "aaron"})
	if len(got) != 1 || got[0].Details["stage"] != "1" || !got[0].Time.Equal(start.Add(time.Minute)) ||
		got[0].Action != "approval.approve" {
		t.Errorf("stored entry = %+v", got)
	}
	got, _ = s.Audit(ctx, AuditQuery{Limit: 1})
	if len(got) != 1 || !got[0].Time.Equal(entries[4].Time) {
		t.Errorf("explicit Time not kept: %+v", got)
	}
	for _, l := range []int{-1, MaxAuditLimit + 1} {
		if _, err := s.Audit(ctx, AuditQuery{Limit: l}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Audit(limit %d) = %v, want ErrInvalid", l, err)
		}
	}
	// Default limit is 50.
	for i := 0; i < 60; i++ {
		if _, err := s.AppendAudit(ctx, AuditEntry{Action: "x", Mode: ModeSystem}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Audit(ctx, AuditQuery{}); len(got) != 50 || got[0].Seq != 65 {
		t.Errorf("default query returned %d entries, first seq %d; want 50 starting at 65", len(got), got[0].Seq)
	}
}

func BenchmarkAppendAudit(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	e := AuditEntry{ActorID: "aaaaaaaa-0000-0000-0000-000000000002", Action: "approval.approve", Mode: ModeDelegated,
		RequestID: "req", PackageID: "eeeeeeee-0000-0000-0000-000000000001", SubjectID: "aaaaaaaa-0000-0000-0000-000000000001"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// auditSeqs runs the query q and returns the numbers of the entries it found, in its order.
func auditSeqs(t *testing.T, s *Store, q AuditQuery) []uint64 {
	t.Helper()
	got, err := s.Audit(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}
