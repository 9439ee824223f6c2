// Command accessbench measures AccessBot the way Teams drives it: it starts the real binary (`accessbot demo`,
// the bot with its embedded simulated tenants, state in bbolt or PostgreSQL), signs every activity with a
// local Bot Framework key that the bot validates (--verify-tokens), answers the bot's Connector calls with a
// local stub, and drives a mix of messages and Action.Execute card actions from 1, 8 and 32 concurrent
// clients. It prints one table: activities/s, p50/p99 latency, CPU ms per activity and RSS of the bot
// process, Graph calls per activity (from the bot's own /metrics).
//
//	go run ./cmd/accessbench -bin bin/accessbot -clients 1,8,32 -duration 10s [-database-url postgres://…]
//
// With -reference DIR (compare mode, `make bench-compare`) it measures the same load against the Node
// reference bot in DIR (scripts/benchref: botbuilder 4.23.3, CloudAdapter, restify, file storage, auth on),
// alternating rows of either bot for -rounds rounds per client count, and prints per client count the median
// activities/s and p99 of each and the ratio of the medians:
//
//	go run ./cmd/accessbench -bin bin/accessbot -reference scripts/benchref -clients 8 -rounds 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "accessbench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin       string
	clients   []int
	duration  time.Duration
	dbURLs    []string // "" = bbolt
	preload   int
	steps     bool
	pprof     string // directory for each row's CPU and heap profiles; "" = none
	reference string // compare mode: the Node reference bot's directory; "" = no comparison
	rounds    int    // compare mode: alternating rounds per client count
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
	fs.StringVar(&o.reference, "reference", "", "compare mode: alternate rows of AccessBot (bbolt) and of the Node reference bot in this directory (scripts/benchref, npm packages installed), then print the medians and their ratio per client count")
	fs.IntVar(&o.rounds, "rounds", 0, "compare mode: rounds per client count, each one row of either bot (default 5)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
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
	return o, compareFlags(&o, *db)
}

// compareFlags checks -reference and -rounds against the other flags and sets the default number of rounds.
func compareFlags(o *options, db string) error {
	if o.reference == "" {
		if o.rounds != 0 {
			return errors.New("-rounds: only with -reference (compare mode)")
		}
		return nil
	}
	for _, f := range []struct {
		set  bool
		name string
	}{{o.steps, "-steps"}, {db != "", "-database-url"}, {o.preload > 0, "-preload"}, {o.pprof != "", "-pprof"}} {
		if f.set {
			return fmt.Errorf("-reference: compare mode measures AccessBot on a fresh bbolt file against the reference; %s does not apply to it", f.name)
		}
	}
	if o.rounds == 0 {
		o.rounds = 5
	}
	if o.rounds < 1 || o.rounds > 50 {
		return fmt.Errorf("-rounds %d: expected between 1 and 50", o.rounds)
	}
	return nil
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
	if o.reference != "" {
		return compare(ctx, o, conn, out)
	}
	fmt.Fprintf(out, "%-8s %7s %12s %9s %9s %10s %8s %8s %13s %12s %11s %9s %6s\n",
		"store", "clients", "activities/s", "p50 ms", "p99 ms", "CPU ms/act", "RSS MB", "anon MB", "Graph/activity", "store/activity", "writes/act", "ready ms", "errors")
	for _, db := range o.dbURLs {
		for _, n := range o.clients {
			row, err := measure(ctx, o, rowTarget{db: db}, n, conn)
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

// rowTarget is what one row measures: AccessBot on bbolt (db "") or on PostgreSQL (db, a server URL), or the
// Node reference bot in the directory reference.
type rowTarget struct{ db, reference string }

func (t rowTarget) name() string {
	if t.reference != "" {
		return "reference"
	}
	return storeName(t.db)
}

// measure starts a fresh bot, warms it up, measures one row and stops it.
func measure(ctx context.Context, o options, t rowTarget, n int, conn *connector) (row, error) {
	dir, err := os.MkdirTemp("", "accessbench-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	id, err := startIdentity(benchAppID)
	if err != nil {
		return row{}, err
	}
	defer id.close()
	bot, debugAddr, cleanup, err := startTarget(ctx, o, t, dir, id, n)
	if err != nil {
		return row{}, err
	}
	defer cleanup()
	defer bot.stop()
	tok, err := id.token(conn.url)
	if err != nil {
		return row{}, err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 30 * time.Second}
	clients := newClients(n, bot.endpoint, conn.url, tok, hc)
	runLoad(ctx, clients, 0, true) // warm-up: every client's schedule once (token keys, caches, conversations)
	before, err := sample(bot)
	if err != nil {
		return row{}, err
	}
	profDone := profileRow(ctx, debugAddr, o.duration, filepath.Join(o.pprof, fmt.Sprintf("%s-%d", t.name(), n)))
	res := runLoad(ctx, clients, o.duration, false)
	if err := profDone(); err != nil {
		return row{}, err
	}
	after, err := sample(bot)
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
		cpuMS: float64((after.cpu - before.cpu).Microseconds()) / 1000 / done, rssMB: rss, anonMB: anon,
		graphPer: (after.graph - before.graph) / done, storePer: (after.store - before.store) / done,
		writesPer: (after.writes - before.writes) / done, startMS: bot.readyMS,
		errors: res.errors, firstErr: res.firstErr}, nil
}

// benchAppID is the bot's app id in every token of the benchmark.
const benchAppID = "b0770000-0000-4000-8000-000000000001"

// startTarget starts what t names with its state in dir: a fresh PostgreSQL database (dropped by cleanup) or
// the bbolt file (preloaded with -preload), and a profiler address with -pprof; or the reference bot.
func startTarget(ctx context.Context, o options, t rowTarget, dir string, id *identity, n int) (p *process, debugAddr string, cleanup func(), err error) {
	cleanup = func() {}
	if t.reference != "" {
		p, err = startReference(ctx, t.reference, dir, id)
		return p, "", cleanup, err
	}
	db := t.db
	if db != "" {
		fresh, drop, err := freshDatabase(ctx, db, n)
		if err != nil {
			return nil, "", nil, err
		}
		cleanup, db = drop, fresh
	}
	if o.preload > 0 && db == "" {
		if err := preload(ctx, dir, o.preload); err != nil {
			return nil, "", nil, err
		}
	}
	if o.pprof != "" {
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			cleanup()
			return nil, "", nil, err
		}
	}
	if p, err = startBot(ctx, o.bin, dir, id.metadataURL(), db, debugAddr); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	return p, debugAddr, cleanup, nil
}

// counters are a process's cumulative CPU time and, for AccessBot, its Graph requests, store operations and
// store writes so far.
type counters struct {
	cpu                  time.Duration
	graph, store, writes float64
}

func sample(p *process) (counters, error) {
	var c counters
	var err error
	if c.cpu, err = cpuTime(p.pid()); err != nil || p.metrics == "" {
		return c, err
	}
	c.graph, c.store, c.writes, err = scrape(p.metrics)
	return c, err
}
