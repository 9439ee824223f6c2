package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// measured is one row of compare mode: which bot, which round.
type measured struct {
	target string // "accessbot" or "reference"
	round  int
	row    row
}

// compareTargets are the two bots compare mode alternates, in the order of odd rounds; even rounds run them the
// other way round, so that neither bot always runs first (after the other one warmed caches or heated the CPU).
var compareTargets = []string{"accessbot", "reference"}

// roundOrder is the order of the bots in round r (counted from 1).
func roundOrder(r int) []string {
	if r%2 == 1 {
		return compareTargets
	}
	return []string{compareTargets[1], compareTargets[0]}
}

// compare alternates rows of AccessBot (bbolt) and the reference bot, o.rounds rounds per client count, and
// prints each row and a summary per client count.
func compare(ctx context.Context, o options, conn *connector, out io.Writer) error {
	if err := checkReference(o.reference); err != nil {
		return err
	}
	fmt.Fprintf(out, "%-10s %5s %7s %12s %9s %9s %10s %8s %9s %6s\n",
		"bot", "round", "clients", "activities/s", "p50 ms", "p99 ms", "CPU ms/act", "RSS MB", "ready ms", "errors")
	for _, n := range o.clients {
		var rows []measured
		for r := 1; r <= o.rounds; r++ {
			for _, name := range roundOrder(r) {
				t := rowTarget{}
				if name == "reference" {
					t.reference = o.reference
				}
				res, err := measure(ctx, o, t, n, conn)
				if err != nil {
					return fmt.Errorf("%s, %d clients, round %d: %w", name, n, r, err)
				}
				m := measured{target: name, round: r, row: res}
				printMeasured(out, n, m)
				rows = append(rows, m)
			}
		}
		fmt.Fprintln(out, summarize(n, rows))
	}
	return nil
}

func printMeasured(out io.Writer, n int, m measured) {
	r := m.row
	fmt.Fprintf(out, "%-10s %5d %7d %12.0f %9.1f %9.1f %10.2f %8.0f %9.0f %6d\n", m.target, m.round, n,
		r.rate, ms(r.p50), ms(r.p99), r.cpuMS, r.rssMB, r.startMS, r.errors)
	if r.firstErr != nil {
		fmt.Fprintf(out, "           first error: %v\n", r.firstErr)
	}
}

// summary is one client count's comparison: the medians over its rounds of each bot, and their ratio unless
// a bot had errors.
type summary struct {
	clients, rounds int
	rate, p99, cpu  map[string]float64 // by target: median activities/s, p99 ms, CPU ms per activity
	ratio           float64            // median activities/s of AccessBot over the reference's; 0 = refused
	refused         string             // why there is no ratio
}

// summarize computes the medians of each bot's rows and the ratio; a bot with errors in any round (activities
// not answered 200) gets no ratio, only the reason.
func summarize(clients int, rows []measured) summary {
	s := summary{clients: clients, rate: map[string]float64{}, p99: map[string]float64{}, cpu: map[string]float64{}}
	var problems []string
	for _, target := range compareTargets {
		var rates, p99s, cpus []float64
		var errRounds []string
		errs := 0
		var first error
		for _, m := range rows {
			if m.target != target {
				continue
			}
			rates, p99s, cpus = append(rates, m.row.rate), append(p99s, ms(m.row.p99)), append(cpus, m.row.cpuMS)
			if m.row.errors > 0 {
				errs += m.row.errors
				errRounds = append(errRounds, fmt.Sprint(m.round))
				if first == nil {
					first = m.row.firstErr
				}
			}
		}
		s.rounds = max(s.rounds, len(rates))
		if len(rates) == 0 {
			problems = append(problems, target+" has no rows")
			continue
		}
		s.rate[target], s.p99[target], s.cpu[target] = median(rates), median(p99s), median(cpus)
		if errs > 0 {
			word := "round"
			if len(errRounds) > 1 {
				word = "rounds"
			}
			problems = append(problems, fmt.Sprintf("%s had %d errors in %s %s (first: %v)", target, errs, word, strings.Join(errRounds, ", "), first))
		}
	}
	switch {
	case len(problems) > 0:
		s.refused = strings.Join(problems, "; ")
	case s.rate["reference"] == 0:
		s.refused = "the reference answered no activity"
	default:
		s.ratio = s.rate["accessbot"] / s.rate["reference"]
	}
	return s
}

func (s summary) String() string {
	ratio := fmt.Sprintf("%.2f× the reference", s.ratio)
	if s.ratio == 0 {
		ratio = "no ratio: " + s.refused
	}
	return fmt.Sprintf("== %d clients, median of %d rounds: AccessBot %.0f/s, reference %.0f/s → %s; p99 %.1f ms vs %.1f ms; CPU %.2f vs %.2f ms/act",
		s.clients, s.rounds, s.rate["accessbot"], s.rate["reference"], ratio, s.p99["accessbot"], s.p99["reference"],
		s.cpu["accessbot"], s.cpu["reference"])
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
