package i18n

import (
	"fmt"
	"testing"
	"testing/fstest"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestPluralMessagesRenderAsGoI18n renders every message N can render itself, in every language, for counts
// that reach each CLDR form of en/de/fr (and past the remembered counts), with string, int, missing and
// odd name/value pairs, both ways: N's substitution and go-i18n's template. The text must be the same.
func TestPluralMessagesRenderAsGoI18n(t *testing.T) {
	load()
	ref := referenceBundle(t, catalogFS)
	cats := readCatalogs(t)
	counts := []int{0, 1, 2, 3, 5, 11, 21, 100, 101, 1023, 1024, 1_000_000, 2_000_001, -1}
	var plural, other int
	for _, lang := range Languages {
		l := byLang[lang]
		for id, m := range l.messages {
			switch {
			case m == nil:
				other++
			case m.plural != nil:
				plural++
			}
			var strs, ints []any
			for i, f := range vars(cats[lang][id]) {
				strs = append(strs, f, fmt.Sprintf("<%s & %d>", f, i))
				ints = append(ints, f, i*7)
			}
			for _, count := range counts {
				for name, kv := range map[string][]any{"strings": strs, "ints": ints, "none": nil,
					"count given": append(strs, "Count", "ignored"), "odd": append(strs, "Trailing")} {
					d := data(kv)
					d["Count"] = count
					want := goI18n(ref, lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
					if got := l.N(id, count, kv...); got != want {
						t.Errorf("%s %s count %d (%s): N = %q, go-i18n renders %q", lang, id, count, name, got, want)
					}
				}
			}
		}
	}
	if plural < 10 || other == 0 {
		t.Errorf("%d plural and %d other messages by go-i18n: the catalogs should have both", plural, other)
	}
}

// TestPluralFallsBackToEnglish: a message a language lacks is rendered from English's (by English's plural
// rules), one that N cannot render itself is left to go-i18n, a form the catalog lacks falls back to other, and
// an id no catalog has renders as the id.
func TestPluralFallsBackToEnglish(t *testing.T) {
	c, err := loadCatalogs(fstest.MapFS{
		"catalog/x.en.json": {Data: []byte(`{"a": {"one": "one day", "other": "{{.Count}} days"},
			"b": {"one": "{{if .X}}one{{end}}", "other": "many"}, "c": {"other": "{{.Count}} for {{.Name}}"}}`)},
		"catalog/x.fr.json": {Data: []byte(`{"c": {"one": "{{.Count}} pour {{.Name}}", "other": "{{.Count}} pour {{.Name}} !"}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.messages["en"]["a"] == nil || c.messages["en"]["b"] != nil || c.messages["fr"]["c"] == nil {
		t.Fatalf("messages rendered by substitution: en %v, fr %v", c.messages["en"], c.messages["fr"])
	}
	locs, err := c.localizers(Languages)
	if err != nil {
		t.Fatal(err)
	}
	fr, en := locs["fr"], locs["en"]
	tests := []struct {
		l     *Localizer
		id    string
		count int
		kv    []any
		want  string
	}{
		{fr, "a", 0, nil, "0 days"}, // English's rules: 0 is other (French's would say one)
		{fr, "a", 1, nil, "one day"},
		{fr, "b", 1, []any{"X", true}, "one"},
		{fr, "c", 0, []any{"Name", "Rita"}, "0 pour Rita"}, // French's rules: 0 is one
		{fr, "c", 2, []any{"Name", "Rita"}, "2 pour Rita !"},
		{en, "c", 1, []any{"Name", "Rita"}, "1 for Rita"}, // no one form: other
		{fr, "nope", 2, nil, "nope"},
	}
	for _, tc := range tests {
		if got := tc.l.N(tc.id, tc.count, tc.kv...); got != tc.want {
			t.Errorf("%s N(%q, %d, %v) = %q, want %q", tc.l.lang, tc.id, tc.count, tc.kv, got, tc.want)
		}
	}
}

// BenchmarkN renders a plural message with a count and other data, as the package list card does.
func BenchmarkN(b *testing.B) {
	de := For("de")
	b.ReportAllocs()
	for b.Loop() {
		if de.N("packages.count", 12, "Page", 1, "Pages", 2) == "packages.count" {
			b.Fatal("packages.count is not in the German catalog")
		}
	}
}
