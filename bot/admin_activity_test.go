package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// TestAdminAuditFilters: /audit <user> and /audit <package> show only matching entries.
func TestAdminAuditFilters(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	e.say(admAdele, "/package Falcon Wiki Reader")
	if _, err := e.st.AppendAudit(context.Background(), store.AuditEntry{Action: "request.submit", Mode: store.ModeDelegated,
		ActorID: admUserID(1), ActorName: "Rita Requester", SubjectID: admUserID(1), SubjectName: "Rita Requester", Outcome: "submitted"}); err != nil {
		t.Fatal(err)
	}
	got := e.say(admAdele, "/audit rita@contoso.example")
	admWantAll(t, "audit by user", got, "Entries about or by Rita Requester", "\nrevoke\n", "confirmation requested", "\nrequest filed (delegated)\n", "2026-11-26 12:00")
	admWantNone(t, "audit by user", got, "\npackage\n", "request.submit")
	if i, j := strings.Index(got, "request filed"), strings.Index(got, "\nrevoke\n"); i < 0 || j < 0 || i > j {
		t.Errorf("audit by user is not newest first (request filed at %d, revoke at %d)", i, j)
	}
	// Adele's own entries are hers as actor.
	got = e.say(admAdele, "/audit adele@contoso.example")
	admWantAll(t, "audit by actor", got, "Entries about or by Adele Vance", "\nrevoke\n", "\npackage\n", "\naudit\n")
	got = e.say(admAdele, "/audit Falcon Wiki")
	admWantAll(t, "audit by package", got, "Entries about the package Falcon Wiki Reader", "\npackage\n", "viewed")
	admWantNone(t, "audit by package", got, "revoke", "request filed")
}

func TestAdminPendingIncludesBrokered(t *testing.T) {
	e := newAdmEnv(t)
	ctx := context.Background()
	put := func(br brokeredRequest) {
		t.Helper()
		if err := e.bot.core.SaveBrokered(ctx, &br); err != nil {
			t.Fatal(err)
		}
	}
	gus := brokeredRequester{TenantID: admFabrikam, ID: admFabUser(1), Name: "Gus Guest", Email: "gus@fabrikam.example", OrgID: admOrgFab}
	put(brokeredRequest{ID: brokeredPrefix + "1", PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration", Requester: gus,
		StageCount: 1, Stages: []brokeredStage{{Index: 1}}, State: entitlement.StatePendingApproval, CreatedAt: e.clock().Add(-3 * time.Hour)})
	put(brokeredRequest{ID: brokeredPrefix + "2", PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration",
		Requester: brokeredRequester{Name: "Frank Miller", Email: "frank@fabrikam.example"}, State: entitlement.StateDenied})
	put(brokeredRequest{ID: brokeredPrefix + "3", PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration",
		Requester: brokeredRequester{Name: "Fiona Partner", Email: "fiona@fabrikam.example"}, State: entitlement.StatePendingApproval, Canceled: true})

	got := e.say(admAdele, "/pending")
	admWantAll(t, "/pending", got, "Megan Bowen", "Gus Guest (gus@fabrikam.example)", "Pending approval, stage 1 of 1 (run by AccessBot)", "\"Run by AccessBot\" marks partner requests", "3 hours")
	admWantNone(t, "/pending", got, "Frank Miller", "Fiona Partner")
	got = e.say(admAdele, "/pending Falcon Production")
	admWantNone(t, "/pending {other package}", got, "Gus Guest")
	if es := e.audit(store.AuditQuery{Limit: 2}); len(es) != 2 || es[1].Outcome != "listed 2" {
		t.Fatalf("audit = %+v, want the first /pending to list 2", es)
	}
}

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
