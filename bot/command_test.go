package bot

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Command
		wantErr string
	}{
		{name: "word", in: "help", want: Command{Name: "help"}},
		{name: "case and space", in: "  PACKAGES   falcon  team ", want: Command{Name: "packages", Args: []string{"falcon", "team"}, Rest: "falcon  team"}},
		{name: "slash", in: "/connect fabrikam.example Fabrikam", want: Command{Name: "connect", Args: []string{"fabrikam.example", "Fabrikam"}, Rest: "fabrikam.example Fabrikam", Slash: true}},
		{name: "quoted", in: `/assign rita@contoso.example "Falcon Team Member"`, want: Command{Name: "assign", Args: []string{"rita@contoso.example", "Falcon Team Member"}, Rest: `rita@contoso.example "Falcon Team Member"`, Slash: true}},
		{name: "curly quotes", in: "request “Falcon Wiki Reader”", want: Command{Name: "request", Args: []string{"Falcon Wiki Reader"}, Rest: "“Falcon Wiki Reader”"}},
		{name: "empty quotes kept", in: `x ""`, want: Command{Name: "x", Args: []string{""}, Rest: `""`}},
		{name: "blank", in: "   ", wantErr: "empty message"},
		{name: "lone slash", in: "/", wantErr: "empty message"},
		{name: "open quote", in: `request "Falcon`, wantErr: "not closed"},
		{name: "too long", in: "help " + strings.Repeat("a", MaxCommandLength), wantErr: "at most"},
		{name: "invalid utf8", in: "help \xff", wantErr: "UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCommand(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseCommand(%q) error = %v, want containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseCommand(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
		})
	}
	if _, err := ParseCommand(""); !errors.Is(err, ErrEmptyCommand) {
		t.Fatalf("empty input: got %v, want ErrEmptyCommand", err)
	}
}

func TestSuggest(t *testing.T) {
	cmds := []string{"help", "packages", "request", "status", "access", "approvals", "cancel", "extend"}
	tests := []struct {
		in   string
		want []string
	}{
		{"pakages", []string{"packages"}},
		{"staus", []string{"status"}},
		{"aprovals", []string{"approvals"}},
		{"req", []string{"request"}},
		{"zzzzzzzz", []string{}},
	}
	for _, tc := range tests {
		got := Suggest(tc.in, cmds, 3)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Suggest(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"help", "/connect fabrikam.example", `request "Falcon Team"`, "“x”", "\"", "/", "<at>Bot</at> help"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cmd, err := ParseCommand(s)
		if err != nil {
			return
		}
		if cmd.Name == "" && !utf8.ValidString(s) {
			t.Fatalf("parsed invalid text %q", s)
		}
		if strings.ContainsAny(cmd.Name, " \t\n") {
			t.Fatalf("command name %q contains white space", cmd.Name)
		}
	})
}
