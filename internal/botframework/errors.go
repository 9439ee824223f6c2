package botframework

import (
	"errors"
	"fmt"
)

// ErrUnauthorized is matched (errors.Is) by every inbound authentication failure.
var ErrUnauthorized = errors.New("unauthorized")

// ErrInvalidActivity is matched (errors.Is) by every activity decoding or validation failure.
var ErrInvalidActivity = errors.New("invalid activity")

// AuthError describes why an inbound request was not authenticated. It never contains the token.
type AuthError struct {
	// Reason is a short, token-free description of the failed check.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *AuthError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("unauthorized: %s: %v", e.Reason, e.Err)
	}
	return "unauthorized: " + e.Reason
}

// Unwrap lets errors.Is match ErrUnauthorized and the underlying cause.
func (e *AuthError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnauthorized, e.Err}
	}
	return []error{ErrUnauthorized}
}

func authErr(reason string, err error) error {
	return &AuthError{Reason: reason, Err: err}
}
