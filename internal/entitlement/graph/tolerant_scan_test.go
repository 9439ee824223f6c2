package graph

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	jsonser "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

const (
	asgPath     = em + "/assignments/filterByCurrentUser(on='target')"
	pkgListPath = em + "/accessPackages/filterByCurrentUser(on='allowedRequestor')"
)

// readDomain is what the SDK and this client's conversion make of an answer at a path: its items as domain
// values (requests, assignments, packages, catalogs or connected organizations, by path).
func readDomain(t *testing.T, path string, body []byte) any {
	t.Helper()
	node, err := jsonser.NewJsonParseNode(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	get := func(f absser.ParsableFactory) absser.Parsable {
		v, err := node.GetObjectValue(f)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return v
	}
	switch {
	case strings.Contains(path, "/assignmentRequests"):
		items := get(models.CreateAccessPackageAssignmentRequestCollectionResponseFromDiscriminatorValue).(models.AccessPackageAssignmentRequestCollectionResponseable).GetValue()
		return domainItems(items, toRequest)
	case strings.Contains(path, "/assignments"):
		items := get(models.CreateAccessPackageAssignmentCollectionResponseFromDiscriminatorValue).(models.AccessPackageAssignmentCollectionResponseable).GetValue()
		return domainItems(items, toAssignment)
	case strings.Contains(path, "/accessPackages"):
		items := get(models.CreateAccessPackageCollectionResponseFromDiscriminatorValue).(models.AccessPackageCollectionResponseable).GetValue()
		return domainItems(items, toPackage)
	case strings.Contains(path, "/catalogs"):
		items := get(models.CreateAccessPackageCatalogCollectionResponseFromDiscriminatorValue).(models.AccessPackageCatalogCollectionResponseable).GetValue()
		return domainItems(items, toCatalog)
	case strings.Contains(path, "/connectedOrganizations"):
		items := get(models.CreateConnectedOrganizationCollectionResponseFromDiscriminatorValue).(models.ConnectedOrganizationCollectionResponseable).GetValue()
		return domainItems(items, toConnectedOrg)
	}
	t.Fatalf("no reader for %s", path)
	return nil
}

// domainItems is the conversion of each of items, as a list of domain values (nil for no items).
func domainItems[M, D any](items []M, conv func(M) D) []any {
	var out []any
	for _, m := range items {
		out = append(out, conv(m))
	}
	return out
}

// TestNeedsRewrite: a body is handed to the SDK untouched only when the SDK and the conversion read it exactly
// as they read its rewritten form; the bodies that must be rewritten are, and for some of them (marked
// differs) reading them untouched would indeed give other domain values.
func TestNeedsRewrite(t *testing.T) {
	tests := []struct {
		name, path, body string
		want             bool // needsRewrite
		differs          bool // reading the body untouched gives other domain values than its rewritten form
	}{
		{name: "v1.0 requests, states the SDK knows", path: myReqPath,
			body: `{"value":[{"id":"r1","requestType":"userAdd","state":"pendingApproval","status":"PendingApproval"},
				{"id":"r2","requestType":"adminAdd","state":"delivered","status":"Delivered","assignment":{"id":"a1","state":"delivered"}}]}`},
		{name: "request state the SDK does not read (Graph's status text would win)", path: myReqPath,
			body: `{"value":[{"id":"r1","requestType":"userAdd","state":"accepted","status":"Delivered"}]}`, want: true, differs: true},
		{name: "unknownFutureValue is kept as sent", path: myReqPath,
			body: `{"value":[{"id":"r1","state":"unknownFutureValue"}]}`, want: true, differs: true},
		{name: "state nobody knows", path: myReqPath, body: `{"value":[{"id":"r1","state":"awaitingCallback"}]}`, want: true, differs: true},
		{name: "PascalCase state", path: myReqPath, body: `{"value":[{"id":"r1","state":"Delivered"}]}`, want: true, differs: true},
		{name: "PascalCase request type", path: myReqPath, body: `{"value":[{"id":"r1","requestType":"UserAdd","state":"delivered"}]}`, want: true, differs: true},
		{name: "legacy property name", path: myReqPath, body: `{"value":[{"id":"r1","requestState":"Delivered"}]}`, want: true, differs: true},
		{name: "single request (POST answer)", path: em + "/assignmentRequests", body: `{"id":"r1","requestType":"userAdd","state":"submitted"}`},
		{name: "assignments, states the SDK knows", path: asgPath,
			body: `{"value":[{"id":"a1","state":"delivered","status":"Delivered"},{"id":"a2","state":"expired"}]}`},
		{name: "a request state on an assignment is kept as sent", path: asgPath,
			body: `{"value":[{"id":"a1","state":"pendingApproval","status":"Delivered"}]}`, want: true, differs: true},
		{name: "packages with their catalogs", path: pkgListPath,
			body: `{"value":[{"id":"p1","displayName":"P","catalog":{"id":"c1","state":"published"}}]}`},
		{name: "PascalCase catalog state under a package", path: pkgListPath,
			body: `{"value":[{"id":"p1","catalog":{"id":"c1","state":"Published"}}]}`, want: true},
		{name: "catalogs: an item whose entity is not known to the scan must be safe for requests and assignments",
			path: em + "/catalogs", body: `{"value":[{"id":"c1","state":"published"}]}`, want: true},
		{name: "catalogs in a state safe everywhere", path: em + "/catalogs", body: `{"value":[{"id":"c1","state":"delivered"}]}`},
		{name: "connected organizations without state", path: em + "/connectedOrganizations", body: `{"value":[{"id":"o1","displayName":"Fabrikam"}]}`},
		{name: "state that is not a string", path: myReqPath, body: `{"value":[{"id":"r1","state":null}]}`},
		{name: "empty state", path: myReqPath, body: `{"value":[{"id":"r1","state":""}]}`},
		{name: "state in a string value is no key", path: myReqPath, body: `{"value":[{"id":"r1","justification":"\"state\": \"Delivered\""}]}`},
		{name: "escaped quotes in a value hide no key", path: myReqPath,
			body: `{"value":[{"id":"r1","justification":"a \"quoted\" \\ and \\\"state\":\"Delivered\"","state":"delivered"}]}`},
		{name: "an escaped backslash ends a value before a key", path: myReqPath,
			body: `{"value":[{"id":"r1\\","state":"Delivered"}]}`, want: true, differs: true},
		{name: "escaped key", path: myReqPath, body: `{"value":[{"id":"r1","st\u0061te":"Delivered"}]}`, want: true, differs: true},
		{name: "escape in a state", path: myReqPath, body: `{"value":[{"id":"r1","state":"deliver\u0065d"}]}`, want: true},
		{name: "answers are sanitized", path: myReqPath, body: `{"value":[{"id":"r1","state":"delivered","answers":[{"answeredQuestion":{"id":"q1"}}]}]}`, want: true},
		{name: "localized text object", path: pkgListPath, body: `{"value":[{"id":"p1","displayValue":{"defaultText":"x"}}]}`, want: true},
		{name: "trailing data", path: myReqPath, body: `{"value":[]} {}`, want: true},
		{name: "not an object", path: myReqPath, body: `[{"id":"r1"}]`, want: true},
		{name: "unterminated", path: myReqPath, body: `{"value":[{"id":"r1"`, want: true},
	}
	tr := tolerantReader{log: slog.New(slog.DiscardHandler), seen: &sync.Map{}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := needsRewrite([]byte(tc.body), tc.path); got != tc.want {
				t.Fatalf("needsRewrite = %v, want %v", got, tc.want)
			}
			if tc.want && !tc.differs {
				return
			}
			out, _ := tr.rewrite([]byte(tc.body), tc.path)
			untouched, rewritten := readDomain(t, tc.path, []byte(tc.body)), readDomain(t, tc.path, out)
			if same := reflect.DeepEqual(untouched, rewritten); same == tc.differs {
				t.Fatalf("read untouched %+v\nread rewritten %+v\nsame = %v, want %v", untouched, rewritten, same, !tc.differs)
			}
		})
	}
}

// TestNeedsRewriteFixtures: the Graph answers of testdata that need no rewrite are told apart, and read the
// same untouched as rewritten.
func TestNeedsRewriteFixtures(t *testing.T) {
	tr := tolerantReader{log: slog.New(slog.DiscardHandler), seen: &sync.Map{}}
	for _, tc := range []struct {
		file, path string
		want       bool // needsRewrite
	}{
		{"accesspackageassignmentrequest-filterbycurrentuser.json", myReqPath, false},
		{"entitlementmanagement-list-assignmentrequests.json", em + "/assignmentRequests", true}, // completedDate (a legacy name)
		{"accesspackageassignment-filterbycurrentuser.json", asgPath, false},
		{"entitlementmanagement-list-assignments.json", em + "/assignments", false},
		{"accesspackage-filterbycurrentuser.json", pkgListPath, false},
		{"entitlementmanagement-list-catalogs.json", em + "/catalogs", true},      // "published" is no assignment state
		{"connectedorganization-list.json", em + "/connectedOrganizations", true}, // "configured" neither
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := needsRewrite(body, tc.path); got != tc.want {
				t.Fatalf("needsRewrite = %v, want %v", got, tc.want)
			}
			out, _ := tr.rewrite(body, tc.path)
			if a, b := readDomain(t, tc.path, body), readDomain(t, tc.path, out); !tc.want && !reflect.DeepEqual(a, b) {
				t.Fatalf("read untouched %+v\nread rewritten %+v", a, b)
			}
		})
	}
}

// pipelineReply is a khttp.Pipeline whose next step answers with a JSON body.
type pipelineReply string

func (p pipelineReply) Next(*http.Request, int) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(string(p))), ContentLength: int64(len(p))}, nil
}

var _ khttp.Pipeline = pipelineReply("")

// TestTolerantReaderPassesThrough: a body that needs no rewrite reaches the SDK byte for byte; one that does
// is rewritten.
func TestTolerantReaderPassesThrough(t *testing.T) {
	tr := tolerantReader{log: slog.New(slog.DiscardHandler), seen: &sync.Map{}}
	for _, tc := range []struct {
		body      string
		untouched bool
	}{
		{`{"value":[{"id":"r1","requestType":"userAdd","state":"delivered"}]}`, true},
		{`{"value":[{"id":"r1","requestType":"UserAdd","state":"Delivered"}]}`, false},
	} {
		req, _ := http.NewRequest("GET", "https://graph.example"+myReqPath, nil)
		resp, err := tr.Intercept(pipelineReply(tc.body), 0, req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if bytes.Equal(got, []byte(tc.body)) != tc.untouched {
			t.Errorf("body %s reached the SDK as %s; untouched want %v", tc.body, got, tc.untouched)
		}
	}
}

// BenchmarkTolerantReader is tolerantReader on a page of requests in the v1.0 shape (nothing to rewrite).
func BenchmarkTolerantReader(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#accessPackageAssignmentRequests","value":[`)
	for i := range 20 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"id":"46c1410d-ef96-44c5-ae9c-a577d014fe0e","requestType":"userAdd","state":"delivered","status":"Delivered",
			"createdDateTime":"2021-01-19T20:02:23.907Z","completedDateTime":"2021-01-19T20:02:40.97Z","justification":"Need access",
			"schedule":{"startDateTime":"2021-01-19T20:02:23.907Z","expiration":{"type":"afterDuration","duration":"P30D"}},
			"accessPackage":{"id":"p1","displayName":"Falcon Team Member","description":"Members of the Falcon team"}}`)
	}
	sb.WriteString(`]}`)
	body := sb.String()
	tr := tolerantReader{log: slog.New(slog.DiscardHandler), seen: &sync.Map{}}
	req, _ := http.NewRequest("GET", "https://graph.example"+myReqPath, nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := tr.Intercept(pipelineReply(body), 0, req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
}
