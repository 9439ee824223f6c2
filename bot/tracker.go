package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// The request tracker: the record the bot keeps of every request it filed or learned about, observe (a fresh
// read applied to the record: state, stage and timeline changes, the news they cause), per-request locks, and
// the polling loop with its backoff. Approvers of a stage are resolved in approvers.go; what the tracker
// queues is delivered by notify.go.

// bucketTracked is the store bucket of the tracked request records.
const bucketTracked = "tracked"

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
	tr.Timeline = appendEvent(tr.Timeline, at, text)
}

// appendEvent adds a line to a request's history unless it repeats the last one, keeping the newest
// maxTimelineEvents.
func appendEvent(tl []timelineEvent, at time.Time, text string) []timelineEvent {
	if n := len(tl); n > 0 && tl[n-1].Text == text {
		return tl
	}
	tl = append(tl, timelineEvent{At: at, Text: text})
	if len(tl) > maxTimelineEvents {
		tl = tl[len(tl)-maxTimelineEvents:]
	}
	return tl
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
