package resident

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

func TestParseMaps(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []mapping
		wantErr string
	}{
		{
			name: "maps: binary, deleted file, path with spaces, anonymous",
			in: "00400000-01b0c000 r-xp 00000000 fe:00 1234 /work/bin/accessbot\n" +
				"01b0c000-039fb000 r--p 0170c000 fe:00 1234 /work/bin/accessbot (deleted)\n" +
				"7f00-7f10 r--s 00000000 fe:00 99 /tmp/my state/accessbot.db\n" +
				"\n" +
				"7f5e65008000-7f5e65088000 rw-p 00000000 00:00 0\n",
			want: []mapping{
				{start: 0x400000, end: 0x1b0c000, perms: "r-xp", dev: "fe:00", inode: 1234, anonKB: -1},
				{start: 0x1b0c000, end: 0x39fb000, perms: "r--p", dev: "fe:00", inode: 1234, anonKB: -1},
				{start: 0x7f00, end: 0x7f10, perms: "r--s", dev: "fe:00", inode: 99, anonKB: -1},
				{start: 0x7f5e65008000, end: 0x7f5e65088000, perms: "rw-p", dev: "00:00", inode: 0, anonKB: -1},
			},
		},
		{
			name: "smaps: the Anonymous size of each mapping, one without",
			in: "55dee1524000-55dee15d1000 r-xp 00000000 fe:00 1234 /work/bin/accessbot\n" +
				"Size:                692 kB\nRss:                 692 kB\nAnonymous:             0 kB\nVmFlags: rd ex mr mw me dw sd\n" +
				"55dee16b7000-55dee16e1000 r--p 00193000 fe:00 1234 /work/bin/accessbot\n" +
				"Rss:                 152 kB\nAnonymous:           152 kB\n" +
				"7f00-7f10 r--s 00000000 fe:00 99 /tmp/accessbot.db\n",
			want: []mapping{
				{start: 0x55dee1524000, end: 0x55dee15d1000, perms: "r-xp", dev: "fe:00", inode: 1234, anonKB: 0},
				{start: 0x55dee16b7000, end: 0x55dee16e1000, perms: "r--p", dev: "fe:00", inode: 1234, anonKB: 152},
				{start: 0x7f00, end: 0x7f10, perms: "r--s", dev: "fe:00", inode: 99, anonKB: -1},
			},
		},
		{name: "too few fields", in: "00400000-01b0c000 r-xp 00000000 fe:00\n", wantErr: "line 1: want at least 5 fields"},
		{name: "range not hex", in: "zz-01 r-xp 0 fe:00 1\n", wantErr: "line 1: want \"start-end"},
		{name: "no dash", in: "00400000 r-xp 0 fe:00 1\n", wantErr: "line 1: want \"start-end"},
		{name: "end before start", in: "0002-0001 r-xp 0 fe:00 1\n", wantErr: "line 1: want \"start-end"},
		{name: "inode not a number", in: "0001-0002 r-xp 0 fe:00 x\n", wantErr: "line 1: want \"start-end"},
		{name: "Anonymous before any mapping", in: "Anonymous: 0 kB\n", wantErr: "line 1: want \"Anonymous: <n> kB\" after a mapping"},
		{name: "Anonymous not a number", in: "0001-0002 r-xp 0 fe:00 1\nAnonymous: -4 kB\n", wantErr: "line 2: want \"Anonymous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMaps(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExecutableRanges(t *testing.T) {
	maps := []mapping{
		{start: 0x400000, end: 0x1b0c000, perms: "r-xp", dev: "fe:00", inode: 1234},
		{start: 0x1b0c000, end: 0x39fb000, perms: "r--p", dev: "fe:00", inode: 1234},
		{start: 0x39fb000, end: 0x39fc000, perms: "r--p", dev: "fe:00", inode: 1234, anonKB: 4},  // relocated RELRO
		{start: 0x39fc000, end: 0x39fd000, perms: "r--p", dev: "fe:00", inode: 1234, anonKB: -1}, // not known
		{start: 0x39fd000, end: 0x3ae0000, perms: "rw-p", dev: "fe:00", inode: 1234},
		{start: 0x3ae0000, end: 0x3b00000, perms: "rw-p", dev: "00:00", inode: 0},
		{start: 0x7f00000, end: 0x7f10000, perms: "r--s", dev: "fe:00", inode: 99},
		{start: 0x7f20000, end: 0x7f30000, perms: "r-xp", dev: "fe:01", inode: 1234}, // same inode, other device
	}
	tests := []struct {
		name string
		pc   uintptr
		want []uintptr // starts
	}{
		{"pc in the code: code and constants, not written pages or data", 0x500000, []uintptr{0x400000, 0x1b0c000}},
		{"pc in another file: that file only", 0x7f00010, []uintptr{0x7f00000}},
		{"pc in anonymous memory: nothing", 0x3ae0010, nil},
		{"pc not mapped: nothing", 0x10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uintptr
			for _, m := range executableRanges(maps, tt.pc) {
				got = append(got, m.start)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("starts = %#x, want %#x", got, tt.want)
			}
		})
	}
}

// rssOf is the resident kB of the mapping that starts at addr (/proc/self/smaps).
func rssOf(t *testing.T, addr uintptr) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	prefix := fmt.Sprintf("%x-", addr)
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) > 0 && !strings.HasSuffix(f[0], ":") { // a mapping's header line
			in = strings.HasPrefix(line, prefix)
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			kb, err := strconv.Atoi(strings.Fields(line)[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no mapping at %#x in smaps", addr)
	return 0
}

func TestDropKeepsTheFilesBytes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("madvise is used on Linux only")
	}
	const size = 1 << 20
	want := bytes.Repeat([]byte("accessbot"), size/9+1)[:size]
	path := filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(data)
	addr := uintptr(unsafe.Pointer(&data[0]))
	if !bytes.Equal(data, want) { // reads every page
		t.Fatal("mapped bytes differ from the file")
	}
	if kb := rssOf(t, addr); kb < size/1024/2 {
		t.Fatalf("before Drop: %d kB resident, want about %d", kb, size/1024)
	}
	if err := Drop(addr, size); err != nil {
		t.Fatal(err)
	}
	if kb := rssOf(t, addr); kb != 0 {
		t.Errorf("after Drop: %d kB resident, want 0", kb)
	}
	if !bytes.Equal(data, want) {
		t.Error("after Drop the mapping reads different bytes")
	}
	if err := Drop(addr+1, 4096); err == nil {
		t.Error("Drop of an unaligned address: no error, want EINVAL")
	}
	if err := Drop(addr, 0); err != nil {
		t.Errorf("Drop of 0 bytes: %v, want nil", err)
	}
}

// rssFileKB is the process's resident file-backed memory (/proc/self/status RssFile).
func rssFileKB(t *testing.T) int {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssFile:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no RssFile line in /proc/self/status")
	return 0
}

func TestDropExecutable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("madvise is used on Linux only")
	}
	before := rssFileKB(t)
	n, err := DropExecutable()
	if err != nil {
		t.Fatal(err)
	}
	after := rssFileKB(t)
	if n <= 0 {
		t.Fatalf("DropExecutable covered %d bytes, want the binary's code and constants", n)
	}
	if after >= before {
		t.Errorf("RssFile %d kB → %d kB, want it lower", before, after)
	}
	// The code still runs: the pages come back from the page cache.
	if got := strings.Repeat("ok", 2); got != "okok" {
		t.Errorf("after the drop: %q", got)
	}
}

// TestDropFileKeepsWrittenPages: a read-only private mapping whose page was written before it was made
// read-only (as the dynamic loader relocates a position-independent binary's RELRO segment) is not dropped —
// that would bring back the file's bytes — while a clean mapping of the same file is.
func TestDropFileKeepsWrittenPages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("madvise is used on Linux only")
	}
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "binary")
	if err := os.WriteFile(path, bytes.Repeat([]byte{'f'}, 4*page), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// File offsets 0 and 2 pages: the kernel cannot merge the two mappings, wherever it puts them.
	relro, err := syscall.Mmap(int(f.Fd()), 0, page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(relro)
	relro[0] = 'r' // a relocation: the page is now a private copy
	if err := syscall.Mprotect(relro, syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	code, err := syscall.Mmap(int(f.Fd()), int64(2*page), page, syscall.PROT_READ, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(code)
	if code[0] != 'f' { // reads the page in
		t.Fatalf("clean mapping reads %q", code[0])
	}
	n, err := dropFileOf(uintptr(unsafe.Pointer(&code[0])))
	if err != nil {
		t.Fatal(err)
	}
	if relro[0] != 'r' {
		t.Fatalf("the written page reads %q after the drop, want 'r': its copy was dropped", relro[0])
	}
	if n != page {
		t.Errorf("dropped %d bytes, want the clean mapping's %d", n, page)
	}
	if kb := rssOf(t, uintptr(unsafe.Pointer(&code[0]))); kb != 0 {
		t.Errorf("clean mapping after the drop: %d kB resident, want 0", kb)
	}
}
