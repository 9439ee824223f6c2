package cards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Teams renders TextBlock text as Markdown and drops anything that looks like an HTML tag, so "<org>" vanishes
// and a line starting "1." becomes a list item whose number is not shown (both seen in the Agents Playground).
var (
	htmlLike   = regexp.MustCompile(`<[A-Za-z/][^>]*>`)
	listMarker = regexp.MustCompile(`^\s*\d+[.)](\s|$)`)
)

// TestGoldenCardsSurviveTeamsMarkdown checks every text of every golden card for those two traps.
func TestGoldenCardsSurviveTeamsMarkdown(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden cards: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var card any
		if err := json.Unmarshal(raw, &card); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walkTexts(card, func(text string) {
			if htmlLike.MatchString(text) {
				t.Errorf("%s: text %q has an HTML-like tag that Teams strips", filepath.Base(f), text)
			}
			if listMarker.MatchString(text) {
				t.Errorf("%s: text %q starts like a Markdown ordered list", filepath.Base(f), text)
			}
		})
	}
}

func TestMarkdownTrapsAreDetected(t *testing.T) {
	for _, s := range []string{"/disconnect <org>", "</b>"} {
		if !htmlLike.MatchString(s) {
			t.Errorf("htmlLike misses %q", s)
		}
	}
	for _, s := range []string{"1.", "2. Accept", " 3) Switch"} {
		if !listMarker.MatchString(s) {
			t.Errorf("listMarker misses %q", s)
		}
	}
	for _, s := range []string{"/disconnect {org}", "a < b", "1", "Stage 1 of 2", "1.5 GB"} {
		if htmlLike.MatchString(s) || listMarker.MatchString(s) {
			t.Errorf("false positive on %q", s)
		}
	}
}

// walkTexts calls fn with the "text" of every element (TextBlock, facts' title/value).
func walkTexts(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "text" || (k == "value" && x["title"] != nil)) {
				fn(s)
				continue
			}
			walkTexts(val, fn)
		}
	case []any:
		for _, e := range x {
			walkTexts(e, fn)
		}
	}
}
