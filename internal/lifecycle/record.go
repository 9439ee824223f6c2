package lifecycle

import (
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Request modes of a record (DESIGN.md §3); the same words as the cards' modes.
const (
	// ModeDelegated: the bot filed the request with the requester's own token; Entra runs the approvals.
	ModeDelegated = "delegated"
	// ModeBrokered: the bot runs the approvals itself (partner users not yet in the tenant).
	ModeBrokered = "brokered"
)

// Person is an approver (or sponsor) the bot may message.
type Person struct {
	ID       string `json:"id"`
	Name     string `json:"name,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
	// TeamsID is the user's Teams id (29:…) when the bot has talked to them.
	TeamsID string `json:"teamsId,omitempty"`
	// Escalation marks an approver added when the stage escalated.
	Escalation bool `json:"escalation,omitempty"`
}

// Decision is one stage decision the bot saw or made.
type Decision struct {
	Stage         int                      `json:"stage"`
	StageID       string                   `json:"stageId,omitempty"`
	ApproverID    string                   `json:"approverId,omitempty"`
	ApproverName  string                   `json:"approverName,omitempty"`
	Result        entitlement.ReviewResult `json:"result"`
	At            time.Time                `json:"at"`
	Justification string                   `json:"justification,omitempty"`
	// ViaBot marks a decision made through the bot with the approver's own token (audited by the bot), as
	// opposed to one learned from Graph or from another approver's 409.
	ViaBot bool `json:"viaBot,omitempty"`
}

// Event is one line of a request's history (the status card's timeline): a Message rendered in the reader's
// language. Text is the English line records written before messages carried ids have instead; it is shown
// as it is.
type Event struct {
	At   time.Time `json:"at"`
	Text string    `json:"text,omitempty"`
	Message
}

// Tracked is what the bot remembers about a request it filed or learned about (a delegated request Entra
// runs), or the mirror of a brokered request (Closed, never polled).
type Tracked struct {
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
	// Mode is ModeDelegated or ModeBrokered.
	Mode string `json:"mode,omitempty"`
	// CanceledByUser is set when the requester canceled through the bot (no notification needed).
	CanceledByUser bool `json:"canceledByUser,omitempty"`
	// Expired is set when the request was denied because nobody decided in time: Graph's Status said so
	// (deniedExpired), or the brokered flow's own clock ran out (a Mirror).
	Expired bool `json:"expired,omitempty"`

	// Stage is the 1-based stage waiting for a decision (0 when not pending approval); StageCount comes
	// from the policy. StageID is Graph's id of that stage when the bot has seen it.
	Stage          int       `json:"stage,omitempty"`
	StageCount     int       `json:"stageCount,omitempty"`
	StageID        string    `json:"stageId,omitempty"`
	StageStartedAt time.Time `json:"stageStartedAt"`
	Approvers      []Person  `json:"approvers,omitempty"`
	Notified       bool      `json:"notified,omitempty"`
	RemindedAt     time.Time `json:"remindedAt"`
	Escalated      bool      `json:"escalated,omitempty"`

	Decisions []Decision `json:"decisions,omitempty"`
	Timeline  []Event    `json:"timeline,omitempty"`

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
func (tr *Tracked) queue(kind string, payload any) {
	tr.jobs = append(tr.jobs, queuedJob{kind, payload})
}

// maxTimelineEvents bounds the stored history of one request.
const maxTimelineEvents = 30

// AddEvent adds a line to the record's history (see AppendEvent).
func (tr *Tracked) AddEvent(at time.Time, m Message) {
	tr.Timeline = AppendEvent(tr.Timeline, at, m)
}

// AppendEvent adds a line to a request's history unless it repeats the last one, keeping the newest
// maxTimelineEvents.
func AppendEvent(tl []Event, at time.Time, m Message) []Event {
	if n := len(tl); n > 0 && tl[n-1].Text == "" && tl[n-1].Message.Equal(m) {
		return tl
	}
	tl = append(tl, Event{At: at, Message: m})
	if len(tl) > maxTimelineEvents {
		tl = tl[len(tl)-maxTimelineEvents:]
	}
	return tl
}

// DecisionFor returns the decision recorded for a stage (the latest when there are several).
func (tr *Tracked) DecisionFor(stage int) (Decision, bool) {
	for i := len(tr.Decisions) - 1; i >= 0; i-- {
		if tr.Decisions[i].Stage == stage {
			return tr.Decisions[i], true
		}
	}
	return Decision{}, false
}

// LastDecision returns the newest recorded decision.
func (tr *Tracked) LastDecision() (Decision, bool) {
	if len(tr.Decisions) == 0 {
		return Decision{}, false
	}
	return tr.Decisions[len(tr.Decisions)-1], true
}

// IsApprover reports whether userID is an approver of the current stage.
func (tr *Tracked) IsApprover(userID string) bool {
	return slices.ContainsFunc(tr.Approvers, func(p Person) bool { return strings.EqualFold(p.ID, userID) })
}

// Merge copies what a read of the request says into the record (keeping what the read lacks).
func Merge(tr *Tracked, req entitlement.Request) {
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

// deniedExpired reports whether tr is denied and Graph's status text says why: nobody decided in time
// ("Expired", "TimedOut").
func (tr *Tracked) deniedExpired() bool {
	s := strings.ToLower(tr.Status)
	return tr.State == entitlement.StateDenied &&
		(strings.Contains(s, "expir") || strings.Contains(s, "timeout") || strings.Contains(s, "timedout"))
}

// NamesOf lists people in English: "A", "A or B", "A, B or C" (ids stand in for missing names), for logs and
// audit details; text a person reads joins PeopleNames in their language (i18n Localizer.Or).
func NamesOf(ps []Person) string {
	names := PeopleNames(ps)
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

// orNow is t, or now when t is zero.
func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}
