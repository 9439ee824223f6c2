package graph

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const (
	rvDef   = "a7e70000-0000-4000-8000-000000000004"
	rvInst  = "b7e70000-0000-4000-8000-000000000001"
	rvStage = "c7e70000-0000-4000-8000-000000000002"
	rvItem  = "d7e70000-0000-4000-8000-000000000003"
	rvPath  = "/identityGovernance/accessReviews/definitions/" + rvDef + "/instances/" + rvInst
)

var stageRef = entitlement.ReviewRef{DefinitionID: rvDef, InstanceID: rvInst, StageID: rvStage}

func TestReviewStagesRead(t *testing.T) {
	f := newFakeGraph(t)
	// Graph does not promise an order: stage 2 comes first here.
	f.on(http.MethodGet, rvPath+"/stages", jsonReply(http.StatusOK, []byte(`{"value":[
		{"id":"`+rvStage+`","status":"InProgress","startDateTime":"2026-12-08T09:00:00Z","endDateTime":"2026-12-15T09:00:00Z"},
		{"id":"s1","status":"Completed","startDateTime":"2026-12-01T09:00:00Z","endDateTime":"2026-12-08T09:00:00Z"}]}`)))
	f.on(http.MethodGet, rvPath+"/stages/"+rvStage+"/decisions", jsonReply(http.StatusOK, []byte(`{"value":[
		{"id":"`+rvItem+`","decision":"Approve","recommendation":"Approve","principal":{"@odata.type":"#microsoft.graph.userIdentity","id":"u1","displayName":"Rita Requester"},
		 "reviewedBy":{"id":"u2","displayName":"Adele Vance","userPrincipalName":"adele@contoso.example"}}]}`)))
	f.on(http.MethodGet, rvPath+"/contactedReviewers", jsonReply(http.StatusOK, []byte(`{"value":[
		{"id":"u3","displayName":"Aaron Approver","createdDateTime":"2026-12-01T09:00:00Z"},
		{"id":"u2","displayName":"Adele Vance","createdDateTime":"2026-12-08T09:00:00Z"}]}`)))
	f.on(http.MethodGet, "/identityGovernance/accessReviews/definitions/"+rvDef, jsonReply(http.StatusOK, []byte(`{"id":"`+rvDef+`","displayName":"Two stages",
		"stageSettings":[{"stageId":"1","durationInDays":7,"recommendationsEnabled":true,"decisionsThatWillMoveToNextStage":["Approve"],"reviewers":[{"query":"./manager"}]},
		{"stageId":"2","dependsOn":["1"],"durationInDays":7,"reviewers":[{"query":"/users/u2"}]}]}`)))
	c := newTestClient(t, f)
	ctx := context.Background()

	sts, err := c.ReviewStages(ctx, rvDef, rvInst)
	if err != nil || len(sts) != 2 || sts[0].ID != "s1" || sts[0].Number != 1 || sts[1].Number != 2 || !sts[1].Status.Open() {
		t.Fatalf("stages: %+v %v", sts, err)
	}
	ds, err := c.StageDecisions(ctx, stageRef)
	if err != nil || len(ds) != 1 || ds[0].StageID != rvStage || ds[0].ReviewedBy.Name != "Adele Vance" || ds[0].Principal.Name != "Rita Requester" {
		t.Fatalf("stage decisions: %+v %v", ds, err)
	}
	revs, err := c.ContactedReviewers(ctx, rvDef, rvInst)
	if err != nil || len(revs) != 2 || revs[1].ID != "u2" || !revs[1].Since.Equal(sts[1].Start) || revs[0].Name != "Aaron Approver" {
		t.Fatalf("contacted reviewers: %+v %v", revs, err)
	}
	d, err := c.ReviewDefinition(ctx, rvDef)
	if err != nil || !d.MultiStage() || len(d.Stages) != 2 || d.Stages[0].MoveOn[0] != "Approve" || d.Stages[1].DependsOn[0] != "1" || d.Stages[1].ReviewerQueries[0] != "/users/u2" {
		t.Fatalf("definition stage settings: %+v %v", d.Stages, err)
	}
}

func TestReviewerOnAStage(t *testing.T) {
	graphErr := func(status int, code string) http.HandlerFunc {
		return jsonReply(status, []byte(`{"error":{"code":"`+code+`","message":"refused"}}`))
	}
	noContent := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	approve := entitlement.ReviewVerdict{Decision: entitlement.ReviewApprove, Justification: "still needed"}
	cases := []struct {
		name    string
		route   string // method + path under the instance
		reply   http.HandlerFunc
		call    func(entitlement.Reviewer) error
		wantErr error
		body    map[string]any // expected fields of the request body
		offline bool           // refused before any call
	}{
		{"decide on the stage", "PATCH /stages/" + rvStage + "/decisions/" + rvItem, noContent,
			func(r entitlement.Reviewer) error { return r.Decide(context.Background(), stageRef, rvItem, approve) }, nil,
			map[string]any{"decision": "Approve", "justification": "still needed"}, false},
		{"not a reviewer of the stage", "PATCH /stages/" + rvStage + "/decisions/" + rvItem, graphErr(http.StatusForbidden, "AccessDenied"),
			func(r entitlement.Reviewer) error { return r.Decide(context.Background(), stageRef, rvItem, approve) }, entitlement.ErrNotApprover, nil, false},
		{"approve needs a justification", "PATCH /stages/" + rvStage + "/decisions/" + rvItem, graphErr(http.StatusBadRequest, "BadRequest"),
			func(r entitlement.Reviewer) error {
				return r.Decide(context.Background(), stageRef, rvItem, entitlement.ReviewVerdict{Decision: entitlement.ReviewApprove})
			}, entitlement.ErrInvalidInput, nil, false},
		{"accept the stage's recommendations", "POST /stages/" + rvStage + "/acceptRecommendations", noContent,
			func(r entitlement.Reviewer) error { return r.AcceptRecommendations(context.Background(), stageRef) }, nil, nil, false},
		{"decide the rest of the stage", "POST /stages/" + rvStage + "/batchRecordDecisions", noContent,
			func(r entitlement.Reviewer) error {
				return r.DecideAll(context.Background(), stageRef, entitlement.ReviewVerdict{Decision: entitlement.ReviewDeny, Justification: "left"})
			}, nil, map[string]any{"decision": "Deny", "justification": "left"}, false},
		{"a malformed stage id is refused before Graph", "PATCH /stages/x/decisions/" + rvItem, noContent,
			func(r entitlement.Reviewer) error {
				return r.Decide(context.Background(), entitlement.ReviewRef{DefinitionID: rvDef, InstanceID: rvInst, StageID: "x/../y"}, rvItem, approve)
			}, entitlement.ErrInvalidInput, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t)
			method, path, _ := strings.Cut(tc.route, " ")
			f.on(method, rvPath+path, tc.reply)
			got := tc.call(newTestClient(t, f).ForReviewer(userToken("tid", "u2")))
			if tc.wantErr == nil && got != nil || tc.wantErr != nil && !errors.Is(got, tc.wantErr) {
				t.Fatalf("error %v, want %v", got, tc.wantErr)
			}
			if tc.offline {
				if f.count() != 0 {
					t.Fatalf("%d calls reached Graph", f.count())
				}
				return
			}
			if n := f.callsTo(method + " " + rvPath + path); n != 1 {
				t.Fatalf("%s called %d times (calls: %d)", tc.route, n, f.count())
			}
			if tc.body != nil {
				b := f.lastBody(method + " " + rvPath + path)
				for k, v := range tc.body {
					if b[k] != v {
						t.Errorf("body %s = %v, want %v (%v)", k, b[k], v, b)
					}
				}
			}
		})
	}
}

func TestReviewerStagePageAndBatch(t *testing.T) {
	f := newFakeGraph(t)
	f.on(http.MethodGet, rvPath+"/stages/filterByCurrentUser(on='reviewer')", jsonReply(http.StatusOK, []byte(`{"value":[
		{"id":"`+rvStage+`","status":"InProgress","startDateTime":"2026-12-08T09:00:00Z","endDateTime":"2026-12-15T09:00:00Z"}]}`)))
	f.on(http.MethodGet, rvPath+"/stages/"+rvStage+"/decisions/filterByCurrentUser(on='reviewer')", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$top") != "10" || r.URL.Query().Get("$count") != "true" {
			http.Error(w, "paging not asked: "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		jsonReply(http.StatusOK, []byte(`{"@odata.count":12,"value":[{"id":"`+rvItem+`","decision":"NotReviewed","principal":{"id":"u1"}}]}`))(w, r)
	})
	var batched []string
	f.on(http.MethodPost, "/$batch", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Requests []struct {
				ID, Method, URL string
			} `json:"requests"`
		}
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &in)
		var out []map[string]any
		for _, q := range in.Requests {
			batched = append(batched, q.Method+" "+q.URL)
			out = append(out, map[string]any{"id": q.ID, "status": 204})
		}
		b, _ := json.Marshal(map[string]any{"responses": out})
		jsonReply(http.StatusOK, b)(w, r)
	})
	rv := newTestClient(t, f).ForReviewer(userToken("tid", "u2"))
	ctx := context.Background()
	mine, err := rv.MyStages(ctx, rvDef, rvInst)
	if err != nil || len(mine) != 1 || mine[0].ID != rvStage || mine[0].Number != 1 || !mine[0].End.Equal(time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("my stages: %+v %v", mine, err)
	}
	items, total, err := rv.MyDecisions(ctx, stageRef, entitlement.PageQuery{Top: 10})
	if err != nil || total != 12 || len(items) != 1 || items[0].StageID != rvStage {
		t.Fatalf("my stage decisions: %+v total %d %v", items, total, err)
	}
	err = rv.DecideItems(ctx, stageRef, []entitlement.ReviewItemVerdict{{DecisionID: rvItem, ReviewVerdict: entitlement.ReviewVerdict{Decision: entitlement.ReviewDeny}}})
	if err != nil || len(batched) != 1 || !strings.HasPrefix(batched[0], "PATCH ") || !strings.Contains(batched[0], "/stages/"+rvStage+"/decisions/"+rvItem) {
		t.Fatalf("batch: %v %v", batched, err)
	}
}

// TestCreateMultiStageReview: /review new … stages posts stageSettings by Graph's rules (ids 1..n, sequential
// dependsOn, the stages' durations add up to the instance's, no definition-level reviewers); bad stages are
// refused before Graph, naming the field.
func TestCreateMultiStageReview(t *testing.T) {
	const pkg = "e7e70000-0000-4000-8000-000000000005"
	good := []entitlement.ReviewStageSetting{
		{DurationDays: 7, ReviewerQueries: []string{entitlement.ReviewerManager}, MoveOn: []string{"Approve", "NotReviewed"}},
		{DurationDays: 5, ReviewerQueries: []string{entitlement.ReviewerGroupQuery("g1")}},
		{DurationDays: 3},
	}
	cases := []struct {
		name      string
		stages    []entitlement.ReviewStageSetting
		recurring string
		wantField string // "" = posted
	}{
		{"three stages", good, "quarterly", ""},
		{"one stage is not multi-stage", good[:1], "", "stages"},
		{"four stages", append(slices.Clone(good), good[2]), "", "stages"},
		{"zero days", []entitlement.ReviewStageSetting{good[0], {DurationDays: 0}}, "", "stages[2].durationInDays"},
		{"too long for a month", []entitlement.ReviewStageSetting{{DurationDays: 20, MoveOn: []string{"Approve"}}, {DurationDays: 10}}, "monthly", "stages.durationInDays"},
		{"unknown decision", []entitlement.ReviewStageSetting{{DurationDays: 2, MoveOn: []string{"Maybe"}}, {DurationDays: 2}}, "", "stages[1].decisionsThatWillMoveToNextStage"},
		{"move on from the last", []entitlement.ReviewStageSetting{{DurationDays: 2}, {DurationDays: 2, MoveOn: []string{"Approve"}}}, "", "stages[2].decisionsThatWillMoveToNextStage"},
		{"parallel stages", []entitlement.ReviewStageSetting{{DurationDays: 2}, {DurationDays: 2}, {DurationDays: 2, DependsOn: []string{"1"}}}, "", "stages[3].dependsOn"},
		{"unknown reviewers", []entitlement.ReviewStageSetting{{DurationDays: 2, ReviewerQueries: []string{"./owners"}}, {DurationDays: 2}}, "", "stages[1].reviewers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on(http.MethodPost, "/identityGovernance/accessReviews/definitions", jsonReply(http.StatusCreated, []byte(`{"id":"`+rvDef+`","displayName":"x"}`)))
			_, err := newTestClient(t, f).CreateReview(context.Background(), entitlement.NewReview{PackageID: pkg, PackageName: "Falcon Team Member",
				Reviewers: "manager", DurationDays: 14, Recurrence: tc.recurring, Stages: tc.stages})
			if tc.wantField != "" {
				var ie *entitlement.InvalidInputError
				if !errors.As(err, &ie) || ie.Field != tc.wantField || f.count() != 0 {
					t.Fatalf("error %v (field %v), want field %s; %d calls reached Graph", err, ie, tc.wantField, f.count())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			b := f.lastBody("POST /identityGovernance/accessReviews/definitions")
			if _, has := b["reviewers"]; has {
				t.Errorf("a multi-stage review posted definition-level reviewers: %v", b["reviewers"])
			}
			raw, _ := json.Marshal(b["stageSettings"])
			var got []struct {
				StageID   string   `json:"stageId"`
				DependsOn []string `json:"dependsOn"`
				Days      int      `json:"durationInDays"`
				MoveOn    []string `json:"decisionsThatWillMoveToNextStage"`
				Reviewers []struct {
					Query, QueryRoot string
				} `json:"reviewers"`
			}
			if err := json.Unmarshal(raw, &got); err != nil || len(got) != 3 {
				t.Fatalf("stageSettings %s: %v", raw, err)
			}
			if got[0].StageID != "1" || len(got[0].DependsOn) != 0 || got[1].DependsOn[0] != "1" || got[2].DependsOn[0] != "2" ||
				got[0].Reviewers[0].Query != "./manager" || got[0].Reviewers[0].QueryRoot != "decisions" || strings.Join(got[0].MoveOn, ",") != "Approve,NotReviewed" ||
				got[1].Reviewers[0].Query != "/groups/g1/transitiveMembers" || len(got[2].Reviewers) != 0 || got[2].Days != 3 {
				t.Errorf("stageSettings %s", raw)
			}
			if st, _ := b["settings"].(map[string]any); st["instanceDurationInDays"] != float64(15) {
				t.Errorf("instanceDurationInDays %v, want the stages' 15", st["instanceDurationInDays"])
			}
		})
	}
}
