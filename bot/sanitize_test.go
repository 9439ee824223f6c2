package bot

import (
	"testing"
)

// TestTextRepliesAreSanitized: a plain-text reply that echoes what a user typed carries no direction-changing
// or invisible characters.
func TestTextRepliesAreSanitized(t *testing.T) {
	cases := []struct{ in, want string }{
		{"I don't know \"\u202epakages\"", "I don't know \"pakages\""},
		{"a\u200bb\x00c", "abc"},
		{"plain", "plain"},
	}
	for _, c := range cases {
		if got := textActivity(c.in).Text; got != c.want {
			t.Errorf("textActivity(%q).Text = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCommandsIgnoreInvisibleCharacters: a command with zero-width or bidi characters is read as the visible
// command, and its arguments carry none of them.
func TestCommandsIgnoreInvisibleCharacters(t *testing.T) {
	cases := []struct{ in, name, rest string }{
		{"pack\u200bages", "packages", ""},
		{"\u202erequest Falcon\u200d Team", "request", "Falcon Team"},
		{"/audit Rita\x00", "audit", "Rita"},
	}
	for _, c := range cases {
		cmd, err := ParseCommand(c.in)
		if err != nil {
			t.Fatalf("ParseCommand(%q): %v", c.in, err)
		}
		if cmd.Name != c.name || cmd.Rest != c.rest {
			t.Errorf("ParseCommand(%q) = %q %q, want %q %q", c.in, cmd.Name, cmd.Rest, c.name, c.rest)
		}
	}
	if _, err := ParseCommand("\u200b\u202e"); err != ErrEmptyCommand {
		t.Errorf("only invisible characters: err = %v, want ErrEmptyCommand", err)
	}
}
