package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestPreload: the bot's state file holds the users' references and processed activities, and the
// simulator's state file exists already seeded with its signing key, so that the next start is a restart.
func TestPreload(t *testing.T) {
	dir := t.TempDir()
	if err := preload(context.Background(), dir, 25); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(dir, "accessbot.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := st.Conversations(context.Background(), contoso)
	if err != nil {
		t.Fatal(err)
	}
	_, processed, err := st.Processed(context.Background(), "msteams|a:preload-7|f:7")
	if cerr := st.Close(); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil || len(refs) != 25 || !processed {
		t.Fatalf("preloaded %d references (want 25), activity 7 processed %v (%v)", len(refs), processed, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tenantsim.db")); err != nil {
		t.Fatalf("no simulator state after preload: %v", err)
	}
	if first, again := simSecret(t, dir), simSecret(t, dir); first == "" || again != first {
		t.Errorf("the simulator's state does not keep its secret: %q then %q", first, again)
	}
}

// simSecret opens the simulator's state in dir and returns the bot app's client secret kept in it.
func simSecret(t *testing.T, dir string) string {
	t.Helper()
	sim, err := tenantsim.New(tenantsim.Options{Path: filepath.Join(dir, "tenantsim.db"), BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	return sim.Info().BotClientSecret
}
