package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// Activity types and invoke names the router understands.
const (
	activityMessage            = "message"
	activityConversationUpdate = "conversationUpdate"
	activityInstallationUpdate = "installationUpdate"
	activityInvoke             = "invoke"
	invokeAdaptiveCardAction   = "adaptiveCard/action"
)

// turn is one activity being handled: who sent it, where to answer.
type turn struct {
	act      *schema.Activity
	tenantID string
	userID   string // aadObjectId
	userName string
	personal bool
	// loc renders what this user reads, in the language of the activity's locale (English by default).
	loc *i18n.Localizer
	// admin is set by checkAdmin (a cached Graph group check) for turns that need it.
	admin bool
	log   *slog.Logger
	// writes collects what the turn writes with its completion (putAnswerDialog); nil for a turn without one
	// (an activity without id).
	writes *turnWrites
}

func (b *Bot) newTurn(ctx context.Context, act *schema.Activity) *turn {
	t := &turn{
		act:      act,
		tenantID: botframework.TenantID(act),
		userID:   act.From.AadObjectID,
		userName: act.From.Name,
		personal: botframework.IsPersonal(act),
		loc:      i18n.For(act.Locale),
	}
	t.log = b.log.With("activity_id", act.ID, "type", string(act.Type), "tenant", t.tenantID, "user", t.userID)
	return t
}

// route dispatches by activity type.
func (b *Bot) route(ctx context.Context, t *turn) (*botframework.InvokeResponse, error) {
	act := t.act
	b.noteServiceURL(ctx, t)
	switch string(act.Type) {
	case activityMessage:
		return nil, b.onMessage(ctx, t)
	case activityConversationUpdate:
		return nil, b.onConversationUpdate(ctx, t)
	case activityInstallationUpdate:
		return nil, b.onInstallationUpdate(ctx, t)
	case activityInvoke:
		return b.onInvoke(ctx, t)
	default:
		t.log.DebugContext(ctx, "activity type ignored")
		return nil, nil
	}
}

// remember returns the conversation reference of a personal chat (so the bot can reach the user later), to be
// stored with the turn's completion; nil for other chats. A user whose reference is not stored yet (a first
// contact) gets it stored at once instead, so what the turn sets off (a proactive card to them) finds it.
// Whether it is stored is known in memory after the first look (references are never deleted).
func (b *Bot) remember(ctx context.Context, t *turn) *store.ConversationRef {
	if !t.personal || t.tenantID == "" || t.userID == "" || t.act.Conversation.ID == "" {
		return nil
	}
	ref := store.ConversationRef{
		TenantID:         t.tenantID,
		AADObjectID:      t.userID,
		UserID:           t.act.From.ID,
		UserName:         t.act.From.Name,
		ConversationID:   t.act.Conversation.ID,
		ServiceURL:       t.act.ServiceURL,
		ChannelID:        t.act.ChannelID,
		BotID:            t.act.Recipient.ID,
		BotName:          t.act.Recipient.Name,
		ConversationType: t.act.Conversation.ConversationType,
		Locale:           t.act.Locale,
		UpdatedAt:        b.now(),
	}
	if _, ok := b.known.Get(conversationKey(t.tenantID, t.userID)); ok {
		return &ref
	}
	_, err := b.cfg.Store.Conversation(ctx, t.tenantID, t.userID)
	switch {
	case err == nil:
		b.known.Put(conversationKey(t.tenantID, t.userID), struct{}{})
		return &ref
	case errors.Is(err, store.ErrNotFound): // nothing stored to keep a name or locale from
		if b.putConversation(ctx, t, ref) {
			return nil
		}
	}
	return &ref // unknown (the read failed): written with the completion
}

// rememberNow stores ref (nil: nothing) now, keeping the stored user name and locale when the activity has
// none; it reports whether it was stored.
func (b *Bot) rememberNow(ctx context.Context, t *turn, ref *store.ConversationRef) bool {
	if ref == nil {
		return false
	}
	r := *ref
	if r.UserName == "" || r.Locale == "" {
		if old, err := b.cfg.Store.Conversation(ctx, r.TenantID, r.AADObjectID); err == nil {
			r = store.MergeConversation(old, r)
		}
	}
	return b.putConversation(ctx, t, r)
}

// putConversation stores ref as it is; it reports whether it was stored.
func (b *Bot) putConversation(ctx context.Context, t *turn, ref store.ConversationRef) bool {
	if err := b.cfg.Store.PutConversation(ctx, ref); err != nil {
		t.log.WarnContext(ctx, "store conversation reference", "err", err)
		return false
	}
	b.known.Put(conversationKey(ref.TenantID, ref.AADObjectID), struct{}{})
	return true
}

// maxKnownConversations bounds Bot.known (about 100 bytes an entry).
const maxKnownConversations = 1 << 16

// conversationKey is the key of a user's conversation reference in Bot.known.
func conversationKey(tenantID, userID string) string { return tenantID + "\x00" + userID }

func (b *Bot) onMessage(ctx context.Context, t *turn) error {
	if v := botframework.SubmitValue(t.act); len(v) > 0 {
		return b.onSubmit(ctx, t, v)
	}
	text := botframework.StripMentions(t.act.Text)
	cmd, err := ParseCommand(text)
	if err != nil {
		if err == ErrEmptyCommand {
			return b.sendHelp(ctx, t, "")
		}
		return b.sendNotice(ctx, t, noticeError, t.loc.T("router.unreadable"), err.Error(), nil)
	}
	return b.runCommand(ctx, t, cmd)
}

// onSubmit handles Action.Submit: {"verb": "...", ...}. The verb "command" runs {"text": "..."} as typed text.
func (b *Bot) onSubmit(ctx context.Context, t *turn, v map[string]any) error {
	verb, _ := v["verb"].(string)
	if verb == "command" {
		text, _ := v["text"].(string)
		cmd, err := ParseCommand(text)
		if err != nil {
			return b.sendHelp(ctx, t, "")
		}
		return b.runCommand(ctx, t, cmd)
	}
	h, ok := b.verbs[verb]
	if !ok {
		t.log.InfoContext(ctx, "unknown submit verb", "verb", verb)
		return b.sendHelp(ctx, t, t.loc.T("router.unsupportedButton"))
	}
	resp, err := h(ctx, t, v)
	if err != nil {
		return err
	}
	return b.sendInvokeResult(ctx, t, resp)
}

func (b *Bot) onConversationUpdate(ctx context.Context, t *turn) error {
	for _, m := range t.act.MembersAdded {
		if m.ID == t.act.Recipient.ID {
			return b.sendWelcome(ctx, t)
		}
	}
	return nil
}

func (b *Bot) onInstallationUpdate(ctx context.Context, t *turn) error {
	if strings.HasPrefix(t.act.Action, "add") {
		return b.sendWelcome(ctx, t)
	}
	return nil
}

func (b *Bot) onInvoke(ctx context.Context, t *turn) (*botframework.InvokeResponse, error) {
	switch t.act.Name {
	case invokeTokenExchange:
		return b.onTokenExchange(ctx, t)
	case invokeVerifyState:
		// The magic-code fallback of the Bot Framework token service is not used: AccessBot relies on SSO.
		_ = b.sendNotice(ctx, t, noticeInfo, t.loc.T("router.signedIn"), t.loc.T("router.signedInText"), nil)
		return &botframework.InvokeResponse{Status: http.StatusOK}, nil
	}
	if t.act.Name != invokeAdaptiveCardAction {
		t.log.InfoContext(ctx, "unsupported invoke", "name", t.act.Name)
		return &botframework.InvokeResponse{Status: 200}, nil
	}
	verb, data, _, err := botframework.InvokeAction(t.act)
	if err != nil {
		return botframework.ErrorResponse(400, "BadRequest", fmt.Sprintf("this card action could not be read: %v", err)), nil
	}
	h, ok := b.verbs[verb]
	if !ok {
		t.log.InfoContext(ctx, "unknown card verb", "verb", verb)
		return botframework.CardResponse(b.helpCard(t, t.loc.T("router.unknownButton", "Verb", strconv.Quote(verb)))), nil
	}
	return h(ctx, t, data)
}

// locFor is the Localizer of a user the bot writes to without a turn (proactive cards, card updates): the
// locale of their last activity, kept with their conversation reference; English when unknown.
func (b *Bot) locFor(ctx context.Context, tenantID, userID string) *i18n.Localizer {
	if tenantID == "" || userID == "" {
		return i18n.English()
	}
	ref, err := b.cfg.Store.Conversation(ctx, tenantID, userID)
	if err != nil {
		return i18n.English()
	}
	return i18n.For(ref.Locale)
}
