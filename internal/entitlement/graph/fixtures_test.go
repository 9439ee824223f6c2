package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const em = "/identityGovernance/entitlementManagement"

// TestDocExamplesParse feeds each call the example response of its Graph docs page and checks the
// domain values that come out.
func TestDocExamplesParse(t *testing.T) {
	ctx := context.Background()
	user := userToken("11111111-1111-1111-1111-111111111111", "aaaaaaaa-0000-0000-0000-000000000001")
	tests := []struct {
		name  string
		route [3]string // method, path, fixture
		run   func(t *testing.T, c *Client)
	}{
		{"requestable packages", [3]string{"GET", em + "/accessPackages/filterByCurrentUser(on='allowedRequestor')", "accesspackage-filterbycurrentuser.json"},
			func(t *testing.T, c *Client) {
				ps, err := c.ForUser(user).RequestablePackages(ctx, entitlement.PackageQuery{})
				if err != nil {
					t.Fatal(err)
				}
				if len(ps) != 1 || ps[0].ID != "d378b3b7-b42a-445a-8780-2841194f777e" || ps[0].Name != "Sales resources" ||
					ps[0].CatalogName != "Sales" || ps[0].IsHidden || ps[0].CreatedAt.IsZero() {
					t.Fatalf("packages = %+v", ps)
				}
			}},
		{"policy requirements", [3]string{"POST", em + "/accessPackages/pkg-1/getApplicablePolicyRequirements", "accesspackage-getapplicablepolicyrequirements.json"},
			func(t *testing.T, c *Client) {
				rs, err := c.ForUser(user).Requirements(ctx, "pkg-1")
				if err != nil {
					t.Fatal(err)
				}
				if len(rs) != 1 {
					t.Fatalf("requirements = %+v", rs)
				}
				r := rs[0]
				if r.PolicyID != "d6322c23-04d6-eb11-b22b-c8d9d21f4e9a" || !r.RequestorJustificationRequired || !r.ApprovalRequired || !r.CustomScheduleAllowed {
					t.Errorf("requirements = %+v", r)
				}
				if len(r.Questions) != 2 {
					t.Fatalf("questions = %+v", r.Questions)
				}
				q0, q1 := r.Questions[0], r.Questions[1]
				if q0.Kind != entitlement.QuestionText || !q0.Required || q0.Regex != `^INC\d{4,}$` || q0.MultiLine {
					t.Errorf("text question = %+v", q0)
				}
				if q1.Kind != entitlement.QuestionChoice || len(q1.Choices) != 2 || q1.Choices[1].Value != "prod-us" || q1.Choices[1].TextFor("") != "Production US" {
					t.Errorf("choice question = %+v", q1)
				}
				if r.Schedule.Expiration.Type != entitlement.ExpireAfterDuration || r.Schedule.Expiration.Duration != "P90D" {
					t.Errorf("schedule = %+v (want afterDuration P90D, not weeks)", r.Schedule)
				}
			}},
		{"policy", [3]string{"GET", em + "/assignmentPolicies/87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187", "accesspackageassignmentpolicy-get.json"},
			func(t *testing.T, c *Client) {
				p, err := c.Policy(ctx, "87e1c7f7-c7f7-87e1-f7c7-e187f7c7e187")
				if err != nil {
					t.Fatal(err)
				}
				if p.PackageID != "49d2c59b-0a81-463d-a8ec-ddad3935d8a0" || p.Scope != entitlement.ScopeAllDirectoryUsers || !p.ApprovalRequired || !p.SelfAddAllowed {
					t.Errorf("policy = %+v", p)
				}
				if p.Expiration.Type != entitlement.ExpireAfterDuration || p.Expiration.Duration != "P365D" {
					t.Errorf("expiration = %+v", p.Expiration)
				}
				if len(p.Stages) != 1 {
					t.Fatalf("stages = %+v", p.Stages)
				}
				st := p.Stages[0]
				if st.DurationBeforeAutomaticDenial != "P2D" || st.DurationBeforeEscalation != "PT0S" {
					t.Errorf("stage durations = %q %q", st.DurationBeforeAutomaticDenial, st.DurationBeforeEscalation)
				}
				if len(st.PrimaryApprovers) != 1 || st.PrimaryApprovers[0].Kind != entitlement.SetRequestorManager || st.PrimaryApprovers[0].ManagerLevel != 1 {
					t.Errorf("primary = %+v", st.PrimaryApprovers)
				}
				if len(st.FallbackPrimaryApprovers) != 1 || st.FallbackPrimaryApprovers[0] != (entitlement.SubjectSet{Kind: entitlement.SetSingleUser, UserID: "e6bf4d7d-6824-4dd0-809d-5bf42d4817c2", Description: "user"}) {
					t.Errorf("fallback = %+v", st.FallbackPrimaryApprovers)
				}
			}},
		{"my requests", [3]string{"GET", em + "/assignmentRequests/filterByCurrentUser(on='target')", "accesspackageassignmentrequest-filterbycurrentuser.json"},
			func(t *testing.T, c *Client) {
				rs, err := c.ForUser(user).MyRequests(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want := time.Date(2021, 1, 19, 20, 2, 23, 907e6, time.UTC)
				if len(rs) != 1 || rs[0].Type != entitlement.RequestAdminAdd || rs[0].State != entitlement.StateDelivered || !rs[0].CreatedAt.Equal(want) || rs[0].CompletedAt.IsZero() {
					t.Fatalf("requests = %+v", rs)
				}
			}},
		{"approval stages", [3]string{"GET", em + "/accessPackageAssignmentApprovals/abd306ef-f7b2-4a10-9fd1-493454322489/stages", "approval-list-stages.json"},
			func(t *testing.T, c *Client) {
				ap, err := c.ForUser(user).Approval(ctx, "abd306ef-f7b2-4a10-9fd1-493454322489")
				if err != nil {
					t.Fatal(err)
				}
				cur, ok := ap.Current()
				if !ok || cur.ID != "d4fa4045-4716-436d-aec5-57b0a713f095" || !cur.AssignedToMe || cur.ReviewResult != entitlement.ReviewNotReviewed || !cur.ReviewedAt.IsZero() {
					t.Fatalf("approval = %+v", ap)
				}
			}},
		{"my assignments", [3]string{"GET", em + "/assignments/filterByCurrentUser(on='target')", "accesspackageassignment-filterbycurrentuser.json"},
			func(t *testing.T, c *Client) {
				as, err := c.ForUser(user).MyAssignments(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(as) != 1 || as[0].State != entitlement.AssignmentDelivered || as[0].PackageID != "d378b3b7-b42a-445a-8780-2841194f777e" ||
					!as[0].EndsAt().Equal(time.Date(2021, 4, 19, 20, 2, 40, 970e6, time.UTC)) || !as[0].ExpiredAt.IsZero() {
					t.Fatalf("assignments = %+v", as)
				}
			}},
		{"connected organizations", [3]string{"GET", em + "/connectedOrganizations", "connectedorganization-list.json"},
			func(t *testing.T, c *Client) {
				os, err := c.ConnectedOrgs(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(os) != 2 {
					t.Fatalf("orgs = %+v", os)
				}
				// The docs example writes @odata.type without '#': the source still reads as a tenant.
				if os[0].State != entitlement.OrgConfigured || os[0].TenantID() != "bf85dc9d-cb43-44a4-80c4-469e8c58249e" || os[0].Sources[0].DisplayName != "Wingtip Toys Co" {
					t.Errorf("org 0 = %+v", os[0])
				}
				if os[1].State != entitlement.OrgProposed || len(os[1].Sources) != 1 || os[1].Sources[0].Kind != entitlement.SourceDomain || os[1].Sources[0].DomainName != "example.com" {
					t.Errorf("org 1 = %+v", os[1])
				}
			}},
		{"catalogs", [3]string{"GET", em + "/catalogs", "entitlementmanagement-list-catalogs.json"},
			func(t *testing.T, c *Client) {
				cs, err := c.Catalogs(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(cs) != 1 || cs[0].Name != "General" || cs[0].Type != "userManaged" || cs[0].State != "published" || !cs[0].IsExternallyVisible {
					t.Fatalf("catalogs = %+v", cs)
				}
			}},
		{"user", [3]string{"GET", "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd", "user-get.json"},
			func(t *testing.T, c *Client) {
				u, err := c.User(ctx, "87d349ed-44d7-43e1-9a83-5f2406dee5bd")
				if err != nil {
					t.Fatal(err)
				}
				if u.Name != "Adele Vance" || u.Mail != "AdeleV@contoso.com" || u.UserType != "Member" || u.IsGuest() || !u.AccountEnabled || u.TenantID == "" {
					t.Fatalf("user = %+v", u)
				}
			}},
		{"guest user by UPN", [3]string{"GET", "/users/gus_fabrikam.example#EXT#@contoso.onmicrosoft.com", "guest-user-get.json"},
			func(t *testing.T, c *Client) {
				u, err := c.User(ctx, "gus_fabrikam.example#EXT#@contoso.onmicrosoft.com")
				if err != nil {
					t.Fatal(err)
				}
				if !u.IsGuest() || !u.PendingAcceptance() || u.ID != "bbbbbbbb-0000-0000-0000-000000000001" {
					t.Fatalf("user = %+v", u)
				}
			}},
		{"manager", [3]string{"GET", "/users/u-1/manager", "user-list-manager.json"},
			func(t *testing.T, c *Client) {
				m, err := c.Manager(ctx, "u-1")
				if err != nil {
					t.Fatal(err)
				}
				if m.ID != "14ac7f65-ac73-4e2d-a6ab-9ab3f6a1a6d4" || m.Name != "Sara Davis" {
					t.Fatalf("manager = %+v", m)
				}
			}},
		{"tenant by domain", [3]string{"GET", "/tenantRelationships/findTenantInformationByDomainName(domainName='contoso.com')", "tenantrelationship-findtenantinformationbydomainname.json"},
			func(t *testing.T, c *Client) {
				ti, err := c.TenantByDomain(ctx, "Contoso.com")
				if err != nil {
					t.Fatal(err)
				}
				if ti != (entitlement.TenantInfo{TenantID: "6babcaad-604b-40ac-a9d7-9fd97c0b779f", DisplayName: "Contoso", DefaultDomain: "contoso.com"}) {
					t.Fatalf("tenant = %+v", ti)
				}
			}},
		{"invitation", [3]string{"POST", "/invitations", "invitation-post.json"},
			func(t *testing.T, c *Client) {
				inv, err := c.Invite(ctx, entitlement.NewInvitation{Email: "admin@fabrikam.com", RedirectURL: "https://myapp.contoso.com"})
				if err != nil {
					t.Fatal(err)
				}
				if inv.ID != "7b92124c-9fa9-406f-8b8e-225df8376ba9" || inv.InvitedUserID != "243b1de4-ad9f-421c-a933-d55305fb165d" || !strings.HasPrefix(inv.RedeemURL, "https://") || inv.Status != "Completed" {
					t.Fatalf("invitation = %+v", inv)
				}
			}},
		// The list pages' examples carry the docs' quirks: "completedDate" instead of completedDateTime and
		// a schedule whose @odata.type lacks the '#'. Neither may break the read.
		{"assignment requests (admin)", [3]string{"GET", em + "/assignmentRequests", "entitlementmanagement-list-assignmentrequests.json"},
			func(t *testing.T, c *Client) {
				rs, err := c.Requests(ctx, entitlement.RequestFilter{})
				if err != nil {
					t.Fatal(err)
				}
				want := time.Date(2019, 10, 25, 22, 55, 11, 623e6, time.UTC)
				if len(rs) != 1 || rs[0].ID != "7999249e-249e-7999-9e24-99799e249979" || rs[0].Type != entitlement.RequestUserAdd ||
					rs[0].State != entitlement.StateDelivered || !rs[0].CreatedAt.Equal(want) {
					t.Fatalf("requests = %+v", rs)
				}
			}},
		{"assignments (admin)", [3]string{"GET", em + "/assignments", "entitlementmanagement-list-assignments.json"},
			func(t *testing.T, c *Client) {
				as, err := c.Assignments(ctx, entitlement.AssignmentFilter{})
				if err != nil {
					t.Fatal(err)
				}
				want := time.Date(2019, 4, 25, 23, 45, 40, 420e6, time.UTC)
				if len(as) != 1 || as[0].ID != "2a353749-3749-2a35-4937-352a4937352a" || as[0].State != entitlement.AssignmentDelivered ||
					as[0].Status != "Delivered" || !as[0].ExpiredAt.Equal(want) {
					t.Fatalf("assignments = %+v", as)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.serveFixture(tt.route[0], tt.route[1], tt.route[2])
			c := newTestClient(t, f)
			tt.run(t, c)
			if got := f.callsTo(tt.route[0] + " " + tt.route[1]); got != 1 {
				t.Errorf("calls to %s %s = %d, want 1 (all calls: %v)", tt.route[0], tt.route[1], got, f.calls)
			}
		})
	}
}

func TestCreateRequestResponseParses(t *testing.T) {
	f := newFakeGraph(t)
	f.on("POST", em+"/assignmentRequests", jsonReply(http.StatusCreated, f.fixture("entitlementmanagement-post-assignmentrequests.json")))
	c := newTestClient(t, f)
	r, err := c.AdminAdd(context.Background(), entitlement.AdminAddInput{PackageID: "pkg", PolicyID: "pol", TargetEmail: "gus@fabrikam.example", ConnectedOrgID: "99999999-0000-0000-0000-000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "7a6ab703-0780-4b37-8445-81f679b2d75c" || r.State != entitlement.StateSubmitted || !r.CreatedAt.IsZero() || len(r.Answers) != 2 ||
		r.Answers[0].QuestionID != "8fe745e7-80b2-490d-bd22-4e708c77288c" || r.Answers[1].Value != "This is my answer to a text input question." {
		t.Fatalf("request = %+v", r)
	}
	if r.Schedule.Expiration.Type != entitlement.ExpireNotSpecified {
		t.Errorf("schedule = %+v", r.Schedule)
	}
	body := f.lastBody("POST " + em + "/assignmentRequests")
	asg, _ := body["assignment"].(map[string]any)
	target, _ := asg["target"].(map[string]any)
	co, _ := target["connectedOrganization"].(map[string]any)
	if body["requestType"] != "adminAdd" || asg["accessPackageId"] != "pkg" || asg["assignmentPolicyId"] != "pol" ||
		target["email"] != "gus@fabrikam.example" || co["id"] != "99999999-0000-0000-0000-000000000001" {
		t.Fatalf("body = %v", body)
	}
	if _, has := asg["targetId"]; has {
		t.Errorf("targetId sent for a user not in the directory: %v", asg)
	}
}

// TestMalformedResponses: bodies a client must survive with a clear error instead of a panic.
func TestMalformedResponses(t *testing.T) {
	ctx := context.Background()
	user := userToken("t", "o")
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(c *Client) error
		is      error
		want    []string
	}{
		{"error body without message", jsonReply(http.StatusConflict, []byte(`{"error":{"code":"Conflict"}}`)),
			func(c *Client) error { return c.DeleteConnectedOrg(ctx, "org-1") }, entitlement.ErrConflict,
			[]string{"delete connected organization org-1", "status 409", "code Conflict"}},
		{"error body without error object", jsonReply(http.StatusForbidden, []byte(`{}`)),
			func(c *Client) error { return c.DeleteConnectedOrg(ctx, "org-1") }, entitlement.ErrForbidden, []string{"status 403"}},
		{"empty error body", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) },
			func(c *Client) error { return c.DeleteConnectedOrg(ctx, "org-1") }, entitlement.ErrNotFound, []string{"status 404"}},
		{"html error body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>bad gateway</html>"))
		}, func(c *Client) error { return c.DeleteConnectedOrg(ctx, "org-1") }, entitlement.ErrUnavailable, []string{"status 502"}},
		{"date holding the string null", jsonReply(http.StatusOK, nil),
			func(c *Client) error { _, err := c.ForUser(user).MyAssignments(ctx); return err }, entitlement.ErrUnavailable,
			[]string{"list my assignments", "unreadable response", `"null"`}},
		{"truncated JSON", jsonReply(http.StatusOK, []byte(`{"value":[{"id":"x",`)),
			func(c *Client) error { _, err := c.ForUser(user).MyAssignments(ctx); return err }, entitlement.ErrUnavailable,
			[]string{"list my assignments", "status 200"}},
		{"value is not an array", jsonReply(http.StatusOK, []byte(`{"value":{"id":"x"}}`)),
			func(c *Client) error { _, err := c.ForUser(user).MyAssignments(ctx); return err }, entitlement.ErrUnavailable,
			[]string{"list my assignments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			h := tt.handler
			if tt.name == "date holding the string null" {
				h = jsonReply(http.StatusOK, f.fixture("accesspackageassignment-filterbycurrentuser_malformed.json"))
			}
			f.on("DELETE", em+"/connectedOrganizations/org-1", h)
			f.on("GET", em+"/assignments/filterByCurrentUser(on='target')", h)
			c := newTestClient(t, f)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v", r)
					}
				}()
				err = tt.call(c)
			}()
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err.Error(), w)
				}
			}
			if strings.Contains(err.Error(), "app-token") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}
