package e2e

import (
	"errors"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/identity"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

func TestIdentitySimAppTokens(t *testing.T) {
	e := newGSEnv(t)
	for _, src := range []identity.TokenSource{e.app.Graph(), e.app.BotFramework()} {
		tok, err := src.Token(e.ctx())
		if err != nil {
			t.Fatal(err)
		}
		c, err := identity.PeekClaims(tok)
		if err != nil || c.TenantID != contoso {
			t.Fatalf("app token claims = %+v, %v", c, err)
		}
	}
}

func TestIdentitySimSSOExchangeAndConsent(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	// What the signin/tokenExchange invoke carries: the user's SSO token (here minted by the simulator).
	assertion, err := e.dev.Assertion(ctx, contoso, tenantsim.UserRita)
	if err != nil {
		t.Fatal(err)
	}
	c, err := identity.PeekClaims(assertion)
	if err != nil || c.Audience != "api://botid-"+tenantsim.BotAppID {
		t.Fatalf("assertion claims = %+v, %v", c, err)
	}
	te, err := botframework.ParseTokenExchange(map[string]any{"id": "x1", "connectionName": "graph", "token": assertion})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.obo.Exchange(ctx, contoso, tenantsim.UserRita, te.Token); err != nil {
		t.Fatalf("OBO: %v", err)
	}
	tok, err := e.obo.ForUser(contoso, tenantsim.UserRita).Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gc, _ := identity.PeekClaims(tok)
	if gc.ObjectID != tenantsim.UserRita {
		t.Fatalf("graph token oid = %q", gc.ObjectID)
	}
	// The exchanged token works for delegated Graph calls.
	if _, err := e.client.ForUser(e.obo.ForUser(contoso, tenantsim.UserRita)).MyRequests(ctx); err != nil {
		t.Fatalf("delegated call with the OBO token: %v", err)
	}
	// Someone else's SSO token is not accepted for Rita.
	other, err := e.dev.Assertion(ctx, contoso, tenantsim.UserMegan)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.obo.Exchange(ctx, contoso, tenantsim.UserRita, other); !errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("foreign token: err = %v", err)
	}

	// Consent withdrawn: the exchange says so in a way the bot answers with a sign-in card.
	e.sim.SetConsent(contoso, tenantsim.UserMegan, false)
	err = e.obo.Exchange(ctx, contoso, tenantsim.UserMegan, other)
	if !errors.Is(err, entitlement.ErrConsentRequired) {
		t.Fatalf("no consent: err = %v, want ErrConsentRequired", err)
	}
	if strings.Contains(err.Error(), e.sim.Info().BotClientSecret) || strings.Contains(err.Error(), other) {
		t.Fatalf("error leaks a secret: %v", err)
	}
	_, err = e.as(contoso, tenantsim.UserMegan).MyRequests(ctx)
	if !errors.Is(err, entitlement.ErrConsentRequired) {
		t.Fatalf("delegated call without consent: err = %v, want ErrConsentRequired", err)
	}
	if got := entitlement.UserMessage(err); !strings.Contains(got, "consent") {
		t.Fatalf("user message = %q", got)
	}
}

func TestIdentitySimGuestFromPartnerTenant(t *testing.T) {
	e := newGSEnv(t)
	ctx := e.ctx()
	// Gus has no account in Contoso yet: the exchange at Contoso fails with a sign-in error, not a crash.
	assertion, err := e.dev.Assertion(ctx, tenantsim.FabrikamTenantID, tenantsim.UserGus)
	if err != nil {
		t.Fatal(err)
	}
	err = e.obo.Exchange(ctx, tenantsim.FabrikamTenantID, tenantsim.UserGus, assertion)
	if err == nil {
		t.Fatal("exchange for a user without a guest account succeeded")
	}
	var ae *identity.AADError
	if !errors.As(err, &ae) || ae.Code != "invalid_grant" {
		t.Fatalf("err = %v, want invalid_grant from Entra", err)
	}
}
