package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/accessbot/accessbot/bot"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/server"
	"github.com/accessbot/accessbot/internal/store"
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
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	return a.run(ctx)
}

// app is a wired AccessBot process: state, HTTP server, protocol, conversation.
type app struct {
	cfg   config
	log   *slog.Logger
	store *store.Store
	srv   *server.Server
	bot   *bot.Bot
}

// newApp opens state and wires every component from cfg. The caller runs it with app.run.
func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	if dir := filepath.Dir(cfg.DataPath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", dir, err)
		}
	}
	st, err := store.Open(cfg.DataPath, store.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", cfg.DataPath, err)
	}
	a := &app{cfg: cfg, log: log, store: st}
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()

	var (
		verifier botframework.Verifier
		tokens   botframework.TokenSource
		check    func(string) error
	)
	if cfg.InsecureDev {
		log.Warn("INSECURE DEVELOPMENT MODE: inbound activities are NOT authenticated and outbound calls carry no token; loopback only",
			"addr", cfg.Addr)
		verifier = botframework.NewDevVerifier(log)
		check = botframework.CheckLoopbackServiceURL
	} else {
		v, err := botframework.NewJWTVerifier(botframework.JWTConfig{AppID: cfg.BotID, MetadataURL: cfg.OpenIDMetadataURL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("inbound auth: %w", err)
		}
		verifier = v
		tokens, err = botFrameworkTokens(cfg)
		if err != nil {
			return nil, err
		}
	}
	conn := botframework.NewClient(botframework.ClientConfig{Tokens: tokens, Logger: log, CheckServiceURL: check})
	b, err := bot.New(bot.Config{
		Connector: conn,
		Store:     st,
		Logger:    log,
		BotID:     "28:" + cfg.BotID,
	})
	if err != nil {
		return nil, err
	}
	a.bot = b

	srv := server.New(server.Config{Addr: cfg.Addr, Logger: log, ShutdownTimeout: cfg.ShutdownTimeout, Ready: st.Ping})
	srv.Handle("POST", "/api/messages", botframework.NewEndpoint(verifier, b, botframework.EndpointOptions{Logger: log}))
	a.srv = srv
	ok = true
	return a, nil
}

// run serves until ctx is cancelled, then shuts down gracefully: in-flight requests finish, background jobs
// stop, state is closed.
func (a *app) run(ctx context.Context) error {
	a.log.Info("accessbot starting", "addr", a.cfg.Addr, "version", version, "bot_id", a.cfg.BotID)
	bg, stopBackground := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, job := range a.background() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := job(bg); err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("background job stopped", "job", name, "error", err)
			}
		}()
	}
	err := a.srv.Run(ctx)
	// In-flight requests are done; stop the background jobs, then close the state they use.
	stopBackground()
	wg.Wait()
	if cerr := a.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close state: %w", cerr))
	}
	a.log.Info("accessbot stopped")
	return err
}

// background lists the jobs that run beside the HTTP server until shutdown.
func (a *app) background() map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"store-maintenance": func(ctx context.Context) error { return a.store.RunMaintenance(ctx, time.Hour) },
	}
}

// botFrameworkTokens picks the outbound credential for the Bot Framework Connector.
func botFrameworkTokens(cfg config) (botframework.TokenSource, error) {
	switch cfg.BotType {
	case botTypeMultiTenant:
		return botframework.NewClientCredentials(botframework.ClientCredentialsConfig{
			AuthorityHost: cfg.AuthorityHost, TenantID: "botframework.com", ClientID: cfg.BotID, ClientSecret: cfg.BotPassword,
		}), nil
	case botTypeSingleTenant:
		return botframework.NewClientCredentials(botframework.ClientCredentialsConfig{
			AuthorityHost: cfg.AuthorityHost, TenantID: cfg.BotTenantID, ClientID: cfg.BotID, ClientSecret: cfg.BotPassword,
		}), nil
	default:
		return nil, errors.New("BOT_TYPE UserAssignedMSI: managed identity is wired in internal/identity (not yet available in this build)")
	}
}
