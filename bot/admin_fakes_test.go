package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// --- fakes -----------------------------------------------------------------------------------------------

const (
	admTenant    = "11111111-1111-1111-1111-111111111111"
	admFabrikam  = "22222222-2222-2222-2222-222222222222"
	admNorthwind = "33333333-3333-3333-3333-333333333333"
	admGroup     = "dddddddd-0000-0000-0000-0000000000a1"
	admOrgFab    = "99999999-0000-0000-0000-000000000001"
	admCatalog   = "eeeeeeee-0000-0000-0000-0000000000c1"
)

func admUserID(n int) string  { return fmt.Sprintf("aaaaaaaa-0000-0000-0000-0000000000%02d", n) }
func admPkgID(n int) string   { return fmt.Sprintf("eeeeeeee-0000-0000-0000-00000000000%d", n) }
func admPolID(n int) string   { return fmt.Sprintf("ffffffff-0000-0000-0000-00000000000%d", n) }
func admFabUser(n int) string { return fmt.Sprintf("bbbbbbbb-0000-0000-0000-0000000000%02d", n) }

// admFakePort is fakeDirectory with the seed's shape and the admin writes; every change is recorded in
// writes. Unlike the flow fakes it finds users by id, UPN or mail (as the admin commands' lookups do) and
// keeps group membership as a set that IsMemberOf reads and directory roles per user that HasDirectoryRole
// reads.
type admFakePort struct {
	fakeDirectory
	packagePolicies
	members  map[string]map[string]bool // group → user ids
	tenants  map[string]entitlement.TenantInfo
	sponsors map[string]*entitlement.Sponsors
	catalogs []entitlement.Catalog
	listed   []entitlement.Request // what Requests lists

	roles map[string][]string // user → directory role template ids held

	writes        []string
	memberChecks  int
	roleChecks    int
	failRole      error
	orgListings   int
	failMember    error
	failAdminRm   error
	failReads     error         // Packages and ConnectedOrgs fail with it
	blockAdminAdd chan struct{} // when set, AdminAdd waits for it
	nextID        int
}

func newAdmFakePort(now time.Time) *admFakePort {
	p := &admFakePort{
		fakeDirectory:   newFakeDirectory(func() time.Time { return now }),
		members:         map[string]map[string]bool{admGroup: {admUserID(3): true}},
		roles:           map[string][]string{},
		tenants:         map[string]entitlement.TenantInfo{},
		sponsors:        map[string]*entitlement.Sponsors{},
		packagePolicies: packagePolicies{},
	}
	for i, n := range []string{"Rita Requester", "Aaron Approver", "Adele Vance", "Isaiah Langer", "Patti Fernandez", "Lynne Robbins", "Megan Bowen", "Nestor Wilke"} {
		first := strings.ToLower(strings.Fields(n)[0])
		p.users[admUserID(i+1)] = entitlement.User{ID: admUserID(i + 1), Name: n, UPN: first + "@contoso.example",
			Mail: first + "@contoso.example", UserType: "Member", AccountEnabled: true, TenantID: admTenant}
	}
	fiona := entitlement.User{ID: admFabUser(2), Name: "Fiona Partner", UPN: "fiona_fabrikam.example#EXT#@contoso.example",
		Mail: "fiona@fabrikam.example", UserType: "Guest", ExternalUserState: "Accepted", TenantID: admTenant}
	p.users[fiona.ID] = fiona
	for _, ti := range []entitlement.TenantInfo{
		{TenantID: admTenant, DisplayName: "Contoso", DefaultDomain: "contoso.example"},
		{TenantID: admFabrikam, DisplayName: "Fabrikam", DefaultDomain: "fabrikam.example"},
		{TenantID: admNorthwind, DisplayName: "Northwind", DefaultDomain: "northwind.example"},
	} {
		p.tenants[ti.DefaultDomain] = ti
	}
	p.orgs = []entitlement.ConnectedOrg{{ID: admOrgFab, Name: "Fabrikam", State: entitlement.OrgConfigured,
		Sources: []entitlement.IdentitySource{{Kind: entitlement.SourceTenant, TenantID: admFabrikam, DisplayName: "Fabrikam"}}}}
	p.sponsors[admOrgFab] = &entitlement.Sponsors{Internal: []entitlement.User{p.users[admUserID(5)]}, External: []entitlement.User{fiona}}
	p.catalogs = []entitlement.Catalog{{ID: admCatalog, Name: "Project Falcon", State: "published", IsExternallyVisible: true}}
	names := []string{"Falcon Team Member", "Falcon Production Access", "Falcon Partner Collaboration", "Falcon Wiki Reader", "Falcon Break-glass"}
	for i, n := range names {
		p.packages = append(p.packages, entitlement.Package{ID: admPkgID(i + 1), Name: n, CatalogID: admCatalog, CatalogName: "Project Falcon", IsHidden: i == 4})
	}
	p.packages[0].Resources = []entitlement.ResourceRole{{ResourceName: "Falcon Team", OriginSystem: "AadGroup", RoleName: "Member"}}
	mgr := entitlement.SubjectSet{Kind: entitlement.SetRequestorManager, ManagerLevel: 1}
	patti := entitlement.SubjectSet{Kind: entitlement.SetSingleUser, UserID: admUserID(5)}
	p.packagePolicies[admPkgID(1)] = []entitlement.Policy{{ID: admPolID(1), PackageID: admPkgID(1), Name: "Members", Scope: entitlement.ScopeAllMemberUsers,
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P180D"}, ApprovalRequired: true,
		Stages: []entitlement.Stage{{DurationBeforeAutomaticDenial: "P14D", PrimaryApprovers: []entitlement.SubjectSet{mgr}, FallbackPrimaryApprovers: []entitlement.SubjectSet{patti}}}}}
	p.packagePolicies[admPkgID(2)] = []entitlement.Policy{{ID: admPolID(2), PackageID: admPkgID(2), Name: "Production", Scope: entitlement.ScopeAllMemberUsers,
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P90D"}, ApprovalRequired: true, RequestorJustificationRequired: true,
		Stages: []entitlement.Stage{
			{DurationBeforeAutomaticDenial: "P14D", PrimaryApprovers: []entitlement.SubjectSet{mgr}, EscalationEnabled: true, DurationBeforeEscalation: "PT4H", EscalationApprovers: []entitlement.SubjectSet{patti}},
			{DurationBeforeAutomaticDenial: "P14D", ApproverJustificationRequired: true, PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: "dddddddd-0000-0000-0000-0000000000a2", Description: "Falcon Security Reviewers"}}},
		},
		Questions: []entitlement.Question{{ID: "q1", Text: "Change ticket (INC + digits)", Required: true}}}}
	p.packagePolicies[admPkgID(3)] = []entitlement.Policy{{ID: admPolID(3), PackageID: admPkgID(3), Name: "Fabrikam partners", Scope: entitlement.ScopeSpecificConnectedOrganizationUsers,
		SpecificTargets: []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: admOrgFab}},
		Expiration:      entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}, ApprovalRequired: true,
		Stages: []entitlement.Stage{{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetInternalSponsors}, {Kind: entitlement.SetExternalSponsors}}}}}}
	p.packagePolicies[admPkgID(4)] = []entitlement.Policy{{ID: admPolID(4), PackageID: admPkgID(4), Name: "Readers", Scope: entitlement.ScopeAllMemberUsers,
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P365D"}}}
	p.packagePolicies[admPkgID(5)] = []entitlement.Policy{{ID: admPolID(5), PackageID: admPkgID(5), Name: "Break-glass", Scope: entitlement.ScopeAllMemberUsers,
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "PT8H"}, ApprovalRequired: true,
		Stages: []entitlement.Stage{{PrimaryApprovers: []entitlement.SubjectSet{patti}}}}}
	sub := func(n int) entitlement.Subject {
		u := p.users[admUserID(n)]
		return entitlement.Subject{ID: u.ID, Name: u.Name, Email: u.Mail, PrincipalName: u.UPN, Kind: entitlement.SubjectUser}
	}
	p.assignments = []entitlement.Assignment{
		{ID: "asg-rita-1", State: entitlement.AssignmentDelivered, PackageID: admPkgID(1), PackageName: names[0], Target: sub(1),
			Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: now.Add(5 * 24 * time.Hour)}}},
		{ID: "asg-megan-4", State: entitlement.AssignmentDelivered, PackageID: admPkgID(4), PackageName: names[3], Target: sub(7),
			Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: now.Add(200 * 24 * time.Hour)}}},
		{ID: "asg-nestor-old", State: entitlement.AssignmentExpired, PackageID: admPkgID(1), PackageName: names[0], Target: sub(8)},
	}
	p.listed = []entitlement.Request{{ID: "req-megan-2", Type: entitlement.RequestUserAdd, State: entitlement.StatePendingApproval,
		PackageID: admPkgID(2), PackageName: names[1], Requestor: sub(7), CreatedAt: now.Add(-26 * time.Hour)}}
	return p
}

func (p *admFakePort) write(s string) {
	p.writes = append(p.writes, s)
}

// Writes returns the changes made so far.
func (p *admFakePort) Writes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.writes)
}

func (p *admFakePort) User(ctx context.Context, idOrUPN string) (entitlement.User, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if strings.EqualFold(u.ID, idOrUPN) || strings.EqualFold(u.UPN, idOrUPN) || strings.EqualFold(u.Mail, idOrUPN) {
			return u, nil
		}
	}
	return entitlement.User{}, fmt.Errorf("get user %s: %w", idOrUPN, entitlement.ErrNotFound)
}

func (p *admFakePort) GroupMembers(ctx context.Context, groupID string) ([]entitlement.User, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []entitlement.User
	for id := range p.members[groupID] {
		out = append(out, p.users[id])
	}
	return out, nil
}

func (p *admFakePort) IsMemberOf(ctx context.Context, userID, groupID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.memberChecks++
	if p.failMember != nil {
		return false, p.failMember
	}
	return p.members[groupID][userID], nil
}

func (p *admFakePort) HasDirectoryRole(ctx context.Context, userID string, roleTemplateIDs []string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roleChecks++
	if p.failRole != nil {
		return false, p.failRole
	}
	for _, r := range p.roles[userID] {
		if slices.Contains(roleTemplateIDs, r) {
			return true, nil
		}
	}
	return false, nil
}

func (p *admFakePort) setMember(userID string, in bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members[admGroup][userID] = in
}

func (p *admFakePort) TenantByDomain(ctx context.Context, domain string) (entitlement.TenantInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ti, ok := p.tenants[strings.ToLower(domain)]; ok {
		return ti, nil
	}
	return entitlement.TenantInfo{}, fmt.Errorf("find tenant %s: %w", domain, entitlement.ErrNotFound)
}

func (p *admFakePort) Invite(ctx context.Context, in entitlement.NewInvitation) (entitlement.Invitation, error) {
	return entitlement.Invitation{}, errors.New("not used by admin commands")
}

func (p *admFakePort) InstallAppForUser(ctx context.Context, userID, teamsAppID string) error {
	return errors.New("not used by admin commands")
}

func (p *admFakePort) Catalogs(ctx context.Context) ([]entitlement.Catalog, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.catalogs), nil
}

func (p *admFakePort) CatalogPackages(ctx context.Context, catalogID string) ([]entitlement.Package, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []entitlement.Package
	for _, pk := range p.packages {
		if pk.CatalogID == catalogID {
			out = append(out, pk)
		}
	}
	return out, nil
}

func (p *admFakePort) Packages(ctx context.Context) ([]entitlement.Package, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failReads != nil {
		return nil, p.failReads
	}
	return slices.Clone(p.packages), nil
}

func (p *admFakePort) ConnectedOrgs(ctx context.Context) ([]entitlement.ConnectedOrg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.orgListings++
	if p.failReads != nil {
		return nil, p.failReads
	}
	return slices.Clone(p.orgs), nil
}

func (p *admFakePort) CreateConnectedOrg(ctx context.Context, in entitlement.NewConnectedOrg) (entitlement.ConnectedOrg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	o := entitlement.ConnectedOrg{ID: fmt.Sprintf("org-%d", p.nextID), Name: in.Name, State: in.State,
		Sources: []entitlement.IdentitySource{{Kind: entitlement.SourceTenant, TenantID: in.TenantID, DisplayName: in.TenantName}}}
	p.orgs = append(p.orgs, o)
	p.sponsors[o.ID] = &entitlement.Sponsors{}
	p.write(fmt.Sprintf("create org %s tenant=%s state=%s", in.Name, in.TenantID, in.State))
	return o, nil
}

func (p *admFakePort) DeleteConnectedOrg(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.orgs, func(o entitlement.ConnectedOrg) bool { return o.ID == id })
	if i < 0 {
		return entitlement.ErrNotFound
	}
	p.orgs = slices.Delete(p.orgs, i, i+1)
	p.write("delete org " + id)
	return nil
}

func (p *admFakePort) Sponsors(ctx context.Context, orgID string) (entitlement.Sponsors, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sponsors[orgID]
	if !ok {
		return entitlement.Sponsors{}, entitlement.ErrNotFound
	}
	return entitlement.Sponsors{Internal: slices.Clone(s.Internal), External: slices.Clone(s.External)}, nil
}

func (p *admFakePort) AddSponsor(ctx context.Context, orgID string, kind entitlement.SponsorKind, userID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sponsors[orgID]
	if kind == entitlement.SponsorInternal {
		s.Internal = append(s.Internal, p.users[userID])
	} else {
		s.External = append(s.External, p.users[userID])
	}
	p.write(fmt.Sprintf("add %s sponsor %s to %s", kind, userID, orgID))
	return nil
}

func (p *admFakePort) RemoveSponsor(ctx context.Context, orgID string, kind entitlement.SponsorKind, userID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sponsors[orgID]
	del := func(us []entitlement.User) []entitlement.User {
		return slices.DeleteFunc(us, func(u entitlement.User) bool { return u.ID == userID })
	}
	if kind == entitlement.SponsorInternal {
		s.Internal = del(s.Internal)
	} else {
		s.External = del(s.External)
	}
	p.write(fmt.Sprintf("remove %s sponsor %s from %s", kind, userID, orgID))
	return nil
}

func (p *admFakePort) AdminAdd(ctx context.Context, in entitlement.AdminAddInput) (entitlement.Request, error) {
	p.mu.Lock()
	block := p.blockAdminAdd
	p.mu.Unlock()
	if block != nil {
		<-block
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	target := in.TargetID
	if target == "" {
		target = in.TargetEmail + " org=" + in.ConnectedOrgID
	}
	p.write(fmt.Sprintf("adminAdd %s policy=%s to %s", in.PackageID, in.PolicyID, target))
	return entitlement.Request{ID: fmt.Sprintf("req-%d", p.nextID), Type: entitlement.RequestAdminAdd, State: entitlement.StateDelivering}, nil
}

func (p *admFakePort) AdminRemove(ctx context.Context, assignmentID, justification string) (entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failAdminRm != nil {
		return entitlement.Request{}, p.failAdminRm
	}
	p.nextID++
	p.write("adminRemove " + assignmentID)
	return entitlement.Request{ID: fmt.Sprintf("req-%d", p.nextID), Type: entitlement.RequestAdminRemove, State: entitlement.StateSubmitted}, nil
}

func (p *admFakePort) Requests(ctx context.Context, f entitlement.RequestFilter) ([]entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []entitlement.Request
	for _, r := range p.listed {
		if (len(f.States) == 0 || slices.Contains(f.States, r.State)) && (f.PackageID == "" || f.PackageID == r.PackageID) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (p *admFakePort) ForUser(tok entitlement.TokenSource) entitlement.Delegated { return nil }
