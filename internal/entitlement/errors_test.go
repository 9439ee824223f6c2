package entitlement

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

func TestErrorsMatch(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		err      error
		is       error
		wantText []string
	}{
		{"throttled", fmt.Errorf("list packages: %w", &ThrottledError{RetryAfter: 7 * time.Second}), ErrThrottled, []string{"try again in 7s"}},
		{"throttled no wait", &ThrottledError{}, ErrThrottled, []string{"busy"}},
		{"decided", fmt.Errorf("decide: %w", &AlreadyDecidedError{By: "Aaron Approver", At: at, Result: ReviewApprove}), ErrAlreadyDecided, []string{"by Aaron Approver", "2026-11-26 12:00 UTC", "approved"}},
		{"decided unknown", &AlreadyDecidedError{}, ErrAlreadyDecided, []string{"already decided"}},
		{"service", &ServiceError{Op: "get package x", Status: 404, Code: "ResourceNotFound", RequestID: "r-1", Kind: ErrNotFound}, ErrNotFound, []string{"get package x", "status 404", "ResourceNotFound", "request-id r-1"}},
		{"invalid", fmt.Errorf("submit: %w", Invalid("justification", "is required by this policy")), ErrInvalidInput, []string{"justification is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.is) {
				t.Fatalf("errors.Is(%v, %v) = false", tt.err, tt.is)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(tt.err.Error(), w) {
					t.Errorf("Error() = %q, want it to contain %q", tt.err.Error(), w)
				}
			}
			if errors.Is(tt.err, ErrForbidden) {
				t.Errorf("%v unexpectedly matches ErrForbidden", tt.err)
			}
		})
	}
}

func TestUserMessage(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{&ServiceError{Op: "x", Status: 403, Code: "Secretish", Message: "internal detail", Kind: ErrForbidden}, ErrForbidden.Error()},
		{fmt.Errorf("a: %w", &ThrottledError{RetryAfter: 2 * time.Second}), "Microsoft Graph is busy; try again in 2s"},
		{Invalid("answers[Environment]", "must be one of prod-eu, prod-us"), "answers[Environment] must be one of prod-eu, prod-us"},
		{errors.New("boom"), "something went wrong talking to Microsoft Entra; try again later"},
	}
	for _, tt := range tests {
		if got := UserMessage(tt.err); got != tt.want {
			t.Errorf("UserMessage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestRequestStateOpen(t *testing.T) {
	// A state nobody recognises (StateUnknown, or a raw value Graph added later) stays open: the request
	// is still followed instead of being treated as closed.
	open := map[RequestState]bool{StateSubmitted: true, StatePendingApproval: true, StateDelivering: true, StateScheduled: true,
		StateUnknown: true, "awaitingCallback": true}
	known := map[RequestState]bool{StateUnknown: false, "awaitingCallback": false}
	for _, s := range []RequestState{StateSubmitted, StatePendingApproval, StateDelivering, StateDelivered, StateDeliveryFailed,
		StateDenied, StateScheduled, StateCanceled, StatePartiallyDelivered, StateUnknown, "awaitingCallback"} {
		if got := s.Open(); got != open[s] {
			t.Errorf("%s.Open() = %v, want %v", s, got, open[s])
		}
		wantKnown, listed := known[s]
		if !listed {
			wantKnown = true
		}
		if got := s.Known(); got != wantKnown {
			t.Errorf("%s.Known() = %v, want %v", s, got, wantKnown)
		}
	}
}

func TestApprovalCurrent(t *testing.T) {
	a := Approval{ID: "r", Stages: []ApprovalStage{
		{ID: "s1", Status: StageCompleted, ReviewResult: ReviewApprove},
		{ID: "s2", Status: StageInProgress, ReviewResult: ReviewNotReviewed},
	}}
	cur, ok := a.Current()
	if !ok || cur.ID != "s2" {
		t.Fatalf("Current() = %v, %v; want s2", cur.ID, ok)
	}
	a.Stages[1].Status = StageCompleted
	if _, ok := a.Current(); ok {
		t.Fatal("Current() found a stage in a completed approval")
	}
}

func TestConnectedOrgTenantID(t *testing.T) {
	o := ConnectedOrg{Sources: []IdentitySource{{Kind: SourceDomain, DomainName: "x.example"}, {Kind: SourceTenant, TenantID: "t-1"}}}
	if got := o.TenantID(); got != "t-1" {
		t.Fatalf("TenantID() = %q", got)
	}
	if got := (ConnectedOrg{}).TenantID(); got != "" {
		t.Fatalf("TenantID() of empty = %q", got)
	}
}

// TestThrottledErrorTellsTheOutboxWhenToRetry: a Graph 429 inside an outbox handler's error makes the
// outbox wait Graph's Retry-After (store.RetryDelayer), however deeply it is wrapped.
func TestThrottledErrorTellsTheOutboxWhenToRetry(t *testing.T) {
	var _ store.RetryDelayer = (*ThrottledError)(nil)
	err := fmt.Errorf("deliver status card: %w", fmt.Errorf("list requests: %w", &ThrottledError{RetryAfter: 90 * time.Second}))
	var rd store.RetryDelayer
	if !errors.As(err, &rd) || rd.RetryDelay() != 90*time.Second {
		t.Fatalf("RetryDelayer not found in %v (got %v)", err, rd)
	}
}
