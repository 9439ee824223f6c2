// Package i18n renders the text people see in their own language.
//
// Messages live in JSON catalogs embedded in the binary (catalog/<area>.<lang>.json, go-i18n's format): one
// file per area (cards, bot, …) and language. English is the source and the fallback: a message missing in a
// language is rendered in English. Plural forms follow the CLDR rules of each language (go-i18n); dates on
// cards are written as Adaptive Card DATE()/TIME() functions, which the Teams client formats in the reader's
// locale (the card's "lang" says which).
//
// A Localizer is chosen from the Teams activity's locale ("de-DE") with For; a nil *Localizer renders
// English, so code that has no locale (a test, a log line) still works.
package i18n

import (
	"embed"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// Catalogs are the embedded catalog files (catalog/<area>.<lang>.json), for checks that read the messages
// themselves (i18ntest).
func Catalogs() fs.FS { return catalogFS }

// Languages are the languages AccessBot ships complete catalogs for, English (the fallback) first.
var Languages = []string{"en", "de", "fr"}

var (
	loadOnce sync.Once
	loadErr  error
	matcher  language.Matcher
	byLang   map[string]*Localizer
)

// load parses every embedded catalog once.
func load() {
	loadOnce.Do(func() {
		c, err := loadCatalogs(catalogFS)
		var lerr error
		byLang, lerr = c.localizers(Languages)
		loadErr = errors.Join(err, lerr)
		tags := make([]language.Tag, len(Languages))
		for i, l := range Languages {
			tags[i] = language.MustParse(l)
		}
		matcher = language.NewMatcher(tags)
	})
}

// LoadError reports a catalog that failed to parse (nil when all loaded); tests and startup check it.
func LoadError() error {
	load()
	return loadErr
}

// Localizer renders messages in one language. The nil *Localizer renders English.
type Localizer struct {
	lang string
	// loc is go-i18n's, for the messages the catalog leaves to it (see catalog).
	loc *goi18n.Localizer
	// plain remembers, per message id, the text of a message rendered without template data (most card
	// labels): it is the same every time. Only ids found in a catalog are kept, so it holds at most one entry
	// per catalog message.
	plain sync.Map
	// messages holds this language's messages by id (nil for one go-i18n renders), and rules its plural rules;
	// fallback and fallbackRules are English's, for ids this language lacks (go-i18n renders those in English
	// too). Both are nil in English's own Localizer.
	messages, fallback   map[string]*message
	rules, fallbackRules *pluralRules
}

// maxLocales bounds the remembered locale strings (activity.locale is the sender's to choose); locales past
// it are matched on every call. maxLocaleLen bounds the length of one: a longer string (no locale Teams sends,
// but up to an activity body in size) is matched on every call rather than kept for the life of the process.
const (
	maxLocales   = 256
	maxLocaleLen = 64
)

// byLocale remembers the Localizer For chose for a locale string, and locales counts its entries.
var (
	byLocale sync.Map
	locales  atomic.Int32
)

// For returns the Localizer of the first supported language among locales (BCP 47 tags such as "de-DE" or
// "fr-CA", as Teams sends them in activity.locale); English when none is supported or all are empty.
func For(locales ...string) *Localizer {
	load()
	for _, l := range locales {
		if loc := forLocale(l); loc != nil {
			return loc
		}
	}
	return byLang["en"]
}

// forLocale is the Localizer of one locale string; nil when it is empty, unreadable or matches no supported
// language. Parsing and matching a BCP 47 tag costs more than the rest of choosing, so the answer is
// remembered per string (up to maxLocales strings of up to maxLocaleLen bytes).
func forLocale(l string) *Localizer {
	if v, ok := byLocale.Load(l); ok {
		return v.(*Localizer)
	}
	var loc *Localizer
	if trimmed := strings.TrimSpace(l); trimmed != "" {
		if t, err := language.Parse(trimmed); err == nil {
			if _, i, c := matcher.Match(t); c != language.No {
				loc = byLang[Languages[i]]
			}
		}
	}
	if len(l) <= maxLocaleLen && locales.Load() < maxLocales {
		// Reserve a slot first, so that concurrent misses never remember more than maxLocales strings.
		if locales.Add(1) > maxLocales {
			locales.Add(-1)
		} else if _, loaded := byLocale.LoadOrStore(l, loc); loaded {
			locales.Add(-1)
		}
	}
	return loc
}

// English is the English Localizer.
func English() *Localizer { return For("en") }

// Lang is the language this Localizer renders ("en", "de", "fr"): the value of a card's "lang".
func (l *Localizer) Lang() string {
	if l == nil {
		return "en"
	}
	return l.lang
}

func (l *Localizer) get() *Localizer {
	if l == nil || l.loc == nil {
		return English()
	}
	return l
}

// T renders the message id with its template data given as name/value pairs:
// T("status.waitingFor", "Names", "Aaron Approver"). A message missing in this language is rendered in
// English; one missing everywhere renders as its id, so a test sees it.
func (l *Localizer) T(id string, kv ...any) string {
	l = l.get()
	if len(kv) < 2 {
		if s, ok := l.plain.Load(id); ok {
			return s.(string)
		}
	}
	m, _, found := l.message(id)
	if !found {
		return id
	}
	var s string
	if m != nil {
		s, found = m.render(formOther, kv) // go-i18n renders the other form too when no count is given
	} else {
		s, found = l.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data(kv)})
	}
	if !found {
		return id
	}
	if len(kv) < 2 {
		l.plain.Store(id, s)
	}
	return s
}

// N renders the plural message id for count (its "one"/"other"/… form by the language's CLDR rules); the
// template sees the number as {{.Count}} besides the name/value pairs.
func (l *Localizer) N(id string, count int, kv ...any) string {
	l = l.get()
	m, rules, found := l.message(id)
	switch {
	case !found:
		return id
	case m == nil:
		d := data(kv)
		d["Count"] = count
		s, _ := l.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: d, PluralCount: count})
		return s
	}
	n := len(kv) &^ 1 // a trailing name without a value is ignored, as data does
	kv = append(kv[:n:n], "Count", count)
	form, ok := rules.form(count)
	if !ok {
		form = formOther
	}
	s, ok := m.render(form, kv)
	if !ok && form != formOther {
		s, ok = m.render(formOther, kv) // as go-i18n: the catalog lacks the form, or it failed to render
	}
	if !ok {
		return id
	}
	return s
}

// message returns the message id as this language has it (English's when it lacks it) with the plural rules
// that go with it; m is nil when go-i18n renders the message, found is false when no catalog has it.
func (l *Localizer) message(id string) (m *message, rules *pluralRules, found bool) {
	if m, ok := l.messages[id]; ok {
		return m, l.rules, true
	}
	if m, ok := l.fallback[id]; ok {
		return m, l.fallbackRules, true
	}
	return nil, nil, false
}

// localize renders lc with go-i18n; found is false when it renders nothing (as for an id no catalog has).
func (l *Localizer) localize(lc *goi18n.LocalizeConfig) (s string, found bool) {
	s, err := l.loc.Localize(lc)
	if s == "" && err != nil {
		return lc.MessageID, false
	}
	return s, true
}

// data turns name/value pairs into template data; a trailing name without a value is ignored.
func data(kv []any) map[string]any {
	d := make(map[string]any, len(kv)/2+1)
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok {
			d[k] = kv[i+1]
		}
	}
	return d
}

// Has reports whether the English catalog defines id (tests use it to find ids the code uses but no
// catalog has).
func Has(id string) bool {
	load()
	_, _, found := byLang["en"].message(id)
	return found
}
