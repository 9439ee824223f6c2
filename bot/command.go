package bot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/accessbot/accessbot/cards"
)

// MaxCommandLength bounds the text the command parser looks at; Teams messages can be long, commands are not.
const MaxCommandLength = 2000

// Command is a parsed chat command: "request Falcon Team" → Name "request", Args ["Falcon", "Team"].
type Command struct {
	// Name is the lower-cased command word without a leading slash.
	Name string
	// Args are the remaining words; "double quoted" words keep their spaces.
	Args []string
	// Rest is the raw text after the command word, trimmed (for free-text arguments such as package names).
	Rest string
	// Slash is true when the user typed the command with a leading "/" (the admin style).
	Slash bool
}

// ErrEmptyCommand is returned for blank input.
var ErrEmptyCommand = errors.New("empty message")

// ParseCommand splits chat text into a command word and arguments. It never panics on any input; text longer
// than MaxCommandLength or with an unterminated quote is an error that says so.
func ParseCommand(text string) (Command, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return Command{}, ErrEmptyCommand
	}
	if len(text) > MaxCommandLength {
		return Command{}, fmt.Errorf("message is %d characters long; commands are at most %d", len(text), MaxCommandLength)
	}
	if !utf8.ValidString(text) {
		return Command{}, errors.New("message is not valid UTF-8 text")
	}
	// Invisible and direction-changing characters never reach a command, an echo or another user's card.
	text = strings.TrimSpace(cards.CleanText(text))
	if text == "" {
		return Command{}, ErrEmptyCommand
	}
	var cmd Command
	if strings.HasPrefix(text, "/") {
		cmd.Slash = true
		text = strings.TrimSpace(text[1:])
		if text == "" {
			return Command{}, ErrEmptyCommand
		}
	}
	word, rest := splitFirstWord(text)
	cmd.Name = strings.ToLower(word)
	cmd.Rest = strings.TrimSpace(rest)
	args, err := splitArgs(cmd.Rest)
	if err != nil {
		return Command{}, err
	}
	cmd.Args = args
	return cmd, nil
}

func splitFirstWord(s string) (string, string) {
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// splitArgs splits on white space, keeping "double quoted" or “curly quoted” words together.
func splitArgs(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inQuote rune
		hasWord bool
	)
	closing := map[rune]rune{'"': '"', '“': '”', '”': '”'}
	for _, r := range s {
		switch {
		case inQuote != 0:
			if r == closing[inQuote] || (inQuote == '"' && r == '"') {
				inQuote = 0
				continue
			}
			cur.WriteRune(r)
		case r == '"' || r == '“':
			inQuote = r
			hasWord = true
		case unicode.IsSpace(r):
			if hasWord {
				args = append(args, cur.String())
				cur.Reset()
				hasWord = false
			}
		default:
			cur.WriteRune(r)
			hasWord = true
		}
	}
	if inQuote != 0 {
		return nil, errors.New("a quoted argument is not closed: add the closing \"")
	}
	if hasWord {
		args = append(args, cur.String())
	}
	return args, nil
}

// Suggest returns up to max candidates closest to word by edit distance (closest first, then alphabetical),
// only those within a distance that still looks like a typo.
func Suggest(word string, candidates []string, max int) []string {
	word = strings.ToLower(word)
	type scored struct {
		name string
		d    int
	}
	var out []scored
	for _, c := range candidates {
		d := levenshtein(word, strings.ToLower(c))
		limit := 2
		if len(c) > 6 {
			limit = 3
		}
		if d <= limit || (len(word) >= 3 && strings.HasPrefix(strings.ToLower(c), word)) {
			out = append(out, scored{c, d})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].d != out[j].d {
			return out[i].d < out[j].d
		}
		return out[i].name < out[j].name
	})
	names := make([]string, 0, max)
	for i := 0; i < len(out) && i < max; i++ {
		names = append(names, out[i].name)
	}
	return names
}

func levenshtein(a, b string) int {
	ar, br := []rune(a), []rune(b)
	prev := make([]int, len(br)+1)
	cur := make([]int, len(br)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ar); i++ {
		cur[0] = i
		for j := 1; j <= len(br); j++ {
			cost := 1
			if ar[i-1] == br[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(br)]
}
