package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// --- tests -----------------------------------------------------------------------------------------------

// TestAdminCommands runs every admin command's success, argument-error and refusal paths. Read-only and
// confirm-first commands must change nothing; /connect and /sponsors add change exactly what they say.
func TestAdminCommands(t *testing.T) {
	tests := []struct {
		name       string
		who        admPerson
		text       string
		want       []string
		unwanted   []string
		wantWrites []string
		// wantOutcome is a prefix of the audit entry's outcome ("" = not checked); wantAction its action.
		wantAction  string
		wantOutcome string
	}{
		{name: "help", who: admAdele, text: "/help", want: []string{"Admin commands", "/connect {domain or tenant id} [name]", "/audit [user|package]"},
			wantAction: "admin.help", wantOutcome: "viewed"},
		{name: "help with args", who: admAdele, text: "/help me", want: []string{`/help: takes no arguments, got "me"`}, wantOutcome: "rejected"},
		{name: "orgs", who: admAdele, text: "/orgs", want: []string{"Connected organizations", "Fabrikam", "configured", "Entra tenant " + admFabrikam, admOrgFab},
			wantAction: "admin.orgs", wantOutcome: "listed 1"},
		{name: "orgs with args", who: admAdele, text: "/orgs all", want: []string{`/orgs: takes no arguments, got "all"`, "Usage: /orgs"}, wantOutcome: "rejected"},
		{name: "connect by domain", who: admAdele, text: "/connect northwind.example", want: []string{"Connected Northwind", admNorthwind, "configured"},
			wantWrites: []string{"create org Northwind tenant=" + admNorthwind + " state=configured"}, wantAction: "admin.connect", wantOutcome: "connected"},
		{name: "connect by tenant id with name", who: admAdele, text: "/connect " + admNorthwind + " Northwind Traders", want: []string{"Connected Northwind Traders"},
			wantWrites: []string{"create org Northwind Traders tenant=" + admNorthwind + " state=configured"}, wantOutcome: "connected"},
		{name: "connect duplicate", who: admAdele, text: "/connect fabrikam.example", want: []string{"Already connected", `fabrikam.example is already connected as "Fabrikam" (configured)`, "Nothing was changed"},
			wantOutcome: "rejected"},
		{name: "connect duplicate by tenant id", who: admAdele, text: "/connect " + strings.ToUpper(admFabrikam), want: []string{"Already connected"}, wantOutcome: "rejected"},
		{name: "connect unknown domain", who: admAdele, text: "/connect nowhere.example", want: []string{`no Microsoft Entra tenant has the domain "nowhere.example"`}, wantOutcome: "rejected"},
		{name: "connect garbage", who: admAdele, text: "/connect not_a_domain!", want: []string{`"not_a_domain!" is neither a domain name`, "Usage: /connect {domain or tenant id} [name]"}, wantOutcome: "rejected"},
		{name: "connect own tenant", who: admAdele, text: "/connect contoso.example", want: []string{"own tenant"}, wantOutcome: "rejected"},
		{name: "connect no args", who: admAdele, text: "/connect", want: []string{"/connect: give the partner's domain"}, wantOutcome: "rejected"},
		{name: "catalogs", who: admAdele, text: "/catalogs", want: []string{"Catalogs", "Project Falcon", "published", "5", "visible"}, wantOutcome: "listed 1"},
		{name: "packages", who: admAdele, text: "/packages", want: []string{"Falcon Team Member", "Falcon Break-glass", "hidden"}, wantOutcome: "listed 5"},
		{name: "packages of catalog by prefix", who: admAdele, text: "/packages project", want: []string{"Access packages of the catalog Project Falcon", "Falcon Wiki Reader"}, wantOutcome: "listed 5"},
		{name: "packages unknown catalog", who: admAdele, text: "/packages Nope", want: []string{`/packages: no catalog is named "Nope"`}, wantOutcome: "rejected"},
		{name: "package details", who: admAdele, text: "/package Falcon Production", want: []string{
			"Falcon Production Access", "Policy: Production", "All members of the organization", "90 days after assignment",
			"Approvers: Requestor's manager", "Falcon Security Reviewers (group)", "after 4 hours to Patti Fernandez",
			"Approver justification required", "Change ticket (INC + digits) (required)",
			"https://myaccess.microsoft.com/@contoso.example#/access-packages/" + admPkgID(2)}, wantAction: "admin.package", wantOutcome: "viewed"},
		{name: "package partner scope", who: admAdele, text: "/package " + admPkgID(3), want: []string{"Users of Fabrikam", "Internal sponsors or External sponsors", "30 days"}},
		{name: "package hidden by exact name", who: admAdele, text: "/package falcon break-glass", want: []string{"hidden", "8 hours after assignment", "Approvers: Patti Fernandez"}},
		{name: "package resources", who: admAdele, text: "/package Falcon Team Member", want: []string{"Falcon Team (Group) — Member", "180 days after assignment",
			"Fallback: Patti Fernandez", "Denied automatically after 14 days"}},
		{name: "package ambiguous", who: admAdele, text: "/package Falcon", want: []string{`"Falcon" matches 5 packages`, "Falcon Team Member (" + admPkgID(1) + ")"}, wantOutcome: "rejected"},
		{name: "package typo suggests", who: admAdele, text: "/package Falcon Wiki Raeder", want: []string{`no package is named "Falcon Wiki Raeder"`, `Did you mean "Falcon Wiki Reader"?`}},
		{name: "package missing", who: admAdele, text: "/package", want: []string{"/package: give the package's name or id"}, wantOutcome: "rejected"},
		{name: "pending", who: admAdele, text: "/pending", want: []string{"Pending requests", "Megan Bowen", "Falcon Production Access", "Pending approval", "26 hours"}, unwanted: []string{"pendingApproval", "brokered", "Run by AccessBot"}, wantOutcome: "listed 1"},
		{name: "pending for package", who: admAdele, text: "/pending Falcon Wiki", want: []string{"Nothing is waiting for approval."}, wantOutcome: "listed 0"},
		{name: "expiring default", who: admAdele, text: "/expiring", want: []string{"next 14 days", "Rita Requester", "Falcon Team Member", "5 days"}, unwanted: []string{"Megan"}, wantOutcome: "listed 1"},
		{name: "expiring a year", who: admAdele, text: "/expiring 365", want: []string{"Rita Requester", "Megan Bowen"}, wantOutcome: "listed 2"},
		{name: "expiring not a number", who: admAdele, text: "/expiring abc", want: []string{`/expiring: days must be a whole number between 1 and 365, got "abc"`}, wantOutcome: "rejected"},
		{name: "expiring zero", who: admAdele, text: "/expiring 0", want: []string{`got "0"`}, wantOutcome: "rejected"},
		{name: "expiring too many", who: admAdele, text: "/expiring 366", want: []string{`got "366"`}, wantOutcome: "rejected"},
		{name: "expiring fraction", who: admAdele, text: "/expiring 1.5", want: []string{`got "1.5"`}, wantOutcome: "rejected"},
		{name: "expiring two args", who: admAdele, text: "/expiring 1 2", want: []string{"/expiring: expected at most one argument (days), got 2"}, wantOutcome: "rejected"},
		{name: "sponsors list", who: admAdele, text: "/sponsors fab", want: []string{"Sponsors of Fabrikam", "Patti Fernandez", "internal", "Fiona Partner", "external"}, wantOutcome: "listed 2"},
		{name: "sponsors add internal", who: admAdele, text: "/sponsors Fabrikam add megan@contoso.example", want: []string{"Sponsor added", "internal sponsor of Fabrikam"},
			wantWrites: []string{"add internal sponsor " + admUserID(7) + " to " + admOrgFab}, wantOutcome: "added internal sponsor"},
		{name: "sponsors add by tenant id of org, explicit kind", who: admAdele, text: "/sponsors " + admFabrikam + " add external " + admUserID(8), want: []string{"external sponsor of Fabrikam"},
			wantWrites: []string{"add external sponsor " + admUserID(8) + " to " + admOrgFab}},
		{name: "sponsors add existing", who: admAdele, text: "/sponsors Fabrikam add patti@contoso.example", want: []string{"already a sponsor of Fabrikam"}, wantOutcome: "rejected"},
		{name: "sponsors add unknown user", who: admAdele, text: "/sponsors Fabrikam add zed@contoso.example", want: []string{`no user "zed@contoso.example" in the Contoso directory`}, wantOutcome: "rejected"},
		{name: "sponsors bad action", who: admAdele, text: "/sponsors Fabrikam ad rita@contoso.example", want: []string{`/sponsors: expected add or remove after the organization, got "ad"`}, wantOutcome: "rejected"},
		{name: "sponsors remove without user", who: admAdele, text: "/sponsors Fabrikam remove", want: []string{"/sponsors: give the user to remove"}, wantOutcome: "rejected"},
		{name: "sponsors action first", who: admAdele, text: "/sponsors add rita@contoso.example", want: []string{`/sponsors: give the organization before "add"`}, wantOutcome: "rejected"},
		{name: "sponsors remove non-sponsor", who: admAdele, text: "/sponsors Fabrikam remove Nestor", want: []string{`"Nestor" is not a sponsor of Fabrikam`}, wantOutcome: "rejected"},
		{name: "sponsors remove asks", who: admAdele, text: "/sponsors Fabrikam remove Patti", want: []string{"Remove Patti Fernandez as a sponsor of Fabrikam?", "Please confirm", "Remove sponsor", "Cancel"},
			wantAction: "admin.sponsors", wantOutcome: "confirmation requested"},
		{name: "sponsors unknown org", who: admAdele, text: "/sponsors Contoso", want: []string{`no organization is named "Contoso"`}, wantOutcome: "rejected"},
		{name: "disconnect asks", who: admAdele, text: "/disconnect Fabrikam", want: []string{"Disconnect Fabrikam?", "This can't be undone.", "Disconnect"}, wantOutcome: "confirmation requested"},
		{name: "disconnect by domain key", who: admAdele, text: "/disconnect " + admFabrikam, want: []string{"Disconnect Fabrikam?"}, wantOutcome: "confirmation requested"},
		{name: "disconnect unknown", who: admAdele, text: "/disconnect Globex", want: []string{`no organization is named "Globex"`}, wantOutcome: "rejected"},
		{name: "disconnect missing", who: admAdele, text: "/disconnect", want: []string{"/disconnect: give the organization"}, wantOutcome: "rejected"},
		{name: "assign asks and says approval is bypassed", who: admAdele, text: "/assign nestor@contoso.example Falcon Production Access", want: []string{
			"Assign Falcon Production Access to Nestor Wilke?", "bypasses the policy's approval (2 stages)", "Bypassed (direct admin assignment)", "90 days after assignment"},
			wantAction: "admin.assign", wantOutcome: "confirmation requested"},
		{name: "assign no-approval package", who: admAdele, text: `/assign nestor@contoso.example "Falcon Wiki Reader"`, want: []string{"This policy assigns without approval."}, wantOutcome: "confirmation requested"},
		{name: "assign connected-org user by mail", who: admAdele, text: "/assign gus@fabrikam.example Falcon Partner", want: []string{"gus@fabrikam.example (Fabrikam, not yet a guest)", "Fabrikam partners"}, wantOutcome: "confirmation requested"},
		{name: "assign guest through member-only policy", who: admAdele, text: "/assign gus@fabrikam.example Falcon Wiki Reader", want: []string{"no policy of Falcon Wiki Reader covers users of connected organizations"}, wantOutcome: "rejected"},
		{name: "assign unconnected domain", who: admAdele, text: "/assign nina@northwind.example Falcon Partner", want: []string{`"northwind.example" is not the domain of a connected organization`, "/connect northwind.example"}, wantOutcome: "rejected"},
		{name: "assign already holder", who: admAdele, text: "/assign rita@contoso.example Falcon Team Member", want: []string{"Rita Requester (rita@contoso.example) already has Falcon Team Member"}, wantOutcome: "rejected"},
		{name: "assign one arg", who: admAdele, text: "/assign rita@contoso.example", want: []string{"/assign: expected a user and a package, got 1 argument(s)", "Usage: /assign {user} {package}"}, wantOutcome: "rejected"},
		{name: "assign by unknown display name", who: admAdele, text: "/assign Zed Falcon Wiki Reader", want: []string{`no user is named "Zed"`, "chatted with AccessBot"}, wantOutcome: "rejected"},
		{name: "revoke asks", who: admAdele, text: "/revoke rita@contoso.example Falcon Team Member", want: []string{"Revoke Falcon Team Member from Rita Requester?", "asg-rita-1", "This can't be undone."},
			wantAction: "admin.revoke", wantOutcome: "confirmation requested"},
		{name: "revoke by name prefix", who: admAdele, text: "/revoke Rita Falcon Team Member", want: []string{"Revoke Falcon Team Member from Rita Requester?"}, wantOutcome: "confirmation requested"},
		{name: "revoke non-holder (expired assignment ignored)", who: admAdele, text: "/revoke nestor@contoso.example Falcon Team Member", want: []string{`"nestor@contoso.example" holds no active assignment of Falcon Team Member`}, wantOutcome: "rejected"},
		{name: "revoke no args", who: admAdele, text: "/revoke", want: []string{"expected a user and a package, got 0"}, wantOutcome: "rejected"},
		{name: "audit", who: admAdele, text: "/audit", want: []string{"Audit log"}, wantAction: "admin.audit"},
		{name: "audit unknown", who: admAdele, text: "/audit zed@contoso.example", want: []string{`/audit: "zed@contoso.example" is neither a package nor a user`}, wantOutcome: "rejected"},
		{name: "unknown admin command suggests", who: admAdele, text: "/orgz", want: []string{`I don't know "/orgz"`, "/orgs"}},
		{name: "non-admin refused", who: admRita, text: "/revoke rita@contoso.example Falcon Team Member", want: []string{"Not allowed", "/revoke is an admin command", "Nothing was changed"},
			unwanted: []string{"Revoke Falcon Team Member from"}, wantAction: "admin.refused", wantOutcome: "refused: not an admin"},
		{name: "non-admin connect refused", who: admRita, text: "/connect northwind.example", want: []string{"Not allowed"}, wantAction: "admin.refused"},
		{name: "foreign tenant user with an admin's object id refused", who: admGusInA, text: "/orgs", want: []string{"Not allowed"}, wantAction: "admin.refused"},
		{name: "guest refused", who: admGus, text: "/disconnect Fabrikam", want: []string{"Not allowed"}, wantAction: "admin.refused"},
		{name: "non-admin /help gets the everyday help", who: admRita, text: "/help", want: []string{"What I can do"}, unwanted: []string{"Admin commands", "Not allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			got := e.say(tc.who, tc.text)
			admWantAll(t, tc.text, got, tc.want...)
			admWantNone(t, tc.text, got, tc.unwanted...)
			if w := e.port.Writes(); !slices.Equal(w, tc.wantWrites) {
				t.Errorf("%s: writes = %q, want %q", tc.text, w, tc.wantWrites)
			}
			entries := e.audit(store.AuditQuery{})
			if tc.wantAction == "" && tc.wantOutcome == "" {
				return
			}
			if len(entries) != 1 {
				t.Fatalf("%s: %d audit entries, want 1: %+v", tc.text, len(entries), entries)
			}
			en := entries[0]
			if en.Mode != store.ModeAdmin || en.ActorID != tc.who.id || en.ActorTenant != tc.who.tenant {
				t.Errorf("%s: audit entry %+v: want mode admin by %s", tc.text, en, tc.who.id)
			}
			if tc.wantAction != "" && en.Action != tc.wantAction {
				t.Errorf("%s: audit action %q, want %q", tc.text, en.Action, tc.wantAction)
			}
			if !strings.HasPrefix(en.Outcome, tc.wantOutcome) {
				t.Errorf("%s: audit outcome %q, want prefix %q", tc.text, en.Outcome, tc.wantOutcome)
			}
		})
	}
}

// TestCheckAdmin covers the membership cache, failures and configuration.
func TestCheckAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("cached for a few minutes", func(t *testing.T) {
		e := newAdmEnv(t)
		tu := e.bot.newTurn(ctx, e.activity(admAdele, "message"))
		for range 3 {
			e.bot.checkAdmin(ctx, tu)
			if !tu.admin {
				t.Fatal("Adele is not an admin")
			}
		}
		if e.port.memberChecks != 1 {
			t.Fatalf("membership checked %d times, want 1 (cached)", e.port.memberChecks)
		}
		e.port.setMember(admAdele.id, false)
		e.advance(adminCacheTTL)
		e.bot.checkAdmin(ctx, tu)
		if tu.admin || e.port.memberChecks != 2 {
			t.Fatalf("after the TTL: admin=%v checks=%d, want false 2", tu.admin, e.port.memberChecks)
		}
	})
	t.Run("errors are not admin and not cached", func(t *testing.T) {
		e := newAdmEnv(t)
		e.port.failMember = errors.New("graph down")
		tu := e.bot.newTurn(ctx, e.activity(admAdele, "message"))
		e.bot.checkAdmin(ctx, tu)
		if tu.admin {
			t.Fatal("admin despite a failed check")
		}
		e.port.failMember = nil
		e.bot.checkAdmin(ctx, tu)
		if !tu.admin || e.port.memberChecks != 2 {
			t.Fatalf("after recovery: admin=%v checks=%d, want true 2", tu.admin, e.port.memberChecks)
		}
	})
	t.Run("foreign tenant never checked", func(t *testing.T) {
		e := newAdmEnv(t)
		tu := e.bot.newTurn(ctx, e.activity(admGusInA, "message"))
		e.bot.checkAdmin(ctx, tu)
		if tu.admin || e.port.memberChecks != 0 {
			t.Fatalf("foreign user: admin=%v checks=%d", tu.admin, e.port.memberChecks)
		}
	})
	t.Run("no admin group configured", func(t *testing.T) {
		e := newAdmEnv(t)
		e.bot.cfg.AdminGroupID = ""
		tu := e.bot.newTurn(ctx, e.activity(admAdele, "message"))
		e.bot.checkAdmin(ctx, tu)
		if tu.admin || e.port.memberChecks != 0 {
			t.Fatalf("no group: admin=%v checks=%d", tu.admin, e.port.memberChecks)
		}
	})
}

// TestCheckAdminGroupOrRole: an admin is a member of the admin group OR the holder of a configured directory
// role; the group is asked first and a yes from it spares the role check; a failed check is not admin and
// not cached unless the other check said yes.
func TestCheckAdminGroupOrRole(t *testing.T) {
	ctx := context.Background()
	const idGovAdmin = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
	tests := []struct {
		name       string
		group      string   // Config.AdminGroupID
		roles      []string // Config.AdminRoleIDs
		who        admPerson
		holds      []string // directory roles the user holds
		failMember error
		failRole   error
		want       bool
		cached     bool // a second check within the TTL asks Graph nothing
		member     int  // IsMemberOf calls (first check)
		role       int  // HasDirectoryRole calls (first check)
	}{
		{name: "group only: member", group: admGroup, who: admAdele, want: true, cached: true, member: 1},
		{name: "group and roles: member, role check spared", group: admGroup, roles: []string{idGovAdmin}, who: admAdele, want: true, cached: true, member: 1},
		{name: "role only: holder", roles: []string{idGovAdmin}, who: admLynne, holds: []string{idGovAdmin}, want: true, cached: true, role: 1},
		{name: "group and roles: not a member but a holder", group: admGroup, roles: []string{"62e90394-69f5-4237-9190-012177145e10", idGovAdmin},
			who: admLynne, holds: []string{idGovAdmin}, want: true, cached: true, member: 1, role: 1},
		{name: "neither: not a member, holds another role", group: admGroup, roles: []string{idGovAdmin}, who: admRita,
			holds: []string{"f2ef992c-3afb-46b9-b7cf-a126ee74c451"}, want: false, cached: true, member: 1, role: 1},
		{name: "role only: blank ids are ignored, nobody is an admin", roles: []string{" ", ""}, who: admAdele, holds: []string{idGovAdmin}, want: false, cached: true},
		{name: "role check fails: not admin, not cached", group: admGroup, roles: []string{idGovAdmin}, who: admLynne, holds: []string{idGovAdmin},
			failRole: errors.New("graph down"), want: false, member: 1, role: 1},
		{name: "group check fails: not admin, not cached", group: admGroup, who: admAdele,
			failMember: errors.New("graph down"), want: false, member: 1},
		{name: "group check fails but the role says yes", group: admGroup, roles: []string{idGovAdmin}, who: admLynne, holds: []string{idGovAdmin},
			failMember: errors.New("graph down"), want: true, cached: true, member: 1, role: 1},
		{name: "role holder of another tenant never checked", roles: []string{idGovAdmin}, who: admGusInA, holds: []string{idGovAdmin}, want: false, cached: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			e.bot.cfg.AdminGroupID = tc.group
			e.bot.cfg.AdminRoleIDs = tc.roles
			e.port.roles[tc.who.id] = tc.holds
			e.port.failMember, e.port.failRole = tc.failMember, tc.failRole
			tu := e.bot.newTurn(ctx, e.activity(tc.who, "message"))
			e.bot.checkAdmin(ctx, tu)
			if tu.admin != tc.want {
				t.Fatalf("admin = %v, want %v", tu.admin, tc.want)
			}
			if e.port.memberChecks != tc.member || e.port.roleChecks != tc.role {
				t.Fatalf("checks: group %d role %d, want %d %d", e.port.memberChecks, e.port.roleChecks, tc.member, tc.role)
			}
			e.bot.checkAdmin(ctx, tu)
			again := e.port.memberChecks != tc.member || e.port.roleChecks != tc.role
			if tu.admin != tc.want || again == tc.cached {
				t.Fatalf("second check: admin=%v asked Graph again=%v, want admin=%v cached=%v", tu.admin, again, tc.want, tc.cached)
			}
		})
	}
}

func TestPartnerOrgName(t *testing.T) {
	ctx := context.Background()
	e := newAdmEnv(t)
	tests := []struct{ tenant, want string }{
		{admFabrikam, "Fabrikam"},
		{strings.ToUpper(admFabrikam), "Fabrikam"},
		{admNorthwind, ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := e.bot.partnerOrgName(ctx, tc.tenant); got != tc.want {
			t.Errorf("partnerOrgName(%q) = %q, want %q", tc.tenant, got, tc.want)
		}
	}
	if e.port.orgListings != 2 {
		t.Errorf("connected organizations listed %d times, want 2 (Fabrikam and Northwind, then cached)", e.port.orgListings)
	}
	// /connect forgets the cache so the new organization is seen at once.
	e.say(admAdele, "/connect northwind.example")
	if got := e.bot.partnerOrgName(ctx, admNorthwind); got != "Northwind" {
		t.Errorf("after /connect: partnerOrgName = %q, want Northwind", got)
	}
}

// TestAdminFailures: a Graph failure is answered with the service-independent message and audited as failed;
// a change whose answer could not be sent is audited as done and the turn fails (Teams redelivers it).
func TestAdminFailures(t *testing.T) {
	t.Run("graph read fails", func(t *testing.T) {
		e := newAdmEnv(t)
		e.port.failReads = &entitlement.ServiceError{Op: "list access packages", Status: 503, Code: "ServiceUnavailable", Kind: entitlement.ErrUnavailable}
		got := e.say(admAdele, "/packages")
		admWantAll(t, "/packages", got, "/packages failed", entitlement.ErrUnavailable.Error())
		admWantNone(t, "/packages", got, "ServiceUnavailable", "503")
		es := e.audit(store.AuditQuery{})
		if len(es) != 1 || es[0].Outcome != "failed: "+entitlement.ErrUnavailable.Error() {
			t.Fatalf("audit = %+v", es)
		}
	})
	t.Run("answer not delivered after a change", func(t *testing.T) {
		e := newAdmEnv(t)
		e.conn.failSend = errors.New("connector down")
		act := e.activity(admAdele, "message")
		act.Text = "/connect northwind.example"
		if _, err := e.bot.OnActivity(context.Background(), act); err == nil {
			t.Fatal("the turn succeeded although the answer could not be sent")
		}
		if w := e.port.Writes(); len(w) != 1 {
			t.Fatalf("writes = %q, want the one create", w)
		}
		es := e.audit(store.AuditQuery{})
		if len(es) != 1 || es[0].Outcome != "connected; answer not delivered" {
			t.Fatalf("audit = %+v", es)
		}
	})
}
