package reviews

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// expiryDir is a directory whose Assignments applies the filter's states and end, as the Graph client does.
type expiryDir struct {
	orgDir
	assignments []entitlement.Assignment
}

func (d *expiryDir) Assignments(_ context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	var out []entitlement.Assignment
	for _, a := range d.assignments {
		end := a.EndsAt()
		if (len(f.States) == 0 || slices.Contains(f.States, a.State)) &&
			(f.ExpiringBefore.IsZero() || !end.IsZero() && end.Before(f.ExpiringBefore)) {
			out = append(out, a)
		}
	}
	return out, nil
}

// TestSweepExpiryWarnsEveryHolder: every assignment that grants access (delivered, delivering or partially
// delivered) and ends within its lead gets the ending warning, once; a failed delivery is not access that ends.
func TestSweepExpiryWarnsEveryHolder(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	ending := func(target string, state entitlement.AssignmentState) entitlement.Assignment {
		return entitlement.Assignment{ID: "as-" + target, PackageID: "p1", PackageName: "Falcon Team", State: state,
			Target: entitlement.Subject{ID: target}, Schedule: entitlement.Schedule{Start: now.Add(-30 * 24 * time.Hour),
				Expiration: entitlement.Expiration{EndDateTime: now.Add(time.Hour)}}}
	}
	dir := &expiryDir{assignments: []entitlement.Assignment{
		ending("delivered", entitlement.AssignmentDelivered),
		ending("delivering", entitlement.AssignmentDelivering),
		ending("partial", entitlement.AssignmentPartiallyDelivered),
		ending("failed", entitlement.AssignmentDeliveryFailed),
	}}
	st := openStore(t)
	s := &Service{cfg: Config{Directory: dir, Store: st, ExpiryLeads: DefaultExpiryLeads}, log: slog.New(slog.DiscardHandler),
		now: func() time.Time { return now }}
	n := &sentCards{}
	for range 2 {
		if err := s.SweepExpiry(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(n.to)
	if want := []string{"delivered", "delivering", "partial"}; !slices.Equal(n.to, want) {
		t.Fatalf("warned %v, want %v once each", n.to, want)
	}
}
