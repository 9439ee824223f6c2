package builder

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

var now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func newFake() *fakeGraph {
	return &fakeGraph{
		users: map[string]entitlement.User{"patti@contoso.example": {ID: "u-patti", Name: "Patti Fernandez"},
			"adele@contoso.example": {ID: "u-adele", Name: "Adele Vance"}},
		groups: []entitlement.DirectoryResource{{OriginSystem: entitlement.OriginGroup, OriginID: "g-team", Name: "Falcon Team", IsTeam: true},
			{OriginSystem: entitlement.OriginGroup, OriginID: "g-rev", Name: "Falcon Security Reviewers"}},
		packages: []entitlement.Package{{ID: "p-prod", Name: "Falcon Production Access"}, {ID: "p-bg", Name: "Falcon Break-glass"}},
		incompat: map[string]entitlement.Incompatibilities{},
		members:  map[string][]string{},
	}
}

func opts() Options {
	return Options{
		Catalogs: []entitlement.Catalog{{ID: "c-falcon", Name: "Project Falcon", IsExternallyVisible: true}, {ID: "c-internal", Name: "HR", IsExternallyVisible: false}},
		Roles: RoleOptions([]entitlement.CatalogResource{{ID: "r-team", Name: "Falcon Team", OriginID: "g-team", OriginSystem: entitlement.OriginGroup,
			Roles: []entitlement.CatalogResourceRole{{Name: "Member", OriginID: "Member_g-team"}}}},
			[]entitlement.DirectoryResource{{OriginSystem: entitlement.OriginGroup, OriginID: "g-new", Name: "Northwind Team"}}),
		Orgs:     []entitlement.ConnectedOrg{{ID: "o-nw", Name: "Northwind"}},
		Packages: []entitlement.Package{{ID: "p-prod", Name: "Falcon Production Access"}},
		Now:      now,
	}
}

// seedDraft is the seed's "Northwind Pilot" after every step.
func seedDraft(t *testing.T, g *fakeGraph) Draft {
	t.Helper()
	d := Draft{ID: "d1", TenantID: "t", AdminID: "adele", AdminName: "Adele Vance"}
	in := Input{Name: "Northwind Pilot", Description: "Falcon for Northwind", Catalog: "c-falcon", Roles: "g-team|Member",
		Who: "orgs", Orgs: "o-nw", StageCount: "1", Expiry: ExpireDays, ExpiryDays: "30",
		IncompatiblePackages: "p-prod", IncompatibleGroups: "Falcon Security Reviewers"}
	in.Stages[0] = StageInput{Kind: "user", Names: "patti@contoso.example"}
	for _, s := range Steps[:len(Steps)-1] {
		errs, err := Apply(context.Background(), &d, s, in, opts(), g)
		if err != nil || errs != nil {
			t.Fatalf("apply %s: %v %v", s, errs, err)
		}
	}
	return d
}

func TestApplyProblems(t *testing.T) {
	base := Input{Name: "Pilot", Catalog: "c-falcon", Roles: "g-team|Member", Who: "orgs", Orgs: "o-nw", StageCount: "1", Expiry: ExpireDays, ExpiryDays: "30"}
	tests := []struct {
		name  string
		step  Step
		edit  func(*Input)
		field string
	}{
		{"no name", StepBasics, func(in *Input) { in.Name = " " }, "name"},
		{"unknown catalog", StepBasics, func(in *Input) { in.Catalog = "c-x" }, "catalog"},
		{"new catalog without name", StepBasics, func(in *Input) { in.Catalog = "new" }, "catalog"},
		{"new catalog named like one", StepBasics, func(in *Input) { in.Catalog, in.NewCatalogName = "new", "project falcon" }, "catalog"},
		{"no roles", StepResources, func(in *Input) { in.Roles = "" }, "roles"},
		{"forged role", StepResources, func(in *Input) { in.Roles = "g-other|Owner" }, "roles"},
		{"no orgs", StepWho, func(in *Input) { in.Orgs = "" }, "orgs"},
		{"unknown who", StepWho, func(in *Input) { in.Who = "everyone" }, "who"},
		{"partners in an internal catalog", StepWho, func(in *Input) { in.Catalog = "c-internal" }, "who"},
		{"stage without approvers", StepApproval, func(in *Input) {}, "stage1"},
		{"unknown approver", StepApproval, func(in *Input) { in.Stages[0] = StageInput{Kind: "user", Names: "nobody@contoso.example"} }, "stage1"},
		{"manager only for partners", StepApproval, func(in *Input) { in.Stages[0] = StageInput{Kind: "manager"} }, "stage1.fallback"},
		{"auto-deny too long", StepApproval, func(in *Input) {
			in.Stages[0] = StageInput{Kind: "internalSponsors", AutoDenyDays: "30"}
		}, "stage1.autoDeny"},
		{"bad question format", StepApproval, func(in *Input) {
			in.Stages[0] = StageInput{Kind: "internalSponsors"}
			in.Questions[0] = QuestionInput{Text: "Ticket", Format: "INC("}
		}, "question1"},
		{"one choice", StepApproval, func(in *Input) {
			in.Stages[0] = StageInput{Kind: "internalSponsors"}
			in.Questions[1] = QuestionInput{Text: "Env", Choices: "prod"}
		}, "question2"},
		{"no days", StepLifetime, func(in *Input) { in.ExpiryDays = "0" }, "expiryDays"},
		{"past date", StepLifetime, func(in *Input) { in.Expiry, in.ExpiryDate = ExpireDate, "2020-01-01" }, "expiryDate"},
		{"unknown group", StepSoD, func(in *Input) { in.IncompatibleGroups = "Nope" }, "incompatibleGroups"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.edit(&in)
			d := Draft{ID: "d", Who: WhoOrgs, Name: "before", CatalogID: in.Catalog}
			before := d
			errs, err := Apply(context.Background(), &d, tc.step, in, opts(), newFake())
			if err != nil {
				t.Fatal(err)
			}
			if errs[tc.field].ID == "" {
				t.Fatalf("problems %v, want one for %s", errs, tc.field)
			}
			if !reflect.DeepEqual(d, before) {
				t.Fatalf("draft changed on bad input: %+v", d)
			}
		})
	}
}

func TestSeedPolicy(t *testing.T) {
	d := seedDraft(t, newFake())
	p := d.Policy("pkg-1")
	if p.Scope != entitlement.ScopeSpecificConnectedOrganizationUsers || len(p.SpecificTargets) != 1 || p.SpecificTargets[0].ConnectedOrgID != "o-nw" {
		t.Fatalf("scope %+v", p)
	}
	if p.Expiration.Duration != "P30D" || !p.ApprovalRequired || len(p.Stages) != 1 || p.Stages[0].PrimaryApprovers[0].UserID != "u-patti" {
		t.Fatalf("policy %+v", p)
	}
	if p.Name != "Users of Northwind" || !p.SelfAddAllowed {
		t.Fatalf("policy name/self-add %+v", p)
	}
	if len(d.Incompatible) != 2 {
		t.Fatalf("incompatible %+v", d.Incompatible)
	}
}

func TestCreateFailsPartWayThenFinishesOrUndoes(t *testing.T) {
	g := newFake()
	d := seedDraft(t, g)
	// A resource found by search and a new catalog: every kind of call.
	d.NewCatalog, d.CatalogID, d.CatalogName = true, "", "Northwind"
	d.Roles = append(d.Roles, RoleDraft{ResourceName: "Northwind Team", ResourceOriginID: "g-new", OriginSystem: entitlement.OriginGroup, RoleName: "Member", Pending: true})
	g.failOn, g.failErr = "CreatePolicy", entitlement.Invalid("approval stage 1", "has no approvers")
	saves := 0
	save := func(context.Context, *Draft) error { saves++; return nil }

	err := Create(context.Background(), g, &d, save)
	if !errors.Is(err, entitlement.ErrInvalidInput) || d.State != StateFailed {
		t.Fatalf("create = %v, state %q", err, d.State)
	}
	last := d.Made.Log[len(d.Made.Log)-1]
	if last.OK || last.What.ID != "builder.progress.policy" || d.Made.PackageID == "" || d.Made.PolicyID != "" {
		t.Fatalf("made %+v", d.Made)
	}
	if saves != len(d.Made.Log) {
		t.Fatalf("saved %d times for %d steps", saves, len(d.Made.Log))
	}
	// Finish: nothing is made twice.
	before := slices.Clone(g.calls)
	if err := Create(context.Background(), g, &d, save); err != nil || d.State != StateDone {
		t.Fatalf("finish = %v, state %q", err, d.State)
	}
	again := g.calls[len(before):]
	if slices.Contains(again, "CreateCatalog") || slices.Contains(again, "CreatePackage") || slices.Contains(again, "AddResourceRole") {
		t.Fatalf("finish repeated calls: %v", again)
	}
	want := []string{"CreatePolicy", "AddIncompatible:p-prod", "AddIncompatible:g-rev"}
	if !slices.Equal(again, want) {
		t.Fatalf("finish calls %v, want %v", again, want)
	}

	// Undo removes policy, package and catalog; the resource added to the (deleted) catalog went with it.
	left, err := Undo(context.Background(), g, &d)
	if err != nil || d.State != StateUndone || len(left) != 0 {
		t.Fatalf("undo = %v, %v, %q", left, err, d.State)
	}
	if len(g.deleted) != 3 {
		t.Fatalf("deleted %v", g.deleted)
	}
}

func TestCheckSoD(t *testing.T) {
	g := newFake()
	g.incompat["p-bg"] = entitlement.Incompatibilities{Packages: []entitlement.Package{{ID: "p-prod"}}}
	g.incompat["p-team"] = entitlement.Incompatibilities{Groups: []entitlement.Group{{ID: "g-rev", Name: "Falcon Security Reviewers"}}}
	g.assignments = []entitlement.Assignment{{ID: "a1", PackageID: "p-bg", PackageName: "Falcon Break-glass", Target: entitlement.Subject{ID: "rita", Name: "Rita"}}}
	g.members["g-rev"] = []string{"isaiah"}
	g.assignments = append(g.assignments, entitlement.Assignment{ID: "a3", PackageID: "p-prod", PackageName: "Falcon Production Access", Target: entitlement.Subject{ID: "lynne", Name: "Lynne"}})
	tests := []struct {
		name, user, pkg string
		want            []Conflict
		// reads: Incompatibilities and Assignments calls (the request form runs Check every time)
		incompatReads, assignmentReads int
	}{
		{"held package names the requested one", "rita", "p-prod", []Conflict{{Kind: entitlement.IncompatiblePackage, ID: "p-bg", Name: "Falcon Break-glass", AssignmentID: "a1"}}, 1, 1},
		{"requested package names a held one", "lynne", "p-bg", []Conflict{{Kind: entitlement.IncompatiblePackage, ID: "p-prod", Name: "Falcon Production Access", AssignmentID: "a3"}}, 1, 1},
		{"group member", "isaiah", "p-team", []Conflict{{Kind: entitlement.IncompatibleGroup, ID: "g-rev", Name: "Falcon Security Reviewers"}}, 1, 0},
		{"no conflict", "isaiah", "p-prod", nil, 1, 1},
		{"no incompatibilities either way: assignments not read", "rita", "p-wiki", nil, 1, 0},
		{"no account yet", "", "p-team", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g.incompatReads, g.assignmentReads = 0, 0
			got, err := Check(context.Background(), g, tc.user, tc.pkg)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Check = %+v, %v; want %+v", got, err, tc.want)
			}
			if g.incompatReads != tc.incompatReads || g.assignmentReads != tc.assignmentReads {
				t.Errorf("Check read incompatibilities %d and assignments %d times, want %d and %d",
					g.incompatReads, g.assignmentReads, tc.incompatReads, tc.assignmentReads)
			}
		})
	}
	g.assignments = g.assignments[:1]
	g.packages = []entitlement.Package{{ID: "p-prod", Name: "Falcon Production Access"}, {ID: "p-bg", Name: "Falcon Break-glass"}}
	g.assignments = append(g.assignments, entitlement.Assignment{ID: "a2", PackageID: "p-prod", PackageName: "Falcon Production Access", Target: entitlement.Subject{ID: "rita", Name: "Rita"}})
	rep, err := Report(context.Background(), g)
	if err != nil || len(rep) != 1 || rep[0].UserID != "rita" || rep[0].PackageID != "p-bg" || rep[0].Conflicts[0].ID != "p-prod" {
		t.Fatalf("Report = %+v, %v", rep, err)
	}
}

func TestWizardStore(t *testing.T) {
	s, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	d := Draft{ID: "one", TenantID: "T", AdminID: "A", Step: StepBasics}
	if err := Start(ctx, s, d); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, s, "t", "a", "other"); !errors.Is(err, ErrStale) {
		t.Fatalf("load with another id: %v", err)
	}
	// Concurrent updates all land (compare-and-swap).
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := Update(ctx, s, "T", "A", "one", func(d *Draft) error { d.ExpiryDays++; return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := Load(ctx, s, "T", "A", "one")
	if err != nil || got.ExpiryDays != 8 {
		t.Fatalf("after concurrent updates: %+v, %v", got, err)
	}
	// One claim wins; the second is busy until the timeout.
	if _, err := Claim(ctx, s, "T", "A", "one", now); err != nil {
		t.Fatal(err)
	}
	if _, err := Claim(ctx, s, "T", "A", "one", now.Add(time.Second)); !errors.Is(err, ErrBusy) {
		t.Fatalf("second claim: %v", err)
	}
	if _, err := Claim(ctx, s, "T", "A", "one", now.Add(CreatingTimeout+time.Second)); err != nil {
		t.Fatalf("claim after timeout: %v", err)
	}
	if err := Close(ctx, s, "T", "A", "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, s, "T", "A", ""); !errors.Is(err, ErrStale) {
		t.Fatalf("load after close: %v", err)
	}
}
