package cards

import (
	"strings"
	"time"
	"unicode"

	"github.com/accessbot/accessbot/internal/i18n"
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

// StateLabel is the short human label of a state ("Pending approval") in the reader's language.
func StateLabel(l *i18n.Localizer, s RequestState) string {
	switch s {
	case StateSubmitted, StatePendingApproval, StateApproved, StateDenied, StateDelivering, StateDelivered,
		StatePartiallyDelivered, StateScheduled, StateCanceled, StateExpired, StateDeliveryFailed:
		return l.T("state." + string(s))
	}
	return l.T("state.unknown", "State", clip(humanizeEnum(string(s)), 40))
}

// humanizeEnum writes a state Graph sent that this version does not know (camelCase or PascalCase, maybe
// with underscores) as lower-case words: "awaitingCallback" → "awaiting callback".
func humanizeEnum(s string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == '_' || r == '-' || r == ' ':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), " ") {
				b.WriteByte(' ')
			}
			prevLower = false
			continue
		case unicode.IsUpper(r):
			if prevLower {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
			prevLower = false
		default:
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
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
func RequestStatus(l *i18n.Localizer, v RequestStatusView) *Card {
	name := safe(orDefault(v.PackageName, v.PackageID), maxName)
	label := StateLabel(l, v.State)
	c := newCard(l, name+": "+label)
	c.add(title(name), subtitle(l.T("status.subtitle")))

	headline, detail := stateText(l, v)
	c.add(banner(stateStyle(v.State), headline, detail))

	switch {
	case v.State == StateDelivered && (len(v.Granted) > 0 || !v.Until.IsZero()):
		c.add(grantedList(l, v.Granted, v.Until))
	case v.State == StateDelivering && v.WaitingForInvitation && v.InviteRedeemURL != "":
		c.add(ActionSet{Actions: []Action{ActionOpenURL{Title: l.T("button.acceptInvitation"), URL: v.InviteRedeemURL}}})
	}

	c.add(timeline(l, v.Timeline)...)
	if note := modeNote(l, v.Mode, v.OrgName); note != "" {
		c.add(footnote(note))
	}
	if !v.UpdatedAt.IsZero() {
		c.add(TextBlock{Text: l.T("common.updated", "When", when(v.UpdatedAt)), Wrap: true, Size: SizeSmall, IsSubtle: true, Spacing: SpacingSmall})
	}
	c.Actions = []Action{noInputs(execute(l.T("button.refresh"), VerbRequestRefresh, KeyRequestID, v.RequestID))}
	if v.Cancelable {
		c.Actions = append(c.Actions, noInputs(execute(l.T("button.cancelRequest"), VerbRequestCancel, KeyRequestID, v.RequestID)))
	}
	return c
}

// stateText is the banner's headline (the state's label, with the stage or the invitation where they matter)
// and detail for the view's state.
func stateText(l *i18n.Localizer, v RequestStatusView) (string, string) {
	by := safe(v.DecidedBy, maxName)
	reason := safe(v.Reason, maxShort)
	h := StateLabel(l, v.State)
	switch v.State {
	case StateSubmitted:
		return h, l.T("status.submitted")
	case StatePendingApproval:
		if v.StageCount > 1 {
			h = l.T("status.pendingStage", "State", h, "Stage", max(v.StageIndex, 1), "Stages", v.StageCount)
		}
		if asked := joinAnyOf(l, v.Asked); asked != "" {
			return h, l.T("status.waitingFor", "Names", asked)
		}
		return h, l.T("status.waitingForApprovers")
	case StateApproved:
		return h, decision(l, v.State, by, v.DecidedAt, v.DecisionJustification) + " " + l.T("status.beingSetUp")
	case StateDenied:
		return h, decision(l, v.State, by, v.DecidedAt, v.DecisionJustification)
	case StateDelivering:
		if v.WaitingForInvitation {
			return l.T("status.waitingInvitation", "State", h), l.T("status.waitingInvitationDetail")
		}
		return h, l.T("status.delivering")
	case StateDelivered:
		return h, l.T("status.delivered")
	case StatePartiallyDelivered:
		return h, orDefault(reason, l.T("status.partiallyDelivered"))
	case StateScheduled:
		return h, l.T("status.scheduled")
	case StateCanceled:
		return h, orDefault(reason, l.T("status.canceled"))
	case StateExpired:
		return h, orDefault(reason, l.T("status.expired"))
	case StateDeliveryFailed:
		return h, orDefault(reason, l.T("status.deliveryFailed"))
	}
	return h, reason
}

// decision is "Approved by Aaron Approver on <date>. "justification"" (state is StateApproved or StateDenied).
func decision(l *i18n.Localizer, state RequestState, by string, at time.Time, justification string) string {
	s := l.T("decision."+string(state), "By", by, "When", whenOrEmpty(at))
	if j := safe(justification, maxLong); j != "" {
		s += " " + l.T("common.quoted", "Text", j)
	}
	return s
}

func grantedList(l *i18n.Localizer, granted []string, until time.Time) Container {
	ct := Container{Spacing: SpacingMedium}
	if len(granted) > 0 {
		ct.Items = append(ct.Items, TextBlock{Text: l.T("status.granted"), Wrap: true, Weight: WeightBolder})
		for i, g := range granted {
			if i == maxResources {
				ct.Items = append(ct.Items, moreLine(l.N("common.moreResources", len(granted)-i)))
				break
			}
			ct.Items = append(ct.Items, TextBlock{Text: bullet + safe(g, maxShort), Wrap: true, Spacing: SpacingNone})
		}
	}
	u := l.T("common.noEndDate")
	if !until.IsZero() {
		u = when(until)
	}
	ct.Items = append(ct.Items, FactSet{Facts: []Fact{{Title: l.T("status.until"), Value: u}}, Spacing: SpacingSmall})
	return ct
}

// bullet starts a list line.
const bullet = "• "

// timeline shows the latest maxTimeline events as time · text rows.
func timeline(l *i18n.Localizer, events []EventView) []Element {
	if len(events) == 0 {
		return nil
	}
	out := []Element{heading(l.T("common.history"))}
	start := 0
	if len(events) > maxTimeline {
		start = len(events) - maxTimeline
		out = append(out, TextBlock{Text: l.N("status.earlierEvents", start),
			Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall})
	}
	for _, e := range events[start:] {
		out = append(out, ColumnSet{Spacing: SpacingSmall, Columns: []Column{
			{Width: widthTimestamp, Items: []Element{TextBlock{Text: stamp(e.At), IsSubtle: true, Size: SizeSmall, Wrap: true}}},
			{Width: WidthStretch, Items: []Element{TextBlock{Text: eventText(l, e), Wrap: true, Size: SizeSmall}}},
		}})
	}
	return out
}

const widthTimestamp = "125px"
