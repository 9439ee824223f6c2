package store

// The full-disk helpers of fault_test.go, for the external tests of this package (contract_test.go).
var (
	SmallTmpfs = smallTmpfs
	FillUp     = fillUp
)
