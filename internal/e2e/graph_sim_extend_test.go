package e2e

import (
	"slices"
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
	var asg entitlement.Assignment
	deadline := time.Now().Add(10 * time.Second)
	for {
		as, err := megan.MyAssignments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(as, func(a entitlement.Assignment) bool {
			return a.PackageID == tenantsim.PkgWikiReader && a.State == entitlement.AssignmentDelivered
		}); i >= 0 {
			asg = as[i]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never delivered: %+v", as)
		}
		e.sim.Advance(time.Second) // simulated time: delivery takes 2 s; no real waiting
	}
	r, err := megan.SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgWikiReader, Extend: true, AssignmentID: asg.ID, PolicyID: asg.PolicyID})
	if err != nil {
		t.Fatalf("extend: %v", err)
	}
	if r.Type != entitlement.RequestUserUpdate {
		t.Fatalf("extend request = %+v", r)
	}
}
