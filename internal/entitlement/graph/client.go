// Package graph implements the entitlement port on Microsoft Graph v1.0 with msgraph-sdk-go.
//
// It deliberately imports only sub-packages of the SDK (models, models/odataerrors, identitygovernance,
// invitations) plus msgraph-sdk-go-core's request adapter, never the root GraphServiceClient, which
// costs minutes to compile (DESIGN.md §7). Small directory calls (/users/{id}, /users/{id}/manager,
// /groups/{id}/members, /users/{id}/teamwork/installedApps, …) are sent as abs.RequestInformation through
// the same adapter.
//
// Traps handled here (DESIGN.md §7), each with a test:
//   - the base URL is set on the adapter before any request builder is made, and @odata.nextLink is
//     followed verbatim;
//   - tokens are only sent to the configured Graph host: the auth provider has an explicit allow-list and
//     fails loudly (instead of silently sending no token) for any other host;
//   - request bodies are gzip-compressed by the SDK; that is left on;
//   - accessPackageAssignment accessPackageId / assignmentPolicyId / targetId are written as additional
//     data (they are not in the v1.0 metadata);
//   - ISO-8601 durations are written as strings through additional data (Kiota would write P30D as
//     P4W2D), and read back without weeks;
//   - an ODataError is never formatted (its Error() panics without error.message): errors are mapped by
//     HTTP status, service code and request-id to the entitlement domain errors;
//   - every enum getter is nil-checked; @odata.type values are written with the leading '#';
//   - the SDK's retry handler is replaced (retry.go): 429/503/504 of body-less requests are retried
//     after Retry-After or, without it, an exponential back-off with jitter from 1s, all within one wait
//     budget per call; requests with a body are re-sent (rebuilt) only on 429, and filing a request is
//     never blindly repeated after a failure in transit — the open requests are checked first;
//   - answers are read tolerantly (tolerant.go): legacy property names, PascalCase enums and localized
//     text objects that Microsoft's v1.0 pages still show are rewritten to the v1.0 shape first;
//   - an error body the SDK cannot read (an HTML gateway page, an odd innerError) keeps the HTTP status
//     and whatever error.code / error.message a plain JSON decoder finds.
package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/netx"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	formser "github.com/microsoft/kiota-serialization-form-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	textser "github.com/microsoft/kiota-serialization-text-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
)

// DefaultBaseURL is Microsoft Graph v1.0.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Config configures a Client.
type Config struct {
	// BaseURL is the Graph root including the version (GRAPH_BASE_URL); default DefaultBaseURL.
	// http:// is accepted only for loopback hosts (the simulator, tests).
	BaseURL string
	// AppTokens yields app-only Graph tokens (scope https://graph.microsoft.com/.default). Required.
	AppTokens entitlement.TokenSource
	// HTTPClient's Transport (default netx.Transport) carries the requests under the Graph
	// middleware (retry, redirect, compression: see middlewares). Its Timeout, if any, is kept.
	HTTPClient *http.Client
	// Logger receives one structured line per failed call (status, code, request-id). Default: discard.
	Logger *slog.Logger
	// CacheTTL is how long catalog, package, policy and incompatibility reads are cached (default 1 minute; negative
	// disables the cache).
	CacheTTL time.Duration
	// TenantID is the resource tenant; it fills User.TenantID.
	TenantID string
	// MaxRetryWait is the most one call waits in total before re-sending throttled or failed requests,
	// whether Graph said how long (Retry-After) or not (exponential back-off from 1s, with jitter)
	// (default 5s). A longer wait ends the call with *entitlement.ThrottledError (429) or
	// entitlement.ErrUnavailable (503/504) so a chat turn is not blocked.
	MaxRetryWait time.Duration
	// MaxRetries is how often 429/503/504 are retried (default 3).
	MaxRetries int
	// PageSize, when positive, asks for pages of at most this many items ($top) on list calls; the
	// client follows @odata.nextLink either way. Zero leaves the page size to Graph.
	PageSize int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Client is the Graph implementation of entitlement.Port.
type Client struct {
	adapter *msgraphcore.GraphRequestAdapterBase
	em      *identitygovernance.EntitlementManagementRequestBuilder
	base    string
	log     *slog.Logger
	ttl     time.Duration
	tenant  string
	now     func() time.Time
	cache   *ttlCache
	retry   *retryPolicy
	top     *int32
}

var _ entitlement.Port = (*Client)(nil)

// New builds a Client. It validates the configuration and sets the adapter's base URL before building
// any request builder.
func New(cfg Config) (*Client, error) {
	if cfg.AppTokens == nil {
		return nil, errors.New("graph config: AppTokens is required (an app-only token source for Microsoft Graph)")
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("graph config: BaseURL %q is not an absolute URL like %s", cfg.BaseURL, DefaultBaseURL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !netx.IsLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("graph config: BaseURL %q uses http for a non-loopback host; use https", cfg.BaseURL)
		}
	default:
		return nil, fmt.Errorf("graph config: BaseURL %q must use https (or http on loopback)", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("graph config: BaseURL %q must not have a query or fragment", cfg.BaseURL)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ttl := cfg.CacheTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	maxWait := cfg.MaxRetryWait
	if maxWait <= 0 {
		maxWait = 5 * time.Second
	}
	retries := cfg.MaxRetries
	if retries <= 0 {
		retries = 3
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}

	hosts, err := absauth.NewAllowedHostsValidatorErrorCheck([]string{u.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("graph config: allowed host %q: %w", u.Hostname(), err)
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&tokenProvider{app: cfg.AppTokens, hosts: hosts})

	opts := msgraphcore.GraphClientOptions{GraphServiceVersion: "v1.0", GraphServiceLibraryVersion: "accessbot"}
	retry := newRetryPolicy(maxWait, retries)
	mws := middlewares(&opts, log, retry)
	var parent http.RoundTripper = netx.Transport()
	var timeout time.Duration
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			parent = cfg.HTTPClient.Transport
		}
		timeout = cfg.HTTPClient.Timeout
	}
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(parent, mws...), Timeout: timeout}
	httpClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	pnf := absser.NewParseNodeFactoryRegistry()
	pnf.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonParseNodeFactory()
	pnf.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextParseNodeFactory()
	pnf.ContentTypeAssociatedFactories["application/x-www-form-urlencoded"] = formser.NewFormParseNodeFactory()
	swf := absser.NewSerializationWriterFactoryRegistry()
	swf.ContentTypeAssociatedFactories["application/json"] = jsonser.NewJsonSerializationWriterFactory()
	swf.ContentTypeAssociatedFactories["text/plain"] = textser.NewTextSerializationWriterFactory()
	swf.ContentTypeAssociatedFactories["application/x-www-form-urlencoded"] = formser.NewFormSerializationWriterFactory()

	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, opts, pnf, swf, httpClient)
	if err != nil {
		return nil, fmt.Errorf("graph: build request adapter: %w", err)
	}
	// The base URL must be set before any request builder is created: builders capture it.
	adapter.SetBaseUrl(base)
	em := identitygovernance.NewIdentityGovernanceRequestBuilderInternal(map[string]string{"baseurl": base}, adapter).EntitlementManagement()
	var top *int32
	if cfg.PageSize > 0 {
		t := int32(min(cfg.PageSize, 999))
		top = &t
	}
	return &Client{
		top:     top,
		adapter: adapter,
		em:      em,
		base:    base,
		log:     log,
		ttl:     ttl,
		tenant:  cfg.TenantID,
		now:     now,
		cache:   newTTLCache(now),
		retry:   retry,
	}, nil
}

// middlewares is the chain every Graph request goes through: the tolerant reader outermost (it rewrites the
// final answer, after retries and redirects), the Graph SDK's defaults with the retry handler replaced and
// the handlers that do nothing for this client left out, and observer innermost (it counts attempts). What
// each default does here (kiota-http-go v1.5.4, msgraph-sdk-go-core v1.4.0):
//   - GraphTelemetryHandler: kept; it sends SdkVersion and a fresh client-request-id, the id Microsoft support
//     asks for next to request-id.
//   - RetryHandler: replaced by retrier (see retryPolicy: back-off with jitter without Retry-After, one wait
//     budget per call, body-less requests only).
//   - RedirectHandler: kept; the http.Client does not follow redirects (CheckRedirect), this handler does (up
//     to 5, dropping Authorization for another host or scheme), so a 3xx from Graph is followed as before.
//   - CompressionHandler: kept; it gzips request bodies (and re-sends uncompressed on 415).
//   - ParametersNameDecodingHandler: kept; request builders write OData query names as %24filter, %24top…
//     (RFC 6570), and it turns them back into $filter, $top.
//   - UserAgentHandler: kept; it adds kiota-go/<version> to User-Agent.
//   - UrlReplaceHandler: left out. Its only pair replaces /users/me-token-to-replace by /me, a path only the
//     root GraphServiceClient's Me() builds; this package never imports that client (see the package doc) and
//     builds no such path, so it only cost a map walk and a span per request.
//   - HeadersInspectionHandler: left out. It copies request or response headers only into a
//     HeadersInspectionOptions a request carries with inspection turned on; no call here sets one (and its own
//     default inspects nothing), so it only cost a span per request.
//
// The chain is built here in a fixed order rather than taken from GetDefaultMiddlewaresWithOptions, which
// builds kiota's part from a Go map: its order changed from one process to the next. Outermost first: the
// Graph telemetry headers (once per call), retrier (around everything it may repeat), redirects, the query
// names, User-Agent, then compression next to the wire.
func middlewares(opts *msgraphcore.GraphClientOptions, log *slog.Logger, retry *retryPolicy) []khttp.Middleware {
	return []khttp.Middleware{
		tolerantReader{log: log, seen: &sync.Map{}},
		msgraphcore.NewGraphTelemetryHandler(opts),
		retrier{p: retry},
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewCompressionHandler(),
		observer{},
	}
}

// BaseURL returns the Graph root the client talks to.
func (c *Client) BaseURL() string { return c.base }

// retryAfter reads a Retry-After header (seconds or HTTP date); 0 when absent or unreadable.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// ---- authentication ----

type userTokenKey struct{}

// withUser makes the calls made with ctx act as the user whose token ts yields.
func withUser(ctx context.Context, ts entitlement.TokenSource) context.Context {
	return context.WithValue(ctx, userTokenKey{}, ts)
}

// tokenError marks a failure to obtain a token (so it is not mistaken for a Graph answer).
type tokenError struct{ err error }

// Error implements error.
func (e *tokenError) Error() string { return "obtain Graph token: " + e.err.Error() }

// Unwrap returns the token source's error.
func (e *tokenError) Unwrap() error { return e.err }

// tokenProvider hands out the app token, or the acting user's token when the context carries one, and
// only for the configured Graph host.
type tokenProvider struct {
	app   entitlement.TokenSource
	hosts *absauth.AllowedHostsValidator
}

// GetAuthorizationToken implements absauth.AccessTokenProvider.
func (p *tokenProvider) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]any) (string, error) {
	if u == nil || !p.hosts.IsUrlHostValid(u) {
		host := ""
		if u != nil {
			host = u.Host
		}
		return "", &tokenError{fmt.Errorf("refusing to send a Graph token to host %q (allowed: %v)", host, keys(p.hosts.GetAllowedHosts()))}
	}
	if u.Scheme != "https" && !netx.IsLoopbackHost(u.Hostname()) {
		return "", &tokenError{fmt.Errorf("refusing to send a Graph token over %s to %q", u.Scheme, u.Host)}
	}
	ts := p.app
	if v, ok := ctx.Value(userTokenKey{}).(entitlement.TokenSource); ok && v != nil {
		ts = v
	}
	tok, err := ts.Token(ctx)
	if err != nil {
		return "", &tokenError{err}
	}
	if tok == "" {
		return "", &tokenError{entitlement.ErrSignInRequired}
	}
	return tok, nil
}

// GetAllowedHostsValidator implements absauth.AccessTokenProvider.
func (p *tokenProvider) GetAllowedHostsValidator() *absauth.AllowedHostsValidator { return p.hosts }

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// ---- per-call observation ----

type callInfoKey struct{}

// callInfo records what the last HTTP exchange of one port call answered.
type callInfo struct {
	status     int
	requestID  string
	retryAfter time.Duration
	attempts   int
	// bodied is true when the last exchange sent a body (POST/PATCH/PUT).
	bodied bool
	// delegated is true when the call acts as a user (not the app).
	delegated bool
	// errBody is the start of the body of the last answer with an error status (for error.code and
	// error.message when the SDK cannot read it).
	errBody []byte
}

// maxErrBody bounds how much of an error answer is kept.
const maxErrBody = 64 << 10

func hasBody(req *http.Request) bool {
	return req != nil && req.Body != nil && req.Body != http.NoBody
}

// observer is the innermost middleware: it records status, request-id and Retry-After of every
// exchange into the callInfo of the context.
type observer struct{}

// Intercept implements khttp.Middleware.
func (observer) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := p.Next(req, i)
	if ci, ok := req.Context().Value(callInfoKey{}).(*callInfo); ok {
		ci.attempts++
		ci.bodied = hasBody(req)
		ci.errBody = nil
		if resp != nil {
			ci.status = resp.StatusCode
			ci.requestID = firstNonEmpty(resp.Header.Get("request-id"), resp.Header.Get("client-request-id"))
			ci.retryAfter = retryAfter(resp)
			if resp.StatusCode >= 400 && resp.Body != nil {
				body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
				resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
				ci.errBody = body
			}
		} else {
			ci.status = 0
		}
	}
	return resp, err
}

// readCloser reads from Reader and closes Closer (a body partly read ahead).
type readCloser struct {
	io.Reader
	io.Closer
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// call runs fn as one port operation: it observes the HTTP exchanges, turns panics from the SDK or the
// conversion into errors, and maps failures to domain errors. A request with a body that was answered
// 429 (which Graph guarantees was not processed) is sent again, rebuilt by fn, after the retry policy's
// wait (Retry-After, or back-off with jitter from 1s) while that fits the call's budget; 503/504 answers
// to such requests are never re-sent here, because the request may have been processed.
func (c *Client) call(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	var waited time.Duration
	for n := 1; ; n++ {
		ci := &callInfo{}
		_, ci.delegated = ctx.Value(userTokenKey{}).(entitlement.TokenSource)
		err := c.callOnce(context.WithValue(ctx, callInfoKey{}, ci), op, fn, ci)
		var te *entitlement.ThrottledError
		if err == nil || !ci.bodied || ci.status != http.StatusTooManyRequests || !errors.As(err, &te) {
			return err
		}
		d, ok := c.retry.next(n, waited, te.RetryAfter)
		if !ok {
			return err
		}
		c.log.Info("graph throttled a request with a body; sending it again", "op", op, "wait", d, "attempt", n+1)
		waited += d
		if serr := sleep(ctx, d); serr != nil {
			return &opError{op: op, err: serr}
		}
	}
}

func (c *Client) callOnce(ctx context.Context, op string, fn func(ctx context.Context) error, ci *callInfo) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = c.mapErr(op, fmt.Errorf("unexpected response: %v", r), ci)
		}
	}()
	if err = fn(ctx); err != nil {
		return c.mapErr(op, err, ci)
	}
	return nil
}
