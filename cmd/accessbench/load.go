package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// persona is a seeded user of the simulated Contoso tenant (docs/ARCHITECTURE.md, seed data).
type persona struct {
	name, teamsID, aad string
	admin              bool
}

const contoso = "11111111-1111-1111-1111-111111111111"

var personas = []persona{
	{"Rita Requester", "29:rita", "aaaaaaaa-0000-0000-0000-000000000001", false},
	{"Adele Vance", "29:adele", "aaaaaaaa-0000-0000-0000-000000000003", true},
	{"Megan Bowen", "29:megan", "aaaaaaaa-0000-0000-0000-000000000007", false},
	{"Aaron Approver", "29:aaron", "aaaaaaaa-0000-0000-0000-000000000002", false},
}

// step is one activity of the mix: a typed message or an Action.Execute card action.
type step struct {
	text string         // message text, when verb is empty
	verb string         // Action.Execute verb
	data map[string]any // its data
}

// schedule is the repeating mix of a persona: 7 messages and 3 card actions in 10 (70/30), most of them
// reaching the simulator's Graph (package lists, request status, admin lists, request forms that read the
// policy and store a dialog).
func schedule(p persona) []step {
	open := func(pkg string) step {
		return step{verb: "request.open", data: map[string]any{"packageId": "eeeeeeee-0000-0000-0000-00000000000" + pkg}}
	}
	if p.admin {
		return []step{{text: "/catalogs"}, {text: "/orgs"}, open("1"), {text: "/pending"}, {text: "help"},
			{verb: "command", data: map[string]any{"text": "/packages"}}, {text: "/expiring 30"}, open("2"), {text: "status"}, {text: "packages"}}
	}
	return []step{{text: "packages"}, {text: "status"}, open("1"), {text: "help"}, {text: "access"},
		{verb: "command", data: map[string]any{"text": "approvals"}}, {text: "packages falcon"}, open("2"), {text: "my requests"}, {text: "status"}}
}

// client posts activities as one persona in its conversation, one at a time.
type client struct {
	id       int
	p        persona
	endpoint string
	svcURL   string
	botID    string
	token    string
	http     *http.Client
	seq      int
}

// newClients are n clients of the bot at endpoint, the personas in turn (clients of one persona share its 1:1
// conversation, see conversationID), all with token and the Connector at svcURL. A row's warm-up and measured
// run use the same clients.
func newClients(n int, endpoint, svcURL, token string, hc *http.Client) []*client {
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = &client{id: i, p: personas[i%len(personas)], endpoint: endpoint, svcURL: svcURL,
			botID: "28:" + benchAppID, token: token, http: hc}
	}
	return clients
}

func (c *client) activity(s step) map[string]any {
	c.seq++
	act := map[string]any{
		"id": fmt.Sprintf("bench-%d-%d", c.id, c.seq), "channelId": "msteams", "serviceUrl": c.svcURL,
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "locale": "en-US",
		"from":         map[string]any{"id": c.p.teamsID, "name": c.p.name, "aadObjectId": c.p.aad},
		"recipient":    map[string]any{"id": c.botID, "name": "AccessBot"},
		"conversation": map[string]any{"id": c.conversationID(), "conversationType": "personal", "tenantId": contoso},
		"channelData":  map[string]any{"tenant": map[string]any{"id": contoso}},
	}
	if s.verb == "" {
		act["type"], act["text"] = "message", s.text
		return act
	}
	act["type"], act["name"], act["replyToId"] = "invoke", "adaptiveCard/action", fmt.Sprintf("card-%d", c.id)
	act["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": s.verb, "data": s.data}, "trigger": "manual"}
	return act
}

// conversationID is the persona's 1:1 conversation with the bot. A Teams user has exactly one, so clients that
// are the same persona (from 5 clients on) share it, like one user's Teams on a desktop and on a phone; one
// conversation per client would make the bot rewrite that user's stored conversation reference on every turn.
func (c *client) conversationID() string {
	return "a:bench-" + strings.TrimPrefix(c.p.teamsID, "29:")
}

// post sends one activity and returns its latency; any answer but 200 is an error.
func (c *client) post(ctx context.Context, s step) (time.Duration, error) {
	body, err := json.Marshal(c.activity(s))
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	var excerpt []byte
	if resp.StatusCode != http.StatusOK { // the start of the answer says why
		excerpt, _ = io.ReadAll(io.LimitReader(resp.Body, 300))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("%s %q: status %d: %s", s.verb, s.text, resp.StatusCode, bytes.TrimSpace(excerpt))
	}
	return d, nil
}

// loadResult is what one timed run measured on the driver's side.
type loadResult struct {
	latencies []time.Duration
	errors    int
	firstErr  error
	elapsed   time.Duration
}

// runLoad drives the clients for d (after each has sent one warm-up round of its schedule, not counted).
// A client keeps its sequence of activity ids from one run to the next: a repeated id is a redelivery to
// the bot, which answers it from its record of the first delivery without doing the turn again.
func runLoad(ctx context.Context, clients []*client, d time.Duration, warm bool) loadResult {
	var mu sync.Mutex
	var res loadResult
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	start := make(chan struct{})
	var begin time.Time
	for _, c := range clients {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			sched := schedule(c.p)
			if warm {
				for _, s := range sched {
					_, _ = c.post(ctx, s)
				}
			}
			ready.Done()
			<-start
			var lat []time.Duration
			errs := 0
			var first error
			for k := 0; time.Since(begin) < d; k++ {
				l, err := c.post(ctx, sched[k%len(sched)])
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, l)
			}
			mu.Lock()
			res.latencies = append(res.latencies, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	ready.Wait()
	begin = time.Now()
	close(start)
	wg.Wait()
	res.elapsed = time.Since(begin)
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}
