package bot

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"

	"github.com/accessbot/accessbot/internal/i18n"
)

// patternClass is a character class a policy question's regex may use and that can be said in words.
type patternClass struct {
	key    string // catalog suffix: pattern.class.<key>, pattern.noun.<key>
	sample string // example characters, cycled
}

// The example characters of each class (no I and O, which read like 1 and 0), and the rune ranges that
// name a class ("AZaz" is [A-Za-z]): pattern data, not text.
const (
	sampleUpper = "ABCDEFGHJK"
	sampleAlpha = "Abcdefghjk"
	sampleAlnum = "A1b2C3d4E5"
	rangesUpper = "AZ"
	rangesAlpha = "AZaz"
	rangesAlnum = "09AZaz"
)

var (
	classDigit = patternClass{"digit", "1234567890"}
	classUpper = patternClass{"upper", sampleUpper}
	classLower = patternClass{"lower", "abcdefghjk"}
	classAlpha = patternClass{"letter", sampleAlpha}
	classAlnum = patternClass{"alnum", sampleAlnum}
)

// classOf recognises the rune ranges of \d, [0-9], [A-Z], [a-z], [A-Za-z] and [A-Za-z0-9].
func classOf(ranges []rune) (patternClass, bool) {
	key := string(ranges)
	switch key {
	case "09":
		return classDigit, true
	case rangesUpper:
		return classUpper, true
	case "az":
		return classLower, true
	case rangesAlpha:
		return classAlpha, true
	case rangesAlnum:
		return classAlnum, true
	}
	return patternClass{}, false
}

// patternPart is one piece of a pattern: a literal, or a class repeated min..max times (max -1: no limit).
type patternPart struct {
	literal  string
	class    patternClass
	min, max int
}

// describePattern says a policy question's regular expression in words with an example derived from it
// ("INC followed by at least 4 digits, e.g. INC1234"). It understands only anchored patterns made of literals
// and the classes above with counts; for anything else it reports false and the caller uses the question's
// own text: a requester never sees the pattern itself.
func describePattern(l *i18n.Localizer, pattern string) (string, bool) {
	parts, ok := patternParts(pattern)
	if !ok || len(parts) == 0 {
		return "", false
	}
	var desc, example strings.Builder
	for i, p := range parts {
		item := partWords(l, p)
		if i == 0 {
			desc.WriteString(item)
		} else {
			prev := desc.String()
			desc.Reset()
			desc.WriteString(l.T("pattern.followedBy", "Head", prev, "Next", item))
		}
		example.WriteString(partExample(p))
	}
	if re, err := regexp.Compile(pattern); err != nil || !re.MatchString(example.String()) {
		return "", false
	}
	return l.T("pattern.hint", "Description", desc.String(), "Example", example.String()), true
}

func patternParts(pattern string) ([]patternPart, bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 3 {
		return nil, false
	}
	subs := re.Sub
	if subs[0].Op != syntax.OpBeginText && subs[0].Op != syntax.OpBeginLine {
		return nil, false
	}
	if last := subs[len(subs)-1].Op; last != syntax.OpEndText && last != syntax.OpEndLine {
		return nil, false
	}
	var parts []patternPart
	for _, s := range subs[1 : len(subs)-1] {
		p, ok := partOf(s)
		if !ok {
			return nil, false
		}
		parts = append(parts, p)
	}
	return parts, true
}

func partOf(s *syntax.Regexp) (patternPart, bool) {
	switch s.Op {
	case syntax.OpLiteral:
		lit := string(s.Rune)
		if s.Flags&syntax.FoldCase != 0 || strings.TrimFunc(lit, unicode.IsPrint) != "" || strings.TrimSpace(lit) != lit {
			return patternPart{}, false
		}
		return patternPart{literal: lit}, true
	case syntax.OpCharClass:
		c, ok := classOf(s.Rune)
		return patternPart{class: c, min: 1, max: 1}, ok
	case syntax.OpRepeat, syntax.OpPlus, syntax.OpStar, syntax.OpQuest:
		if len(s.Sub) != 1 || s.Sub[0].Op != syntax.OpCharClass {
			return patternPart{}, false
		}
		c, ok := classOf(s.Sub[0].Rune)
		p := patternPart{class: c, min: s.Min, max: s.Max}
		switch s.Op {
		case syntax.OpPlus:
			p.min, p.max = 1, -1
		case syntax.OpStar:
			p.min, p.max = 0, -1
		case syntax.OpQuest:
			p.min, p.max = 0, 1
		}
		return p, ok
	}
	return patternPart{}, false
}

// partWords says one part: "INC", "4 digits", "at least 4 digits", "2 to 6 letters", "any number of digits".
func partWords(l *i18n.Localizer, p patternPart) string {
	if p.literal != "" {
		return p.literal
	}
	class := "pattern.class." + p.class.key
	switch {
	case p.min == p.max:
		return l.N(class, p.min)
	case p.max < 0 && p.min == 0:
		return l.T("pattern.anyNumber", "Noun", l.T("pattern.noun."+p.class.key))
	case p.max < 0:
		return l.T("pattern.atLeast", "Phrase", l.N(class, p.min))
	case p.min == 0:
		return l.T("pattern.atMost", "Phrase", l.N(class, p.max))
	}
	return l.T("pattern.range", "Min", p.min, "Phrase", l.N(class, p.max))
}

// partExample is the shortest text the part matches (at least one character for a class).
func partExample(p patternPart) string {
	if p.literal != "" {
		return p.literal
	}
	n := max(p.min, 1)
	if p.max >= 0 && n > p.max {
		n = p.max
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(p.class.sample[i%len(p.class.sample)])
	}
	return b.String()
}
