package cards

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// spoofers are characters that change how typed text looks: bidi overrides and isolates, marks, zero-width
// characters, controls, separators, tags.
var spoofers = []string{"\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f",
	"\u061c", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\x00", "\x07", "\x1b", "\x7f", "\u0085",
	"\u009b", "\u2028", "\u2029", "\U000e0041", "\r"}

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"line\nbreak", "line\nbreak"},
		{"tab\there", "tab here"},
		{"INC\u202e4321", "INC4321"},
		{"Ap\u200bprove", "Approve"},
		{"nul\x00byte", "nulbyte"},
		{"isolate \u2067evil\u2069 end", "isolate evil end"},
		{"para\u2029graph", "para graph"},
		{"bad \xff utf8", "bad \ufffd utf8"},
		{"Zoë 日本 😀", "Zoë 日本 😀"},
	}
	for _, c := range cases {
		if got := CleanText(c.in); got != c.want {
			t.Errorf("CleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCardsNeverCarrySpoofers puts every spoofing character into each text a user can type (justification,
// answers, names, a notice echoing a command) and checks the card JSON holds none of them, raw or escaped.
func TestCardsNeverCarrySpoofers(t *testing.T) {
	evil := "ok" + strings.Join(spoofers, "x") + "end"
	cards := map[string]*Card{
		"approval": Approval(en, ApprovalView{RequestID: "r", Requester: PersonView{Name: evil, Email: evil, Manager: evil},
			PackageName: evil, Justification: evil, Answers: []AnswerView{{Question: evil, Answer: evil}},
			Decisions: []DecisionView{{Stage: 1, Approver: evil, Decision: DecisionDeny, Justification: evil}}, Note: evil,
			JustificationValue: evil, Error: evil}),
		"decided": ApprovalDecided(en, ApprovalDecidedView{RequesterName: evil, PackageName: evil, Outcome: DecisionApprove,
			DecidedBy: evil, Justification: evil, Next: evil, Reason: evil}),
		"notice": Notice(en, NoticeView{Kind: NoticeError, Title: evil, Text: evil, Details: []string{evil},
			Suggestions: []Suggestion{{Title: evil, Command: evil}}}),
		"status": RequestStatus(en, RequestStatusView{PackageName: evil, State: StateDenied, DecidedBy: evil,
			DecisionJustification: evil, Timeline: []EventView{{Text: evil},
				{Msg: "event.stageWaiting", Data: map[string]string{"Stage": evil, "Stages": evil}, Names: []string{evil, evil}},
				{Msg: "event.approved", Data: map[string]string{"By": evil}}}}),
		"form": RequestForm(en, RequestFormView{PackageName: evil, Values: map[string]string{InputJustification: evil},
			Errors: map[string]string{InputJustification: evil}, FormError: evil}),
		"table": AdminTable(en, AdminTableView{Title: evil, Columns: []string{evil}, Rows: []AdminRow{{Cells: []string{evil, evil},
			Actions: []RowAction{{Title: evil, Verb: "x", Data: map[string]string{"q": evil}}}}}}),
	}
	for name, c := range cards {
		// As an activity attachment, the way the Connector client and invoke responses marshal it.
		raw, err := json.Marshal(map[string]any{"content": c})
		if err != nil {
			t.Fatal(err)
		}
		s := string(raw)
		if !utf8.ValidString(s) {
			t.Errorf("%s: card JSON is not valid UTF-8", name)
		}
		for _, r := range s {
			if r != '\n' && (unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Cc, r)) {
				t.Errorf("%s: card JSON carries %U", name, r)
			}
		}
		for _, esc := range []string{`\u0000`, `\u0007`, `\u001b`, `\u2028`, `\u2029`, `\r`, `\t`} {
			if strings.Contains(s, esc) {
				t.Errorf("%s: card JSON carries the escape %s", name, esc)
			}
		}
		if !strings.Contains(s, "okxxx") {
			t.Errorf("%s: the visible text was lost: %.200s", name, s)
		}
	}
}

func TestCleanJSON(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"clean, with escapes", `{"a":"x\ny \"q\" \\t \u00e9"}`, `{"a":"x\ny \"q\" \\t \u00e9"}`},
		{"escaped tab becomes a space", `{"a":"x\ty"}`, `{"a":"x y"}`},
		{"escaped controls are dropped", `{"a":"x\u0007\r\by\u001b"}`, `{"a":"xy"}`},
		{"escaped separators become spaces", `{"a":"x\u2028y\u2029z"}`, `{"a":"x y z"}`},
		{"escaped format character is dropped", `{"a":"x\u202ey"}`, `{"a":"xy"}`},
		{"raw format characters are dropped", "{\"a\":\"x\u202e\u200by\u00e9\"}", "{\"a\":\"xy\u00e9\"}"},
		{"invalid UTF-8 becomes U+FFFD", "{\"a\":\"x\xffy\"}", "{\"a\":\"x\uFFFDy\"}"},
		{"a change after clean text keeps the text before it", `{"long":"abcdefgh","b":"\t"}`, `{"long":"abcdefgh","b":" "}`},
		{"text after a change is copied, raw DEL and controls dropped", "{\"b\":\"\\t\",\"long\":\"a~ z\x7f\x01!\"}", `{"b":" ","long":"a~ z!"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			got := cleanJSON(in)
			if string(got) != tc.want {
				t.Fatalf("cleanJSON(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if tc.in == tc.want && &got[0] != &in[0] {
				t.Errorf("clean JSON was copied; it should be returned as it is")
			}
		})
	}
}
