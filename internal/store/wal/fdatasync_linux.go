package wal

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (not its timestamps: the file's size and blocks never change after create). The
// descriptor is used through f.SyscallConn, so a Close cannot release it (and the number be reused by another
// file) during the call; EINTR, which some file systems (FUSE) return, is retried as os.File.Sync does.
func fdatasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			if serr = syscall.Fdatasync(int(fd)); serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("fdatasync", serr)
	}
	return nil
}
