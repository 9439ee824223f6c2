// Command accessbench measures AccessBot the way Teams drives it: it starts the real binary (`accessbot demo`,
// the bot with its embedded simulated tenants, state in bbolt or PostgreSQL), signs every activity with a
// local Bot Framework key that the bot validates (--verify-tokens), answers the bot's Connector calls with a
// local stub, and drives a mix of messages and Action.Execute card actions from 1, 8 and 32 concurrent
// clients. It prints one table: activities/s, p50/p99 latency, CPU ms per activity and RSS of the bot
// process, Graph calls per activity (from the bot's own /metrics).
//
//	go run ./cmd/accessbench -bin bin/accessbot -clients 1,8,32 -duration 10s [-database-url postgres://…]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "accessbench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin      string
	clients  []int
	duration time.Duration
	dbURLs   []string // "" = bbolt
	preload  int
	steps    bool
	pprof    string // directory for each row's CPU and heap profiles; "" = none
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("accessbench", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "bin/accessbot", "the accessbot binary to measure")
	clients := fs.String("clients", "1,8,32", "comma-separated numbers of concurrent clients")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per row (after a warm-up round)")
	db := fs.String("database-url", "", "also measure on PostgreSQL: a URL whose user may create databases (each row gets a fresh one, dropped after)")
	fs.BoolVar(&o.steps, "steps", false, "instead of the table: send each step of each persona's mix once, warm, and print its Graph requests by operation")
	fs.StringVar(&o.pprof, "pprof", "", "save each row's CPU profile (the measured window) and heap profile (at its end) of the bot in this directory (the bot runs with --debug-addr)")
	fs.IntVar(&o.preload, "preload", 0, "bbolt rows only: start from a state file holding this many users' conversation references and recent activity ids (e.g. 100000)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return o, fmt.Errorf("-clients: %q is not a number of clients between 1 and 256", f)
		}
		o.clients = append(o.clients, n)
	}
	o.dbURLs = []string{""}
	if *db != "" {
		o.dbURLs = append(o.dbURLs, *db)
	}
	if o.duration < time.Second || o.duration > 10*time.Minute {
		return o, fmt.Errorf("-duration %s: expected between 1s and 10m", o.duration)
	}
	return o, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	conn, err := startConnector()
	if err != nil {
		return err
	}
	defer conn.srv.Close()
	if o.steps {
		return perStep(ctx, o, conn, out)
	}
	fmt.Fprintf(out, "%-8s %7s %12s %9s %9s %10s %8s %8s %13s %12s %11s %9s %6s\n",
		"store", "clients", "activities/s", "p50 ms", "p99 ms", "CPU ms/act", "RSS MB", "anon MB", "Graph/activity", "store/activity", "writes/act", "ready ms", "errors")
	for _, db := range o.dbURLs {
		for _, n := range o.clients {
			row, err := measure(ctx, o, db, n, conn)
			if err != nil {
				return fmt.Errorf("%d clients on %s: %w", n, storeName(db), err)
			}
			fmt.Fprintf(out, "%-8s %7d %12.0f %9.1f %9.1f %10.2f %8.0f %8.0f %13.2f %12.2f %11.2f %9.0f %6d\n", storeName(db), n, row.rate,
				ms(row.p50), ms(row.p99), row.cpuMS, row.rssMB, row.anonMB, row.graphPer, row.storePer, row.writesPer, row.startMS, row.errors)
			if row.firstErr != nil {
				fmt.Fprintf(out, "         first error: %v\n", row.firstErr)
			}
		}
	}
	return nil
}

func storeName(db string) string {
	if db == "" {
		return "bbolt"
	}
	return "postgres"
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type row struct {
	rate, cpuMS, rssMB, anonMB, graphPer, storePer, writesPer, startMS float64
	p50, p99                                                           time.Duration
	errors                                                             int
	firstErr                                                           error
}

// measure starts a fresh bot, warms it up, measures one row and stops it.
func measure(ctx context.Context, o options, db string, n int, conn *connector) (row, error) {
	dir, err := os.MkdirTemp("", "accessbench-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	id, err := startIdentity("b0770000-0000-4000-8000-000000000001")
	if err != nil {
		return row{}, err
	}
	defer id.srv.Close()
	if db != "" {
		fresh, drop, err := freshDatabase(ctx, db, n)
		if err != nil {
			return row{}, err
		}
		defer drop()
		db = fresh
	}
	if o.preload > 0 && db == "" {
		if err := preload(ctx, dir, o.preload); err != nil {
			return row{}, err
		}
	}
	debugAddr := ""
	if o.pprof != "" {
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			return row{}, err
		}
	}
	started := time.Now()
	bot, err := startBot(ctx, o.bin, dir, id.metadataURL(), db, debugAddr)
	if err != nil {
		return row{}, err
	}
	defer bot.stop()
	startMS := float64(time.Since(started).Microseconds()) / 1000
	tok, err := id.token(conn.url)
	if err != nil {
		return row{}, err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 30 * time.Second}
	mk := func(i int) *client {
		return &client{id: i, p: personas[i%len(personas)], endpoint: bot.endpoint, svcURL: conn.url,
			botID: "28:b0770000-0000-4000-8000-000000000001", token: tok, http: hc}
	}
	runLoad(ctx, mk, n, 0, true) // warm-up: every client's schedule once (token keys, caches, conversations)
	cpu0, err := cpuTime(bot.pid())
	if err != nil {
		return row{}, err
	}
	graph0, store0, writes0, err := scrape(bot.metrics)
	if err != nil {
		return row{}, err
	}
	profDone := profileRow(ctx, debugAddr, o.duration, filepath.Join(o.pprof, fmt.Sprintf("%s-%d", storeName(db), n)))
	res := runLoad(ctx, mk, n, o.duration, false)
	if err := profDone(); err != nil {
		return row{}, err
	}
	cpu1, err := cpuTime(bot.pid())
	if err != nil {
		return row{}, err
	}
	graph1, store1, writes1, err := scrape(bot.metrics)
	if err != nil {
		return row{}, err
	}
	rss, anon, err := rssMB(bot.pid())
	if err != nil {
		return row{}, err
	}
	done := float64(len(res.latencies))
	if done == 0 {
		return row{}, fmt.Errorf("no activity succeeded: %v", res.firstErr)
	}
	return row{rate: done / res.elapsed.Seconds(), p50: percentile(res.latencies, 0.5), p99: percentile(res.latencies, 0.99),
		cpuMS: float64((cpu1 - cpu0).Microseconds()) / 1000 / done, rssMB: rss, anonMB: anon, graphPer: (graph1 - graph0) / done, storePer: (store1 - store0) / done,
		writesPer: (writes1 - writes0) / done, startMS: startMS,
		errors: res.errors, firstErr: res.firstErr}, nil
}

// botProcess is a running `accessbot demo`.
type botProcess struct {
	cmd      *exec.Cmd
	endpoint string
	metrics  string
}

func startBot(ctx context.Context, bin, dir, metadata, db, debugAddr string) (*botProcess, error) {
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
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { // keep the pipe drained; show what the bot says at error level
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(os.Stderr, "accessbot:", sc.Text())
		}
	}()
	b := &botProcess{cmd: cmd}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if raw, err := os.ReadFile(filepath.Join(dir, "demo.json")); err == nil {
			var doc struct {
				Bot struct{ Endpoint string } `json:"bot"`
			}
			if json.Unmarshal(raw, &doc) == nil && doc.Bot.Endpoint != "" {
				b.endpoint = doc.Bot.Endpoint
				b.metrics = strings.TrimSuffix(doc.Bot.Endpoint, "/api/messages") + "/metrics"
				if resp, err := http.Get(strings.TrimSuffix(doc.Bot.Endpoint, "/api/messages") + "/readyz"); err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						return b, nil
					}
				}
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(5 * time.Millisecond) // ready ms is measured to this resolution
	}
	b.stop()
	return nil, errors.New("the bot did not become ready within 60s")
}

func (b *botProcess) pid() int { return b.cmd.Process.Pid }

func (b *botProcess) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = b.cmd.Process.Kill()
		<-done
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

// scrape reads the bot's /metrics page: the Graph requests (accessbot_outbound_requests_total{system="graph"})
// and the store operations (bbolt transactions or PostgreSQL statements, the count of
// accessbot_store_operation_duration_seconds) so far, and of those the writes (kind="write").
func scrape(url string) (graph, storeOps, writes float64, err error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		v, perr := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		switch {
		case perr != nil:
		case strings.HasPrefix(line, "accessbot_outbound_requests_total{") && strings.Contains(line, `system="graph"`):
			graph += v
		case strings.HasPrefix(line, "accessbot_store_operation_duration_seconds_count{"):
			storeOps += v
			if strings.Contains(line, `kind="write"`) {
				writes += v
			}
		}
	}
	return graph, storeOps, writes, sc.Err()
}
