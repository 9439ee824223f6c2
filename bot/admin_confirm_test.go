package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// TestAdminConfirmations confirms each destructive command and checks the one change it makes, the answer
// that replaces the card and the audit entry.
func TestAdminConfirmations(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		wantWrite string
		want      []string
		action    string
	}{
		{"disconnect", "/disconnect Fabrikam", "delete org " + admOrgFab, []string{"Disconnected Fabrikam", "can't request new access"}, "admin.disconnect.confirm"},
		{"sponsor remove", "/sponsors Fabrikam remove fiona@fabrikam.example", "remove external sponsor " + admFabUser(2) + " from " + admOrgFab,
			[]string{"Sponsor removed", "Fiona Partner is no longer an external sponsor of Fabrikam"}, "admin.sponsor.remove.confirm"},
		{"assign member", "/assign nestor@contoso.example Falcon Production Access", "adminAdd " + admPkgID(2) + " policy=" + admPolID(2) + " to " + admUserID(8),
			[]string{"Assigned Falcon Production Access", "directly, without approval"}, "admin.assign.confirm"},
		{"assign partner by mail", "/assign gus@fabrikam.example Falcon Partner", "adminAdd " + admPkgID(3) + " policy=" + admPolID(3) + " to gus@fabrikam.example org=" + admOrgFab,
			[]string{"Assigned Falcon Partner Collaboration"}, "admin.assign.confirm"},
		{"revoke", "/revoke rita@contoso.example Falcon Team Member", "adminRemove asg-rita-1", []string{"Revoked Falcon Team Member", "being removed"}, "admin.revoke.confirm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			e.say(admAdele, tc.text)
			if w := e.port.Writes(); len(w) != 0 {
				t.Fatalf("asking changed something: %q", w)
			}
			got := e.click(admAdele, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: e.lastToken()})
			admWantAll(t, "confirm answer", got, tc.want...)
			if w := e.port.Writes(); !slices.Equal(w, []string{tc.wantWrite}) {
				t.Fatalf("writes = %q, want [%q]", w, tc.wantWrite)
			}
			entries := e.audit(store.AuditQuery{})
			if len(entries) != 2 || entries[0].Action != tc.action || entries[0].Outcome != "done" || entries[0].Mode != store.ModeAdmin {
				t.Fatalf("audit = %+v, want newest %s done", entries, tc.action)
			}
		})
	}
}

// TestAdminConfirmMisuse: only the admin who asked may confirm, only once, only before expiry; cancelling
// and failures are recorded; none of the refused clicks changes anything.
func TestAdminConfirmMisuse(t *testing.T) {
	const revoke = "/revoke rita@contoso.example Falcon Team Member"
	type step struct {
		who     admPerson
		verb    string
		advance time.Duration
		// token overrides the confirm card's token when set.
		token   string
		want    string
		outcome string
	}
	tests := []struct {
		name       string
		setup      func(e *admEnv)
		steps      []step
		wantWrites int
	}{
		{name: "confirm twice", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "Revoked Falcon Team Member", outcome: "done"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "This was already done", outcome: "refused: already done"},
			{who: admAdele, verb: cards.VerbAdminCancel, want: "already done", outcome: "refused: already done"},
			// Past its validity the closed confirmation is dropped from the store: later clicks find nothing.
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminConfirmTTL, want: "already done", outcome: "refused: already done"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "I don't know this confirmation", outcome: "refused: unknown token"},
		}, wantWrites: 1},
		{name: "someone else confirms", setup: func(e *admEnv) { e.port.setMember(admLynne.id, true) }, steps: []step{
			{who: admLynne, verb: cards.VerbAdminConfirm, want: "Only Adele Vance, who ran the command, can confirm", outcome: "refused: confirmation belongs to Adele Vance"},
			{who: admRita, verb: cards.VerbAdminConfirm, want: "Only Adele Vance", outcome: "refused: confirmation belongs"},
			{who: admGusInA, verb: cards.VerbAdminConfirm, want: "Only Adele Vance", outcome: "refused: confirmation belongs"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "Revoked", outcome: "done"},
		}, wantWrites: 1},
		{name: "expired", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminConfirmTTL + time.Second, want: "This confirmation expired", outcome: "refused: expired"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "I don't know this confirmation", outcome: "refused: unknown token"},
		}},
		{name: "just before expiry works", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminConfirmTTL - time.Second, want: "Revoked", outcome: "done"},
		}, wantWrites: 1},
		{name: "cancel then confirm", steps: []step{
			{who: admAdele, verb: cards.VerbAdminCancel, want: "Nothing was changed", outcome: "cancelled"},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "This was already cancelled", outcome: "refused: already cancelled"},
		}},
		{name: "malformed and unknown tokens", steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, token: "../../etc", want: "could not be read", outcome: "refused: malformed token"},
			{who: admAdele, verb: cards.VerbAdminConfirm, token: strings.Repeat("ab", 16), want: "I don't know this confirmation", outcome: "refused: unknown token"},
		}},
		{name: "admin removed from the group before confirming", setup: nil, steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, advance: adminCacheTTL + time.Second, want: "no longer an AccessBot admin", outcome: "refused: not an admin"},
		}},
		{name: "service failure is reported and recorded", setup: func(e *admEnv) {
			e.port.failAdminRm = &entitlement.ServiceError{Op: "remove assignment", Status: 403, Kind: entitlement.ErrForbidden}
		}, steps: []step{
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "You are not allowed to do this (missing permission or role).", outcome: "failed: " + entitlement.ErrForbidden.Error()},
			{who: admAdele, verb: cards.VerbAdminConfirm, want: "This already failed", outcome: "refused: already failed"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			e.say(admAdele, revoke)
			token := e.lastToken()
			if tc.name == "admin removed from the group before confirming" {
				e.port.setMember(admAdele.id, false)
			}
			for i, s := range tc.steps {
				e.advance(s.advance)
				tok := token
				if s.token != "" {
					tok = s.token
				}
				got := e.click(s.who, s.verb, map[string]any{cards.KeyToken: tok})
				admWantAll(t, fmt.Sprintf("step %d (%s by %s)", i, s.verb, s.who.name), got, s.want)
				entries := e.audit(store.AuditQuery{Limit: 1})
				if len(entries) != 1 || !strings.HasPrefix(entries[0].Outcome, s.outcome) || entries[0].ActorID != s.who.id {
					t.Errorf("step %d: audit %+v, want outcome prefix %q by %s", i, entries, s.outcome, s.who.id)
				}
			}
			if w := e.port.Writes(); len(w) != tc.wantWrites {
				t.Errorf("writes = %q, want %d", w, tc.wantWrites)
			}
		})
	}
}

// TestAdminConfirmConcurrentClicks: two simultaneous clicks on Confirm (distinct activities) assign once.
func TestAdminConfirmConcurrentClicks(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admAdele, "/assign nestor@contoso.example Falcon Wiki Reader")
	token := e.lastToken()
	release := make(chan struct{})
	e.port.mu.Lock()
	e.port.blockAdminAdd = release
	e.port.mu.Unlock()

	const clicks = 4
	answers := make(chan string, clicks)
	var wg sync.WaitGroup
	for range clicks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			act := e.activity(admAdele, "invoke")
			act.Name = "adaptiveCard/action"
			act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbAdminConfirm,
				"data": map[string]any{cards.KeyToken: token}}}
			resp, err := e.bot.OnActivity(context.Background(), act)
			if err != nil || resp == nil {
				answers <- fmt.Sprintf("error: %v", err)
				return
			}
			raw, _ := json.Marshal(resp.Body)
			answers <- string(raw)
		}()
	}
	// The first click blocks inside AdminAdd; the others must be answered meanwhile, without a write.
	for range clicks - 1 {
		got := <-answers
		if !strings.Contains(got, "already being carried out") {
			t.Errorf("concurrent click answered %s, want 'already being carried out'", got)
		}
	}
	close(release)
	wg.Wait()
	if got := <-answers; !strings.Contains(got, "Assigned Falcon Wiki Reader") {
		t.Errorf("first click answered %s", got)
	}
	if w := e.port.Writes(); len(w) != 1 {
		t.Fatalf("writes = %q, want exactly one adminAdd", w)
	}
}

// TestAdminConfirmBySubmit: a client that sends the confirm button as Action.Submit (a message with a value)
// gets the outcome as a new card.
func TestAdminConfirmBySubmit(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	n := e.conn.count()
	act := e.activity(admAdele, "message")
	act.Value = map[string]any{cards.KeyVerb: cards.VerbAdminConfirm, cards.KeyToken: e.lastToken()}
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	sent := e.conn.since(n)
	if len(sent) != 1 {
		t.Fatalf("sent %d activities, want 1", len(sent))
	}
	admWantAll(t, "submit confirm", admActivityText(t, sent[0].Act), "Revoked Falcon Team Member")
	if w := e.port.Writes(); !slices.Equal(w, []string{"adminRemove asg-rita-1"}) {
		t.Fatalf("writes = %q", w)
	}
}

// TestAdminConfirmInterrupted: a confirmation left "running" (the bot stopped mid-change) refuses further
// clicks, and once past its validity says the change was interrupted and is dropped.
func TestAdminConfirmInterrupted(t *testing.T) {
	e := newAdmEnv(t)
	ctx := context.Background()
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	token := e.lastToken()
	var op adminPendingOp
	if err := e.st.Dialog(ctx, adminDialogKey(token), &op); err != nil {
		t.Fatal(err)
	}
	op.State = pendingRunning
	if err := e.st.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{cards.KeyToken: token}
	admWantAll(t, "while running", e.click(admAdele, cards.VerbAdminConfirm, data), "already being carried out")
	e.advance(adminConfirmTTL)
	admWantAll(t, "after expiry", e.click(admAdele, cards.VerbAdminConfirm, data), "interrupted", "/audit")
	admWantAll(t, "dropped", e.click(admAdele, cards.VerbAdminConfirm, data), "I don't know this confirmation")
	if w := e.port.Writes(); len(w) != 0 {
		t.Fatalf("writes = %q", w)
	}
}
