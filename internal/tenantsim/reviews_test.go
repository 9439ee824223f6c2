package tenantsim

import (
	"net/http"
	"testing"
	"time"
)

const prodInst = "/v1.0/identityGovernance/accessReviews/definitions/" + ReviewProductionID + "/instances"

func firstInstance(t *testing.T, e *env, tok, defID string) string {
	t.Helper()
	r := e.do(http.MethodGet, "/v1.0/identityGovernance/accessReviews/definitions/"+defID+"/instances", tok, nil)
	wantStatus(t, r, http.StatusOK)
	v := values(t, r)
	if len(v) == 0 {
		t.Fatalf("no instances: %s", r.raw)
	}
	return str(v[0]["id"])
}

func TestReviewManagerAcceptRecommendationsAndApply(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedReviews()
	app, aaron, megan := e.appToken(), e.userToken(UserAaron), e.userToken(UserMegan)
	inst := firstInstance(t, e, app, ReviewProductionID)
	base := prodInst + "/" + inst

	// Aaron's items: Rita (recommend Approve) and Megan (60 days without sign-in: Deny).
	r := e.do(http.MethodGet, base+"/decisions/filterByCurrentUser(on='reviewer')?$expand=insights", aaron, nil)
	wantStatus(t, r, http.StatusOK)
	rec := map[string]string{}
	var meganItem string
	for _, d := range values(t, r) {
		p := d["principal"].(map[string]any)
		rec[str(p["id"])] = str(d["recommendation"])
		if str(p["id"]) == UserMegan {
			meganItem = str(d["id"])
			if ins, _ := d["insights"].([]any); len(ins) != 1 {
				t.Errorf("Megan's item insights = %v, want one userSignInInsight", d["insights"])
			}
		}
	}
	if rec[UserRita] != "Approve" || rec[UserMegan] != "Deny" || len(rec) != 2 {
		t.Fatalf("recommendations = %v", rec)
	}

	cases := []struct {
		name   string
		method string
		path   string
		tok    string
		body   any
		status int
	}{
		{"app cannot decide", http.MethodPatch, base + "/decisions/" + meganItem, app, map[string]any{"decision": "Deny"}, http.StatusForbidden},
		{"non-reviewer cannot decide", http.MethodPatch, base + "/decisions/" + meganItem, megan, map[string]any{"decision": "Approve", "justification": "x"}, http.StatusForbidden},
		{"approve needs justification", http.MethodPatch, base + "/decisions/" + meganItem, aaron, map[string]any{"decision": "Approve"}, http.StatusBadRequest},
		{"bad decision", http.MethodPatch, base + "/decisions/" + meganItem, aaron, map[string]any{"decision": "Maybe"}, http.StatusBadRequest},
		{"app cannot accept recommendations", http.MethodPost, base + "/acceptRecommendations", app, nil, http.StatusForbidden},
		{"apply before completion", http.MethodPost, base + "/applyDecisions", app, nil, http.StatusBadRequest},
		{"reviewer is not admin", http.MethodPost, base + "/stop", aaron, nil, http.StatusForbidden},
		{"accept recommendations", http.MethodPost, base + "/acceptRecommendations", aaron, nil, http.StatusNoContent},
		{"remind", http.MethodPost, base + "/sendReminder", app, nil, http.StatusNoContent},
		{"stop", http.MethodPost, base + "/stop", app, nil, http.StatusNoContent},
		{"decide after stop", http.MethodPatch, base + "/decisions/" + meganItem, aaron, map[string]any{"decision": "Deny"}, http.StatusBadRequest},
		{"apply", http.MethodPost, base + "/applyDecisions", app, nil, http.StatusNoContent},
	}
	for _, c := range cases {
		if r := e.do(c.method, c.path, c.tok, c.body); r.status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.raw)
		}
	}
	r = e.do(http.MethodGet, base, app, nil)
	if str(r.body["status"]) != "Applied" {
		t.Fatalf("status = %v, want Applied", r.body["status"])
	}
	r = e.do(http.MethodGet, "/v1.0/identityGovernance/entitlementManagement/assignments?$expand=target&$filter=accessPackage/id%20eq%20'"+PkgProduction+"'", app, nil)
	states := map[string]string{}
	for _, a := range values(t, r) {
		states[str(a["target"].(map[string]any)["objectId"])] = str(a["state"])
	}
	if states[UserRita] != "delivered" || states[UserMegan] != "expired" {
		t.Fatalf("assignment states after apply = %v (%s)", states, r.raw)
	}
}

func TestReviewGuestSelfReviewAutoAppliesDefault(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedReviews()
	app := e.appToken()
	inst := firstInstance(t, e, app, ReviewPartnerID)
	r := e.do(http.MethodGet, "/v1.0/identityGovernance/accessReviews/definitions/"+ReviewPartnerID+"/instances/"+inst+"/contactedReviewers", app, nil)
	v := values(t, r)
	if len(v) != 1 || str(v[0]["displayName"]) != "Gus Guest" {
		t.Fatalf("contacted reviewers = %s", r.raw)
	}
	// Nobody decides: at the end the default (Deny) is applied automatically.
	e.sim.Advance(8 * 24 * time.Hour)
	e.sim.Tick()
	r = e.do(http.MethodGet, "/v1.0/identityGovernance/accessReviews/definitions/"+ReviewPartnerID+"/instances/"+inst, app, nil)
	if str(r.body["status"]) != "Applied" {
		t.Fatalf("status = %v, want Applied", r.body["status"])
	}
}

func TestReviewBatchRequests(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedLargeReview(45)
	app, aaron := e.appToken(), e.userToken(UserAaron)
	inst := firstInstance(t, e, app, ReviewLargeID)
	base := "identityGovernance/accessReviews/definitions/" + ReviewLargeID + "/instances/" + inst
	r := e.do(http.MethodGet, "/v1.0/"+base+"/decisions/filterByCurrentUser(on='reviewer')?$top=20", aaron, nil)
	page := values(t, r)
	if len(page) != 20 || r.body["@odata.nextLink"] == nil {
		t.Fatalf("page of %d, nextLink %v", len(page), r.body["@odata.nextLink"])
	}
	var reqs []any
	for i, d := range page {
		reqs = append(reqs, map[string]any{"id": str(i), "method": "PATCH", "url": "/" + base + "/decisions/" + str(d["id"]),
			"body": map[string]any{"decision": "Deny", "justification": "left"}})
	}
	r = e.do(http.MethodPost, "/v1.0/$batch", aaron, map[string]any{"requests": reqs})
	wantStatus(t, r, http.StatusOK)
	for _, x := range r.body["responses"].([]any) {
		if st := x.(map[string]any)["status"].(float64); st != 204 {
			t.Fatalf("batch step answered %v: %s", st, r.raw)
		}
	}
	r = e.do(http.MethodGet, "/v1.0/"+base+"/decisions?$filter=decision%20eq%20'NotReviewed'&$count=true", app, nil)
	if n := r.body["@odata.count"].(float64); n != 25 {
		t.Fatalf("NotReviewed after one batch = %v, want 25", n)
	}
	r = e.do(http.MethodPost, "/v1.0/"+base+"/batchRecordDecisions", aaron, map[string]any{"decision": "Approve"})
	wantStatus(t, r, http.StatusNoContent)
	r = e.do(http.MethodGet, "/v1.0/"+base+"/decisions?$filter=decision%20eq%20'NotReviewed'&$count=true", app, nil)
	if n := r.body["@odata.count"].(float64); n != 0 {
		t.Fatalf("NotReviewed after batchRecordDecisions = %v, want 0", n)
	}
	if r := e.do(http.MethodPost, "/v1.0/$batch", aaron, map[string]any{"requests": make([]any, 21)}); r.status != http.StatusBadRequest {
		t.Fatalf("21 requests: %d", r.status)
	}
}

func TestReviewCreateDefinition(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	good := map[string]any{"displayName": "Wiki review",
		"scope":     map[string]any{"query": "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '" + PkgWikiReader + "')", "queryType": "MicrosoftGraph"},
		"reviewers": []any{map[string]any{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}},
		"settings":  map[string]any{"instanceDurationInDays": 14, "recurrence": map[string]any{"pattern": map[string]any{"type": "absoluteMonthly", "interval": 3}, "range": map[string]any{"type": "noEnd", "startDate": "2026-01-05"}}}}
	r := e.do(http.MethodPost, "/v1.0/identityGovernance/accessReviews/definitions", app, good)
	wantStatus(t, r, http.StatusCreated)
	bad := map[string]any{"displayName": "x", "scope": map[string]any{"query": "/groups/1"}, "settings": map[string]any{"instanceDurationInDays": 14}}
	wantStatus(t, e.do(http.MethodPost, "/v1.0/identityGovernance/accessReviews/definitions", app, bad), http.StatusBadRequest)
	wantStatus(t, e.do(http.MethodPost, "/v1.0/identityGovernance/accessReviews/definitions", e.userToken(UserRita), good), http.StatusForbidden)
}
