package botframework

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/testkit"
)

// replyingHandler answers every activity with a reply through the Connector client.
type replyingHandler struct {
	client *Client
}

func (h *replyingHandler) OnActivity(ctx context.Context, act *schema.Activity) (*InvokeResponse, error) {
	_, err := h.client.Reply(ctx, act.ServiceURL, act.Conversation.ID, act.ID, &schema.Activity{Text: "echo: " + act.Text})
	return nil, err
}

// TestSignedActivityIsAnsweredWithBotToken wires the verifier, the endpoint, the client-credentials
// token source and the connector client: a correctly signed activity gets 200 and a reply POSTed to its
// serviceUrl with the token from the authority; a rejected one causes no outbound call at all.
func TestSignedActivityIsAnsweredWithBotToken(t *testing.T) {
	clock := testkit.NewClock()
	oidc := newOIDCServer(t, standardKeys(t)...)
	tokens := newTokenServer(t)
	connector := newFakeConnector(t, fakeAnswer{status: 201, body: `{"id":"reply-1"}`})
	serviceURL := connector.srv.URL + "/amer/"

	v, err := NewJWTVerifier(JWTConfig{AppID: testAppID, MetadataURL: oidc.metadataURL(), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	client := NewClient(ClientConfig{Tokens: newTestCredentials(tokens, clock)})
	ep := NewEndpoint(v, &replyingHandler{client: client}, EndpointOptions{})
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)

	body := activityBody(t, func(m map[string]any) { m["serviceUrl"] = serviceURL })
	post := func(auth string) int {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	bad := []string{
		"",
		"Bearer " + signRS256(t, 0, "k-teams", with(validClaims(clock.Now()), "serviceurl", "https://evil.example/")),
		"Bearer " + signRS256(t, 1, "k-skype", with(validClaims(clock.Now()), "serviceurl", serviceURL)),
	}
	for i, auth := range bad {
		if got := post(auth); got != http.StatusUnauthorized {
			t.Errorf("bad request %d: status %d, want 401", i, got)
		}
	}
	if n := len(connector.got()); n != 0 || tokens.calls.Load() != 0 {
		t.Fatalf("rejected activities caused %d connector calls and %d token requests", n, tokens.calls.Load())
	}

	good := "Bearer " + signRS256(t, 0, "k-teams", with(validClaims(clock.Now()), "serviceurl", serviceURL))
	if got := post(good); got != http.StatusOK {
		t.Fatalf("signed activity: status %d, want 200", got)
	}
	reqs := connector.got()
	if len(reqs) != 1 {
		t.Fatalf("connector calls = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.RawPath != "/amer/v3/conversations/a:pc-requester/activities/9549c1ee-51a2-40f8-bd11-7a69306628fd" {
		t.Errorf("reply went to %s %s", r.Method, r.RawPath)
	}
	if r.Auth != "Bearer tok-1" {
		t.Errorf("reply Authorization = %q, want the token from the authority", r.Auth)
	}
	if r.Body["text"] != "echo: hello" || r.Body["replyToId"] != "9549c1ee-51a2-40f8-bd11-7a69306628fd" {
		b, _ := json.Marshal(r.Body)
		t.Errorf("reply body = %s", b)
	}
}
