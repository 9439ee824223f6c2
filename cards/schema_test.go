package cards

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official Adaptive Cards 1.5 JSON schema (MIT, microsoft/AdaptiveCards), copied with its licence into
// testdata/schema. Its "id" is the URL below; definitions are addressed as <id>#/definitions/<type>.
const (
	schemaFile = "testdata/schema/adaptive-card-1.5.0.json"
	schemaURL  = "http://adaptivecards.io/schemas/adaptive-card.json"
)

// cardSchema compiles the root schema and, on demand, one schema per element/action type.
type cardSchema struct {
	c     *jsonschema.Compiler
	root  *jsonschema.Schema
	defs  map[string]bool
	mu    sync.Mutex
	types map[string]*jsonschema.Schema
}

func loadCardSchema(t *testing.T) *cardSchema {
	t.Helper()
	raw, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	root, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	defs := map[string]bool{}
	if m, ok := doc.(map[string]any)["definitions"].(map[string]any); ok {
		for k := range m {
			defs[k] = true
		}
	}
	return &cardSchema{c: c, root: root, defs: defs, types: map[string]*jsonschema.Schema{}}
}

func (s *cardSchema) forType(typ string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sch, ok := s.types[typ]; ok {
		return sch, nil
	}
	if !s.defs[typ] {
		return nil, fmt.Errorf("type %q is not defined by the Adaptive Cards 1.5 schema", typ)
	}
	sch, err := s.c.Compile(schemaURL + "#/definitions/" + typ)
	if err != nil {
		return nil, fmt.Errorf("compile definition %s: %w", typ, err)
	}
	s.types[typ] = sch
	return sch, nil
}

// validate checks the whole card against the root schema, then every typed object in it against its own
// definition, which gives short errors that point at the element ("$.body[3] (Input.Text): …").
func (s *cardSchema) validate(raw []byte) []string {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []string{"parse card: " + err.Error()}
	}
	var errs []string
	if err := s.root.Validate(inst); err != nil {
		errs = append(errs, "root: "+firstLines(err.Error(), 6))
	}
	s.walk("$", inst, &errs)
	return errs
}

func (s *cardSchema) walk(path string, v any, errs *[]string) {
	switch x := v.(type) {
	case map[string]any:
		if typ, ok := x["type"].(string); ok && path != "$" {
			sch, err := s.forType(typ)
			if err != nil {
				*errs = append(*errs, path+": "+err.Error())
			} else if err := sch.Validate(x); err != nil {
				*errs = append(*errs, fmt.Sprintf("%s (%s): %s", path, typ, firstLines(err.Error(), 6)))
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "data" { // action data is the bot's own payload, not card schema
				continue
			}
			s.walk(path+"."+k, x[k], errs)
		}
	case []any:
		for i, e := range x {
			s.walk(fmt.Sprintf("%s[%d]", path, i), e, errs)
		}
	}
}

// firstLines keeps the first n lines of a validation error (without its "jsonschema validation failed"
// header), joined on one line.
func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 1 && strings.HasPrefix(lines[0], "jsonschema validation failed") {
		lines = lines[1:]
	}
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " | ")
}

func TestGoldenCardsMatchSchema(t *testing.T) {
	s := loadCardSchema(t)
	files, err := goldenFiles()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < len(goldenCases()) {
		t.Fatalf("found %d golden files, want %d (run go test ./cards -update)", len(files), len(goldenCases()))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range s.validate(raw) {
				t.Error(e)
			}
		})
	}
}

func TestLargeCardsMatchSchema(t *testing.T) {
	s := loadCardSchema(t)
	for _, tc := range largeCases() {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := tc.card.JSON()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range s.validate(raw) {
				t.Error(e)
			}
		})
	}
}

// TestSchemaCatchesMistakes proves the validator is not a check that cannot fail: a misspelled property, a
// bad enum value, an unknown element type and a missing required property are each reported, at the
// element that has them.
func TestSchemaCatchesMistakes(t *testing.T) {
	s := loadCardSchema(t)
	good := `{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.5",` +
		`"body":[{"type":"Container","items":[%s]}],"actions":[{"type":"Action.Execute","title":"Go","verb":"x"}]}`
	tests := []struct {
		name    string
		element string
		want    []string // substrings of the element-level error
	}{
		{"valid", `{"type":"TextBlock","text":"hi","wrap":true,"spacing":"small"}`, nil},
		{"misspelled property", `{"type":"TextBlock","text":"hi","wrapp":true}`, []string{"$.body[0].items[0] (TextBlock)", "wrapp"}},
		{"bad enum value", `{"type":"TextBlock","text":"hi","spacing":"huge"}`, []string{"$.body[0].items[0] (TextBlock)", "spacing"}},
		{"bad color", `{"type":"TextBlock","text":"hi","color":"purple"}`, []string{"(TextBlock)", "color"}},
		{"unknown type", `{"type":"Badge","text":"new"}`, []string{"$.body[0].items[0]", "Badge", "not defined"}},
		{"missing required", `{"type":"FactSet"}`, []string{"(FactSet)", "facts"}},
		{"wrong value type", `{"type":"Input.Text","id":"a","isRequired":"yes"}`, []string{"(Input.Text)", "isRequired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := s.validate([]byte(fmt.Sprintf(good, tt.element)))
			if tt.want == nil {
				if len(errs) > 0 {
					t.Fatalf("valid card rejected: %v", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatal("invalid card accepted")
			}
			if !strings.HasPrefix(errs[0], "root: ") {
				t.Errorf("the root schema did not reject the card: %v", errs)
			}
			for _, e := range errs[1:] {
				ok := true
				for _, w := range tt.want {
					if !strings.Contains(e, w) {
						ok = false
					}
				}
				if ok {
					return
				}
			}
			t.Errorf("no element error contains %q; got %v", tt.want, errs)
		})
	}
}

// TestSchemaCatchesBadAction checks the same for an action inside the card's action bar.
func TestSchemaCatchesBadAction(t *testing.T) {
	s := loadCardSchema(t)
	card := `{"type":"AdaptiveCard","version":"1.5","body":[],"actions":[{"type":"Action.Execute","title":"Go","verbb":"x","mode":"tertiary"}]}`
	errs := s.validate([]byte(card))
	joined := strings.Join(errs, "\n")
	for _, w := range []string{"$.actions[0] (Action.Execute)", "verbb", "mode"} {
		if !strings.Contains(joined, w) {
			t.Errorf("errors lack %q:\n%s", w, joined)
		}
	}
}

// TestEveryTypeMatchesSchema builds one card with every element and action type of the package, each with
// all its properties set, so a mistyped JSON tag anywhere in card.go fails against the schema.
func TestEveryTypeMatchesSchema(t *testing.T) {
	s := loadCardSchema(t)
	exec := ActionExecute{ID: "x", Title: "Go", Verb: "v", Data: map[string]any{"k": "v"}, AssociatedInputs: "none",
		Style: "positive", Tooltip: "tip", Mode: "secondary"}
	c := &Card{
		Refresh: &Refresh{Action: exec, UserIDs: []string{"29:a"}},
		Body: []Element{
			TextBlock{ID: "t", Text: "hi", Wrap: true, Size: SizeLarge, Weight: WeightBolder, Color: ColorAccent, IsSubtle: true,
				MaxLines: 2, Style: StyleHeading, Spacing: SpacingSmall, Separator: true, HorizontalAlignment: "center"},
			FactSet{ID: "f", Facts: []Fact{{Title: "a", Value: "b"}}, Spacing: SpacingMedium, Separator: true},
			ColumnSet{ID: "cs", Style: StyleEmphasis, Spacing: SpacingLarge, Separator: true, Columns: []Column{
				{ID: "c1", Width: "50px", VerticalContentAlignment: "center", Style: StyleGood, Spacing: SpacingNone, Separator: true,
					Items: []Element{TextBlock{Text: "x"}}},
				{Width: WidthAuto, Items: []Element{TextBlock{Text: "y"}}},
			}},
			Container{ID: "ct", Style: StyleAttention, Bleed: true, Spacing: SpacingExtraLarge, Separator: true,
				Items: []Element{ActionSet{ID: "as", Spacing: SpacingDefault, Separator: true, Actions: []Action{exec}}}},
			InputText{ID: "it", Label: "L", Placeholder: "p", Value: "v", IsMultiline: true, MaxLength: 10, Regex: "^a$",
				IsRequired: true, ErrorMessage: "e", Spacing: SpacingSmall, Separator: true},
			InputChoiceSet{ID: "ic", Label: "L", Choices: []Choice{{Title: "A", Value: "a"}}, Value: "a", Placeholder: "p",
				Style: "compact", IsMultiSelect: true, Wrap: true, IsRequired: true, ErrorMessage: "e", Spacing: SpacingSmall, Separator: true},
			InputDate{ID: "id", Label: "L", Value: "2026-11-26", Min: "2026-11-01", Max: "2026-12-31", Placeholder: "p",
				IsRequired: true, ErrorMessage: "e", Spacing: SpacingSmall, Separator: true},
		},
		Actions: []Action{
			exec,
			ActionSubmit{ID: "s", Title: "S", Data: map[string]any{"a": 1}, AssociatedInputs: "auto", Style: "destructive", Tooltip: "t", Mode: "primary"},
			ActionOpenURL{ID: "o", Title: "O", URL: "https://example.com/x?a=1&b=2", Style: "default", Tooltip: "t", Mode: "secondary"},
			ActionShowCard{ID: "sc", Title: "More", Tooltip: "t", Mode: "primary", Card: Card{Body: []Element{TextBlock{Text: "inside"}},
				Actions: []Action{ActionSubmit{Title: "Send"}}}},
		},
		FallbackText: "fallback",
		Speak:        "speak",
	}
	raw, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.validate(raw) {
		t.Error(e)
	}
	for _, want := range []string{`"type":"Action.ShowCard"`, `"card":{"type":"AdaptiveCard","body":[`, `"type":"Input.Date"`,
		`"url":"https://example.com/x?a=1&b=2"`, `"refresh":{"action":{"type":"Action.Execute"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("JSON lacks %s:\n%s", want, raw)
		}
	}
}
