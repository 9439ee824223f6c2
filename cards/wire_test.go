package cards

import (
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
