package i18n

import (
	"regexp"
	"strconv"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

// simpleMessage is a catalog message whose text is literal text and {{.Field}} actions only (nearly all of
// them). T renders it by substitution, as text/template would for go-i18n, instead of go-i18n matching the
// language and executing a template on every call (the most expensive part of building a card).
type simpleMessage struct {
	parts []string // literal, field name, literal, …, literal: field names at odd indexes
}

// simpleAction is a {{.Field}} action (spaces allowed inside the braces, no trim markers).
var simpleAction = regexp.MustCompile(`\{\{ *\.([A-Za-z_][A-Za-z0-9_]*) *\}\}`)

// simpleMessages indexes the parsed catalogs by language and message id: a simpleMessage, or nil for a message
// T must leave to go-i18n (plural forms, conditionals, other delimiters).
func simpleMessages(files []*goi18n.MessageFile) map[string]map[string]*simpleMessage {
	return indexMessages(files, func(_ string, m *goi18n.Message) *simpleMessage { return parseSimple(m) })
}

// indexMessages indexes the parsed catalogs by language and message id, each message as parse (given the
// file's language) makes it.
func indexMessages[M any](
	files []*goi18n.MessageFile, parse func(lang string, m *goi18n.Message) *M,
) map[string]map[string]*M {
	out := map[string]map[string]*M{}
	for _, f := range files {
		lang := f.Tag.String()
		if out[lang] == nil {
			out[lang] = map[string]*M{}
		}
		for _, m := range f.Messages {
			out[lang][m.ID] = parse(lang, m)
		}
	}
	return out
}

// parseSimple returns m as a simpleMessage; nil when it is not one.
func parseSimple(m *goi18n.Message) *simpleMessage {
	if m.Other == "" || m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" ||
		m.LeftDelim != "" || m.RightDelim != "" {
		return nil
	}
	return parseText(m.Other)
}

// parseText returns a message text as a simpleMessage; nil when it is not one.
func parseText(text string) *simpleMessage {
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
	return &simpleMessage{parts: parts}
}

// simpleMessage is the message id as T would render it in this language (English when the language lacks
// it), when that message is simple; nil otherwise.
func (l *Localizer) simpleMessage(id string) *simpleMessage {
	if m, ok := l.simple[id]; ok {
		return m
	}
	return l.fallback[id]
}

// render substitutes the name/value pairs kv (the last value of a name wins, as in data) into m: a string as it
// is, an int in decimal, a missing name as "<no value>" (text/template's output). ok is false when a field's
// value is of another type: go-i18n renders the message then.
func (m *simpleMessage) render(kv []any) (s string, ok bool) {
	if len(m.parts) == 1 {
		return m.parts[0], true
	}
	var b strings.Builder
	for i, p := range m.parts {
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
			if found {
				return "", false
			}
			b.WriteString("<no value>")
		}
	}
	return b.String(), true
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
