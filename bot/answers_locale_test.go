package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// TestAdminAnswersInTheAdminsLanguage: the admin tables, package details and resolve errors come from the
// catalogs in the admin's language, with none of the English left.
func TestAdminAnswersInTheAdminsLanguage(t *testing.T) {
	e := newAdmEnv(t)
	cases := []struct {
		locale, text string
		want         []string
		notWant      []string
	}{
		{"de-DE", "/catalogs", []string{"Kataloge", "Externe Benutzer", "sichtbar"}, []string{"Catalogs", "External users"}},
		{"fr-FR", "/catalogs", []string{"Catalogues", "Utilisateurs externes"}, []string{"External users"}},
		{"de-DE", "/packages", []string{"Zugriffspakete", "auch ausgeblendete", "Sichtbarkeit", "aufgeführt"}, []string{"hidden ones", "Visibility"}},
		{"fr-FR", "/packages", []string{"Packages d'accès", "y compris les masqués", "Visibilité"}, []string{"hidden ones"}},
		{"de-DE", "/package Falcon Production", []string{"Alle Mitglieder der Organisation", "90 Tage nach der Zuweisung",
			"Vorgesetzte(r) der anfragenden Person", "Falcon Security Reviewers (Gruppe)", "nach 4 Stunden an Patti Fernandez"},
			[]string{"after assignment", "Requestor's manager", "(group)"}},
		{"fr-FR", "/package Falcon Production", []string{"Tous les membres de l'organisation", "90 jours après l'attribution",
			"Responsable du demandeur", "Falcon Security Reviewers (groupe)"}, []string{"after assignment", "(group)"}},
		{"de-DE", "/package Falcon Nothing", []string{"Paket nicht gefunden", `"Falcon Nothing" nicht gefunden (Paket)`}, []string{"No such"}},
		{"fr-FR", "/package Falcon", []string{"Plusieurs correspondances : package", "éléments (package)"}, []string{"Which", "matches"}},
		{"de-DE", "/sponsors Fabrikam", []string{"Sponsoren von Fabrikam", "Anmeldename"}, []string{"Sponsors of", "Sign-in name"}},
		{"fr-FR", "/assign nobody@contoso.example Falcon Team Member", []string{"Utilisateur introuvable", "n'est pas dans l'annuaire de Contoso"}, []string{"No such user"}},
		{"de-DE", "/audit Nirgendwo", []string{"Keine Treffer", "ist weder ein Paket noch ein Benutzer"}, []string{"Nothing matches"}},
		{"fr-FR", "/revoke megan@contoso.example Falcon Team Member", []string{"Aucune attribution", "Rien n'a été modifié"}, []string{"No assignment"}},
	}
	for _, c := range cases {
		got := e.sayIn(admAdele, c.locale, c.text)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q: answer lacks %q:\n%s", c.locale, c.text, w, got)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(got, w) {
				t.Errorf("%s %q: answer has English %q:\n%s", c.locale, c.text, w, got)
			}
		}
	}
}

// TestFormChecksInTheUsersLanguage: the request form's checks say what is wrong in the user's language.
func TestFormChecksInTheUsersLanguage(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	req := entitlement.Requirements{PolicyID: "p", RequestorJustificationRequired: true,
		Questions: []entitlement.Question{{ID: "q1", Text: "Ticket", Required: true},
			{ID: "q2", Text: "Region", Choices: []entitlement.Choice{{Value: "eu"}, {Value: "us"}}}}}
	data := map[string]any{cards.QuestionInputID("q2"): "asia", cards.InputStartDate: "2026-13-01", cards.InputEndDate: "2026-11-01"}
	cases := []struct {
		lang  string
		field string
		want  string
	}{
		{"de", cards.InputJustification, "Für dieses Paket ist eine Begründung erforderlich"},
		{"de", cards.QuestionInputID("q1"), "Eine Antwort ist erforderlich."},
		{"de", cards.QuestionInputID("q2"), "Wählen Sie eines davon: eu, us."},
		{"de", cards.InputStartDate, `"2026-13-01" ist kein Datum; verwenden Sie JJJJ-MM-TT.`},
		{"fr", cards.InputJustification, "Une justification est requise pour ce package"},
		{"fr", cards.QuestionInputID("q2"), "Choisissez l'une de ces valeurs : eu, us."},
		{"fr", cards.InputEndDate, "La date de fin doit être postérieure à aujourd'hui."},
		{"en", cards.InputEndDate, "The end date must be after today."},
	}
	for _, c := range cases {
		req.CustomScheduleAllowed = true
		_, errs, _ := validateForm(i18n.For(c.lang), req, data, now)
		if got := errs[c.field]; got != c.want && !strings.HasPrefix(got, c.want) {
			t.Errorf("%s %s: %q, want %q", c.lang, c.field, got, c.want)
		}
	}
}

// TestUserMessagesInTheUsersLanguage: why something failed is said by the kind of error in the reader's
// language, a refusal of the bot's own by its catalog text, a wait Graph asked for in words.
func TestUserMessagesInTheUsersLanguage(t *testing.T) {
	cases := []struct {
		lang string
		err  error
		want string
	}{
		{"de", entitlement.ErrNotEligible, "Sie dürfen dieses Zugriffspaket nicht anfordern"},
		{"fr", &entitlement.ThrottledError{RetryAfter: 30 * time.Second}, "réessayez dans 30 secondes"},
		{"de", &entitlement.ThrottledError{RetryAfter: 2 * time.Hour}, "versuchen Sie es in 2 Stunden erneut"},
		{"en", &entitlement.ThrottledError{RetryAfter: time.Second}, "try again in 1 second."},
		{"de", userErr("", "request.badID").invalid("requestId"), "Das ist keine Anfrage-ID."},
		{"fr", entitlement.Invalid("justification", "is required by this review to approve access"), "Une justification est requise."},
		{"de", entitlement.Invalid("mystery", "is odd"), "Microsoft Entra hat einen Wert abgelehnt (mystery)"},
		{"en", entitlement.Invalid("justification", "is required by this review to approve access"), "Justification is required by this review to approve access."},
		{"fr", errUnknown{}, "Un problème est survenu"},
		{"de", entitlement.Invalid("answers[Project code]", "is required"), "Eine Antwort wurde abgelehnt"},
		{"fr", entitlement.Invalid("approvers", "could not be found"), "Personne d'autre ne peut approuver"},
	}
	for _, c := range cases {
		if got := userMessage(i18n.For(c.lang), c.err); !strings.Contains(got, c.want) {
			t.Errorf("%s %v: %q, want %q", c.lang, c.err, got, c.want)
		}
	}
}

type errUnknown struct{}

func (errUnknown) Error() string { return "boom (secret detail)" }

// TestRecordedErrorText: a package build's recorded failure reason is told in the reader's language.
func TestRecordedErrorText(t *testing.T) {
	cases := []struct{ lang, recorded, want string }{
		{"de", entitlement.ErrForbidden.Error(), "Das dürfen Sie nicht"},
		{"fr", entitlement.ErrUnavailable.Error(), "Microsoft Graph"},
		{"fr", "something Graph said", "Un problème est survenu"},
		{"en", "something Graph said", "something Graph said"},
		{"de", "", ""},
	}
	for _, c := range cases {
		if got := recordedErrorText(i18n.For(c.lang), c.recorded); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s %q: %q, want %q…", c.lang, c.recorded, got, c.want)
		}
	}
}
