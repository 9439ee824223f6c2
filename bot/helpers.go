package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Helpers shared by the flows: acting as the turn's user (delegated port, Adaptive Card SSO), answering a verb
// (card, failure card, status card stored for in-place updates), reading card data, ids, audit entries, and
// per-call cached package/policy lookups.

// delegated returns the entitlement port acting as the turn's user (their own token).
func (b *Bot) delegated(ctx context.Context, t *turn) (entitlement.Delegated, error) {
	if b.cfg.Entitlement == nil || b.cfg.Tokens == nil {
		return nil, fmt.Errorf("delegated access: %w", entitlement.ErrUnavailable)
	}
	if t.tenantID == "" || t.userID == "" {
		return nil, fmt.Errorf("delegated access: the activity has no tenant or user id: %w", entitlement.ErrSignInRequired)
	}
	if err := b.acceptSSO(ctx, t); errors.Is(err, entitlement.ErrUnavailable) {
		// The sign-in service is down: say so, instead of asking the person to sign in again.
		return nil, fmt.Errorf("delegated access: %w", err)
	}
	return b.cfg.Entitlement.ForUser(b.cfg.Tokens.ForUser(t.tenantID, t.userID)), nil
}

// acceptSSO exchanges the token Teams attaches to an Action.Execute retried after a login request. A failed
// exchange is logged and returned; the caller decides whether it matters.
func (b *Bot) acceptSSO(ctx context.Context, t *turn) error {
	if t.act.Type != activityInvoke || b.cfg.Tokens == nil {
		return nil
	}
	_, _, tok, err := botframework.InvokeAction(t.act)
	if err != nil || tok == "" {
		return nil
	}
	if err := b.cfg.Tokens.ExchangeSSO(ctx, t.tenantID, t.userID, tok); err != nil {
		t.log.WarnContext(ctx, "exchange adaptive card SSO token", "err", err)
		return fmt.Errorf("exchange adaptive card SSO token: %w", err)
	}
	return nil
}

// answer delivers a card for a verb handler: the invoke answer (it replaces the card clicked), or a new message
// when the action came as Action.Submit.
func (b *Bot) answer(ctx context.Context, t *turn, card *cards.Card) (*botframework.InvokeResponse, error) {
	if t.act.Type == activityInvoke {
		return botframework.CardResponse(card), nil
	}
	_, err := b.sendCard(ctx, t, card)
	return nil, err
}

// failure answers a verb with the card for err; for an invoke that needs sign-in it asks Teams for Adaptive
// Card SSO when it is configured.
func (b *Bot) failure(ctx context.Context, t *turn, title string, err error, retry string) (*botframework.InvokeResponse, error) {
	if t.act.Type == activityInvoke && errors.Is(err, entitlement.ErrSignInRequired) && b.ssoConfigured() {
		if _, _, tok, _ := botframework.InvokeAction(t.act); tok == "" {
			return botframework.LoginRequestResponse(b.cfg.SSOConnectionName, "",
				&botframework.TokenExchangeResource{ID: newID(), URI: b.cfg.SSOResource}), nil
		}
	}
	return b.answer(ctx, t, b.errorCard(ctx, t, title, err, retry))
}

// answerStatus answers with a request's status card and stores where it landed so it is updated in place.
func (b *Bot) answerStatus(ctx context.Context, t *turn, tr *trackedRequest) (*botframework.InvokeResponse, error) {
	return b.answerStatusCard(ctx, t, tr.ID, cards.RequestStatus(t.loc, b.statusView(ctx, t.loc, tr)))
}

// answerStatusCard answers with the status card of request requestID (tracked or brokered) and stores where
// it landed so it is updated in place.
func (b *Bot) answerStatusCard(ctx context.Context, t *turn, requestID string, card *cards.Card) (*botframework.InvokeResponse, error) {
	if t.act.Type == activityInvoke {
		b.storeCard(ctx, requestID, cardKindStatus, 0, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, t.act.ReplyToID)
		return botframework.CardResponse(card), nil
	}
	id, err := b.sendCard(ctx, t, card)
	if err != nil {
		return nil, err
	}
	b.storeCard(ctx, requestID, cardKindStatus, 0, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, id)
	return nil, nil
}

// str reads a submitted value as text; invisible and direction-changing characters are dropped (CleanText),
// so what a user typed into a card reaches Graph, the audit log and other users' cards as it looks.
func str(data map[string]any, key string) string {
	switch v := data[key].(type) {
	case string:
		return strings.TrimSpace(cards.CleanText(v))
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// validID checks an object id that came back in card data (it may have been tampered with).
func validID(s string) bool { return idRE.MatchString(s) }

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newID() string {
	var buf [12]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

func (b *Bot) auditTurn(ctx context.Context, t *turn, e store.AuditEntry) {
	e.ActorTenant, e.ActorID, e.ActorName = t.tenantID, t.userID, t.userName
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	if _, err := b.cfg.Store.AppendAudit(ctx, e); err != nil {
		t.log.ErrorContext(ctx, "append audit entry", "action", e.Action, "err", err)
		return
	}
	b.observeAudit(ctx, e)
}

// packageName returns a package's display name (cached per call in names; "" when unknown).
func (b *Bot) packageName(ctx context.Context, names map[string]string, id string) string {
	if id == "" {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	p, err := b.cfg.Entitlement.Package(ctx, id)
	if err != nil {
		b.log.DebugContext(ctx, "read package name", "package", id, "err", err)
	}
	names[id] = p.Name
	return p.Name
}

func (b *Bot) policyCached(ctx context.Context, cache map[string]entitlement.Policy, id string) (entitlement.Policy, bool) {
	if id == "" {
		return entitlement.Policy{}, false
	}
	if p, ok := cache[id]; ok {
		return p, true
	}
	p, err := b.cfg.Entitlement.Policy(ctx, id)
	if err != nil {
		b.log.DebugContext(ctx, "read policy", "policy", id, "err", err)
		return p, false
	}
	cache[id] = p
	return p, true
}

func orUnknown(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}
