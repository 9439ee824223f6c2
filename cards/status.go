package cards

import (
	"fmt"
	"time"
)

// RequestState is a request's state as the requester sees it.
type RequestState string

// The states a request card shows. They follow Graph's accessPackageAssignmentRequest states, with
// "approved" and "expired" added for the moments between and after them.
const (
	StateSubmitted          RequestState = "submitted"
	StatePendingApproval    RequestState = "pendingApproval"
	StateApproved           RequestState = "approved"
	StateDenied             RequestState = "denied"
	StateDelivering         RequestState = "delivering"
	StateDelivered          RequestState = "delivered"
	StatePartiallyDelivered RequestState = "partiallyDelivered"
	StateScheduled          RequestState = "scheduled"
	StateCanceled           RequestState = "canceled"
	StateExpired            RequestState = "expired"
	StateDeliveryFailed     RequestState = "deliveryFailed"
)

// StateLabel is the short human label of a state ("Pending approval").
func StateLabel(s RequestState) string {
	switch s {
	case StateSubmitted:
		return "Submitted"
	case StatePendingApproval:
		return "Pending approval"
	case StateApproved:
		return "Approved"
	case StateDenied:
		return "Denied"
	case StateDelivering:
		return "Delivering"
	case StateDelivered:
		return "Delivered"
	case StatePartiallyDelivered:
		return "Partially delivered"
	case StateScheduled:
		return "Scheduled"
	case StateCanceled:
		return "Canceled"
	case StateExpired:
		return "Expired"
	case StateDeliveryFailed:
		return "Delivery failed"
	}
	return "Unknown (" + clip(string(s), 40) + ")"
}

// stateStyle is the container style for a state's banner.
func stateStyle(s RequestState) string {
	switch s {
	case StateDelivered, StateApproved:
		return StyleGood
	case StateDenied, StateDeliveryFailed:
		return StyleAttention
	case StateCanceled, StateExpired, StatePartiallyDelivered:
		return StyleWarning
	}
	return StyleEmphasis
}

// EventView is one line of a request's timeline.
type EventView struct {
	At   time.Time
	Text string
}

// RequestStatusView is one request as its requester sees it.
type RequestStatusView struct {
	RequestID   string
	PackageID   string
	PackageName string
	State       RequestState
	// StageIndex (1-based) and StageCount describe the approval in progress; Asked are the approvers of the
	// current stage.
	StageIndex, StageCount int
	Asked                  []string
	// DecidedBy, DecidedAt and DecisionJustification describe the last decision (approved or denied).
	DecidedBy             string
	DecidedAt             time.Time
	DecisionJustification string
	// Granted lists what was delivered ("Falcon Team — Member"); Until is when it ends (zero: no end).
	Granted []string
	Until   time.Time
	// WaitingForInvitation is true while a guest has not accepted the invitation (PendingAcceptance).
	WaitingForInvitation bool
	// InviteRedeemURL is the guest's invitation link, shown while they have not accepted.
	InviteRedeemURL string
	// Reason explains a failure, a cancellation or an expiry.
	Reason string
	// Timeline is the request's history, oldest first; the card shows the latest entries.
	Timeline []EventView
	// Cancelable adds the Cancel button.
	Cancelable bool
	// UpdatedAt is when the bot last read the request.
	UpdatedAt time.Time
	Mode      Mode
	OrgName   string
}

// RequestStatus is the requester's status card for one request, updated in place through every state.
func RequestStatus(v RequestStatusView) *Card {
	name := safe(orDefault(v.PackageName, v.PackageID), maxName)
	label := StateLabel(v.State)
	c := newCard(name + ": " + label)
	c.add(title(name), subtitle("Your access request"))

	headline, detail := stateText(v)
	c.add(banner(stateStyle(v.State), headline, detail))

	switch {
	case v.State == StateDelivered && (len(v.Granted) > 0 || !v.Until.IsZero()):
		c.add(grantedList(v.Granted, v.Until))
	case v.State == StateDelivering && v.WaitingForInvitation && v.InviteRedeemURL != "":
		c.add(ActionSet{Actions: []Action{ActionOpenURL{Title: "Accept the invitation", URL: v.InviteRedeemURL}}})
	}

	c.add(timeline(v.Timeline)...)
	if note := modeNote(v.Mode, v.OrgName); note != "" {
		c.add(footnote(note))
	}
	if !v.UpdatedAt.IsZero() {
		c.add(TextBlock{Text: "Updated " + when(v.UpdatedAt), Wrap: true, Size: SizeSmall, IsSubtle: true, Spacing: SpacingSmall})
	}
	c.Actions = []Action{noInputs(execute("Refresh", VerbRequestRefresh, KeyRequestID, v.RequestID))}
	if v.Cancelable {
		c.Actions = append(c.Actions, noInputs(execute("Cancel request", VerbRequestCancel, KeyRequestID, v.RequestID)))
	}
	return c
}

// stateText is the banner's headline (the state's label, with the stage or the invitation where they matter)
// and detail for the view's state.
func stateText(v RequestStatusView) (string, string) {
	by := safe(v.DecidedBy, maxName)
	reason := safe(v.Reason, maxShort)
	h := StateLabel(v.State)
	switch v.State {
	case StateSubmitted:
		return h, "Your request was received and is being checked against the policy."
	case StatePendingApproval:
		if v.StageCount > 1 {
			h = fmt.Sprintf("%s — stage %d of %d", h, max(v.StageIndex, 1), v.StageCount)
		}
		d := "Waiting for the approvers."
		if asked := joinNames(v.Asked); asked != "" {
			d = "Waiting for " + asked + "."
		}
		return h, d
	case StateApproved:
		return h, decision("Approved", by, v.DecidedAt, v.DecisionJustification) + " Your access is being set up."
	case StateDenied:
		return h, decision("Denied", by, v.DecidedAt, v.DecisionJustification)
	case StateDelivering:
		if v.WaitingForInvitation {
			return h + " — waiting for you to accept the invitation",
				"Approved. Accept the guest invitation to finish: open the link, sign in with your own account and accept the consent prompt."
		}
		return h, "Approved. Your access is being set up; this usually takes a few minutes."
	case StateDelivered:
		return h, "You have access."
	case StatePartiallyDelivered:
		return h, orDefault(reason, "Some of the resources could not be assigned yet; it will be retried.")
	case StateScheduled:
		return h, "Approved. Access starts on the requested date."
	case StateCanceled:
		return h, orDefault(reason, "The request was canceled.")
	case StateExpired:
		return h, orDefault(reason, "Nobody decided in time, so the request was closed. You can request again.")
	case StateDeliveryFailed:
		return h, orDefault(reason, "Access could not be assigned. An admin has been told; you can also request again.")
	}
	return h, reason
}

// decision is "Approved by Aaron Approver on <date>: "justification"."
func decision(verb, by string, at time.Time, justification string) string {
	s := verb
	if by != "" {
		s += " by " + by
	}
	if !at.IsZero() {
		s += " on " + when(at)
	}
	s += "."
	if j := safe(justification, maxLong); j != "" {
		s += " \"" + j + "\""
	}
	return s
}

func grantedList(granted []string, until time.Time) Container {
	ct := Container{Spacing: SpacingMedium}
	if len(granted) > 0 {
		ct.Items = append(ct.Items, TextBlock{Text: "Granted", Wrap: true, Weight: WeightBolder})
		for i, g := range granted {
			if i == maxResources {
				ct.Items = append(ct.Items, moreLine(len(granted)-i, "resources"))
				break
			}
			ct.Items = append(ct.Items, TextBlock{Text: "• " + safe(g, maxShort), Wrap: true, Spacing: SpacingNone})
		}
	}
	u := "No end date"
	if !until.IsZero() {
		u = when(until)
	}
	ct.Items = append(ct.Items, FactSet{Facts: []Fact{{Title: "Until", Value: u}}, Spacing: SpacingSmall})
	return ct
}

// timeline shows the latest maxTimeline events as time · text rows.
func timeline(events []EventView) []Element {
	if len(events) == 0 {
		return nil
	}
	out := []Element{heading("History")}
	start := 0
	if len(events) > maxTimeline {
		start = len(events) - maxTimeline
		out = append(out, TextBlock{Text: fmt.Sprintf("%s not shown", plural(start, "earlier event")),
			Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall})
	}
	for _, e := range events[start:] {
		out = append(out, ColumnSet{Spacing: SpacingSmall, Columns: []Column{
			{Width: "125px", Items: []Element{TextBlock{Text: stamp(e.At), IsSubtle: true, Size: SizeSmall, Wrap: true}}},
			{Width: WidthStretch, Items: []Element{TextBlock{Text: safe(e.Text, maxShort), Wrap: true, Size: SizeSmall}}},
		}})
	}
	return out
}
