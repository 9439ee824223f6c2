package bot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestClosestPackages(t *testing.T) {
	pkgs := []entitlement.Package{{Name: "Falcon Team Member"}, {Name: "Falcon Production Access"},
		{Name: "Falcon Wiki Reader"}, {Name: "Falcon Partner Collaboration"}, {Name: "Payroll Viewer"}}
	cases := []struct {
		typed string
		want  []string
	}{
		{"Falcon Unicorn Access", []string{"Falcon Production Access", "Falcon Wiki Reader", "Falcon Team Member"}},
		{"Falcn Wiki", []string{"Falcon Wiki Reader", "Falcon Team Member", "Falcon Production Access"}},
		{"produktion", []string{"Falcon Production Access"}},
		{"payrol", []string{"Payroll Viewer"}},
		{"unicorn", nil},
		{"access", nil}, // a stop word names nothing
	}
	for _, c := range cases {
		var got []string
		for _, p := range closestPackages(c.typed, pkgs, maxPackageSuggestions) {
			got = append(got, p.Name)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("closestPackages(%q) = %q, want %q", c.typed, got, c.want)
		}
	}
}

// TestUnknownPackageSuggestsClosest: "request Falcon Unicorn Access" answers with the closest requestable
// packages as buttons that open them, besides the full list (issue 13 item 5).
func TestUnknownPackageSuggestsClosest(t *testing.T) {
	e := newFlEnv(t)
	n := e.conn.count()
	e.message(flRita, "Rita", "request Falcon Unicorn Access")
	sent := e.conn.since(n)
	if len(sent) != 1 {
		t.Fatalf("sent %d activities", len(sent))
	}
	raw, _ := json.Marshal(sent[0].Act)
	s := string(raw)
	for _, want := range []string{"No package found", `"text":"request Falcon Production Access"`, `"text":"request Falcon Team Member"`,
		`"title":"List all packages"`} {
		if !strings.Contains(s, want) {
			t.Errorf("answer lacks %s: %s", want, s)
		}
	}
}
