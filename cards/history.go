package cards

import (
	"sort"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// This file renders what the lifecycle core stores for a person to read later (lifecycle.Message: a catalog
// id with its data): the lines of a request's history, and the reasons and notes other views show.

// EventView is one line of a request's timeline: a stored message (Msg with Data and Names, rendered in the
// reader's language) or, for records written before messages had ids, the English Text shown as it is.
type EventView struct {
	At    time.Time
	Text  string
	Msg   string
	Data  map[string]string
	Names []string
}

// Data names with a kind the renderer formats (the same names as lifecycle.DataState, …).
const (
	dataState    = "State"
	dataDuration = "Duration"
	dataWhen     = "When"
	dataNames    = "Names"
)

// MessageView is a stored message to say: a catalog id with its data and the people it names, and Nested
// values that are themselves messages (a notice quoting a stored reason as {{.Reason}}), each said in the
// same reader's language.
type MessageView struct {
	ID     string
	Data   map[string]string
	Names  []string
	Nested map[string]MessageView
}

// Phrase renders a stored message in l's language as plain text: every value is cleaned like any user
// text, once; a State is the state's label, a Duration is written in words, a When as a UTC date and Names
// are joined as the language writes "A, B or C"; a nested message is rendered the same way (when no catalog
// has its id, the data value of the same name stands in). ok is false when no catalog has m.ID: the caller
// shows its fallback (the English a record of an older build kept).
func Phrase(l *i18n.Localizer, m MessageView) (string, bool) {
	if m.ID == "" || !i18n.Has(m.ID) {
		return "", false
	}
	return clip(phrase(l, m, false), maxLong), true
}

// eventText is the text of one timeline line.
func eventText(l *i18n.Localizer, e EventView) string {
	if e.Msg == "" || !i18n.Has(e.Msg) {
		return safe(orDefault(e.Text, e.Msg), maxShort)
	}
	return clip(phrase(l, MessageView{ID: e.Msg, Data: e.Data, Names: e.Names}, true), maxLong)
}

// phrase renders m with its data; onCard writes a When as the card host's date functions (client-localized).
// A nested message's text goes in as it is: its own values were cleaned when it was rendered.
func phrase(l *i18n.Localizer, m MessageView, onCard bool) string {
	keys := make([]string, 0, len(m.Data)+len(m.Nested))
	for k := range m.Data {
		keys = append(keys, k)
	}
	for k := range m.Nested {
		if _, dup := m.Data[k]; !dup {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	kv := make([]any, 0, 2*len(keys)+2)
	for _, k := range keys {
		kv = append(kv, k, nestedOrValue(l, m, k, onCard))
	}
	if len(m.Names) > 0 {
		clean := make([]string, 0, len(m.Names))
		for _, n := range m.Names {
			clean = append(clean, safe(n, maxName))
		}
		kv = append(kv, dataNames, l.Or(clean))
	}
	return l.T(m.ID, kv...)
}

// nestedOrValue is m's value k: its nested message when a catalog has that message's id, else its data
// value (empty when it has none).
func nestedOrValue(l *i18n.Localizer, m MessageView, k string, onCard bool) string {
	if n, ok := m.Nested[k]; ok && n.ID != "" && i18n.Has(n.ID) {
		return phrase(l, n, onCard)
	}
	return dataValue(l, k, m.Data[k], onCard)
}

// dataValue is one value of a stored message as the reader sees it.
func dataValue(l *i18n.Localizer, key, v string, onCard bool) string {
	switch key {
	case dataState:
		if v == "" {
			v = string(StateSubmitted)
		}
		return StateLabel(l, RequestState(v))
	case dataDuration:
		if d, err := time.ParseDuration(v); err == nil {
			return l.Duration(d)
		}
	case dataWhen:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			if onCard {
				return when(t)
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		}
	}
	return safe(v, maxShort)
}
