package cards

import "time"

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
func MyRequests(v MyRequestsView) *Card {
	c := newCard("Your access requests.")
	c.add(title("Your requests"))
	if len(v.Requests) == 0 {
		c.add(text("You have no open or recent requests."))
		c.Actions = []Action{commandButton("Find packages", "packages")}
		return c
	}
	shown := v.Requests
	if len(shown) > maxListItems {
		shown = shown[:maxListItems]
	}
	for i, r := range shown {
		left := []Element{
			TextBlock{Text: safe(orDefault(r.PackageName, r.RequestID), maxName), Wrap: true, Weight: WeightBolder},
			TextBlock{Text: stateLine(r), Wrap: true, Spacing: SpacingNone, Color: stateColor(r.State)},
		}
		if !r.UpdatedAt.IsZero() {
			left = append(left, TextBlock{Text: "Updated " + when(r.UpdatedAt), Wrap: true, IsSubtle: true,
				Size: SizeSmall, Spacing: SpacingNone})
		}
		c.add(Container{Separator: i > 0, Spacing: SpacingMedium, Items: []Element{ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: left},
			{Width: WidthAuto, VerticalContentAlignment: "center", Items: []Element{
				ActionSet{Actions: []Action{execute("Details", VerbRequestRefresh, KeyRequestID, r.RequestID)}},
			}},
		}}}})
	}
	if rest := max(v.Total, len(v.Requests)) - len(shown); rest > 0 {
		c.add(moreLine(rest, "older requests"))
	}
	c.Actions = []Action{commandButton("Find packages", "packages"), commandButton("My access", "access")}
	return c
}

func stateLine(r RequestSummaryView) string {
	s := StateLabel(r.State)
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
func MyAccess(v MyAccessView) *Card {
	org := safe(orDefault(v.OrgName, "your organization"), maxName)
	c := newCard("Your access in " + org + ".")
	c.add(title("Your access in " + org))
	if len(v.Assignments) == 0 {
		c.add(text("You have no access packages yet."))
		c.Actions = []Action{commandButton("Find packages", "packages")}
		return c
	}
	shown := v.Assignments
	if len(shown) > maxListItems {
		shown = shown[:maxListItems]
	}
	for i, a := range shown {
		items := []Element{TextBlock{Text: safe(orDefault(a.PackageName, a.PackageID), maxName), Wrap: true, Weight: WeightBolder}}
		if len(a.Resources) > 0 {
			items = append(items, TextBlock{Text: joinInline(a.Resources, maxName, ", ", " and %d more"), Wrap: true,
				IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
		}
		items = append(items, endLine(a.End, v.Now))
		var acts []Action
		if a.CanExtend {
			acts = append(acts, execute("Extend", VerbAccessExtend, KeyAssignmentID, a.AssignmentID, KeyPackageID, a.PackageID))
		}
		if a.CanRemove {
			acts = append(acts, execute("Request removal", VerbAccessRemove, KeyAssignmentID, a.AssignmentID, KeyPackageID, a.PackageID))
		}
		if len(acts) > 0 {
			items = append(items, ActionSet{Actions: acts, Spacing: SpacingSmall})
		}
		c.add(Container{Separator: i > 0, Spacing: SpacingMedium, Items: items})
	}
	if rest := max(v.Total, len(v.Assignments)) - len(shown); rest > 0 {
		c.add(moreLine(rest, "assignments"))
	}
	c.Actions = []Action{commandButton("Find packages", "packages"), commandButton("My requests", "status")}
	return c
}

func endLine(end, now time.Time) TextBlock {
	if end.IsZero() {
		return TextBlock{Text: "No end date", Wrap: true, Spacing: SpacingSmall}
	}
	tb := TextBlock{Text: "Ends " + when(end), Wrap: true, Spacing: SpacingSmall}
	if !now.IsZero() {
		left := end.Sub(now)
		switch {
		case left <= 0:
			tb.Text = "Ended " + when(end)
			tb.Color = ColorAttention
		case left <= expiringSoon:
			tb.Text += " (in " + humanDuration(left) + ")"
			tb.Weight = WeightBolder
		}
	}
	return tb
}
