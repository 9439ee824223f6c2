package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a bot under measurement: `accessbot demo` or the Node reference bot.
type process struct {
	cmd      *exec.Cmd
	endpoint string        // its /api/messages
	metrics  string        // its /metrics page; "" for the reference bot, which has none
	readyMS  float64       // from starting it to its first ready answer
	exited   chan struct{} // closed once it has exited
}

// launch starts cmd, its stderr shown line by line under name, and polls ready every 5 ms (ready ms is
// measured to this resolution) until it answers true, the process exits or 60 s pass.
func launch(cmd *exec.Cmd, name string, ready func() bool) (*process, error) {
	cmd.Stdout = io.Discard
	cmd.Stderr = &prefixWriter{prefix: name + ": ", w: os.Stderr}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !ready() {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before it was ready (%s; its messages are above)", name, cmd.ProcessState)
		case <-deadline.C:
			p.stop()
			return nil, fmt.Errorf("%s did not become ready within 60s", name)
		case <-tick.C:
		}
	}
	p.readyMS = float64(time.Since(started).Microseconds()) / 1000
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// stop ends the process with SIGTERM, or SIGKILL after 15 s.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// probe is the client of the readiness checks: a process that accepts but does not answer is not ready.
var probe = &http.Client{Timeout: 2 * time.Second}

// answers200 says whether a GET of url answers 200.
func answers200(url string) bool {
	resp, err := probe.Get(url)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// startBot starts `accessbot demo` with its state in dir (or db) and waits for its /readyz.
func startBot(ctx context.Context, bin, dir, metadata, db, debugAddr string) (*process, error) {
	args := []string{"demo", "--data", dir, "--addr", "127.0.0.1:0", "--sim-addr", "127.0.0.1:0",
		"--log-level", "error", "--verify-tokens", metadata,
		// The bot's own capacity is measured: all clients are users of one tenant, whose Connector budget
		// (30 operations a second) would otherwise be the ceiling (see BenchmarkApprovalFanOut for that).
		"--connector-rate", "0"}
	if db != "" {
		args = append(args, "--database-url", db)
	}
	if debugAddr != "" {
		args = append(args, "--debug-addr", debugAddr)
	}
	var endpoint string
	p, err := launch(exec.CommandContext(ctx, bin, args...), "accessbot", func() bool {
		if endpoint == "" {
			endpoint = demoEndpoint(filepath.Join(dir, "demo.json"))
		}
		return endpoint != "" && answers200(strings.TrimSuffix(endpoint, "/api/messages")+"/readyz")
	})
	if err != nil {
		return nil, err
	}
	p.endpoint = endpoint
	p.metrics = strings.TrimSuffix(endpoint, "/api/messages") + "/metrics"
	return p, nil
}

// demoEndpoint is the bot endpoint `accessbot demo` wrote to its demo.json, or "" before it has.
func demoEndpoint(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var doc struct {
		Bot struct{ Endpoint string } `json:"bot"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	return doc.Bot.Endpoint
}

// startReference starts the Node reference bot in refDir (`node index.js`) with its file storage in dir,
// configured against the identity stub (inbound tokens) and its https token endpoint (outbound token), and
// waits for its /healthz.
func startReference(ctx context.Context, refDir, dir string, id *identity) (*process, error) {
	authority, caFile, err := id.startTokenEndpoint(dir)
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	data := filepath.Join(dir, "storage")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, fmt.Errorf("reference storage directory: %w", err)
	}
	// --no-deprecation: restify 11 reads process.binding("http_parser"), a warning at every start.
	cmd := exec.CommandContext(ctx, "node", "--no-deprecation", filepath.Join(refDir, "index.js"))
	cmd.Env = append(os.Environ(), "PORT="+port, "MicrosoftAppId="+id.appID, "MicrosoftAppPassword="+id.secret,
		"BENCHREF_OPENID_METADATA="+id.metadataURL(), "BENCHREF_LOGIN_URL="+authority, "BENCHREF_DATA="+data,
		"NODE_EXTRA_CA_CERTS="+caFile)
	base := "http://" + addr
	p, err := launch(cmd, "benchref", func() bool { return answers200(base + "/healthz") })
	if err != nil {
		return nil, err
	}
	p.endpoint = base + "/api/messages"
	return p, nil
}

// checkReference says what is missing for -reference dir to run: node on PATH, dir/index.js, its npm packages.
func checkReference(dir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("-reference: node (Node.js 20 or later) is not on PATH: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.js")); err != nil {
		return fmt.Errorf("-reference %s: expected the reference bot's index.js there (scripts/benchref): %w", dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "botbuilder")); err != nil {
		return fmt.Errorf("-reference %s: its npm packages are not installed: run `npm ci` there (make bench-compare does)", dir)
	}
	return nil
}

// prefixWriter writes each complete line written to it to w, after prefix.
type prefixWriter struct {
	prefix string
	w      io.Writer
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
}

// cpuTime is the user+system CPU time of pid (/proc/PID/stat, clock ticks of 10 ms on Linux).
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// Fields after the command name (which may contain spaces) start after the last ')'.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	if len(f) < 13 {
		return 0, errors.New("read CPU time: short /proc stat line")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// rssMB is the resident set size of pid, and of it the anonymous memory (heap, stacks; the rest is mapped
// files: the binary's pages and the bbolt state file's).
func rssMB(pid int) (rss, anon float64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("read RSS: %w", err)
	}
	found := 0
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "VmRSS:" && f[0] != "RssAnon:") {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read RSS: %s: %w", line, err)
		}
		if f[0] == "VmRSS:" {
			rss = kb / 1024
		} else {
			anon = kb / 1024
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("read RSS: no VmRSS or RssAnon line")
	}
	return rss, anon, nil
}

// metricsClient reads the bot's /metrics; a bot that does not answer in time is an error, not a hung benchmark.
var metricsClient = &http.Client{Timeout: 10 * time.Second}

// scrape reads the bot's /metrics page: the Graph requests (accessbot_outbound_requests_total{system="graph"})
// and the store operations (bbolt transactions or PostgreSQL statements, the count of
// accessbot_store_operation_duration_seconds) so far, and of those the writes (kind="write").
func scrape(url string) (graph, storeOps, writes float64, err error) {
	err = readMetrics(url, func(series string, v float64) {
		switch {
		case isGraphRequests(series):
			graph += v
		case strings.HasPrefix(series, "accessbot_store_operation_duration_seconds_count{"):
			storeOps += v
			if strings.Contains(series, `kind="write"`) {
				writes += v
			}
		}
	})
	return graph, storeOps, writes, err
}

// isGraphRequests reports whether series counts the bot's Graph requests.
func isGraphRequests(series string) bool {
	return strings.HasPrefix(series, "accessbot_outbound_requests_total{") && strings.Contains(series, `system="graph"`)
}

// readMetrics reads the bot's /metrics page and calls fn with each sample's series (name and labels) and value.
func readMetrics(url string, fn func(series string, v float64)) error {
	resp, err := metricsClient.Get(url)
	if err != nil {
		return fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		sp := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[sp+1:], 64); err == nil {
			fn(line[:max(sp, 0)], v)
		}
	}
	return sc.Err()
}
