package botframework

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/testkit"
)

// connectorRequest is one request received by the fake connector.
type connectorRequest struct {
	Method  string
	RawPath string
	Auth    string
	Body    map[string]any
}

// fakeConnector answers from a queue of (status, headers, body); the last entry repeats.
type fakeConnector struct {
	srv      *httptest.Server
	mu       sync.Mutex
	requests []connectorRequest
	answers  []fakeAnswer
}

type fakeAnswer struct {
	status int
	header map[string]string
	body   string
}

func newFakeConnector(t *testing.T, answers ...fakeAnswer) *fakeConnector {
	t.Helper()
	fc := &fakeConnector{answers: answers}
	fc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				http.Error(w, "bad json", 400)
				return
			}
		}
		fc.mu.Lock()
		fc.requests = append(fc.requests, connectorRequest{Method: r.Method, RawPath: r.URL.EscapedPath(), Auth: r.Header.Get("Authorization"), Body: body})
		a := fc.answers[0]
		if len(fc.answers) > 1 {
			fc.answers = fc.answers[1:]
		}
		fc.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(fc.srv.Close)
	return fc
}

func (fc *fakeConnector) got() []connectorRequest {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return append([]connectorRequest(nil), fc.requests...)
}

type staticTokens struct {
	tok string
	err error
}

func (s staticTokens) Token(ctx context.Context) (string, error) { return s.tok, s.err }

// newTestClient returns a client whose sleeps are recorded instead of waited.
func newTestClient(tokens TokenSource, clock *testkit.Clock) (*Client, *[]time.Duration) {
	c := NewClient(ClientConfig{Tokens: tokens})
	var sleeps []time.Duration
	var mu sync.Mutex
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sleeps = append(sleeps, d)
		return ctx.Err()
	}
	if clock != nil {
		c.now = clock.Now
	}
	return c, &sleeps
}

const teamsConvID = "19:abc@thread.skype;messageid=1795"

func cardActivity() *schema.Activity {
	return &schema.Activity{
		Type: "message",
		Attachments: []schema.Attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content:     map[string]any{"type": "AdaptiveCard", "version": "1.5", "body": []any{}, "actions": []any{map[string]any{"type": "Action.Execute", "verb": "approve", "data": map[string]any{}}}},
		}},
	}
}

func TestClientSendReplyUpdate(t *testing.T) {
	fc := newFakeConnector(t, fakeAnswer{status: 201, body: `{"id":"1795690667589"}`})
	c, _ := newTestClient(staticTokens{tok: "bot-token"}, nil)
	ctx := context.Background()
	base := fc.srv.URL + "/_connector/"

	id, err := c.Send(ctx, base, teamsConvID, &schema.Activity{Text: "hello"})
	if err != nil || id != "1795690667589" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	rid, err := c.Reply(ctx, base, teamsConvID, "act-1", cardActivity())
	if err != nil || rid != "1795690667589" {
		t.Fatalf("Reply = %q, %v", rid, err)
	}
	if err := c.Update(ctx, base, teamsConvID, "act/2", cardActivity()); err != nil {
		t.Fatalf("Update: %v", err)
	}

	reqs := fc.got()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	escaped := "19:abc@thread.skype%3Bmessageid=1795"
	wantLines := []struct{ method, path string }{
		{"POST", "/_connector/v3/conversations/" + escaped + "/activities"},
		{"POST", "/_connector/v3/conversations/" + escaped + "/activities/act-1"},
		{"PUT", "/_connector/v3/conversations/" + escaped + "/activities/act%2F2"},
	}
	for i, w := range wantLines {
		if reqs[i].Method != w.method || reqs[i].RawPath != w.path {
			t.Errorf("request %d = %s %s, want %s %s", i, reqs[i].Method, reqs[i].RawPath, w.method, w.path)
		}
		if reqs[i].Auth != "Bearer bot-token" {
			t.Errorf("request %d Authorization = %q", i, reqs[i].Auth)
		}
		for _, k := range []string{"timestamp", "localTimestamp", "expiration", "from", "recipient", "relatesTo", "suggestedActions", "semanticAction"} {
			if _, ok := reqs[i].Body[k]; ok {
				t.Errorf("request %d body carries empty %q: %v", i, k, reqs[i].Body[k])
			}
		}
	}
	wantSend := map[string]any{"type": "message", "text": "hello", "conversation": map[string]any{"id": teamsConvID}}
	if !reflect.DeepEqual(reqs[0].Body, wantSend) {
		t.Errorf("send body = %v\nwant %v", reqs[0].Body, wantSend)
	}
	if reqs[1].Body["replyToId"] != "act-1" {
		t.Errorf("reply body replyToId = %v", reqs[1].Body["replyToId"])
	}
	if reqs[2].Body["id"] != "act/2" {
		t.Errorf("update body id = %v", reqs[2].Body["id"])
	}
	// The card content is sent verbatim, including its empty data object.
	att := reqs[2].Body["attachments"].([]any)[0].(map[string]any)
	action := att["content"].(map[string]any)["actions"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(action["data"], map[string]any{}) {
		t.Errorf("card action data = %v, want {}", action["data"])
	}
}

func TestClientCreateConversationAndGetMember(t *testing.T) {
	fc := newFakeConnector(t,
		fakeAnswer{status: 201, body: `{"id":"a:1new","activityId":"","serviceUrl":"https://smba.trafficmanager.net/amer/"}`},
		fakeAnswer{status: 200, body: `{"id":"29:rita","name":"Rita Requester","aadObjectId":"aaaaaaaa-0000-0000-0000-000000000001","email":"rita@contoso.example","userPrincipalName":"rita@contoso.example","tenantId":"11111111-1111-1111-1111-111111111111","userRole":"user","givenName":"Rita","surname":"Requester"}`},
	)
	c, _ := newTestClient(nil, nil)
	ctx := context.Background()
	res, err := c.CreateConversation(ctx, fc.srv.URL, schema.ConversationParameters{
		Bot:         schema.ChannelAccount{ID: "28:b0770000-0000-4000-8000-000000000001"},
		Members:     []schema.ChannelAccount{{ID: "aaaaaaaa-0000-0000-0000-000000000001"}},
		TenantID:    "11111111-1111-1111-1111-111111111111",
		ChannelData: map[string]any{"tenant": map[string]any{"id": "11111111-1111-1111-1111-111111111111"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res != (ConversationResource{ID: "a:1new", ServiceURL: "https://smba.trafficmanager.net/amer/"}) {
		t.Errorf("resource = %+v", res)
	}
	m, err := c.GetMember(ctx, fc.srv.URL, "a:1new", "29:rita")
	if err != nil {
		t.Fatal(err)
	}
	want := Member{ID: "29:rita", Name: "Rita Requester", AadObjectID: "aaaaaaaa-0000-0000-0000-000000000001", Email: "rita@contoso.example",
		UserPrincipalName: "rita@contoso.example", TenantID: "11111111-1111-1111-1111-111111111111", UserRole: "user", GivenName: "Rita", Surname: "Requester"}
	if m != want {
		t.Errorf("member = %+v", m)
	}

	reqs := fc.got()
	if reqs[0].Method != "POST" || reqs[0].RawPath != "/v3/conversations" || reqs[0].Auth != "" {
		t.Errorf("create = %s %s auth %q", reqs[0].Method, reqs[0].RawPath, reqs[0].Auth)
	}
	wantBody := map[string]any{
		"bot":         map[string]any{"id": "28:b0770000-0000-4000-8000-000000000001"},
		"members":     []any{map[string]any{"id": "aaaaaaaa-0000-0000-0000-000000000001"}},
		"tenantId":    "11111111-1111-1111-1111-111111111111",
		"channelData": map[string]any{"tenant": map[string]any{"id": "11111111-1111-1111-1111-111111111111"}},
	}
	if !reflect.DeepEqual(reqs[0].Body, wantBody) {
		t.Errorf("create body = %v\nwant %v", reqs[0].Body, wantBody)
	}
	if reqs[1].Method != "GET" || reqs[1].RawPath != "/v3/conversations/a:1new/members/29:rita" {
		t.Errorf("get member = %s %s", reqs[1].Method, reqs[1].RawPath)
	}
}

func TestClientCreateConversationWithActivity(t *testing.T) {
	fc := newFakeConnector(t, fakeAnswer{status: 201, body: `{"id":"a:2","activityId":"m1"}`})
	c, _ := newTestClient(nil, nil)
	res, err := c.CreateConversation(context.Background(), fc.srv.URL, schema.ConversationParameters{
		Members:  []schema.ChannelAccount{{ID: "29:x"}},
		Activity: schema.Activity{Text: "hi"},
	})
	if err != nil || res.ID != "a:2" || res.ActivityID != "m1" {
		t.Fatalf("res = %+v, %v", res, err)
	}
	body := fc.got()[0].Body
	if _, ok := body["bot"]; ok {
		t.Errorf("empty bot sent: %v", body)
	}
	if !reflect.DeepEqual(body["activity"], map[string]any{"type": "message", "text": "hi"}) {
		t.Errorf("activity = %v", body["activity"])
	}
	if _, err := c.CreateConversation(context.Background(), fc.srv.URL, schema.ConversationParameters{}); err == nil || !strings.Contains(err.Error(), "Members is empty") {
		t.Errorf("no members: err = %v", err)
	}
}

func TestClientRetries(t *testing.T) {
	clock := testkit.NewClock()
	httpDate := clock.Now().Add(12 * time.Second).UTC().Format(http.TimeFormat)
	ok := fakeAnswer{status: 201, body: `{"id":"new-id"}`}
	throttled := func(retryAfter string) fakeAnswer {
		h := map[string]string{}
		if retryAfter != "" {
			h["Retry-After"] = retryAfter
		}
		return fakeAnswer{status: 429, header: h, body: `{"error":{"code":"TooManyRequests","message":"slow down"}}`}
	}
	cases := []struct {
		name       string
		answers    []fakeAnswer
		wantID     string
		wantStatus int // APIError status; 0 = success
		wantCalls  int
		wantSleeps []time.Duration // exact; nil with checkBackoff
		backoff    bool
		// wantRetryAfter is the APIError's RetryAfter for a 429 (default 1s).
		wantRetryAfter time.Duration
	}{
		{name: "429 with Retry-After seconds", answers: []fakeAnswer{throttled("7"), throttled("2"), ok}, wantID: "new-id", wantCalls: 3, wantSleeps: []time.Duration{7 * time.Second, 2 * time.Second}},
		{name: "429 with Retry-After HTTP date", answers: []fakeAnswer{throttled(httpDate), ok}, wantID: "new-id", wantCalls: 2, wantSleeps: []time.Duration{12 * time.Second}},
		{name: "Retry-After beyond 30s is not retried early", answers: []fakeAnswer{throttled("600"), ok}, wantStatus: 429, wantCalls: 1, wantRetryAfter: 10 * time.Minute},
		{name: "Retry-After of exactly 30s is waited", answers: []fakeAnswer{throttled("30"), ok}, wantID: "new-id", wantCalls: 2, wantSleeps: []time.Duration{30 * time.Second}},
		{name: "503 without Retry-After backs off exponentially", answers: []fakeAnswer{{status: 503}, {status: 502}, {status: 504}, ok}, wantID: "new-id", wantCalls: 4, backoff: true},
		{name: "persistent 429 gives up after MaxRetries", answers: []fakeAnswer{throttled("1")}, wantStatus: 429, wantCalls: 4, wantSleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "400 is not retried", answers: []fakeAnswer{{status: 400, body: `{"error":{"code":"BadArgument","message":"Unknown activity type"}}`}}, wantStatus: 400, wantCalls: 1},
		{name: "403 is not retried", answers: []fakeAnswer{{status: 403, body: `{"error":{"code":"BotNotInConversationRoster","message":"The bot is not part of the conversation roster."}}`}}, wantStatus: 403, wantCalls: 1},
		{name: "500 is not retried", answers: []fakeAnswer{{status: 500}}, wantStatus: 500, wantCalls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeConnector(t, tc.answers...)
			c, sleeps := newTestClient(staticTokens{tok: "t"}, clock)
			id, err := c.Send(context.Background(), fc.srv.URL, "a:1", &schema.Activity{Text: "x"})
			if got := len(fc.got()); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if tc.wantStatus == 0 {
				if err != nil || id != tc.wantID {
					t.Fatalf("Send = %q, %v", id, err)
				}
			} else {
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Status != tc.wantStatus {
					t.Fatalf("err = %v, want *APIError %d", err, tc.wantStatus)
				}
				if tc.wantStatus == 400 && (apiErr.Code != "BadArgument" || apiErr.Message != "Unknown activity type") {
					t.Errorf("APIError = %+v", apiErr)
				}
				if want := cmp.Or(tc.wantRetryAfter, time.Second); tc.wantStatus == 429 && apiErr.RetryAfter != want {
					t.Errorf("RetryAfter = %v, want %v", apiErr.RetryAfter, want)
				}
			}
			if tc.backoff {
				if len(*sleeps) != 3 {
					t.Fatalf("sleeps = %v", *sleeps)
				}
				for i, d := range *sleeps {
					lo := baseBackoff << i
					if d < lo || d > lo+lo/2 {
						t.Errorf("backoff %d = %v, want in [%v, %v]", i, d, lo, lo+lo/2)
					}
				}
			} else if !reflect.DeepEqual(*sleeps, tc.wantSleeps) && (len(*sleeps) != 0 || len(tc.wantSleeps) != 0) {
				t.Errorf("sleeps = %v, want %v", *sleeps, tc.wantSleeps)
			}
		})
	}
}

func TestClientRetryRespectsContext(t *testing.T) {
	fc := newFakeConnector(t, fakeAnswer{status: 429, header: map[string]string{"Retry-After": "5"}})
	c := NewClient(ClientConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(sctx context.Context, d time.Duration) error {
		cancel() // the caller gives up while we wait
		return sleepCtx(sctx, d)
	}
	_, err := c.Send(ctx, fc.srv.URL, "a:1", &schema.Activity{Text: "x"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := len(fc.got()); got != 1 {
		t.Errorf("calls = %d, want 1", got)
	}
}

func TestClientDoesNotWaitPastDeadline(t *testing.T) {
	fc := newFakeConnector(t, fakeAnswer{status: 429, header: map[string]string{"Retry-After": "20"}})
	c, sleeps := newTestClient(nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if _, err := c.Send(ctx, fc.srv.URL, "a:1", &schema.Activity{Text: "x"}); err == nil {
		t.Fatal("want an error")
	}
	if len(*sleeps) != DefaultMaxRetries {
		t.Fatalf("with a long deadline: sleeps = %v", *sleeps)
	}
	short, cancelShort := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShort()
	_, err := c.Send(short, fc.srv.URL, "a:1", &schema.Activity{Text: "x"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 || apiErr.RetryAfter != 20*time.Second {
		t.Fatalf("err = %v, want the 429 APIError with RetryAfter 20s", err)
	}
	if len(*sleeps) != DefaultMaxRetries {
		t.Errorf("slept although the deadline is shorter than Retry-After: %v", *sleeps)
	}
}

func TestClientRefusesBadInput(t *testing.T) {
	fc := newFakeConnector(t, fakeAnswer{status: 201, body: `{"id":"x"}`})
	ctx := context.Background()
	prod, _ := newTestClient(staticTokens{tok: "t"}, nil)
	dev := NewClient(ClientConfig{CheckServiceURL: CheckLoopbackServiceURL})
	failingTokens, _ := newTestClient(staticTokens{err: errors.New("token endpoint down")}, nil)
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{name: "plain http to a remote host", call: func() error {
			_, err := prod.Send(ctx, "http://smba.example/", "a:1", &schema.Activity{})
			return err
		}, want: "plain http"},
		{name: "dev client refuses non-loopback", call: func() error {
			_, err := dev.Send(ctx, "https://smba.trafficmanager.net/amer/", "a:1", &schema.Activity{})
			return err
		}, want: "not loopback"},
		{name: "serviceUrl with a query", call: func() error {
			_, err := prod.Send(ctx, fc.srv.URL+"/?x=1", "a:1", &schema.Activity{})
			return err
		}, want: "query or fragment"},
		{name: "empty conversation id", call: func() error {
			_, err := prod.Send(ctx, fc.srv.URL, "", &schema.Activity{})
			return err
		}, want: "conversationID is empty"},
		{name: "empty reply-to id", call: func() error {
			_, err := prod.Reply(ctx, fc.srv.URL, "a:1", " ", &schema.Activity{})
			return err
		}, want: "replyToID is empty"},
		{name: "empty activity id", call: func() error { return prod.Update(ctx, fc.srv.URL, "a:1", "", &schema.Activity{}) }, want: "activityID is empty"},
		{name: "nil activity", call: func() error {
			_, err := prod.Send(ctx, fc.srv.URL, "a:1", nil)
			return err
		}, want: "activity is nil"},
		{name: "empty member id", call: func() error {
			_, err := prod.GetMember(ctx, fc.srv.URL, "a:1", "")
			return err
		}, want: "memberID is empty"},
		{name: "token failure is not retried", call: func() error {
			_, err := failingTokens.GetMember(ctx, fc.srv.URL, "a:1", "29:x")
			return err
		}, want: "token endpoint down"},
	}
	for _, tc := range cases {
		if err := tc.call(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	if got := len(fc.got()); got != 0 {
		t.Errorf("%d requests reached the connector", got)
	}
	// The dev client sends to loopback without an Authorization header.
	if _, err := dev.Send(ctx, fc.srv.URL, "a:1", &schema.Activity{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if r := fc.got(); len(r) != 1 || r[0].Auth != "" {
		t.Errorf("dev send: %+v", r)
	}
}

func TestClientRetriesDialErrors(t *testing.T) {
	// A closed server: connection refused is retried (the request cannot have been delivered).
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, sleeps := newTestClient(nil, nil)
	_, err := c.Send(context.Background(), url, "a:1", &schema.Activity{Text: "x"})
	if err == nil {
		t.Fatal("want an error")
	}
	if len(*sleeps) != DefaultMaxRetries {
		t.Errorf("retries = %d, want %d", len(*sleeps), DefaultMaxRetries)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v,%v want %v,%v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

// BenchmarkOutbound measures encoding one card reply for the Connector (done once per outgoing activity).
func BenchmarkOutbound(b *testing.B) {
	act := cardActivity()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := outbound(act, teamsConvID, "act-1", ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCleanActivityKeepsContent(t *testing.T) {
	act := &schema.Activity{
		Type:        "message",
		Timestamp:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		From:        schema.ChannelAccount{ID: "28:bot"},
		ChannelData: map[string]any{"notification": map[string]any{"alert": true}, "empty": map[string]any{}},
		Value:       map[string]any{"k": map[string]any{}},
		RelatesTo:   schema.ConversationReference{ActivityID: "r1"},
	}
	b, err := outbound(act, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	want := map[string]any{
		"type":        "message",
		"timestamp":   "2026-01-02T03:04:05Z",
		"from":        map[string]any{"id": "28:bot"},
		"channelData": map[string]any{"notification": map[string]any{"alert": true}, "empty": map[string]any{}},
		"value":       map[string]any{"k": map[string]any{}},
		"relatesTo":   map[string]any{"activityId": "r1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("clean = %v\nwant %v", got, want)
	}
}

// TestAPIErrorTellsTheOutboxWhenToRetry: a throttled send inside an outbox handler's error makes the
// outbox wait the Connector's Retry-After (store.RetryDelayer).
func TestAPIErrorTellsTheOutboxWhenToRetry(t *testing.T) {
	var _ store.RetryDelayer = (*APIError)(nil)
	fc := newFakeConnector(t, fakeAnswer{status: 429, header: map[string]string{"Retry-After": "300"}})
	c, _ := newTestClient(nil, nil)
	_, err := c.Send(context.Background(), fc.srv.URL, "a:1", &schema.Activity{Text: "x"})
	err = fmt.Errorf("outbox item 7 (notify): %w", err)
	var rd store.RetryDelayer
	if !errors.As(err, &rd) || rd.RetryDelay() != 5*time.Minute {
		t.Fatalf("RetryDelayer not found in %v (got %v)", err, rd)
	}
}
