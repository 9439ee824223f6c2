package entitlement

import "strings"

// LocalizedText is a text that Entra holds in several languages (Graph accessPackageLocalizedText: a
// question's or a choice's text plus its localizations). The zero value is an empty text.
type LocalizedText struct {
	// Default is the text in the policy's default language.
	Default string
	// ByLanguage maps a language code as Graph wrote it (for example "es", "en-us", "de-DE") to the text.
	ByLanguage map[string]string
}

// For returns the text for a Teams locale such as "de-DE": the exact language code (any case), else the
// same language without region ("de", or another "de-…" entry), else Default. When Default is empty it
// falls back to any translation, so a text is never blank when Graph sent one.
func (t LocalizedText) For(locale string) string {
	loc := normLang(locale)
	if loc != "" && len(t.ByLanguage) > 0 {
		lang, _, _ := strings.Cut(loc, "-")
		best, bestRank := "", 0
		for code, text := range t.ByLanguage {
			if strings.TrimSpace(text) == "" {
				continue
			}
			c := normLang(code)
			cl, _, _ := strings.Cut(c, "-")
			rank := 0
			switch {
			case c == loc:
				rank = 3
			case c == lang:
				rank = 2
			case cl == lang:
				rank = 1
			}
			// Ties (two regional variants) go to the smaller code, so the answer does not depend on map order.
			if rank > bestRank || (rank == bestRank && rank > 0 && code < best) {
				best, bestRank = code, rank
			}
		}
		if bestRank > 0 {
			return t.ByLanguage[best]
		}
	}
	if t.Default != "" {
		return t.Default
	}
	first := ""
	for code, text := range t.ByLanguage {
		if strings.TrimSpace(text) != "" && (first == "" || code < first) {
			first = code
		}
	}
	return t.ByLanguage[first]
}

// IsZero reports whether the text has neither a default nor a translation.
func (t LocalizedText) IsZero() bool { return t.Default == "" && len(t.ByLanguage) == 0 }

func normLang(code string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "_", "-"))
}

// TextFor returns the question's text for a Teams locale (see LocalizedText.For), falling back to Text.
func (q Question) TextFor(locale string) string {
	if s := q.Localized.For(locale); s != "" {
		return s
	}
	return q.Text
}

// TextFor returns the choice's text for a Teams locale (see LocalizedText.For), falling back to Text and
// then to Value.
func (c Choice) TextFor(locale string) string {
	if s := c.Localized.For(locale); s != "" {
		return s
	}
	if c.Text != "" {
		return c.Text
	}
	return c.Value
}
