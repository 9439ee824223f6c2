package graph

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
)

// retryPolicy decides whether and when a throttled or failed Graph call is sent again. It replaces the
// SDK's retry handler, whose wait without Retry-After (3 s, 6 s, 12 s …) ignores the caller's budget.
//
//   - 429 is retried, 503 and 504 only for idempotent methods; with Retry-After the wait is what Graph asked, without it an
//     exponential back-off with jitter: base, 2·base, 4·base … each plus up to half of itself at random
//     (base is 1 s, so a request is never re-sent at once);
//   - all waits of one call together stay within maxWait: a wait that would pass it ends the call with
//     the last answer instead (the caller sees a ThrottledError or ErrUnavailable and can try later);
//   - at most maxRetries re-sends.
//
// Requests with a body are never re-sent by the middleware: Client.call re-sends them itself, rebuilt,
// and only on 429 (Graph did not process them); filing a request after a 503/504 or a cut connection is
// never blindly repeated (SubmitRequest checks the open requests first).
type retryPolicy struct {
	base       time.Duration
	maxWait    time.Duration
	maxRetries int
	// jitter returns a random duration in [0, d); replaced in tests.
	jitter func(d time.Duration) time.Duration
}

func newRetryPolicy(maxWait time.Duration, maxRetries int) *retryPolicy {
	return &retryPolicy{base: time.Second, maxWait: maxWait, maxRetries: maxRetries, jitter: func(d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return rand.N(d)
	}}
}

// retryable reports whether a request with this method answered with this status may be sent again (after
// waiting): a 429 always (Graph did not process it); a 503 or 504 only for an idempotent method, since a
// body-less POST action (cancel, sendReminder, stop …) may have taken effect.
func retryable(method string, status int) bool {
	switch status {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
			return true
		}
	}
	return false
}

// delay is the wait before re-send number n (1-based) after an answer with Retry-After ra (0 if none).
func (p *retryPolicy) delay(n int, ra time.Duration) time.Duration {
	if ra > 0 {
		return ra
	}
	d := p.base << min(n-1, 10)
	return d + p.jitter(d/2)
}

// next returns the wait before re-send number n, given what the call has waited so far, and false when
// the call must give up instead (too many re-sends, or the wait would pass the budget).
func (p *retryPolicy) next(n int, waited, ra time.Duration) (time.Duration, bool) {
	if n > p.maxRetries {
		return 0, false
	}
	d := p.delay(n, ra)
	if waited+d > p.maxWait {
		return 0, false
	}
	return d, true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retrier is the middleware that retries body-less requests under a retryPolicy.
type retrier struct{ p *retryPolicy }

// Intercept implements khttp.Middleware.
func (r retrier) Intercept(pl khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := pl.Next(req, i)
	if hasBody(req) {
		return resp, err
	}
	var waited time.Duration
	for n := 1; err == nil && resp != nil && retryable(req.Method, resp.StatusCode); n++ {
		d, ok := r.p.next(n, waited, retryAfter(resp))
		if !ok {
			break
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		if serr := sleep(req.Context(), d); serr != nil {
			return nil, serr
		}
		waited += d
		resp, err = pl.Next(req, i)
	}
	return resp, err
}
