package bot

import (
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestAdminPendingIncludesBrokered: /pending lists the partner requests whose approval the bot runs itself
// next to Entra's, and leaves out decided or cancelled ones.
// TestAdminConnectDomainDuplicate: an organization connected by a domain identity source (or proposed) is a
// duplicate too, and the answer says what a proposed organization means.
func TestAdminConnectDomainDuplicate(t *testing.T) {
	e := newAdmEnv(t)
	e.port.orgs = append(e.port.orgs, entitlement.ConnectedOrg{ID: "org-nw", Name: "Northwind (domain)", State: entitlement.OrgProposed,
		Sources: []entitlement.IdentitySource{{Kind: entitlement.SourceDomain, DomainName: "northwind.example"}}})
	got := e.say(admAdele, "/connect northwind.example")
	admWantAll(t, "/connect", got, `already connected as "Northwind (domain)" (proposed)`, "can't request until it is configured")
	if w := e.port.Writes(); len(w) != 0 {
		t.Fatalf("writes = %q", w)
	}
}
