package tenantsim

import (
	"net/http"
	"testing"
	"time"
)

const stagedInst = "/v1.0/identityGovernance/accessReviews/definitions/" + ReviewStagedID + "/instances"

// stageList lists an instance's stages (or the caller's, with mine) as id → status, in order.
func stageList(t *testing.T, e *env, tok, base string, mine bool) ([]string, map[string]string) {
	t.Helper()
	path := base + "/stages"
	if mine {
		path += "/filterByCurrentUser(on='reviewer')"
	}
	r := e.do(http.MethodGet, path, tok, nil)
	wantStatus(t, r, http.StatusOK)
	var order []string
	status := map[string]string{}
	for _, v := range values(t, r) {
		order = append(order, str(v["id"]))
		status[str(v["id"])] = str(v["status"])
	}
	return order, status
}

// stageItems reads a stage's decision items as principal id → item.
func stageItems(t *testing.T, e *env, tok, path string) map[string]map[string]any {
	t.Helper()
	r := e.do(http.MethodGet, path, tok, nil)
	wantStatus(t, r, http.StatusOK)
	out := map[string]map[string]any{}
	for _, v := range values(t, r) {
		out[str(v["principal"].(map[string]any)["id"])] = v
	}
	return out
}

func TestReviewStagesMoveOnWhenStopped(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedStagedReview()
	app, aaron, adele, megan := e.appToken(), e.userToken(UserAaron), e.userToken(UserAdele), e.userToken(UserMegan)
	base := stagedInst + "/" + firstInstance(t, e, app, ReviewStagedID)

	order, status := stageList(t, e, app, base, false)
	if len(order) != 2 || status[order[0]] != "InProgress" || status[order[1]] != "NotStarted" {
		t.Fatalf("stages at the start: %v %v", order, status)
	}
	s1, s2 := order[0], order[1]
	if mine, _ := stageList(t, e, adele, base, true); len(mine) != 0 {
		t.Fatalf("Adele reviews stage 2 only, but filterByCurrentUser lists %v before it started", mine)
	}
	if mine, _ := stageList(t, e, aaron, base, true); len(mine) != 1 || mine[0] != s1 {
		t.Fatalf("Aaron's stages = %v, want [%s]", mine, s1)
	}
	items := stageItems(t, e, aaron, base+"/stages/"+s1+"/decisions/filterByCurrentUser(on='reviewer')")
	if len(items) != 2 || str(items[UserRita]["recommendation"]) != "Approve" || str(items[UserMegan]["recommendation"]) != "Deny" {
		t.Fatalf("Aaron's stage 1 items: %v", items)
	}
	ritaInst := stageItems(t, e, app, base+"/decisions")[UserRita]
	rita1, megan1 := base+"/stages/"+s1+"/decisions/"+str(items[UserRita]["id"]), base+"/stages/"+s1+"/decisions/"+str(items[UserMegan]["id"])

	steps := []struct {
		name   string
		method string
		path   string
		tok    string
		body   any
		status int
	}{
		{"app cannot decide a stage item", http.MethodPatch, megan1, app, map[string]any{"decision": "Deny"}, http.StatusForbidden},
		{"a non-reviewer cannot decide", http.MethodPatch, megan1, megan, map[string]any{"decision": "Approve"}, http.StatusForbidden},
		{"a non-reviewer cannot read a stage", http.MethodGet, base + "/stages/" + s1, e.userToken(UserRita), nil, http.StatusForbidden},
		{"stage 2 reviewer cannot decide before it starts", http.MethodPatch, megan1, adele, map[string]any{"decision": "Deny"}, http.StatusForbidden},
		{"instance-level PATCH is refused", http.MethodPatch, base + "/decisions/" + str(ritaInst["id"]), aaron, map[string]any{"decision": "Approve"}, http.StatusBadRequest},
		{"bad decision", http.MethodPatch, megan1, aaron, map[string]any{"decision": "Maybe"}, http.StatusBadRequest},
		{"app cannot accept recommendations", http.MethodPost, base + "/stages/" + s1 + "/acceptRecommendations", app, nil, http.StatusForbidden},
		{"accept recommendations on the stage", http.MethodPost, base + "/stages/" + s1 + "/acceptRecommendations", aaron, nil, http.StatusNoContent},
		{"reviewer cannot stop the stage", http.MethodPost, base + "/stages/" + s1 + "/stop", aaron, nil, http.StatusForbidden},
		{"stage 2 cannot be stopped before it starts", http.MethodPost, base + "/stages/" + s2 + "/stop", app, nil, http.StatusBadRequest},
		{"stop stage 1", http.MethodPost, base + "/stages/" + s1 + "/stop", app, nil, http.StatusNoContent},
		{"stage 1 is closed", http.MethodPatch, rita1, aaron, map[string]any{"decision": "Deny"}, http.StatusBadRequest},
		{"stop again", http.MethodPost, base + "/stages/" + s1 + "/stop", app, nil, http.StatusBadRequest},
	}
	for _, c := range steps {
		if r := e.do(c.method, c.path, c.tok, c.body); r.status != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.name, r.status, c.status, r.raw)
		}
	}

	if _, status = stageList(t, e, app, base, false); status[s1] != "Completed" || status[s2] != "InProgress" {
		t.Fatalf("stages after stopping stage 1: %v", status)
	}
	// Only what Aaron approved moved on (decisionsThatWillMoveToNextStage = Approve); Megan's Deny is final.
	inst := stageItems(t, e, app, base+"/decisions")
	if str(inst[UserRita]["decision"]) != "NotReviewed" || str(inst[UserMegan]["decision"]) != "Deny" {
		t.Fatalf("instance decisions after stage 1: Rita %v, Megan %v", inst[UserRita]["decision"], inst[UserMegan]["decision"])
	}
	items = stageItems(t, e, adele, base+"/stages/"+s2+"/decisions/filterByCurrentUser(on='reviewer')")
	if len(items) != 1 || items[UserRita] == nil {
		t.Fatalf("Adele's stage 2 items: %v", items)
	}
	rita2 := base + "/stages/" + s2 + "/decisions/" + str(items[UserRita]["id"])
	if r := e.do(http.MethodPatch, rita2, aaron, map[string]any{"decision": "Deny"}); r.status != http.StatusForbidden {
		t.Fatalf("Aaron decided a stage 2 item: %d %s", r.status, r.raw)
	}
	wantStatus(t, e.do(http.MethodPatch, rita2, adele, map[string]any{"decision": "Approve", "justification": "still on the team"}), http.StatusNoContent)
	if d := stageItems(t, e, app, base+"/decisions")[UserRita]; str(d["decision"]) != "Approve" || str(d["reviewedBy"].(map[string]any)["id"]) != UserAdele {
		t.Fatalf("Rita's instance decision after stage 2: %v", d)
	}
	// Adele was contacted when stage 2 started, Aaron when stage 1 did.
	r := e.do(http.MethodGet, base+"/contactedReviewers", app, nil)
	since := map[string]string{}
	for _, v := range values(t, r) {
		since[str(v["id"])] = str(v["createdDateTime"])
	}
	if since[UserAaron] == "" || since[UserAdele] <= since[UserAaron] {
		t.Fatalf("contacted reviewers: %v", since)
	}

	e.sim.Advance(8 * 24 * time.Hour)
	e.sim.Tick()
	r = e.do(http.MethodGet, base, app, nil)
	if str(r.body["status"]) != "Completed" {
		t.Fatalf("instance after stage 2 ended: %v", r.body["status"])
	}
	wantStatus(t, e.do(http.MethodPost, base+"/applyDecisions", app, nil), http.StatusNoContent)
	r = e.do(http.MethodGet, "/v1.0/identityGovernance/entitlementManagement/assignments?$expand=target&$filter=accessPackage/id%20eq%20'"+PkgTeamMember+"'", app, nil)
	states := map[string]string{}
	for _, a := range values(t, r) {
		states[str(a["target"].(map[string]any)["objectId"])] = str(a["state"])
	}
	if states[UserRita] != "delivered" || states[UserMegan] != "expired" {
		t.Fatalf("assignments after apply: %v", states)
	}
}

func TestReviewStagesEndOnTheClock(t *testing.T) {
	cases := []struct {
		name       string
		decide     bool
		advance    time.Duration
		wantStages []string
		wantInst   string
	}{
		{"nothing decided: nothing moves on, the review completes", false, 7*24*time.Hour + time.Minute, []string{"Completed", "Completed"}, "Completed"},
		{"approved items move on when stage 1 ends", true, 7*24*time.Hour + time.Minute, []string{"Completed", "InProgress"}, "InProgress"},
		{"both stages pass in one long tick", true, 15 * 24 * time.Hour, []string{"Completed", "Completed"}, "Completed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SeedStagedReview()
			app := e.appToken()
			base := stagedInst + "/" + firstInstance(t, e, app, ReviewStagedID)
			if c.decide {
				order, _ := stageList(t, e, app, base, false)
				wantStatus(t, e.do(http.MethodPost, base+"/stages/"+order[0]+"/acceptRecommendations", e.userToken(UserAaron), nil), http.StatusNoContent)
			}
			e.sim.Advance(c.advance)
			e.sim.Tick()
			order, status := stageList(t, e, app, base, false)
			for i, want := range c.wantStages {
				if status[order[i]] != want {
					t.Errorf("stage %d is %s, want %s", i+1, status[order[i]], want)
				}
			}
			if r := e.do(http.MethodGet, base, app, nil); str(r.body["status"]) != c.wantInst {
				t.Errorf("instance is %v, want %s", r.body["status"], c.wantInst)
			}
		})
	}
}

func TestReviewCreateStageSettings(t *testing.T) {
	scope := map[string]any{"query": "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '" + PkgWikiReader + "')", "queryType": "MicrosoftGraph"}
	mgr := []any{map[string]any{"query": "./manager", "queryType": "MicrosoftGraph", "queryRoot": "decisions"}}
	stage := func(id string, deps []any, days int, moveOn ...any) map[string]any {
		return map[string]any{"stageId": id, "dependsOn": deps, "durationInDays": days, "recommendationsEnabled": true,
			"reviewers": mgr, "decisionsThatWillMoveToNextStage": moveOn}
	}
	cases := []struct {
		name   string
		stages []any
		status int
	}{
		{"two sequential stages", []any{stage("1", nil, 3, "Approve"), stage("2", []any{"1"}, 4)}, http.StatusCreated},
		{"stage 2 depends on nothing", []any{stage("1", nil, 3), stage("2", nil, 4)}, http.StatusBadRequest},
		{"first stage depends on another", []any{stage("1", []any{"2"}, 3)}, http.StatusBadRequest},
		{"four stages", []any{stage("1", nil, 1), stage("2", []any{"1"}, 1), stage("3", []any{"2"}, 1), stage("4", []any{"3"}, 1)}, http.StatusBadRequest},
		{"unknown decision moves on", []any{stage("1", nil, 3, "Maybe"), stage("2", []any{"1"}, 4)}, http.StatusBadRequest},
		{"no duration", []any{stage("1", nil, 0)}, http.StatusBadRequest},
		{"duplicate stage id", []any{stage("1", nil, 3), stage("1", []any{"1"}, 3)}, http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			body := map[string]any{"displayName": "Wiki two-stage", "scope": scope, "reviewers": mgr, "stageSettings": c.stages,
				"settings": map[string]any{"recommendationsEnabled": true}}
			r := e.do(http.MethodPost, "/v1.0/identityGovernance/accessReviews/definitions", e.appToken(), body)
			wantStatus(t, r, c.status)
			if c.status != http.StatusCreated {
				return
			}
			st, _ := r.body["stageSettings"].([]any)
			days := r.body["settings"].(map[string]any)["instanceDurationInDays"]
			if len(st) != 2 || days != float64(7) {
				t.Fatalf("created: stageSettings %v, instanceDurationInDays %v (want the stages' 7 days)", st, days)
			}
		})
	}
}
