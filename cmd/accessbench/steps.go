package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// perStep starts a fresh bot, warms every persona's schedule up twice, then sends each step of each persona's
// schedule once more and prints the Graph requests it cost, by operation: the breakdown behind the
// Graph/activity column, to find which activity a change made more expensive.
func perStep(ctx context.Context, o options, conn *connector, out io.Writer) error {
	dir, err := os.MkdirTemp("", "accessbench-")
	if err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	defer os.RemoveAll(dir)
	id, err := startIdentity(benchAppID)
	if err != nil {
		return err
	}
	defer id.close()
	bot, err := startBot(ctx, o.bin, dir, id.metadataURL(), "", "")
	if err != nil {
		return err
	}
	defer bot.stop()
	tok, err := id.token(conn.url)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	total, steps := 0.0, 0
	for _, c := range newClients(len(personas), bot.endpoint, conn.url, tok, hc) {
		p := c.p
		for round := 0; round < 2; round++ { // warm: token keys, caches, conversation
			for _, s := range schedule(p) {
				if _, err := c.post(ctx, s); err != nil {
					return fmt.Errorf("%s warm-up: %w", p.name, err)
				}
			}
		}
		for _, s := range schedule(p) {
			before, err := graphOps(bot.metrics)
			if err != nil {
				return err
			}
			if _, err := c.post(ctx, s); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			after, err := graphOps(bot.metrics)
			if err != nil {
				return err
			}
			n, detail := diffOps(before, after)
			total += n
			steps++
			fmt.Fprintf(out, "%-15s %-28s %3.0f  %s\n", p.name, stepName(s), n, detail)
		}
	}
	fmt.Fprintf(out, "Graph calls per activity (warm, this mix): %.2f\n", total/float64(steps))
	return nil
}

func stepName(s step) string {
	if s.verb == "" {
		return strconv.Quote(s.text)
	}
	return fmt.Sprintf("%s %v", s.verb, s.data)
}

// graphOps reads the bot's Graph requests so far by operation and status.
func graphOps(url string) (map[string]float64, error) {
	ops := map[string]float64{}
	err := readMetrics(url, func(series string, v float64) {
		if isGraphRequests(series) {
			ops[strings.TrimPrefix(series, "accessbot_outbound_requests_total")] = v
		}
	})
	return ops, err
}

// diffOps is the number of requests between two readings and which operations they were.
func diffOps(before, after map[string]float64) (float64, string) {
	var n float64
	var parts []string
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			n += d
			parts = append(parts, fmt.Sprintf("%.0f×%s", d, k))
		}
	}
	sort.Strings(parts)
	return n, strings.Join(parts, " ")
}
