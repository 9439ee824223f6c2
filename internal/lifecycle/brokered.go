package lifecycle

// Brokered requests (DESIGN.md §3): a connected-organization user who is not yet in the resource tenant
// cannot file a delegated request, so the bot runs the policy's approval stages itself and, on final
// approval, files adminAdd. The Brokered record is the source of truth; it is stored as a store.Request of
// Kind brokered (its JSON as Body), and read as a Tracked record (Mirror) by everything that shows requests,
// so the request/approve flows' card builders work on brokered requests unchanged. The conversation layer
// still runs the flow itself (bot/brokered.go, bot/guest.go) and saves the record with SaveBrokered while it
// holds Lock("brk:"+id).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// BrokeredPrefix starts every brokered request id (Graph's request ids are GUIDs).
const BrokeredPrefix = "brk-"

// reasonExpired is the ReasonMsg of a brokered request nobody decided in time.
const reasonExpired = "reason.expired"

// BrokeredRequester is the partner user who asked.
type BrokeredRequester struct {
	// TenantID and ID are the user's home tenant and object id (from their Teams chat).
	TenantID string `json:"tenant"`
	ID       string `json:"oid"`
	Name     string `json:"name,omitempty"`
	Email    string `json:"email"`
	// OrgID and OrgName are their connected organization.
	OrgID   string `json:"org"`
	OrgName string `json:"orgName,omitempty"`
}

// BrokeredStage is one approval stage the bot ran.
type BrokeredStage struct {
	Index     int       `json:"index"` // 1-based
	Approvers []Person  `json:"approvers,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	// Decision is empty until someone decided; By/ByName/At/Justification describe that decision.
	Decision      entitlement.ReviewResult `json:"decision,omitempty"`
	By            string                   `json:"by,omitempty"`
	ByName        string                   `json:"byName,omitempty"`
	At            time.Time                `json:"at"`
	Justification string                   `json:"justification,omitempty"`
	// Escalated is set once the stage's escalation approvers were added.
	Escalated bool `json:"escalated,omitempty"`
	// RemindedAt is when the approvers were last reminded.
	RemindedAt time.Time `json:"remindedAt"`
}

// Brokered is a request the bot runs for a partner user.
type Brokered struct {
	ID            string               `json:"id"`
	PackageID     string               `json:"package"`
	PackageName   string               `json:"packageName,omitempty"`
	PolicyID      string               `json:"policy"`
	Requester     BrokeredRequester    `json:"requester"`
	Answers       []entitlement.Answer `json:"answers,omitempty"`
	Justification string               `json:"justification,omitempty"`
	Schedule      entitlement.Schedule `json:"schedule"`
	StageCount    int                  `json:"stageCount"`
	Stages        []BrokeredStage      `json:"stages,omitempty"`
	// State is pendingApproval while the bot runs the stages, denied after a Deny, then the adminAdd
	// request's state (delivering, delivered, deliveryFailed…).
	State entitlement.RequestState `json:"state"`
	// ReasonMsg says why the bot stopped the request (expired, no approver, assignment failed); Reason is
	// the English reason records of older builds kept instead.
	ReasonMsg Message `json:"reasonMsg,omitempty"`
	Reason    string  `json:"reason,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// GraphRequestID is the adminAdd request filed on final approval; AssignmentID its assignment.
	GraphRequestID string `json:"graphRequestId,omitempty"`
	AssignmentID   string `json:"assignmentId,omitempty"`
	// ApprovedAt is when the last stage was approved; FileAttempts counts adminAdd attempts and FilePending
	// is set while a transient failure is being retried by the follow-up.
	ApprovedAt   time.Time `json:"approvedAt"`
	FileAttempts int       `json:"fileAttempts,omitempty"`
	FilePending  bool      `json:"filePending,omitempty"`

	Guest    GuestRecord `json:"guest"`
	Timeline []Event     `json:"timeline,omitempty"`
	// FollowDelay is the current backoff of the follow-up job; Done stops it.
	FollowDelay time.Duration `json:"followDelay"`
	FollowGen   int           `json:"followGen,omitempty"`
	Done        bool          `json:"done,omitempty"`
	// Canceled is set when the requester canceled it.
	Canceled bool `json:"canceled,omitempty"`
}

// Current is the stage waiting for a decision (nil when none).
func (br *Brokered) Current() *BrokeredStage {
	if br.State != entitlement.StatePendingApproval || len(br.Stages) == 0 {
		return nil
	}
	s := &br.Stages[len(br.Stages)-1]
	if s.Decision != "" {
		return nil
	}
	return s
}

// StageAt returns stage n (1-based) when it was started.
func (br *Brokered) StageAt(n int) *BrokeredStage {
	if n < 1 || n > len(br.Stages) {
		return nil
	}
	return &br.Stages[n-1]
}

// AddEvent adds a line to the request's history (see AppendEvent).
func (br *Brokered) AddEvent(at time.Time, m Message) {
	br.Timeline = AppendEvent(br.Timeline, at, m)
}

// Open reports whether the request still waits for approval or delivery.
func (br *Brokered) Open() bool {
	switch br.State {
	case entitlement.StatePendingApproval, entitlement.StateSubmitted, entitlement.StateDelivering:
		return true
	}
	return false
}

// Expired reports whether the bot denied the request because nobody decided in time (its ReasonMsg; a
// record of a build before ReasonMsg kept only the English reason).
func (br *Brokered) Expired() bool {
	if !br.ReasonMsg.IsZero() {
		return br.ReasonMsg.Msg == reasonExpired
	}
	return strings.HasPrefix(br.Reason, "The request expired:")
}

// Mirror is the request as the tracker's record, for the shared card builders.
func (br *Brokered) Mirror() *Tracked {
	tr := &Tracked{
		ID:              br.ID,
		Type:            entitlement.RequestAdminAdd,
		RequestorID:     br.Requester.ID,
		RequestorName:   br.Requester.Name,
		RequestorEmail:  br.Requester.Email,
		RequestorOrgID:  br.Requester.OrgID,
		RequestorTenant: br.Requester.TenantID,
		PackageID:       br.PackageID,
		PackageName:     br.PackageName,
		PolicyID:        br.PolicyID,
		State:           br.State,
		Expired:         br.Expired(),
		Justification:   br.Justification,
		Answers:         br.Answers,
		Schedule:        br.Schedule,
		CreatedAt:       br.CreatedAt,
		AssignmentID:    br.AssignmentID,
		Mode:            ModeBrokered,
		StageCount:      br.StageCount,
		Notified:        true,
		Timeline:        br.Timeline,
		UpdatedAt:       br.UpdatedAt,
		CanceledByUser:  br.Canceled,
		// Closed keeps the tracker from polling Graph for this id: the brokered flow follows it itself.
		Closed: true,
	}
	if !br.Guest.EndsAt.IsZero() {
		tr.Schedule.Expiration = entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: br.Guest.EndsAt}
	}
	if br.State == entitlement.StateDelivered && br.Guest.Waiting() {
		tr.State = entitlement.StateDelivering
	}
	for _, s := range br.Stages {
		if s.Decision != "" {
			tr.Decisions = append(tr.Decisions, Decision{Stage: s.Index, ApproverID: s.By, ApproverName: s.ByName,
				Result: s.Decision, At: s.At, Justification: s.Justification})
		}
	}
	if cur := br.Current(); cur != nil {
		tr.Stage, tr.Approvers, tr.StageStartedAt = cur.Index, cur.Approvers, cur.StartedAt
	}
	return tr
}

// GuestRecord is what the bot knows about the guest account a brokered request led to.
type GuestRecord struct {
	// UserID is the guest's object id in the resource tenant.
	UserID string `json:"userId,omitempty"`
	// State is the guest's externalUserState (PendingAcceptance, Accepted).
	State        string `json:"state,omitempty"`
	RedeemURL    string `json:"redeemUrl,omitempty"`
	GuidanceSent bool   `json:"guidanceSent,omitempty"`
	AcceptedSent bool   `json:"acceptedSent,omitempty"`
	// StartsAt and EndsAt bound the assignment; EndingWarned is set once the guest was told it ends.
	StartsAt     time.Time `json:"startsAt"`
	EndsAt       time.Time `json:"endsAt"`
	EndingWarned bool      `json:"endingWarned,omitempty"`
}

// Waiting reports whether the guest has not accepted the invitation yet.
func (g GuestRecord) Waiting() bool { return g.State != GuestAccepted }

// Guest states as Graph reports externalUserState.
const (
	GuestPendingAcceptance = "PendingAcceptance"
	GuestAccepted          = "Accepted"
)

// GetBrokered returns a brokered request's record; the error matches ErrNotFound when there is none.
func (c *Core) GetBrokered(ctx context.Context, id string) (*Brokered, error) {
	r, err := c.cfg.Store.GetRequest(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load brokered request %s: %w", id, err)
	}
	br, ok, err := decodeBrokered(r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("load brokered request %s: %w", id, ErrNotFound)
	}
	return br, nil
}

// decodeBrokered decodes a Kind brokered record; ok is false for any other record (a tracked one, or the
// read-only mirror an earlier build stored in the brokered record's place).
func decodeBrokered(r store.Request) (br *Brokered, ok bool, err error) {
	if r.Kind != store.KindBrokered || len(r.Body) == 0 {
		return nil, false, nil
	}
	var probe struct {
		Requester json.RawMessage `json:"requester"`
	}
	if err := json.Unmarshal(r.Body, &probe); err != nil {
		return nil, false, fmt.Errorf("decode brokered request %s: %w", r.ID, err)
	}
	if len(probe.Requester) == 0 {
		return nil, false, nil
	}
	br = &Brokered{}
	if err := json.Unmarshal(r.Body, br); err != nil {
		return nil, false, fmt.Errorf("decode brokered request %s: %w", r.ID, err)
	}
	br.ID = r.ID
	return br, true, nil
}

// encodeBrokered writes br into r: the indexed fields and the JSON body.
func encodeBrokered(br *Brokered, r *store.Request) error {
	body, err := json.Marshal(br)
	if err != nil {
		return fmt.Errorf("encode brokered request %s: %w", br.ID, err)
	}
	r.ID, r.Kind, r.Body = br.ID, store.KindBrokered, body
	r.State = string(br.State)
	if r.State == "" {
		r.State = string(entitlement.StateUnknown)
	}
	r.TenantID, r.RequestorID, r.PackageID = br.Requester.TenantID, br.Requester.ID, br.PackageID
	r.NextCheckAt = time.Time{} // the brokered flow follows it through its own outbox job, never the tracker
	r.ClosedAt = closedAt(br.Done, r.ClosedAt, br.UpdatedAt, br.CreatedAt)
	if r.CreatedAt.IsZero() {
		r.CreatedAt = br.CreatedAt
	}
	return nil
}

// SaveBrokered stores a brokered request's record (creating it, or replacing what is stored) and stamps its
// UpdatedAt. The caller holds Lock("brk:"+br.ID) across its read, its decisions and this write (or created
// the id itself), so replacing is safe.
func (c *Core) SaveBrokered(ctx context.Context, br *Brokered) error {
	br.UpdatedAt = c.now()
	created, err := c.createIfAbsent(ctx, br.ID, func(r *store.Request) error { return encodeBrokered(br, r) })
	if err != nil || created {
		return err
	}
	if _, err := c.cfg.Store.UpdateRequest(ctx, br.ID, func(r *store.Request) error { return encodeBrokered(br, r) }); err != nil {
		return fmt.Errorf("save brokered request %s: %w", br.ID, err)
	}
	return nil
}

// ListBrokered returns every brokered request's record, oldest first.
func (c *Core) ListBrokered(ctx context.Context) ([]*Brokered, error) {
	return c.listBrokered(ctx, store.RequestQuery{Kind: store.KindBrokered})
}

// OpenBrokered returns the records of the brokered requests not closed yet (not Done), oldest first: what
// waits for approval, delivery or the guest; the store skips the closed ones without decoding them.
func (c *Core) OpenBrokered(ctx context.Context) ([]*Brokered, error) {
	return c.listBrokered(ctx, store.RequestQuery{Kind: store.KindBrokered, Open: true})
}

func (c *Core) listBrokered(ctx context.Context, q store.RequestQuery) ([]*Brokered, error) {
	rs, err := c.cfg.Store.ListRequests(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list brokered requests: %w", err)
	}
	var out []*Brokered
	for _, r := range rs {
		br, ok, err := decodeBrokered(r)
		if err != nil {
			c.log.WarnContext(ctx, "decode brokered request", "id", r.ID, "err", err)
			continue
		}
		if ok {
			out = append(out, br)
		}
	}
	return out, nil
}

// errBrokered refuses a tracked-record write to a brokered request (SaveBrokered writes those).
var errBrokered = errors.New("it is a brokered request, written only with SaveBrokered")
