package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
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
