package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestReferenceBot checks that the Node reference bot does what README "Reading make bench" says: it validates
// the benchmark's Bot Framework tokens (and refuses a token signed by another key), replies to a message through
// the Connector with a token MSAL got from the identity stub's token endpoint, answers Action.Execute with an
// Adaptive Card, and keeps conversation and user state as files. It starts node, so it is opt-in:
//
//	(cd scripts/benchref && npm ci --ignore-scripts) && ACCESSBENCH_NODE=1 go test -run TestReferenceBot ./cmd/accessbench
func TestReferenceBot(t *testing.T) {
	if os.Getenv("ACCESSBENCH_NODE") == "" {
		t.Skip("starts node: set ACCESSBENCH_NODE=1 (after npm ci in scripts/benchref)")
	}
	refDir := filepath.Join("..", "..", "scripts", "benchref")
	if err := checkReference(refDir); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent []*http.Request
	var bodies []string
	conn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sent, bodies = append(sent, r), append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id":"reply-1"}`)
	}))
	defer conn.Close()
	id, err := startIdentity(benchAppID)
	if err != nil {
		t.Fatal(err)
	}
	defer id.close()
	dir := t.TempDir()
	ctx := context.Background()
	p, err := startReference(ctx, refDir, dir, id)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	tok, err := id.token(conn.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c := &client{id: 1, p: personas[0], endpoint: p.endpoint, svcURL: conn.URL + "/", botID: "28:" + benchAppID, token: tok, http: http.DefaultClient}

	if _, err := c.post(ctx, step{text: "packages"}); err != nil {
		t.Fatalf("message: %v", err)
	}
	mu.Lock()
	if len(sent) != 1 || !strings.HasPrefix(sent[0].URL.Path, "/v3/conversations/") || !strings.Contains(bodies[0], `Turn 1: you said \"packages\".`) {
		t.Fatalf("Connector calls after a message = %d %v, want one reply \"Turn 1: you said \\\"packages\\\".\"", len(sent), bodies)
	}
	checkOutboundToken(t, id, sent[0].Header.Get("Authorization"))
	mu.Unlock()

	status, body := postRaw(t, c, step{verb: "request.open", data: map[string]any{"packageId": "p-1"}})
	var inv struct {
		StatusCode int
		Type       string
		Value      struct{ Body []struct{ Text string } }
	}
	if err := json.Unmarshal(body, &inv); status != http.StatusOK || err != nil || inv.StatusCode != 200 ||
		inv.Type != "application/vnd.microsoft.card.adaptive" || len(inv.Value.Body) != 3 ||
		inv.Value.Body[0].Text != "Done: request.open" || inv.Value.Body[2].Text != "Turn 2" {
		t.Fatalf("Action.Execute answered %d %s, want 200 with an Adaptive Card \"Done: request.open\", turn 2", status, body)
	}

	files, _ := filepath.Glob(filepath.Join(dir, "storage", "*.json"))
	want := map[string]bool{"msteams%2Fconversations%2Fa%3Abench-1%2F.json": false, "msteams%2Fusers%2F29%3Arita%2F.json": false}
	for _, f := range files {
		if _, ok := want[filepath.Base(f)]; ok {
			want[filepath.Base(f)] = true
		}
	}
	for f, found := range want {
		if !found {
			t.Errorf("storage files = %v, want %s among them", files, f)
		}
	}

	other, err := startIdentity(benchAppID) // same key id, another key
	if err != nil {
		t.Fatal(err)
	}
	defer other.close()
	if c.token, err = other.token(conn.URL + "/"); err != nil {
		t.Fatal(err)
	}
	// botbuilder 4.23.3 answers 401 to most token faults but 500 to a bad signature (jsonwebtoken's error is
	// rethrown as is); either way the turn must not run.
	if status, body := postRaw(t, c, step{text: "status"}); status == http.StatusOK || !strings.Contains(string(body), "invalid signature") {
		t.Errorf("a token signed by another key answered %d %s, want a refusal for its signature", status, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 {
		t.Errorf("Connector calls = %d after a refused activity, want still 1", len(sent))
	}
}

// checkOutboundToken asserts that auth is a Bearer token the identity stub signed for the Connector.
func checkOutboundToken(t *testing.T, id *identity, auth string) {
	t.Helper()
	raw, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		t.Fatalf("reply Authorization = %q, want a Bearer token", auth)
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return &id.key.PublicKey, nil }); err != nil {
		t.Fatalf("reply token: %v", err)
	}
	if claims["aud"] != "https://api.botframework.com" || claims["appid"] != benchAppID {
		t.Errorf("reply token claims = %v, want aud https://api.botframework.com, appid %s", claims, benchAppID)
	}
}

// postRaw posts one activity of c and returns the status and body of the answer.
func postRaw(t *testing.T, c *client, s step) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(c.activity(s))
	req, _ := http.NewRequest(http.MethodPost, c.endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
