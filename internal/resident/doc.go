// Package resident keeps the process's resident set to what it uses: it tells the kernel to drop mapped pages
// that are clean copies of a file, so RSS counts the working set rather than every page the process ever read.
// Nothing is lost by dropping such a page: it stays in the page cache, and the next access maps it back in.
//
// Two mappings qualify in AccessBot: the bbolt state file (mapped shared and read-only; bbolt writes with
// pwrite) and the read-only parts of the running binary (code and constant data), of which start-up touches
// far more than serving does: package initialisation of the Graph SDK alone reads megabytes it never needs
// again. Writable mappings (the binary's data, the heap) are never dropped: their pages may differ from the
// file; nor is a read-only mapping with pages written before it was made read-only (the relocated RELRO
// segment of a position-independent binary).
package resident
