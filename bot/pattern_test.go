package bot

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// TestDescribePattern: a policy question's regex is said in words with an example that matches it, in the
// requester's language; a pattern that cannot be said safely is reported as such (the caller then uses the
// question's own text) and the pattern never shows.
func TestDescribePattern(t *testing.T) {
	cases := []struct {
		lang, pattern, want string
		ok                  bool
	}{
		{"en", `^INC\d{4,}$`, "INC followed by at least 4 digits, e.g. INC1234", true},
		{"de", `^INC\d{4,}$`, "INC, gefolgt von mindestens 4 Ziffern, z. B. INC1234", true},
		{"fr", `^INC\d{4,}$`, "INC suivi de au moins 4 chiffres, par ex. INC1234", true},
		{"en", `^CHG-[0-9]{6}$`, "CHG- followed by 6 digits, e.g. CHG-123456", true},
		{"en", `^[A-Z]{2}\d{2,4}$`, "2 capital letters followed by 2 to 4 digits, e.g. AB12", true},
		{"en", `^PRJ[a-z]+$`, "PRJ followed by at least 1 lowercase letter, e.g. PRJa", true},
		{"en", `^\d?$`, "at most 1 digit, e.g. 1", true},
		{"en", `^INC\d{4,}`, "", false},        // not anchored at the end
		{"en", `^(INC|CHG)\d+$`, "", false},    // alternation
		{"en", `^.+@contoso\.com$`, "", false}, // any character
		{"en", `^(?i)inc\d+$`, "", false},      // case folding
		{"en", `^[A-F0-9]{8}$`, "", false},     // a class without words
		{"en", `^INC\d{4,}$(`, "", false},      // not a regex
	}
	for _, c := range cases {
		got, ok := describePattern(i18n.For(c.lang), c.pattern)
		if ok != c.ok || got != c.want {
			t.Errorf("%s describePattern(%q) = %q, %v; want %q, %v", c.lang, c.pattern, got, ok, c.want, c.ok)
		}
		if strings.Contains(got, c.pattern) || strings.Contains(got, `\d`) {
			t.Errorf("%s describePattern(%q) shows the pattern: %q", c.lang, c.pattern, got)
		}
	}
}

// TestRegexNeverReachesRequester: the request form and the rejected answer describe the format in words; the
// pattern appears only as the input's regex (which the client checks), never in any text a person reads.
func TestRegexNeverReachesRequester(t *testing.T) {
	ticket := entitlement.Question{ID: "t", Text: "Change ticket", Required: true, Kind: entitlement.QuestionText,
		Regex: `^INC\d{4,}$`}
	odd := entitlement.Question{ID: "o", Text: "Cost center", Kind: entitlement.QuestionText, Regex: `^(CC|KS)-\d+$`}
	for _, lang := range []string{"en", "de", "fr"} {
		l := i18n.For(lang)
		for _, q := range []entitlement.Question{ticket, odd} {
			v := questionView(l, lang, q)
			card := cards.RequestForm(l, cards.RequestFormView{PackageName: "P", Questions: []cards.QuestionView{v}})
			raw, err := card.JSON()
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(raw), `"regex":`+quoteJSON(q.Regex), "")
			if strings.Contains(text, q.Regex) || strings.Contains(text, `\\d`) {
				t.Errorf("%s: the form shows the pattern %s: %s", lang, q.Regex, text)
			}
			msg := formatError(l, q, "CHG-1")
			if strings.Contains(msg, q.Regex) || !strings.Contains(msg, "CHG-1") {
				t.Errorf("%s: formatError = %q", lang, msg)
			}
		}
	}
	if got := formatError(nil, odd, "X"); !strings.Contains(got, "Cost center") {
		t.Errorf("an undescribable pattern falls back to the question: %q", got)
	}
}

func quoteJSON(s string) string {
	return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"`
}
