package cards

import (
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// TestEventText renders stored history lines (message ids with data, and the English text of records from
// older builds) in each shipped language.
func TestEventText(t *testing.T) {
	when := t0.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	cases := []struct {
		name string
		ev   EventView
		want map[string]string // language → line
	}{
		{"old record: its English text as stored, cleaned", EventView{Text: "Stage 1 approved by Aaron\u202e"},
			map[string]string{"en": "Stage 1 approved by Aaron", "de": "Stage 1 approved by Aaron", "fr": "Stage 1 approved by Aaron"}},
		{"submitted", EventView{Msg: "event.submitted"},
			map[string]string{"en": "Request submitted", "de": "Anfrage eingereicht", "fr": "Demande envoyée"}},
		{"stage approved by a person", EventView{Msg: "event.stageApproved", Data: map[string]string{"Stage": "1", "By": "Aaron Approver"}},
			map[string]string{"en": "Stage 1 approved by Aaron Approver", "de": "Stufe 1 von Aaron Approver genehmigt",
				"fr": "Étape 1 approuvée par Aaron Approver"}},
		{"denied with no name", EventView{Msg: "event.denied", Data: map[string]string{"By": ""}},
			map[string]string{"en": "Denied", "de": "Abgelehnt", "fr": "Refusée"}},
		{"waiting for several approvers", EventView{Msg: "event.stageWaiting", Data: map[string]string{"Stage": "2", "Stages": "3"},
			Names: []string{"Isaiah Langer", "Lynne Robbins", "Megan Bowen"}},
			map[string]string{"en": "Stage 2 of 3: waiting for Isaiah Langer, Lynne Robbins or Megan Bowen",
				"de": "Stufe 2 von 3: wartet auf Isaiah Langer, Lynne Robbins oder Megan Bowen",
				"fr": "Étape 2 sur 3 : en attente de Isaiah Langer, Lynne Robbins ou Megan Bowen"}},
		{"a state by its label", EventView{Msg: "event.state", Data: map[string]string{"State": "partiallyDelivered"}},
			map[string]string{"en": "Partially delivered", "de": "Teilweise bereitgestellt", "fr": "Partiellement attribuée"}},
		{"a state Graph added later", EventView{Msg: "event.state", Data: map[string]string{"State": "awaitingCallback"}},
			map[string]string{"en": "Unknown (awaiting callback)", "de": "Unbekannt (awaiting callback)", "fr": "Inconnu (awaiting callback)"}},
		{"organization missing", EventView{Msg: "event.deliveredGuest", Data: map[string]string{"Org": ""}},
			map[string]string{"en": "Delivered: the organization added you as a guest",
				"de": "Bereitgestellt: die Organisation hat Sie als Gast hinzugefügt",
				"fr": "Attribuée : l'organisation vous a ajouté comme invité"}},
		{"a date in the reader's format", EventView{Msg: "event.guestEnding", Data: map[string]string{"When": when}},
			map[string]string{"en": "Told you that your access ends {{DATE(2026-12-26T09:15:00Z, SHORT)}} {{TIME(2026-12-26T09:15:00Z)}}",
				"de": "Hinweis gesendet: Ihr Zugriff endet am {{DATE(2026-12-26T09:15:00Z, SHORT)}} {{TIME(2026-12-26T09:15:00Z)}}",
				"fr": "Avis envoyé : votre accès prend fin le {{DATE(2026-12-26T09:15:00Z, SHORT)}} {{TIME(2026-12-26T09:15:00Z)}}"}},
		{"values are data: no card functions, no links, no spoofing", EventView{Msg: "event.approved",
			Data: map[string]string{"By": "Eve {{DATE(2030-01-01T00:00:00Z)}} [click](https://evil.example)\u200b"}},
			map[string]string{"en": `Approved by Eve { {DATE(2030-01-01T00:00:00Z)}} \[click\](https://evil.example)`,
				"de": `Genehmigt von Eve { {DATE(2030-01-01T00:00:00Z)}} \[click\](https://evil.example)`,
				"fr": `Approuvée par Eve { {DATE(2030-01-01T00:00:00Z)}} \[click\](https://evil.example)`}},
		{"an id no catalog has falls back to its text", EventView{Msg: "event.fromTheFuture", Text: "Something new happened"},
			map[string]string{"en": "Something new happened", "de": "Something new happened", "fr": "Something new happened"}},
	}
	for _, tc := range cases {
		for _, lang := range i18n.Languages {
			t.Run(tc.name+"/"+lang, func(t *testing.T) {
				if got := eventText(i18n.For(lang), tc.ev); got != tc.want[lang] {
					t.Errorf("got  %q\nwant %q", got, tc.want[lang])
				}
			})
		}
	}
}

// TestPhrase renders the stored reasons and notes other views show (plain text: a date is written out, a
// duration in words).
func TestPhrase(t *testing.T) {
	cases := []struct {
		name  string
		id    string
		data  map[string]string
		names []string
		want  map[string]string
		ok    bool
	}{
		{"a duration in words", "note.reminder", map[string]string{"Duration": "24h0m0s"}, nil,
			map[string]string{"en": "Reminder: this request has been waiting for your decision for 1 day.",
				"de": "Erinnerung: Diese Anfrage wartet auf Ihre Entscheidung (Wartezeit: 1 Tag).",
				"fr": "Rappel : cette demande attend votre décision depuis 1 jour."}, true},
		{"names and a duration", "note.escalated", map[string]string{"Duration": "72h0m0s"}, []string{"Aaron Approver"},
			map[string]string{"en": "Escalated to you: Aaron Approver did not decide within 3 days.",
				"de": "An Sie eskaliert: Aaron Approver – keine Entscheidung innerhalb der Frist (3 Tage).",
				"fr": "Escaladée vers vous : pas de décision dans un délai de 3 jours (approbateurs sollicités : Aaron Approver)."}, true},
		{"a state inside a reason", "reason.assignmentEnded", map[string]string{"State": "canceled", "Org": "Contoso"}, nil,
			map[string]string{"en": "Contoso ended the assignment (Canceled).", "de": "Contoso hat die Zuweisung beendet (Zurückgezogen).",
				"fr": "Contoso a mis fin à l'attribution (Annulée)."}, true},
		{"no id", "", nil, nil, map[string]string{"en": "", "de": "", "fr": ""}, false},
		{"an unknown id", "reason.fromTheFuture", nil, nil, map[string]string{"en": "", "de": "", "fr": ""}, false},
	}
	for _, tc := range cases {
		for _, lang := range i18n.Languages {
			t.Run(tc.name+"/"+lang, func(t *testing.T) {
				got, ok := Phrase(i18n.For(lang), MessageView{ID: tc.id, Data: tc.data, Names: tc.names})
				if got != tc.want[lang] || ok != tc.ok {
					t.Errorf("got %q, %v\nwant %q, %v", got, ok, tc.want[lang], tc.ok)
				}
				if strings.Contains(got, "{{") {
					t.Errorf("plain text holds a card function: %q", got)
				}
			})
		}
	}
}

// TestPhraseNested: a notice quoting a stored reason says the reason in the reader's language, its values
// cleaned once (a defused link keeps one escape, not two); a reason no catalog knows leaves the notice's own
// value of that name (an older build's English reason) in its place.
func TestPhraseNested(t *testing.T) {
	ended := MessageView{ID: "reason.assignmentEnded", Data: map[string]string{"State": "canceled", "Org": "[Contoso](https://evil.example)"}}
	cases := []struct {
		name string
		m    MessageView
		want map[string]string
	}{
		{"a nested reason, cleaned once", MessageView{ID: "notice.brokered.stopped", Data: map[string]string{"Package": "Falcon"},
			Nested: map[string]MessageView{"Reason": ended}},
			map[string]string{"en": `Your request for Falcon was stopped: \[Contoso\](https://evil.example) ended the assignment (Canceled).`,
				"de": `Ihre Anfrage für Falcon wurde angehalten: \[Contoso\](https://evil.example) hat die Zuweisung beendet (Zurückgezogen).`,
				"fr": `Votre demande pour Falcon a été arrêtée : \[Contoso\](https://evil.example) a mis fin à l'attribution (Annulée).`}},
		{"an unknown nested id: the value of that name", MessageView{ID: "notice.brokered.stopped",
			Data:   map[string]string{"Package": "Falcon", "Reason": "It ran out."},
			Nested: map[string]MessageView{"Reason": {ID: "reason.fromTheFuture"}}},
			map[string]string{"en": "Your request for Falcon was stopped: It ran out.",
				"de": "Ihre Anfrage für Falcon wurde angehalten: It ran out.",
				"fr": "Votre demande pour Falcon a été arrêtée : It ran out."}},
	}
	for _, tc := range cases {
		for _, lang := range i18n.Languages {
			t.Run(tc.name+"/"+lang, func(t *testing.T) {
				got, ok := Phrase(i18n.For(lang), tc.m)
				if got != tc.want[lang] || !ok {
					t.Errorf("got %q, %v\nwant %q, true", got, ok, tc.want[lang])
				}
			})
		}
	}
}
