package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/reviews"
	"github.com/accessbot/accessbot/internal/store"
)

// Access reviews in the chat: the everyday `reviews` command and the card verbs (decisions always with the
// clicker's own delegated token, so a click by someone who is not a reviewer changes nothing), plus the admin
// commands /reviews and /review. The review logic and the sweeps live in internal/reviews.

func (b *Bot) registerReviews() {
	b.handle(&commandSpec{Name: "reviews", Aliases: []string{"review"}, Run: b.cmdReviews})
	b.adminCommand("reviews", b.adminReviews)
	b.adminCommand("review", b.adminReview)
	b.onVerb(cards.VerbReviewOpen, b.verbReviewOpen)
	b.onVerb(cards.VerbReviewDecide, b.verbReview(reviewOne))
	b.onVerb(cards.VerbReviewDecidePage, b.verbReview(reviewPage))
	b.onVerb(cards.VerbReviewDecideAll, b.verbReview(reviewAll))
	b.onVerb(cards.VerbReviewAccept, b.verbReview(reviewAccept))
	b.onVerb(cards.VerbReviewSelf, b.verbReviewSelf)
}

// RunReviews runs the access review and expiry sweeps until ctx ends (run it under a store lease).
func (b *Bot) RunReviews(ctx context.Context) error {
	if b.cfg.Reviews == nil {
		<-ctx.Done()
		return nil
	}
	return b.cfg.Reviews.Run(ctx, reviewNotifier{b})
}

// SweepReviews runs one access review sweep and one expiry sweep now (tests, and an operator's manual run).
func (b *Bot) SweepReviews(ctx context.Context) error {
	if b.cfg.Reviews == nil {
		return nil
	}
	n := reviewNotifier{b}
	return errors.Join(b.cfg.Reviews.Sweep(ctx, n), b.cfg.Reviews.SweepExpiry(ctx, n))
}

// reviewNotifier delivers the reviews' proactive cards: a partner's guest account in the chat the bot has with
// them (as a guest here, or in their home tenant), else a 1:1 chat in the resource tenant (created when needed).
type reviewNotifier struct{ b *Bot }

// Deliver implements reviews.Notifier.
func (n reviewNotifier) Deliver(ctx context.Context, to reviews.Recipient, card *cards.Card) (reviews.Delivery, error) {
	if to.Guest {
		ref, ok, err := n.b.partnerConversation(ctx, to.TenantID, to.UserID, to.Email)
		if err != nil {
			return reviews.Delivery{}, err
		}
		if ok {
			id, err := n.b.cfg.Connector.Send(ctx, ref.ServiceURL, ref.ConversationID, cardActivity(card))
			if err != nil {
				return reviews.Delivery{}, fmt.Errorf("send to partner %s: %w", to.UserID, err)
			}
			return reviews.Delivery{ServiceURL: ref.ServiceURL, ConversationID: ref.ConversationID, ActivityID: id}, nil
		}
	}
	ref, id, err := n.b.deliverTo(ctx, to.TenantID, to.UserID, cardActivity(card))
	return reviews.Delivery{ServiceURL: ref.ServiceURL, ConversationID: ref.ConversationID, ActivityID: id}, err
}

// Update implements reviews.Notifier: the card replaces the one sent before, in place.
func (n reviewNotifier) Update(ctx context.Context, d reviews.Delivery, card *cards.Card) error {
	if err := n.b.cfg.Connector.Update(ctx, d.ServiceURL, d.ConversationID, d.ActivityID, cardActivity(card)); err != nil {
		return fmt.Errorf("update review card %s: %w", d.ActivityID, err)
	}
	return nil
}

// Localizer implements reviews.Notifier: the recipient's language from their last activity.
func (n reviewNotifier) Localizer(ctx context.Context, to reviews.Recipient) *i18n.Localizer {
	return n.b.locFor(ctx, to.TenantID, to.UserID)
}

// AnnouncedEnds implements reviews.EndAnnouncer: the brokered flow tells the partner guests it created when
// their access ends (cards.GuestEnding), so the expiry sweep leaves those assignments alone.
func (n reviewNotifier) AnnouncedEnds(ctx context.Context) (map[string]bool, error) {
	brs, err := n.b.core.ListBrokered(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, br := range brs {
		if br.Guest.UserID != "" {
			out[br.Guest.UserID+"/"+br.PackageID] = true
		}
	}
	return out, nil
}

var errReviewsOff = errors.New("access reviews are not set up in this AccessBot")

// reviewerToken is the turn's user's own delegated token source (Adaptive Card SSO accepted first).
func (b *Bot) reviewerToken(ctx context.Context, t *turn) (entitlement.TokenSource, error) {
	if b.cfg.Reviews == nil {
		return nil, errReviewsOff
	}
	if b.cfg.Tokens == nil || t.tenantID == "" || t.userID == "" {
		return nil, fmt.Errorf("act as reviewer: %w", entitlement.ErrSignInRequired)
	}
	b.acceptSSO(ctx, t)
	return b.cfg.Tokens.ForUser(t.tenantID, t.userID), nil
}

func (b *Bot) cmdReviews(ctx context.Context, t *turn, cmd Command) error {
	if b.cfg.Reviews == nil {
		return b.sendNotice(ctx, t, noticeError, t.loc.T("review.bot.title"), t.loc.T("review.bot.off"), nil)
	}
	if b.isForeign(t) {
		return b.cmdPartnerReviews(ctx, t)
	}
	items, err := b.cfg.Reviews.PendingFor(ctx, t.userID)
	if err != nil {
		_, serr := b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("review.bot.cantList"), err, "reviews"))
		return errors.Join(fmt.Errorf("list reviews for %s: %w", t.userID, err), serr)
	}
	_, err = b.sendCard(ctx, t, cards.AdminTable(t.loc, reviews.PendingView(t.loc, items, b.now())))
	return err
}

// cmdPartnerReviews is `reviews` for a partner user in their home tenant's chat: the bot knows their guest
// account in the resource tenant from the requests it brokered for them, or by their address, and answers with
// each self-review that waits for them (the card's answer goes to My Access when the bot cannot record it
// with their own token).
func (b *Bot) cmdPartnerReviews(ctx context.Context, t *turn) error {
	mine, err := b.partnerBrokered(ctx, t)
	if err != nil {
		return err
	}
	who := reviews.GuestIdentity{Email: b.ownAddress(ctx, t)}
	for _, br := range mine {
		if br.Guest.UserID != "" && !slices.Contains(who.GuestIDs, br.Guest.UserID) {
			who.GuestIDs = append(who.GuestIDs, br.Guest.UserID)
		}
	}
	items, err := b.cfg.Reviews.SelfItemsFor(ctx, who)
	if err != nil {
		_, serr := b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("review.bot.cantList"), err, "reviews"))
		return errors.Join(fmt.Errorf("list reviews of partner user %s: %w", t.userID, err), serr)
	}
	if len(items) == 0 {
		_, err = b.sendCard(ctx, t, cards.AdminTable(t.loc, reviews.PendingView(t.loc, nil, b.now())))
		return err
	}
	for _, it := range items {
		b.rememberPartnerHome(ctx, it.Decision.Principal.ID, t)
		if _, err := b.sendCard(ctx, t, b.cfg.Reviews.SelfCard(t.loc, it, false, "", "")); err != nil {
			return err
		}
	}
	return nil
}

// ownAddress is the partner user's address as Teams gives it, kept only when its domain belongs to the tenant
// they chat from (tenantRelationships' lookup): any tenant can write any address on its own users, and a
// review card (and later the review's notices) must not go to someone who merely claims a guest's address.
func (b *Bot) ownAddress(ctx context.Context, t *turn) string {
	email := b.memberEmail(ctx, t)
	_, domain, ok := strings.Cut(email, "@")
	if !ok || domain == "" {
		return ""
	}
	ti, err := b.cfg.Entitlement.TenantByDomain(ctx, domain)
	if err != nil || !strings.EqualFold(ti.TenantID, t.tenantID) {
		t.log.InfoContext(ctx, "a partner's address is not of their own tenant; reviews are matched by brokered requests only",
			"domain", domain, "tenant", t.tenantID, "err", err)
		return ""
	}
	return email
}

func (b *Bot) verbReviewOpen(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	tok, err := b.reviewerToken(ctx, t)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("review.bot.cantOpen"), err, "reviews")
	}
	return b.reviewCard(ctx, t, tok, data, "", "")
}

// reviewCard answers with the reviewer's card for the page in data; a person who reviews their own access gets
// the self-review card instead.
func (b *Bot) reviewCard(ctx context.Context, t *turn, tok entitlement.TokenSource, data map[string]any, note, errMsg string) (*botframework.InvokeResponse, error) {
	ref, ok := reviewRef(data)
	if !ok {
		return noticeCard(t.loc, noticeError, t.loc.T("review.bot.badButton"), t.loc.T("review.bot.badButtonText")), nil
	}
	page := 1
	fmt.Sscan(str(data, cards.KeyPage), &page)
	card, err := b.cfg.Reviews.ReviewerCard(ctx, t.loc, tok, ref, page, note, errMsg)
	if errors.Is(err, entitlement.ErrNotApprover) || errors.Is(err, reviews.ErrSelfReview) {
		if item, serr := b.cfg.Reviews.SelfItemOf(ctx, ref, t.userID); serr == nil && item.SelfReview() {
			return b.answer(ctx, t, b.cfg.Reviews.SelfCard(t.loc, item, false, note, errMsg))
		}
	}
	if err != nil {
		return b.failure(ctx, t, t.loc.T("review.bot.cantOpen"), err, "reviews")
	}
	return b.answer(ctx, t, card)
}

// reviewRef reads the review, instance and (multi-stage reviews) stage a card's button names; ok is false when
// an id is missing or malformed.
func reviewRef(data map[string]any) (entitlement.ReviewRef, bool) {
	ref := entitlement.ReviewRef{DefinitionID: str(data, cards.KeyReviewID), InstanceID: str(data, cards.KeyInstanceID), StageID: str(data, cards.KeyStageID)}
	return ref, validID(ref.DefinitionID) && validID(ref.InstanceID) && (ref.StageID == "" || validID(ref.StageID))
}

// reviewAction is which decision verb was clicked.
type reviewAction int

const (
	reviewOne reviewAction = iota
	reviewPage
	reviewAll
	reviewAccept
)

func (a reviewAction) audit() string {
	return [...]string{"review.decide", "review.decide-page", "review.decide-all", "review.accept-recommendations"}[a]
}

// verbReview records decisions with the clicker's own token and answers with the updated card. Graph refuses a
// click by someone who is not a reviewer of the item: nothing changes and the card says so.
func (b *Bot) verbReview(action reviewAction) verbHandler {
	return func(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
		tok, err := b.reviewerToken(ctx, t)
		if err != nil {
			return b.failure(ctx, t, t.loc.T("review.bot.cantRecord"), err, "reviews")
		}
		svc := b.cfg.Reviews
		ref, ok := reviewRef(data)
		entry := store.AuditEntry{Action: action.audit(), Mode: "delegated", Details: map[string]string{"review": ref.DefinitionID, "instance": ref.InstanceID}}
		if !ok {
			return noticeCard(t.loc, noticeError, t.loc.T("review.bot.badButton"), t.loc.T("review.bot.badButtonText")), nil
		}
		if ref.StageID != "" {
			entry.Details["stage"] = ref.StageID
		}
		var v entitlement.ReviewVerdict
		if action != reviewAccept {
			if v, err = reviews.Verdict(str(data, cards.KeyDecision), str(data, cards.InputJustification)); err != nil {
				return b.reviewCard(ctx, t, tok, data, "", userMessage(t.loc, err))
			}
			entry.Details["decision"] = string(v.Decision)
		}
		switch action {
		case reviewOne:
			entry.SubjectID = str(data, cards.KeyDecisionID)
			err = svc.Decide(ctx, tok, ref, str(data, cards.KeyDecisionID), v)
		case reviewPage:
			var ids []string
			for _, id := range strings.Split(str(data, cards.KeyItems), ",") {
				if id = strings.TrimSpace(id); validID(id) {
					ids = append(ids, id)
				}
			}
			entry.Details["count"] = fmt.Sprint(len(ids))
			err = svc.DecidePage(ctx, tok, ref, ids, v)
		case reviewAll:
			err = svc.DecideAll(ctx, tok, ref, v)
		case reviewAccept:
			err = svc.AcceptRecommendations(ctx, tok, ref)
		}
		entry.Outcome = "recorded"
		if err != nil {
			entry.Outcome = "refused: " + entitlement.UserMessage(err)
		}
		b.auditTurn(ctx, t, entry)
		var ie *entitlement.InvalidInputError
		switch {
		case errors.As(err, &ie):
			return b.reviewCard(ctx, t, tok, data, "", userMessage(t.loc, err))
		case err != nil:
			return b.failure(ctx, t, t.loc.T("review.bot.notRecorded"), err, "reviews")
		}
		return b.reviewCard(ctx, t, tok, data, "", "")
	}
}

// verbReviewSelf answers a self-review. The answer is recorded with the person's own token for the resource
// tenant when Teams SSO gives the bot one (a guest working in the resource tenant, or an on-behalf-of exchange
// that reaches their guest account); otherwise the card sends them to the review in My Access and "I've
// answered" (or the sweep) confirms once the answer shows in Graph.
func (b *Bot) verbReviewSelf(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	svc := b.cfg.Reviews
	if svc == nil {
		return noticeCard(t.loc, noticeError, t.loc.T("review.bot.title"), t.loc.T("review.bot.off")), nil
	}
	ref, ok := reviewRef(data)
	decID := str(data, cards.KeyDecisionID)
	if !ok || !validID(decID) {
		return noticeCard(t.loc, noticeError, t.loc.T("review.bot.badButton"), t.loc.T("review.bot.badButtonText")), nil
	}
	defID, instID := ref.DefinitionID, ref.InstanceID
	item, err := b.selfItem(ctx, ref, decID)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("review.bot.cantOpen"), err, "reviews")
	}
	decision := str(data, cards.KeyDecision)
	entry := store.AuditEntry{Action: "review.self", Mode: "delegated", SubjectID: item.Decision.Principal.ID, SubjectName: item.Decision.Principal.Name,
		Details: map[string]string{"review": defID, "instance": instID, "decision": decision}}
	if decision == cards.ReviewCheck || item.Decision.Decided() {
		if item.Decision.Decided() {
			_ = svc.MarkSent(ctx, reviews.AnsweredKey(ref, item.Decision.Principal.ID))
			return b.answer(ctx, t, svc.SelfCard(t.loc, item, false, "", ""))
		}
		return b.answer(ctx, t, svc.SelfCard(t.loc, item, true, t.loc.T("review.bot.notSeenYet", "Org", orUnknown(b.cfg.Tenant.Name, t.loc.T("review.bot.theOrg"))), ""))
	}
	v, err := reviews.Verdict(decision, str(data, cards.InputJustification))
	if err != nil {
		return b.answer(ctx, t, svc.SelfCard(t.loc, item, false, "", userMessage(t.loc, err)))
	}
	if v.Decision == entitlement.ReviewApprove && v.Justification == "" {
		return b.answer(ctx, t, svc.SelfCard(t.loc, item, false, "", t.loc.T("review.bot.sayWhy")))
	}
	tok, err := b.reviewerToken(ctx, t)
	if err == nil {
		err = svc.Decide(ctx, tok, ref, decID, v)
	}
	var ie *entitlement.InvalidInputError
	switch {
	case errors.As(err, &ie):
		return b.answer(ctx, t, svc.SelfCard(t.loc, item, false, "", t.loc.T("review.bot.sayWhy")))
	case err != nil:
		entry.Outcome = "not recorded by the bot, sent to My Access: " + entitlement.UserMessage(err)
		b.auditTurn(ctx, t, entry)
		t.log.InfoContext(ctx, "self-review answer needs My Access", "review", defID, "err", err)
		return b.answer(ctx, t, svc.SelfCard(t.loc, item, true, "", ""))
	}
	entry.Outcome = "recorded"
	b.auditTurn(ctx, t, entry)
	_ = svc.MarkSent(ctx, reviews.AnsweredKey(ref, item.Decision.Principal.ID))
	if item, err = b.selfItem(ctx, ref, decID); err != nil {
		return b.failure(ctx, t, t.loc.T("review.bot.cantOpen"), err, "reviews")
	}
	return b.answer(ctx, t, svc.SelfCard(t.loc, item, false, "", ""))
}

// selfItem finds a self-review item by its decision id (app-only read; the decision itself needs the person's
// own token).
func (b *Bot) selfItem(ctx context.Context, ref entitlement.ReviewRef, decisionID string) (reviews.SelfItem, error) {
	return b.cfg.Reviews.SelfItemByDecision(ctx, ref, decisionID)
}

func (b *Bot) adminReviews(ctx context.Context, c *adminCall) error {
	if b.cfg.Reviews == nil {
		return &adminError{title: c.t.loc.T("review.bot.title"), text: c.t.loc.T("review.bot.off")}
	}
	v, err := b.cfg.Reviews.Summary(ctx, c.t.loc, strings.TrimSpace(c.cmd.Rest))
	if err != nil {
		return fmt.Errorf("summarize access reviews: %w", err)
	}
	c.entry.Outcome = "viewed"
	return b.sendAdminTable(ctx, c.t, v)
}

// bucketPartnerHome maps a partner's guest account in the resource tenant to the home-tenant user who reached
// it from their own chat (cmdPartnerReviews), so the review sweep's cards and confirmations for that guest
// account go to the chat the partner actually uses.
const bucketPartnerHome = "partner.home"

// partnerHomeRecord is a bucketPartnerHome value.
type partnerHomeRecord struct {
	TenantID string `json:"tenant"`
	UserID   string `json:"oid"`
}

// rememberPartnerHome records that guestID is the turn user's guest account (written only when it changed).
func (b *Bot) rememberPartnerHome(ctx context.Context, guestID string, t *turn) {
	if guestID == "" || t.tenantID == "" || t.userID == "" {
		return
	}
	want := partnerHomeRecord{TenantID: t.tenantID, UserID: t.userID}
	err := b.cfg.Store.UpdateKV(ctx, bucketPartnerHome, guestID, func(raw []byte) ([]byte, error) {
		var have partnerHomeRecord
		if raw != nil && json.Unmarshal(raw, &have) == nil && have == want {
			return nil, store.ErrNoChange
		}
		return json.Marshal(want)
	})
	if err != nil {
		t.log.WarnContext(ctx, "remember a partner's home chat", "guest", guestID, "err", err)
	}
}

// partnerHome is the home tenant and user recorded for guestID by rememberPartnerHome ("" when none).
func (b *Bot) partnerHome(ctx context.Context, guestID string) (tenantID, userID string) {
	if guestID == "" {
		return "", ""
	}
	var rec partnerHomeRecord
	err := b.cfg.Store.UpdateKV(ctx, bucketPartnerHome, guestID, func(raw []byte) ([]byte, error) {
		if raw != nil {
			_ = json.Unmarshal(raw, &rec)
		}
		return nil, store.ErrNoChange
	})
	if err != nil {
		b.log.WarnContext(ctx, "look up a partner's home chat", "guest", guestID, "err", err)
		return "", ""
	}
	return rec.TenantID, rec.UserID
}
