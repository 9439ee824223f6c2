package lifecycle

// What the brokered follow-up reads about the guest a delivered partner request led to: the guest account,
// the assignment's window and whether it is the guest's last assignment. The guidance cards sent from these
// are the conversation layer's (bot/guest.go).

import (
	"context"
	"fmt"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// FindGuest finds the guest account of the request's target: the assignment's target, else the invitation
// of the requester's address (which names the existing guest; redirectURL is where its redemption leads).
func (c *Core) FindGuest(ctx context.Context, br *Brokered, redirectURL string) (string, error) {
	if br.AssignmentID != "" {
		as, err := c.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: br.PackageID})
		if err == nil {
			for _, a := range as {
				if a.ID == br.AssignmentID && a.Target.ID != "" {
					return a.Target.ID, nil
				}
			}
		}
	}
	inv, err := c.cfg.Entitlement.Invite(ctx, entitlement.NewInvitation{Email: br.Requester.Email, DisplayName: br.Requester.Name,
		RedirectURL: redirectURL})
	if err != nil {
		return "", fmt.Errorf("find guest account of %s: %w", br.Requester.Email, err)
	}
	if inv.InvitedUserID == "" {
		return "", fmt.Errorf("find guest account of %s: the invitation names no user: %w", br.Requester.Email, entitlement.ErrNotFound)
	}
	br.Guest.RedeemURL = inv.RedeemURL
	return inv.InvitedUserID, nil
}

// ReadAssignmentWindow fills the guest record's start and end from the delivered assignment.
func (c *Core) ReadAssignmentWindow(ctx context.Context, br *Brokered) {
	f := entitlement.AssignmentFilter{PackageID: br.PackageID}
	if br.Guest.UserID != "" {
		f.TargetID = br.Guest.UserID
	}
	as, err := c.cfg.Entitlement.Assignments(ctx, f)
	if err != nil {
		c.log.WarnContext(ctx, "read guest assignment", "request", br.ID, "err", err)
		return
	}
	for _, a := range as {
		if br.AssignmentID == "" || a.ID == br.AssignmentID {
			br.Guest.StartsAt, br.Guest.EndsAt = a.Schedule.Start, a.EndsAt()
			if br.AssignmentID == "" {
				br.AssignmentID = a.ID
			}
			return
		}
	}
}

// LastAssignmentEnds reports whether the request's assignment is the guest's last one (no other active
// assignment lasts longer); when another does, the record follows that one's end instead.
func (c *Core) LastAssignmentEnds(ctx context.Context, br *Brokered) bool {
	as, err := c.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{TargetID: br.Guest.UserID,
		States: entitlement.GrantingAssignmentStates()})
	if err != nil {
		c.log.WarnContext(ctx, "list guest assignments", "request", br.ID, "err", err)
		return true
	}
	for _, a := range as {
		if a.ID == br.AssignmentID {
			continue
		}
		if end := a.EndsAt(); end.IsZero() || end.After(br.Guest.EndsAt) {
			return false
		}
	}
	return true
}
