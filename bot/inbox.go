package bot

// The approver's inbox: the requests waiting for the user's decision, Graph's (delegated) and the brokered
// ones the bot runs itself.

import (
	"context"
	"errors"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// cmdApprovals lists the requests waiting for the user's decision.
func (b *Bot) cmdApprovals(ctx context.Context, t *turn, cmd Command) error {
	d, err := b.delegated(ctx, t)
	var reqs []entitlement.Request
	if err == nil {
		reqs, err = d.PendingApprovals(ctx)
	}
	// Brokered requests (partner users) wait in the bot's own store, not in Graph.
	brk, berr := b.brokeredInboxItems(ctx, t.userID)
	if berr != nil {
		t.log.WarnContext(ctx, "list brokered approvals", "err", berr)
	}
	if err != nil {
		signIn := errors.Is(err, entitlement.ErrSignInRequired) || errors.Is(err, entitlement.ErrConsentRequired)
		if signIn || len(brk) == 0 {
			_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.listApprovals"), err, "approvals"))
			return err
		}
		// Graph failed, but the brokered decisions are still the user's to make: show them, and say the
		// inbox is incomplete (below).
		t.log.WarnContext(ctx, "list delegated approvals; showing brokered ones only", "err", err)
	}
	graphErr := err
	now := b.now()
	v := cards.ApprovalInboxView{Total: len(reqs), Now: now}
	policies := map[string]entitlement.Policy{}
	for _, r := range reqs {
		tr, err := b.core.Follow(ctx, r.ID)
		if err != nil {
			tr, _ = b.core.Track(ctx, r, trackOptions{})
		}
		if tr == nil {
			tr = &trackedRequest{ID: r.ID, PackageName: r.PackageName, RequestorName: r.Requestor.Name, CreatedAt: r.CreatedAt}
		}
		it := cards.InboxItemView{RequestID: r.ID, ApprovalID: r.ID, StageID: stageToken(tr, max(tr.Stage, 1)),
			PackageName: orUnknown(tr.PackageName, r.PackageName), RequesterName: orUnknown(tr.RequestorName, r.Requestor.Name),
			RequestedAt: r.CreatedAt, StageIndex: max(tr.Stage, 1), StageCount: max(tr.StageCount, 1)}
		if tr.RequestorOrgID != "" {
			if org, err := b.cfg.Entitlement.ConnectedOrg(ctx, tr.RequestorOrgID); err == nil {
				it.RequesterOrg = org.Name
			}
		}
		if pol, ok := b.policyCached(ctx, policies, tr.PolicyID); ok {
			it.Deadline = autoDenyAt(pol, tr.Stage, tr.StageStartedAt)
		}
		v.Items = append(v.Items, it)
	}
	v.Items = append(v.Items, brk...)
	v.Total += len(brk)
	if _, err = b.sendCard(ctx, t, cards.ApprovalInbox(t.loc, v)); err != nil || graphErr == nil {
		return err
	}
	why := entitlement.UserMessage(graphErr)
	if id := errorMessageID(graphErr); id != "" && t.loc.Lang() != "en" {
		why = t.loc.T(id)
	}
	return b.sendNotice(ctx, t, noticeWarning, t.loc.T("inbox.partial"),
		t.loc.T("inbox.partialText", "Org", orUnknown(b.cfg.Tenant.Name, t.loc.T("common.yourOrganization")), "Why", why),
		[]cards.Suggestion{{Title: t.loc.T("button.tryAgain"), Command: "approvals"}})
}
