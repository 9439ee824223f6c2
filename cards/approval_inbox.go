package cards

import (
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// This file builds the approver inbox card: the pending decisions of one approver.

// InboxItemView is one pending decision in the approver's inbox.
type InboxItemView struct {
	RequestID     string
	ApprovalID    string
	StageID       string
	PackageName   string
	RequesterName string
	RequesterOrg  string
	RequestedAt   time.Time
	Deadline      time.Time
	StageIndex    int
	StageCount    int
}

// ApprovalInboxView is the approver's list of pending decisions.
type ApprovalInboxView struct {
	Items []InboxItemView
	Total int
	Now   time.Time
}

// ApprovalInbox lists the approver's pending decisions, each with an Open button.
func ApprovalInbox(l *i18n.Localizer, v ApprovalInboxView) *Card {
	c := newCard(l, l.T("inbox.fallback"))
	c.add(title(l.T("inbox.title")))
	total := max(v.Total, len(v.Items))
	if total == 0 {
		c.add(text(l.T("inbox.empty")))
		return c
	}
	c.add(subtitle(l.N("inbox.count", total)))
	shown := v.Items
	if len(shown) > maxListItems {
		shown = shown[:maxListItems]
	}
	for i, it := range shown {
		who := safe(orDefault(it.RequesterName, l.T("common.someone")), maxName)
		if it.RequesterOrg != "" {
			who = l.T("approval.personOrg", "Name", who, "Org", safe(it.RequesterOrg, maxName))
		}
		left := []Element{
			TextBlock{Text: safe(orDefault(it.PackageName, it.RequestID), maxName), Wrap: true, Weight: WeightBolder},
			TextBlock{Text: who, Wrap: true, Spacing: SpacingNone},
		}
		var meta []string
		if it.StageCount > 1 {
			meta = append(meta, l.T("inbox.stage", "Stage", max(it.StageIndex, 1), "Stages", it.StageCount))
		}
		if !it.RequestedAt.IsZero() {
			meta = append(meta, l.T("inbox.requested", "When", when(it.RequestedAt)))
		}
		if !it.Deadline.IsZero() && !v.Now.IsZero() {
			if left := it.Deadline.Sub(v.Now); left > 0 {
				meta = append(meta, l.T("inbox.left", "Duration", l.Duration(left)))
			} else {
				meta = append(meta, l.T("inbox.timeUp"))
			}
		}
		if len(meta) > 0 {
			left = append(left, TextBlock{Text: strings.Join(meta, " · "), Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
		}
		c.add(Container{Separator: i > 0, Spacing: SpacingMedium, Items: []Element{ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: left},
			{Width: WidthAuto, VerticalContentAlignment: alignCenter, Items: []Element{ActionSet{Actions: []Action{
				execute(l.T("common.open"), VerbApprovalOpen, KeyRequestID, it.RequestID, KeyApprovalID, it.ApprovalID, KeyStageID, it.StageID),
			}}}},
		}}}})
	}
	if rest := total - len(shown); rest > 0 {
		c.add(moreLine(l.N("inbox.more", rest)))
	}
	return c
}
