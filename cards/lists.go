package cards

import (
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// alignCenter centers a column's content vertically.
const alignCenter = "center"

// RequestSummaryView is one request in the MyRequests list.
type RequestSummaryView struct {
	RequestID   string
	PackageName string
	State       RequestState
	// Detail is a short note under the state ("stage 2 of 2, waiting for Falcon Security Reviewers").
	Detail    string
	UpdatedAt time.Time
}

// MyRequestsView is the requester's list of open and recent requests.
type MyRequestsView struct {
	Requests []RequestSummaryView
	// Total is the number of requests the bot found (may exceed len(Requests)).
	Total int
}

// MyRequests lists the user's requests with their state; each opens its status card.
func MyRequests(l *i18n.Localizer, v MyRequestsView) *Card {
	c := newCard(l, l.T("myRequests.fallback"))
	c.add(title(l.T("myRequests.title")))
	if len(v.Requests) == 0 {
		c.add(text(l.T("myRequests.empty")))
		c.Actions = []Action{commandButton(l.T("button.findPackages"), cmdPackages)}
		return c
	}
	shown := v.Requests
	if len(shown) > maxListItems {
		shown = shown[:maxListItems]
	}
	for i, r := range shown {
		left := []Element{
			TextBlock{Text: safe(orDefault(r.PackageName, r.RequestID), maxName), Wrap: true, Weight: WeightBolder},
			TextBlock{Text: stateLine(l, r), Wrap: true, Spacing: SpacingNone, Color: stateColor(r.State)},
		}
		if !r.UpdatedAt.IsZero() {
			left = append(left, TextBlock{Text: l.T("common.updated", "When", when(r.UpdatedAt)), Wrap: true, IsSubtle: true,
				Size: SizeSmall, Spacing: SpacingNone})
		}
		c.add(Container{Separator: i > 0, Spacing: SpacingMedium, Items: []Element{ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: left},
			{Width: WidthAuto, VerticalContentAlignment: alignCenter, Items: []Element{
				ActionSet{Actions: []Action{execute(l.T("button.details"), VerbRequestRefresh, KeyRequestID, r.RequestID)}},
			}},
		}}}})
	}
	if rest := max(v.Total, len(v.Requests)) - len(shown); rest > 0 {
		c.add(moreLine(l.N("myRequests.more", rest)))
	}
	c.Actions = []Action{commandButton(l.T("button.findPackages"), cmdPackages), commandButton(l.T("button.myAccess"), cmdAccess)}
	return c
}

func stateLine(l *i18n.Localizer, r RequestSummaryView) string {
	s := StateLabel(l, r.State)
	if d := safe(r.Detail, maxShort); d != "" {
		s += " · " + d
	}
	return s
}

// stateColor colors a state word; "good" and "attention" read in both themes, the rest stays default.
func stateColor(s RequestState) string {
	switch s {
	case StateDelivered, StateApproved:
		return ColorGood
	case StateDenied, StateDeliveryFailed:
		return ColorAttention
	}
	return ""
}

// AssignmentView is one access package assignment the user holds.
type AssignmentView struct {
	AssignmentID string
	PackageID    string
	PackageName  string
	// Resources lists what it grants ("Falcon Team — Member").
	Resources []string
	Start     time.Time
	// End is when it expires; zero means no end.
	End time.Time
	// CanExtend is true when the policy lets the user ask for more time.
	CanExtend bool
	// CanRemove is true when the user may ask to remove it.
	CanRemove bool
}

// MyAccessView is the list of what the user has.
type MyAccessView struct {
	Assignments []AssignmentView
	Total       int
	// Now is used to say "ends in 5 days".
	Now time.Time
	// OrgName is the resource organization.
	OrgName string
}

// expiringSoon is how close an end date must be to be flagged on MyAccess.
const expiringSoon = 14 * 24 * time.Hour

// MyAccess lists the user's assignments with their end dates, Extend and Request removal buttons.
func MyAccess(l *i18n.Localizer, v MyAccessView) *Card {
	org := safe(orDefault(v.OrgName, l.T("common.yourOrganization")), maxName)
	c := newCard(l, l.T("myAccess.title", "Org", org))
	c.add(title(l.T("myAccess.title", "Org", org)))
	if len(v.Assignments) == 0 {
		c.add(text(l.T("myAccess.empty")))
		c.Actions = []Action{commandButton(l.T("button.findPackages"), cmdPackages)}
		return c
	}
	shown := v.Assignments
	if len(shown) > maxListItems {
		shown = shown[:maxListItems]
	}
	for i, a := range shown {
		items := []Element{TextBlock{Text: safe(orDefault(a.PackageName, a.PackageID), maxName), Wrap: true, Weight: WeightBolder}}
		if len(a.Resources) > 0 {
			items = append(items, TextBlock{Text: joinInline(l, a.Resources, maxName, ", "), Wrap: true,
				IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
		}
		items = append(items, endLine(l, a.End, v.Now))
		var acts []Action
		if a.CanExtend {
			acts = append(acts, execute(l.T("button.extend"), VerbAccessExtend, KeyAssignmentID, a.AssignmentID, KeyPackageID, a.PackageID))
		}
		if a.CanRemove {
			acts = append(acts, execute(l.T("button.requestRemoval"), VerbAccessRemove, KeyAssignmentID, a.AssignmentID, KeyPackageID, a.PackageID))
		}
		if len(acts) > 0 {
			items = append(items, ActionSet{Actions: acts, Spacing: SpacingSmall})
		}
		c.add(Container{Separator: i > 0, Spacing: SpacingMedium, Items: items})
	}
	if rest := max(v.Total, len(v.Assignments)) - len(shown); rest > 0 {
		c.add(moreLine(l.N("myAccess.more", rest)))
	}
	c.Actions = []Action{commandButton(l.T("button.findPackages"), cmdPackages), commandButton(l.T("button.myRequests"), cmdStatus)}
	return c
}

func endLine(l *i18n.Localizer, end, now time.Time) TextBlock {
	if end.IsZero() {
		return TextBlock{Text: l.T("common.noEndDate"), Wrap: true, Spacing: SpacingSmall}
	}
	tb := TextBlock{Text: l.T("myAccess.ends", "When", when(end)), Wrap: true, Spacing: SpacingSmall}
	if !now.IsZero() {
		left := end.Sub(now)
		switch {
		case left <= 0:
			tb.Text = l.T("myAccess.ended", "When", when(end))
			tb.Color = ColorAttention
		case left <= expiringSoon:
			tb.Text = l.T("myAccess.endsIn", "When", when(end), "In", l.Duration(left))
			tb.Weight = WeightBolder
		}
	}
	return tb
}
