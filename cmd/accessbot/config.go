package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/netx"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/telemetry"
)

// Bot types, as the Teams Toolkit names them (BOT_TYPE).
const (
	botTypeSingleTenant    = "SingleTenant"
	botTypeMultiTenant     = "MultiTenant"
	botTypeUserAssignedMSI = "UserAssignedMSI"
)

// config is everything `accessbot serve` needs. Environment variables (Teams Toolkit names) give the defaults;
// flags override them.
type config struct {
	BotID              string
	BotPassword        string // secret: never logged
	BotTenantID        string
	BotType            string
	BotCertificatePath string
	OpenIDMetadataURL  string
	AuthorityHost      string
	GraphBaseURL       string
	Addr               string
	DataPath           string
	// DatabaseURL selects PostgreSQL (postgres://…) instead of the bbolt file at DataPath; secret (it may
	// carry a password): only its redacted form is ever logged.
	DatabaseURL string
	// DBMaxConns is the PostgreSQL pool size per process (0: the backend's default).
	DBMaxConns int
	// DBStatementTimeout bounds each PostgreSQL statement (0: the backend's default).
	DBStatementTimeout time.Duration
	// KeepClosedDays is how many days a closed request's record is kept before maintenance prunes it (0: the
	// default, store.DefaultKeepClosed).
	KeepClosedDays int
	AdminGroupID   string
	// AdminRoleIDs is a comma-separated list of Microsoft Entra directory role template ids whose holders
	// may run admin commands (ACCESSBOT_ADMIN_ROLE_IDS); validate checks it and adminRoles splits it.
	AdminRoleIDs      string
	TenantName        string
	TenantDomain      string
	TeamsAppID        string
	SSOConnectionName string
	ServiceURL        string
	ReminderAfter     time.Duration
	Brokered          bool
	InsecureDev       bool
	LogLevel          string
	LogFormat         string
	ShutdownTimeout   time.Duration
	// DebugAddr, when set, serves net/http/pprof on this loopback address (never on the bot's port).
	DebugAddr string
	// ConnectorRate paces Bot Connector operations per second (Teams' tenant limit); 0 = unpaced.
	ConnectorRate float64
	// DevSimulatorURL is the simulator's root, used only with InsecureDev for the development identity (set
	// by `demo`, never from the environment).
	DevSimulatorURL string
	// DevVerifyTokensURL, only with InsecureDev (demo --verify-tokens), authenticates inbound activities with
	// Bot Framework JWTs whose keys come from this loopback OpenID metadata URL: the benchmark signs its
	// activities so their cost is measured like production's.
	DevVerifyTokensURL string
	// Now is the bot's clock for its business rules (stage deadlines, reminders, expiry notices); nil means the
	// wall clock. The demo sets the simulator's clock, so advancing it (POST /_sim/clock) moves the bot too.
	Now func() time.Time
	// PollInterval is the first delay between status polls of open requests (0: the bot's default).
	PollInterval time.Duration
	// PollMax caps the delay between polls of one request or guest (0: the bot's default, 5 min).
	PollMax time.Duration
	// ReviewRemindBefore is how long before an access review ends its reviewers are reminded
	// (ACCESSBOT_REVIEW_REMINDER_BEFORE).
	ReviewRemindBefore time.Duration
	// ReviewSweep is how often access reviews and expiring access are checked (ACCESSBOT_REVIEW_SWEEP).
	ReviewSweep time.Duration
	// ExpiryLeads says how long before its end an assignment is announced, by its length
	// (ACCESSBOT_EXPIRY_LEADS, e.g. "90d:7d,30d:3d,7d:1d,0:2h"; empty: the default).
	ExpiryLeads string
}

// envDefault returns the environment value for key, or def when unset or empty.
func envDefault(getenv func(string) string, key, def string) string {
	if v := strings.TrimSpace(getenv(key)); v != "" {
		return v
	}
	return def
}

// registerServeFlags binds the serve configuration to fs, with defaults from the environment.
func registerServeFlags(fs *flag.FlagSet, c *config, getenv func(string) string) {
	fs.StringVar(&c.BotID, "bot-id", envDefault(getenv, "BOT_ID", ""), "Microsoft App ID of the bot (env BOT_ID)")
	c.BotPassword = envDefault(getenv, "BOT_PASSWORD", "") // env only: secrets do not belong on a command line
	fs.StringVar(&c.BotTenantID, "bot-tenant-id", envDefault(getenv, "BOT_TENANT_ID", ""), "tenant of the bot's app registration (env BOT_TENANT_ID)")
	fs.StringVar(&c.BotType, "bot-type", envDefault(getenv, "BOT_TYPE", botTypeSingleTenant), "SingleTenant | MultiTenant | UserAssignedMSI (env BOT_TYPE)")
	fs.StringVar(&c.BotCertificatePath, "bot-certificate", envDefault(getenv, "BOT_CERTIFICATE_PATH", ""), "PEM file with the app's certificate and key, instead of BOT_PASSWORD (env BOT_CERTIFICATE_PATH)")
	fs.StringVar(&c.OpenIDMetadataURL, "openid-metadata-url", envDefault(getenv, "BOT_OPENID_METADATA_URL", botframework.DefaultOpenIDMetadataURL), "Bot Framework OpenID metadata (env BOT_OPENID_METADATA_URL)")
	fs.StringVar(&c.AuthorityHost, "authority-host", envDefault(getenv, "AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com/"), "Entra authority host (env AZURE_AUTHORITY_HOST)")
	fs.StringVar(&c.GraphBaseURL, "graph-base-url", envDefault(getenv, "GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"), "Microsoft Graph base URL (env GRAPH_BASE_URL)")
	fs.StringVar(&c.Addr, "addr", envDefault(getenv, "ACCESSBOT_ADDR", ":3978"), "listen address (env ACCESSBOT_ADDR)")
	fs.StringVar(&c.DataPath, "data", envDefault(getenv, "ACCESSBOT_DATA", "accessbot.db"), "bbolt state file (env ACCESSBOT_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", envDefault(getenv, "ACCESSBOT_DATABASE_URL", ""), "PostgreSQL URL (postgres://user@host:5432/db?sslmode=require) to keep state in PostgreSQL, shared by several replicas; empty keeps the bbolt file --data (env ACCESSBOT_DATABASE_URL)")
	c.DBMaxConns = envInt(getenv, "ACCESSBOT_DATABASE_MAX_CONNS", 0)
	fs.IntVar(&c.DBMaxConns, "database-max-conns", c.DBMaxConns, "PostgreSQL connection pool size per process, default 10 (env ACCESSBOT_DATABASE_MAX_CONNS)")
	c.DBStatementTimeout = envDuration(getenv, "ACCESSBOT_DATABASE_STATEMENT_TIMEOUT", 0)
	fs.DurationVar(&c.DBStatementTimeout, "database-statement-timeout", c.DBStatementTimeout, "PostgreSQL statement timeout, default 10s (env ACCESSBOT_DATABASE_STATEMENT_TIMEOUT)")
	c.KeepClosedDays = envInt(getenv, "ACCESSBOT_KEEP_CLOSED_DAYS", int(store.DefaultKeepClosed/(24*time.Hour)))
	fs.IntVar(&c.KeepClosedDays, "keep-closed-days", c.KeepClosedDays, "days a closed request's record is kept (status and approval cards still show it) before it is pruned; its audit entries stay (env ACCESSBOT_KEEP_CLOSED_DAYS)")
	fs.StringVar(&c.AdminGroupID, "admin-group", envDefault(getenv, "ACCESSBOT_ADMIN_GROUP_ID", ""), "object id of the Entra group whose members may run admin commands (env ACCESSBOT_ADMIN_GROUP_ID)")
	fs.StringVar(&c.AdminRoleIDs, "admin-roles", envDefault(getenv, "ACCESSBOT_ADMIN_ROLE_IDS", ""), "comma-separated template ids of Entra directory roles whose holders (direct, tenant-wide assignment) may run admin commands, e.g. 45d8d3c5-c802-45c6-b32a-1d70b5e1e86e for Identity Governance Administrator (env ACCESSBOT_ADMIN_ROLE_IDS)")
	fs.StringVar(&c.TenantName, "tenant-name", envDefault(getenv, "ACCESSBOT_TENANT_NAME", ""), "display name of the resource organization, shown on cards (env ACCESSBOT_TENANT_NAME)")
	fs.StringVar(&c.TenantDomain, "tenant-domain", envDefault(getenv, "ACCESSBOT_TENANT_DOMAIN", ""), "a verified domain of the resource tenant, for tenant-scoped My Access links (env ACCESSBOT_TENANT_DOMAIN)")
	fs.StringVar(&c.TeamsAppID, "teams-app-id", envDefault(getenv, "TEAMS_APP_ID", ""), "Teams app id, to install the app for approvers (env TEAMS_APP_ID; default derived from BOT_ID like `accessbot manifest`)")
	fs.StringVar(&c.SSOConnectionName, "sso-connection", envDefault(getenv, "BOT_SSO_CONNECTION_NAME", ""), "OAuth connection name of the Azure Bot for Teams SSO (env BOT_SSO_CONNECTION_NAME)")
	fs.StringVar(&c.ServiceURL, "service-url", envDefault(getenv, "BOT_SERVICE_URL", "https://smba.trafficmanager.net/teams/"), "Teams service URL for chats the bot starts before it has heard from a tenant (env BOT_SERVICE_URL; GCC: https://smba.infra.gcc.teams.microsoft.com/teams)")
	c.ReminderAfter = 24 * time.Hour
	if v := envDefault(getenv, "ACCESSBOT_REMINDER_AFTER", ""); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			c.ReminderAfter = d
		} else {
			c.ReminderAfter = -1 // reported by validate
		}
	}
	fs.DurationVar(&c.ReminderAfter, "reminder-after", c.ReminderAfter, "how long an approval may wait before its approvers are reminded (env ACCESSBOT_REMINDER_AFTER, e.g. 24h)")
	registerReviewFlags(fs, c, getenv)
	c.PollInterval = envDuration(getenv, "ACCESSBOT_POLL_INTERVAL", 0)
	fs.DurationVar(&c.PollInterval, "poll-interval", c.PollInterval, "first delay between status checks of an open request or guest, doubling up to --poll-max; default 5s (env ACCESSBOT_POLL_INTERVAL)")
	c.PollMax = envDuration(getenv, "ACCESSBOT_POLL_MAX", 0)
	fs.DurationVar(&c.PollMax, "poll-max", c.PollMax, "longest delay between status checks of one open request or guest; default 5m (env ACCESSBOT_POLL_MAX)")
	fs.BoolVar(&c.Brokered, "brokered", envDefault(getenv, "ACCESSBOT_BROKERED", "true") == "true", "run approvals in the bot for connected-organization users not yet in the tenant (env ACCESSBOT_BROKERED)")
	fs.BoolVar(&c.InsecureDev, "insecure-dev", false, "DEVELOPMENT ONLY: no inbound or outbound Bot Framework auth; loopback listen address and serviceUrls only")
	fs.StringVar(&c.LogLevel, "log-level", envDefault(getenv, "ACCESSBOT_LOG_LEVEL", "info"), "debug | info | warn | error (env ACCESSBOT_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", envDefault(getenv, "ACCESSBOT_LOG_FORMAT", "text"), "text | json (env ACCESSBOT_LOG_FORMAT)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may run after SIGTERM")
	registerDebugFlag(fs, &c.DebugAddr, getenv)
	registerRateFlag(fs, &c.ConnectorRate, getenv)
}

// registerRateFlag binds --connector-rate (serve and demo).
func registerRateFlag(fs *flag.FlagSet, rate *float64, getenv func(string) string) {
	def := float64(botframework.TeamsTenantRate)
	if v := envDefault(getenv, "ACCESSBOT_CONNECTOR_RATE", ""); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			def = f
		} else {
			def = -1 // reported by validate
		}
	}
	fs.Float64Var(rate, "connector-rate", def, "Bot Connector operations per second, paced under Teams' limit per app and tenant; 0 = unpaced (env ACCESSBOT_CONNECTOR_RATE)")
}

// registerDebugFlag binds --debug-addr (serve and demo).
func registerDebugFlag(fs *flag.FlagSet, addr *string, getenv func(string) string) {
	fs.StringVar(addr, "debug-addr", envDefault(getenv, "ACCESSBOT_DEBUG_ADDR", ""), "serve net/http/pprof on this loopback address, e.g. 127.0.0.1:6060; off when empty (env ACCESSBOT_DEBUG_ADDR)")
}

// envInt reads an integer environment value; a malformed one becomes -1, which validate reports.
func envInt(getenv func(string) string, key string, def int) int {
	v := envDefault(getenv, key, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// envDuration reads a Go duration environment value; a malformed one becomes -1, which validate reports.
func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	v := envDefault(getenv, key, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}

// checkDatabaseURL accepts an empty value (bbolt) or a postgres:// URL with a host; the error never
// repeats the URL (it may hold a password).
func checkDatabaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return errors.New("ACCESSBOT_DATABASE_URL: expected postgres://user[:password]@host:port/database?sslmode=… (value not shown: it may contain a password)")
	}
	return nil
}

// validate checks the configuration and says precisely what is wrong.
func (c *config) validate() error {
	var errs []error
	switch c.BotType {
	case botTypeSingleTenant, botTypeMultiTenant, botTypeUserAssignedMSI:
	default:
		errs = append(errs, fmt.Errorf("BOT_TYPE %q: expected SingleTenant, MultiTenant or UserAssignedMSI", c.BotType))
	}
	if c.InsecureDev {
		if err := requireLoopbackAddr(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("--insecure-dev: %w", err))
		}
	} else {
		if c.BotID == "" {
			errs = append(errs, errors.New("BOT_ID is empty: set it to the bot's Microsoft App ID (or run `accessbot demo` for the local demo)"))
		}
		if c.BotType == botTypeSingleTenant && c.BotTenantID == "" {
			errs = append(errs, errors.New("BOT_TENANT_ID is empty: a SingleTenant bot needs its app registration's tenant id"))
		}
		if c.BotType != botTypeUserAssignedMSI && c.BotPassword == "" && c.BotCertificatePath == "" {
			errs = append(errs, errors.New("no app credential: set BOT_PASSWORD or BOT_CERTIFICATE_PATH (or BOT_TYPE=UserAssignedMSI)"))
		}
	}
	for name, raw := range map[string]string{"BOT_OPENID_METADATA_URL": c.OpenIDMetadataURL, "AZURE_AUTHORITY_HOST": c.AuthorityHost, "GRAPH_BASE_URL": c.GraphBaseURL} {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s %q: expected an absolute http(s) URL", name, raw))
		}
	}
	if c.ServiceURL != "" {
		if u, err := url.Parse(c.ServiceURL); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("BOT_SERVICE_URL %q: expected an absolute https URL", c.ServiceURL))
		}
	}
	if _, err := c.adminRoles(); err != nil {
		errs = append(errs, err)
	}
	if c.ReminderAfter < time.Minute {
		errs = append(errs, errors.New("ACCESSBOT_REMINDER_AFTER: expected a Go duration of at least 1m, such as 24h or 90m"))
	}
	errs = append(errs, c.validateReviews()...)
	if c.DataPath == "" && c.DatabaseURL == "" {
		errs = append(errs, errors.New("ACCESSBOT_DATA is empty: expected a file path for the state database"))
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		errs = append(errs, err)
	}
	if c.PollInterval < 0 || c.PollMax < 0 || (c.PollMax > 0 && c.PollInterval > c.PollMax) {
		errs = append(errs, fmt.Errorf("ACCESSBOT_POLL_INTERVAL %s / ACCESSBOT_POLL_MAX %s: expected positive Go durations with the interval not above the maximum, such as 5s and 5m", c.PollInterval, c.PollMax))
	}
	if c.DBMaxConns < 0 {
		errs = append(errs, fmt.Errorf("ACCESSBOT_DATABASE_MAX_CONNS %d: expected a positive pool size", c.DBMaxConns))
	}
	if c.KeepClosedDays < 0 {
		errs = append(errs, fmt.Errorf("ACCESSBOT_KEEP_CLOSED_DAYS %d: expected a whole number of days, 1 or more, such as 90", c.KeepClosedDays))
	}
	if c.DBStatementTimeout < 0 {
		errs = append(errs, fmt.Errorf("ACCESSBOT_DATABASE_STATEMENT_TIMEOUT %s: expected a positive duration such as 10s", c.DBStatementTimeout))
	}
	if c.ConnectorRate < 0 {
		errs = append(errs, errors.New("ACCESSBOT_CONNECTOR_RATE: expected a number of operations per second, 0 or more (Teams allows 30 per app and tenant)"))
	}
	if c.DevVerifyTokensURL != "" {
		u, err := url.Parse(c.DevVerifyTokensURL)
		if !c.InsecureDev || err != nil || (u.Scheme != "http" && u.Scheme != "https") || !netx.IsLoopbackHost(u.Hostname()) {
			errs = append(errs, fmt.Errorf("--verify-tokens %q: expected an http(s) OpenID metadata URL on a loopback host, with the demo", c.DevVerifyTokensURL))
		}
	}
	if c.DebugAddr != "" {
		if err := telemetry.CheckDebugAddr(c.DebugAddr); err != nil {
			errs = append(errs, fmt.Errorf("--debug-addr: %w", err))
		} else if c.DebugAddr == c.Addr {
			errs = append(errs, fmt.Errorf("--debug-addr %q: must differ from the bot's listen address: the profiler never shares the bot's port", c.DebugAddr))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log level %q: expected debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log format %q: expected text or json", c.LogFormat))
	}
	return errors.Join(errs...)
}

// guidRE matches a GUID such as a directory role template id.
var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// adminRoles splits AdminRoleIDs (comma-separated, spaces around entries allowed) into role template ids.
// An empty value means no roles; an empty entry or one that is not a GUID is an error naming its position.
func (c *config) adminRoles() ([]string, error) {
	raw := strings.TrimSpace(c.AdminRoleIDs)
	if raw == "" {
		return nil, nil
	}
	parts := strings.Split(raw, ",")
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
			return nil, fmt.Errorf("ACCESSBOT_ADMIN_ROLE_IDS entry %d of %d is empty: expected comma-separated role template ids (GUIDs) without empty entries", i+1, len(parts))
		case !guidRE.MatchString(p):
			return nil, fmt.Errorf("ACCESSBOT_ADMIN_ROLE_IDS entry %d %q: expected a directory role template id, a GUID like 45d8d3c5-c802-45c6-b32a-1d70b5e1e86e (Identity Governance Administrator), not a role name", i+1, p)
		}
		out = append(out, strings.ToLower(p))
	}
	return out, nil
}

// requireLoopbackAddr accepts listen addresses whose host is a loopback IP or "localhost".
func requireLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if !netx.IsLoopbackHost(host) {
		return fmt.Errorf("listen address %q is not loopback: use 127.0.0.1:PORT or localhost:PORT", addr)
	}
	return nil
}

// osGetenv is the process environment; tests pass their own.
var osGetenv = os.Getenv
