package storetest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// dialogOf returns the JSON of the dialog under key ("" when there is none; another error fails t).
func dialogOf(t *testing.T, s store.Backend, key string) string {
	t.Helper()
	var raw json.RawMessage
	err := s.Dialog(ctxT(t), key, &raw)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("Dialog(%s): %v", key, err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("Dialog(%s) = %s: %v", key, raw, err)
	}
	norm, _ := json.Marshal(v) // jsonb reorders and respaces
	return string(norm)
}

// dw is a DialogWrite of the JSON text v.
func dw(key, v string) store.DialogWrite {
	return store.DialogWrite{Key: key, Value: json.RawMessage(v)}
}

// testCompleteTurnDialogs: the dialogs a turn gives CompleteTurn are written with its completion (and age
// from then, see PruneDialogs), together with its conversation reference; bad ones are refused with nothing
// written, not even the completion.
func testCompleteTurnDialogs(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	ref := store.ConversationRef{TenantID: "t1", AADObjectID: "u1", ConversationID: "a:1", ServiceURL: "https://smba.example/"}
	for i, tc := range []struct {
		name    string
		w       store.TurnWrites
		wantErr error
		want    map[string]string // dialogs stored afterwards
	}{
		{"dialogs and a reference", store.TurnWrites{Ref: &ref, Dialogs: []store.DialogWrite{dw("form:a", `{"step":1}`), dw("form:b", `{"step":2}`)}},
			nil, map[string]string{"form:a": `{"step":1}`, "form:b": `{"step":2}`}},
		{"a dialog replaces the stored one", store.TurnWrites{Dialogs: []store.DialogWrite{dw("form:a", `{"step":3}`)}},
			nil, map[string]string{"form:a": `{"step":3}`, "form:b": `{"step":2}`}},
		{"an empty key", store.TurnWrites{Dialogs: []store.DialogWrite{dw("form:c", `{}`), dw("", `{}`)}}, store.ErrInvalid, map[string]string{"form:c": ""}},
		{"a key twice", store.TurnWrites{Dialogs: []store.DialogWrite{dw("form:c", `{}`), dw("form:c", `{}`)}}, store.ErrInvalid, map[string]string{"form:c": ""}},
		{"a value not JSON", store.TurnWrites{Dialogs: []store.DialogWrite{dw("form:c", `{"step":`)}}, store.ErrInvalid, map[string]string{"form:c": ""}},
		{"no value", store.TurnWrites{Dialogs: []store.DialogWrite{{Key: "form:c"}}}, store.ErrInvalid, map[string]string{"form:c": ""}},
		{"a bad reference with good dialogs", store.TurnWrites{Ref: &store.ConversationRef{TenantID: "t1"}, Dialogs: []store.DialogWrite{dw("form:c", `{}`)}},
			store.ErrInvalid, map[string]string{"form:c": ""}},
	} {
		key := "dlg-" + string(rune('a'+i))
		c, err := s.ClaimActivity(ctx, key, time.Minute)
		if err != nil || !c.Won {
			t.Fatalf("%s: claim = %+v, %v", tc.name, c, err)
		}
		err = s.CompleteTurn(ctx, key, c.Token, []byte(`{"status":200}`), tc.w)
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: CompleteTurn = %v, want %v", tc.name, err, tc.wantErr)
		}
		if _, done, err := s.Processed(ctx, key); err != nil || done != (tc.wantErr == nil) {
			t.Fatalf("%s: completed = %v, %v; want %v", tc.name, done, err, tc.wantErr == nil)
		}
		for k, want := range tc.want {
			if got := dialogOf(t, s, k); got != want {
				t.Errorf("%s: dialog %s = %q, want %q", tc.name, k, got, want)
			}
		}
	}
	if got, err := s.Conversation(ctx, "t1", "u1"); err != nil || got.ConversationID != "a:1" {
		t.Errorf("reference written with the dialogs = %+v, %v", got, err)
	}
	if n, err := s.PruneDialogs(ctx, time.Hour); err != nil || n != 0 {
		t.Errorf("PruneDialogs(1h) of fresh dialogs = %d, %v; want 0", n, err)
	}
}

// testFirstCompletionKeepsDialogs: when a turn whose claim was taken over completes after the new holder
// (the first completion wins), the stored answer stays and so do the dialogs the first completion wrote; only
// the later turn's dialogs under new keys are written (its answer went back to its own caller).
func testFirstCompletionKeepsDialogs(t *testing.T, open Factory) {
	s, ctx := open(t), ctxT(t)
	const key = "dlg-first"
	old, cur := takeOver(ctx, t, s, key)
	for _, tc := range []struct {
		name  string
		token string
		resp  string
		w     []store.DialogWrite
	}{
		{"the new holder completes first", cur.Token, `"first"`, []store.DialogWrite{dw("form:x", `{"by":"first"}`)}},
		{"the earlier holder completes later", old.Token, `"second"`, []store.DialogWrite{dw("form:x", `{"by":"second"}`), dw("form:y", `{"by":"second"}`)}},
	} {
		if err := s.CompleteTurn(ctx, key, tc.token, []byte(tc.resp), store.TurnWrites{Dialogs: tc.w}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	if resp, done, err := s.Processed(ctx, key); err != nil || !done || string(resp) != `"first"` {
		t.Fatalf("Processed = %s, %v, %v; want the first answer", resp, done, err)
	}
	for k, want := range map[string]string{"form:x": `{"by":"first"}`, "form:y": `{"by":"second"}`} {
		if got := dialogOf(t, s, k); got != want {
			t.Errorf("dialog %s = %q, want %q", k, got, want)
		}
	}
}

// Faults is a backend whose writes can be made to fail, for the failure cases of the contract (RunFaults).
type Faults struct {
	// Backend is a fresh, empty backend whose answers kept in memory are retried often (well under a second).
	Backend store.Backend
	// Break makes the backend's completions fail until Mend.
	Break func(t *testing.T)
	// Mend lets writes succeed again.
	Mend func(t *testing.T)
}

// FaultFactory opens Faults for one test and arranges its cleanup with t.Cleanup.
type FaultFactory func(t *testing.T) Faults

// RunFaults runs the failure cases of the contract against the backend open returns.
func RunFaults(t *testing.T, open FaultFactory) {
	t.Run("PendingAnswerDialogs", func(t *testing.T) { testPendingAnswerDialogs(t, open) })
	t.Run("PendingAnswerRef", func(t *testing.T) { testPendingAnswerRef(t, open) })
}

// testPendingAnswerDialogs: a completion that cannot be written keeps the answer in memory together with its
// dialogs. A redelivery replays an answer without dialogs at once, but waits (neither won nor done) while the
// answer points at a dialog not stored yet; the failed turn's release keeps the claim. Once writes succeed,
// the background retry writes the completion and its dialogs together: a redelivery then replays the answer,
// and its dialog is stored.
func testPendingAnswerDialogs(t *testing.T, open FaultFactory) {
	for _, tc := range []struct {
		name     string
		dialogs  []store.DialogWrite
		wantHeld bool
	}{
		{"an answer without dialogs replays at once", nil, false},
		{"an answer with a dialog waits for it", []store.DialogWrite{dw("form:pending", `{"step":1}`)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t)
			s, ctx := f.Backend, ctxT(t)
			const key = "pending-act"
			// A large answer, so the completion cannot fit in space freed on a full disk.
			resp := []byte(`{"status":200,"body":"` + strings.Repeat("a", 100<<10) + `"}`)
			c, err := s.ClaimActivity(ctx, key, time.Hour)
			if err != nil || !c.Won {
				t.Fatalf("claim = %+v, %v", c, err)
			}
			f.Break(t)
			if err := s.CompleteTurn(ctx, key, c.Token, resp, store.TurnWrites{Dialogs: tc.dialogs}); err == nil {
				t.Fatal("CompleteTurn succeeded while writes fail: the test proves nothing")
			}
			redelivery, err := s.ClaimActivity(ctx, key, time.Hour)
			if err != nil || redelivery.Won || redelivery.Done == tc.wantHeld {
				t.Fatalf("redelivery while the completion waits = won %v done %v, %v; want held %v", redelivery.Won, redelivery.Done, err, tc.wantHeld)
			}
			if err := s.ReleaseActivity(ctx, key, c.Token); err != nil {
				t.Fatalf("the failed turn's release: %v", err)
			}
			for _, d := range tc.dialogs {
				if got := dialogOf(t, s, d.Key); got != "" {
					t.Fatalf("dialog %s stored before its completion: %s", d.Key, got)
				}
			}
			f.Mend(t)
			eventually(t, 20*time.Second, "the answer replayed after writes returned", func() bool {
				c, err := s.ClaimActivity(ctx, key, time.Hour)
				if err != nil || c.Won {
					t.Fatalf("claim after writes returned = %+v, %v; want held or done", c, err)
				}
				return c.Done && string(c.Response) == string(resp)
			})
			for _, d := range tc.dialogs {
				if got := dialogOf(t, s, d.Key); got != string(d.Value) {
					t.Errorf("dialog %s after the completion = %q, want %s", d.Key, got, d.Value)
				}
			}
		})
	}
}
