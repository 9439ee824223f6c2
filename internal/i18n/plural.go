package i18n

import (
	"strconv"
	"sync/atomic"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// pluralMessage is a catalog message N renders itself: each of its plural forms (zero, one, two, few, many,
// other; nil when the catalog has none) is a simpleMessage. rules picks the form for a count by the CLDR rules
// of the message's language, as go-i18n does.
type pluralMessage struct {
	forms [numForms]*simpleMessage
	rules *pluralRules
}

// The plural forms, in go-i18n's Message field order; formOther is the one go-i18n falls back to.
const (
	numForms  = 6
	formOther = numForms - 1
)

// pluralMessages indexes the parsed catalogs by language and message id like simpleMessages, for N: a
// pluralMessage, or nil for a message N leaves to go-i18n (an action other than {{.Field}}, other delimiters).
func pluralMessages(files []*goi18n.MessageFile, rules map[string]*pluralRules) map[string]map[string]*pluralMessage {
	return indexMessages(files, func(lang string, m *goi18n.Message) *pluralMessage { return parsePlural(m, rules[lang]) })
}

// parsePlural returns m as a pluralMessage whose forms follow rules; nil when it is not one.
func parsePlural(m *goi18n.Message, rules *pluralRules) *pluralMessage {
	if rules == nil || m.LeftDelim != "" || m.RightDelim != "" {
		return nil
	}
	pm := &pluralMessage{rules: rules}
	for i, text := range [numForms]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if text == "" {
			continue
		}
		if pm.forms[i] = parseText(text); pm.forms[i] == nil {
			return nil
		}
	}
	return pm
}

// pluralMessage is the message id as N would render it in this language (English when the language lacks it),
// when N can render it itself; nil otherwise.
func (l *Localizer) pluralMessage(id string) *pluralMessage {
	if m, ok := l.plural[id]; ok {
		return m
	}
	return l.pluralFallback[id]
}

// render renders m for count with the name/value pairs kv and Count = count, as go-i18n would: the form the
// language's rules pick, else (the catalog lacks it) the other form. ok is false when N must leave it to
// go-i18n (no form to render, a value of another type than string or int, a count the rules cannot read).
func (m *pluralMessage) render(count int, kv []any) (s string, ok bool) {
	form, ok := m.rules.form(count)
	if !ok {
		return "", false
	}
	sm := m.forms[form]
	if sm == nil {
		sm = m.forms[formOther]
	}
	if sm == nil {
		return "", false
	}
	n := len(kv) &^ 1 // a trailing name without a value is ignored, as data does
	return sm.render(append(kv[:n:n], "Count", count))
}

// pluralRules is which plural form a language uses for a count. go-i18n keeps its CLDR rules internal, so it is
// asked once per count, through a probe message that names each form, and the answers for counts below
// len(memo) are remembered.
type pluralRules struct {
	loc  *goi18n.Localizer
	memo [1024]atomic.Uint32 // form+1 per count; 0 while not asked yet
}

// pluralProbeID is the probe message's id; it is added to the bundle for every language and used by no code.
const pluralProbeID = "i18n.pluralProbe"

// newPluralRules adds the probe message for lang to b and returns lang's rules.
func newPluralRules(b *goi18n.Bundle, lang string) (*pluralRules, error) {
	probe := &goi18n.Message{ID: pluralProbeID, Zero: "0", One: "1", Two: "2", Few: "3", Many: "4", Other: "5"}
	if err := b.AddMessages(language.MustParse(lang), probe); err != nil {
		return nil, err
	}
	return &pluralRules{loc: goi18n.NewLocalizer(b, lang)}, nil
}

// form is the index of the plural form (see pluralMessage.forms) the language uses for count.
func (r *pluralRules) form(count int) (int, bool) {
	if count >= 0 && count < len(r.memo) {
		if f := r.memo[count].Load(); f != 0 {
			return int(f - 1), true
		}
	}
	s, err := r.loc.Localize(&goi18n.LocalizeConfig{MessageID: pluralProbeID, PluralCount: count})
	f, perr := strconv.Atoi(s)
	if err != nil || perr != nil || f < 0 || f >= numForms {
		return 0, false
	}
	if count >= 0 && count < len(r.memo) {
		r.memo[count].Store(uint32(f + 1))
	}
	return f, true
}
