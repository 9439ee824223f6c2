package bot

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
)

// TestFormDialogWrittenWithTheCompletion: a form handed out as an invoke's answer (request.open by
// Action.Execute) costs the turn one write: its dialog is written with the completion, and the form can be
// submitted afterwards. A form sent through the Connector during the turn (Action.Submit, a typed request) has
// its dialog written before the card is sent, and so does one of an activity without id (no completion).
func TestFormDialogWrittenWithTheCompletion(t *testing.T) {
	open := map[string]any{cards.KeyPackageID: flPkgTeam}
	for _, tc := range []struct {
		name       string
		run        func(e *flEnv) string // returns the form card
		wantWrites []string
	}{
		{"Action.Execute: one write", func(e *flEnv) string {
			_, resp := e.execute(flRita, "Rita Requester", "list-1", cards.VerbRequestOpen, open)
			return respCard(e.t, resp)
		}, []string{"complete turn"}},
		{"Action.Submit: the dialog before the card is sent", func(e *flEnv) string {
			act := e.activity(flRita, "Rita Requester", "message")
			act.Value = map[string]any{"verb": cards.VerbRequestOpen, cards.KeyPackageID: flPkgTeam}
			return e.lastSent(act)
		}, []string{"put dialog", "complete turn"}},
		{"typed request: the dialog before the card is sent", func(e *flEnv) string {
			act := e.activity(flRita, "Rita Requester", "message")
			act.Text = "request Falcon Team Member"
			return e.lastSent(act)
		}, []string{"put dialog", "complete turn"}},
		{"invoke without activity id: written at once", func(e *flEnv) string {
			act := e.activity(flRita, "Rita Requester", "invoke")
			act.ID, act.Name = "", "adaptiveCard/action"
			act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbRequestOpen, "data": open}}
			resp, err := e.bot.OnActivity(context.Background(), act)
			if err != nil {
				e.t.Fatal(err)
			}
			return respCard(e.t, resp)
		}, []string{"put dialog"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, w := newCountedEnv(t)
			e.message(flRita, "Rita Requester", "help") // the first contact stores the conversation reference
			w.take()
			card := tc.run(e)
			if got := w.take(); !slices.Equal(got, tc.wantWrites) {
				t.Errorf("writes %q, want %q", got, tc.wantWrites)
			}
			formID := formIDIn(card)
			if formID == "" {
				t.Fatalf("answer is not a request form: %s", card)
			}
			var fd formDialog
			if err := e.store.Dialog(context.Background(), dialogFormPrefx+formID, &fd); err != nil || fd.UserID != flRita || fd.PackageID != flPkgTeam {
				t.Fatalf("stored form %+v, %v", fd, err)
			}
			_, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, map[string]any{cards.KeyFormID: formID})
			if c := respCard(t, resp); !strings.Contains(c, "Pending approval") {
				t.Fatalf("submit of the form: %s", c)
			}
		})
	}
}

// lastSent delivers act and returns the text of the last card the bot sent during it.
func (e *flEnv) lastSent(act *schema.Activity) string {
	e.t.Helper()
	from := len(e.conn.all())
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatal(err)
	}
	sent := e.conn.all()[from:]
	if len(sent) == 0 {
		e.t.Fatal("nothing sent")
	}
	return sent[len(sent)-1].text()
}

// TestTurnDialogWaitsForTheCompletion: a dialog the turn writes with its completion (the last one given under
// a key wins) leaves the stored one as it is until the completion. No turn reads back a dialog it gives: a form
// is opened by one activity and submitted by another.
func TestTurnDialogWaitsForTheCompletion(t *testing.T) {
	e := newFlEnv(t)
	ctx := context.Background()
	if err := e.store.PutDialog(ctx, "form:given", formDialog{PackageID: "stored"}); err != nil {
		t.Fatal(err)
	}
	tr := e.bot.newTurn(ctx, e.activity(flRita, "Rita Requester", "invoke"))
	tr.writes = &turnWrites{}
	for _, v := range []string{"first", "second"} { // the last one given wins
		if err := e.bot.putAnswerDialog(ctx, tr, true, "form:given", formDialog{PackageID: v}); err != nil {
			t.Fatal(err)
		}
	}
	var fd formDialog
	if err := e.store.Dialog(ctx, "form:given", &fd); err != nil || fd.PackageID != "stored" {
		t.Errorf("stored dialog before the completion = %+v, %v; want it unchanged", fd, err)
	}
	if d := tr.writes.dialogs(); len(d) != 1 || d[0].Key != "form:given" || !strings.Contains(string(d[0].Value), `"second"`) {
		t.Errorf("dialogs to write = %+v, want the one key with the last value", d)
	}
}
