package bot

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

// Proactive delivery (the "notify" flow of DESIGN.md §5): the outbox kinds and their jobs, HandleOutbox and
// enqueue, short notifications to requesters and approvers, approval cards pushed to approvers, in-place
// updates of stored status/approval cards, and reaching a user who never wrote to the bot (1:1 chat
// creation, installing the app for them, the Teams service URL per tenant, a partner user's home chat).

// Store bucket, outbox kinds and stored card kinds of proactive delivery.
const (
	bucketServiceURL = "serviceurl"

	// OutboxCardUpdate re-renders one stored card (status or approval) and updates it in place.
	OutboxCardUpdate = "bot.card.update"
	// OutboxNotify sends a short text message to a user (creating the 1:1 chat when needed); the lifecycle
	// core queues it too (lifecycle.NotifyJob is the core's subset of notifyJob).
	OutboxNotify = lifecycle.OutboxNotify
	// OutboxApprovalCard sends an approval card to one approver of a stage (lifecycle.ApprovalCardJob).
	OutboxApprovalCard = lifecycle.OutboxApprovalCard

	cardKindStatus   = "status"
	cardKindApproval = "approval"
)

// SetOutboxKicker registers the function that wakes the outbox worker (store.OutboxWorker.Kick); the bot
// calls it after every Enqueue so proactive messages go out at once.
func (b *Bot) SetOutboxKicker(kick func()) {
	b.fl.mu.Lock()
	defer b.fl.mu.Unlock()
	b.fl.outboxKick = kick
}

// onOutbox registers the handler of one outbox kind (flows other than request/approve may add theirs).
func (b *Bot) onOutbox(kind string, h func(ctx context.Context, payload json.RawMessage) error) {
	b.fl.mu.Lock()
	defer b.fl.mu.Unlock()
	if b.fl.outbox == nil {
		b.fl.outbox = map[string]func(context.Context, json.RawMessage) error{}
	}
	if _, dup := b.fl.outbox[kind]; dup {
		panic(fmt.Sprintf("bot: outbox kind %q registered twice", kind))
	}
	b.fl.outbox[kind] = h
}

// HandleOutbox delivers one outbox item; it is the handler to give store.NewOutboxWorker. An error makes the
// worker retry the item later with backoff.
func (b *Bot) HandleOutbox(ctx context.Context, it store.OutboxItem) error {
	b.fl.mu.Lock()
	h := b.fl.outbox[it.Kind]
	b.fl.mu.Unlock()
	if h == nil {
		return fmt.Errorf("outbox item %s: unknown kind %q", it.ID, it.Kind)
	}
	if err := h(ctx, it.Payload); err != nil {
		return fmt.Errorf("outbox item %s (%s): %w", it.ID, it.Kind, err)
	}
	return nil
}

// enqueue stores a proactive action in the outbox and wakes the worker.
func (b *Bot) enqueue(ctx context.Context, kind string, payload any) {
	if _, err := b.cfg.Store.Enqueue(ctx, kind, payload, time.Time{}); err != nil {
		b.log.ErrorContext(ctx, "enqueue outbox item", "kind", kind, "err", err)
		return
	}
	b.kickOutbox()
}

// kickOutbox wakes the outbox worker (when one is registered).
func (b *Bot) kickOutbox() {
	b.fl.mu.Lock()
	kick := b.fl.outboxKick
	b.fl.mu.Unlock()
	if kick != nil {
		kick()
	}
}

func (b *Bot) registerTracker() {
	b.onOutbox(OutboxCardUpdate, b.deliverCardUpdate)
	b.onOutbox(OutboxNotify, b.deliverNotify)
	b.onOutbox(OutboxApprovalCard, b.deliverApprovalCard)
}

// updateCards queues an in-place update of every stored card of a request except the one with skipActivityID
// (the card an invoke is answering right now).
func (b *Bot) updateCards(ctx context.Context, requestID, skipActivityID string) {
	refs, err := b.cfg.Store.Cards(ctx, requestID)
	if err != nil {
		b.log.WarnContext(ctx, "list cards of request", "request", requestID, "err", err)
		return
	}
	for _, ref := range refs {
		if skipActivityID != "" && ref.ActivityID == skipActivityID {
			continue
		}
		b.enqueue(ctx, OutboxCardUpdate, cardUpdateJob{RequestID: requestID, Ref: ref})
	}
}

// storeCard records a card the bot sent (or answered an invoke with) so later changes update it in place.
func (b *Bot) storeCard(ctx context.Context, requestID, kind string, stage int, tenantID, userID, conversationID, serviceURL, activityID string) {
	if activityID == "" || conversationID == "" || serviceURL == "" {
		return
	}
	k := kind + ":" + activityID
	if kind == cardKindApproval {
		k = fmt.Sprintf("%s:%d:%s", kind, stage, activityID)
	}
	ref := store.CardRef{Key: requestID, Kind: k, TenantID: tenantID, AADObjectID: userID,
		ConversationID: conversationID, ServiceURL: serviceURL, ActivityID: activityID}
	if err := b.cfg.Store.PutCard(ctx, ref); err != nil {
		b.log.WarnContext(ctx, "store card reference", "request", requestID, "kind", kind, "err", err)
	}
}

// parseCardKind splits a stored card kind: "status:<activity>" or "approval:<stage>:<activity>".
func parseCardKind(kind string) (base string, stage int) {
	parts := strings.SplitN(kind, ":", 3)
	base = parts[0]
	if base == cardKindApproval && len(parts) == 3 {
		_, _ = fmt.Sscanf(parts[1], "%d", &stage)
	}
	return base, stage
}

type cardUpdateJob struct {
	RequestID string        `json:"requestId"`
	Ref       store.CardRef `json:"ref"`
}

// notifyJob is the payload of OutboxNotify: the core's notice (lifecycle.NotifyJob: who, and what in the
// reader's language) and what only the conversation layer queues (buttons, a titled notice card, partners).
type notifyJob struct {
	lifecycle.NotifyJob
	// Buttons, when set, send Text as a notice card (Kind, Title) whose buttons run commands.
	Buttons []notifyButton `json:"buttons,omitempty"`
	Title   string         `json:"title,omitempty"`
	// TitleMsg names Title for the reader's language (Title is said when no catalog has it).
	TitleMsg string           `json:"titleMsg,omitempty"`
	Kind     cards.NoticeKind `json:"kind,omitempty"`
	// Partner marks a connected organization's user (a guest in TenantID, or not in its directory yet: then
	// UserID is empty and Email names them). They are reached only through a conversation the bot already
	// has: their chat in TenantID, else their home-tenant chat known from a brokered request of theirs.
	Partner bool   `json:"partner,omitempty"`
	Email   string `json:"email,omitempty"`
}

// notifyButton is a notification's button: Title runs Command (access, status…).
type notifyButton struct {
	Title   string `json:"title"`
	Command string `json:"command"`
	// Msg names Title for the reader's language (Title is said when no catalog has it).
	Msg string `json:"msg,omitempty"`
}

// approvalCardJob is the payload of OutboxApprovalCard (queued by the core and the brokered flow).
type approvalCardJob = lifecycle.ApprovalCardJob

func (b *Bot) deliverCardUpdate(ctx context.Context, raw json.RawMessage) error {
	var job cardUpdateJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode card update: %w", err)
	}
	tr, err := b.core.Get(ctx, job.RequestID)
	if err != nil {
		return err
	}
	base, stage := parseCardKind(job.Ref.Kind)
	l := b.locFor(ctx, job.Ref.TenantID, job.Ref.AADObjectID)
	var card *cards.Card
	switch base {
	case cardKindStatus:
		card = cards.RequestStatus(l, b.statusView(ctx, l, tr))
	case cardKindApproval:
		card = b.approverCard(ctx, l, tr, stage, job.Ref.AADObjectID, "")
	default:
		return nil // another flow's card
	}
	if err := b.updateCard(ctx, job.Ref, card); err != nil {
		return fmt.Errorf("update %s card of request %s: %w", base, job.RequestID, err)
	}
	return nil
}

// updateCard replaces a sent card in place. A card whose message is gone (deleted by the user, or the chat was
// removed: 404) has nothing left to update and is not an error, so one lost copy never makes a job retry.
func (b *Bot) updateCard(ctx context.Context, ref store.CardRef, card *cards.Card) error {
	raw, jerr := card.JSON()
	sum := sha256.Sum256(raw)
	key := ref.ConversationID + "/" + ref.ActivityID
	if old, ok := b.shown.Get(key); jerr == nil && ok && old == sum {
		return nil // one update per real change: this message already shows exactly this card
	}
	err := b.cfg.Connector.Update(ctx, ref.ServiceURL, ref.ConversationID, ref.ActivityID, cardActivity(card))
	var ae *botframework.APIError
	if errors.As(err, &ae) && ae.Status == 404 {
		b.log.InfoContext(ctx, "card to update no longer exists", "key", ref.Key, "activity", ref.ActivityID)
		return nil
	}
	if err == nil && jerr == nil {
		b.shown.Put(key, sum)
	}
	return err
}

// maxShownCards bounds Bot.shown, the in-memory record of what updated messages show; past it the record starts
// over (at worst one identical update is sent again).
const maxShownCards = 10000

func (b *Bot) deliverNotify(ctx context.Context, raw json.RawMessage) error {
	var job notifyJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode notification: %w", err)
	}
	job.NotifyJob = job.Upgraded()
	text := b.noticeText(ctx, job)
	act := textActivity(text)
	if len(job.Buttons) > 0 {
		l := b.locFor(ctx, job.TenantID, job.UserID)
		v := cards.NoticeView{Kind: orNoticeKind(job.Kind), Title: localOr(l, job.TitleMsg, job.Title), Text: text}
		for _, btn := range job.Buttons {
			v.Suggestions = append(v.Suggestions, cards.Suggestion{Title: localOr(l, btn.Msg, btn.Title), Command: btn.Command})
		}
		act = cardActivity(cards.Notice(l, v))
	}
	tenantID, userID := job.TenantID, job.UserID
	if job.Partner {
		ref, ok, err := b.partnerConversation(ctx, job.TenantID, job.UserID, job.Email)
		if err != nil {
			return err
		}
		if !ok {
			b.log.InfoContext(ctx, "no chat with the partner user to notify; not sent", "user", job.UserID, "tenant", job.TenantID)
			return nil
		}
		tenantID, userID = ref.TenantID, ref.AADObjectID
	}
	_, _, err := b.deliverTo(ctx, tenantID, userID, act)
	return err
}

// noticeText is a notification's text in the reader's language when a catalog has its Msg, else its Text.
// A stored reason is said inside it, in the same language.
func (b *Bot) noticeText(ctx context.Context, job notifyJob) string {
	if job.Msg == "" || !i18n.Has(job.Msg) {
		return job.Text
	}
	m := messageView(job.Message)
	if job.Reason != nil {
		m.Nested = map[string]cards.MessageView{"Reason": messageView(*job.Reason)}
	}
	text, _ := cards.Phrase(b.locFor(ctx, job.TenantID, job.UserID), m)
	return text
}

// say is a stored message (lifecycle.Message) in l's language, or fallback (the English a record of an older
// build kept) when it has none or no catalog knows it.
func say(l *i18n.Localizer, m lifecycle.Message, fallback string) string {
	if text, ok := cards.Phrase(l, messageView(m)); ok {
		return text
	}
	return fallback
}

// messageView is a stored message as the cards say it.
func messageView(m lifecycle.Message) cards.MessageView {
	return cards.MessageView{ID: m.Msg, Data: m.Data, Names: m.Names}
}

// localOr is message id in l's language when a catalog has it, else fallback (a record from before ids).
func localOr(l *i18n.Localizer, id, fallback string) string {
	if id == "" || !i18n.Has(id) {
		return fallback
	}
	return l.T(id)
}

func orNoticeKind(k cards.NoticeKind) cards.NoticeKind {
	if k == "" {
		return noticeInfo
	}
	return k
}

// partnerConversation finds a stored chat with a connected organization's user: their chat in tenantID
// (as a guest there), else the chat in their home tenant of the newest brokered request whose guest
// account is userID or whose address is email, else the home chat from which they last reached their
// reviews (partnerHome). ok is false when the bot has none.
func (b *Bot) partnerConversation(ctx context.Context, tenantID, userID, email string) (ref store.ConversationRef, ok bool, err error) {
	if userID != "" && tenantID != "" {
		here, err := b.cfg.Store.Conversation(ctx, tenantID, userID)
		if err == nil {
			return here, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return here, false, fmt.Errorf("load conversation of %s: %w", userID, err)
		}
	}
	var home brokeredRequester
	var newest time.Time
	err = b.eachBrokered(ctx, func(br *brokeredRequest) error {
		if br.Requester.ID == "" || br.Requester.TenantID == "" {
			return nil
		}
		match := userID != "" && strings.EqualFold(br.Guest.UserID, userID) || email != "" && strings.EqualFold(br.Requester.Email, email)
		if match && (home.ID == "" || br.CreatedAt.After(newest)) {
			home, newest = br.Requester, br.CreatedAt
		}
		return nil
	})
	if err != nil {
		return ref, false, fmt.Errorf("look for the home chat of partner user %s: %w", orUnknown(userID, email), err)
	}
	if home.ID == "" {
		home.TenantID, home.ID = b.partnerHome(ctx, userID)
	}
	if home.ID == "" {
		return ref, false, nil
	}
	ref, err = b.cfg.Store.Conversation(ctx, home.TenantID, home.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ref, false, nil
	}
	if err != nil {
		return ref, false, fmt.Errorf("load home conversation of %s: %w", home.ID, err)
	}
	return ref, true, nil
}

func (b *Bot) deliverApprovalCard(ctx context.Context, raw json.RawMessage) error {
	var job approvalCardJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode approval card job: %w", err)
	}
	tr, err := b.core.Get(ctx, job.RequestID)
	if err != nil {
		return err
	}
	if tr.State != entitlement.StatePendingApproval || tr.Stage != job.Stage {
		b.log.InfoContext(ctx, "approval card no longer needed", "request", tr.ID, "stage", job.Stage, "state", string(tr.State))
		return nil
	}
	if _, decided := tr.DecisionFor(job.Stage); decided {
		return nil
	}
	tenant := orUnknown(job.Approver.TenantID, b.cfg.Tenant.ID)
	l := b.locFor(ctx, tenant, job.Approver.ID)
	view := b.approvalView(ctx, l, tr, job.Approver.ID)
	view.Note = say(l, job.NoteMsg, job.Note)
	ref, actID, err := b.deliverTo(ctx, tenant, job.Approver.ID, cardActivity(cards.Approval(l, view)))
	if err != nil {
		return err
	}
	b.storeCard(ctx, tr.ID, cardKindApproval, job.Stage, tenant, job.Approver.ID, ref.ConversationID, ref.ServiceURL, actID)
	return nil
}

// deliverTo sends an activity to a user's 1:1 chat with the bot: the stored conversation, else a new one
// (installing the app for the user through Graph first when Teams says it is not installed).
func (b *Bot) deliverTo(ctx context.Context, tenantID, userID string, act *schema.Activity) (store.ConversationRef, string, error) {
	if tenantID == "" || userID == "" {
		return store.ConversationRef{}, "", fmt.Errorf("deliver message: tenant %q and user %q are required", tenantID, userID)
	}
	ref, err := b.cfg.Store.Conversation(ctx, tenantID, userID)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return ref, "", fmt.Errorf("load conversation of %s: %w", userID, err)
		}
		ref, err = b.createChat(ctx, tenantID, userID)
		if err != nil {
			return ref, "", err
		}
	}
	id, err := b.cfg.Connector.Send(ctx, ref.ServiceURL, ref.ConversationID, act)
	if err != nil {
		return ref, "", fmt.Errorf("send to %s: %w", userID, err)
	}
	return ref, id, nil
}

// createChat creates the 1:1 conversation with a user who never wrote to the bot.
func (b *Bot) createChat(ctx context.Context, tenantID, userID string) (store.ConversationRef, error) {
	serviceURL := b.serviceURLFor(ctx, tenantID)
	if serviceURL == "" {
		return store.ConversationRef{}, fmt.Errorf("create chat with %s: no Teams service URL known for tenant %s yet", userID, tenantID)
	}
	params := schema.ConversationParameters{
		Bot:         schema.ChannelAccount{ID: b.cfg.BotID, Name: b.cfg.BotName},
		Members:     []schema.ChannelAccount{{ID: userID, AadObjectID: userID}},
		TenantID:    tenantID,
		ChannelData: map[string]any{"tenant": map[string]any{"id": tenantID}},
	}
	res, err := b.cfg.Connector.CreateConversation(ctx, serviceURL, params)
	if err != nil && appNotInstalled(err) && b.cfg.TeamsAppID != "" {
		b.log.InfoContext(ctx, "installing the app for a user the bot cannot reach", "user", userID, "tenant", tenantID)
		if ierr := b.cfg.Entitlement.InstallAppForUser(ctx, userID, b.cfg.TeamsAppID); ierr != nil {
			return store.ConversationRef{}, fmt.Errorf("install app for %s: %w", userID, ierr)
		}
		res, err = b.cfg.Connector.CreateConversation(ctx, serviceURL, params)
	}
	if err != nil {
		return store.ConversationRef{}, fmt.Errorf("create chat with %s: %w", userID, err)
	}
	ref := store.ConversationRef{TenantID: tenantID, AADObjectID: userID, ConversationID: res.ID,
		ServiceURL: orUnknown(res.ServiceURL, serviceURL), BotID: b.cfg.BotID, BotName: b.cfg.BotName,
		ConversationType: "personal", ChannelID: "msteams", UpdatedAt: b.now()}
	if err := b.cfg.Store.PutConversation(ctx, ref); err != nil {
		b.log.WarnContext(ctx, "store created conversation", "user", userID, "err", err)
	}
	return ref, nil
}

// appNotInstalled reports whether creating a conversation failed because the app is not installed for the
// user (Teams answers 403 or 404).
func appNotInstalled(err error) bool {
	var ae *botframework.APIError
	return errors.As(err, &ae) && (ae.Status == 403 || ae.Status == 404)
}

// Remembering each tenant's Teams service URL (for the chats the bot creates) costs no store access on the
// turns that bring the URL already stored: Bot.serviceURLs holds, per tenant, the URL this process last read
// from or wrote to the store, and when. A turn whose URL differs from it (or that finds nothing remembered, or
// a memory older than serviceURLRecheck) reads the store, and writes when the stored URL differs.
//
// With several replicas another one may store a different URL meanwhile (it saw another one, or a newer one).
// A replica whose memory differs from what its turn brings looks again and writes, so a URL Teams changed to
// is stored by the first replica that sees it. A replica whose memory matches its turn does not look, even if
// another replica has since stored something else: the stored URL is then one another replica saw after this
// one last looked, so less than serviceURLRecheck ago. After that every replica reads the store again on the
// tenant's next turn and writes its URL when it differs. So a URL that went stale (written by a replica that
// then saw no more turns of the tenant) is replaced by the tenant's first turn, on any replica, that comes
// serviceURLRecheck or more after it was written; it costs one read per tenant per recheck per replica.
const (
	serviceURLRecheck = 10 * time.Minute
	// maxServiceURLTenants bounds Bot.serviceURLs.
	maxServiceURLTenants = 1 << 12
)

// storedServiceURL is what a process last read from or wrote to the store as a tenant's service URL, and when.
type storedServiceURL struct {
	url string
	at  time.Time
}

// noteServiceURL remembers the Teams service URL of a tenant, for conversations the bot creates.
func (b *Bot) noteServiceURL(ctx context.Context, t *turn) {
	if t.tenantID == "" || t.act.ServiceURL == "" {
		return
	}
	now := b.now()
	if b.serviceURLStored(t.tenantID, t.act.ServiceURL, now) {
		return
	}
	// One look-and-write at a time, so what is remembered is what the store got last from this process.
	b.serviceURLMu.Lock()
	defer b.serviceURLMu.Unlock()
	if b.serviceURLStored(t.tenantID, t.act.ServiceURL, now) {
		return // another turn stored or found it meanwhile
	}
	var old string
	if err := b.cfg.Store.Get(ctx, bucketServiceURL, t.tenantID, &old); err != nil || old != t.act.ServiceURL {
		if err := b.cfg.Store.Put(ctx, bucketServiceURL, t.tenantID, t.act.ServiceURL); err != nil {
			t.log.WarnContext(ctx, "remember service url", "err", err)
			return
		}
	}
	b.serviceURLs.Put(t.tenantID, storedServiceURL{url: t.act.ServiceURL, at: now})
}

// serviceURLStored reports whether this process read or wrote url as tenantID's stored service URL, last, less
// than serviceURLRecheck before now.
func (b *Bot) serviceURLStored(tenantID, url string, now time.Time) bool {
	s, ok := b.serviceURLs.Get(tenantID)
	return ok && s.url == url && now.Sub(s.at) < serviceURLRecheck
}

func (b *Bot) serviceURLFor(ctx context.Context, tenantID string) string {
	var u string
	if err := b.cfg.Store.Get(ctx, bucketServiceURL, tenantID, &u); err == nil && u != "" {
		return u
	}
	if tenantID != b.cfg.Tenant.ID && b.cfg.Tenant.ID != "" {
		if err := b.cfg.Store.Get(ctx, bucketServiceURL, b.cfg.Tenant.ID, &u); err == nil {
			return u
		}
	}
	return b.cfg.DefaultServiceURL
}
