package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/store"
)

// writeCounter counts the store's write transactions by operation (through the store's Observe hook, as the
// metrics do).
type writeCounter struct {
	mu  sync.Mutex
	ops []string
}

func (w *writeCounter) observe(_ context.Context, op string, write bool) func(error) {
	if write {
		w.mu.Lock()
		w.ops = append(w.ops, op)
		w.mu.Unlock()
	}
	return func(error) {}
}

// take returns the writes since the last call.
func (w *writeCounter) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ops := w.ops
	w.ops = nil
	return ops
}

// newCountedEnv is newFlEnv whose store reports its writes to the returned counter.
func newCountedEnv(t *testing.T) (*flEnv, *writeCounter) {
	t.Helper()
	e := newFlEnv(t)
	w := &writeCounter{}
	st, err := store.Open(filepath.Join(t.TempDir(), "counted.db"), store.Options{Now: e.clock.Now, Observe: w.observe})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := e.bot.cfg
	cfg.Store = st
	if e.bot, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	e.store = st
	return e, w
}

// TestTurnIsOneWrite: a returning user's turn is one write transaction (its completion); the conversation
// reference is written at the first contact and afterwards only in that one transaction when it changed, and a
// turn without a locale keeps the stored one.
func TestTurnIsOneWrite(t *testing.T) {
	e, w := newCountedEnv(t)
	for _, st := range []struct {
		name       string
		locale     string
		serviceURL string
		wantWrites []string // nil: only checked to include the completion
		wantLocale string
		wantURL    string
	}{
		{"first contact", "en-US", "https://smba.example/emea/", nil, "en-US", "https://smba.example/emea/"},
		{"returning, unchanged", "en-US", "https://smba.example/emea/", []string{"complete turn"}, "en-US", "https://smba.example/emea/"},
		{"new locale", "de-DE", "https://smba.example/emea/", []string{"complete turn"}, "de-DE", "https://smba.example/emea/"},
		{"no locale keeps it", "", "https://smba.example/emea/", []string{"complete turn"}, "de-DE", "https://smba.example/emea/"},
		{"moved service", "de-DE", "https://smba.example/amer/", nil, "de-DE", "https://smba.example/amer/"},
	} {
		before, _ := e.store.Conversation(context.Background(), flTenant, flRita)
		act := e.activity(flRita, "Rita Requester", "message")
		act.Text, act.Locale, act.ServiceURL = "help", st.locale, st.serviceURL
		if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		writes := w.take()
		if st.wantWrites != nil && !slices.Equal(writes, st.wantWrites) {
			t.Errorf("%s: writes %q, want %q", st.name, writes, st.wantWrites)
		}
		if len(writes) == 0 || writes[len(writes)-1] != "complete turn" {
			t.Errorf("%s: writes %q, want the turn to end with its completion", st.name, writes)
		}
		ref, err := e.store.Conversation(context.Background(), flTenant, flRita)
		if err != nil || ref.Locale != st.wantLocale || ref.ServiceURL != st.wantURL || ref.ConversationID != act.Conversation.ID {
			t.Fatalf("%s: stored reference %+v, %v; want locale %q, service %q", st.name, ref, err, st.wantLocale, st.wantURL)
		}
		if changed := !store.SameConversation(before, ref); changed != (st.locale != before.Locale && st.locale != "" || st.serviceURL != before.ServiceURL) {
			t.Errorf("%s: reference changed = %v (UpdatedAt %s → %s)", st.name, changed, before.UpdatedAt, ref.UpdatedAt)
		}
		e.clock.Advance(time.Minute)
	}
}

// gatedConnector holds the first Sends, one per gate, until the gate's release is closed, telling its
// entered when it got there; each then returns its gate's err (nil: sent). Later Sends go straight through.
type gatedConnector struct {
	*fakeConnector
	mu    sync.Mutex
	gates []*sendGate
}

// sendGate is one held Send of a gatedConnector.
type sendGate struct {
	entered, release chan struct{}
	err              error
}

func newGate(err error) *sendGate {
	return &sendGate{entered: make(chan struct{}), release: make(chan struct{}), err: err}
}

func (g *gatedConnector) Send(ctx context.Context, serviceURL, conv string, act *schema.Activity) (string, error) {
	g.mu.Lock()
	var gate *sendGate
	if len(g.gates) > 0 {
		gate, g.gates = g.gates[0], g.gates[1:]
	}
	g.mu.Unlock()
	if gate != nil {
		close(gate.entered)
		<-gate.release
		if gate.err != nil {
			return "", gate.err
		}
	}
	return g.fakeConnector.Send(ctx, serviceURL, conv, act)
}

func (g *gatedConnector) Reply(ctx context.Context, serviceURL, conv, replyTo string, act *schema.Activity) (string, error) {
	return g.Send(ctx, serviceURL, conv, act)
}

// withGates rebuilds e's bot on a connector that holds its first Sends at gates.
func withGates(t *testing.T, e *flEnv, gates ...*sendGate) {
	t.Helper()
	cfg := e.bot.cfg
	cfg.Connector = &gatedConnector{fakeConnector: e.conn, gates: gates}
	var err error
	if e.bot, err = New(cfg); err != nil {
		t.Fatal(err)
	}
}

// TestRedeliveryDuringAndAfterTurn: a redelivery that arrives while the first delivery is still answering is
// not processed (it waits and gets the same answer), and one after the turn is acknowledged without a reply.
func TestRedeliveryDuringAndAfterTurn(t *testing.T) {
	e := newFlEnv(t)
	gate := newGate(nil)
	withGates(t, e, gate)
	act, deliver, errs := helpDeliveries(e, 2)
	key := dedupeKey(act)
	go deliver()
	<-gate.entered // the first delivery is answering now
	if c, err := e.store.ClaimActivity(context.Background(), key, claimHold); err != nil || c.Won || c.Done {
		t.Fatalf("claim during the turn = %+v, %v; want held by the running turn", c, err)
	}
	go deliver() // Teams redelivers meanwhile
	close(gate.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	deliver() // and once more after the turn
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if n := len(e.conn.all()); n != 1 {
		t.Fatalf("three deliveries of one activity sent %d replies, want 1", n)
	}
}

// TestFailedTurnReleasesClaim: a turn that fails (the reply could not be sent) gives its claim up, so Teams'
// redelivery is processed at once rather than after the claim ages.
func TestFailedTurnReleasesClaim(t *testing.T) {
	e := newFlEnv(t)
	act := e.activity(flRita, "Rita Requester", "message")
	act.Text = "help"
	e.conn.mu.Lock()
	e.conn.failSend = errors.New("connector 502")
	e.conn.mu.Unlock()
	first := *act
	if _, err := e.bot.OnActivity(context.Background(), &first); err == nil {
		t.Fatal("the turn succeeded although its reply could not be sent")
	}
	if _, done, err := e.store.Processed(context.Background(), dedupeKey(act)); err != nil || done {
		t.Fatalf("failed turn recorded as processed: %v, %v", done, err)
	}
	e.conn.mu.Lock()
	e.conn.failSend = nil
	e.conn.mu.Unlock()
	again := *act // redelivered right away, well within claimHold (the store's clock stands still)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.bot.OnActivity(ctx, &again); err != nil {
		t.Fatalf("redelivery after a failed turn: %v", err)
	}
	if n := len(e.conn.all()); n != 1 {
		t.Fatalf("the redelivery sent %d replies, want 1", n)
	}
}

// TestTakenOverTurn: a turn that outlasts claimHold is taken over by Teams' redelivery, and both run. When the
// first then fails, its release leaves the new holder's claim, so a third delivery waits for the new holder
// instead of processing the activity a third time; when the first completes, its answer is kept (the first
// completion wins) and the third delivery replays it.
func TestTakenOverTurn(t *testing.T) {
	for _, tc := range []struct {
		name        string
		firstErr    error
		wantReplies int // replies sent by the first two turns (a failed send sends none); the third sends none
	}{
		{"the first turn fails", errors.New("connector 502"), 1},
		{"the first turn completes", nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			first, second := newGate(tc.firstErr), newGate(nil)
			withGates(t, e, first, second)
			act, deliver, errs := helpDeliveries(e, 3)
			go deliver()
			<-first.entered
			e.clock.Advance(claimHold + time.Second) // the first turn hangs past the hold
			go deliver()
			<-second.entered // the redelivery took the claim over and is answering
			close(first.release)
			if err := <-errs; (err != nil) != (tc.firstErr != nil) {
				t.Fatalf("first turn: %v, want failed %v", err, tc.firstErr != nil)
			}
			c, err := e.store.ClaimActivity(context.Background(), dedupeKey(act), claimHold)
			if err != nil || c.Won || c.Done != (tc.firstErr == nil) {
				t.Fatalf("claim after the first turn ended = %+v, %v; want held by the new holder, or done", c, err)
			}
			go deliver() // a third delivery
			close(second.release)
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if n := len(e.conn.all()); n != tc.wantReplies {
				t.Fatalf("three deliveries sent %d replies, want %d", n, tc.wantReplies)
			}
		})
	}
}

// TestCancelledTurnStillCompletes: a turn whose request is cancelled after it has answered (Teams gave up
// waiting while the reply was being sent) still records its completion, so the redelivery replays instead of
// sending the reply a second time.
func TestCancelledTurnStillCompletes(t *testing.T) {
	e := newFlEnv(t)
	gate := newGate(nil)
	withGates(t, e, gate)
	act := e.activity(flRita, "Rita Requester", "message")
	act.Text = "help"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		first := *act
		_, err := e.bot.OnActivity(ctx, &first)
		done <- err
	}()
	<-gate.entered
	cancel() // the request ends while the reply is on its way
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatalf("turn: %v", err)
	}
	if _, ok, err := e.store.Processed(context.Background(), dedupeKey(act)); err != nil || !ok {
		t.Fatalf("Processed after the answered turn = %v, %v; want its completion recorded", ok, err)
	}
	again := *act
	if _, err := e.bot.OnActivity(context.Background(), &again); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if n := len(e.conn.all()); n != 1 {
		t.Fatalf("two deliveries of one activity sent %d replies, want 1", n)
	}
}

// renewCounter is a Store that counts RenewActivity calls.
type renewCounter struct {
	Store
	mu sync.Mutex
	n  int
}

func (r *renewCounter) RenewActivity(ctx context.Context, key, token string) (bool, error) {
	r.mu.Lock()
	r.n++
	r.mu.Unlock()
	return r.Store.RenewActivity(ctx, key, token)
}

func (r *renewCounter) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// TestSlowTurnKeepsItsClaim: a turn that runs past claimHold renews its claim while it runs, so a redelivery
// waits for the turn's answer instead of taking the activity over and answering it a second time.
func TestSlowTurnKeepsItsClaim(t *testing.T) {
	e := newFlEnv(t)
	first := newGate(nil)
	withGates(t, e, first)
	renewals := &renewCounter{Store: e.bot.cfg.Store}
	cfg := e.bot.cfg
	cfg.Store, cfg.ClaimRenewal = renewals, 5*time.Millisecond
	var err error
	if e.bot, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	_, deliver, errs := helpDeliveries(e, 2)
	go deliver()
	<-first.entered
	e.clock.Advance(claimHold + time.Second) // the turn is still answering past the hold
	before := renewals.count()
	deadline := time.Now().Add(10 * time.Second)
	for renewals.count() <= before { // a renewal at the new time
		if time.Now().After(deadline) {
			close(first.release)
			t.Fatal("the running turn never renewed its claim")
		}
		runtime.Gosched()
	}
	go deliver() // the redelivery finds the claim held and waits
	close(first.release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.conn.all()); n != 1 {
		t.Fatalf("two deliveries of a slow turn sent %d replies, want 1", n)
	}
}

// helpDeliveries is Rita's "help" message and a deliver func that hands Teams' delivery of it (a copy, as
// each redelivery is) to the bot, sending each delivery's error to errs (buffered for n deliveries).
func helpDeliveries(e *flEnv, n int) (act *schema.Activity, deliver func(), errs chan error) {
	act = e.activity(flRita, "Rita Requester", "message")
	act.Text = "help"
	errs = make(chan error, n)
	deliver = func() {
		dup := *act
		_, err := e.bot.OnActivity(context.Background(), &dup)
		errs <- err
	}
	return act, deliver, errs
}

// TestEncodeResponse: the stored copy of a turn's answer is what json.Marshal writes for it, and it decodes
// back to the answer; the answer's body is left encoded (json.RawMessage) for the endpoint.
func TestEncodeResponse(t *testing.T) {
	card := map[string]any{"type": "AdaptiveCard", "body": []any{map[string]any{"type": "TextBlock", "text": "a < b & \u2028"}}}
	for _, tc := range []struct {
		name string
		resp *botframework.InvokeResponse
	}{
		{"no answer", nil},
		{"status only", &botframework.InvokeResponse{Status: 202}},
		{"card", botframework.CardResponse(card)},
		{"message", botframework.MessageResponse("Done.")},
		{"encoded body", &botframework.InvokeResponse{Status: 200, Body: json.RawMessage(`{"statusCode":200}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []byte
			if tc.resp != nil {
				c := *tc.resp
				var err error
				if want, err = json.Marshal(&c); err != nil {
					t.Fatal(err)
				}
			} else {
				want = []byte("null")
			}
			got, err := encodeResponse(tc.resp)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("stored %s, want %s", got, want)
			}
			back := decodeStoredResponse(got)
			if tc.resp == nil {
				if back != nil {
					t.Errorf("decoded %+v, want nil", back)
				}
				return
			}
			if back == nil || back.Status != tc.resp.Status || fmt.Sprint(back.Body) != fmt.Sprint(tc.resp.Body) {
				t.Errorf("decoded %+v, want %+v", back, tc.resp)
			}
			if _, raw := tc.resp.Body.(json.RawMessage); tc.resp.Body != nil && !raw {
				t.Errorf("body left as %T, want json.RawMessage", tc.resp.Body)
			}
		})
	}
}
