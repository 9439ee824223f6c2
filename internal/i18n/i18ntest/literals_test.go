package i18ntest

import (
	"regexp"
	"strings"
	"testing"
)

// rules are what a package like bot/ declares: command words, audit fields, calls that are not its text.
var rules = Rules{
	CommandWords: []string{"request", "status"},
	LogFields:    []string{"Outcome"},
	SkipCalls:    []string{"AddEvent"},
	Technical:    regexp.MustCompile(`^AccessBot$`),
}

// TestCheckSource feeds the check snippets: it must refuse English a person would read and let through
// catalog ids, their value names, command words, technical values and text that only reaches logs.
func TestCheckSource(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string // the texts refused, in order
	}{
		{"a title literal", `v.Title = "Something went wrong"`, []string{"Something went wrong"}},
		{"a sentence built with fmt", `s := fmt.Sprintf("Now waiting for stage %d.", n)`, []string{"Now waiting for stage %d."}},
		{"a single word on a button", `b := Button{Title: "Approve"}`, []string{"Approve"}},
		{"concatenated text", `s := "waiting for " + names`, []string{"waiting for "}},
		{"a single word people read in a view", `v := View{Title: "hidden", Cells: []string{name, "listed"}}; v.Next = "done"`, []string{"hidden", "listed", "done"}},
		{"a command word on a button", `s := Suggestion{Title: "status", Command: "status"}`, nil},
		{"an id that no catalog has", `s := l.T("no.such.message.id")`, []string{"no.such.message.id"}},
		{"an id prefix that starts no id", `s := l.T("nothing.starts.with." + x)`, []string{"nothing.starts.with."}},
		{"a catalog id and its value names", `s := l.T("error.title"); u := l.T("fail.fileRequest", "Package", p)`, nil},
		{"a plural message", `s := l.N("duration.days", n)`, nil},
		{"an id prefix", `s := l.T("adm.sponsor.kind." + k)`, nil},
		{"value names after an id in another call", `m := Msg("builder.bot.notSaved", "Reason", r)`, nil},
		{"value names in a slice", `kv := []any{"Package", p, "Org", o}`, nil},
		{"a command word", `c := "request " + id; d := "status"`, nil},
		{"a slash command", `c := "/audit " + arg`, nil},
		{"technical values", `u := "https://myaccess.microsoft.com/"; k := "adm.pending:" + id; f := "%s (%s)"; o := "SharePointOnline"; x := "#EXT#"; d := "2006-01-02"`, nil},
		{"log and error text", `log.WarnContext(ctx, "flow failed", "err", err); e := fmt.Errorf("read request %s: %w", id, err); f := errors.New("bad token")`, nil},
		{"an audit field", `entry.Outcome = "refused: not an admin"; e := Entry{Outcome: "listed 3"}`, nil},
		{"a call the rules skip", `br.AddEvent(now, "You canceled the request")`, nil},
		{"a regular expression", `re := regexp.MustCompile("^[A-Z]+ followed by digits$")`, nil},
		{"the rules' technical values", `n := "AccessBot"`, nil},
		{"constants", `const greeting = "Hello there"`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := "package x\n\nfunc f() {\n" + tc.body + "\n}\n"
			if strings.HasPrefix(tc.body, "const") {
				src = "package x\n\n" + tc.body + "\n"
			}
			found, err := CheckSource("x.go", src, rules)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range found {
				got = append(got, f.Text)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("refused %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckPosition: a finding says where the literal is.
func TestCheckPosition(t *testing.T) {
	found, err := CheckSource("card.go", "package x\n\nvar title = \"Your access request\"\n", Rules{})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Pos.Filename != "card.go" || found[0].Pos.Line != 3 {
		t.Fatalf("found = %v, want one finding at card.go:3", found)
	}
	if s := found[0].String(); !strings.Contains(s, "card.go:3") || !strings.Contains(s, "Your access request") {
		t.Errorf("finding reads %q", s)
	}
}

// TestCheckDirectory: Check reads a package's non-test files (the checker's own messages are English text
// for developers, so it finds them, and nothing of this test file); a file that does not parse fails.
func TestCheckDirectory(t *testing.T) {
	found, err := Check(".", Rules{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range found {
		seen[f.Text] = true
		if strings.HasSuffix(f.Pos.Filename, "_test.go") {
			t.Errorf("a test file was checked: %s", f)
		}
	}
	if !seen["literal user-visible text"] {
		t.Errorf("found %v, want the checker's own message among them", found)
	}
	if _, err := CheckSource("bad.go", "package", Rules{}); err == nil {
		t.Error("a file that does not parse was accepted")
	}
}
