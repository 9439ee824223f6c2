package bot

import (
	"context"
	"testing"

	"github.com/accessbot/accessbot/internal/store"
)

// TestAuditInTheAdminsLanguage: /audit's title, columns, action labels, modes, outcome words and the refused
// line are in the admin's language; admin command words stay English; names and typed text are shown as
// recorded; an action or outcome no catalog names is shown as its code.
func TestAuditInTheAdminsLanguage(t *testing.T) {
	e := newAdmEnv(t)
	ctx := context.Background()
	e.say(admRita, "/revoke rita@contoso.example Falcon Team Member") // refused: Rita is no admin
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	for _, en := range []store.AuditEntry{
		{Action: "request.submit", Mode: store.ModeDelegated, ActorID: admUserID(1), ActorName: "Rita Requester",
			SubjectID: admUserID(1), SubjectName: "Rita Requester", Outcome: "submitted"},
		{Action: "approval.timeout", Mode: store.ModeBrokered, SubjectID: admUserID(1), SubjectName: "Rita Requester", Outcome: "denied"},
		{Action: "future.thing", Mode: store.ModeAdmin, ActorName: "Rita Requester", SubjectID: admUserID(1), Outcome: "frobnicated"},
	} {
		if _, err := e.st.AppendAudit(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		locale  string
		want    []string
		notWant []string
	}{
		{"de-DE", []string{"Audit-Protokoll", "Einträge über oder von Rita Requester", "Wann", "Ergebnis",
			"\nAnfrage eingereicht (delegiert)\n", "\neingereicht\n", "\nohne Entscheidung abgelaufen (vermittelt)\n", "\nabgelehnt\n",
			"\nrevoke\n", "Bestätigung angefordert", "abgelehnt: /revoke", "ist kein AccessBot-Admin; nichts wurde geändert",
			"\nfuture.thing\n", "\nfrobnicated\n"},
			[]string{"Audit log", "request filed", "delegated", "confirmation requested", "not an AccessBot admin"}},
		{"fr-FR", []string{"Journal d'audit", "Quand", "Résultat", "\ndemande envoyée (délégué)\n", "\nenvoyée\n",
			"\nexpirée sans décision (intermédiaire)\n", "\nrevoke\n", "confirmation demandée", "refusé : /revoke",
			"n'est pas administrateur d'AccessBot"},
			[]string{"Audit log", "request filed", "confirmation requested"}},
		{"en-US", []string{"Audit log", "\nrequest filed (delegated)\n", "\nexpired without a decision (brokered)\n",
			"refused /revoke", "is not an AccessBot admin; nothing was changed"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.locale, func(t *testing.T) {
			got := e.sayIn(admAdele, tc.locale, "/audit rita@contoso.example")
			admWantAll(t, tc.locale, got, tc.want...)
			admWantNone(t, tc.locale, got, tc.notWant...)
		})
	}
}
