package lifecycle

import (
	"maps"
	"slices"
	"time"
)

// Message is something the core wants a person to read later (a line of a request's history, the reason a
// request stopped, the note on an approval card), stored as a message catalog id and its data, never as
// ready-made text: the conversation layer renders it in the reader's language when it builds the card
// (internal/i18n, catalogs history.<lang>.json). The core knows no language.
//
// Data holds the template values by name. Values are plain data (names, numbers, an organization); the
// renderer sanitises them like any other user-supplied text. Some names carry a kind the renderer formats
// for the reader: State (a request state word, shown as its label), Duration (a Go duration, shown in
// words), When (an RFC 3339 time, shown in the reader's date format). Names lists people (approvers) whom
// the renderer joins as the language writes a list.
type Message struct {
	Msg   string            `json:"msg,omitempty"`
	Data  map[string]string `json:"data,omitempty"`
	Names []string          `json:"names,omitempty"`
}

// Say builds a Message from a catalog id and name/value pairs (a trailing name without a value is ignored).
func Say(id string, kv ...string) Message {
	m := Message{Msg: id}
	for i := 0; i+1 < len(kv); i += 2 {
		if m.Data == nil {
			m.Data = make(map[string]string, len(kv)/2)
		}
		m.Data[kv[i]] = kv[i+1]
	}
	return m
}

// Naming returns m listing people as its Names.
func (m Message) Naming(ps []Person) Message {
	m.Names = PeopleNames(ps)
	return m
}

// PeopleNames are the names of people (ids stand in for missing names), for a Message's Names or for a
// list a reader sees in their language (i18n Localizer.Or).
func PeopleNames(ps []Person) []string {
	var names []string
	for _, p := range ps {
		names = append(names, orUnknown(p.Name, p.ID))
	}
	return names
}

// IsZero reports whether m says nothing.
func (m Message) IsZero() bool { return m.Msg == "" }

// Equal reports whether m and o say the same thing.
func (m Message) Equal(o Message) bool {
	return m.Msg == o.Msg && maps.Equal(m.Data, o.Data) && slices.Equal(m.Names, o.Names)
}

// Data names with a kind the renderer formats (see Message).
const (
	DataState    = "State"
	DataDuration = "Duration"
	DataWhen     = "When"
)

// durationData is d as a Message value of kind Duration.
func durationData(d time.Duration) string { return d.String() }
