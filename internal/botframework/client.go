package botframework

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/netx"
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
	// HTTPClient defaults to a new http.Client on a netx.Transport.
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
		c.http = &http.Client{Transport: netx.Transport()}
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
