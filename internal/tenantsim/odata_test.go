package tenantsim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestFilterExpressions(t *testing.T) {
	obj := map[string]any{
		"displayName": "Falcon Team Member", "isHidden": false, "state": "delivered", "count": 3.0,
		"catalog": map[string]any{"id": "c1"}, "target": map[string]any{"objectId": "abc"},
		"createdDateTime": "2026-01-05T09:00:00Z", "description": nil,
	}
	tests := []struct {
		expr string
		want bool
	}{
		{"displayName eq 'Falcon Team Member'", true},
		{"displayName eq 'falcon team member'", true},
		{"displayName ne 'x'", true},
		{"state eq 'Delivered'", true},
		{"contains(displayName,'team')", true},
		{"startswith(displayName,'Falcon') and isHidden eq false", true},
		{"endswith(displayName,'Member') or state eq 'x'", true},
		{"not(isHidden eq true)", true},
		{"catalog/id eq 'c1'", true},
		{"target/objectid eq 'abc'", true},
		{"(state eq 'a' or state eq 'delivered') and catalog/id eq 'c1'", true},
		{"count gt 2", true},
		{"count le 2", false},
		{"createdDateTime ge 2026-01-01T00:00:00Z", true},
		{"createdDateTime lt 2026-01-05T08:59:59.5Z", false},
		{"createdDateTime ge '2026-01-01T00:00:00Z'", true},
		{"description eq null", true},
		{"missing eq 'x'", false},
		{"displayName eq 'it''s'", false},
		{"tolower(displayName) eq 'falcon team member'", true},
		{"state in ('pending', 'Delivered')", true},
		{"state in ('pending')", false},
		{"catalog/id in ('c2','c1') and count eq 3", true},
	}
	for _, tc := range tests {
		f, err := parseFilter(tc.expr)
		if err != nil {
			t.Fatalf("parse %q: %v", tc.expr, err)
		}
		if got := f.eval(obj); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.expr, got, tc.want)
		}
	}
	for _, bad := range []string{"displayName eq 'x", "contains(displayName", "foo(bar)", "a eq", "(a eq 'b'", "a eq 'b' )", "a # b"} {
		if _, err := parseFilter(bad); err == nil {
			t.Errorf("parseFilter(%q) accepted", bad)
		}
	}
}

func TestODataEdges(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	rita := e.userToken(UserRita)

	t.Run("count and orderby", func(t *testing.T) {
		r := e.do("GET", em+"accessPackages?$count=true&$orderby="+url.QueryEscape("displayName desc")+"&$top=2", app, nil)
		wantStatus(t, r, 200)
		if r.body["@odata.count"] != float64(5) {
			t.Fatalf("count %v", r.body["@odata.count"])
		}
		if got := ids(t, r); !slices.Equal(got, []string{PkgWikiReader, PkgTeamMember}) {
			t.Fatalf("ordered %v", got)
		}
	})
	t.Run("paging a function result", func(t *testing.T) {
		var got []string
		next := em + "accessPackages/filterByCurrentUser(on='allowedRequestor')?$top=1"
		for i := 0; next != "" && i < 10; i++ {
			r := e.do("GET", next, rita, nil)
			wantStatus(t, r, 200)
			got = append(got, ids(t, r)...)
			next = str(r.body["@odata.nextLink"])
		}
		if !slices.Equal(got, []string{PkgTeamMember, PkgProduction, PkgWikiReader}) {
			t.Fatalf("pages %v", got)
		}
	})
	t.Run("bad query options", func(t *testing.T) {
		for _, q := range []string{"$top=-1", "$top=x", "$skip=x", "$skiptoken=" + url.QueryEscape("o=1!"), "$filter=" + url.QueryEscape("foo(")} {
			wantGraphError(t, e.do("GET", em+"accessPackages?"+q, app, nil), 400, "BadRequest")
		}
	})
	t.Run("unknown segment", func(t *testing.T) {
		wantGraphError(t, e.do("GET", "/v1.0/nothingHere", app, nil), 400, "BadRequest")
		wantGraphError(t, e.do("GET", em+"nothingHere", app, nil), 400, "BadRequest")
		wantGraphError(t, e.do("DELETE", em+"accessPackages", app, nil), 405, "")
	})
	t.Run("bodies", func(t *testing.T) {
		r := e.doRawString("POST", em+"assignmentRequests", rita, "{")
		wantGraphError(t, r, 400, "BadRequest")
		req, _ := http.NewRequest("POST", e.base+em+"assignmentRequests", strings.NewReader("not gzip"))
		req.Header.Set("Authorization", "Bearer "+rita)
		req.Header.Set("Content-Encoding", "gzip")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("bad gzip: %d", res.StatusCode)
		}
		req, _ = http.NewRequest("POST", e.base+em+"assignmentRequests", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+rita)
		req.Header.Set("Content-Encoding", "br")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Fatalf("unsupported encoding: %d", res.StatusCode)
		}
	})
	t.Run("request ids echo", func(t *testing.T) {
		req, _ := http.NewRequest("GET", e.base+em+"catalogs", nil)
		req.Header.Set("Authorization", "Bearer "+app)
		req.Header.Set("client-request-id", "abc-123")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("client-request-id") != "abc-123" || res.Header.Get("request-id") == "" {
			t.Fatalf("headers %v", res.Header)
		}
	})
}
