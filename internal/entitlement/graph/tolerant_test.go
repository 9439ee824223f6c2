package graph

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const reqPkgPath = em + "/accessPackages/pkg-1/getApplicablePolicyRequirements"

// TestTolerantRequestShapes feeds MyRequests the request shapes that Graph's v1.0 pages show (and real
// tenants send) and checks the domain values.
func TestTolerantRequestShapes(t *testing.T) {
	tests := []struct {
		name      string
		item      string
		wantType  entitlement.RequestType
		wantState entitlement.RequestState
		wantOpen  bool
		wantDone  time.Time
	}{
		// api-reference/v1.0/api/entitlementmanagement-post-assignmentrequests.md, Example 5 (response):
		// PascalCase requestType, requestState/requestStatus and completedDate instead of the v1.0 names.
		{"v1.0 example 5: AdminAdd with requestState", `{"id":"cb32aef9-2976-496d-9804-eb432fd894a7","requestType":"AdminAdd",
			"requestState":"Submitted","requestStatus":"Accepted","createdDateTime":null,"completedDate":null,"justification":null,
			"isValidationOnly":false,"schedule":{"startDateTime":null,"recurrence":null,"expiration":{"endDateTime":null,"duration":null,"type":"notSpecified"}},
			"answers":[],"verifiedCredentialsData":[],"customExtensionHandlerInstances":[],"customExtensionCalloutInstances":[]}`,
			entitlement.RequestAdminAdd, entitlement.StateSubmitted, true, time.Time{}},
		// api-reference/beta/resources/accesspackageassignmentrequest.md (JSON representation): requestState,
		// requestStatus, completedDate; values in PascalCase as listed there (Delivered, PendingApproval).
		{"legacy names, delivered with completedDate", `{"id":"r-legacy-1","requestType":"UserAdd","requestState":"Delivered",
			"requestStatus":"Delivered","createdDateTime":"2021-01-19T20:01:00Z","completedDate":"2021-01-19T20:02:40.97Z"}`,
			entitlement.RequestUserAdd, entitlement.StateDelivered, false, time.Date(2021, 1, 19, 20, 2, 40, 970e6, time.UTC)},
		{"legacy names, pending approval", `{"id":"r-legacy-2","requestType":"UserAdd","requestState":"PendingApproval","requestStatus":"PendingApproval"}`,
			entitlement.RequestUserAdd, entitlement.StatePendingApproval, true, time.Time{}},
		// api-reference/v1.0/resources/accesspackageassignmentrequest.md: state is an evolvable enum
		// (unknownFutureValue); a value added later must be kept and followed, not closed as "unknown".
		{"state this version does not know", `{"id":"r-new","requestType":"userAdd","state":"awaitingCallback","status":"WaitingForCallback"}`,
			entitlement.RequestUserAdd, "awaitingCallback", true, time.Time{}},
		{"v1.0 names win over legacy ones", `{"id":"r-both","requestType":"userAdd","state":"denied","requestState":"Delivered","status":"Denied"}`,
			entitlement.RequestUserAdd, entitlement.StateDenied, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", myReqPath, jsonReply(200, []byte(`{"value":[`+tt.item+`]}`)))
			c := newTestClient(t, f)
			rs, err := c.ForUser(userToken("t", "o")).MyRequests(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("requests = %+v", rs)
			}
			r := rs[0]
			if r.Type != tt.wantType || r.State != tt.wantState || r.State.Open() != tt.wantOpen || !r.CompletedAt.Equal(tt.wantDone) {
				t.Errorf("request = type %q state %q open %v completed %v; want %q %q %v %v", r.Type, r.State, r.State.Open(), r.CompletedAt,
					tt.wantType, tt.wantState, tt.wantOpen, tt.wantDone)
			}
		})
	}
}

// TestTolerantRequirements feeds Requirements the question shapes of the docs and some odd ones: every
// readable question comes out, with its translations, and one odd question never fails the call.
func TestTolerantRequirements(t *testing.T) {
	type choice struct{ value, text, es string }
	type question struct {
		text, es string
		kind     entitlement.QuestionKind
		required bool
		seq      int
		choices  []choice
	}
	tests := []struct {
		name      string
		questions string
		want      []question
	}{
		// api-reference/v1.0/resources/accesspackagequestion.md and accesspackageanswerchoice.md (JSON
		// representation): text is a string, translations are in localizations[].
		{"v1.0: text plus localizations", `[
			{"@odata.type":"#microsoft.graph.accessPackageMultipleChoiceQuestion","id":"q1","sequence":0,"isRequired":true,
			 "text":"what state are you from?","localizations":[{"text":"¿De qué estado eres?","languageCode":"es"}],
			 "isMultipleSelectionAllowed":false,
			 "choices":[{"actualValue":"AZ","text":"Arizona","localizations":[{"text":"Arizona (es)","languageCode":"es"}]}]}]`,
			[]question{{"what state are you from?", "¿De qué estado eres?", entitlement.QuestionChoice, true, 0, []choice{{"AZ", "Arizona", "Arizona (es)"}}}}},
		// api-reference/beta/api/accesspackageassignmentpolicy-update.md (request and response): text as an
		// accessPackageLocalizedText object {defaultText, localizedTexts[]}, choices with displayValue objects
		// that have only localizedTexts, and allowsMultipleSelection.
		{"legacy: localized text objects", `[
			{"id":"BD3F6B95-458D-4BC8-A9A6-8D4B29F64F3D","isRequired":false,
			 "text":{"defaultText":"what state are you from?","localizedTexts":[{"text":"¿De qué estado eres?","languageCode":"es"}]},
			 "@odata.type":"#microsoft.graph.accessPackageMultipleChoiceQuestion",
			 "choices":[{"actualValue":"AZ","displayValue":{"localizedTexts":[{"text":"Arizona","languageCode":"es"}]}},
			            {"actualValue":"CA","displayValue":{"localizedTexts":[{"text":"California","languageCode":"es"}]}}],
			 "allowsMultipleSelection":false},
			{"id":"F652C13C-A660-4E4C-A1E0-CE9FEC6EE57A","isRequired":false,
			 "text":{"defaultText":"Who is your manager?","localizedTexts":[{"text":"por qué necesita acceso a este paquete","languageCode":"es"}]},
			 "@odata.type":"#microsoft.graph.accessPackageTextInputQuestion","isSingleLineQuestion":false}]`,
			[]question{
				{"what state are you from?", "¿De qué estado eres?", entitlement.QuestionChoice, false, 0, []choice{{"AZ", "Arizona", "Arizona"}, {"CA", "California", "California"}}},
				{"Who is your manager?", "por qué necesita acceso a este paquete", entitlement.QuestionText, false, 0, nil},
			}},
		{"odd question: wrong types are converted or dropped, not fatal", `[
			{"@odata.type":"#microsoft.graph.accessPackageTextInputQuestion","id":"q1","sequence":"2","isRequired":"true",
			 "text":"Change ticket","isSingleLineQuestion":"yes","regexPattern":42,"localizations":"none"},
			{"@odata.type":"#microsoft.graph.accessPackageMultipleChoiceQuestion","id":"q2","sequence":3,"isRequired":true,
			 "text":"Environment","choices":["prod-eu",{"actualValue":7,"text":true},{"actualValue":"prod-us","text":"Production US"}]}]`,
			[]question{
				{"Change ticket", "Change ticket", entitlement.QuestionText, true, 2, nil},
				{"Environment", "Environment", entitlement.QuestionChoice, true, 3, []choice{{"7", "true", "true"}, {"prod-us", "Production US", "Production US"}}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("POST", reqPkgPath, jsonReply(200, []byte(`{"value":[{"policyId":"p1","policyDisplayName":"P","questions":`+tt.questions+`}]}`)))
			c := newTestClient(t, f)
			rs, err := c.ForUser(userToken("t", "o")).Requirements(context.Background(), "pkg-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 || len(rs[0].Questions) != len(tt.want) {
				t.Fatalf("requirements = %+v", rs)
			}
			for i, w := range tt.want {
				q := rs[0].Questions[i]
				if q.Text != w.text || q.TextFor("es-MX") != w.es || q.Kind != w.kind || q.Required != w.required || q.Sequence != w.seq || len(q.Choices) != len(w.choices) {
					t.Errorf("question %d = %+v, want %+v", i, q, w)
					continue
				}
				for j, wc := range w.choices {
					ch := q.Choices[j]
					if ch.Value != wc.value || ch.TextFor("") != wc.text || ch.TextFor("es") != wc.es {
						t.Errorf("question %d choice %d = %+v, want %+v", i, j, ch, wc)
					}
				}
			}
		})
	}
}

// TestRequirementsWithoutPolicyIDDropped: an entry without policyId can never be filed, so it is never
// offered; when none is left the user is not eligible.
func TestRequirementsWithoutPolicyIDDropped(t *testing.T) {
	f := newFakeGraph(t)
	f.on("POST", reqPkgPath, jsonReply(200, []byte(`{"value":[{"policyDisplayName":"No id"},{"policyId":"p2","policyDisplayName":"Good"}]}`)))
	c := newTestClient(t, f, func(cfg *Config) { cfg.CacheTTL = -1 })
	rs, err := c.ForUser(userToken("t", "o")).Requirements(context.Background(), "pkg-1")
	if err != nil || len(rs) != 1 || rs[0].PolicyID != "p2" {
		t.Fatalf("requirements = %+v, %v", rs, err)
	}
	f.on("POST", reqPkgPath, jsonReply(200, []byte(`{"value":[{"policyDisplayName":"No id"}]}`)))
	if _, err := c.ForUser(userToken("t", "o")).Requirements(context.Background(), "pkg-1"); !errors.Is(err, entitlement.ErrNotEligible) {
		t.Fatalf("only id-less requirements: err = %v, want ErrNotEligible", err)
	}
}

// TestUnknownEnumLoggedOnce: a value nobody knows is logged at warn once, however often it is read.
func TestUnknownEnumLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	f := newFakeGraph(t)
	f.on("GET", myReqPath, jsonReply(200, []byte(`{"value":[{"id":"a","state":"awaitingCallback"},{"id":"b","state":"awaitingCallback"}]}`)))
	c := newTestClient(t, f, func(cfg *Config) { cfg.Logger = log })
	for range 3 {
		if _, err := c.ForUser(userToken("t", "o")).MyRequests(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(buf.String(), "value=awaitingCallback"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("not at warn:\n%s", buf.String())
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestUserWithoutIDIsAnErrorEverywhere: a user object without an id fails every directory call that reads
// users (one user, a manager, group members, sponsors) instead of giving a nameless nobody to some callers.
func TestUserWithoutIDIsAnErrorEverywhere(t *testing.T) {
	noID := `{"@odata.type":"#microsoft.graph.user","displayName":"Ghost","userPrincipalName":"ghost@contoso.example"}`
	org := "99999999-0000-0000-0000-000000000001"
	tests := []struct {
		name string
		path string
		body string
		call func(c *Client) error
	}{
		{"user", "/users/u1", noID, func(c *Client) error { _, err := c.User(context.Background(), "u1"); return err }},
		{"manager", "/users/u1/manager", noID, func(c *Client) error { _, err := c.Manager(context.Background(), "u1"); return err }},
		{"group members", "/groups/g1/members", `{"value":[` + noID + `]}`, func(c *Client) error { _, err := c.GroupMembers(context.Background(), "g1"); return err }},
		{"transitive group members", "/groups/g1/transitiveMembers", `{"value":[` + noID + `]}`, func(c *Client) error {
			_, err := c.TransitiveGroupMembers(context.Background(), "g1")
			return err
		}},
		{"sponsors", em + "/connectedOrganizations/" + org + "/internalSponsors", `{"value":[` + noID + `]}`, func(c *Client) error {
			_, err := c.Sponsors(context.Background(), org)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", tt.path, jsonReply(200, []byte(tt.body)))
			f.on("GET", em+"/connectedOrganizations/"+org+"/externalSponsors", jsonReply(200, []byte(`{"value":[]}`)))
			err := tt.call(newTestClient(t, f))
			if !errors.Is(err, entitlement.ErrUnavailable) || !strings.Contains(err.Error(), "without an id") {
				t.Fatalf("err = %v, want an unreadable-answer error naming the missing id", err)
			}
		})
	}
}

// TestSponsorStateIsNotAnEnum: a user read under an entitlement path keeps its "state" (a province) as is.
func TestSponsorStateIsNotAnEnum(t *testing.T) {
	out, changed := tolerantReader{log: slog.New(slog.DiscardHandler), seen: &sync.Map{}}.rewrite(
		[]byte(`{"value":[{"@odata.type":"#microsoft.graph.user","id":"u","state":"WA","userPrincipalName":"a@b"}]}`), em+"/connectedOrganizations/x/internalSponsors")
	if changed || !strings.Contains(string(out), `"state":"WA"`) {
		t.Fatalf("rewritten = %s (changed %v)", out, changed)
	}
}
