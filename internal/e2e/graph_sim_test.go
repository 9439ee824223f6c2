package e2e

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

const contoso = tenantsim.ContosoTenantID

func TestGraphSimAppOnlyReads(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	pkgs, err := e.client.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pkgs {
		ids = append(ids, p.ID)
		if p.CatalogID != tenantsim.FalconCatalogID || p.CatalogName != "Project Falcon" {
			t.Errorf("package %s catalog = %q %q", p.Name, p.CatalogID, p.CatalogName)
		}
	}
	for _, want := range []string{tenantsim.PkgTeamMember, tenantsim.PkgProduction, tenantsim.PkgPartner, tenantsim.PkgWikiReader, tenantsim.PkgBreakGlass} {
		if !slices.Contains(ids, want) {
			t.Errorf("Packages misses %s (got %v)", want, ids)
		}
	}

	pols, err := e.client.Policies(ctx, tenantsim.PkgProduction)
	if err != nil {
		t.Fatal(err)
	}
	if len(pols) != 1 {
		t.Fatalf("policies of production = %+v", pols)
	}
	p := pols[0]
	if p.ID != "ffffffff-0000-0000-0000-000000000002" || p.Scope != entitlement.ScopeAllMemberUsers || !p.RequestorJustificationRequired || !p.CustomScheduleAllowed ||
		len(p.Stages) != 2 || len(p.Questions) != 2 || p.Expiration.Duration != "P90D" {
		t.Fatalf("production policy = %+v", p)
	}
	if !p.Stages[0].EscalationEnabled || p.Stages[0].DurationBeforeEscalation != "PT4H" || p.Stages[1].PrimaryApprovers[0].GroupID != tenantsim.ReviewersGroupID {
		t.Errorf("stages = %+v", p.Stages)
	}
	var regex string
	for _, q := range p.Questions {
		if q.Kind == entitlement.QuestionText {
			regex = q.Regex
		}
	}
	if regex != `^INC\d{4,}$` {
		t.Errorf("ticket regex = %q", regex)
	}

	pkg, err := e.client.Package(ctx, tenantsim.PkgTeamMember)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Resources) == 0 || pkg.Resources[0].RoleName == "" {
		t.Errorf("package resources = %+v", pkg.Resources)
	}

	orgs, err := e.client.ConnectedOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) == 0 || orgs[0].ID != tenantsim.FabrikamConnectedOrgID || orgs[0].TenantID() != tenantsim.FabrikamTenantID || orgs[0].State != entitlement.OrgConfigured {
		t.Fatalf("connected orgs = %+v", orgs)
	}
	sp, err := e.client.Sponsors(ctx, tenantsim.FabrikamConnectedOrgID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp.Internal) != 1 || sp.Internal[0].ID != tenantsim.UserPatti || len(sp.External) != 1 || sp.External[0].ID != tenantsim.UserFiona {
		t.Fatalf("sponsors = %+v", sp)
	}

	mgr, err := e.client.Manager(ctx, tenantsim.UserRita)
	if err != nil || mgr.ID != tenantsim.UserAaron {
		t.Fatalf("Manager(Rita) = %+v, %v", mgr, err)
	}
	if _, err := e.client.Manager(ctx, tenantsim.UserNestor); !errors.Is(err, entitlement.ErrNotFound) {
		t.Fatalf("Manager(Nestor) err = %v, want ErrNotFound", err)
	}
	members, err := e.client.GroupMembers(ctx, tenantsim.ReviewersGroupID)
	if err != nil || len(members) != 2 {
		t.Fatalf("reviewers = %+v, %v", members, err)
	}
	for _, tc := range []struct {
		user, group string
		want        bool
	}{{tenantsim.UserAdele, tenantsim.AdminsGroupID, true}, {tenantsim.UserRita, tenantsim.AdminsGroupID, false}} {
		got, err := e.client.IsMemberOf(ctx, tc.user, tc.group)
		if err != nil || got != tc.want {
			t.Errorf("IsMemberOf(%s, %s) = %v, %v", tc.user, tc.group, got, err)
		}
	}
	for _, tc := range []struct {
		user  string
		roles []string
		want  bool
	}{
		{tenantsim.UserAdele, []string{tenantsim.IdentityGovernanceAdminRoleID}, true},
		{tenantsim.UserAdele, []string{"62e90394-69f5-4237-9190-012177145e10"}, false}, // Global Administrator: not hers
		{tenantsim.UserRita, []string{tenantsim.IdentityGovernanceAdminRoleID}, false},
	} {
		got, err := e.client.HasDirectoryRole(ctx, tc.user, tc.roles)
		if err != nil || got != tc.want {
			t.Errorf("HasDirectoryRole(%s, %v) = %v, %v; want %v", tc.user, tc.roles, got, err, tc.want)
		}
	}
	ti, err := e.client.TenantByDomain(ctx, "fabrikam.example")
	if err != nil || ti.TenantID != tenantsim.FabrikamTenantID {
		t.Fatalf("TenantByDomain = %+v, %v", ti, err)
	}
	if _, err := e.client.TenantByDomain(ctx, "nobody.example"); !errors.Is(err, entitlement.ErrNotFound) {
		t.Fatalf("TenantByDomain(unknown) err = %v", err)
	}
	if err := e.client.InstallAppForUser(ctx, tenantsim.UserAaron, "accessbot-app"); err != nil {
		t.Fatalf("install: %v", err)
	}
	if err := e.client.InstallAppForUser(ctx, tenantsim.UserAaron, "accessbot-app"); err != nil {
		t.Fatalf("second install (409 = already installed) should succeed: %v", err)
	}
}

func TestGraphSimDelegatedOnlyCallsRefuseAppTokens(t *testing.T) {
	e := newGSEnv(t)
	// The app's own token used where Graph wants a user: the simulator refuses like Graph, and the
	// client says so in domain terms.
	_, err := e.client.ForUser(e.app.Graph()).RequestablePackages(e.ctx(), entitlement.PackageQuery{})
	if err == nil || !(errors.Is(err, entitlement.ErrForbidden) || errors.Is(err, entitlement.ErrSignInRequired)) {
		t.Fatalf("app token on filterByCurrentUser: err = %v, want forbidden", err)
	}
}

func TestGraphSimRequestApproveAndRace(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	rita := e.as(contoso, tenantsim.UserRita)
	pkgs, err := rita.RequestablePackages(ctx, entitlement.PackageQuery{Search: "falcon"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name)
		if p.IsHidden || p.ID == tenantsim.PkgPartner {
			t.Errorf("Rita may not request %s", p.Name)
		}
	}
	if !slices.Contains(names, "Falcon Production Access") {
		t.Fatalf("requestable = %v", names)
	}
	reqs, err := rita.Requirements(ctx, tenantsim.PkgProduction)
	if err != nil {
		t.Fatal(err)
	}
	in := entitlement.NewRequest{PackageID: tenantsim.PkgProduction, Justification: "hotfix for INC", Schedule: entitlement.Schedule{
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}}}
	for _, q := range reqs[0].Questions {
		v := "INC12345"
		if q.Kind == entitlement.QuestionChoice {
			v = q.Choices[0].Value
		}
		in.Answers = append(in.Answers, entitlement.Answer{QuestionID: q.ID, Value: v})
	}
	before := e.calls.Load()
	req, err := rita.SubmitRequest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Load() - before; n > 3 {
		t.Errorf("warm SubmitRequest cost %d Graph calls, want ≤ 3", n)
	}
	if req.State != entitlement.StatePendingApproval && req.State != entitlement.StateSubmitted {
		t.Fatalf("request = %+v", req)
	}
	// Duplicate protection: the same request again is refused before any POST.
	if _, err := rita.SubmitRequest(ctx, in); !errors.Is(err, entitlement.ErrAlreadyRequested) {
		t.Fatalf("second submit err = %v, want ErrAlreadyRequested", err)
	}

	// Stage 1: Rita's manager.
	aaron := e.as(contoso, tenantsim.UserAaron)
	pending := pollPending(t, aaron, req.ID)
	if pending.Requestor.ID != tenantsim.UserRita && pending.Requestor.ID != "" {
		t.Errorf("pending requestor = %+v", pending.Requestor)
	}
	ap, err := aaron.Approval(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := ap.Current()
	if !ok || !st.AssignedToMe {
		t.Fatalf("Aaron's view = %+v", ap)
	}
	before = e.calls.Load()
	if err := aaron.DecideStage(ctx, req.ID, st.ID, entitlement.Decision{Result: entitlement.ReviewApprove, Justification: "ok"}); err != nil {
		t.Fatal(err)
	}
	if n := e.calls.Load() - before; n > 3 {
		t.Errorf("DecideStage cost %d Graph calls, want ≤ 3", n)
	}
	// A non-approver is told so.
	megan := e.as(contoso, tenantsim.UserMegan)
	if err := megan.DecideStage(ctx, req.ID, st.ID, entitlement.Decision{Result: entitlement.ReviewApprove}); !errors.Is(err, entitlement.ErrNotApprover) && !errors.Is(err, entitlement.ErrAlreadyDecided) && !errors.Is(err, entitlement.ErrNotFound) {
		t.Errorf("Megan deciding: err = %v", err)
	}

	// Stage 2: two reviewers race; one wins, the other learns who decided (409 mapped).
	isaiah, lynne := e.as(contoso, tenantsim.UserIsaiah), e.as(contoso, tenantsim.UserLynne)
	pollPending(t, isaiah, req.ID)
	ap2, err := isaiah.Approval(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	st2, ok := ap2.Current()
	if !ok || st2.ID == st.ID {
		t.Fatalf("stage 2 = %+v", ap2)
	}
	if err := isaiah.DecideStage(ctx, req.ID, st2.ID, entitlement.Decision{Result: entitlement.ReviewApprove, Justification: "reviewed"}); err != nil {
		t.Fatal(err)
	}
	err = lynne.DecideStage(ctx, req.ID, st2.ID, entitlement.Decision{Result: entitlement.ReviewDeny, Justification: "late"})
	var ad *entitlement.AlreadyDecidedError
	if !errors.As(err, &ad) || !strings.Contains(ad.By, "Isaiah") {
		t.Fatalf("Lynne after Isaiah: err = %v, want AlreadyDecidedError by Isaiah", err)
	}

	// Delivered: Rita holds it and a new request is refused as already assigned.
	e.waitAssignment(t, 10*time.Second, "no delivered assignment", func() ([]entitlement.Assignment, error) { return rita.MyAssignments(ctx) },
		func(a entitlement.Assignment) bool {
			return a.PackageID == tenantsim.PkgProduction && a.State == entitlement.AssignmentDelivered
		})
	if _, err := rita.SubmitRequest(ctx, in); !errors.Is(err, entitlement.ErrAlreadyAssigned) {
		t.Fatalf("submit after delivery: err = %v, want ErrAlreadyAssigned", err)
	}
}

// pollPending waits (with a deadline, ticking the simulator) until the approver sees the request.
func pollPending(t *testing.T, who entitlement.Delegated, requestID string) entitlement.Request {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs, err := who.PendingApprovals(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.ID == requestID {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s never pending for this approver: %+v", requestID, rs)
		}
	}
}

func TestGraphSimCancelAndMyRequests(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	megan := e.as(contoso, tenantsim.UserMegan)
	r, err := megan.SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgTeamMember, Justification: "joining"})
	if err != nil {
		t.Fatal(err)
	}
	mine, err := megan.MyRequests(ctx)
	if err != nil || len(mine) == 0 || mine[0].ID != r.ID {
		t.Fatalf("MyRequests = %+v, %v", mine, err)
	}
	if err := megan.CancelRequest(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.Request(ctx, r.ID)
	if err != nil || got.State != entitlement.StateCanceled {
		t.Fatalf("after cancel = %+v, %v", got, err)
	}
	if _, err := megan.SubmitRequest(ctx, entitlement.NewRequest{PackageID: tenantsim.PkgTeamMember, Justification: "again"}); err != nil {
		t.Fatalf("a new request after cancelling should be allowed: %v", err)
	}
}

func TestGraphSimPartnerAdminAddAndConnectedOrgs(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	pols, err := e.client.Policies(ctx, tenantsim.PkgPartner)
	if err != nil || len(pols) != 1 {
		t.Fatalf("partner policies = %+v, %v", pols, err)
	}
	r, err := e.client.AdminAdd(ctx, entitlement.AdminAddInput{PackageID: tenantsim.PkgPartner, PolicyID: pols[0].ID,
		TargetEmail: "gus@fabrikam.example", TargetName: "Gus Guest", ConnectedOrgID: tenantsim.FabrikamConnectedOrgID, Justification: "brokered: approved by sponsors"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == "" || r.Type != entitlement.RequestAdminAdd {
		t.Fatalf("adminAdd = %+v", r)
	}
	pending, err := e.client.Requests(ctx, entitlement.RequestFilter{PackageID: tenantsim.PkgPartner})
	if err != nil || !slices.ContainsFunc(pending, func(x entitlement.Request) bool { return x.ID == r.ID }) {
		t.Fatalf("Requests = %+v, %v", pending, err)
	}

	org, err := e.client.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{Name: "Northwind", TenantID: tenantsim.NorthwindTenantID, State: entitlement.OrgProposed})
	if err != nil {
		t.Fatal(err)
	}
	if org.ID == "" || org.TenantID() != tenantsim.NorthwindTenantID || org.State != entitlement.OrgProposed {
		t.Fatalf("created org = %+v", org)
	}
	if err := e.client.AddSponsor(ctx, org.ID, entitlement.SponsorInternal, tenantsim.UserPatti); err != nil {
		t.Fatal(err)
	}
	sp, err := e.client.Sponsors(ctx, org.ID)
	if err != nil || len(sp.Internal) != 1 {
		t.Fatalf("sponsors = %+v, %v", sp, err)
	}
	if err := e.client.RemoveSponsor(ctx, org.ID, entitlement.SponsorInternal, tenantsim.UserPatti); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DeleteConnectedOrg(ctx, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ConnectedOrg(ctx, org.ID); !errors.Is(err, entitlement.ErrNotFound) {
		t.Fatalf("deleted org: err = %v, want ErrNotFound", err)
	}
}

func TestGraphSimThrottling(t *testing.T) {
	e := newGSEnv(t, func(c *graph.Config) { c.CacheTTL = -1 })
	ctx := e.ctx()
	// Two 429s with "Retry-After: 0", then served: the client retries after its back-off (≥ 1s, a 0 says nothing) and the caller sees success.
	e.sim.SetThrottle(2, 0)
	before := e.calls.Load()
	if _, err := e.client.Catalogs(ctx); err != nil {
		t.Fatalf("after two 429s: %v", err)
	}
	if n := e.calls.Load() - before; n != 3 {
		t.Errorf("calls = %d, want 3 (two throttled + one served)", n)
	}
	// Throttled for longer than the retries: a clear, typed error.
	e.sim.SetThrottle(50, 0)
	_, err := e.client.Catalogs(ctx)
	var te *entitlement.ThrottledError
	if !errors.As(err, &te) || !strings.Contains(entitlement.UserMessage(err), "busy") {
		t.Fatalf("err = %v, want *ThrottledError", err)
	}
	// A long Retry-After is not slept through inside a chat turn.
	e.sim.SetThrottle(1, 120*time.Second)
	start := time.Now()
	_, err = e.client.Catalogs(ctx)
	if !errors.As(err, &te) || te.RetryAfter != 120*time.Second {
		t.Fatalf("err = %v, want ThrottledError with 120s", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatalf("the call waited for the Retry-After")
	}
	e.sim.SetThrottle(0, 0)
}

func TestGraphSimPagingOverSeveralPages(t *testing.T) {
	e := newGSEnv(t, func(c *graph.Config) { c.PageSize = 2; c.CacheTTL = -1 })
	ctx := e.ctx()
	before := e.calls.Load()
	pkgs, err := e.client.Packages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 5 {
		t.Fatalf("packages over pages = %d, want ≥ 5", len(pkgs))
	}
	if n := e.calls.Load() - before; n < 3 {
		t.Fatalf("calls = %d, want ≥ 3 pages of 2", n)
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if seen[p.ID] {
			t.Fatalf("package %s twice across pages", p.ID)
		}
		seen[p.ID] = true
	}
	rita := e.as(contoso, tenantsim.UserRita)
	all, err := rita.RequestablePackages(ctx, entitlement.PackageQuery{})
	if err != nil || len(all) < 3 {
		t.Fatalf("requestable over pages = %+v, %v", all, err)
	}
}

func TestGraphSimConcurrentUsersKeepTheirTokens(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, u := range []string{tenantsim.UserRita, tenantsim.UserMegan, tenantsim.UserNestor, tenantsim.UserAaron} {
		wg.Add(1)
		go func(oid string) {
			defer wg.Done()
			rs, err := e.as(contoso, oid).MyRequests(ctx)
			if err != nil {
				errs <- err
				return
			}
			for _, r := range rs {
				if r.Requestor.ID != "" && r.Requestor.ID != oid {
					errs <- errors.New("saw someone else's request")
				}
			}
		}(u)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
