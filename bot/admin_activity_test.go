package bot

import (
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// TestAdminExpiringListsEveryHolder: /expiring lists every assignment that grants access and ends in the
// window — delivered, partially delivered, and one still being delivered — but not a failed delivery.
func TestAdminExpiringListsEveryHolder(t *testing.T) {
	e := newAdmEnv(t)
	ending := func(n int, state entitlement.AssignmentState, in time.Duration) entitlement.Assignment {
		u := e.port.users[admUserID(n)]
		return entitlement.Assignment{ID: "asg-" + u.ID, State: state, PackageID: admPkgID(2), PackageName: "Falcon Production Access",
			Target:   entitlement.Subject{ID: u.ID, Name: u.Name, Email: u.Mail, PrincipalName: u.UPN, Kind: entitlement.SubjectUser},
			Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: e.now.Add(in)}}}
	}
	e.port.mu.Lock()
	e.port.assignments = append(e.port.assignments,
		ending(4, entitlement.AssignmentDelivering, 3*24*time.Hour),         // Isaiah Langer
		ending(6, entitlement.AssignmentPartiallyDelivered, 2*24*time.Hour), // Lynne Robbins
		ending(8, entitlement.AssignmentDeliveryFailed, 24*time.Hour))       // Nestor Wilke
	e.port.mu.Unlock()

	got := e.say(admAdele, "/expiring")
	admWantAll(t, "/expiring", got, "Rita Requester", "Isaiah Langer", "Lynne Robbins")
	admWantNone(t, "/expiring", got, "Nestor Wilke", "Megan Bowen")
	if es := e.audit(store.AuditQuery{Limit: 1}); len(es) != 1 || es[0].Outcome != "listed 3" {
		t.Fatalf("audit = %+v, want /expiring to list 3", es)
	}
}
