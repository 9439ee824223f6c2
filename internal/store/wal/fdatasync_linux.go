package wal

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (not its timestamps: the file's size and blocks never change after create).
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
