package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// statusKinds lets an operation say what an HTTP status (409, 403, …) means for it.
type statusKinds map[int]error

// mapErr turns an error from the SDK into a domain error. It never calls Error() on an ODataError
// (which panics when the body has no error.message): it reads status, code and message through
// nil-checked getters.
func (c *Client) mapErr(op string, err error, ci *callInfo) error {
	if err == nil {
		return nil
	}
	// Already a domain error (from our own validation or a nested call): keep it.
	var se *entitlement.ServiceError
	var te *entitlement.ThrottledError
	var ad *entitlement.AlreadyDecidedError
	var ie *entitlement.InvalidInputError
	if errors.As(err, &se) || errors.As(err, &te) || errors.As(err, &ad) || errors.As(err, &ie) {
		return err
	}
	var tokErr *tokenError
	if errors.As(err, &tokErr) {
		c.log.Warn("graph token unavailable", "op", op, "err", tokErr.err.Error())
		if errors.Is(tokErr.err, entitlement.ErrUnavailable) {
			// The sign-in service is down or timed out: an outage, never "sign in again".
			return &opError{op: op, err: &entitlement.ServiceError{Op: op, Message: "could not obtain a token: " + tokErr.err.Error(), Kind: entitlement.ErrUnavailable}}
		}
		if errors.Is(tokErr.err, entitlement.ErrConsentRequired) || errors.Is(tokErr.err, entitlement.ErrSignInRequired) {
			return &opError{op: op, err: tokErr.err}
		}
		kind := entitlement.ErrSignInRequired
		if ci == nil || !ci.delegated {
			// The app's own credential failed: nothing the person in the chat can do.
			kind = entitlement.ErrUnavailable
		}
		return &opError{op: op, err: &entitlement.ServiceError{Op: op, Message: "could not obtain a token: " + tokErr.err.Error(), Kind: kind}}
	}
	if errors.Is(err, context.Canceled) {
		return &opError{op: op, err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Graph did not answer in time: an outage for the person in the chat (and, for a change that was
		// sent, an unknown outcome).
		kind := entitlement.ErrUnavailable
		if ci != nil && ci.bodied && ci.attempts > 0 {
			kind = entitlement.ErrOutcomeUnknown
		}
		c.log.Warn("graph call timed out", "op", op, "err", err)
		return &opError{op: op, err: fmt.Errorf("%w (%w)", kind, err)}
	}

	out := &entitlement.ServiceError{Op: op}
	if ci != nil {
		out.Status = ci.status
		out.RequestID = ci.requestID
	}
	var oe *odataerrors.ODataError
	var ae *abs.ApiError
	switch {
	case errors.As(err, &oe):
		if oe.ResponseStatusCode != 0 {
			out.Status = oe.ResponseStatusCode
		}
		if main := oe.GetErrorEscaped(); main != nil {
			if v := main.GetCode(); v != nil {
				out.Code = *v
			}
			if v := main.GetMessage(); v != nil {
				out.Message = *v
			}
			if inner := main.GetInnerError(); inner != nil && out.RequestID == "" {
				if v := inner.GetRequestId(); v != nil {
					out.RequestID = *v
				}
			}
		}
		if id := headerValue(oe.ResponseHeaders, "request-id"); id != "" {
			out.RequestID = id
		}
	case errors.As(err, &ae):
		// The SDK's own text ("unexpected status code with no response body") is not the service's.
		if ae.ResponseStatusCode != 0 {
			out.Status = ae.ResponseStatusCode
		}
		if id := headerValue(ae.ResponseHeaders, "request-id"); id != "" {
			out.RequestID = id
		}
	case out.Status >= 200 && out.Status < 300:
		// A 2xx body we could not read (for example a date holding "null"), or a paging failure: for the
		// log; people see only the kind (entitlement.UserMessage).
		out.Message = "unreadable response: " + err.Error()
	case out.Status != 0:
		// An error answer the SDK could not read (an HTML gateway page, an odd innerError): what a plain
		// JSON decoder finds below is all there is; the parser's text goes to the log only.
		c.log.Debug("graph error body unreadable by the SDK", "op", op, "status", out.Status, "err", err)
	default:
		// Transport failure: no answer at all (connection refused or cut, timeout).
		out.Message = err.Error()
	}
	if ci != nil && (out.Code == "" || out.Message == "") {
		code, msg := plainError(ci.errBody)
		out.Code = firstNonEmpty(out.Code, code)
		out.Message = firstNonEmpty(out.Message, msg)
	}

	switch {
	case out.Status == 0:
		out.Kind = entitlement.ErrUnavailable
		if ci != nil && ci.bodied && !neverSent(err) {
			out.Kind = entitlement.ErrOutcomeUnknown
		}
	case out.Status == http.StatusTooManyRequests:
		wait := time.Duration(0)
		if ci != nil {
			wait = ci.retryAfter
		}
		c.logFailure(out)
		return &entitlement.ThrottledError{RetryAfter: wait, Err: out}
	case out.Status >= 200 && out.Status < 300:
		out.Kind = entitlement.ErrUnavailable
		if ci != nil && ci.bodied {
			out.Kind = entitlement.ErrOutcomeUnknown // the change was accepted, the answer is unreadable
		}
	case out.Status == http.StatusBadRequest:
		out.Kind = entitlement.ErrInvalidInput
	case out.Status == http.StatusUnauthorized && ci != nil && ci.delegated:
		// The user's token was rejected (expired, revoked): they must sign in again.
		out.Kind = entitlement.ErrSignInRequired
	case out.Status == http.StatusUnauthorized:
		// The app's token was rejected: a configuration problem, logged for the operator.
		out.Kind = entitlement.ErrUnavailable
	case out.Status == http.StatusForbidden:
		out.Kind = entitlement.ErrForbidden
		if isConsentCode(out.Code) {
			out.Kind = entitlement.ErrConsentRequired
		}
	case out.Status == http.StatusNotFound:
		out.Kind = entitlement.ErrNotFound
	case out.Status == http.StatusConflict:
		out.Kind = entitlement.ErrConflict
	default:
		out.Kind = entitlement.ErrUnavailable
	}
	c.logFailure(out)
	return out
}

// plainError reads error.code and error.message from an error body with a plain JSON decoder: values
// that are not strings, and bodies that are not JSON, give "".
func plainError(body []byte) (code, message string) {
	var env struct {
		Error struct {
			Code    any `json:"code"`
			Message any `json:"message"`
		} `json:"error"`
	}
	if len(body) == 0 || json.Unmarshal(body, &env) != nil {
		return "", ""
	}
	code, _ = env.Error.Code.(string)
	message, _ = env.Error.Message.(string)
	return code, message
}

func (c *Client) logFailure(e *entitlement.ServiceError) {
	c.log.Warn("graph call failed", "op", e.Op, "status", e.Status, "code", e.Code, "message", e.Message, "request_id", e.RequestID)
}

// neverSent reports whether a transport failure happened before the request could reach Graph (the
// connection was refused or could not be opened), so a change certainly did not take effect.
func neverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

func isConsentCode(code string) bool {
	c := strings.ToLower(code)
	return strings.Contains(c, "consent")
}

func headerValue(h *abs.ResponseHeaders, name string) string {
	if h == nil {
		return ""
	}
	for _, k := range []string{name, strings.ToLower(name), http.CanonicalHeaderKey(name)} {
		if v := h.Get(k); len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return ""
}

// opError prefixes a non-service error with the operation, keeping it matchable.
type opError struct {
	op  string
	err error
}

// Error implements error.
func (e *opError) Error() string { return e.op + ": " + e.err.Error() }

// Unwrap returns the wrapped error.
func (e *opError) Unwrap() error { return e.err }
