package i18n

import (
	"regexp"
	"strconv"
	"strings"
	"text/template"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// message is a catalog message T and N render themselves, by substitution, as text/template renders it for
// go-i18n: each of its plural forms is literal text and {{.Field}} actions only (nearly all messages are). It
// saves go-i18n matching the language and executing a template on every call (the most expensive part of
// building a card), and go-i18n's parsed templates in memory.
type message struct {
	// other is the other form (the only one of most messages; what T renders, as go-i18n does): literal,
	// field name, literal, …, literal, field names at odd indexes. nil when the catalog has no other form.
	other []string
	// plural holds the zero, one, two, few and many forms the same way; nil when the message has none.
	plural *[numForms - 1][]string
}

// The plural forms, in go-i18n's Message field order; formOther is the one go-i18n falls back to.
const (
	numForms  = 6
	formOther = numForms - 1
)

// parseMessage returns m as a message; nil when one of its forms is not literal text and {{.Field}} actions,
// or it sets its own delimiters (go-i18n renders it then).
func parseMessage(m *goi18n.Message) *message {
	if m.LeftDelim != "" || m.RightDelim != "" {
		return nil
	}
	pm := &message{}
	for i, text := range [numForms]string{m.Zero, m.One, m.Two, m.Few, m.Many, m.Other} {
		if text == "" {
			continue
		}
		parts := parseText(text)
		switch {
		case parts == nil:
			return nil
		case i == formOther:
			pm.other = parts
		default:
			if pm.plural == nil {
				pm.plural = new([numForms - 1][]string)
			}
			pm.plural[i] = parts
		}
	}
	return pm
}

// simpleAction is a {{.Field}} action (spaces allowed inside the braces, no trim markers).
var simpleAction = regexp.MustCompile(`\{\{ *\.([A-Za-z_][A-Za-z0-9_]*) *\}\}`)

// parseText splits a message text into literal, field name, literal, …, literal; nil when it holds another
// kind of action.
func parseText(text string) []string {
	var parts []string
	prev := 0
	for _, loc := range simpleAction.FindAllStringSubmatchIndex(text, -1) {
		parts = append(parts, text[prev:loc[0]], text[loc[2]:loc[3]])
		prev = loc[1]
	}
	parts = append(parts, text[prev:])
	for i := 0; i < len(parts); i += 2 {
		if strings.Contains(parts[i], "{{") {
			return nil // another kind of action
		}
		if i+1 < len(parts) && strings.HasSuffix(parts[i], "{") {
			return nil // "{{{.X}}": text/template opens the action one brace earlier (a parse error)
		}
	}
	return append(make([]string, 0, len(parts)), parts...) // without append's spare capacity: kept for good
}

// form returns the parts of plural form f (formOther for the other form); nil when the message lacks it.
func (m *message) form(f int) []string {
	if f == formOther {
		return m.other
	}
	if m.plural == nil || f < 0 || f >= formOther {
		return nil
	}
	return m.plural[f]
}

// render renders plural form f of m with the name/value pairs kv, as go-i18n would: ok is false when m lacks
// the form, or a value cannot be printed (text/template fails then, and go-i18n renders nothing).
func (m *message) render(f int, kv []any) (s string, ok bool) {
	parts := m.form(f)
	switch len(parts) {
	case 0:
		return "", false
	case 1:
		return parts[0], true
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		v, found := lookup(kv, p)
		switch x := v.(type) {
		case string:
			b.WriteString(x)
		case int:
			b.WriteString(strconv.Itoa(x))
		default:
			if !found {
				b.WriteString("<no value>") // text/template's output for a missing key
				continue
			}
			s, err := printValue(x)
			if err != nil {
				return "", false
			}
			b.WriteString(s)
		}
	}
	return b.String(), true
}

// valueTemplate prints one value the way a {{.Field}} action of a catalog message prints it (text/template's
// rules: a Stringer or error by its method, a pointer by what it points to, nil as "<no value>", …).
var valueTemplate = template.Must(template.New("value").Option("missingkey=default").Parse("{{.V}}"))

// printValue prints v as valueTemplate does. Values other than strings and ints are rare, so text/template
// itself decides, rather than a copy of its rules.
func printValue(v any) (string, error) {
	var b strings.Builder
	if err := valueTemplate.Execute(&b, map[string]any{"V": v}); err != nil {
		return "", err
	}
	return b.String(), nil
}

// lookup finds name's value in the name/value pairs kv; the last one wins.
func lookup(kv []any, name string) (v any, found bool) {
	for i := 0; i+1 < len(kv); i += 2 {
		if k, ok := kv[i].(string); ok && k == name {
			v, found = kv[i+1], true
		}
	}
	return v, found
}
