package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/telemetry"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// demoFlags are the flags of `accessbot demo`.
type demoFlags struct {
	data    string
	addr    string
	simAddr string
	reset   bool
	level   string
	format  string
	dbURL   string
	debug   string
	verify  string
	rate    float64
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDemoFlags(args, stderr)
	if err != nil {
		return err
	}
	telemetry.SampleHeap(f.debug != "")
	log := newLogger(stderr, f.level, f.format)
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w", f.data, err)
	}
	botDB := filepath.Join(f.data, "accessbot.db")
	simDB := filepath.Join(f.data, "tenantsim.db")
	if f.reset {
		// The simulator resets itself (Options.Reset) and keeps its signing key and bot secret.
		for _, p := range []string{botDB, filepath.Join(f.data, "demo.json")} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("reset %s: %w", p, err)
			}
		}
		log.Info("demo state reset", "dir", f.data)
	}

	simLn, err := net.Listen("tcp", f.simAddr)
	if err != nil {
		return fmt.Errorf("simulated tenants: listen on %s: %w", f.simAddr, err)
	}
	simBase := "http://" + simLn.Addr().String()
	sim, err := tenantsim.New(tenantsim.Options{Path: simDB, BaseURL: simBase, Logger: log, Reset: f.reset})
	if err != nil {
		simLn.Close()
		return fmt.Errorf("start simulated tenants: %w", err)
	}
	defer sim.Close()
	if err := store.EnsurePrivate(simDB); err != nil {
		return fmt.Errorf("simulated tenants: %w", err)
	}
	info := sim.Info()

	cfg := demoConfig(f, info, simBase, botDB, sim.Now)
	if err := cfg.validate(); err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := a.srv.Listen(); err != nil {
		a.store.Close()
		return fmt.Errorf("bot: %w", err)
	}
	botAddr := a.srv.Addr()
	if err := writeDemoJSON(filepath.Join(f.data, "demo.json"), info, botAddr); err != nil {
		a.store.Close()
		return err
	}

	simSrv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := simSrv.Serve(simLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("simulated tenants: %w", err)
		}
		return nil
	})
	// The bot stops first: its in-flight turns still reach Graph while it drains, and it closes its pooled
	// connections to the simulator when it is done. Only then the simulator stops (otherwise its shutdown
	// waits for the bot's calls, and Go's http.Server waits up to 5 s for an idle connection the bot dialed
	// but never used, which a 5 s budget cannot cover).
	g.Go(func() error { return errors.Join(a.run(gctx), shutdownSim(simSrv)) })
	// Clock-driven rules (delivery, escalation, automatic denial, expiry, guest clean-up) run without waiting
	// for Graph traffic.
	g.Go(func() error { sim.Run(gctx, time.Second); return nil })
	printDemoBanner(stdout, info, botAddr, simBase, f.data)
	return g.Wait()
}

// parseDemoFlags reads the flags of `accessbot demo` (usage errors are written to stderr); both listen
// addresses must be loopback.
func parseDemoFlags(args []string, stderr io.Writer) (demoFlags, error) {
	var f demoFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.data, "data", envDefault(osGetenv, "ACCESSBOT_DATA_DIR", ".data"), "directory for the bot's and the simulator's bbolt files and demo.json")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:3978", "bot listen address (loopback only)")
	fs.StringVar(&f.simAddr, "sim-addr", "127.0.0.1:3979", "simulated tenants' listen address (loopback only)")
	fs.StringVar(&f.dbURL, "database-url", envDefault(osGetenv, "ACCESSBOT_DATABASE_URL", ""), "keep the bot's state in this PostgreSQL database instead of the bbolt file (env ACCESSBOT_DATABASE_URL; --reset does not clear it)")
	fs.BoolVar(&f.reset, "reset", false, "forget all demo state (bot and simulated tenants) and start from the seed")
	fs.StringVar(&f.level, "log-level", "info", "debug | info | warn | error")
	fs.StringVar(&f.format, "log-format", "text", "text | json")
	registerDebugFlag(fs, &f.debug, osGetenv)
	registerRateFlag(fs, &f.rate, osGetenv)
	fs.StringVar(&f.verify, "verify-tokens", "", "BENCHMARKS: authenticate inbound activities with Bot Framework JWTs whose keys come from this loopback OpenID metadata URL (make bench)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	for name, addr := range map[string]string{"--addr": f.addr, "--sim-addr": f.simAddr} {
		if err := requireLoopbackAddr(addr); err != nil {
			return f, usageError{fmt.Errorf("%s: %w", name, err)}
		}
	}
	return f, nil
}

// demoConfig is the bot's configuration in the demo: the simulated tenants' app registration, authority and
// Graph, insecure development mode, and clocks short enough for the simulator's jumps to show within seconds.
func demoConfig(f demoFlags, info tenantsim.DemoInfo, simBase, botDB string, now func() time.Time) config {
	cfg := config{
		BotID:              info.BotAppID,
		BotPassword:        info.BotClientSecret,
		BotTenantID:        info.ResourceTenant,
		BotType:            botTypeSingleTenant,
		OpenIDMetadataURL:  botframework.DefaultOpenIDMetadataURL,
		AuthorityHost:      info.AuthorityHost,
		GraphBaseURL:       info.GraphBaseURL,
		Addr:               f.addr,
		DataPath:           botDB,
		DatabaseURL:        f.dbURL,
		Brokered:           true,
		InsecureDev:        true,
		LogLevel:           f.level,
		LogFormat:          f.format,
		DebugAddr:          f.debug,
		DevVerifyTokensURL: f.verify,
		ConnectorRate:      f.rate,
		ShutdownTimeout:    10 * time.Second,
		DevSimulatorURL:    simBase,
		AdminGroupID:       tenantsim.AdminsGroupID,
		AdminRoleIDs:       tenantsim.IdentityGovernanceAdminRoleID,
		PollInterval:       2 * time.Second,
		ReminderAfter:      24 * time.Hour,
		// The demo's clock can jump (POST /_sim/clock): re-check open requests and guests often enough that a
		// jump shows within seconds, not the production 5 minutes.
		PollMax:            15 * time.Second,
		ReviewRemindBefore: 48 * time.Hour,
		ReviewSweep:        5 * time.Second,
		Now:                now,
	}
	for _, tn := range info.Tenants {
		if tn.ID == info.ResourceTenant {
			cfg.TenantName = tn.Name
			if len(tn.Domains) > 0 {
				cfg.TenantDomain = tn.Domains[0]
			}
		}
	}
	return cfg
}

// shutdownSim stops the simulated tenants' server once the bot no longer needs it: it waits up to 5 s for
// the requests it is answering.
func shutdownSim(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("simulated tenants: shut down: %w", err)
	}
	return nil
}

// writeDemoJSON records what scripts need to drive the demo. It holds the simulated bot secret, so it is
// written 0600 next to the state files.
func writeDemoJSON(path string, info tenantsim.DemoInfo, botAddr string) error {
	doc := map[string]any{
		"bot":       map[string]string{"endpoint": "http://" + botAddr + "/api/messages"},
		"simulator": info,
	}
	raw, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode demo.json: %w", err)
	}
	if err := os.WriteFile(path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// WriteFile keeps the mode of a file it overwrites: a reused data directory's demo.json stays private.
	return store.EnsurePrivate(path)
}

func printDemoBanner(w io.Writer, info tenantsim.DemoInfo, botAddr, simBase, dataDir string) {
	fmt.Fprintf(w, `
AccessBot demo is running.
  bot endpoint:        http://%s/api/messages   (--insecure-dev: loopback only, no Bot Framework auth)
  simulated tenants:   %s   (Graph at %s/v1.0, Entra at %s/{tenantId}/oauth2/v2.0/token)
  demo facts:          %s

Open the Microsoft 365 Agents Playground as a persona (one terminal each):
  make playground PERSONA=requester   # Rita Requester  (Contoso employee)        http://127.0.0.1:56150
  make playground PERSONA=approver    # Aaron Approver  (Rita's manager)         http://127.0.0.1:56151
  make playground PERSONA=guest       # Gus Guest       (Fabrikam partner user)  http://127.0.0.1:56152
  make playground PERSONA=admin       # Adele Vance     (AccessBot admin)        http://127.0.0.1:56153
Then say "help" to the bot. Stop with Ctrl-C; state persists in %s (make run ARGS=--reset to start over).
`, botAddr, simBase, simBase, simBase, filepath.Join(dataDir, "demo.json"), dataDir)
}
