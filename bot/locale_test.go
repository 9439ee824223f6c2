package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

// sayIn sends text as user with a Teams locale and returns the text and raw JSON of what the bot answered.
func (e *flEnv) sayIn(user, name, locale, text string) (string, string) {
	e.t.Helper()
	n := e.conn.count()
	act := e.activity(user, name, "message")
	act.Text, act.Locale = text, locale
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		e.t.Fatalf("%s says %q: %v", name, text, err)
	}
	var txt, raw []string
	for _, s := range e.conn.since(n) {
		txt = append(txt, s.text())
		b, _ := json.Marshal(s.Act)
		raw = append(raw, string(b))
	}
	return strings.Join(txt, "\n"), strings.Join(raw, "\n")
}

// TestBotAnswersInTheUsersLanguage: the locale of the activity picks the language of every card and notice;
// typed commands stay English words in every language; an unsupported locale gets English; the locale is
// kept with the conversation reference for proactive cards.
func TestBotAnswersInTheUsersLanguage(t *testing.T) {
	e := newFlEnv(t)
	cases := []struct {
		locale, text string
		want         []string
		lang         string
	}{
		{"de-DE", "help", []string{"Was ich kann", "Befehle werden auf Englisch eingegeben", "packages [words]"}, "de"},
		{"de-DE", "cancel", []string{"Nichts zurückzuziehen", "Sie haben keine offenen Anfragen."}, "de"},
		{"de-DE", "request Falcon Team Member", []string{"Falcon Team Member anfordern", "Ihre Führungskraft", "180 Tage", "Anfrage senden"}, "de"},
		{"fr-FR", "request Falcon Team Member", []string{"Demander Falcon Team Member", "Votre responsable", "180 jours"}, "fr"},
		{"de-AT", "frobnicate", []string{"„frobnicate“ kenne ich nicht", "Geben Sie help ein"}, "de"},
		{"fr-FR", "help", []string{"Ce que je sais faire", "packages [words]"}, "fr"},
		{"fr-CA", "request Falcon Unicorn", []string{"Aucun package trouvé", "Voir tous les packages"}, "fr"},
		{"es-ES", "help", []string{"What I can do"}, "en"},
		{"", "help", []string{"What I can do"}, "en"},
	}
	for _, c := range cases {
		txt, raw := e.sayIn(flRita, "Rita", c.locale, c.text)
		for _, w := range c.want {
			if !strings.Contains(txt, w) {
				t.Errorf("%s %q: answer lacks %q:\n%s", c.locale, c.text, w, txt)
			}
		}
		if !strings.Contains(raw, `"lang":"`+c.lang+`"`) {
			t.Errorf("%s %q: card is not marked lang %s: %.300s", c.locale, c.text, c.lang, raw)
		}
	}
	e.sayIn(flAaron, "Aaron", "fr-FR", "help")
	ref, err := e.store.Conversation(context.Background(), flTenant, flAaron)
	if err != nil || ref.Locale != "fr-FR" {
		t.Fatalf("stored conversation of Aaron: %+v, %v", ref, err)
	}
	if got := e.bot.locFor(context.Background(), flTenant, flAaron).Lang(); got != "fr" {
		t.Errorf("proactive language for Aaron = %q, want fr", got)
	}
	// An activity without a locale (some invokes) keeps the stored one.
	e.sayIn(flAaron, "Aaron", "", "help")
	if ref, _ := e.store.Conversation(context.Background(), flTenant, flAaron); ref.Locale != "fr-FR" {
		t.Errorf("a locale-less activity erased the stored locale: %q", ref.Locale)
	}
}

// TestNotificationsInTheRecipientsLanguage: a proactive notice is written in the language of the recipient's
// last activity; with none known it is English and reads as before.
func TestNotificationsInTheRecipientsLanguage(t *testing.T) {
	e := newFlEnv(t)
	job := notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: flTenant, UserID: flRita, Text: "fallback",
		Message: lifecycle.Say("notice.request.denied", "Package", "Falcon Production Access", "By", "Aaron Approver")}}
	if got := e.bot.noticeText(context.Background(), job); got != "Your request for Falcon Production Access was denied by Aaron Approver." {
		t.Errorf("English notice = %q", got)
	}
	e.sayIn(flRita, "Rita", "de-DE", "help")
	if got := e.bot.noticeText(context.Background(), job); got != "Ihre Anfrage für Falcon Production Access wurde abgelehnt von Aaron Approver." {
		t.Errorf("German notice = %q", got)
	}
	job.Data["By"] = ""
	if got := e.bot.noticeText(context.Background(), job); strings.Contains(got, "von") || strings.Contains(got, "<no value>") {
		t.Errorf("German notice without a decider = %q", got)
	}
}

// TestErrorCardInTheUsersLanguage: a failure is told in the user's language: what failed (the flow's title)
// and why, by the kind of error.
func TestErrorCardInTheUsersLanguage(t *testing.T) {
	e := newFlEnv(t)
	act := e.activity(flRita, "Rita", "message")
	act.Locale = "de-DE"
	tu := e.bot.newTurn(context.Background(), act)
	txt, _ := cardText(t, e.bot.errorCard(context.Background(), tu, tu.loc.T("fail.fileRequest"), entitlement.ErrAlreadyRequested, "status"))
	for _, w := range []string{"Ich konnte Ihre Anfrage nicht einreichen", "bereits eine offene Anfrage", "Meine Anfragen"} {
		if !strings.Contains(txt, w) {
			t.Errorf("German error card lacks %q:\n%s", w, txt)
		}
	}
	act.Locale = "en-US"
	tu = e.bot.newTurn(context.Background(), act)
	txt, _ = cardText(t, e.bot.errorCard(context.Background(), tu, tu.loc.T("fail.fileRequest"), entitlement.ErrAlreadyRequested, "status"))
	if !strings.Contains(txt, "I couldn't file your request") || !strings.Contains(txt, "You already have an open request") {
		t.Errorf("English error card:\n%s", txt)
	}
}
