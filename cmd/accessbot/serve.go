package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/accessbot/accessbot/bot"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/entitlement/graph"
	"github.com/accessbot/accessbot/internal/identity"
	"github.com/accessbot/accessbot/internal/resident"
	"github.com/accessbot/accessbot/internal/reviews"
	"github.com/accessbot/accessbot/internal/server"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/accessbot/accessbot/manifest"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	registerServeFlags(fs, &cfg, osGetenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.validate(); err != nil {
		return usageError{err}
	}
	telemetry.SampleHeap(cfg.DebugAddr != "")
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

// app is a wired AccessBot process: state, HTTP server, protocol, conversation.
type app struct {
	cfg     config
	log     *slog.Logger
	store   store.Backend
	holder  string // this replica's lease holder id
	srv     *server.Server
	bot     *bot.Bot
	outbox  *store.OutboxWorker
	metrics *telemetry.Metrics
	debug   *telemetry.DebugServer // nil unless --debug-addr
	// outbound are the Connector's and Graph's HTTP clients: run closes their pooled connections at the end.
	outbound []*http.Client
}

// newApp opens state and wires every component from cfg. The caller runs it with app.run.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	metrics := telemetry.NewMetrics()
	st, err := openState(ctx, cfg, log, metrics)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, holder: replicaID(), metrics: metrics}
	metrics.RegisterOutbox(outboxStats(st))
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()

	var (
		verifier botframework.Verifier
		bfTokens botframework.TokenSource
		check    func(string) error
	)
	appCred, err := newAppCredential(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.InsecureDev {
		log.Warn("INSECURE DEVELOPMENT MODE: inbound activities are NOT authenticated and outbound calls carry no token; loopback only",
			"addr", cfg.Addr)
		verifier = botframework.NewDevVerifier(log)
		check = botframework.CheckLoopbackServiceURL
		if cfg.DevVerifyTokensURL != "" {
			// The benchmark (make bench) signs its activities like the Bot Framework does, so the measured
			// cost includes inbound token validation.
			if verifier, err = botframework.NewJWTVerifier(botframework.JWTConfig{AppID: cfg.BotID, MetadataURL: cfg.DevVerifyTokensURL, Logger: log}); err != nil {
				return nil, fmt.Errorf("inbound auth: %w", err)
			}
			log.Warn("inbound activities are authenticated against a local OpenID metadata document", "metadata", cfg.DevVerifyTokensURL)
		}
	} else {
		v, err := botframework.NewJWTVerifier(botframework.JWTConfig{AppID: cfg.BotID, MetadataURL: cfg.OpenIDMetadataURL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("inbound auth: %w", err)
		}
		verifier = v
		bfTokens, err = botFrameworkTokens(cfg, appCred)
		if err != nil {
			return nil, err
		}
	}
	a.outbound = []*http.Client{{Transport: metrics.Transport("connector", nil)}, {Transport: metrics.Transport("graph", nil)}}
	conn := botframework.NewClient(botframework.ClientConfig{Tokens: bfTokens, Logger: log, CheckServiceURL: check, Rate: cfg.ConnectorRate,
		HTTPClient: a.outbound[0]})

	port, err := graph.New(graph.Config{BaseURL: cfg.GraphBaseURL, AppTokens: appCred.Graph(), TenantID: cfg.BotTenantID, Logger: log,
		HTTPClient: a.outbound[1]})
	if err != nil {
		return nil, fmt.Errorf("microsoft graph client: %w", err)
	}
	users, err := newUserTokens(cfg, log)
	if err != nil {
		return nil, err
	}
	teamsAppID := cfg.TeamsAppID
	if teamsAppID == "" && cfg.BotID != "" {
		if teamsAppID, err = manifest.DeriveAppID(cfg.BotID); err != nil {
			return nil, fmt.Errorf("teams app id: %w", err)
		}
	}
	adminRoles, err := cfg.adminRoles()
	if err != nil {
		return nil, err
	}
	ssoResource := ""
	if cfg.SSOConnectionName != "" {
		ssoResource = identity.SSOConfig{AppID: cfg.BotID}.ResourceURI()
	}
	leads, err := reviews.ParseExpiryLeads(cfg.ExpiryLeads)
	if err != nil {
		return nil, fmt.Errorf("expiry leads: %w", err)
	}
	reviewSvc, err := reviews.New(reviews.Config{Reviews: port, Directory: port, Tokens: users, Store: st,
		Tenant: reviews.Tenant{ID: cfg.BotTenantID, Name: cfg.TenantName, Domain: cfg.TenantDomain}, Logger: log, Now: cfg.Now,
		RemindBefore: cfg.ReviewRemindBefore, Every: cfg.ReviewSweep, ExpiryLeads: leads, Audit: st})
	if err != nil {
		return nil, err
	}
	b, err := bot.New(bot.Config{
		Connector:         conn,
		Store:             st,
		Metrics:           metrics,
		Logger:            log,
		BotID:             "28:" + cfg.BotID,
		Entitlement:       port,
		Builder:           port,
		Tokens:            users,
		Tenant:            bot.TenantInfo{ID: cfg.BotTenantID, Name: cfg.TenantName, Domain: cfg.TenantDomain},
		AdminGroupID:      cfg.AdminGroupID,
		AdminRoleIDs:      adminRoles,
		Brokered:          cfg.Brokered,
		TeamsAppID:        teamsAppID,
		SSOConnectionName: cfg.SSOConnectionName,
		DefaultServiceURL: cfg.ServiceURL,
		Now:               cfg.Now,
		SSOResource:       ssoResource,
		PollInterval:      cfg.PollInterval,
		PollMax:           cfg.PollMax,
		ReminderAfter:     cfg.ReminderAfter,
		Reviews:           reviewSvc,
	})
	if err != nil {
		return nil, err
	}
	a.bot = b
	// A replica that dies holding outbox items frees them after LeaseFor: short enough that another replica
	// sends them within 30 s, longer than one send may take.
	a.outbox = store.NewOutboxWorker(st, b.HandleOutbox, store.WorkerOptions{Logger: log, HandleTimeout: outboxHandleTimeout, LeaseFor: outboxLeaseFor,
		// One approval card per approver: a stage with a large group goes out as fast as the Connector's
		// pacing allows (--connector-rate), not one round trip at a time.
		Parallel: map[string]bool{bot.OutboxApprovalCard: true}})
	b.SetOutboxKicker(a.outbox.Kick)

	srv := server.New(server.Config{Addr: cfg.Addr, Logger: log, ShutdownTimeout: cfg.ShutdownTimeout, Ready: st.Ping, Metrics: metrics})
	srv.Handle("POST", "/api/messages", botframework.NewEndpoint(verifier, b, botframework.EndpointOptions{Logger: log, Metrics: metrics}))
	a.srv = srv
	if cfg.DebugAddr != "" {
		if a.debug, err = telemetry.ListenDebug(cfg.DebugAddr, log); err != nil {
			return nil, err
		}
	}
	ok = true
	return a, nil
}

// run serves until ctx is cancelled, then shuts down gracefully: in-flight requests finish, background jobs
// stop, state is closed and the outbound clients' pooled connections are closed.
func (a *app) run(ctx context.Context) error {
	a.log.Info("accessbot starting", "addr", a.cfg.Addr, "version", version, "bot_id", a.cfg.BotID)
	stopTracing, err := telemetry.SetupTracing(ctx, telemetry.TracingConfig{ServiceName: "accessbot", ServiceVersion: version, Logger: a.log})
	if err != nil {
		a.store.Close()
		return err
	}
	defer func() {
		if err := stopTracing(context.Background()); err != nil {
			a.log.Warn("flush traces", "err", err)
		}
	}()
	bg, stopBackground := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, job := range a.background() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := job(bg); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("background job stopped", "job", name, "err", err)
			}
		}()
	}
	// Start-up is done: package initialisation (the Graph SDK's above all) read megabytes of the binary that
	// serving never touches again. Dropping them keeps RSS to the working set (internal/resident).
	if n, err := resident.DropExecutable(); err != nil {
		a.log.Warn("drop the binary's start-up pages", "err", err)
	} else {
		a.log.Debug("dropped the binary's start-up pages", "bytes", n)
	}
	err = a.srv.Run(ctx)
	// In-flight requests are done; stop the background jobs, then close the state they use.
	stopBackground()
	wg.Wait()
	if cerr := a.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close state: %w", cerr))
	}
	for _, c := range a.outbound {
		c.CloseIdleConnections()
	}
	a.log.Info("accessbot stopped")
	return err
}

// outboxLister is the part of the store the outbox gauges read.
type outboxLister interface {
	Pending(ctx context.Context) ([]store.OutboxItem, error)
	DeadLetters(ctx context.Context) ([]store.OutboxItem, error)
}

// outboxStats reads the outbox depth, dead letters and the oldest pending item's age at scrape time.
func outboxStats(st outboxLister) func(ctx context.Context) (telemetry.OutboxStats, error) {
	return func(ctx context.Context) (telemetry.OutboxStats, error) {
		pending, err := st.Pending(ctx)
		if err != nil {
			return telemetry.OutboxStats{}, fmt.Errorf("outbox metrics: %w", err)
		}
		dead, err := st.DeadLetters(ctx)
		if err != nil {
			return telemetry.OutboxStats{}, fmt.Errorf("outbox metrics: %w", err)
		}
		s := telemetry.OutboxStats{Pending: len(pending), DeadLetters: len(dead)}
		for _, it := range pending {
			s.OldestAge = max(s.OldestAge, time.Since(it.CreatedAt))
		}
		return s, nil
	}
}

// background lists the jobs that run beside the HTTP server until shutdown. Timers and pollers run on one
// replica at a time under a lease (see exclusive); with bbolt there is one process and it always holds them.
func (a *app) background() map[string]func(context.Context) error {
	jobs := map[string]func(context.Context) error{
		"store-maintenance": a.exclusive("store-maintenance", func(ctx context.Context) error { return a.store.RunMaintenance(ctx, a.maintenance()) }),
		// Every replica delivers: the outbox hands each item to one caller (SKIP LOCKED on PostgreSQL).
		"outbox": func(ctx context.Context) error { return a.outbox.Run(ctx) },
		// The lifecycle core holds its own tracker lease (lifecycle.TrackerLease).
		"request-tracker": func(ctx context.Context) error { return a.bot.RunTracker(ctx) },
		// One replica at a time sends review cards and expiry notices (each is also claimed once in the store).
		"access-reviews": a.exclusive("access-reviews", func(ctx context.Context) error { return a.bot.RunReviews(ctx) }),
	}
	if a.debug != nil {
		jobs["debug-listener"] = a.debug.Run
	}
	return jobs
}

// maintenance is the store maintenance's schedule and retention.
func (a *app) maintenance() store.Maintenance {
	return store.Maintenance{Every: time.Hour, KeepClosed: time.Duration(a.cfg.KeepClosedDays) * 24 * time.Hour}
}

// newAppCredential builds the app's own credential (Graph app-only calls; Bot Framework for certificate and
// managed identity) from the bot type and secrets.
func newAppCredential(cfg config) (*identity.AppCredential, error) {
	ac := identity.AppConfig{TenantID: cfg.BotTenantID, ClientID: cfg.BotID, AuthorityHost: cfg.AuthorityHost}
	switch {
	case cfg.BotType == botTypeUserAssignedMSI:
		ac.Kind, ac.ManagedIdentityClientID = identity.KindManagedIdentity, cfg.BotID
	case cfg.BotCertificatePath != "":
		ac.Kind, ac.CertificatePath = identity.KindCertificate, cfg.BotCertificatePath
	default:
		ac.Kind, ac.ClientSecret = identity.KindSecret, cfg.BotPassword
	}
	cred, err := identity.NewAppCredential(ac)
	if err != nil {
		return nil, fmt.Errorf("app credential: %w", err)
	}
	return cred, nil
}

// newUserTokens picks how acting users' delegated tokens are obtained: Teams SSO + on-behalf-of, or in
// --insecure-dev with the simulator, the development identity.
func newUserTokens(cfg config, log *slog.Logger) (bot.UserTokens, error) {
	if cfg.BotPassword == "" && cfg.BotCertificatePath == "" {
		// Managed-identity deployments still run: app-only features (admin commands, brokered requests,
		// notifications) work, and requests that need the user's own token get a clear "sign-in
		// unavailable" card instead of a start-up failure.
		log.Warn("delegated (on-behalf-of) access is off: it needs BOT_PASSWORD or BOT_CERTIFICATE_PATH; users get the My Access link for their own requests")
		return noDelegatedAccess{}, nil
	}
	// With BOT_CERTIFICATE_PATH (and no secret) the exchange authenticates with a certificate client assertion.
	obo, err := identity.NewOBO(identity.OBOConfig{TenantID: cfg.BotTenantID, ClientID: cfg.BotID, ClientSecret: cfg.BotPassword,
		CertificatePath: cfg.BotCertificatePath, AuthorityHost: cfg.AuthorityHost, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("delegated access: %w", err)
	}
	if cfg.InsecureDev && cfg.DevSimulatorURL != "" {
		dev, err := identity.NewDevIdentity(identity.DevConfig{InsecureDev: true, SimulatorURL: cfg.DevSimulatorURL, OBO: obo, Logger: log})
		if err != nil {
			return nil, err
		}
		return dev, nil
	}
	return obo, nil
}

// noDelegatedAccess is the UserTokens of a deployment without on-behalf-of: every delegated call asks the
// user to use My Access instead.
type noDelegatedAccess struct{}

func (noDelegatedAccess) ForUser(string, string) entitlement.TokenSource {
	return entitlement.TokenFunc(func(context.Context) (string, error) {
		return "", fmt.Errorf("delegated access is not configured for this bot (no client secret or certificate for on-behalf-of): %w", entitlement.ErrSignInRequired)
	})
}

func (noDelegatedAccess) ExchangeSSO(context.Context, string, string, string) error {
	return fmt.Errorf("delegated access is not configured for this bot: %w", entitlement.ErrSignInRequired)
}

// botFrameworkTokens picks the outbound credential for the Bot Framework Connector.
func botFrameworkTokens(cfg config, app *identity.AppCredential) (botframework.TokenSource, error) {
	switch cfg.BotType {
	case botTypeMultiTenant:
		return botframework.NewClientCredentials(botframework.ClientCredentialsConfig{
			AuthorityHost: cfg.AuthorityHost, TenantID: "botframework.com", ClientID: cfg.BotID, ClientSecret: cfg.BotPassword,
		}), nil
	case botTypeSingleTenant:
		if cfg.BotPassword == "" {
			return app.BotFramework(), nil
		}
		return botframework.NewClientCredentials(botframework.ClientCredentialsConfig{
			AuthorityHost: cfg.AuthorityHost, TenantID: cfg.BotTenantID, ClientID: cfg.BotID, ClientSecret: cfg.BotPassword,
		}), nil
	default: // UserAssignedMSI, or a certificate
		return app.BotFramework(), nil
	}
}
