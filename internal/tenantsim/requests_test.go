package tenantsim

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func userAdd(pkg, policyID, justification string, answers []any) map[string]any {
	asg := map[string]any{"accessPackageId": pkg}
	if policyID != "" {
		asg["assignmentPolicyId"] = policyID
	}
	b := map[string]any{"requestType": "userAdd", "assignment": asg}
	if justification != "" {
		b["justification"] = justification
	}
	if answers != nil {
		b["answers"] = answers
	}
	return b
}

func textAnswer(qid, v string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": v,
		"answeredQuestion": map[string]any{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": qid}}
}

func (e *env) getRequest(id string) map[string]any {
	e.t.Helper()
	r := e.do("GET", em+"assignmentRequests/"+id+"?$expand=requestor,accessPackage,assignment", e.appToken(), nil)
	wantStatus(e.t, r, 200)
	return r.body
}

func (e *env) stages(id, token string) []map[string]any {
	e.t.Helper()
	r := e.do("GET", em+"accessPackageAssignmentApprovals/"+id+"/stages", token, nil)
	wantStatus(e.t, r, 200)
	return values(e.t, r)
}

func (e *env) groupMembers(gid string) []string {
	e.t.Helper()
	return ids(e.t, e.do("GET", "/v1.0/groups/"+gid+"/members", e.appToken(), nil))
}

func TestManagerApprovalFlow(t *testing.T) {
	e := newEnv(t)
	rita, aaron, megan := e.userToken(UserRita), e.userToken(UserAaron), e.userToken(UserMegan)

	wantGraphError(t, e.do("POST", em+"assignmentRequests", e.appToken(), userAdd(PkgTeamMember, "", "", nil)), 403, "AccessDenied")

	r := e.do("POST", em+"assignmentRequests", rita, userAdd(PkgTeamMember, PolicyTeamMember, "Joining Falcon", nil))
	wantStatus(t, r, 201)
	reqID := str(r.body["id"])
	if r.body["state"] != "submitted" || r.body["status"] != "Accepted" || r.body["requestType"] != "userAdd" ||
		r.header.Get("Location") != e.base+"/v1.0/identityGovernance/entitlementManagement/assignmentRequests/"+reqID ||
		!strings.HasSuffix(str(r.body["@odata.context"]), "assignmentRequests/$entity") {
		t.Fatalf("create: %v %s", r.header, r.raw)
	}
	got := e.getRequest(reqID)
	if got["state"] != "pendingApproval" || got["justification"] != "Joining Falcon" {
		t.Fatalf("after submit: %v", got)
	}
	if req := got["requestor"].(map[string]any); req["objectId"] != UserRita || req["subjectType"] != "user" {
		t.Fatalf("requestor %v", req)
	}
	if ap := got["accessPackage"].(map[string]any); ap["id"] != PkgTeamMember {
		t.Fatalf("accessPackage %v", ap)
	}

	t.Run("duplicate refused", func(t *testing.T) {
		wantGraphError(t, e.do("POST", em+"assignmentRequests", rita, userAdd(PkgTeamMember, "", "", nil)), 400, "ExistingOpenRequest")
	})
	t.Run("userAdd for someone else refused", func(t *testing.T) {
		b := userAdd(PkgWikiReader, "", "", nil)
		b["assignment"].(map[string]any)["targetId"] = UserMegan
		wantGraphError(t, e.do("POST", em+"assignmentRequests", rita, b), 403, "AccessDenied")
	})

	appr := em + "accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"
	wantGraphError(t, e.do("GET", appr, e.appToken(), nil), 403, "AccessDenied")
	if got := ids(t, e.do("GET", appr, aaron, nil)); !slices.Equal(got, []string{reqID}) {
		t.Fatalf("aaron's approvals %v", got)
	}
	if got := ids(t, e.do("GET", em+"assignmentRequests/filterByCurrentUser(on='approver')", aaron, nil)); !slices.Equal(got, []string{reqID}) {
		t.Fatalf("aaron's requests to approve %v", got)
	}
	if got := ids(t, e.do("GET", appr, megan, nil)); len(got) != 0 {
		t.Fatalf("megan's approvals %v", got)
	}
	// The alias path from the v1.0 SDK (assignmentApprovals) serves the same data.
	if got := ids(t, e.do("GET", em+"assignmentApprovals/filterByCurrentUser(on='approver')", aaron, nil)); !slices.Equal(got, []string{reqID}) {
		t.Fatalf("alias %v", got)
	}
	st := e.stages(reqID, aaron)
	if len(st) != 1 || st[0]["reviewResult"] != "NotReviewed" || st[0]["assignedToMe"] != true || st[0]["status"] != "InProgress" {
		t.Fatalf("stages %v", st)
	}
	stage := em + "accessPackageAssignmentApprovals/" + reqID + "/stages/" + str(st[0]["id"])
	if st[0]["reviewedBy"] != nil {
		t.Fatalf("reviewedBy before review: %v", st[0])
	}
	ap := e.do("GET", em+"accessPackageAssignmentApprovals/"+reqID, aaron, nil)
	wantStatus(t, ap, 200)
	if ap.body["id"] != reqID || len(ap.body["stages"].([]any)) != 1 || !strings.HasSuffix(str(ap.body["@odata.context"]), "accessPackageAssignmentApprovals/$entity") {
		t.Fatalf("approval %s", ap.raw)
	}
	wantGraphError(t, e.do("GET", em+"accessPackageAssignmentApprovals/"+reqID, e.appToken(), nil), 403, "AccessDenied")
	wantGraphError(t, e.do("GET", em+"accessPackageAssignmentApprovals/"+reqID, megan, nil), 403, "AccessDenied")

	wantGraphError(t, e.do("PATCH", stage, rita, map[string]any{"reviewResult": "Approve"}), 403, "AccessDenied")
	wantGraphError(t, e.do("PATCH", stage, megan, map[string]any{"reviewResult": "Approve"}), 403, "AccessDenied")
	wantGraphError(t, e.do("PATCH", stage, e.appToken(), map[string]any{"reviewResult": "Approve"}), 403, "AccessDenied")
	wantGraphError(t, e.do("PATCH", stage, aaron, map[string]any{"reviewResult": "Maybe"}), 400, "BadRequest")
	wantStatus(t, e.do("PATCH", stage, aaron, map[string]any{"reviewResult": "Approve", "justification": "ok"}), 204)
	wantGraphError(t, e.do("PATCH", stage, aaron, map[string]any{"reviewResult": "Deny", "justification": "changed my mind"}), 409, "Conflict")

	st = e.stages(reqID, aaron)
	if st[0]["reviewResult"] != "Approve" || st[0]["reviewedBy"].(map[string]any)["id"] != UserAaron || st[0]["reviewedDateTime"] == nil {
		t.Fatalf("decided stage %v", st[0])
	}
	if got := e.getRequest(reqID); got["state"] != "delivering" {
		t.Fatalf("after approval: %v", got["state"])
	}
	e.sim.Advance(5 * time.Second)
	got = e.getRequest(reqID)
	asg, _ := got["assignment"].(map[string]any)
	if got["state"] != "delivered" || got["status"] != "Delivered" || asg == nil || asg["state"] != "delivered" {
		t.Fatalf("after delivery: %v", got)
	}
	if !slices.Contains(e.groupMembers(FalconTeamGroupID), UserRita) {
		t.Fatal("rita was not added to the Falcon Team")
	}
	wantGraphError(t, e.do("POST", em+"assignmentRequests", rita, userAdd(PkgTeamMember, "", "", nil)), 400, "ExistingAssignment")

	mine := e.do("GET", em+"assignments/filterByCurrentUser(on='target')?$expand=accessPackage,target", rita, nil)
	wantStatus(t, mine, 200)
	mv := values(t, mine)
	if len(mv) != 1 || mv[0]["accessPackage"].(map[string]any)["id"] != PkgTeamMember || mv[0]["target"].(map[string]any)["objectId"] != UserRita {
		t.Fatalf("my assignments %s", mine.raw)
	}
	end := mv[0]["schedule"].(map[string]any)["expiration"].(map[string]any)["endDateTime"]
	if end != ts(baseTime.Add(5*time.Second).Add(180*24*time.Hour)) && end != ts(baseTime.Add(180*24*time.Hour)) {
		t.Fatalf("endDateTime %v", end)
	}
	r = e.do("GET", em+"assignments?$filter="+url.QueryEscape("target/objectId eq '"+UserRita+"' and state eq 'Delivered'"), e.appToken(), nil)
	if got := ids(t, r); len(got) != 1 {
		t.Fatalf("filtered assignments %s", r.raw)
	}
	wantGraphError(t, e.do("GET", em+"assignments", rita, nil), 403, "AccessDenied")
	// "Expiring soon" lists filter on the end date.
	for _, tc := range []struct {
		before string
		n      int
	}{{ts(baseTime.Add(181 * 24 * time.Hour)), 1}, {ts(baseTime.Add(179 * 24 * time.Hour)), 0}} {
		r = e.do("GET", em+"assignments?$filter="+url.QueryEscape("state eq 'delivered' and schedule/expiration/endDateTime le "+tc.before), e.appToken(), nil)
		if got := ids(t, r); len(got) != tc.n {
			t.Fatalf("expiring before %s: %s", tc.before, r.raw)
		}
	}

	// Expiry after 180 days removes the grant.
	e.sim.Advance(181 * 24 * time.Hour)
	r = e.do("GET", em+"assignments/filterByCurrentUser(on='target')", rita, nil)
	if v := values(t, r); len(v) != 1 || v[0]["state"] != "expired" || v[0]["expiredDateTime"] == nil {
		t.Fatalf("after expiry %s", r.raw)
	}
	if slices.Contains(e.groupMembers(FalconTeamGroupID), UserRita) {
		t.Fatal("rita still in the Falcon Team after expiry")
	}
	r = e.do("GET", em+"assignmentRequests?$filter="+url.QueryEscape("requestType eq 'systemRemove'")+"&$expand=assignment", e.appToken(), nil)
	if v := values(t, r); len(v) != 1 || v[0]["state"] != "delivered" || v[0]["assignment"].(map[string]any)["id"] != mv[0]["id"] {
		t.Fatalf("systemRemove record: %s", r.raw)
	}
}

func TestTwoStageDenyAtSecondStage(t *testing.T) {
	e := newEnv(t)
	rita, aaron, isaiah, lynne := e.userToken(UserRita), e.userToken(UserAaron), e.userToken(UserIsaiah), e.userToken(UserLynne)
	good := []any{textAnswer(QuestionTicketID, "INC12345"), map[string]any{"@odata.type": "#microsoft.graph.accessPackageAnswerString", "value": "prod-eu",
		"answeredQuestion": map[string]any{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": QuestionEnvironmentID}}}
	bad := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"no justification", userAdd(PkgProduction, "", "", good), "justification"},
		{"no answers", userAdd(PkgProduction, "", "need it", nil), "required question"},
		{"ticket format", userAdd(PkgProduction, "", "need it", []any{textAnswer(QuestionTicketID, "TICKET-1"), good[1]}), "does not match"},
		{"unknown choice", userAdd(PkgProduction, "", "need it", []any{good[0], textAnswer(QuestionEnvironmentID, "prod-mars")}), "not one of its choices"},
		{"unknown question", userAdd(PkgProduction, "", "need it", append([]any{textAnswer("x", "y")}, good...)), "does not have"},
		{"schedule too long", func() map[string]any {
			b := userAdd(PkgProduction, "", "need it", good)
			b["schedule"] = map[string]any{"expiration": map[string]any{"type": "afterDuration", "duration": "P4W2D", "endDateTime": nil}}
			b["schedule"].(map[string]any)["expiration"].(map[string]any)["duration"] = "P13W"
			return b
		}(), "longer than"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", em+"assignmentRequests", rita, tc.body)
			wantGraphError(t, r, 400, "BadRequest")
			if !strings.Contains(r.raw, tc.msg) {
				t.Fatalf("message: %s", r.raw)
			}
		})
	}
	if got := ids(t, e.do("GET", em+"assignmentRequests/filterByCurrentUser(on='createdBy')", rita, nil)); len(got) != 0 {
		t.Fatalf("bad requests were stored: %v", got)
	}

	b := userAdd(PkgProduction, PolicyProduction, "Release 4.2", good)
	b["schedule"] = map[string]any{"startDateTime": nil, "expiration": map[string]any{"type": "afterDuration", "duration": "P4W2D"}}
	r := e.do("POST", em+"assignmentRequests", rita, b)
	wantStatus(t, r, 201)
	reqID := str(r.body["id"])
	if ans := r.body["answers"].([]any); len(ans) != 2 || ans[1].(map[string]any)["displayValue"] != "Production EU" {
		t.Fatalf("answers %v", r.body["answers"])
	}
	st := e.stages(reqID, aaron)
	if len(st) != 2 || st[1]["status"] != "NotStarted" {
		t.Fatalf("stages %v", st)
	}
	s1 := em + "accessPackageAssignmentApprovals/" + reqID + "/stages/" + str(st[0]["id"])
	s2 := em + "accessPackageAssignmentApprovals/" + reqID + "/stages/" + str(st[1]["id"])
	wantGraphError(t, e.do("PATCH", s2, isaiah, map[string]any{"reviewResult": "Approve", "justification": "early"}), 400, "BadRequest")
	wantGraphError(t, e.do("PATCH", s1, aaron, map[string]any{"reviewResult": "Approve"}), 400, "BadRequest")
	wantStatus(t, e.do("PATCH", s1, aaron, map[string]any{"reviewResult": "Approve", "justification": "Release is planned"}), 204)
	if got := ids(t, e.do("GET", em+"accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')", lynne, nil)); !slices.Equal(got, []string{reqID}) {
		t.Fatalf("lynne's approvals %v", got)
	}
	wantStatus(t, e.do("PATCH", s2, isaiah, map[string]any{"reviewResult": "Deny", "justification": "Ticket not approved by CAB"}), 204)
	wantGraphError(t, e.do("PATCH", s2, lynne, map[string]any{"reviewResult": "Approve", "justification": "fine by me"}), 409, "Conflict")
	got := e.getRequest(reqID)
	if got["state"] != "denied" || got["status"] != "Denied" || got["completedDateTime"] == nil || got["assignment"].(map[string]any)["id"] != nil ||
		got["assignment"].(map[string]any)["assignmentPolicyId"] != PolicyProduction {
		t.Fatalf("after deny: %v", got)
	}
	st = e.stages(reqID, rita)
	if st[1]["reviewResult"] != "Deny" || st[1]["justification"] != "Ticket not approved by CAB" || st[1]["reviewedBy"].(map[string]any)["displayName"] != "Isaiah Langer" {
		t.Fatalf("stage 2 %v", st[1])
	}
	// A denied request no longer blocks a new one.
	wantStatus(t, e.do("POST", em+"assignmentRequests", rita, b), 201)
}

func TestAutoDenyEscalationAndCancel(t *testing.T) {
	e := newEnv(t)
	nestor, patti, megan := e.userToken(UserNestor), e.userToken(UserPatti), e.userToken(UserMegan)
	appr := em + "accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')"

	// Nestor has no manager: the fallback approver (Patti) gets it; nobody decides; denied after P14D.
	r := e.do("POST", em+"assignmentRequests", nestor, userAdd(PkgTeamMember, "", "", nil))
	wantStatus(t, r, 201)
	auto := str(r.body["id"])
	if got := ids(t, e.do("GET", appr, patti, nil)); !slices.Contains(got, auto) {
		t.Fatalf("patti (fallback) approvals %v", got)
	}

	// Megan's production request escalates to Patti after PT4H.
	good := []any{textAnswer(QuestionTicketID, "INC0042"), textAnswer(QuestionEnvironmentID, "prod-us")}
	r = e.do("POST", em+"assignmentRequests", megan, userAdd(PkgProduction, "", "hotfix", good))
	wantStatus(t, r, 201)
	esc := str(r.body["id"])
	if got := ids(t, e.do("GET", appr, patti, nil)); slices.Contains(got, esc) {
		t.Fatal("escalation approver sees the request before escalation")
	}
	e.sim.Advance(4*time.Hour + time.Minute)
	if got := ids(t, e.do("GET", appr, patti, nil)); !slices.Contains(got, esc) {
		t.Fatalf("after escalation patti sees %v", got)
	}
	if got := e.getRequest(esc); got["status"] != "PendingApprovalEscalated" {
		t.Fatalf("status %v", got["status"])
	}

	// Cancel the escalated request.
	wantGraphError(t, e.do("POST", em+"assignmentRequests/"+esc+"/cancel", nestor, nil), 404, "ResourceNotFound")
	wantStatus(t, e.do("POST", em+"assignmentRequests/"+esc+"/cancel", megan, nil), 200)
	if got := e.getRequest(esc); got["state"] != "canceled" {
		t.Fatalf("after cancel %v", got["state"])
	}
	wantGraphError(t, e.do("POST", em+"assignmentRequests/"+esc+"/cancel", megan, nil), 400, "RequestNotCancelable")

	e.sim.Advance(14 * 24 * time.Hour)
	got := e.getRequest(auto)
	if got["state"] != "denied" {
		t.Fatalf("auto-deny: %v", got)
	}
	if st := e.stages(auto, patti); st[0]["status"] != "Expired" || st[0]["reviewResult"] != "NotReviewed" {
		t.Fatalf("expired stage %v", st[0])
	}
	if got := ids(t, e.do("GET", appr, patti, nil)); len(got) != 0 {
		t.Fatalf("patti still has %v", got)
	}
}

func TestRequestListFiltersAndNoApproval(t *testing.T) {
	e := newEnv(t)
	rita := e.userToken(UserRita)
	r := e.do("POST", em+"assignmentRequests", rita, userAdd(PkgWikiReader, "", "", nil))
	wantStatus(t, r, 201)
	wiki := str(r.body["id"])
	r = e.do("POST", em+"assignmentRequests", rita, userAdd(PkgTeamMember, "", "", nil))
	wantStatus(t, r, 201)
	team := str(r.body["id"])
	app := e.appToken()
	tests := []struct {
		filter string
		want   []string
	}{
		{"state eq 'pendingApproval'", []string{team}},
		{"state eq 'delivering'", []string{wiki}},
		{"requestType eq 'userAdd'", []string{wiki, team}},
		{"accessPackage/id eq '" + PkgWikiReader + "'", []string{wiki}},
		{"requestor/objectId eq '" + UserRita + "' and id eq '" + team + "'", []string{team}},
	}
	for _, tc := range tests {
		t.Run(tc.filter, func(t *testing.T) {
			r := e.do("GET", em+"assignmentRequests?$filter="+url.QueryEscape(tc.filter), app, nil)
			wantStatus(t, r, 200)
			if got := ids(t, r); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v want %v", got, tc.want)
			}
		})
	}
	e.sim.Advance(3 * time.Second)
	if got := e.getRequest(wiki); got["state"] != "delivered" {
		t.Fatalf("no-approval package not delivered: %v", got["state"])
	}
	if got := ids(t, e.do("GET", em+"assignmentRequests/filterByCurrentUser(on='target')", rita, nil)); !slices.Equal(got, []string{wiki, team}) {
		t.Fatalf("target filter %v", got)
	}
	wantGraphError(t, e.do("GET", em+"assignmentRequests/filterByCurrentUser(on='target')", app, nil), 403, "AccessDenied")
	wantGraphError(t, e.do("GET", em+"assignmentRequests", rita, nil), 403, "AccessDenied")

	// userRemove of the delivered wiki assignment.
	asg := e.getRequest(wiki)["assignment"].(map[string]any)
	r = e.do("POST", em+"assignmentRequests", rita, map[string]any{"requestType": "userRemove", "assignment": map[string]any{"id": asg["id"]}})
	wantStatus(t, r, 201)
	e.sim.Advance(3 * time.Second)
	r = e.do("GET", em+"assignments/"+str(asg["id"]), app, nil)
	if r.body["state"] != "expired" {
		t.Fatalf("after userRemove: %s", r.raw)
	}
}

func TestGzipRequestBody(t *testing.T) {
	e := newEnv(t)
	r := e.doRaw("POST", em+"assignmentRequests", e.userToken(UserMegan), userAdd(PkgWikiReader, PolicyWikiReader, "", nil), true)
	wantStatus(t, r, 201)
	if r.body["requestType"] != "userAdd" {
		t.Fatalf("%s", r.raw)
	}
}

func TestIncompatiblePackages(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	// Gus gets the partner package (adminAdd by email); the production package is incompatible with it.
	r := e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminAdd", "assignment": map[string]any{
		"accessPackageId": PkgPartner, "assignmentPolicyId": PolicyPartner, "target": map[string]any{"email": "gus@fabrikam.example"}}})
	wantStatus(t, r, 201)
	e.sim.Advance(3 * time.Second)
	r = e.do("GET", "/v1.0/users?$select=id,userType&$filter="+url.QueryEscape("mail eq 'gus@fabrikam.example'"), app, nil)
	guest := values(t, r)[0]
	if guest["userType"] != "Guest" {
		t.Fatalf("%s", r.raw)
	}
	// Production's policy is for members only, so use adminAdd against the policy scope: refused for the guest.
	r = e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminAdd", "assignment": map[string]any{
		"accessPackageId": PkgProduction, "assignmentPolicyId": PolicyProduction, "targetId": guest["id"]}})
	wantGraphError(t, r, 403, "AccessDenied")
	// Adding the partner package again is a duplicate.
	r = e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminAdd", "assignment": map[string]any{
		"accessPackageId": PkgPartner, "assignmentPolicyId": PolicyPartner, "targetId": guest["id"]}})
	wantGraphError(t, r, 400, "ExistingAssignment")

	// Rita holds Production (direct assignment); Break-glass is incompatible with it.
	r = e.do("POST", em+"assignmentRequests", app, map[string]any{"requestType": "adminAdd", "assignment": map[string]any{
		"accessPackageId": PkgProduction, "assignmentPolicyId": PolicyProduction, "targetId": UserRita}})
	wantStatus(t, r, 201)
	e.sim.Advance(3 * time.Second)
	r = e.do("POST", em+"assignmentRequests", e.userToken(UserRita), userAdd(PkgBreakGlass, "", "outage", nil))
	wantGraphError(t, r, 400, "IncompatibleAccessPackage")
}

func TestExtendAssignment(t *testing.T) {
	e := newEnv(t)
	rita := e.userToken(UserRita)
	r := e.do("POST", em+"assignmentRequests", rita, userAdd(PkgWikiReader, "", "", nil))
	wantStatus(t, r, 201)
	e.sim.Advance(3 * time.Second)
	asg := e.getRequest(str(r.body["id"]))["assignment"].(map[string]any)
	e.sim.Advance(300 * 24 * time.Hour)
	ext := map[string]any{"requestType": "userUpdate", "justification": "still reading",
		"assignment": map[string]any{"id": asg["id"], "accessPackageId": PkgWikiReader, "assignmentPolicyId": PolicyWikiReader}}
	wantGraphError(t, e.do("POST", em+"assignmentRequests", e.userToken(UserMegan), ext), 403, "AccessDenied")
	r = e.do("POST", em+"assignmentRequests", rita, ext)
	wantStatus(t, r, 201)
	if r.body["requestType"] != "userUpdate" {
		t.Fatalf("%s", r.raw)
	}
	e.sim.Advance(3 * time.Second)
	a := e.do("GET", em+"assignments/"+str(asg["id"]), rita, nil)
	wantStatus(t, a, 200)
	end := a.body["schedule"].(map[string]any)["expiration"].(map[string]any)["endDateTime"]
	want := ts(e.sim.Now().Add(-time.Second).Add(365 * 24 * time.Hour))
	if a.body["state"] != "delivered" || str(end) < want[:10] {
		t.Fatalf("extended assignment %s (want end around %s)", a.raw, want)
	}
	// The original end (day 365) has passed; the extension keeps the assignment.
	e.sim.Advance(100 * 24 * time.Hour)
	if a := e.do("GET", em+"assignments/"+str(asg["id"]), rita, nil); a.body["state"] != "delivered" {
		t.Fatalf("extension lost: %s", a.raw)
	}
}

func TestScheduledStart(t *testing.T) {
	e := newEnv(t)
	megan := e.userToken(UserMegan)
	good := []any{textAnswer(QuestionTicketID, "INC7777"), textAnswer(QuestionEnvironmentID, "prod-eu")}
	b := userAdd(PkgProduction, "", "planned migration", good)
	start := baseTime.Add(48 * time.Hour)
	b["schedule"] = map[string]any{"startDateTime": ts(start),
		"expiration": map[string]any{"type": "afterDateTime", "endDateTime": ts(start.Add(7 * 24 * time.Hour))}}
	r := e.do("POST", em+"assignmentRequests", megan, b)
	wantStatus(t, r, 201)
	id := str(r.body["id"])
	for _, who := range []string{UserAaron, UserIsaiah} {
		tok := e.userToken(who)
		st := e.stages(id, tok)
		for _, s := range st {
			if s["status"] == "InProgress" {
				wantStatus(t, e.do("PATCH", em+"accessPackageAssignmentApprovals/"+id+"/stages/"+str(s["id"]), tok,
					map[string]any{"reviewResult": "Approve", "justification": "planned"}), 204)
			}
		}
	}
	if got := e.getRequest(id); got["state"] != "scheduled" || got["status"] != "Scheduled" {
		t.Fatalf("before start: %v %v", got["state"], got["status"])
	}
	e.sim.Advance(48*time.Hour + time.Second)
	e.sim.Advance(3 * time.Second)
	got := e.getRequest(id)
	asg := got["assignment"].(map[string]any)
	end := asg["schedule"].(map[string]any)["expiration"].(map[string]any)["endDateTime"]
	if got["state"] != "delivered" || end != ts(start.Add(7*24*time.Hour)) {
		t.Fatalf("after start: %v, end %v", got["state"], end)
	}
}
