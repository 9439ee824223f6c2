package bot

import (
	"strings"
	"testing"
)

// Tests of package search (request.go).

func TestPackageSearchByWords(t *testing.T) {
	e := newFlEnv(t)
	tests := []struct {
		text string
		want []string
		not  []string
	}{
		{"packages production", []string{"Falcon Production Access", "1 package"}, []string{"Falcon Team Member"}},
		{"packages falcon production", []string{"Falcon Production Access"}, []string{"Falcon Team Member"}},
		{"packages falcon", []string{"Falcon Production Access", "Falcon Team Member", "2 packages"}, nil},
		{"packages zebra", []string{"Nothing you can request matches"}, nil},
	}
	for _, tc := range tests {
		e.message(flRita, "Rita Requester", tc.text)
		c := e.conn.all()[len(e.conn.all())-1].text()
		for _, w := range tc.want {
			if !strings.Contains(c, w) {
				t.Errorf("%q: card lacks %q: %s", tc.text, w, c)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(c, w) {
				t.Errorf("%q: card shows %q: %s", tc.text, w, c)
			}
		}
	}
}
