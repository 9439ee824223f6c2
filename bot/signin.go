package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// Teams SSO for typed commands: when a command needs the user's delegated token and none is cached, the bot
// sends an OAuthCard carrying a tokenExchangeResource; Teams answers silently with a signin/tokenExchange
// invoke holding the user's SSO token, which the bot exchanges on-behalf-of and then re-runs the command.
// (Card buttons use Adaptive Card SSO instead: see failure in helpers.go.)

const (
	invokeTokenExchange = botframework.InvokeSigninTokenExchange
	invokeVerifyState   = botframework.InvokeSigninVerifyState
	dialogSignIn        = "signin"
)

// pendingSignIn is the command waiting for the user's sign-in.
type pendingSignIn struct {
	Command string `json:"command"`
}

func signInKey(t *turn) string { return dialogSignIn + "/" + t.tenantID + "/" + t.userID }

// ssoConfigured reports whether Teams SSO (an OAuth connection and the api://botid- resource) is set up.
func (b *Bot) ssoConfigured() bool {
	return b.cfg.SSOConnectionName != "" && b.cfg.SSOResource != ""
}

// promptSignIn asks Teams for the user's SSO token with an OAuthCard and remembers retry (the command to run
// once the token arrives). It reports false when SSO is not configured, so the caller shows its sign-in card.
func (b *Bot) promptSignIn(ctx context.Context, t *turn, retry string) (bool, error) {
	if !b.ssoConfigured() || t.act.Type == activityInvoke {
		return false, nil
	}
	if retry != "" {
		if err := b.cfg.Store.PutDialog(ctx, signInKey(t), pendingSignIn{Command: retry}); err != nil {
			return false, fmt.Errorf("remember command for sign-in: %w", err)
		}
	}
	card := botframework.NewOAuthCard(
		t.loc.T("signIn.prompt", "Org", orUnknown(b.cfg.Tenant.Name, t.loc.T("common.yourOrganization"))),
		b.cfg.SSOConnectionName, newID(), b.cfg.SSOResource)
	act := &schema.Activity{Type: schema.Message, Attachments: []schema.Attachment{card.Attachment()}}
	if _, err := b.send(ctx, t, act); err != nil {
		return false, err
	}
	return true, nil
}

// onTokenExchange exchanges the SSO token Teams sent and re-runs the command that asked for it. A token that
// cannot be used is answered 412 so Teams falls back to its sign-in button.
func (b *Bot) onTokenExchange(ctx context.Context, t *turn) (*botframework.InvokeResponse, error) {
	v, err := botframework.ParseTokenExchange(t.act.Value)
	if err != nil || b.cfg.Tokens == nil {
		return botframework.TokenExchangeResponse(http.StatusBadRequest, v, "the token exchange request has no token"), nil
	}
	if err := b.cfg.Tokens.ExchangeSSO(ctx, t.tenantID, t.userID, v.Token); err != nil {
		t.log.WarnContext(ctx, "SSO token exchange failed", "err", err)
		if errors.Is(err, entitlement.ErrUnavailable) {
			// An outage of the sign-in service: tell the person so (nothing was done), not "sign in".
			var p pendingSignIn
			_ = b.cfg.Store.Dialog(ctx, signInKey(t), &p)
			if _, serr := b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.signIn"), err, p.Command)); serr != nil {
				t.log.WarnContext(ctx, "send outage notice", "err", serr)
			}
		}
		return botframework.TokenExchangeResponse(http.StatusPreconditionFailed, v, "the token could not be exchanged"), nil
	}
	var p pendingSignIn
	if err := b.cfg.Store.Dialog(ctx, signInKey(t), &p); err == nil && p.Command != "" {
		if err := b.cfg.Store.DeleteDialog(ctx, signInKey(t)); err != nil {
			return nil, fmt.Errorf("forget pending sign-in: %w", err)
		}
		if cmd, err := ParseCommand(p.Command); err == nil {
			if err := b.runCommand(ctx, t, cmd); err != nil {
				return nil, err
			}
		}
	}
	return botframework.TokenExchangeResponse(http.StatusOK, v, ""), nil
}
