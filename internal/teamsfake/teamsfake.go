// Package teamsfake is an in-process stand-in for Microsoft Teams in tests: a Bot Framework Connector that
// records what the bot sends (send, reply, update, create conversation, members), and a client that posts
// Teams-shaped activities to the bot as a given user, the way the Agents Playground does.
package teamsfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Activity is an activity as the connector received it (raw JSON kept for assertions).
type Activity struct {
	// Op is "send", "reply" or "update".
	Op             string
	ConversationID string
	// ID is the activity id: assigned by the connector for send/reply, the target id for update.
	ID   string
	Auth string
	Body map[string]any
}

// Text returns the activity's text.
func (a Activity) Text() string { s, _ := a.Body["text"].(string); return s }

// Card returns the first Adaptive Card attachment's content, or nil.
func (a Activity) Card() map[string]any {
	atts, _ := a.Body["attachments"].([]any)
	for _, x := range atts {
		att, _ := x.(map[string]any)
		if att["contentType"] == "application/vnd.microsoft.card.adaptive" {
			c, _ := att["content"].(map[string]any)
			return c
		}
	}
	return nil
}

// CardText returns every "text" value in the first card, joined by newlines, for content assertions.
func (a Activity) CardText() string {
	var b strings.Builder
	collectText(a.Card(), &b)
	return b.String()
}

func collectText(v any, b *strings.Builder) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "text" || k == "title" || k == "value") {
				b.WriteString(s)
				b.WriteByte('\n')
				continue
			}
			collectText(val, b)
		}
	case []any:
		for _, e := range x {
			collectText(e, b)
		}
	}
}

// Member is a conversation member the fake knows (for GET members and create conversation).
type Member struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	AADObjectID string `json:"aadObjectId"`
	TenantID    string `json:"tenantId"`
	Email       string `json:"email,omitempty"`
	UPN         string `json:"userPrincipalName,omitempty"`
}

// Connector is a fake Bot Framework Connector served by httptest.
type Connector struct {
	Server *httptest.Server

	mu         sync.Mutex
	activities []Activity
	created    []map[string]any
	members    map[string]Member // by aadObjectId and by id
	nextID     int
	changed    chan struct{}
	// FailNext makes the next N requests answer with this status (e.g. 429) before succeeding.
	failStatus int
	failCount  int
	// limits, when set by EnforceTeamsLimits, answer 429 to calls over Teams' documented bot rate limits.
	limits    *rateLimits
	throttled int
}

// NewConnector starts a fake connector; it is closed when the test ends.
func NewConnector(t testing.TB) *Connector {
	c := &Connector{members: map[string]Member{}, changed: make(chan struct{})}
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Server.Close)
	return c
}

// URL is the serviceUrl to put in activities.
func (c *Connector) URL() string { return c.Server.URL }

// AddMember registers a user the connector can create 1:1 conversations with.
func (c *Connector) AddMember(m Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members[m.AADObjectID] = m
	c.members[m.ID] = m
}

// FailNext makes the next n calls answer status (with Retry-After: 0 for 429).
func (c *Connector) FailNext(n, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failCount, c.failStatus = n, status
}

// EnforceTeamsLimits makes the connector answer 429 (Retry-After: 1) to any call over Teams' documented bot
// rate limits: 30 operations per second for the app in the tenant (every call counts), and per conversation
// 7 in 1 s, 8 in 2 s and 60 in 30 s ("Optimize your bot with rate limiting in Teams").
func (c *Connector) EnforceTeamsLimits() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.limits = &rateLimits{convs: map[string][]time.Time{}}
}

// Throttled is how many calls were answered 429 by EnforceTeamsLimits.
func (c *Connector) Throttled() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttled
}

// rateLimits keeps the start times of recent calls (a sliding window per limit).
type rateLimits struct {
	all   []time.Time
	convs map[string][]time.Time
}

// window is "at most max calls in any period".
type window struct {
	period time.Duration
	max    int
}

var (
	tenantWindows = []window{{time.Second, 30}}
	convWindows   = []window{{time.Second, 7}, {2 * time.Second, 8}, {30 * time.Second, 60}}
)

// allow records a call to path at now if it stays within every limit.
func (l *rateLimits) allow(path string, now time.Time) bool {
	conv := ""
	if parts := strings.Split(strings.Trim(path, "/"), "/"); len(parts) >= 3 {
		conv = parts[2]
	}
	if !within(l.all, tenantWindows, now) || (conv != "" && !within(l.convs[conv], convWindows, now)) {
		return false
	}
	l.all = keepRecent(append(l.all, now), now, time.Second)
	if conv != "" {
		l.convs[conv] = keepRecent(append(l.convs[conv], now), now, 30*time.Second)
	}
	return true
}

func within(times []time.Time, ws []window, now time.Time) bool {
	for _, w := range ws {
		n := 0
		for _, t := range times {
			if now.Sub(t) < w.period {
				n++
			}
		}
		if n >= w.max {
			return false
		}
	}
	return true
}

func keepRecent(times []time.Time, now time.Time, period time.Duration) []time.Time {
	i := 0
	for i < len(times) && now.Sub(times[i]) >= period {
		i++
	}
	return times[i:]
}

// Activities returns a copy of everything received so far.
func (c *Connector) Activities() []Activity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Activity(nil), c.activities...)
}

// Conversations returns the bodies of POST /v3/conversations received so far.
func (c *Connector) Conversations() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.created...)
}

// WaitFor polls until pred holds for some received activity (after index from) or the deadline passes.
func (c *Connector) WaitFor(t testing.TB, from int, timeout time.Duration, what string, pred func(Activity) bool) Activity {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		acts := append([]Activity(nil), c.activities...)
		ch := c.changed
		c.mu.Unlock()
		for i := from; i < len(acts); i++ {
			if pred(acts[i]) {
				return acts[i]
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			var got []string
			for _, a := range acts[min(from, len(acts)):] {
				got = append(got, fmt.Sprintf("%s %s %q %.200q", a.Op, a.ConversationID, a.Text(), a.CardText()))
			}
			t.Fatalf("timed out waiting for %s; received since #%d:\n%s", what, from, strings.Join(got, "\n"))
		}
		select {
		case <-ch:
		case <-time.After(left):
		}
	}
}

// Len is the number of activities received so far (use it as `from` for WaitFor).
func (c *Connector) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.activities)
}

func (c *Connector) record(a Activity) {
	c.mu.Lock()
	c.activities = append(c.activities, a)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *Connector) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if c.limits != nil && !c.limits.allow(r.URL.Path, time.Now()) {
		c.throttled++
		c.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":{"code":"Throttled","message":"rate limit exceeded"}}`, http.StatusTooManyRequests)
		return
	}
	if c.failCount > 0 {
		c.failCount--
		st := c.failStatus
		c.mu.Unlock()
		if st == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		http.Error(w, `{"error":{"code":"Throttled","message":"slow down"}}`, st)
		return
	}
	c.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, `{"error":{"code":"BadArgument","message":"invalid JSON"}}`, http.StatusBadRequest)
			return
		}
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// v3/conversations[/{id}/activities[/{activityId}] | /{id}/members/{memberId}]
	if len(parts) < 2 || parts[0] != "v3" || parts[1] != "conversations" {
		http.NotFound(w, r)
		return
	}
	auth := r.Header.Get("Authorization")
	switch {
	case len(parts) == 2 && r.Method == http.MethodPost:
		c.mu.Lock()
		c.created = append(c.created, m)
		c.nextID++
		id := fmt.Sprintf("a:conv-%d", c.nextID)
		c.mu.Unlock()
		writeJSON(w, http.StatusCreated, map[string]string{"id": id, "activityId": ""})
	case (len(parts) == 4 || len(parts) == 5) && parts[3] == "activities" && r.Method == http.MethodPost:
		op := "send" // POST …/activities; POST …/activities/{activityId} replies to that activity
		if len(parts) == 5 {
			op = "reply"
		}
		id := c.newActivityID()
		c.record(Activity{Op: op, ConversationID: parts[2], ID: id, Auth: auth, Body: m})
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	case len(parts) == 5 && parts[3] == "activities" && r.Method == http.MethodPut:
		c.record(Activity{Op: "update", ConversationID: parts[2], ID: parts[4], Auth: auth, Body: m})
		writeJSON(w, http.StatusOK, map[string]string{"id": parts[4]})
	case len(parts) == 5 && parts[3] == "members" && r.Method == http.MethodGet:
		c.mu.Lock()
		mem, ok := c.members[parts[4]]
		c.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":{"code":"MemberNotFoundInConversation","message":"not found"}}`, http.StatusNotFound)
			return
		}
		writeJSON(w, http.StatusOK, mem)
	default:
		http.Error(w, `{"error":{"code":"NotImplemented","message":"not supported by the fake"}}`, http.StatusNotImplemented)
	}
}

func (c *Connector) newActivityID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	return fmt.Sprintf("act-%d", c.nextID)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// User is a Teams user the Client acts as.
type User struct {
	ID             string // 29:…
	Name           string
	AADObjectID    string
	TenantID       string
	ConversationID string // their 1:1 chat with the bot
}

// Client posts activities to the bot endpoint, as the Playground does (optionally with an Authorization header).
type Client struct {
	Endpoint   string
	ServiceURL string
	BotID      string
	BotName    string
	// Authorize, when set, returns the Authorization header value for an activity.
	Authorize func(act map[string]any) string
	HTTP      *http.Client

	mu  sync.Mutex
	seq int
}

// Response is the bot's HTTP answer.
type Response struct {
	Status int
	Body   map[string]any
}

// Message sends a personal-chat text message from u.
func (cl *Client) Message(ctx context.Context, u User, text string) (Response, error) {
	act := cl.base(u, "message")
	act["text"] = text
	act["textFormat"] = "plain"
	return cl.Post(ctx, act)
}

// Submit sends an Action.Submit (a message with value) from u.
func (cl *Client) Submit(ctx context.Context, u User, replyToID string, value map[string]any) (Response, error) {
	act := cl.base(u, "message")
	act["replyToId"] = replyToID
	act["value"] = value
	return cl.Post(ctx, act)
}

// Execute sends an Action.Execute invoke (adaptiveCard/action) from u with the card's inputs merged into data.
func (cl *Client) Execute(ctx context.Context, u User, replyToID, verb string, data map[string]any) (Response, error) {
	act := cl.base(u, "invoke")
	act["name"] = "adaptiveCard/action"
	act["replyToId"] = replyToID
	act["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	return cl.Post(ctx, act)
}

// InstallationUpdate sends the "app added" event the Playground sends when a chat opens.
func (cl *Client) InstallationUpdate(ctx context.Context, u User) (Response, error) {
	act := cl.base(u, "installationUpdate")
	act["action"] = "add"
	return cl.Post(ctx, act)
}

// NextID returns a fresh activity id.
func (cl *Client) NextID() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.seq++
	return fmt.Sprintf("in-%d-%d", time.Now().UnixNano(), cl.seq)
}

func (cl *Client) base(u User, typ string) map[string]any {
	return map[string]any{
		"type":         typ,
		"id":           cl.NextID(),
		"channelId":    "msteams",
		"serviceUrl":   cl.ServiceURL,
		"timestamp":    time.Now().UTC().Format(time.RFC3339Nano),
		"from":         map[string]any{"id": u.ID, "name": u.Name, "aadObjectId": u.AADObjectID},
		"recipient":    map[string]any{"id": cl.BotID, "name": cl.BotName},
		"conversation": map[string]any{"conversationType": "personal", "tenantId": u.TenantID, "id": u.ConversationID},
		"channelData":  map[string]any{"tenant": map[string]any{"id": u.TenantID}},
		"locale":       "en-US",
	}
}

// Post sends a raw activity to the bot.
func (cl *Client) Post(ctx context.Context, act map[string]any) (Response, error) {
	raw, err := json.Marshal(act)
	if err != nil {
		return Response{}, fmt.Errorf("encode activity: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.Endpoint, bytes.NewReader(raw))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if cl.Authorize != nil {
		req.Header.Set("Authorization", cl.Authorize(act))
	}
	hc := cl.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("post activity: %w", err)
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode}
	body, _ := io.ReadAll(resp.Body)
	if len(bytes.TrimSpace(body)) > 0 {
		_ = json.Unmarshal(body, &out.Body)
	}
	return out, nil
}
