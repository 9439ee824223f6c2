package main

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
)

func TestMigrateCommand(t *testing.T) {
	dbURL := pgtest.URL(t)
	// Trust auth ignores the password: it stands in for a real one that must never be printed.
	u, _ := url.Parse(dbURL)
	u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	dbURL = u.String()

	from := filepath.Join(t.TempDir(), "accessbot.db")
	src, err := store.Open(from, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := src.PutConversation(ctx, store.ConversationRef{TenantID: "t", AADObjectID: "u", ConversationID: "a:1", ServiceURL: "https://smba.example/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Enqueue(ctx, "notify", "x", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     []string // substrings of stdout+stderr
	}{
		{"dry run", []string{"--dry-run"}, 0, []string{"dry run", "conversations", "outbox"}},
		{"copy", nil, 0, []string{"copied"}},
		{"refuses non-empty", nil, 1, []string{"not empty", "--force"}},
		{"force", []string{"--force"}, 0, []string{"copied"}},
		{"missing from", []string{"--from", ""}, 2, []string{"--from is required"}},
		{"bad url", []string{"--to", "mysql://x:s3cret-pw@h/db"}, 2, []string{"expected postgres://"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"migrate", "--from", from, "--to", dbURL}, tc.args...)
			code := run(ctx, args, &out, &out)
			text := out.String()
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; output:\n%s", code, tc.wantCode, text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
			if strings.Contains(text, "s3cret-pw") {
				t.Errorf("output shows the password:\n%s", text)
			}
			if tc.name == "copy" && !hasLine(text, "conversations", "1", "1") {
				t.Errorf("copy did not report 1 conversation copied:\n%s", text)
			}
		})
	}
}

// hasLine reports whether some line consists of exactly these fields (tabwriter spacing varies).
func hasLine(text string, fields ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}
