package e2e

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

func TestGraphSimAdminAssignListAndRemove(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	pols, err := e.client.Policies(ctx, tenantsim.PkgWikiReader)
	if err != nil || len(pols) == 0 {
		t.Fatalf("policies = %+v, %v", pols, err)
	}
	r, err := e.client.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: tenantsim.PkgWikiReader, PolicyID: pols[0].ID,
		TargetID: tenantsim.UserNestor, Justification: "admin command"})
	if err != nil {
		t.Fatal(err)
	}
	asg := e.waitAssignment(t, 10*time.Second, "adminAdd "+r.ID+" never delivered", func() ([]entitlement.Assignment, error) {
		return e.client.Assignments(ctx, entitlement.AssignmentFilter{PackageID: tenantsim.PkgWikiReader, TargetID: tenantsim.UserNestor})
	}, func(a entitlement.Assignment) bool { return a.State == entitlement.AssignmentDelivered })
	if asg.Target.ID != tenantsim.UserNestor || asg.EndsAt().IsZero() {
		t.Fatalf("assignment = %+v", asg)
	}
	// Expiring list: the P365D assignment ends within 400 days, not within 30.
	soon, err := e.client.Assignments(ctx, entitlement.AssignmentFilter{ExpiringBefore: e.sim.Now().Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(soon, func(a entitlement.Assignment) bool { return a.ID == asg.ID }) {
		t.Errorf("a 365-day assignment is listed as expiring within 30 days")
	}
	later, err := e.client.Assignments(ctx, entitlement.AssignmentFilter{ExpiringBefore: e.sim.Now().Add(400 * 24 * time.Hour)})
	if err != nil || !slices.ContainsFunc(later, func(a entitlement.Assignment) bool { return a.ID == asg.ID }) {
		t.Fatalf("expiring within 400 days misses it: %+v, %v", later, err)
	}
	// Assigning again is refused up front.
	if _, err := e.client.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: tenantsim.PkgWikiReader, PolicyID: pols[0].ID, TargetID: tenantsim.UserNestor}); !errors.Is(err, entitlement.ErrAlreadyAssigned) {
		t.Fatalf("second adminAdd: err = %v, want ErrAlreadyAssigned", err)
	}
	rm, err := e.client.AdminRemove(ctx, asg.ID, "no longer needed")
	if err != nil || rm.Type != entitlement.RequestAdminRemove {
		t.Fatalf("adminRemove = %+v, %v", rm, err)
	}
}

func TestGraphSimPendingRequestsForAdmins(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	r, err := e.as(contoso, tenantsim.UserRita).SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgTeamMember})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := e.client.Requests(ctx, entitlement.RequestFilter{States: []entitlement.RequestState{entitlement.StatePendingApproval}})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pending, func(x entitlement.Request) bool { return x.ID == r.ID })
	if i < 0 {
		t.Fatalf("pending list misses %s: %+v", r.ID, pending)
	}
	if p := pending[i]; p.PackageName != "Falcon Team Member" || p.Requestor.ID != tenantsim.UserRita {
		t.Errorf("pending request = %+v", p)
	}
	for _, p := range pending {
		if p.State != entitlement.StatePendingApproval {
			t.Errorf("filter let through %s in state %s", p.ID, p.State)
		}
	}
	byRequestor, err := e.client.Requests(ctx, entitlement.RequestFilter{RequestorID: tenantsim.UserMegan})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(byRequestor, func(x entitlement.Request) bool { return x.ID == r.ID }) {
		t.Errorf("Megan's filter returned Rita's request")
	}
}
