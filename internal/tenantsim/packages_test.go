package tenantsim

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestAccessPackagesList(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all", "", []string{PkgTeamMember, PkgProduction, PkgPartner, PkgWikiReader, PkgBreakGlass}},
		{"displayName eq", "$filter=" + url.QueryEscape("displayName eq 'Falcon Wiki Reader'"), []string{PkgWikiReader}},
		{"contains", "$filter=" + url.QueryEscape("contains(displayName,'partner')"), []string{PkgPartner}},
		{"startswith and", "$filter=" + url.QueryEscape("startswith(displayName,'Falcon P') and isHidden eq false"), []string{PkgProduction, PkgPartner}},
		{"catalog id", "$filter=" + url.QueryEscape("catalog/id eq '"+FalconCatalogID+"'"), []string{PkgTeamMember, PkgProduction, PkgPartner, PkgWikiReader, PkgBreakGlass}},
		{"other catalog", "$filter=" + url.QueryEscape("catalog/id eq 'nope'"), nil},
		{"search", "$search=" + url.QueryEscape(`"break-glass"`), []string{PkgBreakGlass}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", em+"accessPackages?"+tc.query, app, nil)
			wantStatus(t, r, 200)
			if got := ids(t, r); !slices.Equal(got, tc.want) {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
			if str(r.body["@odata.context"]) != e.base+"/v1.0/$metadata#identityGovernance/entitlementManagement/accessPackages" {
				t.Fatalf("context %v", r.body["@odata.context"])
			}
		})
	}

	t.Run("bad filter is a 400", func(t *testing.T) {
		wantGraphError(t, e.do("GET", em+"accessPackages?$filter="+url.QueryEscape("displayName eq 'x"), app, nil), 400, "BadRequest")
	})

	t.Run("expand assignmentPolicies", func(t *testing.T) {
		r := e.do("GET", em+"accessPackages?$expand=assignmentPolicies&$filter="+url.QueryEscape("id eq '"+PkgProduction+"'"), app, nil)
		wantStatus(t, r, 200)
		v := values(t, r)
		if len(v) != 1 {
			t.Fatalf("%s", r.raw)
		}
		pols := v[0]["assignmentPolicies"].([]any)
		pol := pols[0].(map[string]any)
		if pol["id"] != PolicyProduction || pol["allowedTargetScope"] != "allMemberUsers" {
			t.Fatalf("policy %v", pol)
		}
		ras := pol["requestApprovalSettings"].(map[string]any)
		stages := ras["stages"].([]any)
		if len(stages) != 2 || ras["isRequestorJustificationRequired"] != true {
			t.Fatalf("approval settings %v", ras)
		}
		s2 := stages[1].(map[string]any)
		prim := s2["primaryApprovers"].([]any)[0].(map[string]any)
		if prim["@odata.type"] != "#microsoft.graph.groupMembers" || prim["groupId"] != ReviewersGroupID {
			t.Fatalf("stage 2 approvers %v", prim)
		}
		s1 := stages[0].(map[string]any)
		if s1["@odata.type"] != nil || s1["durationBeforeEscalation"] != "PT4H" || s1["isEscalationEnabled"] != true {
			t.Fatalf("stage 1 %v", s1)
		}
		exp := pol["expiration"].(map[string]any)
		if exp["type"] != "afterDuration" || exp["duration"] != "P90D" {
			t.Fatalf("expiration %v", exp)
		}
		if _, has := v[0]["catalog"]; has {
			t.Fatal("catalog must not be expanded unless asked")
		}
	})

	t.Run("nested expand of questions", func(t *testing.T) {
		r := e.do("GET", em+"accessPackages/"+PkgProduction+"?$expand="+url.QueryEscape("assignmentPolicies($expand=questions)"), app, nil)
		wantStatus(t, r, 200)
		pol := r.body["assignmentPolicies"].([]any)[0].(map[string]any)
		if qs, ok := pol["questions"].([]any); !ok || len(qs) != 2 {
			t.Fatalf("questions %v", pol["questions"])
		}
	})

	t.Run("paging with $top follows nextLink", func(t *testing.T) {
		var got []string
		next := em + "accessPackages?$top=2"
		pages := 0
		for next != "" {
			r := e.do("GET", next, app, nil)
			wantStatus(t, r, 200)
			got = append(got, ids(t, r)...)
			next = str(r.body["@odata.nextLink"])
			if next != "" && !strings.HasPrefix(next, e.base+"/v1.0/identityGovernance/entitlementManagement/accessPackages?") {
				t.Fatalf("nextLink %q not absolute on the simulator", next)
			}
			pages++
			if pages > 5 {
				t.Fatal("paging does not end")
			}
		}
		if pages != 3 || len(got) != 5 || got[4] != PkgBreakGlass {
			t.Fatalf("pages %d ids %v", pages, got)
		}
	})

	t.Run("get with select", func(t *testing.T) {
		r := e.do("GET", em+"accessPackages/"+PkgPartner+"?$select=displayName&$expand=catalog", app, nil)
		wantStatus(t, r, 200)
		if r.body["displayName"] != "Falcon Partner Collaboration" || r.body["id"] != PkgPartner || r.body["description"] != nil {
			t.Fatalf("%s", r.raw)
		}
		if c := r.body["catalog"].(map[string]any); c["id"] != FalconCatalogID {
			t.Fatalf("catalog %v", c)
		}
		if !strings.HasSuffix(str(r.body["@odata.context"]), "/$entity") {
			t.Fatalf("context %v", r.body["@odata.context"])
		}
		wantGraphError(t, e.do("GET", em+"accessPackages/00000000-0000-0000-0000-00000000dead", app, nil), 404, "ResourceNotFound")
	})
}

func TestFilterByCurrentUserAllowedRequestor(t *testing.T) {
	e := newEnv(t)
	path := em + "accessPackages/filterByCurrentUser(on='allowedRequestor')"
	wantGraphError(t, e.do("GET", path, e.appToken(), nil), 403, "AccessDenied")

	r := e.do("GET", path, e.userToken(UserRita), nil)
	wantStatus(t, r, 200)
	if got := ids(t, r); !slices.Equal(got, []string{PkgTeamMember, PkgProduction, PkgWikiReader}) {
		t.Fatalf("rita sees %v (hidden and partner packages must not be listed)", got)
	}
	r = e.do("GET", path+"?$filter="+url.QueryEscape("catalog/id eq '"+FalconCatalogID+"'"), e.userToken(UserRita), nil)
	if got := ids(t, r); slices.Contains(got, PkgBreakGlass) || len(got) != 3 {
		t.Fatalf("filter by catalog: %v", got)
	}
	r = e.do("GET", path+"?$filter="+url.QueryEscape("id eq '"+PkgBreakGlass+"'"), e.userToken(UserRita), nil)
	wantStatus(t, r, 200)
	if got := ids(t, r); !slices.Equal(got, []string{PkgBreakGlass}) {
		t.Fatalf("hidden package by id: %v", got)
	}
}

func TestApplicablePolicyRequirements(t *testing.T) {
	e := newEnv(t)
	path := em + "accessPackages/" + PkgProduction + "/getApplicablePolicyRequirements"
	wantGraphError(t, e.do("POST", path, e.appToken(), nil), 403, "AccessDenied")
	r := e.do("POST", path, e.userToken(UserRita), nil)
	wantStatus(t, r, 200)
	v := values(t, r)
	if len(v) != 1 {
		t.Fatalf("%s", r.raw)
	}
	req := v[0]
	if req["@odata.type"] != "#microsoft.graph.accessPackageAssignmentRequestRequirements" || req["policyId"] != PolicyProduction ||
		req["isApprovalRequiredForAdd"] != true || req["isRequestorJustificationRequired"] != true || req["allowCustomAssignmentSchedule"] != true {
		t.Fatalf("requirements %v", req)
	}
	qs := req["questions"].([]any)
	q1, q2 := qs[0].(map[string]any), qs[1].(map[string]any)
	if q1["@odata.type"] != "#microsoft.graph.accessPackageTextInputQuestion" || q1["regexPattern"] != `^INC\d{4,}$` || q1["isRequired"] != true {
		t.Fatalf("q1 %v", q1)
	}
	if q2["@odata.type"] != "#microsoft.graph.accessPackageMultipleChoiceQuestion" || len(q2["choices"].([]any)) != 2 {
		t.Fatalf("q2 %v", q2)
	}
	if exp := req["schedule"].(map[string]any)["expiration"].(map[string]any); exp["duration"] != "P90D" {
		t.Fatalf("schedule %v", req["schedule"])
	}
	// A member is not in scope of the partner package: empty collection.
	r = e.do("POST", em+"accessPackages/"+PkgPartner+"/getApplicablePolicyRequirements", e.userToken(UserRita), nil)
	wantStatus(t, r, 200)
	if len(values(t, r)) != 0 {
		t.Fatalf("%s", r.raw)
	}
}

func TestPoliciesCatalogsSettings(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	r := e.do("GET", em+"assignmentPolicies?$filter="+url.QueryEscape("accessPackage/id eq '"+PkgPartner+"'")+"&$expand=questions", app, nil)
	wantStatus(t, r, 200)
	v := values(t, r)
	if len(v) != 1 || v[0]["id"] != PolicyPartner || v[0]["allowedTargetScope"] != "specificConnectedOrganizationUsers" {
		t.Fatalf("%s", r.raw)
	}
	tgt := v[0]["specificAllowedTargets"].([]any)[0].(map[string]any)
	if tgt["@odata.type"] != "#microsoft.graph.connectedOrganizationMembers" || tgt["connectedOrganizationId"] != FabrikamConnectedOrgID {
		t.Fatalf("targets %v", tgt)
	}
	if qs, ok := v[0]["questions"].([]any); !ok || len(qs) != 0 {
		t.Fatalf("questions %v", v[0]["questions"])
	}
	r = e.do("GET", em+"assignmentPolicies/"+PolicyProduction+"?$expand=questions", app, nil)
	wantStatus(t, r, 200)
	if len(r.body["questions"].([]any)) != 2 {
		t.Fatalf("%s", r.raw)
	}

	r = e.do("GET", em+"catalogs", app, nil)
	wantStatus(t, r, 200)
	if got := ids(t, r); !slices.Equal(got, []string{FalconCatalogID}) {
		t.Fatalf("catalogs %v", got)
	}
	r = e.do("GET", em+"catalogs/"+FalconCatalogID+"/resources?$expand=roles", app, nil)
	wantStatus(t, r, 200)
	res := values(t, r)
	if len(res) != 3 || res[0]["originSystem"] != "AadGroup" || res[0]["originId"] != FalconTeamGroupID || res[1]["originId"] != falconSiteURL || res[2]["originSystem"] != "AadApplication" {
		t.Fatalf("resources %s", r.raw)
	}
	if roles := res[1]["roles"].([]any); len(roles) != 2 {
		t.Fatalf("site roles %v", roles)
	}
	r = e.do("GET", em+"catalogs/"+FalconCatalogID+"/resourceRoles?$filter="+url.QueryEscape("originSystem eq 'SharePointOnline'")+"&$expand=resource", app, nil)
	wantStatus(t, r, 200)
	roles := values(t, r)
	if len(roles) != 2 || roles[0]["resource"].(map[string]any)["id"] != resSiteID {
		t.Fatalf("roles %s", r.raw)
	}

	r = e.do("GET", em+"settings", app, nil)
	wantStatus(t, r, 200)
	if r.body["durationUntilExternalUserDeletedAfterBlocked"] != "P30D" || r.body["externalUserLifecycleAction"] != "blockSignInAndDelete" {
		t.Fatalf("%s", r.raw)
	}
	wantGraphError(t, e.do("PATCH", em+"settings", app, map[string]any{"durationUntilExternalUserDeletedAfterBlocked": "30 days"}), 400, "BadRequest")
	wantStatus(t, e.do("PATCH", em+"settings", app, map[string]any{"durationUntilExternalUserDeletedAfterBlocked": "P4W2D"}), 204)
	if r := e.do("GET", em+"settings", app, nil); r.body["durationUntilExternalUserDeletedAfterBlocked"] != "P4W2D" {
		t.Fatalf("%s", r.raw)
	}
	wantGraphError(t, e.do("PATCH", em+"settings", e.userToken(UserRita), map[string]any{"externalUserLifecycleAction": "none"}), 403, "AccessDenied")
}
