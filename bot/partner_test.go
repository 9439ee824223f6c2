package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

// Fakes for the partner flow tests: an entitlement port with the seed's partner shape (Fabrikam connected,
// a proposed Litware org, Northwind unknown), a connector that records and answers member lookups.

const (
	ptContoso   = "11111111-1111-1111-1111-111111111111"
	ptFabrikam  = "22222222-2222-2222-2222-222222222222"
	ptNorthwind = "33333333-3333-3333-3333-333333333333"
	ptLitware   = "44444444-4444-4444-4444-444444444444"
	ptOrgFab    = "99999999-0000-0000-0000-000000000001"
	ptOrgLit    = "99999999-0000-0000-0000-000000000002"
	ptRita      = "aaaaaaaa-0000-0000-0000-000000000001"
	ptPatti     = "aaaaaaaa-0000-0000-0000-000000000005"
	ptGus       = "bbbbbbbb-0000-0000-0000-000000000001"
	ptFiona     = "bbbbbbbb-0000-0000-0000-000000000002"
	ptNina      = "cccccccc-0000-0000-0000-000000000001"
	ptPkgTeam   = "eeeeeeee-0000-0000-0000-000000000001"
	ptPkgPart   = "eeeeeeee-0000-0000-0000-000000000003"
	ptPkgExt    = "eeeeeeee-0000-0000-0000-000000000006"
	ptPkgHidden = "eeeeeeee-0000-0000-0000-000000000005"
	ptPolTeam   = "ffffffff-0000-0000-0000-000000000001"
	ptPolPart   = "ffffffff-0000-0000-0000-000000000003"
	ptPolExt    = "ffffffff-0000-0000-0000-000000000006"
	ptPolHidden = "ffffffff-0000-0000-0000-000000000005"
	ptPkgTwo    = "eeeeeeee-0000-0000-0000-000000000007"
	ptPolTwo    = "ffffffff-0000-0000-0000-000000000007"
	ptGuestID   = "gggggggg-0000-0000-0000-000000000001"
)

// ptPort is fakeDirectory with the partner flows' connected organizations, sponsors, policies, adminAdd and
// invitations.
type ptPort struct {
	fakeDirectory
	packagePolicies

	orgListings int
	orgErr      error
	sponsors    entitlement.Sponsors
	// sponsorsErr, when set, is what Sponsors answers (Graph down).
	sponsorsErr error
	adds        []entitlement.AdminAddInput
	addErr      error
	// addFailures makes the next AdminAdd calls fail with addErr; lost makes them create the request anyway
	// (an answer lost in transit).
	addFailures int
	lost        bool
	invites     []entitlement.NewInvitation
}

func newPtPort(now func() time.Time) *ptPort {
	p := &ptPort{fakeDirectory: newFakeDirectory(now), packagePolicies: packagePolicies{}}
	p.orgs = []entitlement.ConnectedOrg{
		{ID: ptOrgFab, Name: "Fabrikam", State: entitlement.OrgConfigured,
			Sources: []entitlement.IdentitySource{{Kind: entitlement.SourceTenant, TenantID: ptFabrikam, DisplayName: "Fabrikam"}}},
		{ID: ptOrgLit, Name: "Litware", State: entitlement.OrgProposed,
			Sources: []entitlement.IdentitySource{{Kind: entitlement.SourceTenant, TenantID: ptLitware, DisplayName: "Litware"}}},
	}
	p.users[ptRita] = entitlement.User{ID: ptRita, Name: "Rita Requester", UserType: "Member", TenantID: ptContoso}
	p.users[ptPatti] = entitlement.User{ID: ptPatti, Name: "Patti Fernandez", UserType: "Member", TenantID: ptContoso}
	// Fiona is read through the resource tenant's Graph (so TenantID says Contoso) but is a Fabrikam member.
	p.users[ptFiona] = entitlement.User{ID: ptFiona, Name: "Fiona Partner", UserType: "Member", TenantID: ptContoso}
	p.sponsors = entitlement.Sponsors{Internal: []entitlement.User{p.users[ptPatti]}, External: []entitlement.User{p.users[ptFiona]}}
	team := entitlement.ResourceRole{ResourceName: "Falcon Team", OriginSystem: "AadGroup", ResourceType: "Team", RoleName: "Member"}
	p.packages = []entitlement.Package{
		{ID: ptPkgTeam, Name: "Falcon Team Member", CatalogName: "Project Falcon", Resources: []entitlement.ResourceRole{team}},
		{ID: ptPkgPart, Name: "Falcon Partner Collaboration", Description: "For Fabrikam partners", CatalogName: "Project Falcon",
			Resources: []entitlement.ResourceRole{team}},
		{ID: ptPkgHidden, Name: "Falcon Break-glass", CatalogName: "Project Falcon", IsHidden: true},
		{ID: ptPkgExt, Name: "Falcon Wiki for guests", CatalogName: "Project Falcon"},
	}
	sponsors := entitlement.Stage{DurationBeforeAutomaticDenial: "P14D",
		PrimaryApprovers:         []entitlement.SubjectSet{{Kind: entitlement.SetInternalSponsors}, {Kind: entitlement.SetExternalSponsors}},
		FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: ptPatti}}}
	p.packagePolicies[ptPkgTeam] = []entitlement.Policy{{ID: ptPolTeam, PackageID: ptPkgTeam, Scope: entitlement.ScopeAllMemberUsers, SelfAddAllowed: true,
		ApprovalRequired: true, Stages: []entitlement.Stage{{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}}}}}}
	p.packagePolicies[ptPkgPart] = []entitlement.Policy{{ID: ptPolPart, PackageID: ptPkgPart, Name: "Fabrikam partners", SelfAddAllowed: true,
		Scope:            entitlement.ScopeSpecificConnectedOrganizationUsers,
		SpecificTargets:  []entitlement.SubjectSet{{Kind: entitlement.SetConnectedOrganizationMembers, ConnectedOrgID: ptOrgFab}},
		Expiration:       entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"},
		ApprovalRequired: true, Stages: []entitlement.Stage{sponsors}}}
	p.packagePolicies[ptPkgHidden] = []entitlement.Policy{{ID: ptPolHidden, PackageID: ptPkgHidden, SelfAddAllowed: true, Scope: entitlement.ScopeAllExternalUsers}}
	// Any external user, a manager stage (not applicable: the fallback decides), approver justification and a question.
	p.packagePolicies[ptPkgExt] = []entitlement.Policy{{ID: ptPolExt, PackageID: ptPkgExt, SelfAddAllowed: true, Scope: entitlement.ScopeAllExternalUsers,
		RequestorJustificationRequired: true, ApprovalRequired: true,
		Questions: []entitlement.Question{{ID: "q1", Text: "Project code", Required: true, Regex: `^FAL-\d+$`}},
		Stages: []entitlement.Stage{{ApproverJustificationRequired: true, DurationBeforeAutomaticDenial: "P7D",
			EscalationEnabled: true, DurationBeforeEscalation: "PT4H",
			EscalationApprovers:      []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: ptRita}},
			PrimaryApprovers:         []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: ptPatti}}}}}}
	// Two stages: the org's sponsors, then a named approver (Rita).
	p.packages = append(p.packages, entitlement.Package{ID: ptPkgTwo, Name: "Falcon Partner Admin", CatalogName: "Project Falcon"})
	p.packagePolicies[ptPkgTwo] = []entitlement.Policy{{ID: ptPolTwo, PackageID: ptPkgTwo, SelfAddAllowed: true,
		Scope: entitlement.ScopeAllConfiguredConnectedOrganizationUsers, ApprovalRequired: true,
		Stages: []entitlement.Stage{
			{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetInternalSponsors}}},
			{ApproverJustificationRequired: true, PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: ptRita}}},
		}}}
	return p
}

func (p *ptPort) ConnectedOrgs(ctx context.Context) ([]entitlement.ConnectedOrg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.orgListings++
	if p.orgErr != nil {
		return nil, p.orgErr
	}
	return append([]entitlement.ConnectedOrg(nil), p.orgs...), nil
}

func (p *ptPort) Sponsors(ctx context.Context, orgID string) (entitlement.Sponsors, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sponsorsErr != nil {
		return entitlement.Sponsors{}, p.sponsorsErr
	}
	if orgID != ptOrgFab {
		return entitlement.Sponsors{}, nil
	}
	return p.sponsors, nil
}

func (p *ptPort) Packages(ctx context.Context) ([]entitlement.Package, error) {
	return append([]entitlement.Package(nil), p.packages...), nil
}

// AdminAdd files a delivering request; deliver completes it and creates the guest (PendingAcceptance).
func (p *ptPort) AdminAdd(ctx context.Context, in entitlement.AdminAddInput) (entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.addErr != nil && p.addFailures != 0 && !p.lost {
		p.addFailures--
		return entitlement.Request{}, p.addErr
	}
	p.adds = append(p.adds, in)
	n := len(p.adds)
	r := &entitlement.Request{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", n), Type: entitlement.RequestAdminAdd,
		State: entitlement.StateDelivering, PackageID: in.PackageID, PolicyID: in.PolicyID, CreatedAt: p.now(),
		Requestor:    entitlement.Subject{Email: in.TargetEmail, ConnectedOrgID: in.ConnectedOrgID},
		AssignmentID: fmt.Sprintf("a0000000-0000-0000-0000-%012d", n)}
	p.requests[r.ID] = r
	if p.addErr != nil && p.addFailures != 0 {
		p.addFailures--
		return entitlement.Request{}, p.addErr
	}
	return *r, nil
}

func (p *ptPort) Requests(ctx context.Context, f entitlement.RequestFilter) ([]entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []entitlement.Request
	for _, r := range p.requests {
		if f.PackageID == "" || r.PackageID == f.PackageID {
			out = append(out, *r)
		}
	}
	return out, nil
}

func (p *ptPort) deliver(t *testing.T, email string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.requests {
		if r.State != entitlement.StateDelivering {
			continue
		}
		r.State = entitlement.StateDelivered
		start := p.now()
		p.users[ptGuestID] = entitlement.User{ID: ptGuestID, Name: "Gus Guest", Mail: email, UserType: "Guest",
			ExternalUserState: "PendingAcceptance", TenantID: ptContoso}
		p.assignments = append(p.assignments, entitlement.Assignment{ID: r.AssignmentID, State: entitlement.AssignmentDelivered,
			PackageID: r.PackageID, PolicyID: r.PolicyID, Target: entitlement.Subject{ID: ptGuestID, Email: email},
			Schedule: entitlement.Schedule{Start: start, Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDateTime,
				EndDateTime: start.Add(30 * 24 * time.Hour)}}})
		return
	}
	t.Fatal("no delivering request to deliver")
}

func (p *ptPort) accept() {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[ptGuestID]
	u.ExternalUserState = "Accepted"
	p.users[ptGuestID] = u
}

func (p *ptPort) Invite(ctx context.Context, in entitlement.NewInvitation) (entitlement.Invitation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.invites = append(p.invites, in)
	return entitlement.Invitation{ID: "inv-1", RedeemURL: "https://sim.example/_sim/redeem/inv-1", Status: "PendingAcceptance",
		InvitedUserID: ptGuestID, Email: in.Email}, nil
}

func (p *ptPort) addCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.adds)
}

type ptEnv struct {
	t     *testing.T
	bot   *Bot
	port  *ptPort
	conn  *fakeConnector
	store *store.Store
	clock *flClock
	seq   int
}

type ptUser struct{ tenant, id, name, teamsID string }

var (
	ptUGus   = ptUser{ptFabrikam, ptGus, "Gus Guest", "29:gus"}
	ptUFiona = ptUser{ptFabrikam, ptFiona, "Fiona Partner", "29:fiona"}
	ptUPatti = ptUser{ptContoso, ptPatti, "Patti Fernandez", "29:patti"}
	ptURita  = ptUser{ptContoso, ptRita, "Rita Requester", "29:rita"}
	ptUNina  = ptUser{ptNorthwind, ptNina, "Nina North", "29:nina"}
	ptULit   = ptUser{ptLitware, "dddddddd-1111-0000-0000-000000000001", "Lou Litware", "29:lou"}
)

func newPtEnv(t *testing.T, brokered bool) *ptEnv {
	t.Helper()
	// The outbox schedules on wall-clock time, so the fake clock starts now and only moves forward.
	clock := &flClock{now: time.Now().UTC().Truncate(time.Second).Add(time.Second)}
	st, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &ptEnv{t: t, port: newPtPort(clock.Now), store: st, clock: clock,
		conn: &fakeConnector{members: map[string]botframework.Member{
			"29:gus":  {ID: "29:gus", Name: "Gus Guest", AadObjectID: ptGus, Email: "gus@fabrikam.example"},
			"29:lou":  {ID: "29:lou", Name: "Lou", UserPrincipalName: "lou@litware.example"},
			"29:nina": {ID: "29:nina", Name: "Nina", Email: "nina@northwind.example"},
		}}}
	e.bot, err = New(Config{Connector: e.conn, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now,
		BotID: "28:bot", Entitlement: e.port, Tenant: TenantInfo{ID: ptContoso, Name: "Contoso", Domain: "contoso.example"},
		Brokered: brokered, PollInterval: time.Second, PollMax: time.Minute, ReminderAfter: 24 * time.Hour})
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}
	return e
}

func (e *ptEnv) activity(u ptUser, typ string) *schema.Activity {
	e.seq++
	return &schema.Activity{Type: schema.ActivityTypes(typ), ID: fmt.Sprintf("in-%d", e.seq), ChannelID: "msteams",
		ServiceURL: "https://smba.example/emea/", From: schema.ChannelAccount{ID: u.teamsID, Name: u.name, AadObjectID: u.id},
		Recipient: schema.ChannelAccount{ID: "28:bot", Name: "AccessBot"}, Conversation: schema.ConversationAccount{
			ID: "chat-" + u.id, ConversationType: "personal", TenantID: u.tenant}}
}

func (e *ptEnv) turn(u ptUser) *turn {
	return e.bot.newTurn(context.Background(), e.activity(u, "message"))
}

// hello makes the user open the chat (the bot stores their conversation reference).
func (e *ptEnv) hello(u ptUser) {
	e.t.Helper()
	act := e.activity(u, "message")
	act.Text = "hi"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("hello from %s: %v", u.name, err)
	}
}

// say sends text as u and returns the text of everything the bot sent meanwhile.
func (e *ptEnv) say(u ptUser, text string) string {
	e.t.Helper()
	n := e.conn.count()
	act := e.activity(u, "message")
	act.Text = text
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("%s says %q: %v", u.name, text, err)
	}
	var got string
	for _, s := range e.conn.since(n) {
		got += s.text()
	}
	return got
}

// click sends an Action.Execute as u on the card replyTo.
func (e *ptEnv) click(u ptUser, replyTo, verb string, data map[string]any) string {
	e.t.Helper()
	act := e.activity(u, "invoke")
	act.Name = "adaptiveCard/action"
	act.ReplyToID = replyTo
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil {
		e.t.Fatalf("%s clicks %s: %v", u.name, verb, err)
	}
	return respCard(e.t, resp)
}

// drain delivers every outbox item due now (advancing the clock by step first, so backoffs come due). A
// brokered follow-up runs at most once per drain: it re-enqueues itself, and on the fake clock it would be due
// again at once; the copy is left leased until the clock moves.
func (e *ptEnv) drain(step time.Duration) {
	e.t.Helper()
	e.clock.Advance(step)
	ctx := context.Background()
	followed := map[string]bool{}
	for range 100 {
		items, err := e.store.Lease(ctx, 50, time.Nanosecond)
		if err != nil {
			e.t.Fatalf("lease outbox: %v", err)
		}
		if len(items) == 0 {
			return
		}
		for _, it := range items {
			if it.Kind == OutboxBrokeredFollow {
				var job lifecycle.BrokeredFollowJob
				if err := json.Unmarshal(it.Payload, &job); err != nil {
					e.t.Fatalf("decode follow-up: %v", err)
				}
				if followed[job.RequestID] {
					continue
				}
				if br, err := e.bot.core.GetBrokered(ctx, job.RequestID); err == nil && br.FollowGen == job.Gen {
					followed[job.RequestID] = true // the live job (stale ones are dropped by the handler)
				}
			}
			if err := e.bot.HandleOutbox(ctx, it); err != nil {
				e.t.Fatalf("outbox item %s: %v", it.Kind, err)
			}
			if err := e.store.Complete(ctx, it.ID); err != nil {
				e.t.Fatalf("complete outbox item: %v", err)
			}
		}
	}
	e.t.Fatal("outbox never drained")
}

func (e *ptEnv) audit(requestID string) []store.AuditEntry {
	e.t.Helper()
	all, err := e.store.Audit(context.Background(), store.AuditQuery{Limit: 200})
	if err != nil {
		e.t.Fatalf("read audit: %v", err)
	}
	var out []store.AuditEntry
	for _, a := range all {
		if a.RequestID == requestID {
			out = append(out, a)
		}
	}
	return out
}

func cardJSON(t *testing.T, c *cards.Card) string {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("encode card: %v", err)
	}
	return string(raw)
}

// ---- request mode ----

func TestRequestMode(t *testing.T) {
	tests := []struct {
		name       string
		user       ptUser
		brokered   bool
		orgErr     error
		wantMode   cards.Mode
		wantAllow  bool
		wantOrg    string
		wantEmail  string
		wantReason string
		wantErr    bool
	}{
		{name: "resource tenant member is delegated", user: ptURita, brokered: true, wantMode: cards.ModeDelegated, wantAllow: true},
		{name: "configured org is brokered with the Teams address", user: ptUGus, brokered: true, wantMode: cards.ModeBrokered,
			wantAllow: true, wantOrg: ptOrgFab, wantEmail: "gus@fabrikam.example"},
		{name: "configured org links out when brokered is off", user: ptUGus, brokered: false, wantMode: cards.ModeLinkOut,
			wantAllow: true, wantOrg: ptOrgFab, wantReason: "My Access"},
		{name: "proposed org is explained", user: ptULit, brokered: true, wantMode: cards.ModeLinkOut, wantAllow: false,
			wantOrg: ptOrgLit, wantReason: "Litware is known to Contoso but not yet approved"},
		{name: "unknown tenant is explained", user: ptUNina, brokered: true, wantMode: cards.ModeLinkOut, wantAllow: false,
			wantReason: "not connected to Contoso"},
		{name: "org listing failure is an error", user: ptUGus, brokered: true, orgErr: entitlement.ErrUnavailable, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, tc.brokered)
			e.port.orgErr = tc.orgErr
			md, err := e.bot.requestMode(context.Background(), e.turn(tc.user))
			if tc.wantErr {
				if !errors.Is(err, entitlement.ErrUnavailable) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("requestMode: %v", err)
			}
			if md.Mode != tc.wantMode || md.Allowed != tc.wantAllow || md.OrgID != tc.wantOrg || md.Email != tc.wantEmail {
				t.Errorf("got %+v, want mode %s allowed %v org %q email %q", md, tc.wantMode, tc.wantAllow, tc.wantOrg, tc.wantEmail)
			}
			if !strings.Contains(md.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", md.Reason, tc.wantReason)
			}
			if !tc.wantAllow && md.Reason == "" {
				t.Error("a refusal without a reason")
			}
		})
	}
}

func TestRequestModeCachesOrgsAndAddresses(t *testing.T) {
	e := newPtEnv(t, true)
	for range 3 {
		if md, err := e.bot.requestMode(context.Background(), e.turn(ptUGus)); err != nil || md.Mode != cards.ModeBrokered {
			t.Fatalf("requestMode = %+v, %v", md, err)
		}
	}
	if e.port.orgListings != 1 || e.conn.lookups != 1 {
		t.Errorf("org listings %d, member lookups %d; want 1 each within the cache TTL", e.port.orgListings, e.conn.lookups)
	}
	e.clock.Advance(partnerCacheTTL + time.Second)
	if _, err := e.bot.requestMode(context.Background(), e.turn(ptUGus)); err != nil {
		t.Fatal(err)
	}
	if e.port.orgListings != 2 || e.conn.lookups != 2 {
		t.Errorf("after the TTL: org listings %d, member lookups %d; want 2 each", e.port.orgListings, e.conn.lookups)
	}
}

func TestRequestModeUPNFallback(t *testing.T) {
	e := newPtEnv(t, true)
	e.port.orgs[1].State = entitlement.OrgConfigured
	md, err := e.bot.requestMode(context.Background(), e.turn(ptULit))
	if err != nil || md.Email != "lou@litware.example" {
		t.Fatalf("requestMode = %+v, %v; want the UPN as address", md, err)
	}
}

// ---- packages and requirements ----

func TestBrokeredPackages(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "all the org may request, hidden and member-only excluded", want: []string{ptPkgPart, ptPkgExt, ptPkgTwo}},
		{name: "query narrows", query: "collaboration", want: []string{ptPkgPart}},
		{name: "every word must match", query: "falcon wiki", want: []string{ptPkgExt}},
		{name: "no match", query: "payroll", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			tu := e.turn(ptUGus)
			md, err := e.bot.requestMode(context.Background(), tu)
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := e.bot.brokeredPackages(context.Background(), tu, md, tc.query)
			if err != nil {
				t.Fatalf("brokeredPackages: %v", err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.ID)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("packages %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBrokeredRequirements(t *testing.T) {
	tests := []struct {
		name    string
		pkg     string
		wantPol string
		wantErr error
	}{
		{name: "partner package", pkg: ptPkgPart, wantPol: ptPolPart},
		{name: "any external user", pkg: ptPkgExt, wantPol: ptPolExt},
		{name: "members only", pkg: ptPkgTeam, wantErr: entitlement.ErrNotEligible},
		{name: "hidden", pkg: ptPkgHidden, wantErr: entitlement.ErrNotEligible},
		{name: "unknown package", pkg: "eeeeeeee-0000-0000-0000-000000000099", wantErr: entitlement.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			tu := e.turn(ptUGus)
			md, _ := e.bot.requestMode(context.Background(), tu)
			reqs, err := e.bot.brokeredRequirements(context.Background(), tu, md, tc.pkg)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(reqs) != 1 || reqs[0].PolicyID != tc.wantPol {
				t.Fatalf("requirements = %+v, %v; want policy %s", reqs, err, tc.wantPol)
			}
		})
	}
	t.Run("delegated users are not brokered", func(t *testing.T) {
		e := newPtEnv(t, true)
		tu := e.turn(ptURita)
		md, _ := e.bot.requestMode(context.Background(), tu)
		if _, err := e.bot.brokeredRequirements(context.Background(), tu, md, ptPkgPart); !errors.Is(err, entitlement.ErrNotEligible) {
			t.Fatalf("err = %v, want ErrNotEligible", err)
		}
	})
}

func TestEndingLead(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		dur  time.Duration
		want time.Duration
	}{
		{"thirty days warns three days before", 30 * 24 * time.Hour, 72 * time.Hour},
		{"a year still three days", 365 * 24 * time.Hour, 72 * time.Hour},
		{"eight hours warns 48 minutes before", 8 * time.Hour, 48 * time.Minute},
	}
	for _, tc := range tests {
		if got := lifecycle.EndingLead(start, start.Add(tc.dur)); got != tc.want {
			t.Errorf("%s: lead %v, want %v", tc.name, got, tc.want)
		}
	}
}

// ---- submit and decisions ----

// submitPartner files Gus's request for the partner package and delivers the approval cards.
func (e *ptEnv) submitPartner() (string, *cards.Card) {
	e.t.Helper()
	e.hello(ptUGus)
	e.hello(ptUPatti)
	e.hello(ptUFiona)
	tu := e.turn(ptUGus)
	md, err := e.bot.requestMode(context.Background(), tu)
	if err != nil {
		e.t.Fatal(err)
	}
	card, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolPart,
		Justification: "Joint launch"})
	if err != nil {
		e.t.Fatalf("brokeredSubmit: %v", err)
	}
	// The request flow stores the status card it sends under key.
	e.bot.storeCard(context.Background(), key, cardKindStatus, 0, ptFabrikam, ptGus, "chat-"+ptGus, "https://smba.example/emea/", "status-1")
	return key, card
}

// pendingPartnerRequest files Gus's brokered request (submitPartner), delivers its cards and returns its key
// and the id of the approval card sent to approver (a user id).
func (e *ptEnv) pendingPartnerRequest(approver string) (key, cardID string) {
	e.t.Helper()
	n0 := e.conn.count()
	key, _ = e.submitPartner()
	e.drain(0)
	cardID, _ = e.approvalCardTo(n0, approver)
	return key, cardID
}

// approvalCardTo finds the approval card sent to a chat and returns its activity id.
func (e *ptEnv) approvalCardTo(from int, userID string) (string, string) {
	e.t.Helper()
	for _, s := range e.conn.since(from) {
		if s.Op == "send" && s.Conversation == "chat-"+userID && strings.Contains(s.text(), cards.VerbApprovalApprove) {
			return s.ID, s.text()
		}
	}
	e.t.Fatalf("no approval card sent to %s", userID)
	return "", ""
}

func TestBrokeredSponsorApprovesThenGuestGuidance(t *testing.T) {
	e := newPtEnv(t, true)
	n0 := e.conn.count()
	key, status := e.submitPartner()
	if !strings.HasPrefix(key, brokeredPrefix) {
		t.Fatalf("key %q is not a brokered id", key)
	}
	if s := cardJSON(t, status); !strings.Contains(s, "Pending approval") || !strings.Contains(s, "brokered") ||
		!strings.Contains(s, "Patti Fernandez") || !strings.Contains(s, "Fiona Partner") {
		t.Errorf("status card does not show the brokered pending state and approvers: %s", s)
	}
	e.drain(0)
	pattiCard, pattiText := e.approvalCardTo(n0, ptPatti)
	fionaCard, fionaText := e.approvalCardTo(n0, ptFiona) // in her Fabrikam chat: she is a Fabrikam account
	for _, txt := range []string{pattiText, fionaText} {
		if !strings.Contains(txt, "AccessBot ran this approval") || !strings.Contains(txt, "Gus Guest") || !strings.Contains(txt, "Fabrikam") {
			t.Errorf("approval card lacks the brokered note or the requester: %s", txt)
		}
	}
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}

	// Not an approver, and the requester himself: refused, nothing recorded.
	if c := e.click(ptURita, "x", cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
		t.Errorf("Rita's click: %s", c)
	}
	if c := e.click(ptUGus, "status-1", cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
		t.Errorf("requester's own click: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("a refused click filed the assignment")
	}

	n1 := e.conn.count()
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("Patti's approval answer: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls = %d, want 1", e.port.addCount())
	}
	add := e.port.adds[0]
	if add.TargetEmail != "gus@fabrikam.example" || add.ConnectedOrgID != ptOrgFab || add.PackageID != ptPkgPart ||
		add.PolicyID != ptPolPart || add.Justification != "Joint launch" || add.TargetID != "" {
		t.Errorf("adminAdd input = %+v", add)
	}
	// Fiona's click after Patti's: one decision per stage.
	if c := e.click(ptUFiona, fionaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "Already approved by Patti at {{TIME("+e.clock.Now().Format("2006-01-02T15:04:05Z")+")}}") {
		t.Errorf("second approver's click: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls = %d after a second click, want 1", e.port.addCount())
	}
	e.drain(0)
	var fionaUpdated, statusDelivering, notified bool
	for _, s := range e.conn.since(n1) {
		switch {
		case s.Op == "update" && s.ID == fionaCard && strings.Contains(s.text(), "Approved by Patti"):
			fionaUpdated = true
		case s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Delivering"):
			statusDelivering = true
		case s.Op == "send" && s.Conversation == "chat-"+ptGus && strings.Contains(s.text(), "approved by Patti Fernandez"):
			notified = true
		}
	}
	if !fionaUpdated || !statusDelivering || !notified {
		t.Errorf("after approval: Fiona's card updated %v, status delivering %v, requester notified %v", fionaUpdated, statusDelivering, notified)
	}

	// Delivery: Entra creates the guest (PendingAcceptance); the bot sends the guidance.
	e.port.deliver(t, "gus@fabrikam.example")
	n2 := e.conn.count()
	e.drain(2 * time.Second)
	var guidance, waiting string
	for _, s := range e.conn.since(n2) {
		if s.Conversation != "chat-"+ptGus {
			continue
		}
		if s.Op == "send" && strings.Contains(s.text(), "added you as a guest") {
			guidance = s.text()
		}
		if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "waiting for you to accept the invitation") {
			waiting = s.text()
		}
	}
	for _, want := range []string{"https://sim.example/_sim/redeem/inv-1", "https://teams.microsoft.com/?tenantId=" + ptContoso,
		"Accounts and orgs", "Falcon Team", "Read your name"} {
		if !strings.Contains(guidance, want) {
			t.Errorf("guidance card lacks %q: %s", want, guidance)
		}
	}
	if !strings.Contains(waiting, "inv-1") {
		t.Errorf("status card does not wait for the invitation (with its link): %q", waiting)
	}
	if len(e.port.invites) != 1 || e.port.invites[0].Email != "gus@fabrikam.example" {
		t.Errorf("invitations = %+v", e.port.invites)
	}

	// Not accepted yet: polling sends nothing new to Gus.
	n3 := e.conn.count()
	e.drain(2 * time.Second)
	for _, s := range e.conn.since(n3) {
		if s.Conversation == "chat-"+ptGus {
			t.Errorf("message while still pending: %s", s.text())
		}
	}

	// Redemption: "You're in", the status card says delivered.
	e.port.accept()
	n4 := e.conn.count()
	e.drain(time.Minute)
	var in, delivered bool
	for _, s := range e.conn.since(n4) {
		if s.Op == "send" && strings.Contains(s.text(), "You're in") {
			in = true
		}
		if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Delivered") && !strings.Contains(s.text(), "waiting for you") {
			delivered = true
		}
	}
	if !in || !delivered {
		t.Errorf("after redemption: You're in %v, status delivered %v", in, delivered)
	}

	// Three days before the end: the guest is told when access ends and what happens to the account.
	e.clock.Advance(26 * 24 * time.Hour)
	e.drain(time.Minute)
	e.drain(time.Minute)
	n5 := e.conn.count()
	e.clock.Advance(24 * time.Hour)
	e.drain(time.Minute)
	var ending string
	for _, s := range e.conn.since(n5) {
		if strings.Contains(s.text(), "ends soon") {
			ending = s.text()
		}
	}
	if !strings.Contains(ending, "blocked") || !strings.Contains(ending, "deleted") {
		t.Errorf("no end-of-access warning with the account's fate: %q", ending)
	}
	br, err := e.bot.core.GetBrokered(context.Background(), key)
	if err != nil || !br.Done || !br.Guest.EndingWarned {
		t.Errorf("record after the warning: %+v, %v", br, err)
	}

	// Audit: submit, decision, adminAdd, acceptance, ending notice — all brokered.
	var actions []string
	for _, a := range e.audit(key) {
		if a.Mode != store.ModeBrokered {
			t.Errorf("audit entry %s has mode %s", a.Action, a.Mode)
		}
		actions = append(actions, a.Action+":"+a.Outcome)
	}
	for _, want := range []string{"request.submit:submitted", "approval.approve:refused-not-approver", "approval.approve:approved",
		"assignment.adminAdd:filed", "approval.approve:already-decided", "guest.accepted:accepted", "guest.ending-notice:sent"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}

func TestBrokeredDenyAndDuplicates(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)

	// A second request for the same package while the first is open is refused.
	tu := e.turn(ptUGus)
	md, _ := e.bot.requestMode(context.Background(), tu)
	if _, _, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolPart}); !errors.Is(err, entitlement.ErrAlreadyRequested) {
		t.Fatalf("duplicate submit err = %v, want ErrAlreadyRequested", err)
	}

	n1 := e.conn.count()
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1", cards.InputJustification: "Not this quarter"}
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalDeny, data); !strings.Contains(c, "You denied this request") {
		t.Fatalf("deny answer: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("a denied request was filed")
	}
	// Her second click changes nothing and says so.
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You denied this request") {
		t.Errorf("second click by the decider: %s", c)
	}
	e.drain(0)
	var told, statusDenied bool
	for _, s := range e.conn.since(n1) {
		if s.Op == "send" && s.Conversation == "chat-"+ptGus && strings.Contains(s.text(), "denied by Patti Fernandez") {
			told = true
		}
		if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Not this quarter") {
			statusDenied = true
		}
	}
	if !told || !statusDenied {
		t.Errorf("after deny: requester told %v, status card denied with justification %v", told, statusDenied)
	}
	// Closed: a new request is accepted again.
	if _, _, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolPart}); err != nil {
		t.Fatalf("new request after a deny: %v", err)
	}
	// An assignment already held is refused.
	e.port.assignments = append(e.port.assignments, entitlement.Assignment{ID: "a-x", PackageID: ptPkgExt, State: entitlement.AssignmentDelivered,
		Target: entitlement.Subject{Email: "GUS@fabrikam.example"}})
	if _, _, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgExt, Justification: "x",
		Answers: []entitlement.Answer{{QuestionID: "q1", Value: "FAL-1"}}}); !errors.Is(err, entitlement.ErrAlreadyAssigned) {
		t.Fatalf("submit while assigned err = %v, want ErrAlreadyAssigned", err)
	}
}

func TestBrokeredSubmitRefusals(t *testing.T) {
	tests := []struct {
		name      string
		user      ptUser
		in        entitlement.NewRequest
		noEmail   bool
		wantErr   error
		wantField string
	}{
		{name: "no email from Teams", user: ptUGus, noEmail: true, in: entitlement.NewRequest{PackageID: ptPkgPart}, wantField: "email address"},
		{name: "package the org may not request", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgTeam}, wantErr: entitlement.ErrNotEligible},
		{name: "hidden package", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgHidden}, wantErr: entitlement.ErrNotEligible},
		{name: "policy of another package", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgPart, PolicyID: ptPolTeam}, wantErr: entitlement.ErrNotEligible},
		{name: "not a package id", user: ptUGus, in: entitlement.NewRequest{PackageID: "../x"}, wantField: "package"},
		{name: "missing answer", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgExt, Justification: "x"}, wantField: "answers[Project code]"},
		{name: "extension", user: ptUGus, in: entitlement.NewRequest{PackageID: ptPkgPart, Extend: true}, wantField: "request"},
		{name: "unknown tenant", user: ptUNina, in: entitlement.NewRequest{PackageID: ptPkgExt}, wantErr: entitlement.ErrNotEligible},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			if tc.noEmail {
				delete(e.conn.members, "29:gus")
			}
			tu := e.turn(tc.user)
			md, err := e.bot.requestMode(context.Background(), tu)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = e.bot.brokeredSubmit(context.Background(), tu, md, tc.in)
			var ie *entitlement.InvalidInputError
			switch {
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			case tc.wantField != "" && (!errors.As(err, &ie) || ie.Field != tc.wantField):
				t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
			}
			all, _ := e.bot.core.ListBrokered(context.Background())
			if n := len(all); n != 0 {
				t.Errorf("a refused request was stored (%d records)", n)
			}
			if pending, _ := e.store.Pending(context.Background()); len(pending) != 0 {
				t.Errorf("a refused request queued %d outbox items", len(pending))
			}
		})
	}
}

func TestBrokeredFallbackApproverAndJustification(t *testing.T) {
	e := newPtEnv(t, true)
	e.hello(ptUGus)
	e.hello(ptUPatti)
	tu := e.turn(ptUGus)
	md, _ := e.bot.requestMode(context.Background(), tu)
	n0 := e.conn.count()
	_, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgExt, Justification: "wiki",
		Answers: []entitlement.Answer{{QuestionID: "q1", Value: "FAL-7"}}})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	e.drain(0)
	// requestorManager does not apply to a partner user: the fallback (Patti) is asked.
	card, _ := e.approvalCardTo(n0, ptPatti)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, data); !strings.Contains(c, "justification is required") {
		t.Fatalf("approval without the required justification: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("filed without the required justification")
	}
	data[cards.InputJustification] = "ok for the launch"
	if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("approval with justification: %s", c)
	}
	if e.port.addCount() != 1 || e.port.adds[0].Answers[0].Value != "FAL-7" {
		t.Fatalf("adminAdd = %+v", e.port.adds)
	}
	// The refresh of the card shows the decided view.
	if c := e.click(ptUPatti, card, cards.VerbApprovalRefresh, data); !strings.Contains(c, "You approved this request") {
		t.Errorf("refresh: %s", c)
	}
}

func TestBrokeredAdminAddFailure(t *testing.T) {
	e := newPtEnv(t, true)
	key, card := e.pendingPartnerRequest(ptPatti)
	e.port.addErr, e.port.addFailures = fmt.Errorf("add: %w", entitlement.ErrForbidden), -1
	e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
	br, err := e.bot.core.GetBrokered(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if br.State != entitlement.StateDeliveryFailed || !br.Done || br.ReasonMsg.Msg != "reason.fileFailed" {
		t.Errorf("record after a failed adminAdd: state %s done %v reason %+v", br.State, br.Done, br.ReasonMsg)
	}
	var failed bool
	for _, a := range e.audit(key) {
		if a.Action == "assignment.adminAdd" && a.Outcome == "failed" && strings.Contains(a.Details["error"], "not allowed") {
			failed = true
		}
	}
	if !failed {
		t.Error("failed adminAdd not audited with its reason")
	}
}

func TestBrokeredDecisionIgnoresDelegatedIDs(t *testing.T) {
	e := newPtEnv(t, true)
	tu := e.turn(ptUPatti)
	for _, id := range []string{"", "7c1e0000-0000-0000-0000-000000000001", "brk-../../x"} {
		_, handled, err := e.bot.brokeredDecision(context.Background(), tu, map[string]any{cards.KeyRequestID: id}, entitlement.ReviewApprove)
		if handled || err != nil {
			t.Errorf("id %q: handled %v err %v; want not handled", id, handled, err)
		}
	}
}

func TestBrokeredStatusRefreshCancelAndList(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)
	data := map[string]any{cards.KeyRequestID: key}

	if c := e.click(ptUGus, "status-1", cards.VerbRequestRefresh, data); !strings.Contains(c, "Pending approval") || !strings.Contains(c, "Cancel") {
		t.Errorf("refresh by the requester: %s", c)
	}
	// Someone else's brokered request is not found (nothing about it is shown).
	if c := e.click(ptUFiona, "x", cards.VerbRequestRefresh, data); strings.Contains(c, "Falcon Partner") || !strings.Contains(c, "Not found") {
		t.Errorf("refresh by another user: %s", c)
	}
	if c := e.click(ptUFiona, "x", cards.VerbRequestCancel, data); !strings.Contains(c, "Not found") {
		t.Errorf("cancel by another user: %s", c)
	}

	// The status command lists the partner's brokered requests (they have no delegated token).
	n1 := e.conn.count()
	act := e.activity(ptUGus, "message")
	act.Text = "status"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	var listed bool
	for _, s := range e.conn.since(n1) {
		if strings.Contains(s.text(), "Your requests") && strings.Contains(s.text(), key) && strings.Contains(s.text(), "waiting for Patti Fernandez or Fiona Partner") {
			listed = true
		}
	}
	if !listed {
		t.Error("status did not list the brokered request")
	}

	n2 := e.conn.count()
	if c := e.click(ptUGus, "status-1", cards.VerbRequestCancel, data); !strings.Contains(c, "Canceled") {
		t.Fatalf("cancel answer: %s", c)
	}
	e.drain(0)
	var pattiTold bool
	for _, s := range e.conn.since(n2) {
		if s.Op == "update" && s.ID == pattiCard && strings.Contains(s.text(), "Canceled by the requester") && !strings.Contains(s.text(), cards.VerbApprovalApprove) {
			pattiTold = true
		}
	}
	if !pattiTold {
		t.Error("the approver's card was not updated after the cancel")
	}
	// Too late to approve now.
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}); strings.Contains(c, "You approved") ||
		!strings.Contains(c, "Canceled by the requester") || !strings.Contains(c, "Your click changed nothing") {
		t.Errorf("approval of a canceled request: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Error("a canceled request was filed")
	}
}

func TestBrokeredStageClockRules(t *testing.T) {
	tests := []struct {
		name        string
		ritaDecides bool
		advance     time.Duration
		wantState   entitlement.RequestState
		wantAdds    int
	}{
		{name: "escalated approver decides", ritaDecides: true, advance: 0, wantState: entitlement.StateDelivering, wantAdds: 1},
		{name: "nobody decides: denied automatically", advance: 7 * 24 * time.Hour, wantState: entitlement.StateDenied},
	}
	t.Run("a click after the deadline is too late even before the follow-up ran", func(t *testing.T) {
		e := newPtEnv(t, true)
		key, card := e.pendingPartnerRequest(ptPatti)
		e.clock.Advance(15 * 24 * time.Hour) // P14D, no drain: the follow-up has not looked yet
		c := e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
		if !strings.Contains(c, "Expired: nobody decided in time") || !strings.Contains(c, "Your click changed nothing") || e.port.addCount() != 0 {
			t.Errorf("late click answer: %s (adminAdd calls %d)", c, e.port.addCount())
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			e.hello(ptUGus)
			e.hello(ptUPatti)
			e.hello(ptURita)
			tu := e.turn(ptUGus)
			md, _ := e.bot.requestMode(context.Background(), tu)
			_, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgExt, Justification: "wiki",
				Answers: []entitlement.Answer{{QuestionID: "q1", Value: "FAL-7"}}})
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			e.bot.storeCard(context.Background(), key, cardKindStatus, 0, ptFabrikam, ptGus, "chat-"+ptGus, "https://smba.example/emea/", "status-1")
			e.drain(0)
			data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1", cards.InputJustification: "fine"}
			// Before the escalation time Rita is not an approver.
			if c := e.click(ptURita, "x", cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
				t.Fatalf("Rita before escalation: %s", c)
			}
			n := e.conn.count()
			e.clock.Advance(4 * time.Hour)
			e.drain(2 * time.Minute)
			ritaCard, ritaText := e.approvalCardTo(n, ptRita)
			if !strings.Contains(ritaText, "Escalated to you") {
				t.Errorf("escalation card: %s", ritaText)
			}
			if tc.ritaDecides {
				if c := e.click(ptURita, ritaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
					t.Fatalf("Rita after escalation: %s", c)
				}
			}
			n = e.conn.count()
			e.clock.Advance(tc.advance)
			e.drain(2 * time.Minute)
			br, err := e.bot.core.GetBrokered(context.Background(), key)
			if err != nil || br.State != tc.wantState || e.port.addCount() != tc.wantAdds {
				t.Fatalf("state %s (err %v), adminAdd calls %d; want %s, %d", br.State, err, e.port.addCount(), tc.wantState, tc.wantAdds)
			}
			if tc.wantState == entitlement.StateDenied {
				var expired, autoDenied bool
				for _, s := range e.conn.since(n) {
					if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "Expired") {
						expired = true
					}
					if s.Op == "update" && s.ID == ritaCard && strings.Contains(s.text(), "Expired: nobody decided in time") {
						autoDenied = true
					}
				}
				if !expired || !autoDenied {
					t.Errorf("after the timeout: status expired %v, approver card auto-denied %v", expired, autoDenied)
				}
				if c := e.click(ptUPatti, "x", cards.VerbApprovalApprove, data); strings.Contains(c, "You approved") {
					t.Errorf("approval after the timeout: %s", c)
				}
			}
			var actions []string
			for _, a := range e.audit(key) {
				actions = append(actions, a.Action+":"+a.Outcome)
			}
			want := "approval.escalate:escalated"
			if !tc.ritaDecides {
				want = "approval.timeout:denied"
			}
			if !strings.Contains(strings.Join(actions, " "), want) {
				t.Errorf("audit lacks %s: %v", want, actions)
			}
		})
	}
}

func TestBrokeredExternalSponsorApproves(t *testing.T) {
	e := newPtEnv(t, true)
	key, fionaCard := e.pendingPartnerRequest(ptFiona)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUFiona, fionaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("Fiona's approval: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls = %d, want 1", e.port.addCount())
	}
	var entry store.AuditEntry
	for _, a := range e.audit(key) {
		if a.Action == "approval.approve" {
			entry = a
		}
	}
	if entry.ActorID != ptFiona || entry.ActorTenant != ptFabrikam || entry.Outcome != "approved" {
		t.Errorf("audit of the external sponsor's decision = %+v", entry)
	}
	// One follow-up chain: after the approval, only the newest follow-up job is live.
	pending, err := e.store.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	br, _ := e.bot.core.GetBrokered(context.Background(), key)
	live := 0
	for _, it := range pending {
		var job lifecycle.BrokeredFollowJob
		if it.Kind == OutboxBrokeredFollow && json.Unmarshal(it.Payload, &job) == nil && job.Gen == br.FollowGen {
			live++
		}
	}
	if live != 1 {
		t.Errorf("live follow-up jobs = %d, want 1", live)
	}
}

func TestBrokeredReminder(t *testing.T) {
	e := newPtEnv(t, true)
	key, first := e.pendingPartnerRequest(ptPatti)
	n1 := e.conn.count()
	e.clock.Advance(23 * time.Hour)
	e.drain(2 * time.Minute)
	for _, s := range e.conn.since(n1) {
		if s.Op == "send" && strings.Contains(s.text(), "Reminder") {
			t.Fatalf("reminder before ReminderAfter: %s", s.text())
		}
	}
	e.clock.Advance(time.Hour)
	e.drain(2 * time.Minute)
	again, text := e.approvalCardTo(n1, ptPatti)
	if again == first || !strings.Contains(text, "Reminder: this request has been waiting for your decision for 1 day") {
		t.Errorf("reminder card %s: %s", again, text)
	}
	// Either copy decides the stage once.
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUPatti, again, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("approval from the reminder: %s", c)
	}
	if c := e.click(ptUPatti, first, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") || e.port.addCount() != 1 {
		t.Errorf("click on the first copy: %s (adminAdd calls %d)", c, e.port.addCount())
	}
}

func TestBrokeredApproverInbox(t *testing.T) {
	e := newPtEnv(t, true)
	key, _ := e.submitPartner()
	e.drain(0)
	items, err := e.bot.brokeredInboxItems(context.Background(), ptPatti)
	if err != nil || len(items) != 1 || items[0].RequestID != key || items[0].RequesterOrg != "Fabrikam" || items[0].Deadline.IsZero() {
		t.Fatalf("Patti's brokered inbox = %+v, %v", items, err)
	}
	if items, _ := e.bot.brokeredInboxItems(context.Background(), ptRita); len(items) != 0 {
		t.Errorf("Rita is no approver but has %+v", items)
	}
	// Fiona (a Fabrikam account) asks for her approvals: the brokered inbox, not a sign-in card.
	inbox := e.say(ptUFiona, "approvals")
	if !strings.Contains(inbox, "Falcon Partner Collaboration") || !strings.Contains(inbox, key) {
		t.Errorf("Fiona's inbox: %s", inbox)
	}
	// Once decided, the inbox is empty.
	e.click(ptUPatti, "x", cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
	if items, _ := e.bot.brokeredInboxItems(context.Background(), ptFiona); len(items) != 0 {
		t.Errorf("inbox after the decision: %+v", items)
	}
}

func TestBrokeredAdminAddTransientFailure(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		lost      bool
		wantAdds  int
		wantState entitlement.RequestState
		wantAudit string
	}{
		{name: "throttled once, filed on retry", failures: 1, wantAdds: 1, wantState: entitlement.StateDelivering, wantAudit: "retrying filed"},
		{name: "answer lost in transit: the request it made is adopted", failures: 1, lost: true, wantAdds: 1, wantState: entitlement.StateDelivering, wantAudit: "retrying found"},
		{name: "still failing after the last attempt", failures: -1, wantAdds: 0, wantState: entitlement.StateDeliveryFailed,
			wantAudit: "retrying retrying retrying retrying failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			key, card := e.pendingPartnerRequest(ptPatti)
			e.port.addErr, e.port.addFailures, e.port.lost = &entitlement.ThrottledError{RetryAfter: time.Second}, tc.failures, tc.lost
			if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}); !strings.Contains(c, "You approved") {
				t.Fatalf("approval: %s", c)
			}
			for range lifecycle.MaxFileAttempts {
				e.drain(2 * time.Minute)
			}
			br, err := e.bot.core.GetBrokered(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if e.port.addCount() != tc.wantAdds || br.State != tc.wantState || br.FilePending {
				t.Errorf("adminAdd calls %d, state %s, pending %v; want %d, %s", e.port.addCount(), br.State, br.FilePending, tc.wantAdds, tc.wantState)
			}
			if tc.wantState == entitlement.StateDelivering && br.GraphRequestID == "" {
				t.Error("no Graph request followed")
			}
			var outcomes []string
			for _, a := range e.audit(key) {
				if a.Action == "assignment.adminAdd" {
					outcomes = append([]string{a.Outcome}, outcomes...) // the log lists newest first
				}
			}
			if strings.Join(outcomes, " ") != tc.wantAudit {
				t.Errorf("adminAdd audit outcomes %v, want %s", outcomes, tc.wantAudit)
			}
		})
	}
}

func TestBrokeredTwoStages(t *testing.T) {
	tests := []struct {
		name        string
		noStage2    bool
		wantState   entitlement.RequestState
		wantAdds    int
		wantToGus   string
		wantRitaGet bool
	}{
		{name: "both stages approve", wantState: entitlement.StateDelivering, wantAdds: 1,
			wantToGus: "Stage 1 of your request for Falcon Partner Admin was approved by Patti Fernandez; now waiting for Rita Requester", wantRitaGet: true},
		{name: "no approver for stage 2", noStage2: true, wantState: entitlement.StateDenied, wantToGus: "was stopped: Nobody can approve the next stage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			if tc.noStage2 {
				delete(e.port.users, ptRita)
			}
			e.hello(ptUGus)
			e.hello(ptUPatti)
			e.hello(ptURita)
			tu := e.turn(ptUGus)
			md, _ := e.bot.requestMode(context.Background(), tu)
			n0 := e.conn.count()
			_, key, err := e.bot.brokeredSubmit(context.Background(), tu, md, entitlement.NewRequest{PackageID: ptPkgTwo})
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			e.bot.storeCard(context.Background(), key, cardKindStatus, 0, ptFabrikam, ptGus, "chat-"+ptGus, "https://smba.example/emea/", "status-1")
			e.drain(0)
			card, _ := e.approvalCardTo(n0, ptPatti)
			n1 := e.conn.count()
			c := e.click(ptUPatti, card, cards.VerbApprovalApprove, map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"})
			if !strings.Contains(c, "You approved this request") {
				t.Fatalf("stage 1: %s", c)
			}
			e.drain(0)
			var toGus, stage2Status bool
			for _, s := range e.conn.since(n1) {
				if s.Op == "send" && s.Conversation == "chat-"+ptGus && strings.Contains(s.text(), tc.wantToGus) {
					toGus = true
				}
				if s.Op == "update" && s.ID == "status-1" && strings.Contains(s.text(), "stage 2 of 2") {
					stage2Status = true
				}
			}
			if !toGus {
				t.Errorf("Gus was not told %q", tc.wantToGus)
			}
			if tc.wantRitaGet {
				if !stage2Status {
					t.Error("status card does not show stage 2 of 2")
				}
				ritaCard, _ := e.approvalCardTo(n1, ptRita)
				data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-2"}
				if c := e.click(ptUPatti, card, cards.VerbApprovalApprove, data); !strings.Contains(c, "not an approver") {
					t.Errorf("Patti on stage 2: %s", c)
				}
				if c := e.click(ptURita, ritaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "justification is required") {
					t.Errorf("stage 2 without justification: %s", c)
				}
				data[cards.InputJustification] = "ok"
				if c := e.click(ptURita, ritaCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
					t.Fatalf("stage 2: %s", c)
				}
			}
			br, _ := e.bot.core.GetBrokered(context.Background(), key)
			if br.State != tc.wantState || e.port.addCount() != tc.wantAdds {
				t.Errorf("state %s, adminAdd calls %d; want %s, %d", br.State, e.port.addCount(), tc.wantState, tc.wantAdds)
			}
		})
	}
}

// TestBrokeredDecisionDuringGraphOutage: with Graph down, a real sponsor's Approve is not refused as "not an
// approver": the card says Microsoft Graph is unavailable and nothing changed, the audit records an error
// (no refusal), nothing is filed — and the same click works once Graph answers again.
func TestBrokeredDecisionDuringGraphOutage(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}

	e.port.mu.Lock()
	e.port.sponsorsErr = fmt.Errorf("read sponsors: %w", entitlement.ErrUnavailable)
	e.port.mu.Unlock()
	c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data)
	if !strings.Contains(c, "Microsoft Graph is unavailable") || !strings.Contains(c, "nothing was changed") || strings.Contains(c, "not an approver") {
		t.Fatalf("click during the outage: %s", c)
	}
	if e.port.addCount() != 0 {
		t.Fatal("a click during the outage filed the assignment")
	}
	var outcomes []string
	for _, a := range e.audit(key) {
		outcomes = append(outcomes, a.Action+":"+a.Outcome)
	}
	got := strings.Join(outcomes, " ")
	if !strings.Contains(got, "approval.approve:error") || strings.Contains(got, "refused-not-approver") {
		t.Fatalf("audit during the outage = %v, want an error and no refusal", outcomes)
	}

	e.port.mu.Lock()
	e.port.sponsorsErr = nil
	e.port.mu.Unlock()
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("the same click after recovery: %s", c)
	}
	if e.port.addCount() != 1 {
		t.Fatalf("adminAdd calls after recovery = %d, want 1", e.port.addCount())
	}
}
