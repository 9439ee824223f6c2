package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const (
	pkgID     = "pkg-1"
	policyID  = "d6322c23-04d6-eb11-b22b-c8d9d21f4e9a"
	ticketQ   = "0fd349e2-a3a7-4712-af08-660f29c12b90"
	envQ      = "8fe745e7-80b2-490d-bd22-4e708c77288c"
	myReqPath = em + "/assignmentRequests/filterByCurrentUser(on='target')"
	myAsgPath = em + "/assignments/filterByCurrentUser(on='target')"
	postPath  = em + "/assignmentRequests"
)

// requestScene is a fake tenant for one requester: requirements from the docs fixture, a list of the
// user's requests that a successful POST appends to, and a configurable POST handler.
type requestScene struct {
	f        *fakeGraph
	mu       sync.Mutex
	requests []string // JSON objects
	assigned bool
	post     http.HandlerFunc
	gzipSeen bool
}

func newRequestScene(t *testing.T) *requestScene {
	s := &requestScene{f: newFakeGraph(t)}
	s.f.serveFixture("POST", em+"/accessPackages/"+pkgID+"/getApplicablePolicyRequirements", "accesspackage-getapplicablepolicyrequirements.json")
	s.f.on("GET", myReqPath, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body := `{"value":[` + strings.Join(s.requests, ",") + `]}`
		s.mu.Unlock()
		jsonReply(http.StatusOK, []byte(body))(w, r)
	})
	s.f.on("GET", myAsgPath, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body := `{"value":[]}`
		if s.assigned {
			body = `{"value":[{"id":"as-1","state":"delivered","status":"Delivered","accessPackage":{"id":"` + pkgID + `"}}]}`
		}
		s.mu.Unlock()
		jsonReply(http.StatusOK, []byte(body))(w, r)
	})
	s.f.on("POST", postPath, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if r.Header.Get("Content-Encoding") == "gzip" {
			s.gzipSeen = true
		}
		h := s.post
		s.mu.Unlock()
		h(w, r)
	})
	s.post = s.created
	return s
}

// created files the request (appends it to the user's list) and answers 201.
func (s *requestScene) created(w http.ResponseWriter, r *http.Request) {
	obj := `{"id":"new-req","requestType":"userAdd","state":"pendingApproval","status":"PendingApproval","createdDateTime":"2026-11-26T12:00:00Z","accessPackage":{"id":"` + pkgID + `","displayName":"Falcon"}}`
	s.mu.Lock()
	s.requests = append(s.requests, obj)
	s.mu.Unlock()
	jsonReply(http.StatusCreated, []byte(obj))(w, r)
}

func validRequest() entitlement.NewRequest {
	return entitlement.NewRequest{
		PackageID:     pkgID,
		Justification: "deploy fix",
		Answers: []entitlement.Answer{
			{QuestionID: ticketQ, Value: "INC12345"},
			{QuestionID: envQ, Value: "prod-eu", DisplayValue: "Production EU"},
		},
		Schedule: entitlement.Schedule{Expiration: entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P30D"}},
	}
}

func TestSubmitRequestWarmCostsThreeCallsAndWritesGraphShapes(t *testing.T) {
	s := newRequestScene(t)
	c := newTestClient(t, s.f)
	u := c.ForUser(userToken("tid", "oid-1"))
	ctx := context.Background()
	if _, err := u.Requirements(ctx, pkgID); err != nil { // the form was shown first
		t.Fatal(err)
	}
	before := s.f.count()
	r, err := u.SubmitRequest(ctx, validRequest())
	if err != nil {
		t.Fatal(err)
	}
	if n := s.f.count() - before; n != 3 {
		t.Fatalf("warm SubmitRequest made %d Graph calls, want 3: %v", n, s.f.calls[before:])
	}
	if r.ID != "new-req" || r.State != entitlement.StatePendingApproval || r.PolicyID != policyID {
		t.Fatalf("request = %+v", r)
	}
	if !s.gzipSeen {
		t.Errorf("request body was not gzip-compressed (the SDK default the simulator must accept)")
	}
	body := s.f.lastBody("POST " + postPath)
	asg, _ := body["assignment"].(map[string]any)
	if body["requestType"] != "userAdd" || asg["accessPackageId"] != pkgID || asg["assignmentPolicyId"] != policyID || body["justification"] != "deploy fix" {
		t.Fatalf("body = %v", body)
	}
	sch, _ := asg["schedule"].(map[string]any)
	exp, _ := sch["expiration"].(map[string]any)
	if exp["duration"] != "P30D" || exp["type"] != "afterDuration" || sch["startDateTime"] == nil {
		t.Errorf("schedule = %v (duration must be written as P30D, not weeks)", sch)
	}
	answers, _ := body["answers"].([]any)
	if len(answers) != 2 {
		t.Fatalf("answers = %v", body["answers"])
	}
	a0, _ := answers[0].(map[string]any)
	q0, _ := a0["answeredQuestion"].(map[string]any)
	if a0["@odata.type"] != "#microsoft.graph.accessPackageAnswerString" || a0["value"] != "INC12345" || q0["id"] != ticketQ {
		t.Errorf("answer = %v", a0)
	}
}

func TestSubmitRequestRefusesDuplicatesAndBadInput(t *testing.T) {
	open := `{"id":"old-req","requestType":"userAdd","state":"pendingApproval","createdDateTime":"2026-11-25T12:00:00Z","accessPackage":{"id":"` + pkgID + `"}}`
	denied := `{"id":"older-req","requestType":"userAdd","state":"denied","createdDateTime":"2026-11-20T12:00:00Z","accessPackage":{"id":"` + pkgID + `"}}`
	tests := []struct {
		name     string
		existing []string
		assigned bool
		mod      func(*entitlement.NewRequest)
		is       error
		field    string
	}{
		{"open request exists", []string{denied, open}, false, nil, entitlement.ErrAlreadyRequested, ""},
		{"already assigned", []string{denied}, true, nil, entitlement.ErrAlreadyAssigned, ""},
		{"justification missing", nil, false, func(r *entitlement.NewRequest) { r.Justification = " " }, entitlement.ErrInvalidInput, "justification"},
		{"answer fails regex", nil, false, func(r *entitlement.NewRequest) { r.Answers[0].Value = "CHG1" }, entitlement.ErrInvalidInput, "answers[Change ticket (INC + digits)]"},
		{"choice not offered", nil, false, func(r *entitlement.NewRequest) { r.Answers[1].Value = "prod-mars" }, entitlement.ErrInvalidInput, "answers[Environment]"},
		{"required answer missing", nil, false, func(r *entitlement.NewRequest) { r.Answers = r.Answers[:1] }, entitlement.ErrInvalidInput, "answers[Environment]"},
		{"unknown question", nil, false, func(r *entitlement.NewRequest) { r.Answers[0].QuestionID = "nope" }, entitlement.ErrInvalidInput, "answers"},
		{"bad duration", nil, false, func(r *entitlement.NewRequest) { r.Schedule.Expiration.Duration = "30 days" }, entitlement.ErrInvalidInput, "schedule duration"},
		{"policy not offered", nil, false, func(r *entitlement.NewRequest) { r.PolicyID = "other-policy" }, entitlement.ErrNotEligible, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRequestScene(t)
			s.requests = tt.existing
			s.assigned = tt.assigned
			c := newTestClient(t, s.f)
			in := validRequest()
			if tt.mod != nil {
				tt.mod(&in)
			}
			_, err := c.ForUser(userToken("tid", "oid-1")).SubmitRequest(context.Background(), in)
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			var ie *entitlement.InvalidInputError
			if tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field) {
				t.Fatalf("err = %v, want field %q", err, tt.field)
			}
			if n := s.f.callsTo("POST " + postPath); n != 0 {
				t.Fatalf("POSTed %d times", n)
			}
		})
	}
}

func TestSubmitRequestNeverBlindlyRepeatsAPost(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		_ = conn.Close()
	}
	tests := []struct {
		name      string
		post      func(s *requestScene) http.HandlerFunc
		wantPosts int
		wantID    string
		is        error
	}{
		{"503 after filing: the filed request is returned", func(s *requestScene) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				s.created(httptestDiscard{}, r) // filed, but the answer is lost
				jsonReply(http.StatusServiceUnavailable, []byte(`{"error":{"code":"ServiceUnavailable"}}`))(w, r)
			}
		}, 1, "new-req", nil},
		{"connection dropped before filing: checked, then posted once more", func(s *requestScene) http.HandlerFunc {
			return sequence(hangUp, s.created)
		}, 2, "new-req", nil},
		{"throttled POST is retried by the client (429 is never processed)", func(s *requestScene) http.HandlerFunc {
			return sequence(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "0")
				jsonReply(http.StatusTooManyRequests, []byte(`{"error":{"code":"TooManyRequests","message":"wait"}}`))(w, r)
			}, s.created)
		}, 2, "new-req", nil},
		{"forbidden: not eligible", func(*requestScene) http.HandlerFunc {
			return jsonReply(http.StatusForbidden, []byte(`{"error":{"code":"Forbidden"}}`))
		}, 1, "", entitlement.ErrNotEligible},
		{"conflict: already requested", func(*requestScene) http.HandlerFunc {
			return jsonReply(http.StatusConflict, []byte(`{"error":{"code":"Conflict","message":"exists"}}`))
		}, 1, "", entitlement.ErrAlreadyRequested},
		{"two dropped connections: a clear error, two POSTs at most", func(*requestScene) http.HandlerFunc {
			return hangUp
		}, 2, "", entitlement.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRequestScene(t)
			s.post = tt.post(s)
			c := newTestClient(t, s.f)
			r, err := c.ForUser(userToken("tid", "oid-1")).SubmitRequest(context.Background(), validRequest())
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want %v", err, tt.is)
				}
			} else if err != nil || r.ID != tt.wantID {
				t.Fatalf("SubmitRequest = %+v, %v", r, err)
			}
			if n := s.f.callsTo("POST " + postPath); n != tt.wantPosts {
				t.Fatalf("POSTs = %d, want %d (calls %v)", n, tt.wantPosts, s.f.calls)
			}
		})
	}
}

// httptestDiscard is a ResponseWriter that drops everything (to file a request without answering).
type httptestDiscard struct{}

func (httptestDiscard) Header() http.Header         { return http.Header{} }
func (httptestDiscard) Write(b []byte) (int, error) { return len(b), nil }
func (httptestDiscard) WriteHeader(int)             {}

func TestDecideStage(t *testing.T) {
	const (
		apID  = "abd306ef-f7b2-4a10-9fd1-493454322489"
		stID  = "d4fa4045-4716-436d-aec5-57b0a713f095"
		stage = em + "/accessPackageAssignmentApprovals/" + apID + "/stages"
	)
	pending := []byte(`{"value":[{"id":"` + stID + `","reviewResult":"NotReviewed","status":"InProgress","assignedToMe":true,"reviewedBy":null,"reviewedDateTime":null}]}`)
	notMine := []byte(`{"value":[{"id":"` + stID + `","reviewResult":"NotReviewed","status":"InProgress","assignedToMe":false}]}`)
	decided := []byte(`{"value":[{"id":"` + stID + `","reviewResult":"Approve","status":"Completed","assignedToMe":true,"justification":"fine","reviewedBy":{"id":"aaaaaaaa-0000-0000-0000-000000000002","displayName":"Aaron Approver"},"reviewedDateTime":"2026-11-26T11:00:00Z"}]}`)
	noContent := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	tests := []struct {
		name       string
		get        http.HandlerFunc
		patch      http.HandlerFunc
		d          entitlement.Decision
		wantCalls  int
		wantPatch  int
		is         error
		wantByName string
	}{
		{"approve", jsonReply(200, pending), noContent, entitlement.Decision{Result: entitlement.ReviewApprove, Justification: "ok"}, 2, 1, nil, ""},
		{"409: someone else was faster (error body without message)", sequence(jsonReply(200, pending), jsonReply(200, decided)),
			jsonReply(http.StatusConflict, []byte(`{"error":{"code":"Conflict"}}`)), entitlement.Decision{Result: entitlement.ReviewDeny}, 3, 1, entitlement.ErrAlreadyDecided, "Aaron Approver"},
		{"already decided before we tried", jsonReply(200, decided), noContent, entitlement.Decision{Result: entitlement.ReviewApprove}, 1, 0, entitlement.ErrAlreadyDecided, "Aaron Approver"},
		{"not assigned to me", jsonReply(200, notMine), noContent, entitlement.Decision{Result: entitlement.ReviewApprove}, 1, 0, entitlement.ErrNotApprover, ""},
		{"403 on PATCH", jsonReply(200, pending), jsonReply(http.StatusForbidden, []byte(`{"error":{"code":"Forbidden","message":"self-approval"}}`)),
			entitlement.Decision{Result: entitlement.ReviewApprove}, 2, 1, entitlement.ErrNotApprover, ""},
		{"400 without justification", jsonReply(200, pending), jsonReply(http.StatusBadRequest, []byte(`{"error":{"code":"BadRequest","message":"justification required"}}`)),
			entitlement.Decision{Result: entitlement.ReviewDeny}, 2, 1, entitlement.ErrInvalidInput, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", stage, tt.get)
			f.on("PATCH", stage+"/"+stID, tt.patch)
			c := newTestClient(t, f)
			err := c.ForUser(userToken("tid", "oid-2")).DecideStage(context.Background(), apID, stID, tt.d)
			if tt.is == nil && err != nil {
				t.Fatal(err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			if tt.wantByName != "" {
				var ad *entitlement.AlreadyDecidedError
				if !errors.As(err, &ad) || ad.By != tt.wantByName || ad.Result != entitlement.ReviewApprove || !ad.At.Equal(time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)) {
					t.Fatalf("err = %#v, want decided by %s", err, tt.wantByName)
				}
				if !strings.Contains(entitlement.UserMessage(err), tt.wantByName) {
					t.Errorf("user message = %q", entitlement.UserMessage(err))
				}
			}
			if f.count() != tt.wantCalls {
				t.Errorf("calls = %d, want %d (≤ 3 per user action): %v", f.count(), tt.wantCalls, f.calls)
			}
			if n := f.callsTo("PATCH " + stage + "/" + stID); n != tt.wantPatch {
				t.Errorf("PATCHes = %d, want %d", n, tt.wantPatch)
			}
			if tt.name == "approve" {
				body := f.lastBody("PATCH " + stage + "/" + stID)
				if body["reviewResult"] != "Approve" || body["justification"] != "ok" {
					t.Errorf("PATCH body = %v", body)
				}
			}
		})
	}
}

func TestRequirementsNotEligible(t *testing.T) {
	f := newFakeGraph(t)
	f.on("POST", em+"/accessPackages/"+pkgID+"/getApplicablePolicyRequirements", jsonReply(200, []byte(`{"value":[]}`)))
	c := newTestClient(t, f)
	_, err := c.ForUser(userToken("t", "o")).Requirements(context.Background(), pkgID)
	if !errors.Is(err, entitlement.ErrNotEligible) {
		t.Fatalf("err = %v, want ErrNotEligible", err)
	}
}
