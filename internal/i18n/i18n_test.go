package i18n

import (
	"encoding/json"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// newLocalizers builds the Localizers of every shipped language from the catalogs in fsys.
func newLocalizers(t *testing.T, fsys fs.FS) map[string]*Localizer {
	t.Helper()
	c, err := loadCatalogs(fsys)
	if err != nil {
		t.Fatal(err)
	}
	locs, err := c.localizers(Languages)
	if err != nil {
		t.Fatal(err)
	}
	return locs
}

// referenceBundle is go-i18n's bundle of every message of the catalogs in fsys: what T and N must render the
// same as.
func referenceBundle(t *testing.T, fsys fs.FS) *goi18n.Bundle {
	t.Helper()
	b := goi18n.NewBundle(language.English)
	files, err := fs.Glob(fsys, "catalog/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ParseMessageFileBytes(raw, path.Base(f)); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
	}
	return b
}

// goI18n renders lc as go-i18n renders it from b in lang (the id when it renders nothing, as T and N do).
func goI18n(b *goi18n.Bundle, lang string, lc *goi18n.LocalizeConfig) string {
	s, err := goi18n.NewLocalizer(b, lang).Localize(lc)
	if s == "" && err != nil {
		return lc.MessageID
	}
	return s
}

func TestCatalogsLoad(t *testing.T) {
	if err := LoadError(); err != nil {
		t.Fatal(err)
	}
}

// pluralForms are the CLDR plural categories each shipped language needs for integers.
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"de": {"one", "other"},
	"fr": {"one", "many", "other"},
}

var templateVar = regexp.MustCompile(`\{\{-?\s*(?:if\s+)?\.(\w+)`)

// readCatalogs returns, per language, every message id with its forms (a plain string is form "other").
func readCatalogs(t *testing.T) map[string]map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]map[string]string{}
	files, err := fs.Glob(catalogFS, "catalog/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogs: %v", err)
	}
	for _, f := range files {
		parts := strings.Split(path.Base(f), ".")
		if len(parts) != 3 {
			t.Fatalf("catalog %s: want <area>.<lang>.json", f)
		}
		lang := parts[1]
		raw, _ := fs.ReadFile(catalogFS, f)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("catalog %s: %v", f, err)
		}
		if out[lang] == nil {
			out[lang] = map[string]map[string]string{}
		}
		for id, v := range m {
			if _, dup := out[lang][id]; dup {
				t.Errorf("%s: id %q is defined in two catalogs of %s", f, id, lang)
			}
			forms := map[string]string{}
			var s string
			if json.Unmarshal(v, &s) == nil {
				forms["other"] = s
			} else if err := json.Unmarshal(v, &forms); err != nil {
				t.Errorf("%s: %q is neither a string nor plural forms: %v", f, id, err)
			}
			out[lang][id] = forms
		}
	}
	return out
}

func vars(forms map[string]string) []string {
	seen := map[string]bool{}
	for _, s := range forms {
		for _, m := range templateVar.FindAllStringSubmatch(s, -1) {
			seen[m[1]] = true
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// TestCatalogsComplete: every shipped language has every English message, with the same template
// variables and every plural form its CLDR rules use; no language has a message English lacks.
func TestCatalogsComplete(t *testing.T) {
	cats := readCatalogs(t)
	en := cats["en"]
	if len(en) == 0 {
		t.Fatal("no English messages")
	}
	for _, lang := range Languages {
		cat := cats[lang]
		if cat == nil {
			t.Errorf("no catalog for %s", lang)
			continue
		}
		for id, enForms := range en {
			forms, ok := cat[id]
			if !ok {
				t.Errorf("%s: missing %q", lang, id)
				continue
			}
			if got, want := vars(forms), vars(enForms); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %q uses %v, English uses %v", lang, id, got, want)
			}
			plural := len(enForms) > 1 || enForms["one"] != ""
			for _, f := range pluralForms[lang] {
				if plural && strings.TrimSpace(forms[f]) == "" {
					t.Errorf("%s: plural %q lacks form %q", lang, id, f)
				}
			}
			for f, s := range forms {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: %q form %q is empty", lang, id, f)
				}
			}
		}
		for id := range cat {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: %q is not in the English catalog", lang, id)
			}
		}
	}
}

func TestForPicksLanguage(t *testing.T) {
	cases := []struct {
		locales []string
		want    string
	}{
		{[]string{"de-DE"}, "de"},
		{[]string{"de-AT"}, "de"},
		{[]string{"de-CH"}, "de"},
		{[]string{"fr-FR"}, "fr"},
		{[]string{"fr-CA"}, "fr"},
		{[]string{"en-US"}, "en"},
		{[]string{"en-GB"}, "en"},
		{[]string{"es-ES"}, "en"},
		{[]string{"ja"}, "en"},
		{[]string{""}, "en"},
		{[]string{"not a locale"}, "en"},
		{nil, "en"},
		{[]string{"", "fr-BE"}, "fr"},
		{[]string{"xx", "de"}, "de"},
	}
	for _, c := range cases {
		if got := For(c.locales...).Lang(); got != c.want {
			t.Errorf("For(%q).Lang() = %q, want %q", c.locales, got, c.want)
		}
	}
	var nilLoc *Localizer
	if nilLoc.Lang() != "en" || nilLoc.T("button.help") != "Help" {
		t.Errorf("nil Localizer must render English, got %q", nilLoc.T("button.help"))
	}
}

func TestPluralsFollowCLDR(t *testing.T) {
	cases := []struct {
		lang string
		n    int
		want string
	}{
		{"en", 0, "0 days"},
		{"en", 1, "1 day"},
		{"en", 2, "2 days"},
		{"de", 1, "1 Tag"},
		{"de", 5, "5 Tage"},
		{"fr", 0, "0 jour"}, // French: 0 is "one"
		{"fr", 1, "1 jour"},
		{"fr", 2, "2 jours"},
	}
	for _, c := range cases {
		if got := For(c.lang).N("duration.days", c.n); got != c.want {
			t.Errorf("%s N(duration.days, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}

func TestListAndDuration(t *testing.T) {
	// or: the items are alternatives (Or), else a list (List).
	cases := []struct {
		lang  string
		or    bool
		items []string
		want  string
	}{
		{"en", false, nil, ""},
		{"en", false, []string{" Aaron "}, "Aaron"},
		{"en", false, []string{"A", "", "B", "C"}, "A, B and C"},
		{"de", false, []string{"A", "B"}, "A und B"},
		{"fr", false, []string{"A", "B", "C"}, "A, B et C"},
		{"en", true, nil, ""},
		{"en", true, []string{"Aaron"}, "Aaron"},
		{"en", true, []string{"A", " ", "B", "C"}, "A, B or C"},
		{"de", true, []string{"A", "B"}, "A oder B"},
		{"fr", true, []string{"A", "B", "C"}, "A, B ou C"},
	}
	for _, c := range cases {
		l := For(c.lang)
		name, join := "List", l.List
		if c.or {
			name, join = "Or", l.Or
		}
		if got := join(c.items); got != c.want {
			t.Errorf("%s %s(%q) = %q, want %q", c.lang, name, c.items, got, c.want)
		}
	}
	durs := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 30 * time.Second, "less than a minute"},
		{"en", 90 * time.Minute, "1 hour 30 minutes"},
		{"en", 50 * time.Hour, "2 days 2 hours"},
		{"de", 50 * time.Hour, "2 Tage 2 Stunden"},
		{"fr", 24 * time.Hour, "1 jour"},
		{"fr", 7 * time.Hour, "7 heures"},
	}
	for _, c := range durs {
		if got := For(c.lang).Duration(c.d); got != c.want {
			t.Errorf("%s Duration(%v) = %q, want %q", c.lang, c.d, got, c.want)
		}
	}
}

// TestFallback: a message missing in a language renders in English; one missing everywhere renders as its id.
func TestFallback(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/x.en.json": {Data: []byte(`{"a": "Hello {{.Name}}", "b": "Only English"}`)},
		"catalog/x.de.json": {Data: []byte(`{"a": "Hallo {{.Name}}"}`)},
	}
	de := newLocalizers(t, fsys)["de"]
	cases := []struct{ id, want string }{
		{"a", "Hallo Rita"},
		{"b", "Only English"},
		{"c", "c"},
	}
	for _, c := range cases {
		if got := de.T(c.id, "Name", "Rita"); got != c.want {
			t.Errorf("T(%q) = %q, want %q", c.id, got, c.want)
		}
	}
	for _, data := range []string{`{`, `{"a": {"one": 1}}`, `"a"`} {
		if _, err := loadCatalogs(fstest.MapFS{"catalog/x.en.json": {Data: []byte(data)}}); err == nil {
			t.Errorf("the catalog %s must fail to load", data)
		}
	}
}

func TestHas(t *testing.T) {
	if !Has("button.help") || !Has("duration.days") || Has("no.such.id") {
		t.Error("Has must report the English catalog's ids")
	}
}
