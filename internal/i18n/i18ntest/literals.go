// Package i18ntest finds user-visible English left in Go code that should come from the message catalogs.
//
// A package that renders text people read (cards, bot answers, builder and review texts) calls Run from a
// test: every string literal with letters in its non-test code must be a catalog id (an argument of a
// Localizer's T or N, or an id the English catalog has), a typed command word, a technical value (ids,
// formats, URLs, layout values), or text that only reaches logs (log/slog calls, fmt.Errorf and errors.New,
// audit fields the Rules name). Anything else is reported: it would reach a person in English.
package i18ntest

import (
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/accessbot/accessbot/internal/i18n"
)

// Rules are what a package may keep as literals besides the defaults.
type Rules struct {
	// CommandWords are typed command words (first word of a literal): they stay English in every language.
	CommandWords []string
	// Technical matches further literals no person reads as text (the defaults: ids, formats, URLs).
	Technical *regexp.Regexp
	// LogFields are struct fields whose values only reach logs or the audit (e.g. "Outcome"): literals
	// assigned to them, or given for them in a composite literal, are not checked.
	LogFields []string
	// SkipFuncs are functions or methods (by name) whose bodies are not checked: wire formats, log helpers.
	SkipFuncs []string
	// SkipCalls are functions or methods (by name) whose arguments are not this package's text for people:
	// wire errors, texts another package renders in the reader's language.
	SkipCalls []string
}

// Finding is one literal the check refuses.
type Finding struct {
	Pos  token.Position
	Text string
	Why  string
}

func (f Finding) String() string { return fmt.Sprintf("%s: %s %q", f.Pos, f.Why, f.Text) }

// technical are literals with letters that no person reads as text: dotted/camelCase ids and keys, formats
// without words, URLs and URL paths, Adaptive Card date functions, sizes.
var technical = regexp.MustCompile(`^(https?://|#/|\{\{DATE\(|\{\{TIME\(|\d{4}-\d{2}-\d{2}|\^|#EXT#$|` +
	`[._:/-]?[a-z][A-Za-z0-9%]*([._:/-][A-Za-z0-9%]+)*[._:/-]?$|([A-Z][a-z0-9]+){2,}$|\d+px$|` +
	`[^A-Za-z]*(%[-+# 0-9.]*[a-zA-Z][^A-Za-z]*)+$)`)

// templateKey is a message's value name (T(id, "Name", x)): a capitalized identifier.
var templateKey = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// templateVar finds the value names a catalog message uses ({{.Name}}, {{if .Org}}).
var templateVar = regexp.MustCompile(`\{\{-?\s*(?:if\s+|else\s+if\s+)?\.(\w+)`)

var (
	enOnce  sync.Once
	vars    map[string]bool
	ids     map[string]bool
	varsErr error
)

// englishCatalog reads the English catalogs (i18n.Catalogs): the value names their messages use (a literal
// that is one of them is a name given to a message, in a []any of name/value pairs, say, not text) and their
// ids (a literal id prefix, "state." + x, must start one).
func englishCatalog() (map[string]bool, map[string]bool, error) {
	enOnce.Do(func() {
		cat := i18n.Catalogs()
		files, err := fs.Glob(cat, "catalog/*.en.json")
		if err != nil || len(files) == 0 {
			varsErr = fmt.Errorf("no English catalogs: %v", err)
			return
		}
		vars, ids = map[string]bool{}, map[string]bool{}
		for _, f := range files {
			raw, err := fs.ReadFile(cat, f)
			if err != nil {
				varsErr = fmt.Errorf("read catalog: %w", err)
				return
			}
			for _, m := range templateVar.FindAllSubmatch(raw, -1) {
				vars[string(m[1])] = true
			}
			var msgs map[string]json.RawMessage
			if err := json.Unmarshal(raw, &msgs); err != nil {
				varsErr = fmt.Errorf("parse catalog %s: %w", f, err)
				return
			}
			for id := range msgs {
				ids[id] = true
			}
		}
	})
	return vars, ids, varsErr
}

// logMethods are the log/slog methods: their arguments only reach logs.
var logMethods = map[string]bool{"Debug": true, "Info": true, "Warn": true, "Error": true, "DebugContext": true,
	"InfoContext": true, "WarnContext": true, "ErrorContext": true, "Log": true, "LogAttrs": true, "With": true,
	"WithGroup": true}

// Run reports every finding of Check(dir, r) as a test error.
func Run(t *testing.T, dir string, r Rules) {
	t.Helper()
	if err := i18n.LoadError(); err != nil {
		t.Fatal(err)
	}
	found, err := Check(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s: put it in internal/i18n/catalog and render it with the turn's Localizer (l.T)", f)
	}
}

// Check parses the non-test Go files of dir and returns the literals that look like user-visible text.
func Check(dir string, r Rules) ([]Finding, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	var out []Finding
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		c, err := newChecker(fset, r)
		if err != nil {
			return nil, err
		}
		out = append(out, c.file(file)...)
	}
	return out, nil
}

// CheckSource checks one Go source text (a test of the check itself feeds it snippets).
func CheckSource(name, src string, r Rules) ([]Finding, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	c, err := newChecker(fset, r)
	if err != nil {
		return nil, err
	}
	return c.file(file), nil
}
