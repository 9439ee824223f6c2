package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestConfigFromEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"BOT_ID": "env-bot", "BOT_PASSWORD": "pw", "BOT_TENANT_ID": "tid", "ACCESSBOT_ADDR": "127.0.0.1:4000",
		"GRAPH_BASE_URL": "http://127.0.0.1:3979/v1.0", "AZURE_AUTHORITY_HOST": "http://127.0.0.1:3979/",
	}
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	registerServeFlags(fs, &c, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"-bot-id", "flag-bot"}); err != nil {
		t.Fatal(err)
	}
	if c.BotID != "flag-bot" {
		t.Errorf("flag must override env: BotID = %q", c.BotID)
	}
	if c.BotPassword != "pw" || c.BotTenantID != "tid" || c.Addr != "127.0.0.1:4000" {
		t.Errorf("env not applied: %+v", c)
	}
	if c.OpenIDMetadataURL != "https://login.botframework.com/v1/.well-known/openidconfiguration" || c.BotType != botTypeSingleTenant {
		t.Errorf("defaults not applied: metadata %q type %q", c.OpenIDMetadataURL, c.BotType)
	}
	if err := c.validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	base := func() config {
		return config{
			BotID: "app", BotPassword: "pw", BotTenantID: "tid", BotType: botTypeSingleTenant,
			OpenIDMetadataURL: "https://login.botframework.com/v1/.well-known/openidconfiguration",
			AuthorityHost:     "https://login.microsoftonline.com/", GraphBaseURL: "https://graph.microsoft.com/v1.0",
			Addr: ":3978", DataPath: "x.db", LogLevel: "info", LogFormat: "text", ReminderAfter: 24 * time.Hour,
		}
	}
	tests := []struct {
		name    string
		mutate  func(*config)
		wantErr string
	}{
		{"valid", func(*config) {}, ""},
		{"no bot id", func(c *config) { c.BotID = "" }, "BOT_ID is empty"},
		{"no bot id but insecure dev on loopback", func(c *config) { c.BotID = ""; c.InsecureDev = true; c.Addr = "127.0.0.1:3978" }, ""},
		{"insecure dev on all interfaces", func(c *config) { c.InsecureDev = true; c.Addr = ":3978" }, "not loopback"},
		{"insecure dev on a LAN address", func(c *config) { c.InsecureDev = true; c.Addr = "192.0.2.10:3978" }, "not loopback"},
		{"insecure dev on localhost", func(c *config) { c.InsecureDev = true; c.Addr = "localhost:3978" }, ""},
		{"insecure dev on ::1", func(c *config) { c.InsecureDev = true; c.Addr = "[::1]:3978" }, ""},
		{"bad bot type", func(c *config) { c.BotType = "Classic" }, `BOT_TYPE "Classic"`},
		{"single tenant without tenant", func(c *config) { c.BotTenantID = "" }, "BOT_TENANT_ID is empty"},
		{"multi tenant without tenant", func(c *config) { c.BotTenantID = ""; c.BotType = botTypeMultiTenant }, ""},
		{"no credential", func(c *config) { c.BotPassword = "" }, "no app credential"},
		{"managed identity needs no secret", func(c *config) { c.BotPassword = ""; c.BotType = botTypeUserAssignedMSI }, ""},
		{"relative graph url", func(c *config) { c.GraphBaseURL = "graph.microsoft.com" }, "GRAPH_BASE_URL"},
		{"bad authority", func(c *config) { c.AuthorityHost = "ftp://login" }, "AZURE_AUTHORITY_HOST"},
		{"no data path", func(c *config) { c.DataPath = "" }, "ACCESSBOT_DATA"},
		{"reminder too short", func(c *config) { c.ReminderAfter = time.Second }, "ACCESSBOT_REMINDER_AFTER"},
		{"reminder unparsable", func(c *config) { c.ReminderAfter = -1 }, "ACCESSBOT_REMINDER_AFTER"},
		{"plain http service url", func(c *config) { c.ServiceURL = "http://smba.example/teams/" }, "BOT_SERVICE_URL"},
		{"gcc service url", func(c *config) { c.ServiceURL = "https://smba.infra.gcc.teams.microsoft.com/teams" }, ""},
		{"bad log level", func(c *config) { c.LogLevel = "loud" }, "log level"},
		{"benchmark token check on loopback", func(c *config) {
			c.InsecureDev, c.Addr, c.DevVerifyTokensURL = true, "127.0.0.1:3978", "http://127.0.0.1:9/v1/.well-known/openidconfiguration"
		}, ""},
		{"benchmark token check elsewhere", func(c *config) {
			c.InsecureDev, c.Addr, c.DevVerifyTokensURL = true, "127.0.0.1:3978", "https://login.botframework.com/v1/.well-known/openidconfiguration"
		}, "--verify-tokens"},
		{"benchmark token check outside the demo", func(c *config) { c.DevVerifyTokensURL = "http://127.0.0.1:9/x" }, "--verify-tokens"},
		{"negative connector rate", func(c *config) { c.ConnectorRate = -1 }, "ACCESSBOT_CONNECTOR_RATE"},
		{"profiler on loopback", func(c *config) { c.DebugAddr = "127.0.0.1:6060" }, ""},
		{"profiler on all interfaces", func(c *config) { c.DebugAddr = ":6060" }, "--debug-addr"},
		{"profiler on a LAN address", func(c *config) { c.DebugAddr = "192.0.2.10:6060" }, "must be loopback"},
		{"profiler on the bot's port", func(c *config) { c.Addr = "127.0.0.1:3978"; c.DebugAddr = "127.0.0.1:3978" }, "must differ from the bot's listen address"},
		{"admin roles", func(c *config) {
			c.AdminRoleIDs = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e, 62E90394-69F5-4237-9190-012177145E10"
		}, ""},
		{"admin role given by name", func(c *config) { c.AdminRoleIDs = "Identity Governance Administrator" },
			`ACCESSBOT_ADMIN_ROLE_IDS entry 1 "Identity Governance Administrator": expected a directory role template id, a GUID`},
		{"admin role id truncated", func(c *config) { c.AdminRoleIDs = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e,62e90394-69f5-4237-9190" },
			`ACCESSBOT_ADMIN_ROLE_IDS entry 2 "62e90394-69f5-4237-9190"`},
		{"admin roles with an empty entry", func(c *config) {
			c.AdminRoleIDs = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e,,62e90394-69f5-4237-9190-012177145e10"
		},
			"ACCESSBOT_ADMIN_ROLE_IDS entry 2 of 3 is empty"},
		{"admin roles with a trailing comma", func(c *config) { c.AdminRoleIDs = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e," },
			"ACCESSBOT_ADMIN_ROLE_IDS entry 2 of 2 is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mutate(&c)
			err := c.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), c.BotPassword) && c.BotPassword != "" {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}

// TestAdminRolesFromEnvAndFlag: ACCESSBOT_ADMIN_ROLE_IDS (or -admin-roles) becomes the list of role template
// ids bot.Config.AdminRoleIDs gets, trimmed and lower-cased; unset means no roles.
func TestAdminRolesFromEnvAndFlag(t *testing.T) {
	tests := []struct {
		name string
		env  string
		args []string
		want []string
	}{
		{"unset", "", nil, nil},
		{"env, spaces and case", " 45D8D3C5-C802-45C6-B32A-1D70B5E1E86E , 62e90394-69f5-4237-9190-012177145e10 ", nil,
			[]string{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e", "62e90394-69f5-4237-9190-012177145e10"}},
		{"flag overrides env", "62e90394-69f5-4237-9190-012177145e10", []string{"-admin-roles", "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"},
			[]string{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c config
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			registerServeFlags(fs, &c, func(k string) string {
				if k == "ACCESSBOT_ADMIN_ROLE_IDS" {
					return tc.env
				}
				return ""
			})
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := c.adminRoles()
			if err != nil {
				t.Fatalf("adminRoles: %v", err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("adminRoles = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"no command", nil, nil, 2, "Usage"},
		{"unknown command", []string{"serv"}, nil, 2, `unknown command "serv"`},
		{"serve without bot id", []string{"serve", "-data", "x.db"}, nil, 2, "BOT_ID is empty"},
		{"admin role given by name", []string{"serve", "-insecure-dev", "-addr", "127.0.0.1:0"},
			map[string]string{"ACCESSBOT_ADMIN_ROLE_IDS": "Global Administrator"}, 2, `ACCESSBOT_ADMIN_ROLE_IDS entry 1 "Global Administrator"`},
		{"insecure dev on all interfaces", []string{"serve", "-insecure-dev", "-addr", ":3978"}, nil, 2, "not loopback"},
		{"demo on a public address", []string{"demo", "-addr", "0.0.0.0:3978"}, nil, 2, "not loopback"},
		{"manifest without bot id", []string{"manifest", "-print"}, nil, 2, "botId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := osGetenv
			osGetenv = func(k string) string { return tc.env[k] }
			defer func() { osGetenv = old }()
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d (stderr %q)", code, tc.wantCode, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.wantErr) {
				t.Fatalf("stderr = %q, want containing %q", errOut.String(), tc.wantErr)
			}
		})
	}
}

// TestNewAppWithoutClientSecret checks that a managed-identity deployment starts: delegated actions are then
// answered with a sign-in-unavailable error instead of the bot refusing to run.
func TestNewAppWithoutClientSecret(t *testing.T) {
	cfg := config{
		BotID: "0f3a9d5e-1111-4c4c-8888-000000000abc", BotTenantID: testTenantID, BotType: botTypeUserAssignedMSI,
		OpenIDMetadataURL: "https://login.botframework.com/v1/.well-known/openidconfiguration",
		AuthorityHost:     "https://login.microsoftonline.com/", GraphBaseURL: "https://graph.microsoft.com/v1.0",
		Addr: "127.0.0.1:0", DataPath: filepath.Join(t.TempDir(), "bot.db"), LogLevel: "info", LogFormat: "text",
		ReminderAfter: 24 * time.Hour,
	}
	if err := cfg.validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("newApp without a client secret: %v", err)
	}
	defer a.store.Close()
	users, err := newUserTokens(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	_, err = users.ForUser(testTenantID, "aaaaaaaa-0000-0000-0000-000000000001").Token(context.Background())
	if !errors.Is(err, entitlement.ErrSignInRequired) {
		t.Fatalf("delegated token without OBO: err = %v, want ErrSignInRequired", err)
	}
}
