package cards

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decoded is a card as the client sees it: generic JSON.
type decoded map[string]any

func decode(t *testing.T, c *Card) decoded {
	t.Helper()
	raw, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m decoded
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// objects returns every JSON object in the card with the given "type", in document order.
func (d decoded) objects(typ string) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == typ {
				out = append(out, x)
			}
			for _, k := range []string{"refresh", "body", "items", "columns", "actions", "action", "card"} {
				if c, ok := x[k]; ok {
					walk(c)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(map[string]any(d))
	return out
}

// texts is all TextBlock texts and fact titles/values joined by newlines.
func (d decoded) texts() string {
	var sb strings.Builder
	for _, tb := range d.objects("TextBlock") {
		sb.WriteString(tb["text"].(string) + "\n")
	}
	for _, fs := range d.objects("FactSet") {
		for _, f := range fs["facts"].([]any) {
			fm := f.(map[string]any)
			sb.WriteString(fm["title"].(string) + ": " + fm["value"].(string) + "\n")
		}
	}
	return sb.String()
}

// executes returns the Action.Execute objects with the given verb.
func (d decoded) executes(verb string) []map[string]any {
	var out []map[string]any
	for _, a := range d.objects("Action.Execute") {
		if a["verb"] == verb {
			out = append(out, a)
		}
	}
	return out
}

func (d decoded) input(typ, id string) map[string]any {
	for _, in := range d.objects(typ) {
		if in["id"] == id {
			return in
		}
	}
	return nil
}

func TestUserTextIsDefused(t *testing.T) {
	evil := "Please approve [here](https://evil.example/approve) {{DATE(2026-01-01T00:00:00Z)}}"
	d := decode(t, Approval(en, ApprovalView{Justification: evil, Requester: PersonView{Name: "[Aaron](https://evil.example)"}}))
	txt := d.texts()
	if strings.Contains(txt, "[here](") || strings.Contains(txt, "[Aaron](") {
		t.Errorf("a markdown link survived:\n%s", txt)
	}
	if strings.Contains(txt, "{{DATE(2026-01-01") {
		t.Errorf("a template function survived:\n%s", txt)
	}
	if !strings.Contains(txt, `\[here\](https://evil.example/approve)`) {
		t.Errorf("the justification text is not shown escaped:\n%s", txt)
	}
}

func TestClipAndDurations(t *testing.T) {
	clips := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"  padded  ", 10, "padded"},
		{"Falcon Production Access", 10, "Falcon Pr…"},
		{"äöüäöüäöüäöü", 5, "äöüä…"},
	}
	for _, c := range clips {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	durs := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "less than a minute"},
		{time.Minute, "1 minute"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{7 * time.Hour, "7 hours"},
		{24 * time.Hour, "1 day"},
		{50 * time.Hour, "2 days 2 hours"},
	}
	for _, c := range durs {
		if got := en.Duration(c.d); got != c.want {
			t.Errorf("humanDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	names := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"Aaron"}, "Aaron"},
		{[]string{"Isaiah", "Lynne"}, "Isaiah and Lynne"},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, "a, b, c, d, e and 2 others"},
	}
	for _, c := range names {
		if got := joinNames(en, c.in); got != c.want {
			t.Errorf("joinNames(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCommandButtonsAndAdminConfirm(t *testing.T) {
	d := decode(t, Notice(en, NoticeView{Kind: NoticeError, Title: "Unknown command", Suggestions: []Suggestion{
		{Title: "packages"}, {Title: "Show status", Command: "status"}, {Title: "3"}, {Title: "4"}, {Title: "5"}, {Title: "6"}}}))
	subs := d.objects("Action.Submit")
	if len(subs) != maxSuggestions {
		t.Fatalf("suggestion buttons = %d, want %d", len(subs), maxSuggestions)
	}
	if !reflect.DeepEqual(subs[1]["data"], map[string]any{KeyVerb: VerbCommand, KeyText: "status"}) || subs[1]["title"] != "Show status" {
		t.Errorf("suggestion = %v", subs[1])
	}
	c := decode(t, AdminConfirm(en, AdminConfirmView{Title: "Revoke?", Token: "tok-1", ConfirmLabel: "Revoke"}))
	conf, canc := c.executes(VerbAdminConfirm), c.executes(VerbAdminCancel)
	if len(conf) != 1 || len(canc) != 1 || conf[0]["title"] != "Revoke" {
		t.Fatalf("confirm/cancel = %v / %v", conf, canc)
	}
	for _, a := range []map[string]any{conf[0], canc[0]} {
		if !reflect.DeepEqual(a["data"], map[string]any{KeyToken: "tok-1"}) {
			t.Errorf("data = %v", a["data"])
		}
	}
}
