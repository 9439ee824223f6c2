//go:build linux

package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mappedKB is this process's resident kB of its mappings of path (/proc/self/smaps).
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	kb, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":"):
			in = len(fields) >= 6 && fields[len(fields)-1] == path
		case in && len(fields) >= 2 && fields[0] == "Rss:":
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				t.Fatal(err)
			}
			kb += n
		}
	}
	return kb
}

// TestDropResidentKeepsRecords: dropping the state file's resident pages shrinks the process's mapped memory
// of it and loses nothing: every record reads back the same; a writer drops them at most once a second.
func TestDropResidentKeepsRecords(t *testing.T) {
	s, path := openTest(t, Options{})
	ctx := context.Background()
	value := strings.Repeat("x", 1000)
	for i := range 3000 {
		if err := s.Put(ctx, "things", fmt.Sprintf("k%05d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() {
		t.Helper()
		n := 0
		err := s.List(ctx, "things", "", func(_ string, raw []byte) error {
			if string(raw) != strconv.Quote(value) {
				return fmt.Errorf("record %d changed: %.40s", n, raw)
			}
			n++
			return nil
		})
		if err != nil || n != 3000 {
			t.Fatalf("read back %d records: %v", n, err)
		}
	}
	readAll()
	if kb := mappedKB(t, path); kb < 1024 {
		t.Fatalf("only %d kB of the file resident after reading 3 MB of records", kb)
	}
	s.dropResidentNow()
	if kb := mappedKB(t, path); kb > 64 {
		t.Fatalf("%d kB of the file still resident after dropping", kb)
	}
	readAll()
	s.resident.last.Store(time.Now().UnixNano())
	before := mappedKB(t, path)
	s.maybeDropResident() // dropped just now: not again
	if kb := mappedKB(t, path); kb < before/2 {
		t.Fatalf("dropped again within %s: %d kB → %d kB", dropResidentEvery, before, kb)
	}
}
