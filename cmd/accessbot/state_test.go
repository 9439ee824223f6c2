package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

func TestDatabaseConfig(t *testing.T) {
	base := map[string]string{"BOT_ID": "b", "BOT_PASSWORD": "pw", "BOT_TENANT_ID": "tid"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string // "" = valid
		check   func(c config) bool
	}{
		{"bbolt by default", nil, nil, "", func(c config) bool { return c.DatabaseURL == "" && c.DataPath == "accessbot.db" }},
		{"env url and pool", map[string]string{"ACCESSBOT_DATABASE_URL": "postgres://bot:pw@db.example:5432/accessbot?sslmode=require",
			"ACCESSBOT_DATABASE_MAX_CONNS": "20", "ACCESSBOT_DATABASE_STATEMENT_TIMEOUT": "5s"}, nil, "",
			func(c config) bool {
				return c.DatabaseURL != "" && c.DBMaxConns == 20 && c.DBStatementTimeout == 5*time.Second
			}},
		{"flag overrides env", map[string]string{"ACCESSBOT_DATABASE_URL": "postgres://a@h/db"}, []string{"--database-url", "postgresql://b@h2/db"}, "",
			func(c config) bool { return c.DatabaseURL == "postgresql://b@h2/db" }},
		{"not postgres", map[string]string{"ACCESSBOT_DATABASE_URL": "mysql://bot:hunter2@h/db"}, nil, "expected postgres://", nil},
		{"bad pool size", map[string]string{"ACCESSBOT_DATABASE_MAX_CONNS": "many"}, nil, "ACCESSBOT_DATABASE_MAX_CONNS", nil},
		{"poll interval above max", map[string]string{"ACCESSBOT_POLL_INTERVAL": "10m", "ACCESSBOT_POLL_MAX": "1m"}, nil, "ACCESSBOT_POLL_MAX", nil},
		{"poll settings", map[string]string{"ACCESSBOT_POLL_INTERVAL": "2s", "ACCESSBOT_POLL_MAX": "1m"}, nil, "",
			func(c config) bool { return c.PollInterval == 2*time.Second && c.PollMax == time.Minute }},
		{"bad timeout", map[string]string{"ACCESSBOT_DATABASE_STATEMENT_TIMEOUT": "soon"}, nil, "ACCESSBOT_DATABASE_STATEMENT_TIMEOUT", nil},
		{"closed requests kept 90 days by default", nil, nil, "", func(c config) bool { return c.KeepClosedDays == 90 }},
		{"keep closed from env", map[string]string{"ACCESSBOT_KEEP_CLOSED_DAYS": "30"}, nil, "", func(c config) bool { return c.KeepClosedDays == 30 }},
		{"keep closed flag", nil, []string{"--keep-closed-days", "7"}, "", func(c config) bool { return c.KeepClosedDays == 7 }},
		{"keep closed not a number", map[string]string{"ACCESSBOT_KEEP_CLOSED_DAYS": "90d"}, nil, "ACCESSBOT_KEEP_CLOSED_DAYS", nil},
		{"keep closed negative", nil, []string{"--keep-closed-days", "-5"}, "ACCESSBOT_KEEP_CLOSED_DAYS -5", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c config
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			registerServeFlags(fs, &c, func(k string) string {
				if v, ok := tc.env[k]; ok {
					return v
				}
				return base[k]
			})
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := c.validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid config rejected: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error shows the password: %v", err)
			case tc.check != nil && !tc.check(c):
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

// TestDemoJSONStaysPrivate: rewriting a reused data directory's demo.json narrows a wider mode to 0600.
func TestDemoJSONStaysPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.json")
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDemoJSON(path, tenantsim.DemoInfo{}, "127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo.json mode = %o, want 600", fi.Mode().Perm())
	}
}

// TestServeRefusesDamagedStateFile: `accessbot serve` on a truncated state file exits with one line that
// names the file and what to do, and leaves the file as it was.
func TestServeRefusesDamagedStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accessbot.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := st.Put(context.Background(), "things", fmt.Sprint(i), strings.Repeat("x", 2000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damagedFile := raw[:len(raw)/2]
	if err := os.WriteFile(path, damagedFile, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := run(context.Background(), []string{"serve", "--insecure-dev", "--addr", "127.0.0.1:0", "--data", path}, &out, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.Contains(last, path) || !strings.Contains(last, "restore the file from a backup") || strings.Contains(out.String(), "panic") {
		t.Fatalf("exit %d, output:\n%s\nwant exit 1 and a last line naming %s and what to do", code, out.String(), path)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, damagedFile) {
		t.Fatal("serve wrote to the damaged state file")
	}
	t.Logf("serve said: %s", last)
}
