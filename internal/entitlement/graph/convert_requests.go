package graph

import (
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Conversion of assignment requests, assignments and approval stages, and of their states: a state this
// client does not know is kept verbatim (see readState), never silently "unknown".

// requestStates maps Graph's state (and, case-insensitively, its status text) to the domain.
var requestStates = map[string]entitlement.RequestState{
	"submitted": entitlement.StateSubmitted, "pendingapproval": entitlement.StatePendingApproval,
	"delivering": entitlement.StateDelivering, "delivered": entitlement.StateDelivered,
	"deliveryfailed": entitlement.StateDeliveryFailed, "denied": entitlement.StateDenied,
	"scheduled": entitlement.StateScheduled, "canceled": entitlement.StateCanceled,
	"cancelled": entitlement.StateCanceled, "partiallydelivered": entitlement.StatePartiallyDelivered,
	"accepted": entitlement.StateSubmitted,
}

func toRequest(m models.AccessPackageAssignmentRequestable) entitlement.Request {
	if m == nil {
		return entitlement.Request{}
	}
	r := entitlement.Request{
		ID:            str(m.GetId()),
		Type:          entitlement.RequestUnknown,
		State:         entitlement.StateUnknown,
		Status:        str(m.GetStatus()),
		Requestor:     toSubject(m.GetRequestor()),
		Justification: str(m.GetJustification()),
		Schedule:      toSchedule(m.GetSchedule()),
		CreatedAt:     tm(m.GetCreatedDateTime()),
		CompletedAt:   tm(m.GetCompletedDateTime()),
	}
	if v := m.GetRequestType(); v != nil {
		r.Type = entitlement.RequestType(v.String())
	} else if raw := additionalString(m.GetAdditionalData(), rawPrefix+"requestType"); raw != "" {
		r.Type = entitlement.RequestType(raw) // kept verbatim, not silently "unknown"
	}
	r.State = readState(enumString(m.GetState()), m.GetAdditionalData(), r.Status, requestStates, entitlement.StateUnknown)
	if ap := m.GetAccessPackage(); ap != nil {
		r.PackageID = str(ap.GetId())
		r.PackageName = str(ap.GetDisplayName())
	}
	if as := m.GetAssignment(); as != nil {
		r.AssignmentID = str(as.GetId())
		ad := as.GetAdditionalData()
		if r.PackageID == "" {
			r.PackageID = additionalString(ad, "accessPackageId")
		}
		r.PolicyID = additionalString(ad, "assignmentPolicyId")
		if pol := as.GetAssignmentPolicy(); pol != nil && r.PolicyID == "" {
			r.PolicyID = str(pol.GetId())
		}
		if ap := as.GetAccessPackage(); ap != nil && r.PackageID == "" {
			r.PackageID = str(ap.GetId())
			r.PackageName = str(ap.GetDisplayName())
		}
	}
	for _, a := range m.GetAnswers() {
		if a == nil {
			continue
		}
		ans := entitlement.Answer{DisplayValue: str(a.GetDisplayValue())}
		if q := a.GetAnsweredQuestion(); q != nil {
			ans.QuestionID = str(q.GetId())
			ans.QuestionText = str(q.GetText())
		}
		if s, ok := a.(*models.AccessPackageAnswerString); ok {
			ans.Value = str(s.GetValue())
		} else {
			ans.Value = additionalString(a.GetAdditionalData(), "value")
		}
		r.Answers = append(r.Answers, ans)
	}
	return r
}

// readState maps a state to the domain: the SDK's enum, else the string Graph sent (kept by
// tolerantReader under rawPrefix+"state", any case), else the status text. A value that maps to nothing is
// kept verbatim, so the bot can show it and keeps following the request; unknown only when Graph sent
// neither.
func readState[S ~string](enum string, ad map[string]any, status string, known map[string]S, unknown S) S {
	raw := additionalString(ad, rawPrefix+"state")
	if s, ok := known[strings.ToLower(enum)]; ok && enum != "" {
		return s
	}
	if s, ok := known[strings.ToLower(raw)]; ok {
		return s
	}
	if raw != "" && !strings.EqualFold(raw, "unknownFutureValue") {
		return S(raw)
	}
	if s, ok := known[strings.ToLower(status)]; ok {
		return s
	}
	if raw != "" {
		return S(raw)
	}
	return unknown
}

// enumString is the wire value of an SDK enum; "" when absent or unknown to the SDK.
func enumString[E fmt.Stringer](p *E) string {
	if p == nil {
		return ""
	}
	return (*p).String()
}

var assignmentStates = map[string]entitlement.AssignmentState{
	"delivering": entitlement.AssignmentDelivering, "partiallydelivered": entitlement.AssignmentPartiallyDelivered,
	"delivered": entitlement.AssignmentDelivered, "expired": entitlement.AssignmentExpired,
	"deliveryfailed": entitlement.AssignmentDeliveryFailed,
}

func toAssignment(m models.AccessPackageAssignmentable) entitlement.Assignment {
	if m == nil {
		return entitlement.Assignment{}
	}
	a := entitlement.Assignment{
		ID:        str(m.GetId()),
		State:     entitlement.AssignmentUnknown,
		Status:    str(m.GetStatus()),
		Target:    toSubject(m.GetTarget()),
		Schedule:  toSchedule(m.GetSchedule()),
		ExpiredAt: tm(m.GetExpiredDateTime()),
	}
	a.State = readState(enumString(m.GetState()), m.GetAdditionalData(), a.Status, assignmentStates, entitlement.AssignmentUnknown)
	if ap := m.GetAccessPackage(); ap != nil {
		a.PackageID = str(ap.GetId())
		a.PackageName = str(ap.GetDisplayName())
	}
	if pol := m.GetAssignmentPolicy(); pol != nil {
		a.PolicyID = str(pol.GetId())
	}
	ad := m.GetAdditionalData()
	if a.PackageID == "" {
		a.PackageID = additionalString(ad, "accessPackageId")
	}
	if a.PolicyID == "" {
		a.PolicyID = additionalString(ad, "assignmentPolicyId")
	}
	return a
}

func toStage(m models.ApprovalStageable) entitlement.ApprovalStage {
	if m == nil {
		return entitlement.ApprovalStage{}
	}
	s := entitlement.ApprovalStage{
		ID:            str(m.GetId()),
		Name:          str(m.GetDisplayName()),
		Status:        entitlement.StageStatus(str(m.GetStatus())),
		ReviewResult:  entitlement.ReviewResult(str(m.GetReviewResult())),
		ReviewedAt:    tm(m.GetReviewedDateTime()),
		Justification: str(m.GetJustification()),
		AssignedToMe:  boolv(m.GetAssignedToMe()),
	}
	if s.ReviewResult == "" {
		s.ReviewResult = entitlement.ReviewNotReviewed
	}
	if id := m.GetReviewedBy(); id != nil {
		s.ReviewedBy = entitlement.Subject{ID: str(id.GetId()), Name: str(id.GetDisplayName()), Kind: entitlement.SubjectUser}
	}
	return s
}
