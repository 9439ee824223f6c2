//go:build !linux

package store

// dropResident does nothing outside Linux (see resident_linux.go).
func dropResident(uintptr, int) error { return nil }
