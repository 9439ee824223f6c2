package entitlement

import (
	"slices"
	"testing"
)

// TestAssignmentStateGrantsAccess: delivering, partially delivered and delivered (Graph v1.0's spellings,
// which the Graph client's readers normalize PascalCase and status text to) grant access; nothing else does.
func TestAssignmentStateGrantsAccess(t *testing.T) {
	tests := []struct {
		state AssignmentState
		want  bool
	}{
		{AssignmentDelivered, true},
		{AssignmentDelivering, true},
		{AssignmentPartiallyDelivered, true},
		{"partiallyDelivered", true},
		{AssignmentExpired, false},
		{AssignmentDeliveryFailed, false},
		{AssignmentUnknown, false},
		{"unknownFutureValue", false},
		{"", false},
		// The domain compares Graph's exact v1.0 spelling; the Graph client maps older shapes before.
		{"Delivered", false},
		{"partiallydelivered", false},
	}
	for _, tc := range tests {
		if got := tc.state.GrantsAccess(); got != tc.want {
			t.Errorf("AssignmentState(%q).GrantsAccess() = %v, want %v", tc.state, got, tc.want)
		}
	}
}

// TestGrantingAssignmentStates: the filter list is exactly the states that grant access, and each call
// returns the caller's own slice.
func TestGrantingAssignmentStates(t *testing.T) {
	all := []AssignmentState{AssignmentDelivering, AssignmentPartiallyDelivered, AssignmentDelivered,
		AssignmentExpired, AssignmentDeliveryFailed, AssignmentUnknown}
	got := GrantingAssignmentStates()
	for _, s := range all {
		if slices.Contains(got, s) != s.GrantsAccess() {
			t.Errorf("GrantingAssignmentStates() = %v disagrees with %q.GrantsAccess() = %v", got, s, s.GrantsAccess())
		}
	}
	if len(got) != 3 {
		t.Errorf("GrantingAssignmentStates() = %v, want the three delivered states", got)
	}
	got[0] = AssignmentExpired
	if again := GrantingAssignmentStates(); slices.Contains(again, AssignmentExpired) {
		t.Errorf("changing a returned slice changed the next one: %v", again)
	}
}
