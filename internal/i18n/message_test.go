package i18n

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"testing/fstest"
	"text/template"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// TestMessagesRenderAsGoI18n renders every message of every catalog with T both ways, substitution (or the
// catalog's small go-i18n bundle) and go-i18n with every message, with string, int, missing, duplicate and
// other-typed values: the text must be the same.
func TestMessagesRenderAsGoI18n(t *testing.T) {
	load()
	ref := referenceBundle(t, catalogFS)
	cats := readCatalogs(t)
	var own, other int
	for _, lang := range Languages {
		l := byLang[lang]
		for id, m := range l.messages {
			if m == nil {
				other++
			} else {
				own++
			}
			var strs, ints, dup, typed, stringers, nils []any
			for i, f := range vars(cats[lang][id]) {
				strs = append(strs, f, fmt.Sprintf("<b>%s & ‘%d’</b>", f, i))
				ints = append(ints, f, -i*1000)
				dup = append(dup, f, "first", f, "second")
				typed = append(typed, f, 2.5)
				stringers = append(stringers, f, 90*time.Second)
				nils = append(nils, f, nil)
			}
			for name, kv := range map[string][]any{"strings": strs, "ints": ints, "missing": {"Unused", "x"},
				"duplicates": dup, "other types": typed, "stringers": stringers, "nils": nils,
				"odd": append(strs, "Trailing")} {
				want := goI18n(ref, lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: data(kv)})
				if got := l.T(id, kv...); got != want {
					t.Errorf("%s %s (%s): T = %q, go-i18n renders %q", lang, id, name, got, want)
				}
			}
		}
	}
	if own < 1000 || other == 0 {
		t.Errorf("%d messages rendered by substitution and %d by go-i18n: the catalogs should have both, mostly the first", own, other)
	}
}

// TestMessagesFallBack: a message a language lacks is rendered from English's, by substitution or not; one
// that substitution cannot render in the language is left to go-i18n (which then holds that id in every
// language, and no other); ids no catalog has render as the id.
func TestMessagesFallBack(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/x.en.json": {Data: []byte(`{"a": "Hi {{.Name}}", "b": "{{if .X}}yes{{end}}", "c": "Hello {{ .Name }}!",
			"d": {"one": "one {{.Name}}", "other": "{{.Count}} {{.Name}}"}, "e": "Hey {{.Name}}"}`)},
		"catalog/x.de.json": {Data: []byte(`{"c": "Hallo {{.Name}}{{if .X}}!{{end}}", "d": "{{.Count}} {{.Name}}", "e": ""}`)},
	}
	c, err := loadCatalogs(fsys)
	if err != nil {
		t.Fatal(err)
	}
	en, de := c.messages["en"], c.messages["de"]
	if en["a"] == nil || en["b"] != nil || de["c"] != nil || en["c"] == nil || en["d"] == nil || de["d"] == nil {
		t.Fatalf("messages rendered by substitution: en %v, de %v", en, de)
	}
	for _, tc := range []struct {
		lang, id string
		inBundle bool
	}{{"en", "a", false}, {"en", "b", true}, {"en", "c", true}, {"de", "c", true}, {"en", "d", false}} {
		_, err := goi18n.NewLocalizer(c.bundle, tc.lang).Localize(&goi18n.LocalizeConfig{MessageID: tc.id})
		var notFound *goi18n.MessageNotFoundErr
		if got := !errors.As(err, &notFound); got != tc.inBundle {
			t.Errorf("%s %q in go-i18n's bundle: %v, want %v (%v)", tc.lang, tc.id, got, tc.inBundle, err)
		}
	}
	locs, err := c.localizers(Languages)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang, id string
		kv       []any
		want     string
	}{
		{"de", "a", []any{"Name", "Rita"}, "Hi Rita"},
		{"de", "b", []any{"X", true}, "yes"},
		{"de", "c", []any{"Name", "Rita", "X", 1}, "Hallo Rita!"},
		{"en", "c", []any{"Name", "Rita"}, "Hello Rita!"},
		{"en", "d", []any{"Name", "Rita"}, "<no value> Rita"}, // T renders the other form, as go-i18n
		{"de", "nope", []any{"Name", "Rita"}, "nope"},
		{"fr", "a", []any{"Name", "Rita"}, "Hi Rita"},
		{"de", "e", []any{"Name", "Rita"}, "Hey Rita"}, // an empty message is no message: go-i18n falls back
	}
	for _, tc := range tests {
		if got := locs[tc.lang].T(tc.id, tc.kv...); got != tc.want {
			t.Errorf("%s T(%q, %v) = %q, want %q", tc.lang, tc.id, tc.kv, got, tc.want)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "S" }

// TestSimpleRenderIsTextTemplate: on message texts at the edge of "simple" (braces next to an action, trim
// markers, pipelines, nested fields, spaces, comments) and values of every kind, a message parseMessage accepts
// renders as text/template renders it for go-i18n, and fails (render not ok) only where text/template fails.
func TestSimpleRenderIsTextTemplate(t *testing.T) {
	srcs := []string{"a {{{.X}}", "{{{{.X}}", "{{.X}}}", "{ {.X}}", "}}{{.X}}", "x{", "{{ .X }}", "{{  .X}}", "{{\t.X}}",
		"{{- .X}}", "{{.X -}} b", "{{.X.Y}}", `{{.X | printf "%s"}}`, "{{/* c */}}{{.X}}", "{{.X}}{{.X}}", "{{._}}",
		"{{.X1}}z", `{{"{{"}}{{.X}}`, "{{.\u00e9}}", "{{`}}`}}", "{{.X}} {{ .Y}}"}
	one := 1
	values := []any{"s", "<&>", 3, -7, int64(4), true, 2.5, stringer{}, &stringer{}, nil, (*int)(nil), &one,
		[]string{"a"}, errors.New("e"), make(chan int), func() {}, map[string]int{"k": 1}}
	for _, src := range srcs {
		m := parseMessage(&goi18n.Message{ID: "x", Other: src})
		if m == nil {
			continue
		}
		tmpl, parseErr := template.New("").Option("missingkey=default").Parse(src)
		for _, v := range values {
			for _, kv := range [][]any{{"X", v}, {"X", v, "Y", "y"}, {}, {"X"}, {"Y", v}, {"X", "a", "X", v}, {1, "q", "X", v}} {
				got, ok := m.render(formOther, kv)
				var want bytes.Buffer
				if !ok {
					if parseErr == nil && tmpl.Execute(&want, data(kv)) == nil {
						t.Errorf("%q %v: substitution fails, text/template renders %q", src, kv, want.String())
					}
					continue
				}
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
