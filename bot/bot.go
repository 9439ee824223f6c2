package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/memo"
	"github.com/accessbot/accessbot/internal/reviews"
	"github.com/accessbot/accessbot/internal/store"
)

// Connector is what the bot needs from the Bot Framework Connector API.
type Connector interface {
	Send(ctx context.Context, serviceURL, conversationID string, act *schema.Activity) (string, error)
	Reply(ctx context.Context, serviceURL, conversationID, replyToID string, act *schema.Activity) (string, error)
	Update(ctx context.Context, serviceURL, conversationID, activityID string, act *schema.Activity) error
	CreateConversation(ctx context.Context, serviceURL string, p schema.ConversationParameters) (botframework.ConversationResource, error)
}

// Store is the durable state the bot keeps (both internal/store backends implement it): what the lifecycle
// core needs, plus activity claims, conversations, cards, dialogs, generic records, audit and the outbox.
type Store interface {
	lifecycle.Store
	ClaimActivity(ctx context.Context, key string, holdFor time.Duration) (store.Claim, error)
	CompleteTurn(ctx context.Context, key, token string, resp []byte, w store.TurnWrites) error
	ReleaseActivity(ctx context.Context, key, token string) error
	RenewActivity(ctx context.Context, key, token string) (bool, error)
	PutConversation(ctx context.Context, ref store.ConversationRef) error
	PutCard(ctx context.Context, ref store.CardRef) error
	Cards(ctx context.Context, key string) ([]store.CardRef, error)
	PutDialog(ctx context.Context, key string, v any) error
	Dialog(ctx context.Context, key string, out any) error
	DeleteDialog(ctx context.Context, key string) error
	Put(ctx context.Context, bucket, key string, v any) error
	Get(ctx context.Context, bucket, key string, out any) error
	UpdateKV(ctx context.Context, bucket, key string, fn func(raw []byte) ([]byte, error)) error
	AppendAudit(ctx context.Context, e store.AuditEntry) (uint64, error)
	Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
	Enqueue(ctx context.Context, kind string, payload any, notBefore time.Time) (string, error)
}

// Config wires a Bot.
type Config struct {
	// Connector sends replies, card updates and proactive messages.
	Connector Connector
	// Store keeps conversation references, processed activity ids, cards, dialogs and the audit log.
	Store Store
	// Metrics receives the domain metrics (requests filed, decisions, approval latency); nil records nothing.
	Metrics Metrics
	// Logger receives structured logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClaimRenewal is how often a running turn renews its activity claim (keepClaim); 0 means a third of
	// claimHold.
	ClaimRenewal time.Duration
	// BotID is the bot's Teams id ("28:<app id>"), used when creating conversations.
	BotID string
	// BotName is how the bot calls itself in cards.
	BotName string

	// Entitlement is entitlement management: app-only calls directly, delegated calls through ForUser.
	Entitlement entitlement.Port
	// Builder creates and changes catalogs, packages, policies and incompatibilities (the package builder and the
	// separation-of-duties checks); nil turns the builder off.
	Builder entitlement.Builder
	// Tokens yields acting users' delegated Graph tokens (Teams SSO + on-behalf-of, or the dev identity).
	Tokens UserTokens
	// Tenant describes the resource tenant ("Tenant A") whose access packages the bot manages.
	Tenant TenantInfo
	// AdminGroupID is the Entra group whose (transitive) members may run admin commands; empty means no group.
	AdminGroupID string
	// AdminRoleIDs are Microsoft Entra directory roles (template ids of built-in roles, definition ids of
	// custom ones) whose holders may run admin commands too: a user is an admin when in AdminGroupID OR
	// holding one of these roles through a direct, tenant-wide assignment. Empty means no role; with no group
	// either, nobody is an admin.
	AdminRoleIDs []string
	// Brokered lets the bot run approvals itself for connected-organization users not yet in the tenant
	// (DESIGN.md §3); when false such users get a My Access link instead.
	Brokered bool
	// TeamsAppID is the Teams app id of the manifest (the entitlement client resolves it to the app catalog id),
	// used to install the app for approvers the bot cannot reach yet.
	TeamsAppID string
	// DefaultServiceURL is the Teams service URL used to create a chat with someone in a tenant from which no
	// activity has arrived yet (Microsoft's proactive endpoint, e.g. https://smba.trafficmanager.net/teams/);
	// empty means only service URLs seen in activities are used.
	DefaultServiceURL string
	// SSOConnectionName is the Azure Bot OAuth connection used for Teams SSO sign-in cards.
	SSOConnectionName string
	// SSOResource is the Application ID URI Teams issues SSO tokens for (api://botid-{appId}).
	SSOResource string
	// PollInterval is the first delay between status polls of an open request (doubles up to PollMax).
	PollInterval time.Duration
	// PollMax caps the delay between status polls.
	PollMax time.Duration
	// ReminderAfter is how long an approval may wait before approvers are reminded.
	ReminderAfter time.Duration
	// Reviews runs access reviews and expiry notices in the chat (internal/reviews); nil turns them off.
	Reviews *reviews.Service
}

// TenantInfo describes the resource tenant.
type TenantInfo struct {
	// ID is the tenant id.
	ID string
	// Name is the organization's display name ("Contoso").
	Name string
	// Domain is a verified domain, used in tenant-scoped My Access links.
	Domain string
}

// UserTokens yields acting users' delegated Microsoft Graph tokens.
type UserTokens interface {
	// ForUser returns the user's delegated token source. Its Token fails with an error matching
	// entitlement.ErrSignInRequired when the user must sign in first (Teams SSO), or
	// entitlement.ErrConsentRequired when consent is missing.
	ForUser(tenantID, userID string) entitlement.TokenSource
	// ExchangeSSO exchanges a Teams SSO token (signin/tokenExchange or Adaptive Card SSO) on behalf of the
	// user for a delegated Graph token and caches it.
	ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error
}

// Bot routes activities. It is safe for concurrent use.
type Bot struct {
	cfg      Config
	log      *slog.Logger
	metrics  Metrics
	now      func() time.Time
	commands []*commandSpec
	byName   map[string]*commandSpec
	verbs    map[string]verbHandler

	// adm is the admin flow's caches and confirmation lock (admin.go).
	adm adminState
	// prt is the partner flows' caches (partner.go).
	prt partnerState

	// fl is the flows' in-process state: outbox handlers and kicker, brokered/form locks (tracker.go).
	fl flowState
	// core is the request lifecycle (internal/lifecycle): records, decisions, approvers, the tracker.
	core *lifecycle.Core
	// known is which users' conversation references are stored, as far as this process saw (router.go
	// remember; references are never deleted).
	known *memo.Map[string, struct{}]
	// shown is the hash of the card each updated message shows (by conversation and activity id), so an
	// update that would show the same card again is not sent (notify.go updateCard).
	shown *memo.Map[string, [32]byte]
	// serviceURLs is each tenant's service URL as this process last read or wrote it (notify.go
	// noteServiceURL); serviceURLMu orders the reads and writes behind it.
	serviceURLs  *memo.Map[string, storedServiceURL]
	serviceURLMu sync.Mutex
}

// New builds a Bot. Connector and Store are required.
func New(cfg Config) (*Bot, error) {
	if cfg.Connector == nil {
		return nil, errors.New("bot config: Connector is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("bot config: Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClaimRenewal <= 0 {
		cfg.ClaimRenewal = claimHold / 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BotName == "" {
		cfg.BotName = "AccessBot"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.PollMax <= 0 {
		cfg.PollMax = 5 * time.Minute
	}
	if cfg.ReminderAfter <= 0 {
		cfg.ReminderAfter = 24 * time.Hour
	}
	b := &Bot{
		cfg:     cfg,
		log:     cfg.Logger,
		metrics: cfg.Metrics,
		now:     cfg.Now,
		byName:  map[string]*commandSpec{},
		verbs:   map[string]verbHandler{},
		known:   memo.New[string, struct{}](maxKnownConversations),
		shown:   memo.New[string, [32]byte](maxShownCards),

		serviceURLs: memo.New[string, storedServiceURL](maxServiceURLTenants),
	}
	if b.metrics == nil {
		b.metrics = noMetrics{}
	}
	core, err := b.newCore()
	if err != nil {
		return nil, fmt.Errorf("bot config: %w", err)
	}
	b.core = core
	b.registerCore()
	return b, nil
}

// claimHold is how long an activity claim holds off other deliveries of the same activity; a claim older than
// that (its replica died, or its turn hangs) is taken over by the next delivery. A running turn renews its claim
// (keepClaim, up to maxTurnHold), and a claim whose answer is waiting to be written is renewed by the store
// meanwhile (store.PendingAnswers), so neither is taken over.
const claimHold = 15 * time.Second

// OnActivity handles one authenticated activity. The same activity delivered twice (Teams redelivers when an
// answer is slow), to this replica or another one, is processed once: the store's activity claim decides who
// processes it, and the other deliveries get its answer. A turn ends in one durable write: its completion
// record (the answer to replay) together with the user's conversation reference when that changed and the
// dialogs its invoke answer points at (putAnswerDialog). A failed
// turn releases its claim, so a redelivery processes it again at once — unless the claim was taken over
// meanwhile (the turn hung past claimHold without renewing it, see keepClaim): the release and the completion carry the claim's token, so a
// stale release leaves the new holder's claim, and the first completion is the one kept (see store.Claim).
func (b *Bot) OnActivity(ctx context.Context, act *schema.Activity) (*botframework.InvokeResponse, error) {
	key := dedupeKey(act)
	if key == "" {
		t := b.newTurn(ctx, act)
		b.rememberNow(ctx, t, b.remember(ctx, t))
		return b.route(ctx, t)
	}
	c, err := b.claim(ctx, key)
	if err != nil {
		return nil, err
	}
	if !c.Won {
		b.log.InfoContext(ctx, "duplicate activity acknowledged", "activity_id", act.ID, "type", act.Type)
		return decodeStoredResponse(c.Response), nil
	}
	completed := false
	stopRenewing := b.keepClaim(ctx, key, c.Token)
	defer func() {
		stopRenewing()
		if !completed { // failed (or panicked): a redelivery may process it again right away
			if err := b.cfg.Store.ReleaseActivity(context.WithoutCancel(ctx), key, c.Token); err != nil {
				b.log.WarnContext(ctx, "release activity claim", "activity_id", act.ID, "err", err)
			}
		}
	}()
	t := b.newTurn(ctx, act)
	t.writes = &turnWrites{}
	ref := b.remember(ctx, t)
	resp, err := b.route(ctx, t)
	if err != nil {
		return resp, err
	}
	raw, err := encodeResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("encode invoke response: %w", err)
	}
	// The turn has answered (its reply is sent): its completion is written even if the request was cancelled
	// meanwhile (Teams gave up waiting), or a redelivery would process the activity again.
	stopRenewing()
	w := store.TurnWrites{Ref: ref, Dialogs: t.writes.dialogs()}
	if err := b.cfg.Store.CompleteTurn(context.WithoutCancel(ctx), key, c.Token, raw, w); err != nil {
		return nil, fmt.Errorf("mark activity processed: %w", err)
	}
	completed = true
	return resp, nil
}

// claim takes the activity key: Won (with its token) when this delivery processes it; otherwise Done with
// the answer of the delivery that did, waiting (polling the claim) while another delivery is still
// processing it.
func (b *Bot) claim(ctx context.Context, key string) (store.Claim, error) {
	wait := 5 * time.Millisecond
	for {
		c, err := b.cfg.Store.ClaimActivity(ctx, key, claimHold)
		if err != nil {
			return store.Claim{}, fmt.Errorf("claim activity: %w", err)
		}
		if c.Won || c.Done {
			return c, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return store.Claim{}, fmt.Errorf("wait for another delivery of the activity: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
}

func dedupeKey(act *schema.Activity) string {
	if act.ID == "" {
		return ""
	}
	return strings.Join([]string{act.ChannelID, act.Conversation.ID, act.ID}, "|")
}

func decodeStoredResponse(raw []byte) *botframework.InvokeResponse {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var r struct {
		Status int
		Body   json.RawMessage
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil
	}
	resp := &botframework.InvokeResponse{Status: r.Status}
	if len(r.Body) > 0 && string(r.Body) != "null" {
		resp.Body = r.Body
	}
	return resp
}

// encodeResponse encodes the turn's answer once for both of its uses: the body becomes its JSON
// (json.RawMessage), which the endpoint writes as it is, and the returned bytes are the copy stored for a
// redelivery. The copy is what json.Marshal writes for resp ({"Status":…,"Body":…}, read by
// decodeStoredResponse), put together around the body: marshalling resp would re-scan the encoded body.
func encodeResponse(resp *botframework.InvokeResponse) ([]byte, error) {
	if resp == nil {
		return []byte("null"), nil
	}
	body := []byte("null")
	if resp.Body != nil {
		var err error
		if body, err = botframework.EncodeBody(resp.Body); err != nil {
			return nil, err
		}
		resp.Body = json.RawMessage(body)
	}
	out := strconv.AppendInt(append(make([]byte, 0, len(body)+32), storedStatus...), int64(resp.Status), 10)
	return append(append(append(out, storedBody...), body...), '}'), nil
}

// storedStatus and storedBody open the fields of a stored answer, named as json.Marshal names
// botframework.InvokeResponse's.
const (
	storedStatus = `{"Status":`
	storedBody   = `,"Body":`
)
