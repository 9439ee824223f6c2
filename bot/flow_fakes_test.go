package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
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
