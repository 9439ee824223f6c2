package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Store buckets and outbox kinds used by the request/approval flows.
const (
	bucketTracked    = "tracked"
	bucketServiceURL = "serviceurl"

	// OutboxCardUpdate re-renders one stored card (status or approval) and updates it in place.
	OutboxCardUpdate = "bot.card.update"
	// OutboxNotify sends a short text message to a user (creating the 1:1 chat when needed).
	OutboxNotify = "bot.notify"
	// OutboxApprovalCard sends an approval card to one approver of a stage.
	OutboxApprovalCard = "bot.approval.card"

	cardKindStatus   = "status"
	cardKindApproval = "approval"
)

// flowState is the in-process state of the request/approval flows. Its zero value is ready to use.
type flowState struct {
	mu         sync.Mutex
	kick       chan struct{}
	outboxKick func()
	locks      map[string]*keyLock
	outbox     map[string]func(ctx context.Context, payload json.RawMessage) error
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

// lock serializes work on one key (a request id) inside this process and returns the unlock function.
func (b *Bot) lock(key string) func() {
	f := &b.fl
	f.mu.Lock()
	if f.locks == nil {
		f.locks = map[string]*keyLock{}
	}
	l := f.locks[key]
	if l == nil {
		l = &keyLock{}
		f.locks[key] = l
	}
	l.refs++
	f.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		f.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(f.locks, key)
		}
		f.mu.Unlock()
	}
}

func (b *Bot) kickChan() chan struct{} {
	b.fl.mu.Lock()
	defer b.fl.mu.Unlock()
	if b.fl.kick == nil {
		b.fl.kick = make(chan struct{}, 1)
	}
	return b.fl.kick
}

// Kick wakes the request tracker so it polls the requests that are due now. It never blocks.
func (b *Bot) Kick() {
	select {
	case b.kickChan() <- struct{}{}:
	default:
	}
}

// SetOutboxKicker registers the function that wakes the outbox worker (store.OutboxWorker.Kick); the bot
// calls it after every Enqueue so proactive messages go out at once.
func (b *Bot) SetOutboxKicker(kick func()) {
	b.fl.mu.Lock()
	defer b.fl.mu.Unlock()
	b.fl.outboxKick = kick
}

// onOutbox registers the handler of one outbox kind (flows other than request/approve may add theirs).
func (b *Bot) onOutbox(kind string, h func(ctx context.Context, payload json.RawMessage) error) {
	b.fl.mu.Lock()
	defer b.fl.mu.Unlock()
	if b.fl.outbox == nil {
		b.fl.outbox = map[string]func(context.Context, json.RawMessage) error{}
	}
	if _, dup := b.fl.outbox[kind]; dup {
		panic(fmt.Sprintf("bot: outbox kind %q registered twice", kind))
	}
	b.fl.outbox[kind] = h
}

// HandleOutbox delivers one outbox item; it is the handler to give store.NewOutboxWorker. An error makes the
// worker retry the item later with backoff.
func (b *Bot) HandleOutbox(ctx context.Context, it store.OutboxItem) error {
	b.fl.mu.Lock()
	h := b.fl.outbox[it.Kind]
	b.fl.mu.Unlock()
	if h == nil {
		return fmt.Errorf("outbox item %s: unknown kind %q", it.ID, it.Kind)
	}
	if err := h(ctx, it.Payload); err != nil {
		return fmt.Errorf("outbox item %s (%s): %w", it.ID, it.Kind, err)
	}
	return nil
}

// enqueue stores a proactive action in the outbox and wakes the worker.
func (b *Bot) enqueue(ctx context.Context, kind string, payload any) {
	if _, err := b.cfg.Store.Enqueue(ctx, kind, payload, time.Time{}); err != nil {
		b.log.ErrorContext(ctx, "enqueue outbox item", "kind", kind, "err", err)
		return
	}
	b.fl.mu.Lock()
	kick := b.fl.outboxKick
	b.fl.mu.Unlock()
	if kick != nil {
		kick()
	}
}

func (b *Bot) registerTracker() {
	b.onOutbox(OutboxCardUpdate, b.deliverCardUpdate)
	b.onOutbox(OutboxNotify, b.deliverNotify)
	b.onOutbox(OutboxApprovalCard, b.deliverApprovalCard)
}

// ---- the tracked record ----

// personRef is an approver (or sponsor) the bot may message.
type personRef struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
	// TeamsID is the user's Teams id (29:…) when the bot has talked to them.
	TeamsID string `json:"teamsId,omitempty"`
	// Escalation marks an approver added when the stage escalated.
	Escalation bool `json:"escalation,omitempty"`
}

// decisionRecord is one decision the bot saw or made.
type decisionRecord struct {
	Stage         int                      `json:"stage"`
	StageID       string                   `json:"stageId,omitempty"`
	ApproverID    string                   `json:"approverId,omitempty"`
	ApproverName  string                   `json:"approverName,omitempty"`
	Result        entitlement.ReviewResult `json:"result"`
	At            time.Time                `json:"at"`
	Justification string                   `json:"justification,omitempty"`
}

// timelineEvent is one line of the status card's history.
type timelineEvent struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// trackedRequest is what the bot remembers about a request it filed or learned about.
type trackedRequest struct {
	ID              string                   `json:"id"`
	Type            entitlement.RequestType  `json:"type,omitempty"`
	RequestorID     string                   `json:"requestorId,omitempty"`
	RequestorName   string                   `json:"requestorName,omitempty"`
	RequestorEmail  string                   `json:"requestorEmail,omitempty"`
	RequestorOrgID  string                   `json:"requestorOrgId,omitempty"`
	RequestorTenant string                   `json:"requestorTenant,omitempty"` // tenant of the requester's chat
	PackageID       string                   `json:"packageId,omitempty"`
	PackageName     string                   `json:"packageName,omitempty"`
	PolicyID        string                   `json:"policyId,omitempty"`
	State           entitlement.RequestState `json:"state"`
	Status          string                   `json:"status,omitempty"`
	Justification   string                   `json:"justification,omitempty"`
	Answers         []entitlement.Answer     `json:"answers,omitempty"`
	Schedule        entitlement.Schedule     `json:"schedule"`
	CreatedAt       time.Time                `json:"createdAt"`
	AssignmentID    string                   `json:"assignmentId,omitempty"`
	Mode            cards.Mode               `json:"mode,omitempty"`
	// CanceledByUser is set when the requester canceled through the bot (no notification needed).
	CanceledByUser bool `json:"canceledByUser,omitempty"`

	// Stage is the 1-based stage waiting for a decision (0 when not pending approval); StageCount comes
	// from the policy. StageID is Graph's id of that stage when the bot has seen it.
	Stage          int         `json:"stage,omitempty"`
	StageCount     int         `json:"stageCount,omitempty"`
	StageID        string      `json:"stageId,omitempty"`
	StageStartedAt time.Time   `json:"stageStartedAt"`
	Approvers      []personRef `json:"approvers,omitempty"`
	Notified       bool        `json:"notified,omitempty"`
	RemindedAt     time.Time   `json:"remindedAt"`
	Escalated      bool        `json:"escalated,omitempty"`

	Decisions []decisionRecord `json:"decisions,omitempty"`
	Timeline  []timelineEvent  `json:"timeline,omitempty"`

	// jobs are outbox items queued while the record is being changed; they are enqueued after it is saved.
	jobs []queuedJob

	Delay     time.Duration `json:"delay"`
	NextPoll  time.Time     `json:"nextPoll"`
	UpdatedAt time.Time     `json:"updatedAt"`
	Closed    bool          `json:"closed,omitempty"`
}

type queuedJob struct {
	kind    string
	payload any
}

// queue holds an outbox item until the record is saved (a worker must never see the job before the state).
func (tr *trackedRequest) queue(kind string, payload any) {
	tr.jobs = append(tr.jobs, queuedJob{kind, payload})
}

// flush enqueues the held outbox items.
func (b *Bot) flush(ctx context.Context, tr *trackedRequest) {
	for _, j := range tr.jobs {
		b.enqueue(ctx, j.kind, j.payload)
	}
	tr.jobs = nil
}

// maxTimelineEvents bounds the stored history of one request.
const maxTimelineEvents = 30

func (tr *trackedRequest) event(at time.Time, text string) {
	if n := len(tr.Timeline); n > 0 && tr.Timeline[n-1].Text == text {
		return
	}
	tr.Timeline = append(tr.Timeline, timelineEvent{At: at, Text: text})
	if len(tr.Timeline) > maxTimelineEvents {
		tr.Timeline = tr.Timeline[len(tr.Timeline)-maxTimelineEvents:]
	}
}

// decision returns the decision recorded for a stage.
func (tr *trackedRequest) decision(stage int) (decisionRecord, bool) {
	for i := len(tr.Decisions) - 1; i >= 0; i-- {
		if tr.Decisions[i].Stage == stage {
			return tr.Decisions[i], true
		}
	}
	return decisionRecord{}, false
}

func (tr *trackedRequest) lastDecision() (decisionRecord, bool) {
	if len(tr.Decisions) == 0 {
		return decisionRecord{}, false
	}
	return tr.Decisions[len(tr.Decisions)-1], true
}

// isApprover reports whether userID is an approver of the current stage.
func (tr *trackedRequest) isApprover(userID string) bool {
	return slices.ContainsFunc(tr.Approvers, func(p personRef) bool { return strings.EqualFold(p.ID, userID) })
}

func (b *Bot) loadTracked(ctx context.Context, id string) (*trackedRequest, error) {
	var tr trackedRequest
	if err := b.cfg.Store.Get(ctx, bucketTracked, id, &tr); err != nil {
		return nil, fmt.Errorf("load tracked request %s: %w", id, err)
	}
	return &tr, nil
}

func (b *Bot) saveTracked(ctx context.Context, tr *trackedRequest) error {
	tr.UpdatedAt = b.now()
	if err := b.cfg.Store.Put(ctx, bucketTracked, tr.ID, tr); err != nil {
		return fmt.Errorf("save tracked request %s: %w", tr.ID, err)
	}
	return nil
}

// trackOptions carry what the caller knows beyond the Graph request.
type trackOptions struct {
	// RequestorTenant is the tenant of the requester's chat.
	RequestorTenant string
	RequestorName   string
	Mode            cards.Mode
}

// track records a request (filed by the bot or learned from a list) so the tracker follows it, and
// applies the state just read. It returns the tracked record.
func (b *Bot) track(ctx context.Context, req entitlement.Request, opt trackOptions) (*trackedRequest, error) {
	return b.observe(ctx, req, &opt)
}

// observe applies a fresh read of a request to its tracked record: on a change it updates every card copy,
// notifies the requester and, for a new approval stage, resolves and messages the stage's approvers.
func (b *Bot) observe(ctx context.Context, req entitlement.Request, opt *trackOptions) (*trackedRequest, error) {
	if req.ID == "" {
		return nil, errors.New("observe request: request has no id")
	}
	unlock := b.lock("req:" + req.ID)
	defer unlock()
	now := b.now()

	tr, err := b.loadTracked(ctx, req.ID)
	isNew := false
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		isNew = true
		tr = &trackedRequest{ID: req.ID, Mode: cards.ModeDelegated, Delay: b.cfg.PollInterval, CreatedAt: req.CreatedAt}
		if tr.CreatedAt.IsZero() {
			tr.CreatedAt = now
		}
		tr.event(tr.CreatedAt, "Request submitted")
	}
	if opt != nil {
		if opt.RequestorTenant != "" {
			tr.RequestorTenant = opt.RequestorTenant
		}
		if opt.RequestorName != "" && tr.RequestorName == "" {
			tr.RequestorName = opt.RequestorName
		}
		if opt.Mode != "" {
			tr.Mode = opt.Mode
		}
	}
	if tr.RequestorTenant == "" {
		tr.RequestorTenant = b.cfg.Tenant.ID
	}
	merge(tr, req)

	oldState, oldStage := tr.State, tr.Stage
	if isNew {
		oldState = ""
	}
	tr.State = req.State
	tr.Status = req.Status

	changed := isNew || oldState != tr.State
	if tr.State == entitlement.StatePendingApproval {
		// The stage waiting now: the one after the last approved stage. After a denial, or after the last
		// stage was approved, Graph may still say pendingApproval for a moment: the stage stays.
		stage := max(tr.Stage, 1)
		if d, ok := tr.lastDecision(); ok {
			stage = d.Stage
			if d.Result == entitlement.ReviewApprove && (tr.StageCount == 0 || d.Stage < tr.StageCount) {
				stage = d.Stage + 1
			}
		}
		if stage != tr.Stage || !tr.Notified {
			b.enterStage(ctx, tr, stage, now)
			changed = true
		}
		b.checkEscalation(ctx, tr, now)
		b.checkReminder(ctx, tr, now)
	} else {
		tr.Stage = 0
	}
	if !tr.State.Open() && tr.State != "" {
		tr.Closed = true
	}

	if changed {
		if !isNew || tr.State != entitlement.StateSubmitted {
			tr.event(now, stateEventText(tr))
		}
		tr.Delay = b.cfg.PollInterval
		if !isNew {
			// A request the bot just filed or just learned about needs no news: its card shows the state.
			b.notifyRequester(ctx, tr, oldState, oldStage)
		}
	} else {
		tr.Delay = min(max(tr.Delay*2, b.cfg.PollInterval), b.cfg.PollMax)
	}
	tr.NextPoll = now.Add(tr.Delay)
	if err := b.saveTracked(ctx, tr); err != nil {
		return nil, err
	}
	b.flush(ctx, tr)
	if changed && !isNew {
		b.updateCards(ctx, tr.ID, "")
	}
	return tr, nil
}

// merge copies what a read of the request says into the record (keeping what the read lacks).
func merge(tr *trackedRequest, req entitlement.Request) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	if req.Type != "" {
		tr.Type = req.Type
	}
	set(&tr.RequestorID, req.Requestor.ID)
	set(&tr.RequestorName, req.Requestor.Name)
	set(&tr.RequestorEmail, req.Requestor.Email)
	set(&tr.RequestorOrgID, req.Requestor.ConnectedOrgID)
	set(&tr.PackageID, req.PackageID)
	set(&tr.PackageName, req.PackageName)
	set(&tr.PolicyID, req.PolicyID)
	set(&tr.Justification, req.Justification)
	set(&tr.AssignmentID, req.AssignmentID)
	if len(req.Answers) > 0 {
		tr.Answers = req.Answers
	}
	if !req.Schedule.Start.IsZero() || req.Schedule.Expiration.Type != "" {
		tr.Schedule = req.Schedule
	}
	if !req.CreatedAt.IsZero() {
		tr.CreatedAt = req.CreatedAt
	}
}

// enterStage moves the record to a new approval stage: resolves its approvers and queues their cards.
func (b *Bot) enterStage(ctx context.Context, tr *trackedRequest, stage int, now time.Time) {
	tr.Stage = stage
	tr.StageID = ""
	tr.StageStartedAt = now
	tr.Escalated = false
	tr.RemindedAt = time.Time{}
	tr.Approvers = nil
	tr.Notified = false
	pol, err := b.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil {
		b.log.WarnContext(ctx, "read policy for approvers", "request", tr.ID, "policy", tr.PolicyID, "err", err)
		return
	}
	tr.StageCount = len(pol.Stages)
	tr.Notified = true // the policy was read: whatever it says is final for this stage
	if stage > len(pol.Stages) || stage < 1 {
		b.log.WarnContext(ctx, "request waits for a stage its policy does not have", "request", tr.ID, "stage", stage, "stages", len(pol.Stages))
		return
	}
	people := b.resolveApprovers(ctx, tr, pol.Stages[stage-1], false)
	if len(people) == 0 {
		b.log.WarnContext(ctx, "no approver of the stage could be resolved", "request", tr.ID, "stage", stage)
	}
	tr.Approvers = people
	if stage > 1 {
		tr.event(now, fmt.Sprintf("Stage %d of %d: waiting for %s", stage, tr.StageCount, namesOf(people)))
	}
	for _, p := range people {
		tr.queue(OutboxApprovalCard, approvalCardJob{RequestID: tr.ID, Stage: stage, Approver: p})
	}
}

// checkEscalation adds the stage's escalation approvers once its escalation time has passed.
func (b *Bot) checkEscalation(ctx context.Context, tr *trackedRequest, now time.Time) {
	if tr.Escalated || tr.Stage < 1 || tr.StageStartedAt.IsZero() {
		return
	}
	pol, err := b.cfg.Entitlement.Policy(ctx, tr.PolicyID)
	if err != nil || tr.Stage > len(pol.Stages) {
		return
	}
	st := pol.Stages[tr.Stage-1]
	if !st.EscalationEnabled {
		return
	}
	after, err := parseISODuration(st.DurationBeforeEscalation)
	if err != nil || after <= 0 || now.Before(tr.StageStartedAt.Add(after)) {
		return
	}
	tr.Escalated = true
	primary := namesOf(tr.Approvers)
	var added []personRef
	for _, p := range b.resolveApprovers(ctx, tr, st, true) {
		if tr.isApprover(p.ID) {
			continue
		}
		p.Escalation = true
		tr.Approvers = append(tr.Approvers, p)
		added = append(added, p)
	}
	if len(added) == 0 {
		return
	}
	note := fmt.Sprintf("Escalated to you: %s did not decide within %s.", orUnknown(primary, "the approvers"), humanizeDuration(after))
	for _, p := range added {
		tr.queue(OutboxApprovalCard, approvalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, Note: note})
	}
	tr.event(now, fmt.Sprintf("Escalated to %s", namesOf(added)))
	text := fmt.Sprintf("%s's request for %s was escalated to %s because nobody decided within %s.",
		orUnknown(tr.RequestorName, "A"), orUnknown(tr.PackageName, "an access package"), namesOf(added), humanizeDuration(after))
	for _, p := range tr.Approvers {
		if !p.Escalation {
			tr.queue(OutboxNotify, notifyJob{TenantID: orUnknown(p.TenantID, b.cfg.Tenant.ID), UserID: p.ID, Text: text})
		}
	}
	if tr.RequestorID != "" {
		tr.queue(OutboxNotify, notifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID,
			Text: fmt.Sprintf("Your request for %s was escalated to %s.", orUnknown(tr.PackageName, "an access package"), namesOf(added))})
	}
}

// checkReminder reminds the stage's approvers once ReminderAfter has passed since the stage began (or since
// the last reminder).
func (b *Bot) checkReminder(ctx context.Context, tr *trackedRequest, now time.Time) {
	if tr.Stage < 1 || tr.StageStartedAt.IsZero() || len(tr.Approvers) == 0 {
		return
	}
	since := tr.StageStartedAt
	if tr.RemindedAt.After(since) {
		since = tr.RemindedAt
	}
	if now.Sub(since) < b.cfg.ReminderAfter {
		return
	}
	tr.RemindedAt = now
	note := fmt.Sprintf("Reminder: this request has been waiting for your decision for %s.", humanizeDuration(now.Sub(tr.StageStartedAt)))
	for _, p := range tr.Approvers {
		tr.queue(OutboxApprovalCard, approvalCardJob{RequestID: tr.ID, Stage: tr.Stage, Approver: p, Note: note})
	}
	tr.event(now, "Approvers reminded")
}

// resolveApprovers expands a stage's approver rules into people: requestorManager (fallback approvers when
// there is no manager), singleUser, groupMembers, internal and external sponsors. The requestor is never
// their own approver.
func (b *Bot) resolveApprovers(ctx context.Context, tr *trackedRequest, st entitlement.Stage, escalation bool) []personRef {
	primary, fallback := st.PrimaryApprovers, st.FallbackPrimaryApprovers
	if escalation {
		primary, fallback = st.EscalationApprovers, st.FallbackEscalationApprovers
	}
	people := b.expandSets(ctx, tr, primary)
	if len(people) == 0 {
		people = b.expandSets(ctx, tr, fallback)
	}
	for i := range people {
		if people[i].TenantID == "" {
			people[i].TenantID = b.cfg.Tenant.ID
		}
		if people[i].TeamsID == "" {
			if ref, err := b.cfg.Store.Conversation(ctx, people[i].TenantID, people[i].ID); err == nil {
				people[i].TeamsID = ref.UserID
			}
		}
	}
	return people
}

func (b *Bot) expandSets(ctx context.Context, tr *trackedRequest, sets []entitlement.SubjectSet) []personRef {
	var out []personRef
	add := func(u entitlement.User) {
		if u.ID == "" || strings.EqualFold(u.ID, tr.RequestorID) {
			return
		}
		if slices.ContainsFunc(out, func(p personRef) bool { return strings.EqualFold(p.ID, u.ID) }) {
			return
		}
		out = append(out, personRef{ID: u.ID, Name: u.Name, TenantID: u.TenantID})
	}
	dir := b.cfg.Entitlement
	for _, s := range sets {
		if s.IsBackup {
			continue
		}
		switch s.Kind {
		case entitlement.SetRequestorManager:
			if tr.RequestorID == "" {
				continue
			}
			m, err := dir.Manager(ctx, tr.RequestorID)
			if err != nil {
				if !errors.Is(err, entitlement.ErrNotFound) {
					b.log.WarnContext(ctx, "resolve requestor manager", "request", tr.ID, "err", err)
				}
				continue
			}
			add(m)
		case entitlement.SetSingleUser:
			u, err := dir.User(ctx, s.UserID)
			if err != nil {
				b.log.WarnContext(ctx, "resolve single approver", "request", tr.ID, "user", s.UserID, "err", err)
				continue
			}
			add(u)
		case entitlement.SetGroupMembers:
			ms, err := dir.GroupMembers(ctx, s.GroupID)
			if err != nil {
				b.log.WarnContext(ctx, "resolve approver group", "request", tr.ID, "group", s.GroupID, "err", err)
				continue
			}
			for _, u := range ms {
				add(u)
			}
		case entitlement.SetInternalSponsors, entitlement.SetExternalSponsors:
			if tr.RequestorOrgID == "" {
				continue
			}
			sp, err := dir.Sponsors(ctx, tr.RequestorOrgID)
			if err != nil {
				b.log.WarnContext(ctx, "resolve sponsors", "request", tr.ID, "org", tr.RequestorOrgID, "err", err)
				continue
			}
			list := sp.Internal
			if s.Kind == entitlement.SetExternalSponsors {
				list = sp.External
			}
			for _, u := range list {
				add(u)
			}
		default:
			b.log.InfoContext(ctx, "approver rule not supported by the bot", "request", tr.ID, "kind", string(s.Kind))
		}
	}
	return out
}

// notifyRequester sends the requester a short message about a state change worth telling.
func (b *Bot) notifyRequester(ctx context.Context, tr *trackedRequest, oldState entitlement.RequestState, oldStage int) {
	if tr.RequestorID == "" {
		return
	}
	pkg := orUnknown(tr.PackageName, "your access package")
	var text string
	d, hasDecision := tr.lastDecision()
	by := ""
	if hasDecision && d.ApproverName != "" {
		by = " by " + d.ApproverName
	}
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.Stage > 1 && tr.Stage != oldStage {
			text = fmt.Sprintf("Stage %d of your request for %s was approved%s; now waiting for %s.", tr.Stage-1, pkg, by, orUnknown(namesOf(tr.Approvers), "the next approvers"))
		}
	case entitlement.StateDelivering:
		if oldState == entitlement.StatePendingApproval {
			text = fmt.Sprintf("Your request for %s was approved%s. Your access is being set up.", pkg, by)
		}
	case entitlement.StateDelivered:
		text = fmt.Sprintf("You now have access: %s was delivered.", pkg)
	case entitlement.StateDenied:
		if hasDecision && d.Result == entitlement.ReviewDeny {
			text = fmt.Sprintf("Your request for %s was denied%s.", pkg, by)
		} else {
			text = fmt.Sprintf("Your request for %s was denied (nobody approved it in time, or a policy refused it).", pkg)
		}
	case entitlement.StateCanceled:
		if !tr.CanceledByUser {
			text = fmt.Sprintf("Your request for %s was canceled.", pkg)
		}
	case entitlement.StateDeliveryFailed:
		text = fmt.Sprintf("Your request for %s was approved but the access could not be delivered. An admin can retry it; you can also request again.", pkg)
	case entitlement.StatePartiallyDelivered:
		text = fmt.Sprintf("Your request for %s was partially delivered; the rest will be retried.", pkg)
	case entitlement.StateScheduled:
		text = fmt.Sprintf("Your request for %s was approved and is scheduled to start on the requested date.", pkg)
	}
	if text == "" {
		return
	}
	tr.queue(OutboxNotify, notifyJob{TenantID: tr.RequestorTenant, UserID: tr.RequestorID, Text: text})
}

// stateEventText is the timeline line for the record's current state.
func stateEventText(tr *trackedRequest) string {
	d, ok := tr.lastDecision()
	by := ""
	if ok && d.ApproverName != "" {
		by = " by " + d.ApproverName
	}
	switch tr.State {
	case entitlement.StatePendingApproval:
		if tr.StageCount > 1 {
			return fmt.Sprintf("Pending approval (stage %d of %d)", max(tr.Stage, 1), tr.StageCount)
		}
		return "Pending approval"
	case entitlement.StateDelivering:
		if ok && d.Result == entitlement.ReviewApprove {
			return "Approved" + by + "; delivering"
		}
		return "Delivering"
	case entitlement.StateDenied:
		if ok && d.Result == entitlement.ReviewDeny {
			return "Denied" + by
		}
		return "Denied"
	}
	return cards.StateLabel(cardState(tr))
}

// updateCards queues an in-place update of every stored card of a request except the one with skipActivityID
// (the card an invoke is answering right now).
func (b *Bot) updateCards(ctx context.Context, requestID, skipActivityID string) {
	refs, err := b.cfg.Store.Cards(ctx, requestID)
	if err != nil {
		b.log.WarnContext(ctx, "list cards of request", "request", requestID, "err", err)
		return
	}
	for _, ref := range refs {
		if skipActivityID != "" && ref.ActivityID == skipActivityID {
			continue
		}
		b.enqueue(ctx, OutboxCardUpdate, cardUpdateJob{RequestID: requestID, Ref: ref})
	}
}

// storeCard records a card the bot sent (or answered an invoke with) so later changes update it in place.
func (b *Bot) storeCard(ctx context.Context, requestID, kind string, stage int, tenantID, userID, conversationID, serviceURL, activityID string) {
	if activityID == "" || conversationID == "" || serviceURL == "" {
		return
	}
	k := kind + ":" + activityID
	if kind == cardKindApproval {
		k = fmt.Sprintf("%s:%d:%s", kind, stage, activityID)
	}
	ref := store.CardRef{Key: requestID, Kind: k, TenantID: tenantID, AADObjectID: userID,
		ConversationID: conversationID, ServiceURL: serviceURL, ActivityID: activityID}
	if err := b.cfg.Store.PutCard(ctx, ref); err != nil {
		b.log.WarnContext(ctx, "store card reference", "request", requestID, "kind", kind, "err", err)
	}
}

// parseCardKind splits a stored card kind: "status:<activity>" or "approval:<stage>:<activity>".
func parseCardKind(kind string) (base string, stage int) {
	parts := strings.SplitN(kind, ":", 3)
	base = parts[0]
	if base == cardKindApproval && len(parts) == 3 {
		_, _ = fmt.Sscanf(parts[1], "%d", &stage)
	}
	return base, stage
}

// ---- outbox jobs ----

type cardUpdateJob struct {
	RequestID string        `json:"requestId"`
	Ref       store.CardRef `json:"ref"`
}

type notifyJob struct {
	TenantID string `json:"tenantId"`
	UserID   string `json:"userId"`
	Text     string `json:"text"`
	// Buttons, when set, send Text as a notice card (Kind, Title) whose buttons run commands.
	Buttons []notifyButton   `json:"buttons,omitempty"`
	Title   string           `json:"title,omitempty"`
	Kind    cards.NoticeKind `json:"kind,omitempty"`
	// Partner marks a connected organization's user (a guest in TenantID, or not in its directory yet: then
	// UserID is empty and Email names them). They are reached only through a conversation the bot already
	// has: their chat in TenantID, else their home-tenant chat known from a brokered request of theirs.
	Partner bool   `json:"partner,omitempty"`
	Email   string `json:"email,omitempty"`
}

// notifyButton is a notification's button: Title runs Command (access, status…).
type notifyButton struct {
	Title   string `json:"title"`
	Command string `json:"command"`
}

type approvalCardJob struct {
	RequestID string    `json:"requestId"`
	Stage     int       `json:"stage"`
	Approver  personRef `json:"approver"`
	Note      string    `json:"note,omitempty"`
}

func (b *Bot) deliverCardUpdate(ctx context.Context, raw json.RawMessage) error {
	var job cardUpdateJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode card update: %w", err)
	}
	tr, err := b.loadTracked(ctx, job.RequestID)
	if err != nil {
		return err
	}
	base, stage := parseCardKind(job.Ref.Kind)
	var card *cards.Card
	switch base {
	case cardKindStatus:
		card = cards.RequestStatus(b.statusView(ctx, tr))
	case cardKindApproval:
		card = b.approverCard(ctx, tr, stage, job.Ref.AADObjectID, "")
	default:
		return nil // another flow's card
	}
	if err := b.cfg.Connector.Update(ctx, job.Ref.ServiceURL, job.Ref.ConversationID, job.Ref.ActivityID, cardActivity(card)); err != nil {
		var ae *botframework.APIError
		if errors.As(err, &ae) && ae.Status == 404 {
			// The message is gone (deleted by the user, or the chat was removed): nothing left to update.
			b.log.InfoContext(ctx, "card to update no longer exists", "request", job.RequestID, "activity", job.Ref.ActivityID)
			return nil
		}
		return fmt.Errorf("update %s card of request %s: %w", base, job.RequestID, err)
	}
	return nil
}

func (b *Bot) deliverNotify(ctx context.Context, raw json.RawMessage) error {
	var job notifyJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode notification: %w", err)
	}
	act := textActivity(job.Text)
	if len(job.Buttons) > 0 {
		v := cards.NoticeView{Kind: orNoticeKind(job.Kind), Title: job.Title, Text: job.Text}
		for _, btn := range job.Buttons {
			v.Suggestions = append(v.Suggestions, cards.Suggestion{Title: btn.Title, Command: btn.Command})
		}
		act = cardActivity(cards.Notice(v))
	}
	tenantID, userID := job.TenantID, job.UserID
	if job.Partner {
		ref, ok, err := b.partnerConversation(ctx, job.TenantID, job.UserID, job.Email)
		if err != nil {
			return err
		}
		if !ok {
			b.log.InfoContext(ctx, "no chat with the partner user to notify; not sent", "user", job.UserID, "tenant", job.TenantID)
			return nil
		}
		tenantID, userID = ref.TenantID, ref.AADObjectID
	}
	_, _, err := b.deliverTo(ctx, tenantID, userID, act)
	return err
}

func orNoticeKind(k cards.NoticeKind) cards.NoticeKind {
	if k == "" {
		return noticeInfo
	}
	return k
}

// partnerConversation finds a stored chat with a connected organization's user: their chat in tenantID
// (as a guest there), else the chat in their home tenant of the newest brokered request whose guest
// account is userID or whose address is email. ok is false when the bot has none.
func (b *Bot) partnerConversation(ctx context.Context, tenantID, userID, email string) (ref store.ConversationRef, ok bool, err error) {
	if userID != "" && tenantID != "" {
		here, err := b.cfg.Store.Conversation(ctx, tenantID, userID)
		if err == nil {
			return here, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return here, false, fmt.Errorf("load conversation of %s: %w", userID, err)
		}
	}
	var home brokeredRequester
	var newest time.Time
	err = b.cfg.Store.List(ctx, bucketBrokered, brokeredPrefix, func(key string, raw []byte) error {
		var br brokeredRequest
		if json.Unmarshal(raw, &br) != nil || br.Requester.ID == "" || br.Requester.TenantID == "" {
			return nil
		}
		match := userID != "" && strings.EqualFold(br.Guest.UserID, userID) || email != "" && strings.EqualFold(br.Requester.Email, email)
		if match && (home.ID == "" || br.CreatedAt.After(newest)) {
			home, newest = br.Requester, br.CreatedAt
		}
		return nil
	})
	if err != nil {
		return ref, false, fmt.Errorf("look for the home chat of partner user %s: %w", orUnknown(userID, email), err)
	}
	if home.ID == "" {
		return ref, false, nil
	}
	ref, err = b.cfg.Store.Conversation(ctx, home.TenantID, home.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ref, false, nil
	}
	if err != nil {
		return ref, false, fmt.Errorf("load home conversation of %s: %w", home.ID, err)
	}
	return ref, true, nil
}

func (b *Bot) deliverApprovalCard(ctx context.Context, raw json.RawMessage) error {
	var job approvalCardJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode approval card job: %w", err)
	}
	tr, err := b.loadTracked(ctx, job.RequestID)
	if err != nil {
		return err
	}
	if tr.State != entitlement.StatePendingApproval || tr.Stage != job.Stage {
		b.log.InfoContext(ctx, "approval card no longer needed", "request", tr.ID, "stage", job.Stage, "state", string(tr.State))
		return nil
	}
	if _, decided := tr.decision(job.Stage); decided {
		return nil
	}
	view := b.approvalView(ctx, tr, job.Approver.ID)
	view.Note = job.Note
	tenant := orUnknown(job.Approver.TenantID, b.cfg.Tenant.ID)
	ref, actID, err := b.deliverTo(ctx, tenant, job.Approver.ID, cardActivity(cards.Approval(view)))
	if err != nil {
		return err
	}
	b.storeCard(ctx, tr.ID, cardKindApproval, job.Stage, tenant, job.Approver.ID, ref.ConversationID, ref.ServiceURL, actID)
	return nil
}

// deliverTo sends an activity to a user's 1:1 chat with the bot: the stored conversation, else a new one
// (installing the app for the user through Graph first when Teams says it is not installed).
func (b *Bot) deliverTo(ctx context.Context, tenantID, userID string, act *schema.Activity) (store.ConversationRef, string, error) {
	if tenantID == "" || userID == "" {
		return store.ConversationRef{}, "", fmt.Errorf("deliver message: tenant %q and user %q are required", tenantID, userID)
	}
	ref, err := b.cfg.Store.Conversation(ctx, tenantID, userID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return ref, "", fmt.Errorf("load conversation of %s: %w", userID, err)
		}
		ref, err = b.createChat(ctx, tenantID, userID)
		if err != nil {
			return ref, "", err
		}
	}
	id, err := b.cfg.Connector.Send(ctx, ref.ServiceURL, ref.ConversationID, act)
	if err != nil {
		return ref, "", fmt.Errorf("send to %s: %w", userID, err)
	}
	return ref, id, nil
}

// createChat creates the 1:1 conversation with a user who never wrote to the bot.
func (b *Bot) createChat(ctx context.Context, tenantID, userID string) (store.ConversationRef, error) {
	serviceURL := b.serviceURLFor(ctx, tenantID)
	if serviceURL == "" {
		return store.ConversationRef{}, fmt.Errorf("create chat with %s: no Teams service URL known for tenant %s yet", userID, tenantID)
	}
	params := schema.ConversationParameters{
		Bot:         schema.ChannelAccount{ID: b.cfg.BotID, Name: b.cfg.BotName},
		Members:     []schema.ChannelAccount{{ID: userID, AadObjectID: userID}},
		TenantID:    tenantID,
		ChannelData: map[string]any{"tenant": map[string]any{"id": tenantID}},
	}
	res, err := b.cfg.Connector.CreateConversation(ctx, serviceURL, params)
	if err != nil && appNotInstalled(err) && b.cfg.TeamsAppID != "" {
		b.log.InfoContext(ctx, "installing the app for a user the bot cannot reach", "user", userID, "tenant", tenantID)
		if ierr := b.cfg.Entitlement.InstallAppForUser(ctx, userID, b.cfg.TeamsAppID); ierr != nil {
			return store.ConversationRef{}, fmt.Errorf("install app for %s: %w", userID, ierr)
		}
		res, err = b.cfg.Connector.CreateConversation(ctx, serviceURL, params)
	}
	if err != nil {
		return store.ConversationRef{}, fmt.Errorf("create chat with %s: %w", userID, err)
	}
	ref := store.ConversationRef{TenantID: tenantID, AADObjectID: userID, ConversationID: res.ID,
		ServiceURL: orUnknown(res.ServiceURL, serviceURL), BotID: b.cfg.BotID, BotName: b.cfg.BotName,
		ConversationType: "personal", ChannelID: "msteams", UpdatedAt: b.now()}
	if err := b.cfg.Store.PutConversation(ctx, ref); err != nil {
		b.log.WarnContext(ctx, "store created conversation", "user", userID, "err", err)
	}
	return ref, nil
}

// appNotInstalled reports whether creating a conversation failed because the app is not installed for the
// user (Teams answers 403 or 404).
func appNotInstalled(err error) bool {
	var ae *botframework.APIError
	return errors.As(err, &ae) && (ae.Status == 403 || ae.Status == 404)
}

// noteServiceURL remembers the Teams service URL of a tenant, for conversations the bot creates.
func (b *Bot) noteServiceURL(ctx context.Context, t *turn) {
	if t.tenantID == "" || t.act.ServiceURL == "" {
		return
	}
	var old string
	if err := b.cfg.Store.Get(ctx, bucketServiceURL, t.tenantID, &old); err == nil && old == t.act.ServiceURL {
		return
	}
	if err := b.cfg.Store.Put(ctx, bucketServiceURL, t.tenantID, t.act.ServiceURL); err != nil {
		t.log.WarnContext(ctx, "remember service url", "err", err)
	}
}

func (b *Bot) serviceURLFor(ctx context.Context, tenantID string) string {
	var u string
	if err := b.cfg.Store.Get(ctx, bucketServiceURL, tenantID, &u); err == nil && u != "" {
		return u
	}
	if tenantID != b.cfg.Tenant.ID && b.cfg.Tenant.ID != "" {
		if err := b.cfg.Store.Get(ctx, bucketServiceURL, b.cfg.Tenant.ID, &u); err == nil {
			return u
		}
	}
	return b.cfg.DefaultServiceURL
}

// ---- the polling loop ----

// RunTracker polls the open requests the bot tracks until ctx ends, each with its own exponential backoff
// (PollInterval doubling up to PollMax, reset on every change). Kick wakes it early. It returns nil when
// ctx is cancelled.
func (b *Bot) RunTracker(ctx context.Context) error {
	kick := b.kickChan()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-kick:
		}
		next := b.PollDue(ctx)
		wait := b.cfg.PollMax
		if !next.IsZero() {
			wait = min(max(next.Sub(b.now()), 20*time.Millisecond), b.cfg.PollMax)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// PollDue polls every open tracked request whose next poll is due and returns when the next one is due
// (zero when none is open). RunTracker calls it; tests may call it directly.
func (b *Bot) PollDue(ctx context.Context) time.Time {
	now := b.now()
	var due []string
	var next time.Time
	err := b.cfg.Store.List(ctx, bucketTracked, "", func(key string, raw []byte) error {
		var tr trackedRequest
		if err := json.Unmarshal(raw, &tr); err != nil {
			b.log.WarnContext(ctx, "decode tracked request", "id", key, "err", err)
			return nil
		}
		if tr.Closed {
			return nil
		}
		if !tr.NextPoll.After(now) {
			due = append(due, tr.ID)
			return nil
		}
		if next.IsZero() || tr.NextPoll.Before(next) {
			next = tr.NextPoll
		}
		return nil
	})
	if err != nil {
		b.log.ErrorContext(ctx, "list tracked requests", "err", err)
		return now.Add(b.cfg.PollInterval)
	}
	for _, id := range due {
		if ctx.Err() != nil {
			return next
		}
		n := b.pollOne(ctx, id)
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// pollOne reads one request with the app's identity and applies it; on failure it backs off.
func (b *Bot) pollOne(ctx context.Context, id string) time.Time {
	req, err := b.cfg.Entitlement.Request(ctx, id)
	if err != nil {
		b.log.WarnContext(ctx, "poll request", "request", id, "err", err)
		unlock := b.lock("req:" + id)
		defer unlock()
		tr, lerr := b.loadTracked(ctx, id)
		if lerr != nil {
			return time.Time{}
		}
		wait := min(max(tr.Delay*2, b.cfg.PollInterval), b.cfg.PollMax)
		var te *entitlement.ThrottledError
		if errors.As(err, &te) && te.RetryAfter > wait {
			wait = te.RetryAfter
		}
		if errors.Is(err, entitlement.ErrNotFound) {
			tr.Closed = true
			tr.event(b.now(), "The request no longer exists")
		}
		tr.Delay = wait
		tr.NextPoll = b.now().Add(wait)
		if serr := b.saveTracked(ctx, tr); serr != nil {
			b.log.ErrorContext(ctx, "save tracked request", "request", id, "err", serr)
		}
		if tr.Closed {
			return time.Time{}
		}
		return tr.NextPoll
	}
	tr, err := b.observe(ctx, req, nil)
	if err != nil {
		b.log.ErrorContext(ctx, "apply request state", "request", id, "err", err)
		return b.now().Add(b.cfg.PollInterval)
	}
	if tr.Closed {
		return time.Time{}
	}
	return tr.NextPoll
}

// pollSoon makes the tracker read a request at once (after a decision or a cancel) and wakes it.
func (b *Bot) pollSoon(ctx context.Context, id string) {
	unlock := b.lock("req:" + id)
	tr, err := b.loadTracked(ctx, id)
	if err == nil {
		tr.Delay = b.cfg.PollInterval
		tr.NextPoll = b.now()
		tr.Closed = false
		if serr := b.saveTracked(ctx, tr); serr != nil {
			b.log.WarnContext(ctx, "save tracked request", "request", id, "err", serr)
		}
	}
	unlock()
	b.Kick()
}

func namesOf(ps []personRef) string {
	var names []string
	for _, p := range ps {
		names = append(names, orUnknown(p.Name, p.ID))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func orUnknown(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
