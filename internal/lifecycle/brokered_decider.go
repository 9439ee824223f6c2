package lifecycle

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// MayDecideBrokered says whether by may decide st, the current stage of br: an approver of the stage who is
// not the requester. The stage's approvers are resolved again, app-only (with its escalation approvers once
// the stage escalated), so a sponsor removed since the card went out can't decide. requester reports that by
// is the requester. When Graph could not say who approves and by is neither, the error is
// entitlement.ErrUnavailable: that is no verdict about by, and nothing may be recorded.
func (c *Core) MayDecideBrokered(ctx context.Context, br *Brokered, st entitlement.Stage, by Actor) (may, requester bool, err error) {
	approvers, aerr := c.BrokeredApprovers(ctx, br, st, false)
	if cur := br.Current(); cur != nil && cur.Escalated {
		esc, eerr := c.BrokeredApprovers(ctx, br, st, true)
		approvers = append(approvers, esc...)
		if eerr != nil && !errors.Is(aerr, entitlement.ErrUnavailable) {
			aerr = eerr
		}
	}
	requester = strings.EqualFold(by.ID, br.Requester.ID) && strings.EqualFold(by.TenantID, br.Requester.TenantID)
	approver := slices.ContainsFunc(approvers, func(p Person) bool { return strings.EqualFold(p.ID, by.ID) })
	if !requester && !approver && errors.Is(aerr, entitlement.ErrUnavailable) {
		return false, false, aerr
	}
	return approver && !requester, requester, nil
}
