package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// demoRun is one `accessbot demo` process, run in-process on free loopback ports.
type demoRun struct {
	cancel context.CancelFunc
	done   chan error
	info   struct {
		Bot struct {
			Endpoint string `json:"endpoint"`
		} `json:"bot"`
		Simulator struct {
			BotAppID        string `json:"botAppId"`
			BotClientSecret string `json:"botClientSecret"`
			GraphBaseURL    string `json:"graphBaseUrl"`
			AuthorityHost   string `json:"authorityHost"`
			ResourceTenant  string `json:"resourceTenantId"`
		} `json:"simulator"`
	}
}

func startDemo(t *testing.T, dir string, extra ...string) *demoRun {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "demo.json"))
	ctx, cancel := context.WithCancel(context.Background())
	d := &demoRun{cancel: cancel, done: make(chan error, 1)}
	args := append([]string{"--data", dir, "--addr", "127.0.0.1:0", "--sim-addr", "127.0.0.1:0", "--log-level", "warn"}, extra...)
	go func() { d.done <- runDemo(ctx, args, io.Discard, io.Discard) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "demo.json"))
		if err == nil && json.Unmarshal(raw, &d.info) == nil && d.info.Bot.Endpoint != "" {
			ready := strings.TrimSuffix(d.info.Bot.Endpoint, "/api/messages") + "/readyz"
			if resp, err := http.Get(ready); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return d
				}
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("demo stopped while starting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("demo did not become ready in 20s")
		}
		time.Sleep(20 * time.Millisecond) // polling a file another goroutine writes; bounded by the deadline
	}
}

func (d *demoRun) stop(t *testing.T) {
	t.Helper()
	d.cancel()
	select {
	case err := <-d.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("demo stopped with: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop within 20s of cancellation")
	}
}

// appToken gets a Graph app token from the simulated Entra, the way `curl` in the README does.
func (d *demoRun) appToken(t *testing.T) string {
	t.Helper()
	s := d.info.Simulator
	resp, err := http.PostForm(s.AuthorityHost+s.ResourceTenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.BotAppID}, "client_secret": {s.BotClientSecret},
		"scope": {"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tok) != nil || tok.AccessToken == "" {
		t.Fatalf("token endpoint: status %d", resp.StatusCode)
	}
	return tok.AccessToken
}

func (d *demoRun) graph(t *testing.T, tok, method, path string, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, d.info.Simulator.GraphBaseURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDemoServesGraphAndKeepsState is issue 3's "must show": the demo's simulated Entra issues tokens, Graph
// answers in Graph's shape, a delegated-only call with an app token gets Graph's error envelope, state
// survives a restart and --reset clears it.
func TestDemoServesGraphAndKeepsState(t *testing.T) {
	dir := t.TempDir()
	d := startDemo(t, dir)
	tok := d.appToken(t)

	st, body := d.graph(t, tok, "GET", "/identityGovernance/entitlementManagement/accessPackages?$top=2", "")
	if st != http.StatusOK || !strings.Contains(fmt.Sprint(body["@odata.context"]), "$metadata#identityGovernance/entitlementManagement/accessPackages") {
		t.Fatalf("accessPackages: status %d body %v", st, body)
	}
	if vals, _ := body["value"].([]any); len(vals) != 2 || body["@odata.nextLink"] == nil {
		t.Fatalf("accessPackages page: %d values, nextLink %v", len(vals), body["@odata.nextLink"])
	}
	st, body = d.graph(t, tok, "GET", "/identityGovernance/entitlementManagement/accessPackages/filterByCurrentUser(on='allowedRequestor')", "")
	errObj, _ := body["error"].(map[string]any)
	inner, _ := errObj["innerError"].(map[string]any)
	if st != http.StatusForbidden || errObj["code"] == nil || errObj["message"] == nil || inner["request-id"] == nil {
		t.Fatalf("delegated-only call with an app token: status %d body %v", st, body)
	}

	org := `{"displayName":"Litware","state":"proposed","identitySources":[{"@odata.type":"#microsoft.graph.domainIdentitySource","domainName":"litware.example","displayName":"Litware"}]}`
	st, body = d.graph(t, tok, "POST", "/identityGovernance/entitlementManagement/connectedOrganizations", org)
	if st != http.StatusCreated {
		t.Fatalf("create connected organization: status %d body %v", st, body)
	}
	orgID, _ := body["id"].(string)
	d.stop(t)

	hasOrg := func(d *demoRun) bool {
		st, _ := d.graph(t, d.appToken(t), "GET", "/identityGovernance/entitlementManagement/connectedOrganizations/"+orgID, "")
		return st == http.StatusOK
	}
	d = startDemo(t, dir)
	if !hasOrg(d) {
		t.Fatal("the connected organization did not survive a restart")
	}
	d.stop(t)

	d = startDemo(t, dir, "--reset")
	defer d.stop(t)
	if hasOrg(d) {
		t.Fatal("--reset kept the connected organization")
	}
}
