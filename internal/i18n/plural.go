package i18n

import (
	"strconv"
	"sync/atomic"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

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

// form is the index of the plural form (zero, one, two, few, many, other: formOther is the last; see message)
// the language uses for count; ok is false when go-i18n could not tell.
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
