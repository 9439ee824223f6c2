package entitlement

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Every error returned by the port that has a known cause matches one of these with
// errors.Is. Their messages are written for the person in the chat.
var (
	// ErrNotEligible: the user may not request this package (no policy covers them).
	ErrNotEligible = errors.New("you are not eligible to request this access package; ask its owner or an admin which policy should cover you")
	// ErrAlreadyRequested: an open request for the same package already exists.
	ErrAlreadyRequested = errors.New("you already have an open request for this access package; wait for it or cancel it first")
	// ErrAlreadyAssigned: the target already holds an assignment of the package.
	ErrAlreadyAssigned = errors.New("you already have this access package")
	// ErrAlreadyDecided: the approval stage was already decided (by another approver, or expired).
	// Match *AlreadyDecidedError with errors.As for who and when.
	ErrAlreadyDecided = errors.New("this approval was already decided")
	// ErrNotApprover: the acting user is not an approver of this stage.
	ErrNotApprover = errors.New("you are not an approver of this request (or it is not waiting for you)")
	// ErrNotFound: the object does not exist (or is not visible to the acting identity).
	ErrNotFound = errors.New("not found: it may have been deleted, or you may not be allowed to see it")
	// ErrConsentRequired: the user (or an admin) must consent to AccessBot's delegated permissions.
	ErrConsentRequired = errors.New("AccessBot needs your consent to act for you; sign in once to grant it (or ask an admin to grant consent for the organization)")
	// ErrSignInRequired: no delegated token is available for the user; they must sign in.
	ErrSignInRequired = errors.New("please sign in to AccessBot so it can act for you")
	// ErrForbidden: the acting identity lacks the permission for the call.
	ErrForbidden = errors.New("you are not allowed to do this (missing permission or role)")
	// ErrThrottled: Microsoft Graph asked us to slow down. Match *ThrottledError for the wait.
	ErrThrottled = errors.New("Microsoft Graph is busy; try again in a moment")
	// ErrInvalidInput: the request was rejected as malformed or incomplete; the error text names the field.
	ErrInvalidInput = errors.New("the request is incomplete or invalid")
	// ErrConflict: the change conflicts with the current state (it already exists, or changed meanwhile).
	ErrConflict = errors.New("this conflicts with the current state (it may already exist or have changed); refresh and try again")
	// ErrUnavailable: Microsoft Graph (or the sign-in service) could not be reached, timed out, failed,
	// or answered something unreadable, before anything took effect; retrying later may help. It is not
	// ErrSignInRequired: an outage never asks the person to sign in.
	ErrUnavailable = errors.New("Microsoft Graph is unavailable right now, so nothing was changed; try again in a few minutes")
	// ErrOutcomeUnknown: a change was sent but Microsoft Graph did not confirm it (the connection was cut
	// or timed out after sending, or the answer was unreadable): it may or may not have taken effect. It
	// matches ErrUnavailable too, so retry logic treats it as transient.
	ErrOutcomeUnknown error = outcomeUnknownError{}
)

type outcomeUnknownError struct{}

// Error implements error.
func (outcomeUnknownError) Error() string {
	return "Microsoft Graph did not confirm whether this went through; check again in a minute before trying again"
}

// Is makes errors.Is(ErrOutcomeUnknown, ErrUnavailable) true.
func (outcomeUnknownError) Is(target error) bool { return target == ErrUnavailable }

// ThrottledError is returned when Graph answered 429 (after the client's own retries).
type ThrottledError struct {
	// RetryAfter is how long Graph asked to wait; zero when it did not say.
	RetryAfter time.Duration
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *ThrottledError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("Microsoft Graph is busy; try again in %s", e.RetryAfter.Round(time.Second))
	}
	return ErrThrottled.Error()
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Unwrap returns the underlying error.
func (e *ThrottledError) Unwrap() error { return e.Err }

// RetryDelay is RetryAfter; it lets the outbox (store.RetryDelayer) wait as long as Graph asked.
func (e *ThrottledError) RetryDelay() time.Duration { return e.RetryAfter }

// AlreadyDecidedError says who decided a stage already, when known.
type AlreadyDecidedError struct {
	// By is the display name (or id) of who decided; empty when unknown.
	By string
	// At is when; zero when unknown.
	At time.Time
	// Result is the decision; empty when unknown.
	Result ReviewResult
}

// Error implements error.
func (e *AlreadyDecidedError) Error() string {
	var b strings.Builder
	b.WriteString("this approval was already decided")
	if e.By != "" {
		b.WriteString(" by ")
		b.WriteString(e.By)
	}
	if !e.At.IsZero() {
		b.WriteString(" at ")
		b.WriteString(e.At.UTC().Format("2006-01-02 15:04 UTC"))
	}
	switch e.Result {
	case ReviewApprove:
		b.WriteString(" (approved)")
	case ReviewDeny:
		b.WriteString(" (denied)")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrAlreadyDecided) true.
func (e *AlreadyDecidedError) Is(target error) bool { return target == ErrAlreadyDecided }

// InvalidInputError says which field of an input is wrong and what was expected. It matches
// ErrInvalidInput with errors.Is.
type InvalidInputError struct {
	// Field names the input field, e.g. "justification" or "answers[Change ticket]".
	Field string
	// Problem says what is wrong or expected, e.g. "is required by this policy".
	Problem string
}

// Error implements error.
func (e *InvalidInputError) Error() string { return e.Field + " " + e.Problem }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InvalidInputError) Is(target error) bool { return target == ErrInvalidInput }

// Invalid returns an *InvalidInputError for field.
func Invalid(field, problem string) error { return &InvalidInputError{Field: field, Problem: problem} }

// ServiceError carries what the service said, for logs. It wraps the domain sentinel (Kind) that
// describes it, so errors.Is(err, ErrNotFound) works on it.
type ServiceError struct {
	// Op is what we tried, e.g. "get access package eeee…".
	Op string
	// Status is the HTTP status (0 when the call never got an answer).
	Status int
	// Code is the service error code, e.g. "ResourceNotFound".
	Code string
	// Message is the service's message (may be empty).
	Message string
	// RequestID is the request-id (or client-request-id) of the call.
	RequestID string
	// Kind is the domain sentinel this maps to (ErrNotFound, …).
	Kind error
}

// Error implements error. It names the operation, the user-level meaning and the service details.
func (e *ServiceError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("service error")
	}
	var det []string
	if e.Status != 0 {
		det = append(det, fmt.Sprintf("status %d", e.Status))
	}
	if e.Code != "" {
		det = append(det, "code "+e.Code)
	}
	if e.Message != "" {
		det = append(det, "message: "+e.Message)
	}
	if e.RequestID != "" {
		det = append(det, "request-id "+e.RequestID)
	}
	if len(det) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(det, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the domain sentinel.
func (e *ServiceError) Unwrap() error { return e.Kind }

// UserMessage returns the text to show a person for err: the message of the first domain error in its
// chain, or a generic message. It never includes service internals.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		return te.Error()
	}
	var ad *AlreadyDecidedError
	if errors.As(err, &ad) {
		return ad.Error()
	}
	var ie *InvalidInputError
	if errors.As(err, &ie) {
		return ie.Error()
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		return ErrOutcomeUnknown.Error()
	}
	// ErrUnavailable comes before ErrSignInRequired: when the sign-in service itself was unreachable the
	// person must not be told to sign in.
	for _, s := range []error{ErrNotEligible, ErrAlreadyRequested, ErrAlreadyAssigned, ErrNotApprover,
		ErrNotFound, ErrConsentRequired, ErrUnavailable, ErrSignInRequired, ErrForbidden, ErrInvalidInput, ErrConflict} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "something went wrong talking to Microsoft Entra; try again later"
}
