package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/store"
)

// Months after a brokered request closed, maintenance prunes its record; a click on any of its old cards
// (the partner's status card, the approver's card) then says the request is closed and no longer kept, in
// the clicker's language, instead of an error, and changes nothing. The audit keeps the request's history.
func TestCardsOfPrunedBrokeredRequest(t *testing.T) {
	e := newPtEnv(t, true)
	key, pattiCard := e.pendingPartnerRequest(ptPatti)
	data := map[string]any{cards.KeyRequestID: key}
	if c := e.click(ptUGus, "status-1", cards.VerbRequestCancel, data); !strings.Contains(c, "Canceled") {
		t.Fatalf("cancel answer: %s", c)
	}
	e.drain(0)
	ctx := context.Background()
	if n, err := e.store.PruneRequests(ctx, store.DefaultKeepClosed); err != nil || n != 0 {
		t.Fatalf("prune right after closing = %d, %v; want 0", n, err)
	}
	e.clock.Advance(store.DefaultKeepClosed + time.Hour)
	if n, err := e.store.PruneRequests(ctx, store.DefaultKeepClosed); err != nil || n != 1 {
		t.Fatalf("prune after the retention = %d, %v; want 1", n, err)
	}
	if refs, err := e.store.Cards(ctx, key); err != nil || len(refs) != 0 {
		t.Errorf("card refs of the pruned request = %d, %v; want none", len(refs), err)
	}
	stage := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	for _, tc := range []struct {
		name, locale string
		who          ptUser
		replyTo      string
		verb         string
		data         map[string]any
		want         []string
	}{
		{"partner refreshes", "", ptUGus, "status-1", cards.VerbRequestRefresh, data, []string{"This request is closed", "no longer kept", "Nothing was changed"}},
		{"partner cancels again", "", ptUGus, "status-1", cards.VerbRequestCancel, data, []string{"This request is closed", "no longer kept"}},
		{"approver approves", "", ptUPatti, pattiCard, cards.VerbApprovalApprove, stage, []string{"This request is closed", "no longer kept"}},
		{"approver refreshes", "", ptUPatti, pattiCard, cards.VerbApprovalRefresh, stage, []string{"This request is closed"}},
		{"German approver", "de-DE", ptUPatti, pattiCard, cards.VerbApprovalDeny, stage, []string{"Diese Anfrage ist abgeschlossen", "nicht mehr aufbewahrt"}},
		{"French partner", "fr-FR", ptUGus, "status-1", cards.VerbRequestRefresh, data, []string{"Cette demande est close", "plus conservée"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			act := e.activity(tc.who, "invoke")
			act.Name, act.ReplyToID, act.Locale = "adaptiveCard/action", tc.replyTo, tc.locale
			act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": tc.verb, "data": tc.data}}
			resp, err := e.bot.OnActivity(ctx, act)
			if err != nil {
				t.Fatalf("click: %v", err)
			}
			c := respCard(t, resp)
			for _, w := range tc.want {
				if !strings.Contains(c, w) {
					t.Errorf("answer lacks %q: %s", w, c)
				}
			}
			for _, bad := range []string{"Not found", "couldn't", "Falcon Partner"} {
				if strings.Contains(c, bad) {
					t.Errorf("answer says %q: %s", bad, c)
				}
			}
		})
	}
	if _, err := e.store.GetRequest(ctx, key); err == nil {
		t.Error("a click brought the pruned record back")
	}
	if e.port.addCount() != 0 {
		t.Error("a click on a pruned request filed an assignment")
	}
	audit, err := e.store.Audit(ctx, store.AuditQuery{SubjectID: ptGus})
	if err != nil || len(audit) == 0 {
		t.Errorf("audit of the pruned request = %d entries, %v; want its history kept", len(audit), err)
	}
}
