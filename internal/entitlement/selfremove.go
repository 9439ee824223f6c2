package entitlement

import "context"

// SelfRemover files a userRemove request for one of the signed-in user's own assignments (delegated; the
// policy must let holders remove their access). The Graph client's delegated view implements it; it is a
// separate small interface so the fakes of Delegated stay as they are.
type SelfRemover interface {
	RemoveMyAssignment(ctx context.Context, assignmentID string) (Request, error)
}
