package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/store"
)

// sayIn sends text as p with a Teams locale and returns the text of everything the bot answered.
func (e *admEnv) sayIn(p admPerson, locale, text string) string {
	e.t.Helper()
	n := e.conn.count()
	act := e.activity(p, "message")
	act.Text, act.Locale = text, locale
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("%s says %q: %v", p.name, text, err)
	}
	var out []string
	for _, a := range e.conn.since(n) {
		out = append(out, admActivityText(e.t, a.Act))
	}
	return strings.Join(out, "\n")
}

// TestBuilderAndReviewTextsInTheAdminsLanguage: the package builder's and the access reviews' admin answers, and
// admin argument errors, come from the catalogs in the admin's language (this bot has neither a builder nor
// reviews configured, so each such command answers why), and none of the English text is left in them.
func TestBuilderAndReviewTextsInTheAdminsLanguage(t *testing.T) {
	e := newAdmEnv(t)
	cases := []struct {
		locale, text string
		want         []string
		notWant      string
	}{
		{"de-DE", "/package new", []string{"Der Paket-Assistent ist nicht verfügbar", "keinen Client für die Berechtigungsverwaltung"}, "not available"},
		{"fr-FR", "/package new", []string{"L'assistant de package n'est pas disponible"}, "not available"},
		{"de-DE", "/package Falcon Team Member delete", []string{"Der Paket-Assistent ist nicht verfügbar"}, "not available"},
		{"fr-FR", "/sod", []string{"L'assistant de package n'est pas disponible"}, "not available"},
		{"de-DE", "/reviews", []string{"Zugriffsüberprüfungen", "nicht eingerichtet"}, "not set up"},
		{"fr-FR", "/review Falcon stop", []string{"Révisions d'accès", "ne sont pas configurées"}, "not set up"},
		{"en-US", "/package new", []string{"The package builder is not available"}, "Paket"},
		{"de-DE", "/orgs all", []string{"Prüfen Sie die Argumente von /orgs", `/orgs: nimmt keine Argumente, erhalten: "all"`, "Syntax: /orgs"}, "Usage"},
		{"fr-FR", "/expiring abc", []string{"Vérifiez les arguments de /expiring", "entre 1 et 365, reçu : \"abc\"", "Syntaxe : /expiring"}, "Check the"},
		{"de-DE", "/sponsors add rita@contoso.example", []string{`geben Sie die Organisation vor "add" an`}, "give the"},
		{"fr-FR", "/connect not_a_domain!", []string{`"not_a_domain!" n'est ni un nom de domaine`}, "neither"},
		{"de-DE", "/orgs", []string{"Verbundene Organisationen", "konfiguriert", "Entra-Mandant ", "Identitätsquelle"}, "Connected organizations"},
		{"fr-FR", "/connect fabrikam.example", []string{"Déjà connectée", `fabrikam.example est déjà connectée sous le nom "Fabrikam" (configurée)`, "Rien n'a été modifié", "Afficher les organisations"}, "Already"},
		{"de-DE", "/connect nowhere.example", []string{"Unbekannte Domäne", `kein Microsoft Entra-Mandant hat die Domäne "nowhere.example"`}, "Unknown"},
	}
	for _, c := range cases {
		got := e.sayIn(admAdele, c.locale, c.text)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q: answer lacks %q:\n%s", c.locale, c.text, w, got)
			}
		}
		if strings.Contains(got, c.notWant) {
			t.Errorf("%s %q: answer still has %q:\n%s", c.locale, c.text, c.notWant, got)
		}
	}
}

// TestAssignAndRevokeInTheirReadersLanguages: /assign's and /revoke's confirm cards and results are in the
// admin's language, and the notice to the person whose access changed is in that person's language (their
// stored conversation's locale); the English text stays in the job for records without a catalog id.
func TestAssignAndRevokeInTheirReadersLanguages(t *testing.T) {
	cases := []struct {
		name, adminLocale, subjectLocale, cmd string
		wantConfirm, wantDone, wantNotice     []string
	}{
		{name: "German admin revokes from a French member", adminLocale: "de-DE", subjectLocale: "fr-FR",
			cmd:         "/revoke rita@contoso.example Falcon Team Member",
			wantConfirm: []string{"Falcon Team Member von", "entziehen?", "verliert den Zugriff", "Zugewiesen bis", "Entziehen"},
			wantDone:    []string{"Falcon Team Member entzogen", "wird entfernt (Anfrage"},
			wantNotice:  []string{"Accès retiré", "Adele Vance (admin AccessBot) a retiré votre accès à Falcon Team Member.", "Mes accès"}},
		{name: "French admin assigns to a German member", adminLocale: "fr-FR", subjectLocale: "de-DE",
			cmd:         `/assign rita@contoso.example "Falcon Wiki Reader"`,
			wantConfirm: []string{"Attribuer Falcon Wiki Reader à", "Attribution directe par un admin", "Stratégie", "Contournée (attribution directe par un admin)"},
			wantDone:    []string{"Falcon Wiki Reader attribué", "sans approbation (demande"},
			wantNotice:  []string{"Zugriff gewährt", "Adele Vance (AccessBot-Admin) hat Ihnen Falcon Wiki Reader gegeben.", "Meine Anfragen"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			if err := e.st.PutConversation(context.Background(), store.ConversationRef{TenantID: admTenant, AADObjectID: admUserID(1),
				ConversationID: "chat-rita", ServiceURL: "https://smba.example/", ConversationType: "personal", Locale: tc.subjectLocale}); err != nil {
				t.Fatal(err)
			}
			admWantAll(t, "confirm", e.sayIn(admAdele, tc.adminLocale, tc.cmd), tc.wantConfirm...)
			admWantAll(t, "result", e.clickIn(admAdele, tc.adminLocale, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: e.lastToken()}), tc.wantDone...)
			sent := e.deliverNotifications()
			if len(sent) != 1 {
				t.Fatalf("sent %+v, want one notice", sent)
			}
			admWantAll(t, "notice", admActivityText(t, sent[0].Act), tc.wantNotice...)
		})
	}
}

// clickIn is click with the invoke's Teams locale (Teams sends it with every Action.Execute).
func (e *admEnv) clickIn(p admPerson, locale, verb string, data map[string]any) string {
	e.t.Helper()
	act := e.activity(p, "invoke")
	act.Name, act.Locale = "adaptiveCard/action", locale
	act.Value = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	resp, err := e.bot.OnActivity(context.Background(), act)
	if err != nil || resp == nil || resp.Body == nil {
		e.t.Fatalf("%s clicks %s: %v, %+v", p.name, verb, err, resp)
	}
	return admJSONText(e.t, resp.Body)
}

// TestConfirmationFlowInTheAdminsLanguage: /disconnect's and /sponsors' cards and answers, and the refusals of
// a confirmation already handled, are in the admin's language.
func TestConfirmationFlowInTheAdminsLanguage(t *testing.T) {
	cases := []struct {
		locale, cmd                          string
		wantAsk, wantDone, wantAgain, notAsk []string
	}{
		{locale: "de-DE", cmd: "/disconnect Fabrikam",
			wantAsk:   []string{"Verbindung zu Fabrikam trennen?", "keine verbundene Organisation mehr", "Identitätsquelle", "Trennen"},
			wantDone:  []string{"Verbindung zu Fabrikam getrennt"},
			wantAgain: []string{"Bereits erledigt", "Das wurde bereits ausgeführt"}, notAsk: []string{"Disconnect Fabrikam?"}},
		{locale: "fr-FR", cmd: "/sponsors Fabrikam remove Patti",
			wantAsk:   []string{"Retirer Patti Fernandez des sponsors de Fabrikam ?", "Retirer le sponsor"},
			wantDone:  []string{"Sponsor retiré", "n'est plus sponsor de Fabrikam"},
			wantAgain: []string{"Déjà traité", "C'était déjà fait"}, notAsk: []string{"Remove sponsor"}},
	}
	for _, tc := range cases {
		t.Run(tc.locale+" "+tc.cmd, func(t *testing.T) {
			e := newAdmEnv(t)
			ask := e.sayIn(admAdele, tc.locale, tc.cmd)
			admWantAll(t, "ask", ask, tc.wantAsk...)
			for _, w := range tc.notAsk {
				if strings.Contains(ask, w) {
					t.Errorf("ask still has %q:\n%s", w, ask)
				}
			}
			tok := e.lastToken()
			admWantAll(t, "done", e.clickIn(admAdele, tc.locale, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: tok}), tc.wantDone...)
			admWantAll(t, "again", e.clickIn(admAdele, tc.locale, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: tok}), tc.wantAgain...)
		})
	}
	e := newAdmEnv(t)
	added := e.sayIn(admAdele, "de-DE", "/sponsors Fabrikam add megan@contoso.example")
	admWantAll(t, "sponsor added", added, "Sponsor hinzugefügt", "ist jetzt Sponsor von Fabrikam (intern)", "Sponsoren")
}

// TestAccessRemoveAnswersInTheUsersLanguage: the "Ask to remove" button's refusals are in the user's language.
func TestAccessRemoveAnswersInTheUsersLanguage(t *testing.T) {
	e := newAdmEnv(t)
	got := e.clickIn(admAdele, "de-DE", cards.VerbAccessRemove, map[string]any{})
	admWantAll(t, "broken", got, "Diese Schaltfläche funktioniert nicht", "Geben Sie access ein")
	got = e.clickIn(admGus, "fr-FR", cards.VerbAccessRemove, map[string]any{cards.KeyAssignmentID: "asg-1"})
	admWantAll(t, "partner", got, "Demandez à votre sponsor", "retirés par les admins de Contoso")
}
