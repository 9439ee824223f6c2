//go:build linux

package store

import "syscall"

// dropResident tells the kernel that this process no longer needs the size bytes of the state file's mapping at
// addr resident (madvise MADV_DONTNEED). bbolt maps the file shared and read-only and writes with pwrite, so the
// pages stay in the page cache and nothing is lost: the next read faults a page back in. It keeps the mapped
// part of RSS to what was read lately instead of every page the process ever read.
func dropResident(addr uintptr, size int) error {
	if size <= 0 {
		return nil
	}
	if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED); errno != 0 {
		return errno
	}
	return nil
}
