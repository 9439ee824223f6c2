package cards

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText neutralises characters that let typed text look different from what it is: control characters
// (NUL, BEL, ESC, C1 controls; a tab becomes a space, line breaks stay), format characters such as the bidi
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F, U+061C), zero-width characters
// (U+200B–U+200D, U+2060, U+FEFF), soft hyphens and Unicode tags, and the line/paragraph separators (a space).
// Invalid UTF-8 becomes U+FFFD. Everything a user typed that the bot shows to anyone passes through it.
func CleanText(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case invisible(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// invisible reports a rune CleanText drops: controls (other than tab and newline) and format characters.
func invisible(r rune) bool {
	if r < utf8.RuneSelf { // ASCII: the controls are Cc; no ASCII character is Cf
		return r < 0x20 || r == 0x7f
	}
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)
}

func isClean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == '\t' || r == '\u2028' || r == '\u2029' || (r != '\n' && invisible(r)) {
			return false
		}
	}
	return true
}

// cleanJSON is the last guard on a card's JSON: whatever text reached the card through any field, it drops raw
// format and control runes and the escaped control characters (\u0000–\u001f except \n, \r→dropped, \t→space)
// and turns the escaped line/paragraph separators into spaces. JSON syntax is never affected: those characters
// only occur inside strings.
func cleanJSON(raw []byte) []byte {
	var out []byte // nil until the first change: clean JSON (nearly every card) is returned as it is
	for i := 0; i < len(raw); {
		if j := printableRun(raw, i); j > i {
			// Printable ASCII other than the backslash always stays (cleanAt would keep it byte by byte).
			if out != nil {
				out = append(out, raw[i:j]...)
			}
			i = j
			continue
		}
		n, repl, keep := cleanAt(raw, i)
		if !keep && out == nil {
			out = append(make([]byte, 0, len(raw)), raw[:i]...)
		}
		switch {
		case out == nil:
		case keep:
			out = append(out, raw[i:i+n]...)
		default:
			out = append(out, repl...)
		}
		i += n
	}
	if out == nil {
		return raw
	}
	return out
}

// printableRun returns the end of the run of printable ASCII bytes (0x20–0x7e) other than '\\' that starts at i.
func printableRun(raw []byte, i int) int {
	for i < len(raw) {
		if c := raw[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			break
		}
		i++
	}
	return i
}

// cleanAt looks at the character or escape at raw[i]: its length, and whether it stays or what replaces it.
func cleanAt(raw []byte, i int) (n int, repl []byte, keep bool) {
	c := raw[i]
	switch {
	case c == '\\' && i+1 < len(raw):
		n, repl = jsonEscape(raw[i:])
		return n, repl, bytes.Equal(repl, raw[i:i+n])
	case c < utf8.RuneSelf:
		return 1, nil, c == '\n' || !invisible(rune(c))
	}
	r, size := utf8.DecodeRune(raw[i:])
	switch {
	case r == utf8.RuneError && size <= 1:
		return size, []byte("\uFFFD"), false
	case invisible(r):
		return size, nil, false
	}
	return size, nil, true
}

// jsonEscape reads the escape at the start of b and returns its length and what to write instead.
func jsonEscape(b []byte) (int, []byte) {
	switch b[1] {
	case 't':
		return 2, []byte(" ")
	case 'r', 'b', 'f':
		return 2, nil
	case 'u':
		if len(b) < 6 {
			return len(b), nil
		}
		hex := string(b[2:6])
		switch {
		case hex == "2028" || hex == "2029":
			return 6, []byte(" ")
		case strings.HasPrefix(hex, "00") && hex[2] <= '1':
			return 6, nil // \u0000–\u001f
		}
		if r := parseHex(hex); r >= 0 && invisible(rune(r)) && r != '\n' {
			return 6, nil
		}
		return 6, b[:6]
	}
	return 2, b[:2]
}

func parseHex(h string) int {
	n := 0
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			n = n*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n*16 + int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			n = n*16 + int(c-'A') + 10
		default:
			return -1
		}
	}
	return n
}
