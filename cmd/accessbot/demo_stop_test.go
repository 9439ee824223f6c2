package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/teamsfake"
)

// TestDemoStopsTheBotBeforeTheSimulator: a turn in flight when the demo is told to stop still reaches the
// simulated tenants while the bot drains (every token and Graph answer is slowed down, so the turn's Graph
// call, after its user's token, runs after the signal), answers in full, and the demo stops without an error.
func TestDemoStopsTheBotBeforeTheSimulator(t *testing.T) {
	d := startDemo(t, t.TempDir())
	conn := teamsfake.NewConnector(t)
	cl := &teamsfake.Client{Endpoint: d.info.Bot.Endpoint, ServiceURL: conn.URL(), BotID: "28:" + d.info.Simulator.BotAppID, BotName: "AccessBot"}
	rita := teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: "aaaaaaaa-0000-0000-0000-000000000001",
		TenantID: d.info.Simulator.ResourceTenant, ConversationID: "a:rita"}
	ctx := context.Background()
	if resp, err := cl.Message(ctx, rita, "help"); err != nil || resp.Status != http.StatusOK { // warm: the chat, the token keys
		t.Fatalf("warm-up: %+v, %v", resp, err)
	}
	sim := strings.TrimSuffix(d.info.Simulator.GraphBaseURL, "/v1.0")
	resp, err := http.Post(sim+"/_sim/fault", "application/json", strings.NewReader(`{"requests":-1,"kind":"slow","delayMillis":300,"entra":true}`))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slow Graph down: %v %v", resp, err)
	}
	resp.Body.Close()

	from := conn.Len()
	answered := make(chan error, 1)
	go func() {
		resp, err := cl.Message(ctx, rita, "packages")
		if err == nil && resp.Status != http.StatusOK {
			err = fmt.Errorf("status %d", resp.Status)
		}
		answered <- err
	}()
	waitInFlight(t, strings.TrimSuffix(d.info.Bot.Endpoint, "/api/messages")+"/metrics")
	d.stop(t) // fails on any error, such as the simulator's shutdown running out of time
	if err := <-answered; err != nil {
		t.Fatalf("the turn in flight: %v", err)
	}
	reply := conn.WaitFor(t, from, 5*time.Second, "the answer to the turn in flight", func(a teamsfake.Activity) bool { return a.Card() != nil })
	if text := reply.CardText(); !strings.Contains(text, "Falcon Team Member") {
		t.Fatalf("the turn in flight answered without its packages:\n%s", text)
	}
}

// waitInFlight polls the bot's /metrics until a request besides the scrape itself is in flight.
func waitInFlight(t *testing.T, metrics string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(metrics)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		n := 0.0
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "accessbot_http_requests_in_flight "); ok {
				n, _ = strconv.ParseFloat(v, 64)
			}
		}
		resp.Body.Close()
		if n >= 2 {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling another process's gauge; bounded by the deadline
	}
	t.Fatal("the turn never came in flight")
}
