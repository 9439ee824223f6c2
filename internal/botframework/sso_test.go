package botframework

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestOAuthCard(t *testing.T) {
	const resource = "api://botid-b0770000-0000-4000-8000-000000000001"
	card := NewOAuthCard("Sign in to AccessBot", "graph-sso", "x-1", resource)
	att := card.Attachment()
	if att.ContentType != "application/vnd.microsoft.card.oauth" {
		t.Fatalf("attachment content type = %q", att.ContentType)
	}
	raw, err := json.Marshal(att.Content)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	ter, _ := m["tokenExchangeResource"].(map[string]any)
	if ter["uri"] != resource || ter["id"] != "x-1" || m["connectionName"] != "graph-sso" || m["text"] != "Sign in to AccessBot" {
		t.Fatalf("OAuthCard = %s", raw)
	}
	btn, _ := m["buttons"].([]any)
	if len(btn) != 1 || btn[0].(map[string]any)["type"] != "signin" || btn[0].(map[string]any)["title"] != "Sign in" {
		t.Errorf("buttons = %v, want one signin button (the protocol asks for a non-empty array)", m["buttons"])
	}
}

func TestParseTokenExchange(t *testing.T) {
	tests := []struct {
		name    string
		value   map[string]any
		want    TokenExchange
		wantErr string
	}{
		{"complete", map[string]any{"id": "abc", "connectionName": "graph-sso", "token": "eyJ.x.y"},
			TokenExchange{ID: "abc", ConnectionName: "graph-sso", Token: "eyJ.x.y"}, ""},
		{"no value", nil, TokenExchange{}, "no value"},
		{"no token keeps id and connection", map[string]any{"id": "abc", "connectionName": "graph-sso"},
			TokenExchange{ID: "abc", ConnectionName: "graph-sso"}, "no token"},
		{"token not a string", map[string]any{"id": "abc", "token": 5}, TokenExchange{ID: "abc"}, "string id, connectionName and token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTokenExchange(tt.value)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("ParseTokenExchange = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTokenExchangeResponse(t *testing.T) {
	te := TokenExchange{ID: "abc", ConnectionName: "graph-sso", Token: "eyJ.secret"}
	tests := []struct {
		status int
		detail string
		want   string
	}{
		{http.StatusOK, "", `{"id":"abc","connectionName":"graph-sso"}`},
		{http.StatusPreconditionFailed, "consent required", `{"id":"abc","connectionName":"graph-sso","failureDetail":"consent required"}`},
		{http.StatusBadRequest, "no token", `{"id":"abc","connectionName":"graph-sso","failureDetail":"no token"}`},
	}
	for _, tt := range tests {
		resp := TokenExchangeResponse(tt.status, te, tt.detail)
		raw, err := json.Marshal(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != tt.status || string(raw) != tt.want {
			t.Errorf("TokenExchangeResponse(%d) = %d %s, want %s", tt.status, resp.Status, raw, tt.want)
		}
		if strings.Contains(string(raw), te.Token) {
			t.Errorf("answer echoes the token: %s", raw)
		}
	}
}
