package tenantsim

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestGuestLifecycle(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	body := map[string]any{"requestType": "AdminAdd", "accessPackageAssignment": map[string]any{
		"accessPackageId": PkgPartner, "assignmentPolicyId": PolicyPartner,
		"target": map[string]any{"email": "gus@fabrikam.example", "connectedOrganization": map[string]any{"id": FabrikamConnectedOrgID}}}}
	r := e.do("POST", em+"assignmentRequests", app, body)
	wantStatus(t, r, 201)
	reqID := str(r.body["id"])
	if r.body["requestType"] != "adminAdd" {
		t.Fatalf("%s", r.raw)
	}
	got := e.getRequest(reqID)
	if got["state"] != "delivering" {
		t.Fatalf("adminAdd must bypass approval: %v", got["state"])
	}
	if tgt := got["assignment"].(map[string]any)["target"].(map[string]any); tgt["objectId"] != nil || tgt["email"] != "gus@fabrikam.example" {
		t.Fatalf("target before delivery %v", tgt)
	}
	e.sim.Advance(3 * time.Second)
	got = e.getRequest(reqID)
	tgt := got["assignment"].(map[string]any)["target"].(map[string]any)
	guestID := str(tgt["objectId"])
	if got["state"] != "delivered" || guestID == "" || tgt["connectedOrganization"].(map[string]any)["id"] != FabrikamConnectedOrgID {
		t.Fatalf("after delivery %v", got)
	}
	r = e.do("GET", "/v1.0/users/"+guestID+"?$select=id,userType,externalUserState,mail,userPrincipalName,accountEnabled,creationType", app, nil)
	wantStatus(t, r, 200)
	if r.body["userType"] != "Guest" || r.body["externalUserState"] != "PendingAcceptance" || r.body["mail"] != "gus@fabrikam.example" ||
		r.body["userPrincipalName"] != "gus_fabrikam.example#EXT#@contoso.onmicrosoft.com" || r.body["creationType"] != "Invitation" ||
		r.body["displayName"] != nil || r.body["accountEnabled"] != true {
		t.Fatalf("guest %s", r.raw)
	}
	if !slices.Contains(e.groupMembers(FalconTeamGroupID), guestID) {
		t.Fatal("guest not in the Falcon Team")
	}

	if r := e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserGus)); r.status != 400 || r.body["suberror"] != "consent_required" ||
		!strings.HasPrefix(str(r.body["error_description"]), "AADSTS65001:") {
		t.Fatalf("guest pending acceptance got a token: %s", r.raw)
	}

	// Invitation (the bot re-sends it) and redemption in a browser.
	r = e.do("POST", "/v1.0/invitations", app, map[string]any{"invitedUserEmailAddress": "gus@fabrikam.example",
		"inviteRedirectUrl": "https://teams.microsoft.com", "sendInvitationMessage": false})
	wantStatus(t, r, 201)
	if r.body["invitedUser"].(map[string]any)["id"] != guestID || r.body["status"] != "PendingAcceptance" {
		t.Fatalf("invitation %s", r.raw)
	}
	redeem := str(r.body["inviteRedeemUrl"])
	if !strings.HasPrefix(redeem, e.base+"/_sim/redeem/") {
		t.Fatalf("inviteRedeemUrl %q", redeem)
	}
	page := e.do("GET", redeem, "", nil)
	wantStatus(t, page, 200)
	if !strings.Contains(page.raw, "You accepted the invitation to Contoso") || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("redeem page %q", page.raw)
	}
	r = e.do("GET", "/v1.0/users/"+guestID+"?$select=id,externalUserState", app, nil)
	if r.body["externalUserState"] != "Accepted" {
		t.Fatalf("after redeem %s", r.raw)
	}

	// Now Gus can get a Contoso token (as the guest) and sees his assignment.
	obo := e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserGus))
	wantStatus(t, obo, 200)
	gus := str(obo.body["access_token"])
	if c := claimsOf(t, gus); c["oid"] != guestID || c["tid"] != ContosoTenantID {
		t.Fatalf("guest token %v", c)
	}
	if got := ids(t, e.do("GET", em+"assignments/filterByCurrentUser(on='target')", gus, nil)); len(got) != 1 {
		t.Fatalf("guest assignments %v", got)
	}

	// Expiry after P30D blocks the guest, and settings' P30D later deletes it.
	e.sim.Advance(30*24*time.Hour + time.Minute)
	r = e.do("GET", "/v1.0/users/"+guestID+"?$select=accountEnabled", app, nil)
	if r.body["accountEnabled"] != false {
		t.Fatalf("guest not blocked: %s", r.raw)
	}
	if r := e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserGus)); r.status != 400 || !strings.HasPrefix(str(r.body["error_description"]), "AADSTS50057:") {
		t.Fatalf("blocked guest got a token: %s", r.raw)
	}
	if slices.Contains(e.groupMembers(FalconTeamGroupID), guestID) {
		t.Fatal("blocked guest still in the team")
	}
	e.sim.Advance(30 * 24 * time.Hour)
	wantGraphError(t, e.do("GET", "/v1.0/users/"+guestID, app, nil), 404, "Request_ResourceNotFound")
}

func TestGuestDelegatedRequestWithSponsors(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	// Gus becomes a guest through an invitation (not entitlement management).
	r := e.do("POST", "/v1.0/invitations", app, map[string]any{"invitedUserEmailAddress": "gus@fabrikam.example", "inviteRedirectUrl": "https://teams.microsoft.com"})
	wantStatus(t, r, 201)
	// Fiona (external sponsor) also has a guest account, so she can approve with a Contoso token.
	fi := e.do("POST", "/v1.0/invitations", app, map[string]any{"invitedUserEmailAddress": "fiona@fabrikam.example", "inviteRedirectUrl": "https://teams.microsoft.com"})
	wantStatus(t, fi, 201)
	wantStatus(t, e.do("GET", str(fi.body["inviteRedeemUrl"]), "", nil), 200)
	// Until he accepts the invitation, Gus cannot get a Contoso token.
	if r := e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserGus)); r.status != 400 || r.body["suberror"] != "consent_required" {
		t.Fatalf("pending guest got a token: %s", r.raw)
	}
	wantStatus(t, e.do("GET", str(r.body["inviteRedeemUrl"]), "", nil), 200)
	gus := str(e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserGus)).body["access_token"])
	fiona := str(e.obo(ContosoTenantID, e.assertion(FabrikamTenantID, UserFiona)).body["access_token"])
	if gus == "" || fiona == "" {
		t.Fatal("guest tokens")
	}
	r = e.do("GET", em+"accessPackages/filterByCurrentUser(on='allowedRequestor')", gus, nil)
	if got := ids(t, r); !slices.Equal(got, []string{PkgPartner}) {
		t.Fatalf("guest can request %v", got)
	}
	r = e.do("POST", em+"assignmentRequests", gus, userAdd(PkgPartner, "", "Working on Falcon", nil))
	wantStatus(t, r, 201)
	reqID := str(r.body["id"])
	appr := em + "accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"
	for name, tok := range map[string]string{"patti": e.userToken(UserPatti), "fiona": fiona} {
		if got := ids(t, e.do("GET", appr, tok, nil)); !slices.Equal(got, []string{reqID}) {
			t.Fatalf("%s approvals %v", name, got)
		}
	}
	st := e.stages(reqID, fiona)
	wantStatus(t, e.do("PATCH", em+"accessPackageAssignmentApprovals/"+reqID+"/stages/"+str(st[0]["id"]), fiona, map[string]any{"reviewResult": "Approve"}), 204)
	wantGraphError(t, e.do("PATCH", em+"accessPackageAssignmentApprovals/"+reqID+"/stages/"+str(st[0]["id"]), e.userToken(UserPatti), map[string]any{"reviewResult": "Deny"}), 409, "Conflict")
	e.sim.Advance(3 * time.Second)
	if got := e.getRequest(reqID); got["state"] != "delivered" {
		t.Fatalf("state %v", got["state"])
	}
	// Members cannot request the partner package.
	wantGraphError(t, e.do("POST", em+"assignmentRequests", e.userToken(UserRita), userAdd(PkgPartner, "", "", nil)), 403, "AccessDenied")
	wantGraphError(t, e.do("POST", em+"assignmentRequests", e.userToken(UserRita), userAdd(PkgPartner, PolicyPartner, "", nil)), 403, "AccessDenied")
}

func TestAdminAddValidation(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	tests := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no request type", map[string]any{"assignment": map[string]any{"accessPackageId": PkgTeamMember}}, 400, "BadRequest"},
		{"no assignment", map[string]any{"requestType": "adminAdd"}, 400, "BadRequest"},
		{"no policy", map[string]any{"requestType": "adminAdd", "assignment": map[string]any{"accessPackageId": PkgTeamMember, "targetId": UserMegan}}, 400, "BadRequest"},
		{"policy of another package", map[string]any{"requestType": "adminAdd", "assignment": map[string]any{"accessPackageId": PkgTeamMember, "assignmentPolicyId": PolicyWikiReader, "targetId": UserMegan}}, 400, "BadRequest"},
		{"unknown target", map[string]any{"requestType": "adminAdd", "assignment": map[string]any{"accessPackageId": PkgTeamMember, "assignmentPolicyId": PolicyTeamMember, "targetId": "nobody"}}, 400, "BadRequest"},
		{"bad email", map[string]any{"requestType": "adminAdd", "assignment": map[string]any{"accessPackageId": PkgPartner, "assignmentPolicyId": PolicyPartner, "target": map[string]any{"email": "gus"}}}, 400, "BadRequest"},
		{"unconnected tenant", map[string]any{"requestType": "adminAdd", "assignment": map[string]any{"accessPackageId": PkgPartner, "assignmentPolicyId": PolicyPartner, "target": map[string]any{"email": "nina@northwind.example"}}}, 403, "AccessDenied"},
		{"unknown package", map[string]any{"requestType": "adminAdd", "assignment": map[string]any{"accessPackageId": "nope", "assignmentPolicyId": PolicyPartner, "targetId": UserMegan}}, 404, "ResourceNotFound"},
		{"remove unknown assignment", map[string]any{"requestType": "adminRemove", "assignment": map[string]any{"id": "nope"}}, 404, "ResourceNotFound"},
		{"invalid json", nil, 400, "BadRequest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r resp
			if tc.body == nil {
				r = e.doRawString("POST", em+"assignmentRequests", app, "{not json")
			} else {
				r = e.do("POST", em+"assignmentRequests", app, tc.body)
			}
			wantGraphError(t, r, tc.status, tc.code)
		})
	}
	wantGraphError(t, e.do("POST", em+"assignmentRequests", e.userToken(UserRita), map[string]any{"requestType": "adminAdd",
		"assignment": map[string]any{"accessPackageId": PkgTeamMember, "assignmentPolicyId": PolicyTeamMember, "targetId": UserMegan}}), 403, "AccessDenied")
	// Adele is in AccessBot Admins: delegated adminAdd works and adminRemove ends it.
	adele := e.userToken(UserAdele)
	r := e.do("POST", em+"assignmentRequests", adele, map[string]any{"requestType": "adminAdd",
		"assignment": map[string]any{"accessPackageId": PkgTeamMember, "assignmentPolicyId": PolicyTeamMember, "targetId": UserMegan}})
	wantStatus(t, r, 201)
	e.sim.Advance(3 * time.Second)
	r = e.do("GET", em+"assignments?$filter="+url.QueryEscape("target/objectId eq '"+UserMegan+"'"), adele, nil)
	v := values(t, r)
	if len(v) != 1 || v[0]["state"] != "delivered" {
		t.Fatalf("%s", r.raw)
	}
	wantStatus(t, e.do("POST", em+"assignmentRequests", adele, map[string]any{"requestType": "adminRemove", "assignment": map[string]any{"id": v[0]["id"]}}), 201)
	e.sim.Advance(3 * time.Second)
	if slices.Contains(e.groupMembers(FalconTeamGroupID), UserMegan) {
		t.Fatal("megan still a team member after adminRemove")
	}
}

func TestGuestLifecycleSettings(t *testing.T) {
	tests := []struct {
		action, after string
		blocked       bool
		deleted       bool
	}{
		{"none", "P1D", false, false},
		{"blockSignIn", "P1D", true, false},
		{"blockSignInAndDelete", "P1D", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			e := newEnv(t)
			app := e.appToken()
			wantStatus(t, e.do("PATCH", em+"settings", app, map[string]any{"externalUserLifecycleAction": tc.action,
				"durationUntilExternalUserDeletedAfterBlocked": tc.after}), 204)
			r := e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminAdd", "assignment": map[string]any{
				"accessPackageId": PkgPartner, "assignmentPolicyId": PolicyPartner, "target": map[string]any{"email": "frank@fabrikam.example"}}})
			wantStatus(t, r, 201)
			e.sim.Advance(3 * time.Second)
			asg := e.getRequest(str(r.body["id"]))["assignment"].(map[string]any)
			guestID := str(asg["target"].(map[string]any)["objectId"])
			if guestID == "" {
				t.Fatalf("no guest: %v", asg)
			}
			// The admin removes the assignment: it was the guest's last one.
			wantStatus(t, e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminRemove", "assignment": map[string]any{"id": asg["id"]}}), 201)
			e.sim.Advance(3 * time.Second)
			r = e.do("GET", "/v1.0/users/"+guestID+"?$select=id,accountEnabled", app, nil)
			wantStatus(t, r, 200)
			if r.body["accountEnabled"] != !tc.blocked {
				t.Fatalf("after removal: %s", r.raw)
			}
			e.sim.Advance(25 * time.Hour)
			r = e.do("GET", "/v1.0/users/"+guestID+"?$select=id,accountEnabled", app, nil)
			if (r.status == 404) != tc.deleted {
				t.Fatalf("a day later: %d %s", r.status, r.raw)
			}
		})
	}
	e := newEnv(t)
	wantGraphError(t, e.do("PATCH", em+"settings", e.appToken(), map[string]any{"externalUserLifecycleAction": "removeFromDirectory"}), 400, "BadRequest")
}
