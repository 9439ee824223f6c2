package cards

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/i18n/i18ntest"
)

// TestNoLiteralUserText fails when a card builder writes a user-visible string literal instead of taking it
// from the message catalogs (i18n): every string literal with letters in the package's code must be a
// constant, a catalog id, a command word, or a technical value. Catalog ids used by the code must exist.
func TestNoLiteralUserText(t *testing.T) {
	i18ntest.Run(t, ".", i18ntest.Rules{
		// The typed commands a card shows or a button runs: they stay English in every language.
		CommandWords: []string{"packages", "request", "status", "cancel", "access", "extend", "approvals", "help"},
		// The wire form writes the Adaptive Cards element type names.
		SkipFuncs: []string{"wireOf", "wireColumnOf", "wireCardOf"},
	})
}

// TestLocalizedCardsSpeakTheLanguage: every golden card built in German has "lang": "de" and none of the
// English catalog's longer sentences.
func TestLocalizedCardsSpeakTheLanguage(t *testing.T) {
	de := i18n.For("de-DE")
	english := []string{"Your access request", "Waiting for", "Approval needed", "What I can do", "Find packages",
		"Refresh", "Submit request", "Something went wrong", "Accept the invitation"}
	for _, tc := range goldenCasesIn(de) {
		raw, err := tc.card.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if tc.card.Lang != "de" {
			t.Errorf("%s: lang = %q, want de", tc.name, tc.card.Lang)
		}
		for _, s := range english {
			if strings.Contains(string(raw), s) {
				t.Errorf("%s: German card contains English %q", tc.name, s)
			}
		}
	}
}
