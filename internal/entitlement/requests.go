package entitlement

import (
	"slices"
	"time"
)

// Assignment requests, assignments and their approvals.

// RequestType is the kind of assignment request.
type RequestType string

// Request types (Graph accessPackageRequestType).
const (
	RequestUserAdd      RequestType = "userAdd"
	RequestUserUpdate   RequestType = "userUpdate"
	RequestUserRemove   RequestType = "userRemove"
	RequestAdminAdd     RequestType = "adminAdd"
	RequestAdminUpdate  RequestType = "adminUpdate"
	RequestAdminRemove  RequestType = "adminRemove"
	RequestSystemAdd    RequestType = "systemAdd"
	RequestSystemUpdate RequestType = "systemUpdate"
	RequestSystemRemove RequestType = "systemRemove"
	RequestOnBehalfAdd  RequestType = "onBehalfAdd"
	RequestUnknown      RequestType = "unknown"
)

// RequestState is the state of an assignment request (Graph accessPackageRequestState).
type RequestState string

// Request states.
const (
	StateSubmitted          RequestState = "submitted"
	StatePendingApproval    RequestState = "pendingApproval"
	StateDelivering         RequestState = "delivering"
	StateDelivered          RequestState = "delivered"
	StateDeliveryFailed     RequestState = "deliveryFailed"
	StateDenied             RequestState = "denied"
	StateScheduled          RequestState = "scheduled"
	StateCanceled           RequestState = "canceled"
	StatePartiallyDelivered RequestState = "partiallyDelivered"
	StateUnknown            RequestState = "unknown"
)

// Open reports whether a request in this state is still in progress (it can still be approved, delivered
// or cancelled), so filing another one for the same package would be a duplicate. Only the final states
// are closed: a state this version does not know (Graph added one, or sent a value nobody recognises),
// and StateUnknown, count as open, so such a request is still followed rather than dropped.
func (s RequestState) Open() bool {
	switch s {
	case StateDelivered, StateDeliveryFailed, StateDenied, StateCanceled, StatePartiallyDelivered:
		return false
	}
	return true
}

// Known reports whether s is one of the states above (not StateUnknown, and not a raw value that Graph
// sent and this version does not know).
func (s RequestState) Known() bool {
	switch s {
	case StateSubmitted, StatePendingApproval, StateDelivering, StateDelivered, StateDeliveryFailed,
		StateDenied, StateScheduled, StateCanceled, StatePartiallyDelivered:
		return true
	}
	return false
}

// Request is an access package assignment request.
type Request struct {
	ID   string
	Type RequestType
	// State is the request's state; a value Graph sent that this version does not know is kept verbatim
	// (State.Known() is false) rather than turned into StateUnknown.
	State RequestState
	// Status is Graph's more detailed status text (for example "PendingApproval", "Delivered").
	Status        string
	PackageID     string
	PackageName   string
	PolicyID      string
	Requestor     Subject
	Justification string
	Answers       []Answer
	Schedule      Schedule
	CreatedAt     time.Time
	// CompletedAt is zero until the request completed.
	CompletedAt  time.Time
	AssignmentID string
}

// AssignmentState is the state of an assignment (Graph accessPackageAssignmentState).
type AssignmentState string

// Assignment states.
const (
	AssignmentDelivering         AssignmentState = "delivering"
	AssignmentPartiallyDelivered AssignmentState = "partiallyDelivered"
	AssignmentDelivered          AssignmentState = "delivered"
	AssignmentExpired            AssignmentState = "expired"
	AssignmentDeliveryFailed     AssignmentState = "deliveryFailed"
	AssignmentUnknown            AssignmentState = "unknown"
)

// grantingStates are the assignment states in which the target has the package's access or is getting it.
var grantingStates = []AssignmentState{AssignmentDelivered, AssignmentDelivering, AssignmentPartiallyDelivered}

// GrantsAccess reports whether an assignment in this state gives its target the package's access, or is
// giving it: delivered, delivering (Entra is adding the target to the resources) or partially delivered
// (some resources were added, others failed). It is the one definition of "holds the package": separation
// of duties, duplicate requests and assignments, revocation, a guest's last assignment and expiry notices
// all use it. Expired, failed and unknown states do not grant access.
func (s AssignmentState) GrantsAccess() bool { return slices.Contains(grantingStates, s) }

// GrantingAssignmentStates returns the states for which GrantsAccess is true, for AssignmentFilter.States.
// The slice is the caller's own.
func GrantingAssignmentStates() []AssignmentState { return slices.Clone(grantingStates) }

// Assignment is a subject's access through a package.
type Assignment struct {
	ID          string
	State       AssignmentState
	Status      string
	PackageID   string
	PackageName string
	PolicyID    string
	Target      Subject
	Schedule    Schedule
	// ExpiredAt is zero unless the assignment expired.
	ExpiredAt time.Time
}

// EndsAt returns when the assignment ends: the schedule's end date time; zero when it has none.
func (a Assignment) EndsAt() time.Time { return a.Schedule.Expiration.EndDateTime }

// ReviewResult is an approver's decision.
type ReviewResult string

// Review results (Graph approvalStage.reviewResult).
const (
	ReviewNotReviewed ReviewResult = "NotReviewed"
	ReviewApprove     ReviewResult = "Approve"
	ReviewDeny        ReviewResult = "Deny"
	ReviewDontKnow    ReviewResult = "DontKnow"
)

// StageStatus is the status of an approval stage.
type StageStatus string

// Stage statuses (Graph approvalStage.status).
const (
	StageNotStarted   StageStatus = "NotStarted"
	StageInitializing StageStatus = "Initializing"
	StageInProgress   StageStatus = "InProgress"
	StageCompleted    StageStatus = "Completed"
	StageExpired      StageStatus = "Expired"
)

// Approval is the approval of one request (its id is the request id).
type Approval struct {
	ID     string
	Stages []ApprovalStage
}

// ApprovalStage is one stage of an approval as one approver sees it.
type ApprovalStage struct {
	ID           string
	Name         string
	Status       StageStatus
	ReviewResult ReviewResult
	// ReviewedBy is who decided (empty until decided).
	ReviewedBy Subject
	// ReviewedAt is when it was decided (zero until decided).
	ReviewedAt    time.Time
	Justification string
	// AssignedToMe is true when the acting approver may decide this stage.
	AssignedToMe bool
}

// Current returns the stage that is waiting for a decision, if any.
func (a Approval) Current() (ApprovalStage, bool) {
	for _, s := range a.Stages {
		if s.Status == StageInProgress && (s.ReviewResult == "" || s.ReviewResult == ReviewNotReviewed) {
			return s, true
		}
	}
	return ApprovalStage{}, false
}

// Decision is an approver's decision on a stage.
type Decision struct {
	// Result is ReviewApprove or ReviewDeny.
	Result ReviewResult
	// Justification is required by some policies.
	Justification string
}
