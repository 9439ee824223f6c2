package entitlement

import "testing"

func TestLocalizedTextFor(t *testing.T) {
	es := LocalizedText{Default: "what state are you from?", ByLanguage: map[string]string{"es": "¿De qué estado eres?"}}
	regional := LocalizedText{Default: "Environment", ByLanguage: map[string]string{"de-de": "Umgebung", "de-AT": "Umgebung (AT)", "fr": "Environnement"}}
	onlyTranslations := LocalizedText{ByLanguage: map[string]string{"es": "Arizona"}}
	tests := []struct {
		name   string
		text   LocalizedText
		locale string
		want   string
	}{
		{"no locale gives the default", es, "", "what state are you from?"},
		{"language of a regional locale", es, "es-MX", "¿De qué estado eres?"},
		{"exact match in any case", regional, "de-DE", "Umgebung"},
		{"exact regional variant beats another", regional, "de-at", "Umgebung (AT)"},
		{"other region of the language", regional, "de-CH", "Umgebung (AT)"},
		{"underscore locale", regional, "fr_CA", "Environnement"},
		{"no translation gives the default", regional, "ja-JP", "Environment"},
		{"no default falls back to a translation", onlyTranslations, "en-US", "Arizona"},
		{"zero value", LocalizedText{}, "de-DE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.text.For(tt.locale); got != tt.want {
				t.Errorf("For(%q) = %q, want %q", tt.locale, got, tt.want)
			}
		})
	}
}

func TestQuestionAndChoiceTextFor(t *testing.T) {
	q := Question{Text: "Environment", Localized: LocalizedText{Default: "Environment", ByLanguage: map[string]string{"de": "Umgebung"}}}
	if got := q.TextFor("de-DE"); got != "Umgebung" {
		t.Errorf("question TextFor(de-DE) = %q", got)
	}
	if got := (Question{Text: "Plain"}).TextFor("de-DE"); got != "Plain" {
		t.Errorf("question without localizations = %q", got)
	}
	if got := (Choice{Value: "prod-eu"}).TextFor("de-DE"); got != "prod-eu" {
		t.Errorf("choice without text = %q, want its value", got)
	}
	c := Choice{Value: "AZ", Text: "Arizona", Localized: LocalizedText{Default: "Arizona", ByLanguage: map[string]string{"es": "Arizona (es)"}}}
	if got := c.TextFor("es-ES"); got != "Arizona (es)" {
		t.Errorf("choice TextFor(es-ES) = %q", got)
	}
}
