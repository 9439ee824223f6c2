package i18n

import (
	"bytes"
	"fmt"
	"testing"
	"testing/fstest"
	"text/template"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestSimpleMessagesRenderAsGoI18n renders every simple message of every catalog both ways, substitution and
// go-i18n's template, with string, int, missing, duplicate and other-typed values: the text must be the same.
func TestSimpleMessagesRenderAsGoI18n(t *testing.T) {
	load()
	var simple, other int
	for _, lang := range Languages {
		l := byLang[lang]
		for id, m := range l.simple {
			if m == nil {
				other++
				continue
			}
			simple++
			var strs, ints, dup, typed []any
			for i := 1; i < len(m.parts); i += 2 {
				f := m.parts[i]
				strs = append(strs, f, fmt.Sprintf("<b>%s & ‘%d’</b>", f, i))
				ints = append(ints, f, -i*1000)
				dup = append(dup, f, "first", f, "second")
				typed = append(typed, f, 2.5)
			}
			for name, kv := range map[string][]any{"strings": strs, "ints": ints, "missing": {"Unused", "x"},
				"duplicates": dup, "other types": typed, "odd": append(strs, "Trailing")} {
				want, _ := l.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data(kv)})
				if got := l.T(id, kv...); got != want {
					t.Errorf("%s %s (%s): T = %q, go-i18n renders %q", lang, id, name, got, want)
				}
			}
		}
	}
	if simple < 1000 || other == 0 {
		t.Errorf("%d simple and %d other messages: the catalogs should have both, mostly simple", simple, other)
	}
}

// TestSimpleMessagesFallBack: a message a language lacks is rendered from English's, simple or not, and one
// that is not simple in the language is left to go-i18n, as are ids no catalog has.
func TestSimpleMessagesFallBack(t *testing.T) {
	b, files, err := loadCatalogs(fstest.MapFS{
		"catalog/x.en.json": {Data: []byte(`{"a": "Hi {{.Name}}", "b": "{{if .X}}yes{{end}}", "c": "Hello {{ .Name }}!"}`)},
		"catalog/x.de.json": {Data: []byte(`{"c": "Hallo {{.Name}}{{if .X}}!{{end}}"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	simple := simpleMessages(files)
	if simple["en"]["a"] == nil || simple["en"]["b"] != nil || simple["de"]["c"] != nil || simple["en"]["c"] == nil {
		t.Fatalf("simple messages: en %v, de %v", simple["en"], simple["de"])
	}
	de := &Localizer{lang: "de", loc: goi18n.NewLocalizer(b, "de"), simple: simple["de"], fallback: simple["en"]}
	en := &Localizer{lang: "en", loc: goi18n.NewLocalizer(b, "en"), simple: simple["en"]}
	tests := []struct {
		l    *Localizer
		id   string
		kv   []any
		want string
	}{
		{de, "a", []any{"Name", "Rita"}, "Hi Rita"},
		{de, "b", []any{"X", true}, "yes"},
		{de, "c", []any{"Name", "Rita", "X", 1}, "Hallo Rita!"},
		{en, "c", []any{"Name", "Rita"}, "Hello Rita!"},
		{de, "nope", []any{"Name", "Rita"}, "nope"},
	}
	for _, tc := range tests {
		if got := tc.l.T(tc.id, tc.kv...); got != tc.want {
			t.Errorf("%s T(%q, %v) = %q, want %q", tc.l.lang, tc.id, tc.kv, got, tc.want)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "S" }

// TestSimpleRenderIsTextTemplate: on message texts at the edge of "simple" (braces next to an action, trim
// markers, pipelines, nested fields, spaces, comments) and values of every kind, a message parseSimple accepts
// renders as text/template renders it for go-i18n, or is left to go-i18n (render not ok).
func TestSimpleRenderIsTextTemplate(t *testing.T) {
	srcs := []string{"a {{{.X}}", "{{{{.X}}", "{{.X}}}", "{ {.X}}", "}}{{.X}}", "x{", "{{ .X }}", "{{  .X}}", "{{\t.X}}",
		"{{- .X}}", "{{.X -}} b", "{{.X.Y}}", `{{.X | printf "%s"}}`, "{{/* c */}}{{.X}}", "{{.X}}{{.X}}", "{{._}}",
		"{{.X1}}z", `{{"{{"}}{{.X}}`, "{{.\u00e9}}", "{{`}}`}}", "{{.X}} {{ .Y}}"}
	values := []any{"s", "<&>", 3, -7, int64(4), true, 2.5, stringer{}, nil, (*int)(nil), []string{"a"}}
	for _, src := range srcs {
		m := parseSimple(&goi18n.Message{ID: "x", Other: src})
		if m == nil {
			continue
		}
		tmpl, parseErr := template.New("").Option("missingkey=default").Parse(src)
		for _, v := range values {
			for _, kv := range [][]any{{"X", v}, {"X", v, "Y", "y"}, {}, {"X"}, {"Y", v}, {"X", "a", "X", v}, {1, "q", "X", v}} {
				got, ok := m.render(kv)
				if !ok {
					continue
				}
				var want bytes.Buffer
				if parseErr != nil {
					t.Errorf("%q: text/template fails (%v), substitution renders %q", src, parseErr, got)
				} else if err := tmpl.Execute(&want, data(kv)); err != nil {
					t.Errorf("%q %v: text/template fails (%v), substitution renders %q", src, kv, err, got)
				} else if got != want.String() {
					t.Errorf("%q %v: substitution renders %q, text/template %q", src, kv, got, want.String())
				}
			}
		}
	}
}
