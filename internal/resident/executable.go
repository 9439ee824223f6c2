package resident

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// mapping is one mapping of /proc/self/smaps: an address range, its permissions, the file it maps (device and
// inode; inode 0 for anonymous memory) and how much of it is anonymous memory.
type mapping struct {
	start, end uintptr
	perms      string
	dev        string
	inode      uint64
	// anonKB is the smaps "Anonymous:" field: in a private file mapping, the pages written since they were
	// mapped (copies on write), which differ from the file; -1 when the kernel did not say (a maps line).
	anonKB int64
}

// clean reports whether every page of the mapping is the same as its file's: it is not writable, and the
// kernel reported that none of its pages was written before (a read-only mapping can hold written copies: the
// dynamic loader relocates a position-independent binary's RELRO segment, then makes it read-only).
func (m mapping) clean() bool { return !strings.Contains(m.perms, "w") && m.anonKB == 0 }

// parseMaps reads /proc/<pid>/smaps: a header line per mapping as in /proc/<pid>/maps ("start-end perms offset
// dev inode [path]"), followed by "Name: value" lines, of which it keeps Anonymous. A path may contain spaces
// or end in " (deleted)"; the fields before it are what matters here. Without attribute lines (maps) every
// mapping's anonymous size is unknown.
func parseMaps(r io.Reader) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if strings.HasSuffix(f[0], ":") { // an attribute of the mapping above
			if f[0] != "Anonymous:" {
				continue
			}
			if len(out) == 0 || len(f) != 3 {
				return nil, fmt.Errorf("smaps line %d: want \"Anonymous: <n> kB\" after a mapping, got %q", n, sc.Text())
			}
			kb, err := strconv.ParseUint(f[1], 10, 63)
			if err != nil {
				return nil, fmt.Errorf("smaps line %d: want \"Anonymous: <n> kB\" after a mapping, got %q", n, sc.Text())
			}
			out[len(out)-1].anonKB = int64(kb)
			continue
		}
		if len(f) < 5 {
			return nil, fmt.Errorf("maps line %d: want at least 5 fields (range perms offset dev inode), got %d", n, len(f))
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		inode, err3 := strconv.ParseUint(f[4], 10, 64)
		if !ok || err1 != nil || err2 != nil || err3 != nil || end < start {
			return nil, fmt.Errorf("maps line %d: want \"start-end perms offset dev inode\" in hex and decimal, got %q", n, sc.Text())
		}
		out = append(out, mapping{start: uintptr(start), end: uintptr(end), perms: f[1], dev: f[3], inode: inode, anonKB: -1})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read maps: %w", err)
	}
	return out, nil
}

// executableRanges are the clean read-only mappings (see mapping.clean) of the file that holds the code at pc:
// the running binary's code and constant data, found by the file (device and inode) rather than its path,
// which may have been replaced or deleted since the process started.
func executableRanges(maps []mapping, pc uintptr) []mapping {
	var own *mapping
	for i := range maps {
		if maps[i].start <= pc && pc < maps[i].end && maps[i].inode != 0 {
			own = &maps[i]
			break
		}
	}
	if own == nil {
		return nil
	}
	var out []mapping
	for _, m := range maps {
		if m.dev == own.dev && m.inode == own.inode && m.clean() {
			out = append(out, m)
		}
	}
	return out
}

// DropExecutable drops the resident pages of the running binary's clean read-only mappings and returns how many
// bytes of address space it covered. Call it once start-up is done: the pages serving needs come back on
// first use, the ones only initialisation read stay out of RSS. A mapping holding pages written since it was
// mapped (a position-independent binary's relocated RELRO segment) is left alone: dropping those pages would
// bring back the file's unrelocated bytes. Outside Linux it does nothing.
func DropExecutable() (int, error) {
	return dropFileOf(reflect.ValueOf(DropExecutable).Pointer())
}

// dropFileOf drops the resident pages of the clean read-only mappings of the file mapped at pc (see
// executableRanges) and returns how many bytes of address space it covered.
func dropFileOf(pc uintptr) (int, error) {
	if mapsPath == "" {
		return 0, nil
	}
	f, err := os.Open(mapsPath)
	if err != nil {
		return 0, fmt.Errorf("drop the binary's resident pages: %w", err)
	}
	defer f.Close()
	maps, err := parseMaps(f)
	if err != nil {
		return 0, fmt.Errorf("drop the binary's resident pages: %w", err)
	}
	dropped := 0
	for _, m := range executableRanges(maps, pc) {
		size := int(m.end - m.start)
		if err := Drop(m.start, size); err != nil {
			return dropped, fmt.Errorf("drop the binary's resident pages at %#x (%d bytes): %w", m.start, size, err)
		}
		dropped += size
	}
	return dropped, nil
}
