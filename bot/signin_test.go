package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// ssoTokens is a UserTokens whose users start signed out and are signed in by a successful SSO exchange.
type ssoTokens struct {
	mu        sync.Mutex
	signedIn  map[string]bool
	exchanged []string
	fail      bool
}

func (s *ssoTokens) ForUser(tenantID, userID string) entitlement.TokenSource {
	return entitlement.TokenFunc(func(context.Context) (string, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.signedIn[userID] {
			return "", entitlement.ErrSignInRequired
		}
		return "token-for-" + userID, nil
	})
}

func (s *ssoTokens) ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exchanged = append(s.exchanged, ssoToken)
	if s.fail {
		return errors.New("AADSTS50013: assertion audience does not match")
	}
	s.signedIn[userID] = true
	return nil
}

// TestTeamsSSOForTypedCommands: a command that needs the user's token sends an OAuthCard with the bot's
// token exchange resource; the signin/tokenExchange invoke is exchanged on-behalf-of and the command runs.
func TestTeamsSSOForTypedCommands(t *testing.T) {
	tests := []struct {
		name       string
		fail       bool
		wantStatus int
		wantList   bool
	}{
		{"exchange succeeds and the command runs", false, http.StatusOK, true},
		{"exchange fails: 412 so Teams shows its sign-in button", true, http.StatusPreconditionFailed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			toks := &ssoTokens{signedIn: map[string]bool{}, fail: tc.fail}
			e.bot.cfg.Tokens = toks
			e.bot.cfg.SSOConnectionName = "teams-sso"
			e.bot.cfg.SSOResource = "api://botid-b0770000-0000-4000-8000-000000000001"

			e.message(flRita, "Rita Requester", "packages")
			sent := e.conn.all()
			var oauth bool
			for _, s := range sent {
				for _, a := range s.Act.Attachments {
					if a.ContentType == botframework.ContentTypeOAuthCard {
						oauth = true
						if !strings.Contains(s.text(), `"uri":"api://botid-b0770000-0000-4000-8000-000000000001"`) ||
							!strings.Contains(s.text(), `"connectionName":"teams-sso"`) {
							t.Fatalf("OAuthCard lacks the token exchange resource or connection: %s", s.text())
						}
					}
				}
			}
			if !oauth {
				t.Fatalf("no OAuthCard sent for a signed-out user; sent %d activities", len(sent))
			}
			before := len(sent)

			act := e.activity(flRita, "Rita Requester", "invoke")
			act.Name = "signin/tokenExchange"
			act.Value = map[string]any{"id": "x1", "connectionName": "teams-sso", "token": "sso-token-rita"}
			resp, err := e.bot.OnActivity(context.Background(), act)
			if err != nil {
				t.Fatalf("tokenExchange: %v", err)
			}
			if resp == nil || resp.Status != tc.wantStatus {
				t.Fatalf("tokenExchange status = %+v, want %d", resp, tc.wantStatus)
			}
			if len(toks.exchanged) != 1 || toks.exchanged[0] != "sso-token-rita" {
				t.Fatalf("exchanged %v, want the SSO token once", toks.exchanged)
			}
			after := e.conn.all()[before:]
			gotList := false
			for _, s := range after {
				if strings.Contains(s.text(), "Falcon") {
					gotList = true
				}
			}
			if gotList != tc.wantList {
				t.Fatalf("package list after exchange = %v, want %v (sent %d)", gotList, tc.wantList, len(after))
			}
		})
	}
}

// outageTokens is a UserTokens whose sign-in service is down: every exchange fails with ErrUnavailable.
type outageTokens struct{ ssoTokens }

func (o *outageTokens) ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error {
	return fmt.Errorf("on-behalf-of exchange: token request to https://login.example/t/oauth2/v2.0/token: %w (dial tcp: connection refused)", entitlement.ErrUnavailable)
}

// TestSignInServiceOutageIsNotASignInProblem: a click that carries the user's SSO token while the sign-in
// service is down says that Microsoft Graph is unavailable and nothing was changed — never "I couldn't
// sign you in", and no new login request.
func TestSignInServiceOutageIsNotASignInProblem(t *testing.T) {
	e := newFlEnv(t)
	e.bot.cfg.Tokens = &outageTokens{ssoTokens{signedIn: map[string]bool{}}}
	e.bot.cfg.SSOConnectionName = "teams-sso"
	e.bot.cfg.SSOResource = "api://botid-b0770000-0000-4000-8000-000000000001"
	act := e.activity(flRita, "Rita Requester", "invoke")
	act.Name = "adaptiveCard/action"
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbRequestOpen,
		"data": map[string]any{"packageId": flPkgTeam}},
		"authentication": map[string]any{"id": "x", "connectionName": "teams-sso", "token": "sso-token-rita"}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil {
		t.Fatal(err)
	}
	if resp == nil || resp.Status != http.StatusOK {
		t.Fatalf("invoke answer = %+v, want a card (not a login request)", resp)
	}
	body, _ := json.Marshal(resp.Body)
	text := string(body)
	if !strings.Contains(text, "Microsoft Graph is unavailable") || !strings.Contains(text, "nothing was changed") {
		t.Errorf("card does not say Graph is unavailable and nothing changed: %s", text)
	}
	if strings.Contains(text, "couldn't sign you in") || strings.Contains(strings.ToLower(text), "sign in") {
		t.Errorf("card talks about signing in during an outage: %s", text)
	}
}

// An unconfirmed change is not "nothing was changed": in every language it gets its own explanation.
func TestErrorMessageIDOutcomeUnknown(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("request: %w", entitlement.ErrOutcomeUnknown), "error.outcomeUnknown"},
		{fmt.Errorf("list: %w", entitlement.ErrUnavailable), "error.unavailable"},
	}
	for _, tt := range tests {
		if got := errorMessageID(tt.err); got != tt.want {
			t.Errorf("errorMessageID(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
