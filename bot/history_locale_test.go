package bot

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

// TestHistoryInTheReadersLanguage: the lifecycle core stores a request's history as message ids with data;
// the requester's status card and news render it in the requester's language, the same record reads in
// another reader's language, and a line an older build stored as English text still shows as it was.
func TestHistoryInTheReadersLanguage(t *testing.T) {
	e := newFlEnv(t)
	ctx := context.Background()
	reqID := e.submitProd()
	e.sayIn(flRita, "Rita", "de-DE", "help")
	n := e.conn.count()
	_, resp := e.execute(flAaron, "Aaron Approver", "card-aaron", cards.VerbApprovalApprove,
		map[string]any{cards.KeyRequestID: reqID, cards.KeyApprovalID: reqID, cards.KeyStageID: "stage-1", cards.InputJustification: "fine"})
	if c := respCard(t, resp); !strings.Contains(c, "You approved") {
		t.Fatalf("stage 1: %s", c)
	}
	e.drain()
	e.poll()

	var ritaSaw []string
	for _, s := range e.conn.since(n) {
		if s.Conversation == "chat-"+flRita || s.Conversation == "conv-"+flRita {
			ritaSaw = append(ritaSaw, s.text())
		}
	}
	all := strings.Join(ritaSaw, "\n")
	for _, want := range []string{
		"Stufe 1 von Aaron Approver genehmigt",                       // the decision's history line
		"Stufe 2 von 2: wartet auf Isaiah Langer oder Lynne Robbins", // the next stage, names as a German list
		"Anfrage eingereicht",                                        // the first line, stored when the request was filed
		"Stufe 1 Ihrer Anfrage für Falcon Production Access wurde genehmigt von Aaron Approver; jetzt wartet sie auf Isaiah Langer oder Lynne Robbins.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Rita (de-DE) did not see %q in:\n%s", want, all)
		}
	}
	for _, english := range []string{"Stage 1 approved", "waiting for", "Request submitted", " or Lynne"} {
		if strings.Contains(all, english) {
			t.Errorf("Rita (de-DE) saw English %q in:\n%s", english, all)
		}
	}

	tr, err := e.bot.core.Get(ctx, reqID)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tr.Timeline {
		if ev.Text != "" || ev.Msg == "" {
			t.Errorf("the core stored a ready-made line: %+v", ev)
		}
	}
	// Lists of approvers elsewhere are joined in the reader's language too: Rita's requests, Aaron's decided card.
	if got, _ := e.sayIn(flRita, "Rita", "de-DE", "status"); !strings.Contains(got, "Stufe 2 von 2, wartet auf Isaiah Langer oder Lynne Robbins") {
		t.Errorf("Rita's requests (de-DE) lack the German list of approvers:\n%s", got)
	}
	de := i18n.For("de")
	if txt, _ := cardText(t, cards.ApprovalDecided(de, e.bot.decidedView(de, tr, 1, flAaron))); !strings.Contains(txt, "Isaiah Langer oder Lynne Robbins") {
		t.Errorf("Aaron's decided card (de) lacks the German list of approvers:\n%s", txt)
	}
	// The same record for a French reader; a line of an older build first.
	tr.Timeline = append([]lifecycle.Event{{At: tr.CreatedAt, Text: "Imported from an older build"}}, tr.Timeline...)
	fr := i18n.For("fr-FR")
	txt, _ := cardText(t, cards.RequestStatus(fr, e.bot.statusView(ctx, fr, tr)))
	for _, want := range []string{"Imported from an older build", "Demande envoyée", "Étape 1 approuvée par Aaron Approver",
		"Étape 2 sur 2 : en attente de Isaiah Langer ou Lynne Robbins"} {
		if !strings.Contains(txt, want) {
			t.Errorf("French status card lacks %q:\n%s", want, txt)
		}
	}
}

// TestStoredNoticesInTheRecipientsLanguage: a notice the core queued (id, values, people, a stored reason)
// and the note of an approval card are said in each recipient's language; an item queued by an older build
// with only English text is sent as it was.
func TestStoredNoticesInTheRecipientsLanguage(t *testing.T) {
	e := newFlEnv(t)
	ctx := context.Background()
	e.sayIn(flRita, "Rita", "de-DE", "help")
	e.sayIn(flAaron, "Aaron", "fr-FR", "help")
	expired := lifecycle.Say("reason.expired", lifecycle.DataDuration, "168h0m0s")
	stopped := func(user string) notifyJob {
		return notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: user,
			Message: lifecycle.Say("notice.brokered.stopped", "Package", "Falcon Partner Collaboration"), Reason: &expired}}
	}
	linked := lifecycle.Say("reason.assignmentEnded", lifecycle.DataState, "canceled", "Org", "[Contoso](https://evil.example)")
	ended := func(user string) notifyJob {
		return notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: user,
			Message: lifecycle.Say("notice.brokered.stopped", "Package", "Falcon Partner Collaboration"), Reason: &linked}}
	}
	escalated := func(user string) notifyJob {
		return notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: user,
			Message: lifecycle.Message{Msg: "notice.request.escalated", Data: map[string]string{"Package": "Falcon Production Access"},
				Names: []string{"Megan Bowen", "Patti Fernandez"}}}}
	}
	cases := []struct {
		name string
		job  notifyJob
		want string
	}{
		{"English, a stored reason", stopped(flMegan),
			"Your request for Falcon Partner Collaboration was stopped: The request expired: nobody decided within 7 days."},
		{"German, a stored reason", stopped(flRita),
			"Ihre Anfrage für Falcon Partner Collaboration wurde angehalten: Die Anfrage ist abgelaufen: niemand hat innerhalb der Frist (7 Tage) entschieden."},
		{"French, a stored reason", stopped(flAaron),
			"Votre demande pour Falcon Partner Collaboration a été arrêtée : La demande a expiré : personne n'a décidé dans un délai de 7 jours."},
		{"a stored reason's values cleaned once", ended(flMegan),
			`Your request for Falcon Partner Collaboration was stopped: \[Contoso\](https://evil.example) ended the assignment (Canceled).`},
		{"German, people", escalated(flRita), "Ihre Anfrage für Falcon Production Access wurde an Megan Bowen oder Patti Fernandez eskaliert."},
		{"French, people", escalated(flAaron), "Votre demande pour Falcon Production Access a été transmise à Megan Bowen ou Patti Fernandez."},
		{"German, a duration with its plural", notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: flRita,
			Message: lifecycle.Say("notice.request.onlyApproverNobodyDenied", "Package", "Falcon Team Member", lifecycle.DataDuration, "24h0m0s")}},
			"Sie sind die einzige genehmigende Person Ihrer Anfrage für Falcon Team Member, und niemand kann die eigene Anfrage genehmigen. " +
				"Die Richtlinie nennt keine Ersatz- oder Eskalationsgenehmigenden, daher kann niemand darüber entscheiden: Brechen Sie sie ab und " +
				"bitten Sie die Verantwortlichen des Pakets oder eine Identity-Governance-Administration, eine weitere genehmigende Person einzutragen. " +
				"Sonst wird sie nach Ablauf der Frist (1 Tag) automatisch abgelehnt."},
		{"English, a duration with its plural", notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: flMegan,
			Message: lifecycle.Say("notice.request.onlyApproverNobodyDenied", "Package", "Falcon Team Member", lifecycle.DataDuration, "336h0m0s")}},
			"You are the only approver of your request for Falcon Team Member, and nobody can approve their own request. The policy names no " +
				"fallback or escalation approver, so nobody can act on it: cancel it, and ask the package's owner or an Identity Governance " +
				"administrator to add another approver. Otherwise it is denied automatically after 14 days."},
		{"an item of an older build", notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: flRita, Text: "Your request for X was denied by Aaron."}},
			"Your request for X was denied by Aaron."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.bot.noticeText(ctx, tc.job); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestApprovalNoteInTheApproversLanguage: the note the core puts on an approval card (a reminder) is written
// in the approver's language; a job of an older build keeps its English note.
func TestApprovalNoteInTheApproversLanguage(t *testing.T) {
	e := newFlEnv(t)
	ctx := context.Background()
	reqID := e.submitProd()
	e.sayIn(flAaron, "Aaron", "fr-FR", "help")
	cases := []struct {
		name string
		job  approvalCardJob
		want string
	}{
		{"stored message", approvalCardJob{RequestID: reqID, Stage: 1, Approver: lifecycle.Person{ID: flAaron, Name: "Aaron Approver"},
			NoteMsg: lifecycle.Say("note.reminder", lifecycle.DataDuration, "26h0m0s")},
			"Rappel : cette demande attend votre décision depuis 1 jour 2 heures."},
		{"older build", approvalCardJob{RequestID: reqID, Stage: 1, Approver: lifecycle.Person{ID: flAaron, Name: "Aaron Approver"},
			Note: "Reminder: this request has been waiting for your decision for 26 hours."},
			"Reminder: this request has been waiting for your decision for 26 hours."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := e.conn.count()
			if _, err := e.store.Enqueue(ctx, OutboxApprovalCard, tc.job, time.Time{}); err != nil {
				t.Fatal(err)
			}
			e.drain()
			var got []string
			for _, s := range e.conn.since(n) {
				if s.Conversation == "chat-"+flAaron || s.Conversation == "conv-"+flAaron {
					got = append(got, s.text())
				}
			}
			if len(got) != 1 || !strings.Contains(got[0], tc.want) || !strings.Contains(got[0], `"lang":"fr"`) {
				t.Errorf("card to Aaron (fr-FR) lacks %q: %v", tc.want, got)
			}
		})
	}
}
