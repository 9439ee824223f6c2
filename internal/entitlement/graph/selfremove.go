package graph

import (
	"context"
	"fmt"

	"github.com/accessbot/accessbot/internal/entitlement"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

var _ entitlement.SelfRemover = (*userClient)(nil)

// RemoveMyAssignment files a userRemove request for the signed-in user's assignment assignmentID.
func (u *userClient) RemoveMyAssignment(ctx context.Context, assignmentID string) (entitlement.Request, error) {
	if err := needID("assignment id", assignmentID); err != nil {
		return entitlement.Request{}, err
	}
	body := map[string]any{"requestType": "userRemove", "assignment": map[string]any{"id": assignmentID}}
	var out entitlement.Request
	err := u.call(ctx, "request removal of assignment "+assignmentID, func(ctx context.Context) error {
		m, err := u.c.sendJSON(ctx, abs.POST, u.c.base+emPath+"assignmentRequests", body, models.CreateAccessPackageAssignmentRequestFromDiscriminatorValue)
		if err != nil {
			return err
		}
		r, ok := m.(models.AccessPackageAssignmentRequestable)
		if !ok {
			return fmt.Errorf("response is not an assignment request")
		}
		out = toRequest(r)
		return nil
	})
	return out, err
}
