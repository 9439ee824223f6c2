package bot

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/store"
)

// TestServiceURLFor: a tenant's own service URL wins, then the resource tenant's, then the configured default.
func TestServiceURLFor(t *testing.T) {
	tests := []struct {
		name   string
		seen   map[string]string // tenant → service URL seen in an activity
		def    string
		tenant string
		want   string
	}{
		{"nothing known, no default", nil, "", "t-partner", ""},
		{"nothing known, default", nil, "https://smba.trafficmanager.net/teams/", "t-partner", "https://smba.trafficmanager.net/teams/"},
		{"resource tenant's", map[string]string{flTenant: "https://smba.example/emea/"}, "https://smba.trafficmanager.net/teams/", "t-partner", "https://smba.example/emea/"},
		{"own", map[string]string{flTenant: "https://smba.example/emea/", "t-partner": "https://smba.example/amer/"}, "", "t-partner", "https://smba.example/amer/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			e.bot.cfg.DefaultServiceURL = tc.def
			for tenant, u := range tc.seen {
				act := e.activity(flRita, "Rita Requester", "message")
				act.Conversation.TenantID, act.ServiceURL = tenant, u
				e.bot.noteServiceURL(context.Background(), e.bot.newTurn(context.Background(), act))
			}
			if got := e.bot.serviceURLFor(context.Background(), tc.tenant); got != tc.want {
				t.Fatalf("serviceURLFor(%s) = %q, want %q", tc.tenant, got, tc.want)
			}
		})
	}
}

// TestEveryActivityTeachesTheServiceURL: any authenticated activity (here a welcome), not only delegated
// commands, records its tenant's service URL for later proactive chats.
func TestEveryActivityTeachesTheServiceURL(t *testing.T) {
	e := newFlEnv(t)
	act := e.activity(flRita, "Rita Requester", "installationUpdate")
	act.Action = "add"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	if got := e.bot.serviceURLFor(context.Background(), flTenant); got != act.ServiceURL {
		t.Fatalf("service URL after an install event = %q, want %q", got, act.ServiceURL)
	}
}

// urlCountingStore counts the reads and writes of the service URL bucket and can fail its writes.
type urlCountingStore struct {
	Store
	mu            sync.Mutex
	reads, writes int
	failWrites    bool
}

func (s *urlCountingStore) Get(ctx context.Context, bucket, key string, out any) error {
	if bucket == bucketServiceURL {
		s.mu.Lock()
		s.reads++
		s.mu.Unlock()
	}
	return s.Store.Get(ctx, bucket, key, out)
}

func (s *urlCountingStore) Put(ctx context.Context, bucket, key string, v any) error {
	if bucket == bucketServiceURL {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failWrites {
			return errors.New("store unavailable")
		}
		s.writes++
	}
	return s.Store.Put(ctx, bucket, key, v)
}

func (s *urlCountingStore) take() (reads, writes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reads, writes, s.reads, s.writes = s.reads, s.writes, 0, 0
	return reads, writes
}

// TestNoteServiceURLRemembersWhatIsStored: a turn bringing the URL this replica last stored or read costs no
// store access; a changed URL is read and written; a URL another replica stored meanwhile is kept until the
// memory is serviceURLRecheck old; a failed write is tried again on the next turn.
func TestNoteServiceURLRemembersWhatIsStored(t *testing.T) {
	const urlA, urlB, urlC = "https://smba.example/emea/", "https://smba.example/amer/", "https://smba.example/apac/"
	e := newFlEnv(t)
	st := &urlCountingStore{Store: e.store}
	e.bot.cfg.Store = st
	other, err := New(e.bot.cfg) // another replica on the same store
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		replica    *Bot
		url        string
		advance    time.Duration
		failWrites bool
		reads      int
		writes     int
		stored     string
	}{
		{name: "first turn of the tenant: looked up and stored", url: urlA, reads: 1, writes: 1, stored: urlA},
		{name: "same URL again: no store access", url: urlA, stored: urlA},
		{name: "still none a while later", url: urlA, advance: serviceURLRecheck - time.Second, stored: urlA},
		{name: "URL changed: stored", url: urlB, reads: 1, writes: 1, stored: urlB},
		{name: "changed back: stored", url: urlA, reads: 1, writes: 1, stored: urlA},
		{name: "another replica sees another URL: it looks and stores", replica: other, url: urlC, reads: 1, writes: 1, stored: urlC},
		{name: "this replica's memory matches its turn: no look, the other's URL stays", url: urlA, stored: urlC},
		{name: "past the recheck: looked up again and stored", url: urlA, advance: serviceURLRecheck, reads: 1, writes: 1, stored: urlA},
		{name: "the other replica, past the recheck, finds its URL replaced: stores its own", replica: other, url: urlC, reads: 1, writes: 1, stored: urlC},
		{name: "a stored URL found by the look is not written again", url: urlC, reads: 1, stored: urlC},
		{name: "a failed write is not remembered", url: urlB, failWrites: true, reads: 1, stored: urlC},
		{name: "so the next turn writes", url: urlB, reads: 1, writes: 1, stored: urlB},
	}
	for _, s := range steps {
		e.clock.Advance(s.advance)
		st.mu.Lock()
		st.failWrites = s.failWrites
		st.mu.Unlock()
		b := e.bot
		if s.replica != nil {
			b = s.replica
		}
		act := e.activity(flRita, "Rita Requester", "message")
		act.ServiceURL = s.url
		b.noteServiceURL(context.Background(), b.newTurn(context.Background(), act))
		if reads, writes := st.take(); reads != s.reads || writes != s.writes {
			t.Fatalf("%s: %d reads, %d writes of the service URL; want %d, %d", s.name, reads, writes, s.reads, s.writes)
		}
		var stored string
		if err := e.store.Get(context.Background(), bucketServiceURL, flTenant, &stored); err != nil || stored != s.stored {
			t.Fatalf("%s: stored %q (%v), want %q", s.name, stored, err, s.stored)
		}
	}
}

// TestNoteServiceURLConcurrent: turns of several tenants at once each store their tenant's URL, once.
func TestNoteServiceURLConcurrent(t *testing.T) {
	e := newFlEnv(t)
	st := &urlCountingStore{Store: e.store}
	e.bot.cfg.Store = st
	tenants := []string{"t-1", "t-2", "t-3", "t-4"}
	var wg sync.WaitGroup
	for i := range 32 {
		tenant := tenants[i%len(tenants)]
		act := e.activity(flRita, "Rita Requester", "message")
		act.Conversation.TenantID, act.ServiceURL = tenant, "https://smba.example/"+tenant+"/"
		wg.Go(func() { e.bot.noteServiceURL(context.Background(), e.bot.newTurn(context.Background(), act)) })
	}
	wg.Wait()
	if reads, writes := st.take(); reads != len(tenants) || writes != len(tenants) {
		t.Fatalf("%d reads, %d writes; want one of each per tenant (%d)", reads, writes, len(tenants))
	}
	for _, tenant := range tenants {
		if got := e.bot.serviceURLFor(context.Background(), tenant); got != "https://smba.example/"+tenant+"/" {
			t.Errorf("service URL of %s = %q", tenant, got)
		}
	}
}

// BenchmarkNoteServiceURL is the per-turn cost of remembering a tenant's service URL that is already stored
// (every turn does it; bbolt store).
func BenchmarkNoteServiceURL(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "bot.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	bot, err := New(Config{Connector: &fakeConnector{}, Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	act := &schema.Activity{Type: "message", ChannelID: "msteams", ServiceURL: "https://smba.example/emea/",
		From: schema.ChannelAccount{ID: "29:rita", AadObjectID: flRita}, Conversation: schema.ConversationAccount{ID: "chat", TenantID: flTenant}}
	t := bot.newTurn(ctx, act)
	bot.noteServiceURL(ctx, t)
	b.ReportAllocs()
	for b.Loop() {
		bot.noteServiceURL(ctx, t)
	}
}
