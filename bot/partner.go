package bot

// The partner flows (DESIGN.md §3): users of a connected organization's tenant request the resource tenant's
// access packages. Users of the resource tenant file delegated requests; users of a configured connected
// organization get brokered requests (brokered.go) or, when brokered mode is off, the tenant-scoped My Access
// link; users of a proposed organization or of an unknown tenant get an explanation. After delivery the guest
// is walked through the invitation and the Teams tenant switch (guest.go).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

// partnerCacheTTL is how long the connected organizations and partner users' addresses are cached.
const partnerCacheTTL = 2 * time.Minute

// partnerState caches what the partner flows read on every turn. Its zero value is ready to use.
type partnerState struct {
	mu        sync.Mutex
	orgs      []entitlement.ConnectedOrg
	orgsUntil time.Time
	members   map[string]memberEntry // tenant|aadObjectId → address
	// swept is when expired members were last dropped.
	swept time.Time
}

type memberEntry struct {
	email string
	until time.Time
}

// memberGetter is implemented by Connectors that can look a conversation member up (botframework.Client,
// the Agents Playground's connector); it gives a partner user's email address.
type memberGetter interface {
	GetMember(ctx context.Context, serviceURL, conversationID, memberID string) (botframework.Member, error)
}

// modeDecision says how the bot files requests for one user (DESIGN.md §3) and why.
type modeDecision struct {
	// Mode is delegated (members and guests of the resource tenant), brokered (connected-organization users
	// not yet in it) or link-out (anything else the bot cannot do: the card shows the My Access link).
	Mode cards.Mode
	// Allowed is false when the user cannot request here at all (unknown tenant, proposed organization);
	// Reason then explains it in words the user can act on.
	Allowed bool
	// Reason explains link-out or refusal.
	Reason string
	// OrgID and OrgName are the connected organization of a partner user.
	OrgID   string
	OrgName string
	// Email is a partner user's address (from Teams), used to target adminAdd in brokered mode.
	Email string
}

// registerPartner registers the partner flows' outbox kinds (brokered card updates, guest follow-up) and
// routes what the request/approve flows cannot serve for brokered requests: it runs after registerRequester
// and registerApprover and wraps their request.refresh and request.cancel verbs (brokered ids are served
// here, every other id by the request flow) and their status/access/approvals commands for partner users
// (who have no delegated token in the resource tenant).
func (b *Bot) registerPartner() {
	b.onOutbox(OutboxBrokeredCards, b.deliverBrokeredCards)
	b.onOutbox(OutboxBrokeredFollow, b.deliverBrokeredFollow)
	b.wrapVerb(cards.VerbRequestRefresh, b.verbBrokeredRefresh)
	b.wrapVerb(cards.VerbRequestCancel, b.verbBrokeredCancel)
	b.wrapForeign("status", func(ctx context.Context, t *turn, _ Command) error { return b.cmdBrokeredRequests(ctx, t) })
	b.wrapForeign("access", func(ctx context.Context, t *turn, _ Command) error { return b.cmdBrokeredAccess(ctx, t) })
	b.wrapForeign("approvals", func(ctx context.Context, t *turn, _ Command) error { return b.cmdBrokeredApprovals(ctx, t) })
	b.wrapForeign("cancel", b.cmdBrokeredCancel)
	b.wrapForeign("extend", b.cmdBrokeredExtend)
}

// wrapForeign runs mine instead of the registered command for users of another tenant (partner users have
// no delegated token in the resource tenant; what they have there is what the bot brokers). "my requests"
// and "my access" reach the wrapped commands too (cmdMy runs them by name).
func (b *Bot) wrapForeign(name string, mine func(ctx context.Context, t *turn, cmd Command) error) {
	spec, ok := b.byName[name]
	if !ok {
		return
	}
	next := spec.Run
	spec.Run = func(ctx context.Context, t *turn, cmd Command) error {
		if b.isForeign(t) {
			return mine(ctx, t, cmd)
		}
		return next(ctx, t, cmd)
	}
}

// cmdBrokeredCancel is a partner user's typed "cancel [request or package]": it cancels the one open
// brokered request of theirs that matches, or asks which.
func (b *Bot) cmdBrokeredCancel(ctx context.Context, t *turn, cmd Command) error {
	var open []brokeredRequest
	err := b.eachOpenBrokered(ctx, func(br *brokeredRequest) error {
		if br.State == entitlement.StatePendingApproval &&
			strings.EqualFold(br.Requester.ID, t.userID) && strings.EqualFold(br.Requester.TenantID, t.tenantID) {
			open = append(open, *br)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list brokered requests of %s: %w", t.userID, err)
	}
	want := strings.ToLower(strings.TrimSpace(cmd.Rest))
	var match []brokeredRequest
	for _, br := range open {
		if want == "" || strings.EqualFold(br.ID, want) || strings.Contains(strings.ToLower(br.PackageName), want) {
			match = append(match, br)
		}
	}
	sugg := func(rs []brokeredRequest) []cards.Suggestion {
		var out []cards.Suggestion
		for _, br := range rs {
			out = append(out, cards.Suggestion{Title: t.loc.T("cancel.button", "Package", orUnknown(br.PackageName, br.ID)), Command: "cancel " + br.ID})
		}
		return out
	}
	switch {
	case len(open) == 0:
		return b.sendNotice(ctx, t, noticeInfo, t.loc.T("cancel.nothing"), t.loc.T("cancel.nothingText"),
			[]cards.Suggestion{{Title: t.loc.T("button.myRequests"), Command: "status"}})
	case len(match) == 0:
		return b.sendNotice(ctx, t, noticeWarning, t.loc.T("cancel.noMatch"),
			t.loc.T("cancel.noMatchText", "Typed", strings.TrimSpace(cmd.Rest)), sugg(open))
	case len(match) > 1:
		return b.sendNotice(ctx, t, noticeInfo, t.loc.T("cancel.which"), t.loc.T("cancel.whichText"), sugg(match))
	}
	resp, err := b.verbBrokeredCancel(ctx, t, map[string]any{cards.KeyRequestID: match[0].ID})
	if err != nil {
		return err
	}
	return b.sendInvokeResult(ctx, t, resp)
}

// cmdBrokeredExtend answers a partner user's "extend": brokered access is extended by their contact.
func (b *Bot) cmdBrokeredExtend(ctx context.Context, t *turn, _ Command) error {
	org := orUnknown(b.cfg.Tenant.Name, t.loc.T("common.theOrganization"))
	return b.sendNotice(ctx, t, noticeInfo, t.loc.T("extend.partnerTitle"), t.loc.T("extend.partnerText", "Org", org),
		[]cards.Suggestion{{Title: t.loc.T("button.myRequests"), Command: "status"}})
}

// brokeredInboxItems lists the brokered requests whose current stage waits for userID (for an approver's
// inbox; the approvals command of resource-tenant users can append them to Graph's pending approvals).
func (b *Bot) brokeredInboxItems(ctx context.Context, userID string) ([]cards.InboxItemView, error) {
	var waiting []brokeredRequest
	err := b.eachOpenBrokered(ctx, func(br *brokeredRequest) error {
		if cur := br.Current(); cur != nil && slices.ContainsFunc(cur.Approvers, func(p personRef) bool { return strings.EqualFold(p.ID, userID) }) {
			waiting = append(waiting, *br)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list brokered approvals of %s: %w", userID, err)
	}
	policies := map[string]entitlement.Policy{}
	out := make([]cards.InboxItemView, 0, len(waiting))
	for _, br := range waiting {
		cur := br.Current()
		it := cards.InboxItemView{RequestID: br.ID, ApprovalID: br.ID, StageID: stageToken(br.Mirror(), cur.Index),
			PackageName: br.PackageName, RequesterName: br.Requester.Name, RequesterOrg: br.Requester.OrgName,
			RequestedAt: br.CreatedAt, StageIndex: cur.Index, StageCount: max(br.StageCount, 1)}
		if pol, ok := b.policyCached(ctx, policies, br.PolicyID); ok {
			it.Deadline = autoDenyAt(pol, cur.Index, cur.StartedAt)
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(x, y cards.InboxItemView) int { return x.RequestedAt.Compare(y.RequestedAt) })
	return out, nil
}

// cmdBrokeredApprovals is a partner approver's inbox (an external sponsor): the brokered requests waiting
// for them.
func (b *Bot) cmdBrokeredApprovals(ctx context.Context, t *turn) error {
	items, err := b.brokeredInboxItems(ctx, t.userID)
	if err != nil {
		return err
	}
	_, err = b.sendCard(ctx, t, cards.ApprovalInbox(t.loc, cards.ApprovalInboxView{Items: items, Total: len(items), Now: b.now()}))
	return err
}

// wrapVerb serves a verb for brokered request ids (data.requestId starts with brokeredPrefix) and passes
// every other click to the handler registered before; with none registered, brokered ids are still served.
func (b *Bot) wrapVerb(verb string, mine verbHandler) {
	next := b.verbs[verb]
	b.verbs[verb] = func(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
		if strings.HasPrefix(str(data, cards.KeyRequestID), brokeredPrefix) || next == nil {
			return mine(ctx, t, data)
		}
		return next(ctx, t, data)
	}
}

// errRequestGone: the record of a brokered request the bot filed is gone, pruned after it closed (the bot
// makes up brokered ids itself, so a well-formed one it has no record of was once kept).
var errRequestGone = fmt.Errorf("the request is closed and no longer kept: %w", entitlement.ErrNotFound)

// requestGone answers a card of a request whose record was pruned after it closed (store.Maintenance).
func requestGone(l *i18n.Localizer) *cards.Card {
	return cards.Notice(l, cards.NoticeView{Kind: noticeInfo, Title: l.T("request.gone"), Text: l.T("request.goneText")})
}

// ownBrokered loads a brokered request of the turn's user; ErrNotFound for anyone else's (errRequestGone,
// which matches it, when no record is kept).
func (b *Bot) ownBrokered(ctx context.Context, t *turn, id string) (*brokeredRequest, error) {
	if !strings.HasPrefix(id, brokeredPrefix) || !validID(id) {
		return nil, userErr("", "request.badID").invalid("requestId")
	}
	br, err := b.core.GetBrokered(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("brokered request %s: %w", id, errRequestGone)
		}
		return nil, err
	}
	if !strings.EqualFold(br.Requester.ID, t.userID) || !strings.EqualFold(br.Requester.TenantID, t.tenantID) {
		return nil, fmt.Errorf("brokered request %s belongs to someone else: %w", id, entitlement.ErrNotFound)
	}
	return br, nil
}

// answerBrokeredStatus answers with the requester's status card and stores where it landed.
func (b *Bot) answerBrokeredStatus(ctx context.Context, t *turn, br *brokeredRequest) (*botframework.InvokeResponse, error) {
	return b.answerStatusCard(ctx, t, br.ID, cards.RequestStatus(t.loc, b.brokeredStatusView(ctx, t.loc, br)))
}

func (b *Bot) verbBrokeredRefresh(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	br, err := b.ownBrokered(ctx, t, str(data, cards.KeyRequestID))
	if errors.Is(err, errRequestGone) {
		return b.answer(ctx, t, requestGone(t.loc))
	}
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.readRequest"), err, "status")
	}
	return b.answerBrokeredStatus(ctx, t, br)
}

// verbBrokeredCancel cancels a brokered request that still waits for approval; the approvers' cards say so.
func (b *Bot) verbBrokeredCancel(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	id := str(data, cards.KeyRequestID)
	if !validID(id) {
		return b.failure(ctx, t, t.loc.T("fail.cancelRequest"), userErr("", "request.badID").invalid("requestId"), "status")
	}
	unlock, err := b.core.Lock(ctx, "brk:"+id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	br, err := b.ownBrokered(ctx, t, id)
	if errors.Is(err, errRequestGone) {
		return b.answer(ctx, t, requestGone(t.loc))
	}
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.cancelRequest"), err, "status")
	}
	if br.State != entitlement.StatePendingApproval {
		return b.answerBrokeredStatus(ctx, t, br) // already decided: the card shows where it stands
	}
	br.State, br.Canceled, br.Done = entitlement.StateCanceled, true, true
	br.AddEvent(b.now(), lifecycle.Say("event.canceledByYou"))
	if err := b.core.SaveBrokered(ctx, br); err != nil {
		return nil, err
	}
	b.auditTurn(ctx, t, store.AuditEntry{Action: "request.cancel", Mode: store.ModeBrokered, RequestID: br.ID, PackageID: br.PackageID,
		PackageName: br.PackageName, SubjectID: br.Requester.ID, SubjectName: br.Requester.Name, Outcome: "canceled"})
	b.updateBrokeredCards(ctx, br.ID, t.act.ReplyToID)
	return b.answerBrokeredStatus(ctx, t, br)
}

// cmdBrokeredAccess is a partner user's "access": what the bot brokered for them and until when, like an
// employee's list (the assignments of their guest account in the resource tenant, read with the app's
// permission); requests that are still open are on "status".
func (b *Bot) cmdBrokeredAccess(ctx context.Context, t *turn) error {
	mine, err := b.partnerBrokered(ctx, t)
	if err != nil {
		return err
	}
	v := cards.MyAccessView{Now: b.now(), OrgName: b.cfg.Tenant.Name}
	seen := map[string]bool{}
	guests := map[string]bool{}
	for _, br := range mine {
		if br.Guest.UserID == "" || guests[br.Guest.UserID] {
			continue
		}
		guests[br.Guest.UserID] = true
		as, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{TargetID: br.Guest.UserID})
		if err != nil {
			_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.listAccess"), err, "access"))
			return err
		}
		for _, a := range as {
			if seen[a.ID] || a.State == entitlement.AssignmentExpired || a.State == entitlement.AssignmentDeliveryFailed {
				continue
			}
			seen[a.ID] = true
			v.Assignments = append(v.Assignments, b.partnerAssignmentView(ctx, t.loc, a))
		}
	}
	// Delivered before the guest account was known: the request's own record says what and until when.
	for _, br := range mine {
		if br.State != entitlement.StateDelivered || br.AssignmentID == "" || seen[br.AssignmentID] {
			continue
		}
		seen[br.AssignmentID] = true
		v.Assignments = append(v.Assignments, cards.AssignmentView{AssignmentID: br.AssignmentID, PackageID: br.PackageID,
			PackageName: br.PackageName, Start: br.Guest.StartsAt, End: br.Guest.EndsAt})
	}
	v.Total = len(v.Assignments)
	_, err = b.sendCard(ctx, t, cards.MyAccess(t.loc, v))
	return err
}

// partnerAssignmentView is one of a partner user's assignments: the package's name and resources; no Extend
// or Remove buttons (their contact in the resource organization changes brokered access).
func (b *Bot) partnerAssignmentView(ctx context.Context, l *i18n.Localizer, a entitlement.Assignment) cards.AssignmentView {
	av := cards.AssignmentView{AssignmentID: a.ID, PackageID: a.PackageID, PackageName: a.PackageName, Start: a.Schedule.Start, End: a.EndsAt()}
	if p, err := b.cfg.Entitlement.Package(ctx, a.PackageID); err == nil {
		av.PackageName = orUnknown(av.PackageName, p.Name)
		for _, r := range resourceViews(l, p.Resources) {
			av.Resources = append(av.Resources, r.String())
		}
	}
	return av
}

// partnerBrokered lists the turn user's brokered requests, newest first.
func (b *Bot) partnerBrokered(ctx context.Context, t *turn) ([]brokeredRequest, error) {
	var mine []brokeredRequest
	err := b.eachBrokered(ctx, func(br *brokeredRequest) error {
		if strings.EqualFold(br.Requester.ID, t.userID) && strings.EqualFold(br.Requester.TenantID, t.tenantID) {
			mine = append(mine, *br)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list brokered requests of %s: %w", t.userID, err)
	}
	slices.SortFunc(mine, func(x, y brokeredRequest) int { return y.CreatedAt.Compare(x.CreatedAt) })
	return mine, nil
}

// cmdBrokeredRequests lists a partner user's brokered requests, newest first.
func (b *Bot) cmdBrokeredRequests(ctx context.Context, t *turn) error {
	mine, err := b.partnerBrokered(ctx, t)
	if err != nil {
		return err
	}
	v := cards.MyRequestsView{Total: len(mine)}
	for _, br := range mine {
		sv := b.brokeredStatusView(ctx, t.loc, &br)
		detail := ""
		if sv.WaitingForInvitation {
			detail = t.loc.T("myreq.waitingInvitation")
		} else if len(sv.Asked) > 0 && br.State == entitlement.StatePendingApproval {
			detail = t.loc.T("myreq.waitingFor", "Names", t.loc.Or(sv.Asked))
		}
		v.Requests = append(v.Requests, cards.RequestSummaryView{RequestID: br.ID, PackageName: br.PackageName, State: sv.State,
			Detail: detail, UpdatedAt: br.UpdatedAt})
	}
	_, err = b.sendCard(ctx, t, cards.MyRequests(t.loc, v))
	return err
}
