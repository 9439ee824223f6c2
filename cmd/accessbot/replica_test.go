package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
	"github.com/accessbot/accessbot/internal/testkit"
)

// replicaChildEnv makes the test binary run `accessbot serve` (configured from the environment) instead of
// the tests: the replica test starts real processes it can kill -9.
const replicaChildEnv = "ACCESSBOT_REPLICA_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(replicaChildEnv) == "1" {
		os.Exit(run(context.Background(), []string{"serve"}, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// replicaEnv is a cluster of accessbot serve processes behind a round-robin proxy, with the tenant
// simulator, the fake Teams connector and a Bot Framework token issuer.
type replicaEnv struct {
	t       *testing.T
	sim     *tenantsim.Sim
	simURL  string
	conn    *teamsfake.Connector
	teams   *teamsfake.Client
	oid     *openIDServer
	procs   []*replicaProc
	dbURL   string
	filings atomic.Int32 // POSTs of assignment requests seen by the simulator
	signIns atomic.Int32 // SSO tokens handed to the bot (token exchanges and Adaptive Card SSO retries)
}

type replicaProc struct {
	cmd  *exec.Cmd
	addr string
	logs *testkit.LogBuffer
	dead bool
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// newReplicaEnv starts n replicas on dbURL (PostgreSQL) or, when dbURL is empty, one on a bbolt file.
func newReplicaEnv(t *testing.T, n int, dbURL string) *replicaEnv {
	t.Helper()
	e := &replicaEnv{t: t, dbURL: dbURL}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.simURL = "http://" + ln.Addr().String()
	e.sim, err = tenantsim.New(tenantsim.Options{Path: filepath.Join(t.TempDir(), "sim.db"), BaseURL: e.simURL,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := &http.Server{Handler: e.countFilings(e.sim.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = simSrv.Serve(ln) }()
	t.Cleanup(func() { _ = simSrv.Close(); _ = e.sim.Close() })

	e.oid = newOpenIDServer(t)
	e.conn = teamsfake.NewConnector(t)
	e.conn.AddMember(teamsfake.Member{ID: replicaGus.ID, Name: replicaGus.Name, AADObjectID: replicaGus.AADObjectID,
		TenantID: replicaGus.TenantID, Email: "gus@fabrikam.example"})
	info := e.sim.Info()
	data := filepath.Join(t.TempDir(), "bot.db")
	for range n {
		p := &replicaProc{addr: freeAddr(t), logs: &testkit.LogBuffer{}}
		p.cmd = exec.Command(os.Args[0], "-test.run=^$")
		p.cmd.Env = append(os.Environ(), replicaChildEnv+"=1",
			"BOT_ID="+info.BotAppID, "BOT_PASSWORD="+info.BotClientSecret, "BOT_TENANT_ID="+info.ResourceTenant,
			"AZURE_AUTHORITY_HOST="+info.AuthorityHost, "GRAPH_BASE_URL="+info.GraphBaseURL,
			"BOT_OPENID_METADATA_URL="+e.oid.srv.URL+"/v1/.well-known/openidconfiguration",
			"ACCESSBOT_ADDR="+p.addr, "ACCESSBOT_DATA="+data, "ACCESSBOT_DATABASE_URL="+dbURL,
			"ACCESSBOT_TENANT_NAME=Contoso", "ACCESSBOT_TENANT_DOMAIN=contoso.onmicrosoft.com",
			"BOT_SSO_CONNECTION_NAME=sso", "ACCESSBOT_POLL_INTERVAL=500ms", "ACCESSBOT_POLL_MAX=2s", "ACCESSBOT_LOG_LEVEL=debug")
		p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		e.procs = append(e.procs, p)
	}
	t.Cleanup(func() {
		for i, p := range e.procs {
			if !p.dead {
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
				_ = p.cmd.Wait()
			}
			if t.Failed() {
				t.Logf("replica %d log:\n%s", i, p.logs.String())
			}
		}
	})
	for i, p := range e.procs {
		waitUntil(t, 60*time.Second, fmt.Sprintf("replica %d ready", i), func() bool {
			resp, err := http.Get("http://" + p.addr + "/readyz")
			if err != nil {
				return false
			}
			_ = resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	proxy := &http.Server{Handler: http.HandlerFunc(e.roundRobin), ReadHeaderTimeout: 10 * time.Second}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = proxy.Serve(pln) }()
	t.Cleanup(func() { _ = proxy.Close() })
	now := time.Now()
	e.teams = &teamsfake.Client{Endpoint: "http://" + pln.Addr().String() + "/api/messages", ServiceURL: e.conn.URL(),
		BotID: info.BotTeamsID, BotName: "AccessBot", Authorize: func(map[string]any) string {
			return "Bearer " + sign(t, e.oid.teamsKey, "teams-key", jwt.MapClaims{
				"iss": "https://api.botframework.com", "aud": info.BotAppID, "serviceurl": e.conn.URL(),
				"exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Minute).Unix(), "iat": now.Unix()})
		}}
	return e
}

// countFilings counts the assignment requests filed at the simulator (POST …/assignmentRequests).
func (e *replicaEnv) countFilings(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/entitlementManagement/assignmentRequests") {
			e.filings.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

var rrNext atomic.Uint32

// roundRobin forwards each request to the next replica; a replica that refuses the connection (killed) is
// skipped, as a load balancer's health check would.
func (e *replicaEnv) roundRobin(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for range len(e.procs) {
		p := e.procs[int(rrNext.Add(1))%len(e.procs)]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, "http://"+p.addr+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		_ = resp.Body.Close()
		return
	}
	http.Error(w, "no replica answered", http.StatusBadGateway)
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var (
	replicaGus   = teamsfake.User{ID: "29:gus", Name: "Gus Guest", AADObjectID: tenantsim.UserGus, TenantID: tenantsim.FabrikamTenantID, ConversationID: "a:gus"}
	replicaPatti = teamsfake.User{ID: "29:patti", Name: "Patti Fernandez", AADObjectID: tenantsim.UserPatti, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:patti"}
)

// say sends text as u and waits for an activity in u's chat containing want.
func (e *replicaEnv) say(u teamsfake.User, text, want string) teamsfake.Activity {
	e.t.Helper()
	from := e.conn.Len()
	resp, err := e.teams.Message(context.Background(), u, text)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("%s says %q: status %d, %v", u.Name, text, resp.Status, err)
	}
	return e.conn.WaitFor(e.t, from, 30*time.Second, fmt.Sprintf("answer to %q containing %q", text, want), func(a teamsfake.Activity) bool {
		return a.ConversationID == u.ConversationID && strings.Contains(a.CardText()+a.Text()+cardJSON(a.Card()), want)
	})
}

// click sends an Action.Execute as u and returns the text of the card the bot answered with.
func (e *replicaEnv) click(u teamsfake.User, replyTo, verb string, data map[string]any) string {
	e.t.Helper()
	resp, err := e.teams.Execute(context.Background(), u, replyTo, verb, data)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("%s clicks %s: status %d %v, %v", u.Name, verb, resp.Status, resp.Body, err)
	}
	raw, _ := json.Marshal(resp.Body)
	return string(raw)
}

func cardJSON(card map[string]any) string {
	raw, _ := json.Marshal(card)
	return string(raw)
}

// findAction returns the data of the Action.Execute with verb, or the URL of the Action.OpenUrl titled verb.
func findAction(card any, verb string) (map[string]any, string) {
	switch x := card.(type) {
	case map[string]any:
		if x["type"] == "Action.Execute" && x["verb"] == verb {
			d, _ := x["data"].(map[string]any)
			out := map[string]any{}
			for k, v := range d {
				out[k] = v
			}
			return out, ""
		}
		if x["type"] == "Action.OpenUrl" && x["title"] == verb {
			u, _ := x["url"].(string)
			return nil, u
		}
		for _, c := range x {
			if d, u := findAction(c, verb); d != nil || u != "" {
				return d, u
			}
		}
	case []any:
		for _, c := range x {
			if d, u := findAction(c, verb); d != nil || u != "" {
				return d, u
			}
		}
	}
	return nil, ""
}

// count is how many sent activities match pred.
func (e *replicaEnv) count(pred func(teamsfake.Activity) bool) int {
	n := 0
	for _, a := range e.conn.Activities() {
		if pred(a) {
			n++
		}
	}
	return n
}

// trackerHolder is the replica index holding the lifecycle tracker lease (-1 when none).
func (e *replicaEnv) trackerHolder() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var holder string
	err = conn.QueryRow(ctx, `SELECT holder FROM leases WHERE name = $1 AND until > clock_timestamp()`, lifecycle.TrackerLease).Scan(&holder)
	if err != nil {
		return -1
	}
	for i, p := range e.procs {
		if strings.Contains(holder, fmt.Sprintf("/%d/", p.cmd.Process.Pid)) && !p.dead {
			return i
		}
	}
	return -1
}

// TestReplicas runs Rita's request approved by her manager Aaron (delegated, with Teams SSO) and the
// partner's brokered request (Gus requests, Patti approves, the guest is delivered and accepts) on three
// `accessbot serve` processes sharing one PostgreSQL database behind a round-robin proxy, killing (SIGKILL)
// the replica that runs the tracker mid-flow; and the same stories on bbolt with one process.
func TestReplicas(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas int
		postgres bool
	}{
		{"bbolt one process", 1, false},
		{"postgres three replicas, one killed", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbURL := ""
			if tc.postgres {
				dbURL = pgtest.URL(t)
			}
			e := newReplicaEnv(t, tc.replicas, dbURL)
			var killedAt time.Time
			var kill func()
			if tc.postgres {
				kill = func() { killedAt = e.killTrackerHolder() }
			}
			runDelegatedStory(t, e, kill)
			if tc.postgres {
				waitUntil(t, 30*time.Second-time.Since(killedAt), "the tracker lease on a surviving replica", func() bool { return e.trackerHolder() >= 0 })
				t.Logf("tracker lease on a survivor %s after the kill", time.Since(killedAt).Round(time.Second))
			}
			runPartnerStory(t, e)
		})
	}
}

// killTrackerHolder kills (SIGKILL) the replica holding the tracker lease and returns when it died.
func (e *replicaEnv) killTrackerHolder() time.Time {
	e.t.Helper()
	var victim int
	waitUntil(e.t, 30*time.Second, "a replica holds the tracker lease", func() bool { victim = e.trackerHolder(); return victim >= 0 })
	p := e.procs[victim]
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		e.t.Fatal(err)
	}
	_ = p.cmd.Wait()
	p.dead = true
	e.t.Logf("killed replica %d (pid %d), the tracker lease holder", victim, p.cmd.Process.Pid)
	return time.Now()
}

func runPartnerStory(t *testing.T, e *replicaEnv) {
	filed := e.filings.Load()
	e.say(replicaPatti, "hi", "AccessBot")
	form := e.say(replicaGus, "request Falcon Partner Collaboration", "request.submit")
	data, _ := findAction(form.Card(), "request.submit")
	if data == nil {
		t.Fatalf("request form has no submit action: %s", cardJSON(form.Card()))
	}
	data["justification"] = "Joint launch with Contoso"
	start := e.conn.Len()
	if status := e.click(replicaGus, form.ID, "request.submit", data); !strings.Contains(status, "Pending approval") {
		t.Fatalf("status after submit: %s", status)
	}
	approval := e.conn.WaitFor(t, start, 30*time.Second, "approval card for Patti", func(a teamsfake.Activity) bool {
		return a.Op == "send" && strings.Contains(a.CardText(), "Approval needed") && strings.Contains(a.CardText(), "Gus Guest") &&
			a.ConversationID != replicaGus.ConversationID && strings.Contains(cardJSON(a.Card()), "approval.approve")
	})
	patti := replicaPatti
	patti.ConversationID = approval.ConversationID
	approve, _ := findAction(approval.Card(), "approval.approve")
	for range 2 { // a double click is one decision
		if answer := e.click(patti, approval.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
			t.Fatalf("Patti's approval: %s", answer)
		}
	}
	e.sim.Advance(5 * time.Second)
	guide := e.conn.WaitFor(t, start, 60*time.Second, "guest guidance card for Gus", func(a teamsfake.Activity) bool {
		return a.ConversationID == replicaGus.ConversationID && a.Op == "send" && strings.Contains(a.CardText(), "added you as a guest")
	})
	_, redeem := findAction(guide.Card(), "Accept the invitation")
	if !strings.HasPrefix(redeem, e.simURL+"/_sim/redeem/") {
		t.Fatalf("redemption link %q is not the simulator's", redeem)
	}
	resp, err := http.Get(redeem)
	if err != nil {
		t.Fatalf("redeem: %v", err)
	}
	_ = resp.Body.Close()
	e.conn.WaitFor(t, start, 60*time.Second, "You're in", func(a teamsfake.Activity) bool {
		return a.ConversationID == replicaGus.ConversationID && strings.Contains(a.CardText(), "You're in")
	})
	e.conn.WaitFor(t, start, 60*time.Second, "status card delivered", func(a teamsfake.Activity) bool {
		return a.Op == "update" && a.ID == form.ID && strings.Contains(a.CardText(), "Delivered")
	})

	// Exactly once: one filing at Entra, one approval card per approver chat, one guidance, one welcome.
	if n := e.filings.Load() - filed; n != 1 {
		t.Errorf("Gus's request filed %d times at the simulator, want 1", n)
	}
	for what, pred := range map[string]func(teamsfake.Activity) bool{
		"approval card to Patti": func(a teamsfake.Activity) bool {
			return a.Op == "send" && a.ConversationID == patti.ConversationID && strings.Contains(a.CardText(), "Approval needed")
		},
		"guest guidance": func(a teamsfake.Activity) bool {
			return a.Op == "send" && a.ConversationID == replicaGus.ConversationID && strings.Contains(a.CardText(), "added you as a guest")
		},
		"You're in": func(a teamsfake.Activity) bool {
			return a.Op == "send" && a.ConversationID == replicaGus.ConversationID && strings.Contains(a.CardText(), "You're in")
		},
	} {
		if n := e.count(pred); n != 1 {
			t.Errorf("%s sent %d times, want 1", what, n)
		}
	}
	approvals := map[string]int{}
	for _, a := range e.conn.Activities() {
		if a.Op == "send" && strings.Contains(a.CardText(), "Approval needed") {
			approvals[a.ConversationID]++
		}
	}
	for conv, n := range approvals {
		if n != 1 {
			t.Errorf("approval card sent %d times to %s, want 1", n, conv)
		}
	}
}
