package tenantsim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configures a simulator.
type Options struct {
	// DB is an open bbolt database the simulator stores its state in (a bucket
	// named "tenantsim"). The caller keeps ownership and closes it.
	DB *bolt.DB
	// Path opens (or creates) a bbolt file when DB is nil; Close closes it.
	Path string
	// BaseURL is the simulator's own absolute URL without a trailing slash, e.g.
	// http://127.0.0.1:3979. It appears in @odata.nextLink, token issuers and
	// invitation redemption URLs.
	BaseURL string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Now is the base clock; the simulated clock is Now() plus the offset added
	// with Advance. Nil means time.Now.
	Now func() time.Time
	// Reset wipes the directory and entitlement data and seeds it again. The bot
	// app's client secret and the signing key are kept.
	Reset bool
}

// Sim is a running simulator. It is safe for concurrent use.
type Sim struct {
	opts  Options
	log   *slog.Logger
	db    *bolt.DB
	ownDB bool
	mu    sync.Mutex
	w     *world
	fault Fault
	// faultHits counts the requests that suffered the fault since it was set.
	faultHits int
	botCerts  []*x509.Certificate
	key       *rsa.PrivateKey
	kid       string
	tokens    verifiedTokens
	handler   http.Handler
}

// PersonaUser describes one seeded user for scripts and the Playground personas.
type PersonaUser struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
	UPN         string `json:"userPrincipalName"`
	Mail        string `json:"mail"`
	TeamsID     string `json:"teamsId"`
}

// TenantInfo names one simulated tenant.
type TenantInfo struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

// DemoInfo is what demo scripts and cmd/accessbot need to drive the simulator.
type DemoInfo struct {
	Tenants         []TenantInfo  `json:"tenants"`
	ResourceTenant  string        `json:"resourceTenantId"`
	BotAppID        string        `json:"botAppId"`
	BotTeamsID      string        `json:"botTeamsId"`
	BotClientSecret string        `json:"botClientSecret"`
	GraphBaseURL    string        `json:"graphBaseUrl"`
	AuthorityHost   string        `json:"authorityHost"`
	Users           []PersonaUser `json:"users"`
}

// New opens (or creates and seeds) a simulator.
func New(opts Options) (*Sim, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("tenantsim: Options.BaseURL is required (e.g. http://127.0.0.1:3979)")
	}
	if !strings.HasPrefix(opts.BaseURL, "http://") && !strings.HasPrefix(opts.BaseURL, "https://") {
		return nil, fmt.Errorf("tenantsim: Options.BaseURL %q must be an absolute http(s) URL", opts.BaseURL)
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{opts: opts, log: log.With("component", "tenantsim")}
	switch {
	case opts.DB != nil:
		s.db = opts.DB
	case opts.Path != "":
		db, err := bolt.Open(opts.Path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			return nil, fmt.Errorf("tenantsim: open state %s: %w", opts.Path, err)
		}
		s.db, s.ownDB = db, true
	default:
		return nil, errors.New("tenantsim: Options.DB or Options.Path is required")
	}
	w, err := loadWorld(s.db)
	if err != nil {
		s.closeDB()
		return nil, fmt.Errorf("tenantsim: %w", err)
	}
	if w == nil || opts.Reset || w.Version != worldVersion {
		w = reseeded(w, s.baseNow())
	}
	if w.BotSecret == "" {
		w.BotSecret = newSecret()
	}
	seedTeamsApps(w)
	seedRoleAssignments(w)
	seedPIM(w)
	seedSitesAndApps(w)
	seedEMRoleAssignments(w)
	if err := s.loadKey(w); err != nil {
		s.closeDB()
		return nil, fmt.Errorf("tenantsim: %w", err)
	}
	s.w = w
	if err := saveWorld(s.db, w); err != nil {
		s.closeDB()
		return nil, fmt.Errorf("tenantsim: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

func (s *Sim) closeDB() {
	if s.ownDB && s.db != nil {
		_ = s.db.Close()
	}
}

// Close closes the state file when the simulator opened it.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ownDB && s.db != nil {
		if err := s.db.Close(); err != nil {
			return fmt.Errorf("tenantsim: close state: %w", err)
		}
		s.db = nil
	}
	return nil
}

// Handler returns the simulator's HTTP handler (Graph, Entra endpoints, admin).
func (s *Sim) Handler() http.Handler { return s.handler }

// Info describes the seeded tenants, the bot app and the persona users.
func (s *Sim) Info() DemoInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := DemoInfo{
		ResourceTenant:  ContosoTenantID,
		BotAppID:        BotAppID,
		BotTeamsID:      "28:" + BotAppID,
		BotClientSecret: s.w.BotSecret,
		GraphBaseURL:    s.graphBase(),
		AuthorityHost:   s.opts.BaseURL + "/",
	}
	for _, t := range s.w.Tenants {
		info.Tenants = append(info.Tenants, TenantInfo{ID: t.ID, Name: t.Name, Domains: append([]string(nil), t.Domains...)})
	}
	for _, u := range sortedBy(s.w.Users, func(u *user) int64 { return u.Ord }) {
		if u.UserType != "Member" {
			continue
		}
		info.Users = append(info.Users, PersonaUser{ID: u.ID, TenantID: u.TenantID, DisplayName: u.DisplayName,
			UPN: u.UPN, Mail: u.Mail, TeamsID: u.TeamsID})
	}
	return info
}

// Now returns the simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Advance moves the simulated clock forward by d and runs the rules that are due.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d > 0 {
		s.w.ClockOffset += d
	}
	s.tickLocked()
	s.persistLocked()
}

// Tick runs expiry, escalation, automatic denial, delivery and guest deletion
// due at the current simulated time. It also runs before every request.
func (s *Sim) Tick() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tickLocked() {
		s.persistLocked()
	}
}

// Run calls Tick every interval until ctx is done, so deliveries, expiry and
// escalations happen in a running demo even when nobody calls Graph.
func (s *Sim) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick()
		}
	}
}

// SetConsent records whether a user has consented to the bot app (OBO fails
// with AADSTS65001 when not).
func (s *Sim) SetConsent(tenantID, oid string, consented bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := tenantID + "/" + oid
	if consented {
		delete(s.w.NoConsent, key)
	} else {
		s.w.NoConsent[key] = true
	}
	s.persistLocked()
}

// Reset wipes the directory and entitlement data and seeds it again, keeping
// the bot app's secret and the signing key.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w = reseeded(s.w, s.baseNow())
	s.fault = Fault{}
	s.persistLocked()
}

// reseeded returns a freshly seeded world that keeps old's bot secret and keys (old may be nil).
func reseeded(old *world, now time.Time) *world {
	fresh := newWorld()
	if old != nil {
		fresh.BotSecret, fresh.Keys = old.BotSecret, old.Keys
	}
	seed(fresh, now)
	return fresh
}

func (s *Sim) baseNow() time.Time { return s.opts.Now().UTC() }

// now is the simulated clock; callers hold s.mu.
func (s *Sim) now() time.Time { return s.opts.Now().UTC().Add(s.w.ClockOffset) }

func (s *Sim) graphBase() string { return s.opts.BaseURL + "/v1.0" }

func (s *Sim) persistLocked() {
	if s.db == nil {
		return
	}
	if err := saveWorld(s.db, s.w); err != nil {
		s.log.Error("persist simulator state", "err", err)
	}
}

func newSecret() string {
	var b [30]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("tenantsim: crypto/rand failed: %v", err))
	}
	return "sim~" + base64.RawURLEncoding.EncodeToString(b[:])
}
