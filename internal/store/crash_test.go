package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

const (
	crashChildEnv  = "ACCESSBOT_STORE_CRASH_CHILD"
	crashStartEnv  = "ACCESSBOT_STORE_CRASH_START"
	acksBeforeKill = 150
	crashRounds    = 3
)

// TestMain turns the test binary into the crash-test writer when crashChildEnv is set.
func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// crashChild writes forever, printing one line per acknowledged (returned) write, until it is killed.
func crashChild(path string) int {
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad start:", err)
		return 2
	}
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		return 2
	}
	ctx := context.Background()
	// Concurrent turns (claim, then completion with the user's reference) share commits (group commit): every
	// acknowledged (answered) turn must survive.
	for g := range 4 {
		go func() {
			for j := 0; ; j++ {
				key := fmt.Sprintf("msteams|conv|act-%d-%d-%d", start, g, j)
				c, err := s.ClaimActivity(ctx, key, time.Minute)
				if err != nil || !c.Won {
					fmt.Fprintln(os.Stderr, "claim:", c, err)
					os.Exit(2)
				}
				ref := validRef()
				ref.AADObjectID = fmt.Sprintf("turn-%d-%d", g, j%16)
				w := TurnWrites{Ref: &ref}
				if j%3 == 0 { // a form handed out in the answer: its dialog is written with the completion
					w.Dialogs = []DialogWrite{{Key: "form|" + key, Value: json.RawMessage(`{"turn":"` + key + `"}`)}}
				}
				if err := s.CompleteTurn(ctx, key, c.Token, []byte(`{"status":200}`), w); err != nil {
					fmt.Fprintln(os.Stderr, "complete:", err)
					os.Exit(2)
				}
				fmt.Printf("claim %s\n", key)
			}
		}()
	}
	for i := start; ; i++ {
		if i%2 == 0 {
			seq, err := s.AppendAudit(ctx, AuditEntry{Action: "crash.test", Mode: ModeSystem,
				Details: map[string]string{"i": strconv.Itoa(i)}})
			if err != nil {
				fmt.Fprintln(os.Stderr, "append:", err)
				return 2
			}
			fmt.Printf("audit %d %d\n", seq, i)
			continue
		}
		ref := validRef()
		ref.AADObjectID = fmt.Sprintf("user-%08d", i)
		ref.ConversationID = fmt.Sprintf("conv-%d", i)
		if err := s.PutConversation(ctx, ref); err != nil {
			fmt.Fprintln(os.Stderr, "put:", err)
			return 2
		}
		fmt.Printf("conv %d\n", i)
	}
}

// TestCrashKeepsAcknowledgedWrites kills a writer process with SIGKILL mid-stream, several times over the same
// file, and checks that every write it acknowledged is present and the file is consistent.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	auditAcks := map[uint64]int{} // seq → i
	var convAcks []int
	var claimAcks []string

	for round := range crashRounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashStartEnv+"="+strconv.Itoa(round*1_000_000))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(out)
		acks, killed := 0, false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				if err != io.EOF {
					t.Fatalf("round %d: read child output: %v", round, err)
				}
				break // a partial line was never acknowledged
			}
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "audit":
				seq, err1 := strconv.ParseUint(f[1], 10, 64)
				i, err2 := strconv.Atoi(f[2])
				if err1 != nil || err2 != nil {
					t.Fatalf("round %d: bad ack %q", round, line)
				}
				if _, dup := auditAcks[seq]; dup {
					t.Fatalf("round %d: audit seq %d acknowledged twice", round, seq)
				}
				auditAcks[seq] = i
			case len(f) == 2 && f[0] == "conv":
				i, err := strconv.Atoi(f[1])
				if err != nil {
					t.Fatalf("round %d: bad ack %q", round, line)
				}
				convAcks = append(convAcks, i)
			case len(f) == 2 && f[0] == "claim":
				claimAcks = append(claimAcks, f[1])
			default:
				t.Fatalf("round %d: unexpected child output %q", round, line)
			}
			acks++
			if acks == acksBeforeKill && !killed {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatalf("kill child: %v", err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child exited after %d acks before being killed: %v\n%s", round, acks, err, stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child did not die of SIGKILL: %v\n%s", round, err, stderr.String())
		}
		verifyAfterCrash(t, round, path, auditAcks, convAcks)
		verifyClaimsAfterCrash(t, round, path, claimAcks)
	}
	if n := len(auditAcks) + len(convAcks) + len(claimAcks); n < crashRounds*acksBeforeKill || len(claimAcks) == 0 || len(convAcks) == 0 {
		t.Fatalf("only %d acks collected (%d claims, %d conversations)", n, len(claimAcks), len(convAcks))
	}
}

func verifyAfterCrash(t *testing.T, round int, path string, auditAcks map[uint64]int, convAcks []int) {
	t.Helper()
	// The file must be structurally sound.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("round %d: raw open after crash: %v", round, err)
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("round %d: consistency check: %v", round, err)
	}
	db.Close()

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after crash: %v", round, err)
	}
	defer s.Close()
	if s.fromSnap {
		t.Fatalf("round %d: the processed index was loaded from a snapshot after a crash", round)
	}
	ctx := context.Background()
	entries, err := s.Audit(ctx, AuditQuery{Limit: MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	have := map[uint64]string{}
	for _, e := range entries {
		have[e.Seq] = e.Details["i"]
	}
	for seq, i := range auditAcks {
		got, ok := have[seq]
		if !ok {
			t.Fatalf("round %d: acknowledged audit seq %d (i=%d) is missing (%d entries on disk)", round, seq, i, len(entries))
		}
		if got != strconv.Itoa(i) {
			t.Fatalf("round %d: audit seq %d holds i=%s, want %d", round, seq, got, i)
		}
	}
	for _, i := range convAcks {
		ref, err := s.Conversation(ctx, validRef().TenantID, fmt.Sprintf("user-%08d", i))
		if err != nil {
			t.Fatalf("round %d: acknowledged conversation %d: %v", round, i, err)
		}
		if ref.ConversationID != fmt.Sprintf("conv-%d", i) {
			t.Fatalf("round %d: conversation %d holds %q", round, i, ref.ConversationID)
		}
	}
}

// verifyClaimsAfterCrash checks that every acknowledged (completed) turn is on disk: a redelivery of that
// activity would not be processed again, and gets the stored answer; a turn that handed out a form has its dialog.
func verifyClaimsAfterCrash(t *testing.T, round int, path string, keys []string) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after crash: %v", round, err)
	}
	defer s.Close()
	for _, key := range keys {
		c, err := s.ClaimActivity(context.Background(), key, time.Minute)
		if err != nil || c.Won || !c.Done || string(c.Response) != `{"status":200}` {
			t.Fatalf("round %d: acknowledged claim %s was lost (claim again: %+v, %v)", round, key, c, err)
		}
		var j int
		if _, err := fmt.Sscanf(key[strings.LastIndex(key, "-")+1:], "%d", &j); err != nil || j%3 != 0 {
			continue
		}
		var form struct{ Turn string }
		if err := s.Dialog(context.Background(), "form|"+key, &form); err != nil || form.Turn != key {
			t.Fatalf("round %d: the dialog of acknowledged turn %s was lost: %+v, %v", round, key, form, err)
		}
	}
}
