package bot

import (
	"context"
	"strings"
	"testing"
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

// TestBuilderAndReviewTextsInTheAdminsLanguage: the package builder's and the access reviews' admin answers come
// from the catalogs in the admin's language (this bot has neither a builder nor reviews configured, so each
// command answers why), and none of the English text is left in them.
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
