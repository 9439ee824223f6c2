package i18n

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// TestForRemembers checks that a remembered locale keeps its language, that unreadable and empty locales still
// fall through to the next one, and that past maxLocales strings For still answers (without remembering).
func TestForRemembers(t *testing.T) {
	cases := []struct {
		locales []string
		want    string
	}{
		{[]string{"de-DE"}, "de"},
		{[]string{" fr-CA "}, "fr"},
		{[]string{"not a locale", "de"}, "de"},
		{[]string{"", "fr"}, "fr"},
		{[]string{"ja"}, "en"},
		{[]string{"ja", "fr-BE"}, "fr"},
	}
	check := func(round string) {
		t.Helper()
		for _, c := range cases {
			if got := For(c.locales...).Lang(); got != c.want {
				t.Errorf("%s: For(%q).Lang() = %q, want %q", round, c.locales, got, c.want)
			}
		}
	}
	check("first")
	check("remembered")
	var wg sync.WaitGroup
	for i := range maxLocales + 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := For(fmt.Sprintf("de-x-%d", i)).Lang(); got != "de" {
				t.Errorf("For(de-x-%d) = %q, want de", i, got)
			}
		}()
	}
	wg.Wait()
	check("after the limit")
	n := 0
	byLocale.Range(func(any, any) bool { n++; return true })
	if n > maxLocales {
		t.Errorf("%d locale strings remembered, limit %d", n, maxLocales)
	}
}

// TestTRemembersPlainMessages checks that a message rendered without template data is remembered per Localizer
// and id, that calls with data are still rendered with it, and that an unknown id is not remembered.
func TestTRemembersPlainMessages(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/x.en.json": {Data: []byte(`{"a": "Hello {{.Name}}", "b": "Only English", "p": "Plain"}`)},
		"catalog/x.de.json": {Data: []byte(`{"a": "Hallo {{.Name}}", "p": "Schlicht"}`)},
	}
	locs := newLocalizers(t, fsys)
	en, de := locs["en"], locs["de"]
	cases := []struct {
		loc  *Localizer
		id   string
		kv   []any
		want string
	}{
		{de, "p", nil, "Schlicht"},
		{en, "p", nil, "Plain"},
		{de, "b", nil, "Only English"},
		{de, "a", nil, "Hallo <no value>"},
		{de, "a", []any{"Name", "Rita"}, "Hallo Rita"},
		{de, "a", []any{"Name"}, "Hallo <no value>"},
		{de, "c", nil, "c"},
	}
	for round := range 2 {
		for _, c := range cases {
			if got := c.loc.T(c.id, c.kv...); got != c.want {
				t.Errorf("round %d: %s T(%q, %v) = %q, want %q", round, c.loc.lang, c.id, c.kv, got, c.want)
			}
		}
	}
	for _, id := range []string{"p", "b", "a"} {
		if _, ok := de.plain.Load(id); !ok {
			t.Errorf("de: %q rendered without data is not remembered", id)
		}
	}
	if _, ok := de.plain.Load("c"); ok {
		t.Error(`de: the unknown id "c" is remembered`)
	}
}

// TestForRemembersShortLocalesOnly: a locale string longer than maxLocaleLen is still matched but not kept (the
// sender chooses activity.locale; 256 strings of an activity body's size would stay for the life of the process).
func TestForRemembersShortLocalesOnly(t *testing.T) {
	byLocale.Clear()
	locales.Store(0)
	t.Cleanup(func() { byLocale.Clear(); locales.Store(0) })
	cases := []struct {
		locale   string
		want     string
		remember bool
	}{
		{"de-DE", "de", true},
		{strings.Repeat(" ", maxLocaleLen-2) + "fr", "fr", true},
		{strings.Repeat(" ", maxLocaleLen-1) + "fr", "fr", false},
		{"de-DE-x-" + strings.Repeat("abcdefgh-", 1000) + "z", "de", false},
		{strings.Repeat("x", 100<<10), "en", false},
	}
	for _, c := range cases {
		if got := For(c.locale).Lang(); got != c.want {
			t.Errorf("For(%.20q…).Lang() = %q, want %q", c.locale, got, c.want)
		}
		if _, ok := byLocale.Load(c.locale); ok != c.remember {
			t.Errorf("For(%.20q…) remembered %v, want %v", c.locale, ok, c.remember)
		}
	}
}
