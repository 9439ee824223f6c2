package cards

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// TestWireFormHasEveryField: the wire form of each element that holds others repeats that element's fields by
// hand (the leaf elements embed theirs), so a field added to the element must be added to its wire form too,
// with the same JSON name and options, in the same order; otherwise a card would silently drop it.
func TestWireFormHasEveryField(t *testing.T) {
	tests := []struct {
		element, wire any
		wireOnly      []string // the wire form's own properties: the element's "type", a card's fixed ones
	}{
		{Card{}, wireCard{}, []string{"$schema,omitempty", "type", "version,omitempty"}},
		{Refresh{}, wireRefresh{}, nil},
		{Column{}, wireColumn{}, []string{"type"}},
		{ColumnSet{}, wireColumnSet{}, []string{"type"}},
		{Container{}, wireContainer{}, []string{"type"}},
		{ActionSet{}, wireActionSet{}, []string{"type"}},
		{ActionShowCard{}, wireShowCard{}, []string{"type", "card"}},
	}
	for _, tc := range tests {
		name := reflect.TypeOf(tc.element).Name()
		t.Run(name, func(t *testing.T) {
			want := jsonTags(reflect.TypeOf(tc.element), "-")
			got := jsonTags(reflect.TypeOf(tc.wire), tc.wireOnly...)
			if !slices.Equal(got, want) {
				t.Errorf("wire form of %s writes %q, the element declares %q", name, got, want)
			}
		})
	}
}

// jsonTags are the json tags of t's fields in order, without those listed in skip.
func jsonTags(t reflect.Type, skip ...string) []string {
	var tags []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("json"); !slices.Contains(skip, tag) {
			tags = append(tags, tag)
		}
	}
	return tags
}

// TestAppendWireJSONIsMarshal: a card spliced in by AppendWireJSON must be byte for byte what json.Marshal
// writes for it inside another value, for every golden card and for text with the characters encoding/json
// escapes (HTML's "<", ">", "&"; U+2028 and U+2029, which CleanText turns into spaces before they get here).
func TestAppendWireJSONIsMarshal(t *testing.T) {
	cases := goldenCases()
	cases = append(cases, cardCase{name: "escapes", card: &Card{
		Body: []Element{TextBlock{Text: "<b>Tom & Jerry</b> \u2028 \u2029 é ✓"}},
	}})
	for _, c := range cases {
		want, err := json.Marshal(struct {
			Content any `json:"content"`
		}{c.card})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := c.card.AppendWireJSON([]byte(`{"content":`))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got = append(got, '}'); !bytes.Equal(got, want) {
			t.Errorf("%s: AppendWireJSON wrote\n%s\njson.Marshal writes\n%s", c.name, got, want)
		}
	}
}

func TestAppendHTMLEscaped(t *testing.T) {
	tests := []string{"", "plain", `<a href="x&y">`, "\u2028\u2029", "ends with \xe2\x80", "\xe2\x80\xaa is not a separator", "é<é"}
	for _, in := range tests {
		var want bytes.Buffer
		json.HTMLEscape(&want, []byte(in))
		if got := appendHTMLEscaped([]byte("x"), []byte(in)); string(got) != "x"+want.String() {
			t.Errorf("appendHTMLEscaped(%q) = %q, want %q", in, got[1:], want.String())
		}
	}
}
