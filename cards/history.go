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

// Phrase renders a stored message in l's language as plain text: every value is cleaned like any user
// text, a State is the state's label, a Duration is written in words, a When as a UTC date and Names are
// joined as the language writes "A, B or C". ok is false when no catalog has id: the caller shows its
// fallback (the English a record of an older build kept).
func Phrase(l *i18n.Localizer, id string, data map[string]string, names []string) (string, bool) {
	if id == "" || !i18n.Has(id) {
		return "", false
	}
	return clip(phrase(l, id, data, names, false), maxLong), true
}

// eventText is the text of one timeline line.
func eventText(l *i18n.Localizer, e EventView) string {
	if e.Msg == "" || !i18n.Has(e.Msg) {
		return safe(orDefault(e.Text, e.Msg), maxShort)
	}
	return clip(phrase(l, e.Msg, e.Data, e.Names, true), maxLong)
}

// phrase renders id with its data; onCard writes a When as the card host's date functions (client-localized).
func phrase(l *i18n.Localizer, id string, data map[string]string, names []string, onCard bool) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]any, 0, 2*len(keys)+2)
	for _, k := range keys {
		kv = append(kv, k, dataValue(l, k, data[k], onCard))
	}
	if len(names) > 0 {
		clean := make([]string, 0, len(names))
		for _, n := range names {
			clean = append(clean, safe(n, maxName))
		}
		kv = append(kv, dataNames, l.Or(clean))
	}
	return l.T(id, kv...)
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
