package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantErr    string // substring; "" = no error
		wantRounds int
		wantRef    string
		wantDBs    int
	}{
		{name: "defaults: the table, no comparison", args: nil, wantDBs: 1},
		{name: "postgres adds rows", args: []string{"-database-url", "postgres://u@h/db"}, wantDBs: 2},
		{name: "compare mode defaults to 5 rounds", args: []string{"-reference", "scripts/benchref"}, wantRounds: 5, wantRef: "scripts/benchref", wantDBs: 1},
		{name: "compare mode with rounds", args: []string{"-reference", "r", "-rounds", "3", "-clients", "8"}, wantRounds: 3, wantRef: "r", wantDBs: 1},
		{name: "later flag wins (make's defaults, then BENCH_ARGS)", args: []string{"-reference", "r", "-rounds", "5", "-rounds", "1"}, wantRounds: 1, wantRef: "r", wantDBs: 1},
		{name: "rounds without reference", args: []string{"-rounds", "3"}, wantErr: "-rounds: only with -reference"},
		{name: "zero rounds", args: []string{"-reference", "r", "-rounds", "-1"}, wantErr: "-rounds -1: expected between 1 and 50"},
		{name: "too many rounds", args: []string{"-reference", "r", "-rounds", "51"}, wantErr: "-rounds 51"},
		{name: "reference with postgres", args: []string{"-reference", "r", "-database-url", "postgres://u@h/db"}, wantErr: "-database-url does not apply"},
		{name: "reference with steps", args: []string{"-reference", "r", "-steps"}, wantErr: "-steps does not apply"},
		{name: "reference with preload", args: []string{"-reference", "r", "-preload", "1000"}, wantErr: "-preload does not apply"},
		{name: "reference with pprof", args: []string{"-reference", "r", "-pprof", "/tmp/p"}, wantErr: "-pprof does not apply"},
		{name: "bad clients", args: []string{"-clients", "8,x"}, wantErr: `-clients: "x" is not a number`},
		{name: "stray argument", args: []string{"-clients", "8", "5"}, wantErr: `unexpected argument "5"`},
		{name: "short duration", args: []string{"-duration", "10ms"}, wantErr: "-duration 10ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if o.rounds != tt.wantRounds || o.reference != tt.wantRef || len(o.dbURLs) != tt.wantDBs {
				t.Errorf("parseFlags(%q) = rounds %d, reference %q, %d stores; want %d, %q, %d",
					tt.args, o.rounds, o.reference, len(o.dbURLs), tt.wantRounds, tt.wantRef, tt.wantDBs)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{818, 700, 900, 650, 1000}, 818},
	}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

// rounds builds compare rows: one accessbot and one reference row per round, from the rates, p99s (ms) and
// error counts given per round.
func rounds(bot, ref []float64, p99 time.Duration, errs map[string]map[int]int) []measured {
	var rows []measured
	for i := range bot {
		for _, m := range []measured{{target: "accessbot", row: row{rate: bot[i], p99: p99, cpuMS: 1}}, {target: "reference", row: row{rate: ref[i], p99: 4 * p99, cpuMS: 4}}} {
			m.round = i + 1
			if n := errs[m.target][m.round]; n > 0 {
				m.row.errors, m.row.firstErr = n, fmt.Errorf("%s round %d: status 500", m.target, m.round)
			}
			rows = append(rows, m)
		}
	}
	return rows
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name        string
		rows        []measured
		wantRatio   float64
		wantBot     float64
		wantRef     float64
		wantRefused []string // substrings of the reason; nil = a ratio
	}{
		{name: "median of five rounds each, then the ratio",
			rows:    rounds([]float64{800, 1000, 818, 650, 900}, []float64{335, 300, 400, 350, 200}, 20*time.Millisecond, nil),
			wantBot: 818, wantRef: 335, wantRatio: 818.0 / 335},
		{name: "even rounds: mean of the middle two",
			rows:    rounds([]float64{800, 1000}, []float64{300, 500}, 20*time.Millisecond, nil),
			wantBot: 900, wantRef: 400, wantRatio: 900.0 / 400},
		{name: "reference errors refuse the ratio",
			rows:    rounds([]float64{800, 1000, 900}, []float64{300, 500, 400}, 20*time.Millisecond, map[string]map[int]int{"reference": {2: 7, 3: 1}}),
			wantBot: 900, wantRef: 400,
			wantRefused: []string{"reference had 8 errors in rounds 2, 3 (first: reference round 2: status 500)"}},
		{name: "accessbot errors refuse the ratio too",
			rows:    rounds([]float64{800, 1000, 900}, []float64{300, 500, 400}, 20*time.Millisecond, map[string]map[int]int{"accessbot": {1: 2}}),
			wantBot: 900, wantRef: 400,
			wantRefused: []string{"accessbot had 2 errors in round 1"}},
		{name: "a missing target refuses the ratio",
			rows:        []measured{{target: "accessbot", round: 1, row: row{rate: 800}}},
			wantBot:     800,
			wantRefused: []string{"reference has no rows"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize(8, tt.rows)
			if s.rate["accessbot"] != tt.wantBot || s.rate["reference"] != tt.wantRef {
				t.Errorf("medians = %v/s and %v/s, want %v and %v", s.rate["accessbot"], s.rate["reference"], tt.wantBot, tt.wantRef)
			}
			text := s.String()
			if tt.wantRefused == nil {
				if s.ratio != tt.wantRatio || s.refused != "" {
					t.Errorf("ratio = %v (refused %q), want %v", s.ratio, s.refused, tt.wantRatio)
				}
				if !strings.Contains(text, "× the reference") {
					t.Errorf("summary %q does not show the ratio", text)
				}
				return
			}
			if s.ratio != 0 {
				t.Errorf("ratio = %v, want none", s.ratio)
			}
			for _, want := range tt.wantRefused {
				if !strings.Contains(text, want) {
					t.Errorf("summary %q does not contain %q", text, want)
				}
			}
			if strings.Contains(text, "× the reference") {
				t.Errorf("summary %q shows a ratio despite errors", text)
			}
		})
	}
}

// TestRunLoadNeverRepeatsAnActivityID: a row's warm-up and its measured run send no activity id twice. The
// bot answers a repeated id from its record of the first delivery (a redelivery) without doing the turn, so
// a repeated id would be counted as an activity the bot did not do.
func TestRunLoadNeverRepeatsAnActivityID(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var act struct{ ID string }
		if err := json.NewDecoder(r.Body).Decode(&act); err != nil {
			t.Errorf("decode activity: %v", err)
		}
		mu.Lock()
		seen[act.ID]++
		mu.Unlock()
	}))
	defer bot.Close()
	clients := newClients(3, bot.URL, "http://connector.invalid/", "token", bot.Client())
	ctx := context.Background()
	runLoad(ctx, clients, 0, true)
	res := runLoad(ctx, clients, 50*time.Millisecond, false)
	if res.errors > 0 || len(res.latencies) == 0 {
		t.Fatalf("measured run: %d answered, %d errors (first: %v)", len(res.latencies), res.errors, res.firstErr)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n > 1 {
			t.Errorf("activity %s sent %d times", id, n)
		}
	}
	want := len(res.latencies)
	for _, c := range clients {
		want += len(schedule(c.p))
	}
	if len(seen) != want {
		t.Errorf("%d distinct activities, want %d (the warm-up rounds and the measured ones)", len(seen), want)
	}
}

func TestRoundOrderAlternates(t *testing.T) {
	tests := []struct {
		round int
		want  []string
	}{
		{1, []string{"accessbot", "reference"}},
		{2, []string{"reference", "accessbot"}},
		{3, []string{"accessbot", "reference"}},
		{4, []string{"reference", "accessbot"}},
	}
	for _, tc := range tests {
		if got := roundOrder(tc.round); !slices.Equal(got, tc.want) {
			t.Errorf("round %d: %v, want %v", tc.round, got, tc.want)
		}
	}
}
