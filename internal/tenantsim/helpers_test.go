package tenantsim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var baseTime = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// testClock is a settable base clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	base  string
	path  string
	clock *testClock
	app   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "sim.db"), false)
}

func newEnvAt(t *testing.T, path string, reset bool) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	clock := &testClock{t: baseTime}
	sim, err := New(Options{Path: path, BaseURL: base, Now: clock.Now, Reset: reset})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv.Config.Handler = sim.Handler()
	srv.Start()
	e := &env{t: t, sim: sim, srv: srv, base: base, path: path, clock: clock}
	t.Cleanup(func() {
		srv.Close()
		_ = sim.Close()
	})
	return e
}

// close shuts the server and the simulator (for reopen tests).
func (e *env) close() {
	e.srv.Close()
	if err := e.sim.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	return e.doRaw(method, path, token, body, false)
}

func (e *env) doRaw(method, path, token string, body any, gz bool) resp {
	e.t.Helper()
	var rd io.Reader
	var data []byte
	if body != nil {
		var err error
		data, err = json.Marshal(body)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		if gz {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, _ = zw.Write(data)
			_ = zw.Close()
			data = buf.Bytes()
		}
		rd = bytes.NewReader(data)
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = e.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(strings.TrimSpace(string(raw)), "{") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return r
}

func (e *env) doRawString(method, path, token, body string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (e *env) form(path string, vals url.Values) resp {
	e.t.Helper()
	res, err := http.PostForm(e.base+path, vals)
	if err != nil {
		e.t.Fatalf("post form: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		e.t.Fatalf("decode %q: %v", raw, err)
	}
	return r
}

func (e *env) appToken() string {
	e.t.Helper()
	if e.app != "" {
		return e.app
	}
	r := e.form("/"+ContosoTenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {BotAppID},
		"client_secret": {e.sim.Info().BotClientSecret}, "scope": {"https://graph.microsoft.com/.default"},
	})
	if r.status != 200 {
		e.t.Fatalf("app token: %d %s", r.status, r.raw)
	}
	e.app = r.body["access_token"].(string)
	return e.app
}

func (e *env) assertion(tid, oid string) string {
	e.t.Helper()
	r := e.do("POST", "/_sim/dev/assertion", "", map[string]string{"tenantId": tid, "oid": oid})
	if r.status != 200 {
		e.t.Fatalf("assertion: %d %s", r.status, r.raw)
	}
	return r.body["token"].(string)
}

func (e *env) obo(tokenTenant, assertion string) resp {
	e.t.Helper()
	return e.form("/"+tokenTenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {jwtBearerGrant}, "client_id": {BotAppID}, "client_secret": {e.sim.Info().BotClientSecret},
		"scope": {"https://graph.microsoft.com/.default openid offline_access profile"}, "requested_token_use": {"on_behalf_of"},
		"assertion": {assertion},
	})
}

// userToken returns a delegated Graph token for a Contoso user.
func (e *env) userToken(oid string) string {
	e.t.Helper()
	r := e.obo(ContosoTenantID, e.assertion(ContosoTenantID, oid))
	if r.status != 200 {
		e.t.Fatalf("obo for %s: %d %s", oid, r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func values(t *testing.T, r resp) []map[string]any {
	t.Helper()
	arr, ok := r.body["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %s", r.raw)
	}
	out := make([]map[string]any, 0, len(arr))
	for _, v := range arr {
		out = append(out, v.(map[string]any))
	}
	return out
}

func ids(t *testing.T, r resp) []string {
	t.Helper()
	var out []string
	for _, v := range values(t, r) {
		out = append(out, str(v["id"]))
	}
	return out
}

func wantStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.raw)
	}
}

// wantGraphError checks Graph's error envelope.
func wantGraphError(t *testing.T, r resp, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	er, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error envelope: %s", r.raw)
	}
	if code != "" && str(er["code"]) != code {
		t.Fatalf("error code %q, want %q: %s", er["code"], code, r.raw)
	}
	if str(er["message"]) == "" {
		t.Fatalf("error without message: %s", r.raw)
	}
	inner, ok := er["innerError"].(map[string]any)
	if !ok || str(inner["request-id"]) == "" || str(inner["date"]) == "" {
		t.Fatalf("innerError missing request-id/date: %s", r.raw)
	}
}

const em = "/v1.0/identityGovernance/entitlementManagement/"
