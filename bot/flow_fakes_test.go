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
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// In-memory fakes for the request/approve flow tests: a small entitlement engine (packages, policies with
// approval stages, requests, approvals with Graph's rules), a recording connector and a token source.

const (
	flTenant    = "11111111-1111-1111-1111-111111111111"
	flRita      = "aaaaaaaa-0000-0000-0000-000000000001"
	flAaron     = "aaaaaaaa-0000-0000-0000-000000000002"
	flIsaiah    = "aaaaaaaa-0000-0000-0000-000000000004"
	flPatti     = "aaaaaaaa-0000-0000-0000-000000000005"
	flLynne     = "aaaaaaaa-0000-0000-0000-000000000006"
	flMegan     = "aaaaaaaa-0000-0000-0000-000000000007"
	flReviewers = "dddddddd-0000-0000-0000-0000000000a2"
	flPkgTeam   = "eeeeeeee-0000-0000-0000-000000000001"
	flPkgProd   = "eeeeeeee-0000-0000-0000-000000000002"
	flPolTeam   = "ffffffff-0000-0000-0000-000000000001"
	flPolProd   = "ffffffff-0000-0000-0000-000000000002"
	flQTicket   = "q-ticket"
	flQEnv      = "q-env"
)

// fakeDirectory is what the entitlement fakes of the request/approve, partner and admin tests share: users
// with managers and groups, packages, connected organizations, requests and assignments, read the way Graph
// answers. The nil
// entitlement.Port it embeds makes a call the flows must not make panic.
type fakeDirectory struct {
	entitlement.Port

	mu          sync.Mutex
	now         func() time.Time
	users       map[string]entitlement.User
	managers    map[string]string   // user → manager
	groups      map[string][]string // group → members
	packages    []entitlement.Package
	orgs        []entitlement.ConnectedOrg
	requests    map[string]*entitlement.Request
	assignments []entitlement.Assignment
}

func newFakeDirectory(now func() time.Time) fakeDirectory {
	return fakeDirectory{now: now, users: map[string]entitlement.User{}, managers: map[string]string{},
		groups: map[string][]string{}, requests: map[string]*entitlement.Request{}}
}

func (p *fakeDirectory) User(ctx context.Context, id string) (entitlement.User, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.users[id]; ok {
		return u, nil
	}
	return entitlement.User{}, entitlement.ErrNotFound
}

func (p *fakeDirectory) Manager(ctx context.Context, id string) (entitlement.User, error) {
	p.mu.Lock()
	m := p.managers[id]
	p.mu.Unlock()
	if m == "" {
		return entitlement.User{}, entitlement.ErrNotFound
	}
	return p.User(ctx, m)
}

func (p *fakeDirectory) GroupMembers(ctx context.Context, id string) ([]entitlement.User, error) {
	var out []entitlement.User
	for _, m := range p.groups[id] {
		u, _ := p.User(ctx, m)
		out = append(out, u)
	}
	return out, nil
}

func (p *fakeDirectory) Package(ctx context.Context, id string) (entitlement.Package, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pk := range p.packages {
		if pk.ID == id {
			return pk, nil
		}
	}
	return entitlement.Package{}, fmt.Errorf("get package %s: %w", id, entitlement.ErrNotFound)
}

func (p *fakeDirectory) ConnectedOrg(ctx context.Context, id string) (entitlement.ConnectedOrg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.orgs {
		if o.ID == id {
			return o, nil
		}
	}
	return entitlement.ConnectedOrg{}, entitlement.ErrNotFound
}

func (p *fakeDirectory) Request(ctx context.Context, id string) (entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.requests[id]
	if !ok {
		return entitlement.Request{}, entitlement.ErrNotFound
	}
	return *r, nil
}

func (p *fakeDirectory) Assignments(ctx context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []entitlement.Assignment
	for _, a := range p.assignments {
		if (f.PackageID == "" || f.PackageID == a.PackageID) && (f.TargetID == "" || f.TargetID == a.Target.ID) &&
			(len(f.States) == 0 || slices.Contains(f.States, a.State)) &&
			(f.ExpiringBefore.IsZero() || (!a.EndsAt().IsZero() && a.EndsAt().Before(f.ExpiringBefore))) {
			out = append(out, a)
		}
	}
	return out, nil
}

// packagePolicies holds the assignment policies of each package (by package id) for the partner and admin
// fakes; it does not change once built.
type packagePolicies map[string][]entitlement.Policy

func (m packagePolicies) Policies(ctx context.Context, packageID string) ([]entitlement.Policy, error) {
	return slices.Clone(m[packageID]), nil
}

func (m packagePolicies) Policy(ctx context.Context, id string) (entitlement.Policy, error) {
	for _, ps := range m {
		for _, pol := range ps {
			if pol.ID == id {
				return pol, nil
			}
		}
	}
	return entitlement.Policy{}, entitlement.ErrNotFound
}

// flPort is a small entitlement engine for the request/approve flows: policies with approval stages and
// approvals with Graph's rules, on top of fakeDirectory.
type flPort struct {
	fakeDirectory

	policies  map[string]entitlement.Policy
	approvals map[string]*flApproval
	seq       int

	decideCalls int
	// decideGate, when set, is called before DecideStage takes the port's lock (a barrier for concurrent
	// clicks).
	decideGate func()
	installs   []string
	lastExtend string
	// raceDecide, when set, records a decision by this user just before the caller's DecideStage runs
	// (another approver won the race: the caller gets Graph's 409).
	raceDecide string
	// hideClosed makes Approval answer ErrNotFound for the approval of a closed request (as Graph may once
	// the request is over).
	hideClosed bool
}

type flApproval struct {
	stages []*flStage
	// closed is set when the request was canceled: like Graph, the undecided stages read Completed and
	// NotReviewed, and nothing waits for a decision.
	closed bool
}

type flStage struct {
	id        string
	approvers []string
	result    entitlement.ReviewResult
	by        string
	at        time.Time
	just      string
}

func newFlPort(now func() time.Time) *flPort {
	p := &flPort{fakeDirectory: newFakeDirectory(now), policies: map[string]entitlement.Policy{}, approvals: map[string]*flApproval{}}
	for id, name := range map[string]string{flRita: "Rita Requester", flAaron: "Aaron Approver", flIsaiah: "Isaiah Langer",
		flPatti: "Patti Fernandez", flLynne: "Lynne Robbins", flMegan: "Megan Bowen"} {
		p.users[id] = entitlement.User{ID: id, Name: name, UserType: "Member", TenantID: flTenant}
	}
	p.managers[flRita], p.managers[flMegan] = flAaron, flAaron
	p.groups[flReviewers] = []string{flIsaiah, flLynne}
	p.packages = []entitlement.Package{
		{ID: flPkgTeam, Name: "Falcon Team Member", CatalogName: "Project Falcon", Resources: []entitlement.ResourceRole{
			{ResourceName: "Falcon Team", OriginSystem: "AadGroup", ResourceType: "Team", RoleName: "Member"}}},
		{ID: flPkgProd, Name: "Falcon Production Access", CatalogName: "Project Falcon"},
	}
	p.policies[flPolTeam] = entitlement.Policy{ID: flPolTeam, PackageID: flPkgTeam, Name: "Members", ApprovalRequired: true,
		Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P180D"},
		Stages: []entitlement.Stage{{DurationBeforeAutomaticDenial: "P14D",
			PrimaryApprovers:         []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager, ManagerLevel: 1}},
			FallbackPrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}}}}}
	p.policies[flPolProd] = entitlement.Policy{ID: flPolProd, PackageID: flPkgProd, Name: "Production", ApprovalRequired: true,
		RequestorJustificationRequired: true, CustomScheduleAllowed: true,
		Questions: []entitlement.Question{
			{ID: flQTicket, Text: "Change ticket", Required: true, Kind: entitlement.QuestionText, Regex: `^INC\d{4,}$`},
			{ID: flQEnv, Text: "Environment", Required: true, Kind: entitlement.QuestionChoice,
				Choices: []entitlement.Choice{{Value: "prod-eu", Text: "Production EU"}, {Value: "prod-us", Text: "Production US"}}},
		},
		Stages: []entitlement.Stage{
			{DurationBeforeAutomaticDenial: "P7D", ApproverJustificationRequired: true,
				PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager}}},
			{DurationBeforeAutomaticDenial: "P7D", ApproverJustificationRequired: true, EscalationEnabled: true, DurationBeforeEscalation: "PT4H",
				PrimaryApprovers:    []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, GroupID: flReviewers}},
				EscalationApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetSingleUser, UserID: flPatti}}},
		}}
	return p
}

// stageApprovers resolves approvers the way Entra would (independently of the bot's code).
func (p *flPort) stageApprovers(requestor string, st entitlement.Stage) []string {
	var out []string
	for _, s := range st.PrimaryApprovers {
		switch s.Kind {
		case entitlement.SetRequestorManager:
			if m := p.managers[requestor]; m != "" {
				out = append(out, m)
			}
		case entitlement.SetGroupMembers:
			out = append(out, p.groups[s.GroupID]...)
		case entitlement.SetSingleUser:
			out = append(out, s.UserID)
		}
	}
	return out
}

func (p *flPort) InstallAppForUser(ctx context.Context, userID, appID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.installs = append(p.installs, userID+"/"+appID)
	return nil
}

func (p *flPort) Policy(ctx context.Context, id string) (entitlement.Policy, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pol, ok := p.policies[id]; ok {
		return pol, nil
	}
	return entitlement.Policy{}, entitlement.ErrNotFound
}

// deliver moves a delivering request to delivered (the simulator does this on its own clock).
func (p *flPort) deliver(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.requests[id]
	if r.State != entitlement.StateDelivering {
		return
	}
	r.State = entitlement.StateDelivered
	a := entitlement.Assignment{ID: "as-" + id, PackageID: r.PackageID, PolicyID: r.PolicyID, State: entitlement.AssignmentDelivered,
		Target: r.Requestor, Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDateTime,
			EndDateTime: p.now().Add(180 * 24 * time.Hour)}}}
	r.AssignmentID = a.ID
	p.assignments = append(p.assignments, a)
}

func (p *flPort) ForUser(tok entitlement.TokenSource) entitlement.Delegated {
	return &flDelegated{p: p, tok: tok}
}

type flDelegated struct {
	p   *flPort
	tok entitlement.TokenSource
}

func (d *flDelegated) me(ctx context.Context) (string, error) {
	t, err := d.tok.Token(ctx)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(t, "token-for-"), nil
}

func (d *flDelegated) RequestablePackages(ctx context.Context, q entitlement.PackageQuery) ([]entitlement.Package, error) {
	if _, err := d.me(ctx); err != nil {
		return nil, err
	}
	var out []entitlement.Package
	for _, pk := range d.p.packages {
		if q.Search == "" || strings.Contains(strings.ToLower(pk.Name), strings.ToLower(q.Search)) {
			out = append(out, pk)
		}
	}
	return out, nil
}

func (d *flDelegated) Requirements(ctx context.Context, packageID string) ([]entitlement.Requirements, error) {
	if _, err := d.me(ctx); err != nil {
		return nil, err
	}
	for _, pol := range d.p.policies {
		if pol.PackageID == packageID {
			return []entitlement.Requirements{{PolicyID: pol.ID, PolicyName: pol.Name, ApprovalRequired: pol.ApprovalRequired,
				RequestorJustificationRequired: pol.RequestorJustificationRequired, CustomScheduleAllowed: pol.CustomScheduleAllowed,
				Questions: pol.Questions}}, nil
		}
	}
	return nil, entitlement.ErrNotEligible
}

func (d *flDelegated) SubmitRequest(ctx context.Context, in entitlement.NewRequest) (entitlement.Request, error) {
	me, err := d.me(ctx)
	if err != nil {
		return entitlement.Request{}, err
	}
	p := d.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.requests {
		if r.Requestor.ID == me && r.PackageID == in.PackageID && r.State.Open() {
			return entitlement.Request{}, entitlement.ErrAlreadyRequested
		}
	}
	pol := p.policies[in.PolicyID]
	if in.Extend {
		p.lastExtend = in.AssignmentID
	}
	p.seq++
	id := fmt.Sprintf("10000000-0000-0000-0000-%012d", p.seq)
	r := &entitlement.Request{ID: id, Type: entitlement.RequestUserAdd, State: entitlement.StatePendingApproval, PackageID: in.PackageID,
		PolicyID: in.PolicyID, Requestor: entitlement.Subject{ID: me, Name: p.users[me].Name}, Justification: in.Justification,
		Answers: in.Answers, Schedule: in.Schedule, CreatedAt: p.now()}
	ap := &flApproval{}
	for i, st := range pol.Stages {
		ap.stages = append(ap.stages, &flStage{id: fmt.Sprintf("%s-stage-%d", id, i+1), approvers: p.stageApprovers(me, st)})
	}
	p.requests[id] = r
	p.approvals[id] = ap
	return *r, nil
}

func (d *flDelegated) MyRequests(ctx context.Context) ([]entitlement.Request, error) {
	me, err := d.me(ctx)
	if err != nil {
		return nil, err
	}
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	var out []entitlement.Request
	for _, r := range d.p.requests {
		if r.Requestor.ID == me {
			out = append(out, *r)
		}
	}
	return out, nil
}

func (d *flDelegated) MyAssignments(ctx context.Context) ([]entitlement.Assignment, error) {
	me, err := d.me(ctx)
	if err != nil {
		return nil, err
	}
	return d.p.Assignments(ctx, entitlement.AssignmentFilter{TargetID: me})
}

func (d *flDelegated) CancelRequest(ctx context.Context, id string) error {
	me, err := d.me(ctx)
	if err != nil {
		return err
	}
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	r, ok := d.p.requests[id]
	if !ok || r.Requestor.ID != me {
		return entitlement.ErrNotFound
	}
	r.State = entitlement.StateCanceled
	if ap := d.p.approvals[id]; ap != nil {
		ap.closed = true
	}
	return nil
}

func (d *flDelegated) PendingApprovals(ctx context.Context) ([]entitlement.Request, error) {
	me, err := d.me(ctx)
	if err != nil {
		return nil, err
	}
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	var out []entitlement.Request
	for id, ap := range d.p.approvals {
		if st := ap.current(); st != nil && contains(st.approvers, me) {
			out = append(out, *d.p.requests[id])
		}
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (a *flApproval) current() *flStage {
	if a.closed {
		return nil
	}
	for _, s := range a.stages {
		if s.result == "" {
			return s
		}
		if s.result == entitlement.ReviewDeny {
			return nil
		}
	}
	return nil
}

func (d *flDelegated) Approval(ctx context.Context, id string) (entitlement.Approval, error) {
	me, err := d.me(ctx)
	if err != nil {
		return entitlement.Approval{}, err
	}
	d.p.mu.Lock()
	defer d.p.mu.Unlock()
	ap, ok := d.p.approvals[id]
	if !ok || ap.closed && d.p.hideClosed {
		return entitlement.Approval{}, entitlement.ErrNotFound
	}
	seen := false
	out := entitlement.Approval{ID: id}
	cur := ap.current()
	for i, s := range ap.stages {
		seen = seen || contains(s.approvers, me)
		st := entitlement.ApprovalStage{ID: s.id, Name: fmt.Sprintf("Stage %d", i+1), ReviewResult: entitlement.ReviewNotReviewed}
		switch {
		case s.result != "":
			st.Status, st.ReviewResult, st.ReviewedAt, st.Justification = entitlement.StageCompleted, s.result, s.at, s.just
			st.ReviewedBy = entitlement.Subject{ID: s.by, Name: d.p.users[s.by].Name}
		case s == cur:
			st.Status = entitlement.StageInProgress
			st.AssignedToMe = contains(s.approvers, me)
		case ap.closed:
			st.Status = entitlement.StageCompleted
		default:
			st.Status = entitlement.StageNotStarted
		}
		out.Stages = append(out.Stages, st)
	}
	if !seen {
		return entitlement.Approval{}, entitlement.ErrNotFound
	}
	return out, nil
}

func (d *flDelegated) DecideStage(ctx context.Context, id, stageID string, dec entitlement.Decision) error {
	me, err := d.me(ctx)
	if err != nil {
		return err
	}
	p := d.p
	if p.decideGate != nil {
		p.decideGate()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.decideCalls++
	ap := p.approvals[id]
	if ap == nil {
		return entitlement.ErrNotFound
	}
	var st *flStage
	for _, s := range ap.stages {
		if s.id == stageID {
			st = s
		}
	}
	if st == nil {
		return entitlement.ErrNotFound
	}
	if p.raceDecide != "" && st.result == "" {
		st.result, st.by, st.at = entitlement.ReviewApprove, p.raceDecide, p.now()
		p.raceDecide = ""
		p.advance(id)
	}
	if st.result != "" {
		return &entitlement.AlreadyDecidedError{By: p.users[st.by].Name, At: st.at, Result: st.result}
	}
	if !contains(st.approvers, me) || me == p.requests[id].Requestor.ID {
		return entitlement.ErrNotApprover
	}
	if dec.Justification == "" {
		for _, ps := range p.policies[p.requests[id].PolicyID].Stages {
			if ps.ApproverJustificationRequired {
				return entitlement.Invalid("justification", "is required by this policy")
			}
		}
	}
	st.result, st.by, st.at, st.just = dec.Result, me, p.now(), dec.Justification
	p.advance(id)
	return nil
}

// advance moves the request after a stage decision (lock held).
func (p *flPort) advance(id string) {
	r, ap := p.requests[id], p.approvals[id]
	for _, s := range ap.stages {
		if s.result == entitlement.ReviewDeny {
			r.State = entitlement.StateDenied
			return
		}
	}
	if ap.current() == nil {
		r.State = entitlement.StateDelivering
	}
}

// flTokens yields "token-for-<oid>"; users in signedOut have no token.
type flTokens struct {
	signedOut map[string]bool
}

func (f *flTokens) ForUser(tenantID, userID string) entitlement.TokenSource {
	return entitlement.TokenFunc(func(ctx context.Context) (string, error) {
		if f.signedOut[userID] {
			return "", entitlement.ErrSignInRequired
		}
		return "token-for-" + userID, nil
	})
}

func (f *flTokens) ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error {
	return nil
}

// fakeConnector is the bot's Connector in every unit test: it records what the bot sends and updates,
// creates conversations, answers member lookups by Teams id, and fails on demand.
type fakeConnector struct {
	mu      sync.Mutex
	seq     int
	sent    []sentActivity
	created []schema.ConversationParameters
	// notInstalled makes CreateConversation answer 403 for these users until the app is installed for them.
	notInstalled map[string]bool
	installed    func(userID string) bool
	// members answers GetMember by Teams id (an unknown id is an error); lookups counts the calls.
	members map[string]botframework.Member
	lookups int
	// failSend, failUpdate and failCreate, when set, are what Send (and Reply), Update and CreateConversation
	// return; nothing is recorded then.
	failSend, failUpdate, failCreate error
}

// sentActivity is one activity the bot sent ("send") or updated ("update") in a conversation.
type sentActivity struct {
	Op, Conversation, ID string
	Act                  *schema.Activity
}

func (c *fakeConnector) Send(ctx context.Context, serviceURL, conv string, act *schema.Activity) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSend != nil {
		return "", c.failSend
	}
	c.seq++
	id := fmt.Sprintf("msg-%d", c.seq)
	c.sent = append(c.sent, sentActivity{"send", conv, id, act})
	return id, nil
}

func (c *fakeConnector) Reply(ctx context.Context, serviceURL, conv, replyTo string, act *schema.Activity) (string, error) {
	return c.Send(ctx, serviceURL, conv, act)
}

func (c *fakeConnector) Update(ctx context.Context, serviceURL, conv, id string, act *schema.Activity) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failUpdate != nil {
		return c.failUpdate
	}
	c.sent = append(c.sent, sentActivity{"update", conv, id, act})
	return nil
}

func (c *fakeConnector) CreateConversation(ctx context.Context, serviceURL string, p schema.ConversationParameters) (botframework.ConversationResource, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failCreate != nil {
		return botframework.ConversationResource{}, c.failCreate
	}
	who := p.Members[0].AadObjectID
	if c.notInstalled[who] && (c.installed == nil || !c.installed(who)) {
		return botframework.ConversationResource{}, &botframework.APIError{Status: 403, Code: "Forbidden", Message: "bot not installed"}
	}
	c.created = append(c.created, p)
	return botframework.ConversationResource{ID: "conv-" + who}, nil
}

func (c *fakeConnector) GetMember(ctx context.Context, serviceURL, conv, memberID string) (botframework.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	m, ok := c.members[memberID]
	if !ok {
		return botframework.Member{}, errors.New("member not found")
	}
	return m, nil
}

// all returns everything sent or updated so far.
func (c *fakeConnector) all() []sentActivity { return c.since(0) }

// since returns what was sent or updated after the first n.
func (c *fakeConnector) since(n int) []sentActivity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentActivity(nil), c.sent[n:]...)
}

// count is the number of activities sent or updated so far.
func (c *fakeConnector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sent)
}

// text is everything readable in an activity (text and card strings).
func (s sentActivity) text() string {
	if len(s.Act.Attachments) == 0 {
		return s.Act.Text
	}
	raw, _ := json.Marshal(s.Act.Attachments[0].Content)
	return string(raw)
}

// flEnv is a bot wired to the fakes, with a real bbolt store.
type flEnv struct {
	t     *testing.T
	bot   *Bot
	port  *flPort
	conn  *fakeConnector
	store *store.Store
	clock *flClock
	toks  *flTokens
	seq   int
	// metrics records the domain metrics the bot reports.
	metrics *fakeMetrics
}

// fakeMetrics records RequestFiled and RequestDecided calls as "mode" and "mode/outcome/latency".
type fakeMetrics struct {
	mu      sync.Mutex
	filed   []string
	decided []string
}

func (m *fakeMetrics) RequestFiled(mode string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.filed = append(m.filed, mode)
}

func (m *fakeMetrics) RequestDecided(mode, outcome string, latency time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.decided = append(m.decided, fmt.Sprintf("%s/%s/%s", mode, outcome, latency))
}

type flClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *flClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *flClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newFlEnv(t *testing.T) *flEnv {
	t.Helper()
	clock := &flClock{now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	st, err := store.Open(filepath.Join(t.TempDir(), "bot.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &flEnv{t: t, port: newFlPort(clock.Now), conn: &fakeConnector{}, store: st, clock: clock, toks: &flTokens{signedOut: map[string]bool{}},
		metrics: &fakeMetrics{}}
	e.bot, err = New(Config{Connector: e.conn, Store: st, Metrics: e.metrics, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clock.Now,
		BotID: "28:bot", Entitlement: e.port, Tokens: e.toks, Tenant: TenantInfo{ID: flTenant, Name: "Contoso", Domain: "contoso.example"},
		TeamsAppID: "app", PollInterval: time.Second, PollMax: time.Minute, ReminderAfter: 24 * time.Hour})
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}
	return e
}

func (e *flEnv) activity(user, name, typ string) *schema.Activity {
	e.seq++
	return &schema.Activity{Type: schema.ActivityTypes(typ), ID: fmt.Sprintf("in-%d", e.seq), ChannelID: "msteams",
		ServiceURL: "https://smba.example/emea/", From: schema.ChannelAccount{ID: "29:" + name, Name: name, AadObjectID: user},
		Recipient: schema.ChannelAccount{ID: "28:bot", Name: "AccessBot"}, Conversation: schema.ConversationAccount{
			ID: "chat-" + user, ConversationType: "personal", TenantID: flTenant}}
}

// message sends typed text as user.
func (e *flEnv) message(user, name, text string) {
	e.t.Helper()
	act := e.activity(user, name, "message")
	act.Text = text
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("message %q: %v", text, err)
	}
}

// execute clicks an Action.Execute on the card with activity id replyTo.
func (e *flEnv) execute(user, name, replyTo, verb string, data map[string]any) (*schema.Activity, *botframework.InvokeResponse) {
	e.t.Helper()
	act := e.activity(user, name, "invoke")
	act.Name = "adaptiveCard/action"
	act.ReplyToID = replyTo
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil {
		e.t.Fatalf("execute %s: %v", verb, err)
	}
	return act, resp
}

// drain delivers every due outbox item with the bot's handler.
func (e *flEnv) drain() {
	e.t.Helper()
	ctx := context.Background()
	for range 20 {
		items, err := e.store.Lease(ctx, 50, time.Minute)
		if err != nil {
			e.t.Fatalf("lease outbox: %v", err)
		}
		if len(items) == 0 {
			return
		}
		for _, it := range items {
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

// poll runs the tracker once over every tracked request, then delivers the outbox.
func (e *flEnv) poll() {
	e.t.Helper()
	e.clock.Advance(2 * time.Minute) // everything due
	e.bot.PollDue(context.Background())
	e.drain()
}

// respCard decodes an invoke answer's card as JSON text.
func respCard(t *testing.T, resp *botframework.InvokeResponse) string {
	t.Helper()
	if resp == nil {
		t.Fatal("no invoke response")
	}
	raw, err := json.Marshal(resp.Body)
	if err != nil {
		t.Fatalf("encode invoke body: %v", err)
	}
	var body struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("decode invoke body: %v", err)
	}
	if body.Type != cards.ContentType {
		t.Fatalf("invoke answer type %q (value %s), want a card", body.Type, body.Value)
	}
	return string(body.Value)
}

// cardsTo returns the activities sent or updated in a user's chat.
func (e *flEnv) cardsTo(conv string) []sentActivity {
	var out []sentActivity
	for _, s := range e.conn.all() {
		if s.Conversation == conv {
			out = append(out, s)
		}
	}
	return out
}
