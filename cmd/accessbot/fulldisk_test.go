package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/teamsfake"
)

// TestServeFullDisk runs the bot on a small tmpfs that fills up: /readyz turns not-ready, and an activity
// delivered while the disk is full and again (Teams retries) after space returns is answered once. It
// mounts a tmpfs (root); without that permission it skips.
func TestServeFullDisk(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	conn := teamsfake.NewConnector(t)
	cfg := config{
		BotID: testAppID, BotPassword: testSecret, BotTenantID: testTenantID, BotType: botTypeSingleTenant, InsecureDev: true,
		OpenIDMetadataURL: "http://127.0.0.1:1/", AuthorityHost: "http://127.0.0.1:1/", GraphBaseURL: "http://127.0.0.1:1/v1.0",
		Addr: "127.0.0.1:0", DataPath: filepath.Join(dir, "accessbot.db"), LogLevel: "info", LogFormat: "text",
		ShutdownTimeout: 5 * time.Second, ReminderAfter: 24 * time.Hour,
	}
	a := startApp(t, cfg, slog.New(slog.DiscardHandler))
	base := "http://" + a.srv.Addr()
	ready := func() int {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz before the disk filled: %d", got)
	}

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for _, err = f.Write(make([]byte, 4096)); err == nil; _, err = f.Write(make([]byte, 4096)) {
	}
	_ = f.Close()
	// The state file's free pages fill up too: write ever smaller records until even small writes fail.
	for _, size := range []int{8 << 10, 1 << 10, 64} {
		var werr error
		for i := 0; i < 2000 && werr == nil; i++ {
			werr = a.store.Put(context.Background(), "filler", fmt.Sprintf("%d-%d", size, i), strings.Repeat("x", size))
		}
		if werr == nil {
			t.Fatalf("no %d-byte state write failed on a full disk", size)
		}
	}
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with a full disk: %d, want 503", got)
	}

	user := teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: "aaaaaaaa-0000-0000-0000-000000000001", TenantID: testTenantID, ConversationID: "a:rita-1"}
	cl := &teamsfake.Client{Endpoint: base + "/api/messages", ServiceURL: conn.URL(), BotID: "28:" + testAppID, BotName: "AccessBot"}
	act := map[string]any{
		"type": "message", "id": "full-1", "channelId": "msteams", "serviceUrl": conn.URL(), "text": "help",
		"from":         map[string]any{"id": user.ID, "name": user.Name, "aadObjectId": user.AADObjectID},
		"recipient":    map[string]any{"id": "28:" + testAppID},
		"conversation": map[string]any{"id": user.ConversationID, "conversationType": "personal", "tenantId": testTenantID},
	}
	first, err := cl.Post(context.Background(), act) // answered or refused: either is fine
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("delivery on the full disk: status %d, answers so far %d", first.Status, len(conn.Activities()))
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "/readyz after space returned", func() bool { return ready() == http.StatusOK })
	for i := range 2 { // Teams redelivers
		r, err := cl.Post(context.Background(), act)
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("redelivery %d: status %d, %v", i+1, r.Status, err)
		}
	}
	conn.WaitFor(t, 0, 10*time.Second, "the answer", func(a teamsfake.Activity) bool { return a.ConversationID == user.ConversationID })
	if n := len(conn.Activities()); n != 1 {
		t.Fatalf("the activity was answered %d times, want once", n)
	}
}
