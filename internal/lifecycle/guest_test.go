package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestLastAssignmentEnds: the request's assignment is the guest's last one unless another assignment that
// grants access (delivered, delivering or partially delivered) lasts longer or has no end; expired and
// failed ones, and the request's own, do not count.
func TestLastAssignmentEnds(t *testing.T) {
	ends := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	other := func(state entitlement.AssignmentState, end time.Time) entitlement.Assignment {
		return entitlement.Assignment{ID: "other", PackageID: "p2", State: state, Target: entitlement.Subject{ID: "guest"},
			Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{EndDateTime: end}}}
	}
	later := ends.Add(30 * 24 * time.Hour)
	tests := []struct {
		name  string
		other []entitlement.Assignment
		want  bool
	}{
		{"no other assignment", nil, true},
		{"delivered, lasts longer", []entitlement.Assignment{other(entitlement.AssignmentDelivered, later)}, false},
		{"delivering, lasts longer", []entitlement.Assignment{other(entitlement.AssignmentDelivering, later)}, false},
		// The guest keeps access through a partially delivered assignment: not told their access ends.
		{"partially delivered, lasts longer", []entitlement.Assignment{other(entitlement.AssignmentPartiallyDelivered, later)}, false},
		{"partially delivered, no end", []entitlement.Assignment{other(entitlement.AssignmentPartiallyDelivered, time.Time{})}, false},
		{"delivered, ends sooner", []entitlement.Assignment{other(entitlement.AssignmentDelivered, ends.Add(-time.Hour))}, true},
		{"expired", []entitlement.Assignment{other(entitlement.AssignmentExpired, later)}, true},
		{"delivery failed", []entitlement.Assignment{other(entitlement.AssignmentDeliveryFailed, later)}, true},
		{"another guest's", []entitlement.Assignment{{ID: "x", PackageID: "p2", State: entitlement.AssignmentDelivered,
			Target: entitlement.Subject{ID: "someone"}}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			own := entitlement.Assignment{ID: "own", PackageID: "p1", State: entitlement.AssignmentDelivered,
				Target: entitlement.Subject{ID: "guest"}, Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{EndDateTime: ends}}}
			port := &submitPort{assignments: append([]entitlement.Assignment{own}, tc.other...)}
			c := newSubmitCore(t, backends[0].open(t), port)
			br := &Brokered{ID: BrokeredPrefix + "1", PackageID: "p1", AssignmentID: "own",
				Guest: GuestRecord{UserID: "guest", EndsAt: ends}}
			if got := c.LastAssignmentEnds(context.Background(), br); got != tc.want {
				t.Errorf("LastAssignmentEnds = %v, want %v", got, tc.want)
			}
		})
	}
}
