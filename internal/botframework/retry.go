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
	"strconv"
	"strings"
	"time"
)

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
func (e *APIError) Error() string { return statusMessage("connector", e.Status, e.Code, e.Message) }

// statusMessage is the text of an HTTP peer's error answer: "<peer>: status <status>[ <code>][: <detail>]".
func statusMessage(peer string, status int, code, detail string) string {
	msg := fmt.Sprintf("%s: status %d", peer, status)
	if code != "" {
		msg += " " + code
	}
	if detail != "" {
		msg += ": " + detail
	}
	return msg
}

// RetryDelay is RetryAfter; it lets the outbox (store.RetryDelayer) wait as long as the Connector asked.
func (e *APIError) RetryDelay() time.Duration { return e.RetryAfter }

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
				slog.Duration("wait", wait), slog.String("err", err.Error()))
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
