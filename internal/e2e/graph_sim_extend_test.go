package e2e

import (
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

func TestGraphSimExtendAssignment(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	megan := e.as(contoso, tenantsim.UserMegan)
	if _, err := megan.SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgWikiReader}); err != nil {
		t.Fatal(err)
	}
	asg := e.waitAssignment(t, 10*time.Second, "never delivered", func() ([]entitlement.Assignment, error) { return megan.MyAssignments(ctx) },
		func(a entitlement.Assignment) bool {
			return a.PackageID == tenantsim.PkgWikiReader && a.State == entitlement.AssignmentDelivered
		})
	r, err := megan.SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgWikiReader, Extend: true, AssignmentID: asg.ID, PolicyID: asg.PolicyID})
	if err != nil {
		t.Fatalf("extend: %v", err)
	}
	if r.Type != entitlement.RequestUserUpdate {
		t.Fatalf("extend request = %+v", r)
	}
}
