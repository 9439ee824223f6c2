package store_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/storetest"
)

// TestContract runs the storage contract suite against the bbolt store.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend {
		s, err := store.Open(filepath.Join(t.TempDir(), "accessbot.db"), store.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestContractFaults runs the contract's failure cases against the bbolt store on a small tmpfs that is filled
// up (Break) and emptied (Mend). It needs to mount a tmpfs (root); otherwise it skips.
func TestContractFaults(t *testing.T) {
	storetest.RunFaults(t, func(t *testing.T) storetest.Faults {
		dir := store.SmallTmpfs(t)
		s, err := store.Open(filepath.Join(dir, "accessbot.db"), store.Options{PendingRetryMax: 20 * time.Millisecond, WALSize: 64 << 10})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		filler := filepath.Join(dir, "filler")
		return storetest.Faults{Backend: s,
			Break: func(t *testing.T) { store.FillUp(t, s, filler) },
			Mend: func(t *testing.T) {
				if err := os.Remove(filler); err != nil {
					t.Fatal(err)
				}
			}}
	})
}
