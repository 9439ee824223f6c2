//go:build !linux

package resident

// Drop does nothing outside Linux (see resident_linux.go).
func Drop(uintptr, int) error { return nil }

// mapsPath is empty outside Linux: DropExecutable finds no mappings there and drops nothing.
const mapsPath = ""
