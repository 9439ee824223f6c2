package teamsfake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

type staticToken string

func (s staticToken) Token(context.Context) (string, error) { return string(s), nil }

// TestConnectorSpeaksTheConnectorAPI drives the fake with the production Connector client: every call the
// bot makes lands in the recording with the right op, conversation, id and bearer token.
func TestConnectorSpeaksTheConnectorAPI(t *testing.T) {
	ctx := context.Background()
	c := NewConnector(t)
	rita := Member{ID: "29:rita", Name: "Rita Requester", AADObjectID: "aaaaaaaa-0000-0000-0000-000000000001", TenantID: "11111111-1111-1111-1111-111111111111"}
	c.AddMember(rita)
	cl := botframework.NewClient(botframework.ClientConfig{Tokens: staticToken("bot-token")})

	sent, err := cl.Send(ctx, c.URL(), "a:rita", &schema.Activity{Text: "hello"})
	if err != nil || sent == "" {
		t.Fatalf("Send = %q, %v", sent, err)
	}
	replied, err := cl.Reply(ctx, c.URL(), "a:rita", sent, &schema.Activity{Text: "again"})
	if err != nil || replied == "" || replied == sent {
		t.Fatalf("Reply = %q, %v (send id %q)", replied, err, sent)
	}
	if err := cl.Update(ctx, c.URL(), "a:rita", sent, &schema.Activity{Text: "edited"}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := []struct{ op, id, text string }{{"send", sent, "hello"}, {"reply", replied, "again"}, {"update", sent, "edited"}}
	got := c.Activities()
	if len(got) != len(want) {
		t.Fatalf("recorded %d activities, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		a := got[i]
		if a.Op != w.op || a.ID != w.id || a.Text() != w.text || a.ConversationID != "a:rita" || a.Auth != "Bearer bot-token" {
			t.Errorf("activity %d = %+v (text %q), want %s %s %q in a:rita with the bot token", i, a, a.Text(), w.op, w.id, w.text)
		}
	}

	conv, err := cl.CreateConversation(ctx, c.URL(), schema.ConversationParameters{
		Members: []schema.ChannelAccount{{ID: rita.ID}}, TenantID: rita.TenantID})
	if err != nil || conv.ID == "" {
		t.Fatalf("CreateConversation = %+v, %v", conv, err)
	}
	if n := len(c.Conversations()); n != 1 {
		t.Errorf("recorded %d created conversations, want 1", n)
	}
	for _, key := range []string{rita.ID, rita.AADObjectID} {
		m, err := cl.GetMember(ctx, c.URL(), conv.ID, key)
		if err != nil || m.AadObjectID != rita.AADObjectID || m.ID != rita.ID {
			t.Errorf("GetMember(%s) = %+v, %v", key, m, err)
		}
	}
	_, err = cl.GetMember(ctx, c.URL(), conv.ID, "29:nobody")
	var ae *botframework.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("GetMember(unknown) err = %v, want a 404 APIError", err)
	}
}

// TestConnectorFailNext: throttling answers 429 with Retry-After 0 (so the client retries at once) and the
// throttled attempts are not recorded as delivered.
func TestConnectorFailNext(t *testing.T) {
	ctx := context.Background()
	c := NewConnector(t)
	cl := botframework.NewClient(botframework.ClientConfig{})
	c.FailNext(2, http.StatusTooManyRequests)
	if _, err := cl.Send(ctx, c.URL(), "a:1", &schema.Activity{Text: "x"}); err != nil {
		t.Fatalf("Send after two 429s: %v", err)
	}
	if n := c.Len(); n != 1 {
		t.Fatalf("recorded %d activities, want 1", n)
	}
	c.FailNext(1, http.StatusForbidden)
	_, err := cl.Send(ctx, c.URL(), "a:1", &schema.Activity{Text: "y"})
	var ae *botframework.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Fatalf("Send with a 403: err = %v", err)
	}
	if n := c.Len(); n != 1 {
		t.Fatalf("a refused send was recorded: %d activities", n)
	}
}

// TestWaitForSeesLaterActivities: WaitFor returns an activity that arrives after it started waiting.
func TestWaitForSeesLaterActivities(t *testing.T) {
	c := NewConnector(t)
	cl := botframework.NewClient(botframework.ClientConfig{})
	from := c.Len()
	go func() {
		_, _ = cl.Send(context.Background(), c.URL(), "a:1", &schema.Activity{Text: "late"})
	}()
	got := c.WaitFor(t, from, 10*time.Second, "the late message", func(a Activity) bool { return a.Text() == "late" })
	if got.Op != "send" {
		t.Fatalf("WaitFor = %+v", got)
	}
}

// TestClientPostsTeamsShapedActivities: the client's activities carry what the bot reads from Teams.
func TestClientPostsTeamsShapedActivities(t *testing.T) {
	var got *schema.Activity
	var auth string
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		act, err := botframework.DecodeActivity(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got, auth = act, r.Header.Get("Authorization")
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(bot.Close)
	cl := &Client{Endpoint: bot.URL, ServiceURL: "http://127.0.0.1:1/", BotID: "28:bot", BotName: "AccessBot",
		Authorize: func(map[string]any) string { return "Bearer x" }}
	u := User{ID: "29:rita", Name: "Rita", AADObjectID: "oid-rita", TenantID: "tid-a", ConversationID: "a:rita"}
	resp, err := cl.Execute(context.Background(), u, "act-1", "approve", map[string]any{"requestId": "r1"})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("Execute = %+v, %v", resp, err)
	}
	verb, data, _, err := botframework.InvokeAction(got)
	if err != nil || verb != "approve" || data["requestId"] != "r1" {
		t.Fatalf("InvokeAction = %q %v %v", verb, data, err)
	}
	if botframework.TenantID(got) != "tid-a" || got.From.AadObjectID != "oid-rita" || !botframework.IsPersonal(got) || auth != "Bearer x" {
		t.Fatalf("activity = %+v, auth %q", got, auth)
	}
}
