package botframework

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

const (
	// DefaultClientTimeout bounds one Connector request attempt.
	DefaultClientTimeout = 15 * time.Second
	// DefaultMaxRetries is how many times a throttled or unavailable request is retried.
	DefaultMaxRetries = 3
	// maxRetryWait is the longest single wait between attempts. A server's Retry-After longer than this
	// ends the call with an *APIError carrying RetryAfter instead of being cut short.
	maxRetryWait = 30 * time.Second
	// baseBackoff is the first exponential backoff step.
	baseBackoff = 500 * time.Millisecond
	// maxConnectorBody bounds a Connector response body.
	maxConnectorBody = 1 << 20
)

// ClientConfig configures a Connector Client.
type ClientConfig struct {
	// Tokens supplies bearer tokens. Nil sends no Authorization header (only for --insecure-dev).
	Tokens TokenSource
	// HTTPClient defaults to a new http.Client.
	HTTPClient *http.Client
	// Timeout bounds each attempt; default DefaultClientTimeout.
	Timeout time.Duration
	// MaxRetries bounds retries of 429/502/503/504; default DefaultMaxRetries. Negative means none.
	MaxRetries int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// CheckServiceURL vets every serviceUrl before a request; default CheckServiceURL (https, or http on
	// loopback). The insecure dev mode passes CheckLoopbackServiceURL.
	CheckServiceURL func(string) error
	// Rate paces every Connector operation (attempts included) to at most this many per second, evenly
	// spaced, first come first served; a 429 with Retry-After holds all operations until then. Use
	// TeamsTenantRate; 0 means unpaced.
	Rate float64
}

// Client calls the Bot Connector REST API (v3).
type Client struct {
	tokens     TokenSource
	http       *http.Client
	timeout    time.Duration
	maxRetries int
	logger     *slog.Logger
	checkURL   func(string) error

	// sleep waits between attempts; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// now parses HTTP-date Retry-After values; tests replace it.
	now func() time.Time
	// pace spaces operations under the tenant's rate limit; nil when unpaced.
	pace *pacer
}

// NewClient returns a Connector client for cfg.
func NewClient(cfg ClientConfig) *Client {
	c := &Client{
		tokens:     cfg.Tokens,
		http:       cfg.HTTPClient,
		timeout:    cfg.Timeout,
		maxRetries: cfg.MaxRetries,
		logger:     cfg.Logger,
		checkURL:   cfg.CheckServiceURL,
		sleep:      sleepCtx,
		now:        time.Now,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultClientTimeout
	}
	if c.maxRetries == 0 {
		c.maxRetries = DefaultMaxRetries
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	c.logger = c.logger.With(slog.String("component", "botframework.connector"))
	if c.checkURL == nil {
		c.checkURL = CheckServiceURL
	}
	c.pace = newPacer(cfg.Rate, func() time.Time { return c.now() }, func(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) })
	return c
}

// APIError is a non-success answer from the Connector.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code comes from the {"error":{"code","message"}} body when present.
	Code string
	// Message comes from the same body, shortened.
	Message string
	// RetryAfter is the server's Retry-After, if it sent one (useful to schedule an outbox retry).
	RetryAfter time.Duration
}

// Error implements error.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("connector: status %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// RetryDelay is RetryAfter; it lets the outbox (store.RetryDelayer) wait as long as the Connector asked.
func (e *APIError) RetryDelay() time.Duration { return e.RetryAfter }

// ConversationResource is the answer to CreateConversation.
type ConversationResource struct {
	// ID is the new (or existing) conversation's id.
	ID string `json:"id"`
	// ActivityID is the id of the initial activity, when one was sent.
	ActivityID string `json:"activityId,omitempty"`
	// ServiceURL is the serviceUrl to use for the conversation, when the connector returns one.
	ServiceURL string `json:"serviceUrl,omitempty"`
}

// Member is a conversation member as Teams returns it (TeamsChannelAccount).
type Member struct {
	// ID is the channel id (29:…).
	ID string `json:"id"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// AadObjectID is the Entra object id.
	AadObjectID string `json:"aadObjectId,omitempty"`
	// Email is the member's email address.
	Email string `json:"email,omitempty"`
	// UserPrincipalName is the member's UPN.
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// TenantID is the member's tenant.
	TenantID string `json:"tenantId,omitempty"`
	// UserRole is user, guest or anonymous.
	UserRole string `json:"userRole,omitempty"`
	// GivenName is the first name.
	GivenName string `json:"givenName,omitempty"`
	// Surname is the last name.
	Surname string `json:"surname,omitempty"`
}

type resourceResponse struct {
	ID string `json:"id"`
}

// Send posts act to a conversation and returns the new activity's id. An empty Type becomes "message"
// and an empty conversation.id is filled in.
func (c *Client) Send(ctx context.Context, serviceURL, conversationID string, act *schema.Activity) (string, error) {
	if err := requireIDs("send", map[string]string{"conversationID": conversationID}); err != nil {
		return "", err
	}
	body, err := outbound(act, conversationID, "", "")
	if err != nil {
		return "", fmt.Errorf("send to %s: %w", conversationID, err)
	}
	var rr resourceResponse
	if err := c.do(ctx, http.MethodPost, serviceURL, []string{"v3", "conversations", conversationID, "activities"}, body, &rr); err != nil {
		return "", fmt.Errorf("send to %s: %w", conversationID, err)
	}
	c.warnEmptyID("send", rr.ID)
	return rr.ID, nil
}

// Reply posts act as a reply to replyToID and returns the new activity's id.
func (c *Client) Reply(ctx context.Context, serviceURL, conversationID, replyToID string, act *schema.Activity) (string, error) {
	if err := requireIDs("reply", map[string]string{"conversationID": conversationID, "replyToID": replyToID}); err != nil {
		return "", err
	}
	body, err := outbound(act, conversationID, replyToID, "")
	if err != nil {
		return "", fmt.Errorf("reply in %s: %w", conversationID, err)
	}
	var rr resourceResponse
	if err := c.do(ctx, http.MethodPost, serviceURL, []string{"v3", "conversations", conversationID, "activities", replyToID}, body, &rr); err != nil {
		return "", fmt.Errorf("reply in %s to %s: %w", conversationID, replyToID, err)
	}
	c.warnEmptyID("reply", rr.ID)
	return rr.ID, nil
}

// Update replaces activity activityID (a card the bot sent) with act.
func (c *Client) Update(ctx context.Context, serviceURL, conversationID, activityID string, act *schema.Activity) error {
	if err := requireIDs("update", map[string]string{"conversationID": conversationID, "activityID": activityID}); err != nil {
		return err
	}
	body, err := outbound(act, conversationID, "", activityID)
	if err != nil {
		return fmt.Errorf("update %s in %s: %w", activityID, conversationID, err)
	}
	if err := c.do(ctx, http.MethodPut, serviceURL, []string{"v3", "conversations", conversationID, "activities", activityID}, body, nil); err != nil {
		return fmt.Errorf("update %s in %s: %w", activityID, conversationID, err)
	}
	return nil
}

// CreateConversation creates a conversation (a 1:1 chat for a proactive message: p.Bot, one member by
// 29: id or aadObjectId, p.TenantID and channelData.tenant.id).
func (c *Client) CreateConversation(ctx context.Context, serviceURL string, p schema.ConversationParameters) (ConversationResource, error) {
	if len(p.Members) == 0 {
		return ConversationResource{}, errors.New("create conversation: Members is empty; at least one member is required")
	}
	body, err := outboundConversationParameters(p)
	if err != nil {
		return ConversationResource{}, fmt.Errorf("create conversation: %w", err)
	}
	var res ConversationResource
	if err := c.do(ctx, http.MethodPost, serviceURL, []string{"v3", "conversations"}, body, &res); err != nil {
		return ConversationResource{}, fmt.Errorf("create conversation: %w", err)
	}
	if res.ID == "" {
		return ConversationResource{}, errors.New("create conversation: response has no conversation id")
	}
	return res, nil
}

// GetMember returns one member of a conversation (memberID is a 29: id, or an aadObjectId in Teams).
func (c *Client) GetMember(ctx context.Context, serviceURL, conversationID, memberID string) (Member, error) {
	if err := requireIDs("get member", map[string]string{"conversationID": conversationID, "memberID": memberID}); err != nil {
		return Member{}, err
	}
	var m Member
	if err := c.do(ctx, http.MethodGet, serviceURL, []string{"v3", "conversations", conversationID, "members", memberID}, nil, &m); err != nil {
		return Member{}, fmt.Errorf("get member %s of %s: %w", memberID, conversationID, err)
	}
	return m, nil
}

func requireIDs(op string, ids map[string]string) error {
	for name, v := range ids {
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("%s: %s is empty", op, name)
		}
	}
	return nil
}

func (c *Client) warnEmptyID(op, id string) {
	if id == "" {
		c.logger.Warn("connector returned no activity id", slog.String("op", op))
	}
}

// do performs one Connector call with retries. body is sent as JSON when non-nil; out receives the JSON
// answer when non-nil.
func (c *Client) do(ctx context.Context, method, serviceURL string, segments []string, body []byte, out any) error {
	if err := c.checkURL(serviceURL); err != nil {
		return err
	}
	target := strings.TrimRight(serviceURL, "/")
	for _, s := range segments {
		target += "/" + url.PathEscape(s)
	}
	for attempt := 0; ; attempt++ {
		if err := c.pace.wait(ctx); err != nil {
			return fmt.Errorf("%s %s: wait for the rate limit: %w", method, target, err)
		}
		status, respBody, header, transport, err := c.attempt(ctx, method, target, body)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s %s: %w", method, target, ctx.Err())
			}
			if !transport || !retryableTransport(err, method) || attempt >= c.maxRetries {
				return err
			}
			wait := c.backoff(attempt)
			c.logger.WarnContext(ctx, "connector request failed, retrying",
				slog.String("method", method), slog.String("url", target), slog.Int("attempt", attempt+1),
				slog.Duration("wait", wait), slog.String("error", err.Error()))
			if err := c.sleep(ctx, wait); err != nil {
				return fmt.Errorf("%s %s: %w", method, target, err)
			}
			continue
		}
		if status >= 200 && status < 300 {
			if out != nil && len(bytes.TrimSpace(respBody)) > 0 {
				if err := json.Unmarshal(respBody, out); err != nil {
					return fmt.Errorf("%s %s: decode response: %w", method, target, err)
				}
			}
			return nil
		}
		apiErr := parseAPIError(status, respBody)
		retryAfter, hasRetryAfter := parseRetryAfter(header.Get("Retry-After"), c.now())
		if hasRetryAfter {
			apiErr.RetryAfter = retryAfter
			if status == http.StatusTooManyRequests {
				c.pace.hold(retryAfter) // every operation of this app waits, not only this one
			}
		}
		if !retryableStatus(status) || attempt >= c.maxRetries {
			return apiErr
		}
		if hasRetryAfter && retryAfter > maxRetryWait {
			// Retrying before the server's Retry-After would only be throttled again: report it, with
			// RetryAfter set, so the caller (the outbox) can come back when the server asked.
			return apiErr
		}
		wait := c.backoff(attempt)
		if hasRetryAfter {
			wait = retryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// Waiting would outlive the caller: report the throttling now.
			return apiErr
		}
		c.logger.WarnContext(ctx, "connector throttled or unavailable, retrying",
			slog.String("method", method), slog.String("url", target), slog.Int("status", status),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait))
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s %s: %w (last answer: %v)", method, target, err, apiErr)
		}
	}
}

// attempt sends one request. Any HTTP answer is returned as status/body/header; transport reports
// whether err came from sending the request (as opposed to building it or obtaining a token).
func (c *Client) attempt(ctx context.Context, method, target string, body []byte) (status int, respBody []byte, header http.Header, transport bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return 0, nil, nil, false, fmt.Errorf("build request %s %s: %w", method, target, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.tokens != nil {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return 0, nil, nil, false, fmt.Errorf("%s %s: %w", method, target, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, true, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	respBody, err = io.ReadAll(io.LimitReader(resp.Body, maxConnectorBody))
	if err != nil {
		return 0, nil, nil, true, fmt.Errorf("%s %s: read response: %w", method, target, err)
	}
	return resp.StatusCode, respBody, resp.Header, false, nil
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableTransport retries a transport failure when the request cannot have reached the server (a
// dial error) or when the method is idempotent (GET, PUT); a POST that may have been delivered is not
// repeated, to avoid duplicate messages.
func retryableTransport(err error, method string) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	return method == http.MethodGet || method == http.MethodPut
}

// backoff is the exponential wait before retry attempt+1, with jitter, capped at maxRetryWait.
func (c *Client) backoff(attempt int) time.Duration {
	d := baseBackoff << min(attempt, 6)
	d += rand.N(d/2 + 1)
	return min(d, maxRetryWait)
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryWait/time.Second)*100 {
			secs = int64(maxRetryWait/time.Second) * 100
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

type connectorErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Message string `json:"message"`
}

func parseAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var eb connectorErrorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Code = truncate(eb.Error.Code, 64)
		msg := eb.Error.Message
		if msg == "" {
			msg = eb.Message
		}
		e.Message = truncate(msg, 300)
	}
	return e
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("botframework: marshal %T: %v", v, err))
	}
	return b
}

// outbound encodes act for the Connector in one pass: zero timestamps and empty objects left out, type
// defaulted to "message", conversation.id filled in, then replyToId / id set when given.
func outbound(act *schema.Activity, conversationID, replyToID, activityID string) ([]byte, error) {
	if act == nil {
		return nil, errors.New("activity is nil")
	}
	w, err := newWireActivity(act, conversationID)
	if err != nil {
		return nil, err
	}
	if replyToID != "" {
		w.ReplyToID = replyToID
	}
	if activityID != "" {
		w.ID = activityID
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode activity: %w", err)
	}
	return b, nil
}

// wireActivity is an outbound activity as the Connector gets it. It embeds the activity and shadows the
// fields schema.Activity would write for unset values (zero timestamps, empty nested objects), so the
// activity, its cards included, is encoded once (attachments, value and channelData are written verbatim).
type wireActivity struct {
	*schema.Activity
	Type             schema.ActivityTypes `json:"type"`
	ID               string               `json:"id,omitempty"`
	ReplyToID        string               `json:"replyToId,omitempty"`
	Timestamp        time.Time            `json:"timestamp,omitzero"`
	LocalTimestamp   time.Time            `json:"localTimestamp,omitzero"`
	Expiration       time.Time            `json:"expiration,omitzero"`
	From             json.RawMessage      `json:"from,omitempty"`
	Recipient        json.RawMessage      `json:"recipient,omitempty"`
	Conversation     json.RawMessage      `json:"conversation,omitempty"`
	RelatesTo        json.RawMessage      `json:"relatesTo,omitempty"`
	SuggestedActions json.RawMessage      `json:"suggestedActions,omitempty"`
	SemanticAction   json.RawMessage      `json:"semanticAction,omitempty"`
}

// newWireActivity prepares act for encoding; a zero conversation becomes {"id": conversationID} when
// conversationID is not empty.
func newWireActivity(act *schema.Activity, conversationID string) (*wireActivity, error) {
	w := &wireActivity{Activity: act, Type: act.Type, ID: act.ID, ReplyToID: act.ReplyToID,
		Timestamp: act.Timestamp, LocalTimestamp: act.LocalTimestamp, Expiration: act.Expiration}
	if w.Type == "" {
		w.Type = TypeMessage
	}
	var err error
	for _, f := range []struct {
		name string
		dst  *json.RawMessage
		v    any
	}{
		{"from", &w.From, act.From}, {"recipient", &w.Recipient, act.Recipient}, {"conversation", &w.Conversation, act.Conversation},
		{"relatesTo", &w.RelatesTo, act.RelatesTo}, {"suggestedActions", &w.SuggestedActions, act.SuggestedActions},
		{"semanticAction", &w.SemanticAction, act.SemanticAction},
	} {
		if *f.dst, err = nested(f.v); err != nil {
			return nil, fmt.Errorf("clean %s: %w", f.name, err)
		}
	}
	if w.Conversation == nil && conversationID != "" {
		w.Conversation = mustJSON(map[string]string{"id": conversationID})
	}
	return w, nil
}

// nested encodes a small nested object without its empty parts; nil when nothing is left. The zero value
// (the common case: the bot sets none of these on a reply) costs no encoding at all.
func nested(v any) (json.RawMessage, error) {
	if reflect.ValueOf(v).IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	pruned, empty, err := pruneEmpty(b)
	if err != nil || empty {
		return nil, err
	}
	return pruned, nil
}

// pruneEmpty removes empty objects (recursively) from a JSON object; empty reports whether nothing is
// left. Non-object values are returned unchanged.
func pruneEmpty(raw json.RawMessage) (json.RawMessage, bool, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return raw, true, nil
	}
	if trimmed[0] != '{' {
		return raw, string(trimmed) == "null", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, false, err
	}
	for k, v := range obj {
		p, empty, err := pruneEmpty(v)
		if err != nil {
			return nil, false, err
		}
		if empty {
			delete(obj, k)
		} else {
			obj[k] = p
		}
	}
	if len(obj) == 0 {
		return nil, true, nil
	}
	out, err := json.Marshal(obj)
	return out, false, err
}

// outboundConversationParameters encodes p without the empty bot object or the zero activity that
// schema.ConversationParameters would otherwise carry.
func outboundConversationParameters(p schema.ConversationParameters) ([]byte, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode conversation parameters: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("re-decode conversation parameters: %w", err)
	}
	if raw, ok := m["bot"]; ok {
		bot, empty, err := pruneEmpty(raw)
		if err != nil {
			return nil, fmt.Errorf("clean bot: %w", err)
		}
		if empty {
			delete(m, "bot")
		} else {
			m["bot"] = bot
		}
	}
	delete(m, "activity")
	if !reflect.ValueOf(p.Activity).IsZero() {
		w, err := newWireActivity(&p.Activity, "")
		if err != nil {
			return nil, err
		}
		if m["activity"], err = json.Marshal(w); err != nil {
			return nil, fmt.Errorf("encode activity: %w", err)
		}
	}
	return json.Marshal(m)
}
