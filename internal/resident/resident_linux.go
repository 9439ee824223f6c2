//go:build linux

package resident

import "syscall"

// Drop tells the kernel that this process no longer needs the size bytes mapped at addr resident (madvise
// MADV_DONTNEED). The mapping must be a read-only mapping of a file (shared, or private and never written):
// for those the next access maps the page back in from the page cache. Drop of a writable private mapping
// would discard its changes; callers never pass one.
func Drop(addr uintptr, size int) error {
	if size <= 0 {
		return nil
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}

// mapsPath is where the kernel lists this process's mappings, with how much of each is anonymous memory.
const mapsPath = "/proc/self/smaps"
