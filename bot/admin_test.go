package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
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

// --- harness ---------------------------------------------------------------------------------------------

type admPerson struct {
	tenant, id, name string
}

var (
	admAdele  = admPerson{admTenant, admUserID(3), "Adele Vance"}
	admRita   = admPerson{admTenant, admUserID(1), "Rita Requester"}
	admLynne  = admPerson{admTenant, admUserID(6), "Lynne Robbins"}
	admGus    = admPerson{admFabrikam, admFabUser(1), "Gus Guest"}
	admGusInA = admPerson{admFabrikam, admUserID(3), "Adele lookalike"} // Adele's object id, foreign tenant
)

type admEnv struct {
	t    *testing.T
	port *admFakePort
	conn *fakeConnector
	st   *store.Store
	bot  *Bot

	mu  sync.Mutex
	now time.Time
	seq int
}

func newAdmEnv(t *testing.T) *admEnv {
	t.Helper()
	e := &admEnv{t: t, now: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	e.port = newAdmFakePort(e.now)
	e.conn = &fakeConnector{failUpdate: errors.New("update not expected in admin tests"),
		failCreate: errors.New("create conversation not expected in admin tests")}
	st, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{Now: e.clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	b, err := New(Config{
		Connector:    e.conn,
		Store:        st,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:          e.clock,
		BotID:        "28:bot",
		Entitlement:  e.port,
		Tenant:       TenantInfo{ID: admTenant, Name: "Contoso", Domain: "contoso.example"},
		AdminGroupID: admGroup,
	})
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}
	e.bot = b
	return e
}

func (e *admEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *admEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

func (e *admEnv) activity(p admPerson, typ string) *schema.Activity {
	e.mu.Lock()
	e.seq++
	id := fmt.Sprintf("in-%d", e.seq)
	e.mu.Unlock()
	return &schema.Activity{
		Type:         schema.ActivityTypes(typ),
		ID:           id,
		ChannelID:    "msteams",
		ServiceURL:   "https://smba.example/",
		From:         schema.ChannelAccount{ID: "29:" + p.id, Name: p.name, AadObjectID: p.id},
		Recipient:    schema.ChannelAccount{ID: "28:bot", Name: "AccessBot"},
		Conversation: schema.ConversationAccount{ID: "a:" + p.id, ConversationType: "personal", TenantID: p.tenant},
	}
}

// say sends text as p and returns the text of every card or message the bot answered with.
func (e *admEnv) say(p admPerson, text string) string {
	e.t.Helper()
	n := e.conn.count()
	act := e.activity(p, "message")
	act.Text = text
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("%s says %q: %v", p.name, text, err)
	}
	var out []string
	for _, a := range e.conn.since(n) {
		out = append(out, admActivityText(e.t, a.Act))
	}
	if len(out) == 0 {
		e.t.Fatalf("%s says %q: the bot sent nothing", p.name, text)
	}
	return strings.Join(out, "\n")
}

// click sends an Action.Execute as p and returns the text of the card that replaces the clicked one.
func (e *admEnv) click(p admPerson, verb string, data map[string]any) string {
	e.t.Helper()
	act := e.activity(p, "invoke")
	act.Name = "adaptiveCard/action"
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil {
		e.t.Fatalf("%s clicks %s: %v", p.name, verb, err)
	}
	if resp == nil || resp.Body == nil {
		e.t.Fatalf("%s clicks %s: no invoke answer", p.name, verb)
	}
	return admJSONText(e.t, resp.Body)
}

// lastToken returns the confirmation token of the last confirm card the bot sent.
func (e *admEnv) lastToken() string {
	e.t.Helper()
	acts := e.conn.since(0)
	for i := len(acts) - 1; i >= 0; i-- {
		raw, err := json.Marshal(acts[i].Act)
		if err != nil {
			e.t.Fatal(err)
		}
		var tok string
		admWalk(admDecode(e.t, raw), func(m map[string]any) {
			if m["verb"] == cards.VerbAdminConfirm {
				if d, ok := m["data"].(map[string]any); ok {
					tok, _ = d[cards.KeyToken].(string)
				}
			}
		})
		if tok != "" {
			return tok
		}
	}
	e.t.Fatal("no confirm card was sent")
	return ""
}

func (e *admEnv) audit(q store.AuditQuery) []store.AuditEntry {
	e.t.Helper()
	es, err := e.st.Audit(context.Background(), q)
	if err != nil {
		e.t.Fatalf("read audit: %v", err)
	}
	return es
}

func admDecode(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return v
}

func admWalk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, val := range x {
			admWalk(val, fn)
		}
	case []any:
		for _, val := range x {
			admWalk(val, fn)
		}
	}
}

// admJSONText collects the text, title, value and url strings of v (a card or activity) in document order.
func admJSONText(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var b strings.Builder
	var collect func(any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"text", "title", "value", "url"} {
				if s, ok := x[k].(string); ok {
					b.WriteString(s)
					b.WriteByte('\n')
				}
			}
			for k, val := range x {
				if _, isStr := val.(string); !isStr || (k != "text" && k != "title" && k != "value" && k != "url") {
					collect(val)
				}
			}
		case []any:
			for _, val := range x {
				collect(val)
			}
		}
	}
	collect(admDecode(t, raw))
	return b.String()
}

func admActivityText(t *testing.T, a *schema.Activity) string {
	if len(a.Attachments) == 0 {
		return a.Text
	}
	return admJSONText(t, a.Attachments[0].Content)
}

func admWantAll(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

func admWantNone(t *testing.T, what, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%s: unexpected %q in:\n%s", what, w, got)
		}
	}
}

// --- tests -----------------------------------------------------------------------------------------------

// TestAdminCommands runs every admin command's success, argument-error and refusal paths. Read-only and
// confirm-first commands must change nothing; /connect and /sponsors add change exactly what they say.
func TestAdminCommands(t *testing.T) {
	tests := []struct {
		name       string
		who        admPerson
		text       string
		want       []string
		unwanted   []string
		wantWrites []string
		// wantOutcome is a prefix of the audit entry's outcome ("" = not checked); wantAction its action.
		wantAction  string
		wantOutcome string
	}{
		{name: "help", who: admAdele, text: "/help", want: []string{"Admin commands", "/connect {domain or tenant id} [name]", "/audit [user|package]"},
			wantAction: "admin.help", wantOutcome: "viewed"},
		{name: "help with args", who: admAdele, text: "/help me", want: []string{`/help: takes no arguments, got "me"`}, wantOutcome: "rejected"},
		{name: "orgs", who: admAdele, text: "/orgs", want: []string{"Connected organizations", "Fabrikam", "configured", "Entra tenant " + admFabrikam, admOrgFab},
			wantAction: "admin.orgs", wantOutcome: "listed 1"},
		{name: "orgs with args", who: admAdele, text: "/orgs all", want: []string{`/orgs: takes no arguments, got "all"`, "Usage: /orgs"}, wantOutcome: "rejected"},
		{name: "connect by domain", who: admAdele, text: "/connect northwind.example", want: []string{"Connected Northwind", admNorthwind, "configured"},
			wantWrites: []string{"create org Northwind tenant=" + admNorthwind + " state=configured"}, wantAction: "admin.connect", wantOutcome: "connected"},
		{name: "connect by tenant id with name", who: admAdele, text: "/connect " + admNorthwind + " Northwind Traders", want: []string{"Connected Northwind Traders"},
			wantWrites: []string{"create org Northwind Traders tenant=" + admNorthwind + " state=configured"}, wantOutcome: "connected"},
		{name: "connect duplicate", who: admAdele, text: "/connect fabrikam.example", want: []string{"Already connected", `fabrikam.example is already connected as "Fabrikam" (configured)`, "Nothing was changed"},
			wantOutcome: "rejected"},
		{name: "connect duplicate by tenant id", who: admAdele, text: "/connect " + strings.ToUpper(admFabrikam), want: []string{"Already connected"}, wantOutcome: "rejected"},
		{name: "connect unknown domain", who: admAdele, text: "/connect nowhere.example", want: []string{`no Microsoft Entra tenant has the domain "nowhere.example"`}, wantOutcome: "rejected"},
		{name: "connect garbage", who: admAdele, text: "/connect not_a_domain!", want: []string{`"not_a_domain!" is neither a domain name`, "Usage: /connect {domain or tenant id} [name]"}, wantOutcome: "rejected"},
		{name: "connect own tenant", who: admAdele, text: "/connect contoso.example", want: []string{"own tenant"}, wantOutcome: "rejected"},
		{name: "connect no args", who: admAdele, text: "/connect", want: []string{"/connect: give the partner's domain"}, wantOutcome: "rejected"},
		{name: "catalogs", who: admAdele, text: "/catalogs", want: []string{"Catalogs", "Project Falcon", "published", "5", "visible"}, wantOutcome: "listed 1"},
		{name: "packages", who: admAdele, text: "/packages", want: []string{"Falcon Team Member", "Falcon Break-glass", "hidden"}, wantOutcome: "listed 5"},
		{name: "packages of catalog by prefix", who: admAdele, text: "/packages project", want: []string{"Access packages of the catalog Project Falcon", "Falcon Wiki Reader"}, wantOutcome: "listed 5"},
		{name: "packages unknown catalog", who: admAdele, text: "/packages Nope", want: []string{`/packages: no catalog is named "Nope"`}, wantOutcome: "rejected"},
		{name: "package details", who: admAdele, text: "/package Falcon Production", want: []string{
			"Falcon Production Access", "Policy: Production", "All members of the organization", "90 days after assignment",
			"Approvers: Requestor's manager", "Falcon Security Reviewers (group)", "after 4 hours to Patti Fernandez",
			"Approver justification required", "Change ticket (INC + digits) (required)",
			"https://myaccess.microsoft.com/@contoso.example#/access-packages/" + admPkgID(2)}, wantAction: "admin.package", wantOutcome: "viewed"},
		{name: "package partner scope", who: admAdele, text: "/package " + admPkgID(3), want: []string{"Users of Fabrikam", "Internal sponsors or External sponsors", "30 days"}},
		{name: "package hidden by exact name", who: admAdele, text: "/package falcon break-glass", want: []string{"hidden", "8 hours after assignment", "Approvers: Patti Fernandez"}},
		{name: "package resources", who: admAdele, text: "/package Falcon Team Member", want: []string{"Falcon Team (Group) — Member", "180 days after assignment",
			"Fallback: Patti Fernandez", "Denied automatically after 14 days"}},
		{name: "package ambiguous", who: admAdele, text: "/package Falcon", want: []string{`"Falcon" matches 5 packages`, "Falcon Team Member (" + admPkgID(1) + ")"}, wantOutcome: "rejected"},
		{name: "package typo suggests", who: admAdele, text: "/package Falcon Wiki Raeder", want: []string{`no package is named "Falcon Wiki Raeder"`, `Did you mean "Falcon Wiki Reader"?`}},
		{name: "package missing", who: admAdele, text: "/package", want: []string{"/package: give the package's name or id"}, wantOutcome: "rejected"},
		{name: "pending", who: admAdele, text: "/pending", want: []string{"Pending requests", "Megan Bowen", "Falcon Production Access", "Pending approval", "26 hours"}, unwanted: []string{"pendingApproval", "brokered", "Run by AccessBot"}, wantOutcome: "listed 1"},
		{name: "pending for package", who: admAdele, text: "/pending Falcon Wiki", want: []string{"Nothing is waiting for approval."}, wantOutcome: "listed 0"},
		{name: "expiring default", who: admAdele, text: "/expiring", want: []string{"next 14 days", "Rita Requester", "Falcon Team Member", "5 days"}, unwanted: []string{"Megan"}, wantOutcome: "listed 1"},
		{name: "expiring a year", who: admAdele, text: "/expiring 365", want: []string{"Rita Requester", "Megan Bowen"}, wantOutcome: "listed 2"},
		{name: "expiring not a number", who: admAdele, text: "/expiring abc", want: []string{`/expiring: days must be a whole number between 1 and 365, got "abc"`}, wantOutcome: "rejected"},
		{name: "expiring zero", who: admAdele, text: "/expiring 0", want: []string{`got "0"`}, wantOutcome: "rejected"},
		{name: "expiring too many", who: admAdele, text: "/expiring 366", want: []string{`got "366"`}, wantOutcome: "rejected"},
		{name: "expiring fraction", who: admAdele, text: "/expiring 1.5", want: []string{`got "1.5"`}, wantOutcome: "rejected"},
		{name: "expiring two args", who: admAdele, text: "/expiring 1 2", want: []string{"/expiring: expected at most one argument (days), got 2"}, wantOutcome: "rejected"},
		{name: "sponsors list", who: admAdele, text: "/sponsors fab", want: []string{"Sponsors of Fabrikam", "Patti Fernandez", "internal", "Fiona Partner", "external"}, wantOutcome: "listed 2"},
		{name: "sponsors add internal", who: admAdele, text: "/sponsors Fabrikam add megan@contoso.example", want: []string{"Sponsor added", "internal sponsor of Fabrikam"},
			wantWrites: []string{"add internal sponsor " + admUserID(7) + " to " + admOrgFab}, wantOutcome: "added internal sponsor"},
		{name: "sponsors add by tenant id of org, explicit kind", who: admAdele, text: "/sponsors " + admFabrikam + " add external " + admUserID(8), want: []string{"external sponsor of Fabrikam"},
			wantWrites: []string{"add external sponsor " + admUserID(8) + " to " + admOrgFab}},
		{name: "sponsors add existing", who: admAdele, text: "/sponsors Fabrikam add patti@contoso.example", want: []string{"already a sponsor of Fabrikam"}, wantOutcome: "rejected"},
		{name: "sponsors add unknown user", who: admAdele, text: "/sponsors Fabrikam add zed@contoso.example", want: []string{`no user "zed@contoso.example" in the Contoso directory`}, wantOutcome: "rejected"},
		{name: "sponsors bad action", who: admAdele, text: "/sponsors Fabrikam ad rita@contoso.example", want: []string{`/sponsors: expected add or remove after the organization, got "ad"`}, wantOutcome: "rejected"},
		{name: "sponsors remove without user", who: admAdele, text: "/sponsors Fabrikam remove", want: []string{"/sponsors: give the user to remove"}, wantOutcome: "rejected"},
		{name: "sponsors action first", who: admAdele, text: "/sponsors add rita@contoso.example", want: []string{`/sponsors: give the organization before "add"`}, wantOutcome: "rejected"},
		{name: "sponsors remove non-sponsor", who: admAdele, text: "/sponsors Fabrikam remove Nestor", want: []string{`"Nestor" is not a sponsor of Fabrikam`}, wantOutcome: "rejected"},
		{name: "sponsors remove asks", who: admAdele, text: "/sponsors Fabrikam remove Patti", want: []string{"Remove Patti Fernandez as a sponsor of Fabrikam?", "Please confirm", "Remove sponsor", "Cancel"},
			wantAction: "admin.sponsors", wantOutcome: "confirmation requested"},
		{name: "sponsors unknown org", who: admAdele, text: "/sponsors Contoso", want: []string{`no organization is named "Contoso"`}, wantOutcome: "rejected"},
		{name: "disconnect asks", who: admAdele, text: "/disconnect Fabrikam", want: []string{"Disconnect Fabrikam?", "This can't be undone.", "Disconnect"}, wantOutcome: "confirmation requested"},
		{name: "disconnect by domain key", who: admAdele, text: "/disconnect " + admFabrikam, want: []string{"Disconnect Fabrikam?"}, wantOutcome: "confirmation requested"},
		{name: "disconnect unknown", who: admAdele, text: "/disconnect Globex", want: []string{`no organization is named "Globex"`}, wantOutcome: "rejected"},
		{name: "disconnect missing", who: admAdele, text: "/disconnect", want: []string{"/disconnect: give the organization"}, wantOutcome: "rejected"},
		{name: "assign asks and says approval is bypassed", who: admAdele, text: "/assign nestor@contoso.example Falcon Production Access", want: []string{
			"Assign Falcon Production Access to Nestor Wilke?", "bypasses the policy's approval (2 stages)", "Bypassed (direct admin assignment)", "90 days after assignment"},
			wantAction: "admin.assign", wantOutcome: "confirmation requested"},
		{name: "assign no-approval package", who: admAdele, text: `/assign nestor@contoso.example "Falcon Wiki Reader"`, want: []string{"This policy assigns without approval."}, wantOutcome: "confirmation requested"},
		{name: "assign connected-org user by mail", who: admAdele, text: "/assign gus@fabrikam.example Falcon Partner", want: []string{"gus@fabrikam.example (Fabrikam, not yet a guest)", "Fabrikam partners"}, wantOutcome: "confirmation requested"},
		{name: "assign guest through member-only policy", who: admAdele, text: "/assign gus@fabrikam.example Falcon Wiki Reader", want: []string{"no policy of Falcon Wiki Reader covers users of connected organizations"}, wantOutcome: "rejected"},
		{name: "assign unconnected domain", who: admAdele, text: "/assign nina@northwind.example Falcon Partner", want: []string{`"northwind.example" is not the domain of a connected organization`, "/connect northwind.example"}, wantOutcome: "rejected"},
		{name: "assign already holder", who: admAdele, text: "/assign rita@contoso.example Falcon Team Member", want: []string{"Rita Requester (rita@contoso.example) already has Falcon Team Member"}, wantOutcome: "rejected"},
		{name: "assign one arg", who: admAdele, text: "/assign rita@contoso.example", want: []string{"/assign: expected a user and a package, got 1 argument(s)", "Usage: /assign {user} {package}"}, wantOutcome: "rejected"},
		{name: "assign by unknown display name", who: admAdele, text: "/assign Zed Falcon Wiki Reader", want: []string{`no user is named "Zed"`, "chatted with AccessBot"}, wantOutcome: "rejected"},
		{name: "revoke asks", who: admAdele, text: "/revoke rita@contoso.example Falcon Team Member", want: []string{"Revoke Falcon Team Member from Rita Requester?", "asg-rita-1", "This can't be undone."},
			wantAction: "admin.revoke", wantOutcome: "confirmation requested"},
		{name: "revoke by name prefix", who: admAdele, text: "/revoke Rita Falcon Team Member", want: []string{"Revoke Falcon Team Member from Rita Requester?"}, wantOutcome: "confirmation requested"},
		{name: "revoke non-holder (expired assignment ignored)", who: admAdele, text: "/revoke nestor@contoso.example Falcon Team Member", want: []string{`"nestor@contoso.example" holds no active assignment of Falcon Team Member`}, wantOutcome: "rejected"},
		{name: "revoke no args", who: admAdele, text: "/revoke", want: []string{"expected a user and a package, got 0"}, wantOutcome: "rejected"},
		{name: "audit", who: admAdele, text: "/audit", want: []string{"Audit log"}, wantAction: "admin.audit"},
		{name: "audit unknown", who: admAdele, text: "/audit zed@contoso.example", want: []string{`/audit: "zed@contoso.example" is neither a package nor a user`}, wantOutcome: "rejected"},
		{name: "unknown admin command suggests", who: admAdele, text: "/orgz", want: []string{`I don't know "/orgz"`, "/orgs"}},
		{name: "non-admin refused", who: admRita, text: "/revoke rita@contoso.example Falcon Team Member", want: []string{"Not allowed", "/revoke is an admin command", "Nothing was changed"},
			unwanted: []string{"Revoke Falcon Team Member from"}, wantAction: "admin.refused", wantOutcome: "refused: not an admin"},
		{name: "non-admin connect refused", who: admRita, text: "/connect northwind.example", want: []string{"Not allowed"}, wantAction: "admin.refused"},
		{name: "foreign tenant user with an admin's object id refused", who: admGusInA, text: "/orgs", want: []string{"Not allowed"}, wantAction: "admin.refused"},
		{name: "guest refused", who: admGus, text: "/disconnect Fabrikam", want: []string{"Not allowed"}, wantAction: "admin.refused"},
		{name: "non-admin /help gets the everyday help", who: admRita, text: "/help", want: []string{"What I can do"}, unwanted: []string{"Admin commands", "Not allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			got := e.say(tc.who, tc.text)
			admWantAll(t, tc.text, got, tc.want...)
			admWantNone(t, tc.text, got, tc.unwanted...)
			if w := e.port.Writes(); !slices.Equal(w, tc.wantWrites) {
				t.Errorf("%s: writes = %q, want %q", tc.text, w, tc.wantWrites)
			}
			entries := e.audit(store.AuditQuery{})
			if tc.wantAction == "" && tc.wantOutcome == "" {
				return
			}
			if len(entries) != 1 {
				t.Fatalf("%s: %d audit entries, want 1: %+v", tc.text, len(entries), entries)
			}
			en := entries[0]
			if en.Mode != store.ModeAdmin || en.ActorID != tc.who.id || en.ActorTenant != tc.who.tenant {
				t.Errorf("%s: audit entry %+v: want mode admin by %s", tc.text, en, tc.who.id)
			}
			if tc.wantAction != "" && en.Action != tc.wantAction {
				t.Errorf("%s: audit action %q, want %q", tc.text, en.Action, tc.wantAction)
			}
			if !strings.HasPrefix(en.Outcome, tc.wantOutcome) {
				t.Errorf("%s: audit outcome %q, want prefix %q", tc.text, en.Outcome, tc.wantOutcome)
			}
		})
	}
}

// TestAdminConfirmations confirms each destructive command and checks the one change it makes, the answer
// that replaces the card and the audit entry.
func TestAdminConfirmations(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		wantWrite string
		want      []string
		action    string
	}{
		{"disconnect", "/disconnect Fabrikam", "delete org " + admOrgFab, []string{"Disconnected Fabrikam", "can't request new access"}, "admin.disconnect.confirm"},
		{"sponsor remove", "/sponsors Fabrikam remove fiona@fabrikam.example", "remove external sponsor " + admFabUser(2) + " from " + admOrgFab,
			[]string{"Sponsor removed", "Fiona Partner is no longer an external sponsor of Fabrikam"}, "admin.sponsor.remove.confirm"},
		{"assign member", "/assign nestor@contoso.example Falcon Production Access", "adminAdd " + admPkgID(2) + " policy=" + admPolID(2) + " to " + admUserID(8),
			[]string{"Assigned Falcon Production Access", "directly, without approval"}, "admin.assign.confirm"},
		{"assign partner by mail", "/assign gus@fabrikam.example Falcon Partner", "adminAdd " + admPkgID(3) + " policy=" + admPolID(3) + " to gus@fabrikam.example org=" + admOrgFab,
			[]string{"Assigned Falcon Partner Collaboration"}, "admin.assign.confirm"},
		{"revoke", "/revoke rita@contoso.example Falcon Team Member", "adminRemove asg-rita-1", []string{"Revoked Falcon Team Member", "being removed"}, "admin.revoke.confirm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			e.say(admAdele, tc.text)
			if w := e.port.Writes(); len(w) != 0 {
				t.Fatalf("asking changed something: %q", w)
			}
			got := e.click(admAdele, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: e.lastToken()})
			admWantAll(t, "confirm answer", got, tc.want...)
			if w := e.port.Writes(); !slices.Equal(w, []string{tc.wantWrite}) {
				t.Fatalf("writes = %q, want [%q]", w, tc.wantWrite)
			}
			entries := e.audit(store.AuditQuery{})
			if len(entries) != 2 || entries[0].Action != tc.action || entries[0].Outcome != "done" || entries[0].Mode != store.ModeAdmin {
				t.Fatalf("audit = %+v, want newest %s done", entries, tc.action)
			}
		})
	}
}

// TestAdminConfirmMisuse: only the admin who asked may confirm, only once, only before expiry; cancelling
// and failures are recorded; none of the refused clicks changes anything.
func TestAdminConfirmMisuse(t *testing.T) {
	const revoke = "/revoke rita@contoso.example Falcon Team Member"
	type step struct {
		who     admPerson
		verb    string
		advance time.Duration
		// token overrides the confirm card's token when set.
		token   string
		want    string
		outcome string
	}
	tests := []struct {
		name       string
		setup      func(e *admEnv)
		steps      []step
		wantWrites int
	}{
		{name: "confirm twice", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "Revoked Falcon Team Member", outcome: "done"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "This was already done", outcome: "refused: already done"},
			{who: admAdele, verb: cards.VerbAdminCancel, want: "already done", outcome: "refused: already done"},
			// Past its validity the closed confirmation is dropped from the store: later clicks find nothing.
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminConfirmTTL, want: "already done", outcome: "refused: already done"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "I don't know this confirmation", outcome: "refused: unknown token"},
		}, wantWrites: 1},
		{name: "someone else confirms", setup: func(e *admEnv) { e.port.setMember(admLynne.id, true) }, steps: []step{
			{who: admLynne, verb: cards.VerbAdminConfirm, want: "Only Adele Vance, who ran the command, can confirm", outcome: "refused: confirmation belongs to Adele Vance"},
			{who: admRita, verb: cards.VerbAdminConfirm, want: "Only Adele Vance", outcome: "refused: confirmation belongs"},
			{who: admGusInA, verb: cards.VerbAdminConfirm, want: "Only Adele Vance", outcome: "refused: confirmation belongs"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "Revoked", outcome: "done"},
		}, wantWrites: 1},
		{name: "expired", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminConfirmTTL + time.Second, want: "This confirmation expired", outcome: "refused: expired"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "I don't know this confirmation", outcome: "refused: unknown token"},
		}},
		{name: "just before expiry works", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminConfirmTTL - time.Second, want: "Revoked", outcome: "done"},
		}, wantWrites: 1},
		{name: "cancel then confirm", steps: []step{
			{who: admAdele, verb: cards.VerbAdminCancel, want: "Nothing was changed", outcome: "cancelled"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "This was already cancelled", outcome: "refused: already cancelled"},
		}},
		{name: "malformed and unknown tokens", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, token: "../../etc", want: "could not be read", outcome: "refused: malformed token"},
			{who: admAdele, verb: cards.VerbAdminConfirm, token: strings.Repeat("ab", 16), want: "I don't know this confirmation", outcome: "refused: unknown token"},
		}},
		{name: "admin removed from the group before confirming", setup: nil, steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminCacheTTL + time.Second, want: "no longer an AccessBot admin", outcome: "refused: not an admin"},
		}},
		{name: "service failure is reported and recorded", setup: func(e *admEnv) {
			e.port.failAdminRm = &entitlement.ServiceError{Op: "remove assignment", Status: 403, Kind: entitlement.ErrForbidden}
		}, steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "You are not allowed to do this (missing permission or role).", outcome: "failed: " + entitlement.ErrForbidden.Error()},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "This already failed", outcome: "refused: already failed"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			e.say(admAdele, revoke)
			token := e.lastToken()
			if tc.name == "admin removed from the group before confirming" {
				e.port.setMember(admAdele.id, false)
			}
			for i, s := range tc.steps {
				e.advance(s.advance)
				tok := token
				if s.token != "" {
					tok = s.token
				}
				got := e.click(s.who, s.verb, map[string]any{cards.KeyToken: tok})
				admWantAll(t, fmt.Sprintf("step %d (%s by %s)", i, s.verb, s.who.name), got, s.want)
				entries := e.audit(store.AuditQuery{Limit: 1})
				if len(entries) != 1 || !strings.HasPrefix(entries[0].Outcome, s.outcome) || entries[0].ActorID != s.who.id {
					t.Errorf("step %d: audit %+v, want outcome prefix %q by %s", i, entries, s.outcome, s.who.id)
				}
			}
			if w := e.port.Writes(); len(w) != tc.wantWrites {
				t.Errorf("writes = %q, want %d", w, tc.wantWrites)
			}
		})
	}
}

// TestAdminConfirmConcurrentClicks: two simultaneous clicks on Confirm (distinct activities) assign once.
func TestAdminConfirmConcurrentClicks(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admAdele, "/assign nestor@contoso.example Falcon Wiki Reader")
	token := e.lastToken()
	release := make(chan struct{})
	e.port.mu.Lock()
	e.port.blockAdminAdd = release
	e.port.mu.Unlock()

	const clicks = 4
	answers := make(chan string, clicks)
	var wg sync.WaitGroup
	for range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			act := e.activity(admAdele, "invoke")
			act.Name = "adaptiveCard/action"
			act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbAdminConfirm,
				"data": map[string]any{cards.KeyToken: token}}}
			resp, err := e.bot.OnActivity(context.Background(), act)
			if err != nil || resp == nil {
				answers <- fmt.Sprintf("error: %v", err)
				return
			}
			raw, _ := json.Marshal(resp.Body)
			answers <- string(raw)
		}()
	}
	// The first click blocks inside AdminAdd; the others must be answered meanwhile, without a write.
	for range clicks - 1 {
		got := <-answers
		if !strings.Contains(got, "already being carried out") {
			t.Errorf("concurrent click answered %s, want 'already being carried out'", got)
		}
	}
	close(release)
	wg.Wait()
	if got := <-answers; !strings.Contains(got, "Assigned Falcon Wiki Reader") {
		t.Errorf("first click answered %s", got)
	}
	if w := e.port.Writes(); len(w) != 1 {
		t.Fatalf("writes = %q, want exactly one adminAdd", w)
	}
}

// TestCheckAdmin covers the membership cache, failures and configuration.
func TestCheckAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("cached for a few minutes", func(t *testing.T) {
		e := newAdmEnv(t)
		tu := e.bot.newTurn(ctx, e.activity(admAdele, "message"))
		for range 3 {
			e.bot.checkAdmin(ctx, tu)
			if !tu.admin {
				t.Fatal("Adele is not an admin")
			}
		}
		if e.port.memberChecks != 1 {
			t.Fatalf("membership checked %d times, want 1 (cached)", e.port.memberChecks)
		}
		e.port.setMember(admAdele.id, false)
		e.advance(adminCacheTTL)
		e.bot.checkAdmin(ctx, tu)
		if tu.admin || e.port.memberChecks != 2 {
			t.Fatalf("after the TTL: admin=%v checks=%d, want false 2", tu.admin, e.port.memberChecks)
		}
	})
	t.Run("errors are not admin and not cached", func(t *testing.T) {
		e := newAdmEnv(t)
		e.port.failMember = errors.New("graph down")
		tu := e.bot.newTurn(ctx, e.activity(admAdele, "message"))
		e.bot.checkAdmin(ctx, tu)
		if tu.admin {
			t.Fatal("admin despite a failed check")
		}
		e.port.failMember = nil
		e.bot.checkAdmin(ctx, tu)
		if !tu.admin || e.port.memberChecks != 2 {
			t.Fatalf("after recovery: admin=%v checks=%d, want true 2", tu.admin, e.port.memberChecks)
		}
	})
	t.Run("foreign tenant never checked", func(t *testing.T) {
		e := newAdmEnv(t)
		tu := e.bot.newTurn(ctx, e.activity(admGusInA, "message"))
		e.bot.checkAdmin(ctx, tu)
		if tu.admin || e.port.memberChecks != 0 {
			t.Fatalf("foreign user: admin=%v checks=%d", tu.admin, e.port.memberChecks)
		}
	})
	t.Run("no admin group configured", func(t *testing.T) {
		e := newAdmEnv(t)
		e.bot.cfg.AdminGroupID = ""
		tu := e.bot.newTurn(ctx, e.activity(admAdele, "message"))
		e.bot.checkAdmin(ctx, tu)
		if tu.admin || e.port.memberChecks != 0 {
			t.Fatalf("no group: admin=%v checks=%d", tu.admin, e.port.memberChecks)
		}
	})
}

// TestCheckAdminGroupOrRole: an admin is a member of the admin group OR the holder of a configured directory
// role; the group is asked first and a yes from it spares the role check; a failed check is not admin and
// not cached unless the other check said yes.
func TestCheckAdminGroupOrRole(t *testing.T) {
	ctx := context.Background()
	const idGovAdmin = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
	tests := []struct {
		name       string
		group      string   // Config.AdminGroupID
		roles      []string // Config.AdminRoleIDs
		who        admPerson
		holds      []string // directory roles the user holds
		failMember error
		failRole   error
		want       bool
		cached     bool // a second check within the TTL asks Graph nothing
		member     int  // IsMemberOf calls (first check)
		role       int  // HasDirectoryRole calls (first check)
	}{
		{name: "group only: member", group: admGroup, who: admAdele, want: true, cached: true, member: 1},
		{name: "group and roles: member, role check spared", group: admGroup, roles: []string{idGovAdmin}, who: admAdele, want: true, cached: true, member: 1},
		{name: "role only: holder", roles: []string{idGovAdmin}, who: admLynne, holds: []string{idGovAdmin}, want: true, cached: true, role: 1},
		{name: "group and roles: not a member but a holder", group: admGroup, roles: []string{"62e90394-69f5-4237-9190-012177145e10", idGovAdmin},
			who: admLynne, holds: []string{idGovAdmin}, want: true, cached: true, member: 1, role: 1},
		{name: "neither: not a member, holds another role", group: admGroup, roles: []string{idGovAdmin}, who: admRita,
			holds: []string{"f2ef992c-3afb-46b9-b7cf-a126ee74c451"}, want: false, cached: true, member: 1, role: 1},
		{name: "role only: blank ids are ignored, nobody is an admin", roles: []string{" ", ""}, who: admAdele, holds: []string{idGovAdmin}, want: false, cached: true},
		{name: "role check fails: not admin, not cached", group: admGroup, roles: []string{idGovAdmin}, who: admLynne, holds: []string{idGovAdmin},
			failRole: errors.New("graph down"), want: false, member: 1, role: 1},
		{name: "group check fails: not admin, not cached", group: admGroup, who: admAdele,
			failMember: errors.New("graph down"), want: false, member: 1},
		{name: "group check fails but the role says yes", group: admGroup, roles: []string{idGovAdmin}, who: admLynne, holds: []string{idGovAdmin},
			failMember: errors.New("graph down"), want: true, cached: true, member: 1, role: 1},
		{name: "role holder of another tenant never checked", roles: []string{idGovAdmin}, who: admGusInA, holds: []string{idGovAdmin}, want: false, cached: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			e.bot.cfg.AdminGroupID = tc.group
			e.bot.cfg.AdminRoleIDs = tc.roles
			e.port.roles[tc.who.id] = tc.holds
			e.port.failMember, e.port.failRole = tc.failMember, tc.failRole
			tu := e.bot.newTurn(ctx, e.activity(tc.who, "message"))
			e.bot.checkAdmin(ctx, tu)
			if tu.admin != tc.want {
				t.Fatalf("admin = %v, want %v", tu.admin, tc.want)
			}
			if e.port.memberChecks != tc.member || e.port.roleChecks != tc.role {
				t.Fatalf("checks: group %d role %d, want %d %d", e.port.memberChecks, e.port.roleChecks, tc.member, tc.role)
			}
			e.bot.checkAdmin(ctx, tu)
			again := e.port.memberChecks != tc.member || e.port.roleChecks != tc.role
			if tu.admin != tc.want || again == tc.cached {
				t.Fatalf("second check: admin=%v asked Graph again=%v, want admin=%v cached=%v", tu.admin, again, tc.want, tc.cached)
			}
		})
	}
}

func TestPartnerOrgName(t *testing.T) {
	ctx := context.Background()
	e := newAdmEnv(t)
	tests := []struct{ tenant, want string }{
		{admFabrikam, "Fabrikam"},
		{strings.ToUpper(admFabrikam), "Fabrikam"},
		{admNorthwind, ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := e.bot.partnerOrgName(ctx, tc.tenant); got != tc.want {
			t.Errorf("partnerOrgName(%q) = %q, want %q", tc.tenant, got, tc.want)
		}
	}
	if e.port.orgListings != 2 {
		t.Errorf("connected organizations listed %d times, want 2 (Fabrikam and Northwind, then cached)", e.port.orgListings)
	}
	// /connect forgets the cache so the new organization is seen at once.
	e.say(admAdele, "/connect northwind.example")
	if got := e.bot.partnerOrgName(ctx, admNorthwind); got != "Northwind" {
		t.Errorf("after /connect: partnerOrgName = %q, want Northwind", got)
	}
}

// TestAdminAuditFilters: /audit <user> and /audit <package> show only matching entries.
func TestAdminAuditFilters(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	e.say(admAdele, "/package Falcon Wiki Reader")
	if _, err := e.st.AppendAudit(context.Background(), store.AuditEntry{Action: "request.submit", Mode: store.ModeDelegated,
		ActorID: admUserID(1), ActorName: "Rita Requester", SubjectID: admUserID(1), SubjectName: "Rita Requester", Outcome: "submitted"}); err != nil {
		t.Fatal(err)
	}
	got := e.say(admAdele, "/audit rita@contoso.example")
	admWantAll(t, "audit by user", got, "Entries about or by Rita Requester", "\nrevoke\n", "confirmation requested", "\nrequest filed (delegated)\n", "2026-11-26 12:00")
	admWantNone(t, "audit by user", got, "\npackage\n", "request.submit")
	if i, j := strings.Index(got, "request filed"), strings.Index(got, "\nrevoke\n"); i < 0 || j < 0 || i > j {
		t.Errorf("audit by user is not newest first (request filed at %d, revoke at %d)", i, j)
	}
	// Adele's own entries are hers as actor.
	got = e.say(admAdele, "/audit adele@contoso.example")
	admWantAll(t, "audit by actor", got, "Entries about or by Adele Vance", "\nrevoke\n", "\npackage\n", "\naudit\n")
	got = e.say(admAdele, "/audit Falcon Wiki")
	admWantAll(t, "audit by package", got, "Entries about the package Falcon Wiki Reader", "\npackage\n", "viewed")
	admWantNone(t, "audit by package", got, "revoke", "request filed")
}

func TestAdmDurationWords(t *testing.T) {
	tests := []struct{ lang, in, want string }{
		{"en", "P180D", "180 days"}, {"en", "PT8H", "8 hours"}, {"en", "P4W2D", "4 weeks 2 days"},
		{"en", "P1DT12H", "1 day 12 hours"}, {"en", "PT30M", "30 minutes"}, {"en", "P1Y2M", "1 year 2 months"},
		{"en", "P0D", "0 days"}, {"en", "P", "P"}, {"en", "", ""}, {"en", "5 days", "5 days"}, {"en", "P5H", "P5H"},
		{"en", "PT5D", "PT5D"}, {"en", "P1", "P1"}, {"en", "PTH", "PTH"}, {"en", "PT1S", "1 second"},
		{"de", "P180D", "180 Tage"}, {"de", "P1DT1H", "1 Tag 1 Stunde"}, {"de", "P1Y2M", "1 Jahr 2 Monate"},
		{"de", "P3W", "3 Wochen"}, {"de", "P0D", "0 Tage"},
		{"fr", "P180D", "180 jours"}, {"fr", "P1W1D", "1 semaine 1 jour"}, {"fr", "P2Y", "2 ans"},
		{"fr", "PT90M", "90 minutes"}, {"fr", "P0D", "0 jour"},
	}
	for _, tc := range tests {
		if got := admDurationWords(i18n.For(tc.lang), tc.in); got != tc.want {
			t.Errorf("admDurationWords(%s, %q) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
}

func TestAdmResolve(t *testing.T) {
	cs := []admCandidate{{id: "1", name: "Falcon Team"}, {id: "2", name: "Falcon Team Member"}, {id: "3", name: "Wiki", keys: []string{"wiki.example"}}}
	tests := []struct {
		arg     string
		want    int
		wantErr string
	}{
		{"2", 1, ""},
		{"falcon team", 0, ""},      // exact wins over prefix
		{"Falcon Team M", 1, ""},    // unique prefix
		{"WIKI.example", 2, ""},     // other key
		{"Falcon", -1, "matches 2"}, // ambiguous prefix
		{"Wikki", -1, `Did you mean "Wiki"?`},
		{"", -1, "give the package"},
	}
	for _, tc := range tests {
		got, err := admResolve("x", "package", tc.arg, cs)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("admResolve(%q) error = %v, want %q", tc.arg, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("admResolve(%q) = %d, %v; want %d", tc.arg, got, err, tc.want)
		}
	}
}

// TestAdminFailures: a Graph failure is answered with the service-independent message and audited as failed;
// a change whose answer could not be sent is audited as done and the turn fails (Teams redelivers it).
func TestAdminFailures(t *testing.T) {
	t.Run("graph read fails", func(t *testing.T) {
		e := newAdmEnv(t)
		e.port.failReads = &entitlement.ServiceError{Op: "list access packages", Status: 503, Code: "ServiceUnavailable", Kind: entitlement.ErrUnavailable}
		got := e.say(admAdele, "/packages")
		admWantAll(t, "/packages", got, "/packages failed", entitlement.ErrUnavailable.Error())
		admWantNone(t, "/packages", got, "ServiceUnavailable", "503")
		es := e.audit(store.AuditQuery{})
		if len(es) != 1 || es[0].Outcome != "failed: "+entitlement.ErrUnavailable.Error() {
			t.Fatalf("audit = %+v", es)
		}
	})
	t.Run("answer not delivered after a change", func(t *testing.T) {
		e := newAdmEnv(t)
		e.conn.failSend = errors.New("connector down")
		act := e.activity(admAdele, "message")
		act.Text = "/connect northwind.example"
		if _, err := e.bot.OnActivity(context.Background(), act); err == nil {
			t.Fatal("the turn succeeded although the answer could not be sent")
		}
		if w := e.port.Writes(); len(w) != 1 {
			t.Fatalf("writes = %q, want the one create", w)
		}
		es := e.audit(store.AuditQuery{})
		if len(es) != 1 || es[0].Outcome != "connected; answer not delivered" {
			t.Fatalf("audit = %+v", es)
		}
	})
}

// TestAdminConfirmBySubmit: a client that sends the confirm button as Action.Submit (a message with a value)
// gets the outcome as a new card.
func TestAdminConfirmBySubmit(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	n := e.conn.count()
	act := e.activity(admAdele, "message")
	act.Value = map[string]any{cards.KeyVerb: cards.VerbAdminConfirm, cards.KeyToken: e.lastToken()}
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	sent := e.conn.since(n)
	if len(sent) != 1 {
		t.Fatalf("sent %d activities, want 1", len(sent))
	}
	admWantAll(t, "submit confirm", admActivityText(t, sent[0].Act), "Revoked Falcon Team Member")
	if w := e.port.Writes(); !slices.Equal(w, []string{"adminRemove asg-rita-1"}) {
		t.Fatalf("writes = %q", w)
	}
}

func TestAdmPolicyWords(t *testing.T) {
	end := time.Date(2027, 1, 31, 17, 0, 0, 0, time.UTC)
	expiry := []struct {
		lang string
		in   entitlement.Expiration
		want string
	}{
		{"en", entitlement.Expiration{Type: entitlement.ExpireNever}, "No expiry"},
		{"en", entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: end}, "On 2027-01-31 17:00 UTC"},
		{"en", entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "PT8H"}, "8 hours after assignment"},
		{"en", entitlement.Expiration{Type: entitlement.ExpireNotSpecified, Duration: "P30D"}, "30 days after assignment"},
		{"en", entitlement.Expiration{}, "Not specified"},
		{"de", entitlement.Expiration{Type: entitlement.ExpireNever}, "Kein Ablauf"},
		{"de", entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P1D"}, "1 Tag nach der Zuweisung"},
		{"de", entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: end}, "Am 2027-01-31 17:00 UTC"},
		{"fr", entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}, "30 jours après l'attribution"},
		{"fr", entitlement.Expiration{}, "Non précisé"},
	}
	for _, tc := range expiry {
		if got := admExpiryWords(i18n.For(tc.lang), tc.in); got != tc.want {
			t.Errorf("admExpiryWords(%s, %+v) = %q, want %q", tc.lang, tc.in, got, tc.want)
		}
	}
	orgName := func(id string) string { return map[string]string{admOrgFab: "Fabrikam"}[id] }
	fab := []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: admOrgFab}}
	scope := []struct {
		lang string
		p    entitlement.Policy
		want string
	}{
		{"en", entitlement.Policy{Scope: entitlement.ScopeAllMemberUsers}, "All members of the organization"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeAllConfiguredConnectedOrganizationUsers}, "Users of all configured connected organizations"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeSpecificConnectedOrganizationUsers, SpecificTargets: fab}, "Users of Fabrikam"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeSpecificConnectedOrganizationUsers}, "Users of specific connected organizations"},
		{"en", entitlement.Policy{Scope: entitlement.ScopeAllExternalUsers}, "All external users"},
		{"en", entitlement.Policy{}, "Nobody (admin assignments only)"},
		{"en", entitlement.Policy{Scope: "somethingNew"}, "somethingNew"},
		{"de", entitlement.Policy{Scope: entitlement.ScopeAllMemberUsers}, "Alle Mitglieder der Organisation"},
		{"de", entitlement.Policy{Scope: entitlement.ScopeSpecificConnectedOrganizationUsers, SpecificTargets: fab}, "Benutzer von Fabrikam"},
		{"fr", entitlement.Policy{}, "Personne (attributions par les administrateurs uniquement)"},
		{"fr", entitlement.Policy{Scope: entitlement.ScopeAllExternalUsers}, "Tous les utilisateurs externes"},
	}
	for _, tc := range scope {
		if got := admScopeWords(i18n.For(tc.lang), tc.p, orgName); got != tc.want {
			t.Errorf("admScopeWords(%s, %q) = %q, want %q", tc.lang, tc.p.Scope, got, tc.want)
		}
	}
	covers := []struct {
		scope    entitlement.TargetScope
		external bool
		want     bool
	}{
		{entitlement.ScopeAllMemberUsers, false, true},
		{entitlement.ScopeAllMemberUsers, true, false},
		{entitlement.ScopeSpecificConnectedOrganizationUsers, true, true},
		{entitlement.ScopeSpecificConnectedOrganizationUsers, false, false},
		{entitlement.ScopeAllDirectoryUsers, true, true},
	}
	for _, tc := range covers {
		if got := admPolicyCovers(entitlement.Policy{Scope: tc.scope}, tc.external); got != tc.want {
			t.Errorf("admPolicyCovers(%s, external=%v) = %v, want %v", tc.scope, tc.external, got, tc.want)
		}
	}
}

// TestAdminPendingIncludesBrokered: /pending lists the partner requests whose approval the bot runs itself
// next to Entra's, and leaves out decided or cancelled ones.
// TestAdminConnectDomainDuplicate: an organization connected by a domain identity source (or proposed) is a
// duplicate too, and the answer says what a proposed organization means.
func TestAdminConnectDomainDuplicate(t *testing.T) {
	e := newAdmEnv(t)
	e.port.orgs = append(e.port.orgs, entitlement.ConnectedOrg{ID: "org-nw", Name: "Northwind (domain)", State: entitlement.OrgProposed,
		Sources: []entitlement.IdentitySource{{Kind: entitlement.SourceDomain, DomainName: "northwind.example"}}})
	got := e.say(admAdele, "/connect northwind.example")
	admWantAll(t, "/connect", got, `already connected as "Northwind (domain)" (proposed)`, "can't request until it is configured")
	if w := e.port.Writes(); len(w) != 0 {
		t.Fatalf("writes = %q", w)
	}
}

func TestAdminPendingIncludesBrokered(t *testing.T) {
	e := newAdmEnv(t)
	ctx := context.Background()
	put := func(br brokeredRequest) {
		t.Helper()
		if err := e.bot.core.SaveBrokered(ctx, &br); err != nil {
			t.Fatal(err)
		}
	}
	gus := brokeredRequester{TenantID: admFabrikam, ID: admFabUser(1), Name: "Gus Guest", Email: "gus@fabrikam.example", OrgID: admOrgFab}
	put(brokeredRequest{ID: brokeredPrefix + "1", PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration", Requester: gus,
		StageCount: 1, Stages: []brokeredStage{{Index: 1}}, State: entitlement.StatePendingApproval, CreatedAt: e.clock().Add(-3 * time.Hour)})
	put(brokeredRequest{ID: brokeredPrefix + "2", PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration",
		Requester: brokeredRequester{Name: "Frank Miller", Email: "frank@fabrikam.example"}, State: entitlement.StateDenied})
	put(brokeredRequest{ID: brokeredPrefix + "3", PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration",
		Requester: brokeredRequester{Name: "Fiona Partner", Email: "fiona@fabrikam.example"}, State: entitlement.StatePendingApproval, Canceled: true})

	got := e.say(admAdele, "/pending")
	admWantAll(t, "/pending", got, "Megan Bowen", "Gus Guest (gus@fabrikam.example)", "Pending approval, stage 1 of 1 (run by AccessBot)", "\"Run by AccessBot\" marks partner requests", "3 hours")
	admWantNone(t, "/pending", got, "Frank Miller", "Fiona Partner")
	got = e.say(admAdele, "/pending Falcon Production")
	admWantNone(t, "/pending {other package}", got, "Gus Guest")
	if es := e.audit(store.AuditQuery{Limit: 2}); len(es) != 2 || es[1].Outcome != "listed 2" {
		t.Fatalf("audit = %+v, want the first /pending to list 2", es)
	}
}

// TestAdminConfirmInterrupted: a confirmation left "running" (the bot stopped mid-change) refuses further
// clicks, and once past its validity says the change was interrupted and is dropped.
func TestAdminConfirmInterrupted(t *testing.T) {
	e := newAdmEnv(t)
	ctx := context.Background()
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	token := e.lastToken()
	var op adminPendingOp
	if err := e.st.Dialog(ctx, adminDialogKey(token), &op); err != nil {
		t.Fatal(err)
	}
	op.State = pendingRunning
	if err := e.st.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{cards.KeyToken: token}
	admWantAll(t, "while running", e.click(admAdele, cards.VerbAdminConfirm, data), "already being carried out")
	e.advance(adminConfirmTTL)
	admWantAll(t, "after expiry", e.click(admAdele, cards.VerbAdminConfirm, data), "interrupted", "/audit")
	admWantAll(t, "dropped", e.click(admAdele, cards.VerbAdminConfirm, data), "I don't know this confirmation")
	if w := e.port.Writes(); len(w) != 0 {
		t.Fatalf("writes = %q", w)
	}
}

// TestAdmResolveSuggestionsJoined: the names "did you mean" offers are joined as the admin's language writes
// alternatives, like every other list of names.
func TestAdmResolveSuggestionsJoined(t *testing.T) {
	cs := []admCandidate{{id: "1", name: "Falcon Team"}, {id: "2", name: "Falcon Teams"}}
	_, err := admResolve("x", "package", "Falcn Team", cs)
	var ae *adminError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want an adminError", err)
	}
	for lang, want := range map[string]string{"en": `Did you mean "Falcon Team" or "Falcon Teams"?`,
		"de": `Meinten Sie "Falcon Team" oder "Falcon Teams"?`, "fr": `Vouliez-vous dire "Falcon Team" ou "Falcon Teams" ?`} {
		if got := ae.localized(i18n.For(lang)).details; !slices.Contains(got, want) {
			t.Errorf("%s: details = %q, want %q", lang, got, want)
		}
	}
}
