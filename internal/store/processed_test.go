package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/testkit"
)

func TestProcessedAndPrune(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s, path := openTest(t, Options{Now: clock.Now})

	if _, ok, err := s.Processed(ctx, "act-1"); err != nil || ok {
		t.Fatalf("Processed(unknown) = ok %v err %v, want false nil", ok, err)
	}
	resp := []byte(`{"statusCode":200,"type":"application/vnd.microsoft.card.adaptive"}`)
	if err := s.MarkProcessed(ctx, "act-1", resp); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkProcessed(ctx, "act-2", nil); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Processed(ctx, "act-1")
	if err != nil || !ok || string(got) != string(resp) {
		t.Fatalf("Processed(act-1) = %q %v %v, want stored response", got, ok, err)
	}
	got, ok, err = s.Processed(ctx, "act-2")
	if err != nil || !ok || got != nil {
		t.Fatalf("Processed(act-2) = %q %v %v, want nil response, ok", got, ok, err)
	}
	if err := s.MarkProcessed(ctx, "", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("MarkProcessed(\"\") = %v, want ErrInvalid", err)
	}

	clock.Advance(47 * time.Hour)
	if err := s.MarkProcessed(ctx, "act-3", nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour) // act-1, act-2 are 49h old; act-3 is 2h old
	n, err := s.PruneProcessed(ctx, DefaultProcessedTTL)
	if err != nil || n != 2 {
		t.Fatalf("PruneProcessed = %d, %v; want 2 pruned", n, err)
	}
	for key, want := range map[string]bool{"act-1": false, "act-2": false, "act-3": true} {
		if _, ok, err := s.Processed(ctx, key); err != nil || ok != want {
			t.Errorf("after prune Processed(%s) = %v, %v; want %v", key, ok, err, want)
		}
	}
	if _, err := s.PruneProcessed(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("PruneProcessed(0) = %v, want ErrInvalid", err)
	}

	// Open does not prune: maintenance does, once, at its start (TestPingAndMaintenance), so the ids are not
	// walked twice when a process starts.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(47 * time.Hour)
	s2, err := Open(path, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, ok, _ := s2.Processed(ctx, "act-3"); !ok {
		t.Error("Open pruned act-3 (49h old): pruning is maintenance's")
	}
}

func TestPingAndMaintenance(t *testing.T) {
	clock := testkit.NewClock()
	s, err := Open(filepath.Join(t.TempDir(), "m.db"), Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping on open store = %v", err)
	}
	if err := s.MarkProcessed(context.Background(), "old", nil); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultProcessedTTL + time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.RunMaintenance(ctx, Maintenance{Every: time.Hour}) }()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		_, ok, err := s.Processed(context.Background(), "old")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RunMaintenance did not prune the expired id")
		}
		<-tick.C
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunMaintenance = %v after cancel, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping on a closed store succeeded")
	}
}
