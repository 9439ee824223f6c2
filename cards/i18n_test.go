package cards

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/i18n"
)

// commandWords start the typed commands a card shows or a button runs: they stay English in every language.
var commandWords = map[string]bool{"packages": true, "request": true, "status": true, "cancel": true,
	"access": true, "extend": true, "approvals": true, "help": true}

// technical are literals with letters that no person reads as text: formats, URL parts, layout values.
var technical = regexp.MustCompile(`^(https?://|#/|\{\{DATE\(|\{\{TIME\(|\d{4}-\d{2}-\d{2}|[a-z]+[A-Z]?[a-z]*$|\d+px$)`)

// TestNoLiteralUserText fails when a card builder writes a user-visible string literal instead of taking it
// from the message catalogs (i18n): every string literal with letters in the package's code must be a
// constant, a catalog id, a command word, or a technical value. Catalog ids used by the code must exist.
func TestNoLiteralUserText(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checkLiterals(t, fset, file)
	}
}

func checkLiterals(t *testing.T, fset *token.FileSet, file *ast.File) {
	ids := map[*ast.BasicLit]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GenDecl:
			return x.Tok != token.CONST && x.Tok != token.IMPORT
		case *ast.Field:
			return false // struct fields: names, types and tags
		case *ast.FuncDecl:
			return x.Name.Name != "MarshalJSON" // the wire format's type names
		case *ast.CallExpr:
			sel, ok := x.Fun.(*ast.SelectorExpr)
			if !ok || len(x.Args) == 0 {
				return true
			}
			if pkg, isIdent := sel.X.(*ast.Ident); isIdent && (pkg.Name == "fmt" || pkg.Name == "errors") {
				return false // errors for logs, never shown on a card
			}
			if sel.Sel.Name != "T" && sel.Sel.Name != "N" {
				return true
			}
			checkID(t, fset, x.Args[0], ids)
			// The template data names: T(id, name, value, …) and N(id, count, name, value, …).
			first := 1
			if sel.Sel.Name == "N" {
				first = 2
			}
			for i := first; i < len(x.Args); i += 2 {
				if lit, isLit := x.Args[i].(*ast.BasicLit); isLit {
					ids[lit] = true
				}
			}
		case *ast.BasicLit:
			if x.Kind != token.STRING || ids[x] {
				return true
			}
			s, err := strconv.Unquote(x.Value)
			if err != nil || !hasLetters(s) || i18n.Has(s) || technical.MatchString(s) ||
				commandWords[strings.Fields(s)[0]] || strings.HasPrefix(s, "/") {
				return true
			}
			t.Errorf("%s: literal user-visible text %q: put it in internal/i18n/catalog and use l.T", fset.Position(x.Pos()), s)
		}
		return true
	})
}

// checkID checks the message id argument of a T or N call: a literal must be in the English catalog; a
// literal prefix ("state." + …) must start some id.
func checkID(t *testing.T, fset *token.FileSet, arg ast.Expr, ids map[*ast.BasicLit]bool) {
	lit, ok := arg.(*ast.BasicLit)
	prefix := false
	if b, isBin := arg.(*ast.BinaryExpr); isBin {
		lit, ok = b.X.(*ast.BasicLit)
		prefix = true
	}
	if !ok || lit.Kind != token.STRING {
		return
	}
	ids[lit] = true
	id, _ := strconv.Unquote(lit.Value)
	if prefix {
		if !hasPrefixID(id) {
			t.Errorf("%s: no catalog id starts with %q", fset.Position(lit.Pos()), id)
		}
		return
	}
	if !i18n.Has(id) {
		t.Errorf("%s: message id %q is not in the English catalog", fset.Position(lit.Pos()), id)
	}
}

func hasPrefixID(prefix string) bool {
	for _, suffix := range []string{"approved", "denied", "Approve", "Deny", "submitted"} {
		if i18n.Has(prefix + suffix) {
			return true
		}
	}
	return false
}

func hasLetters(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}

// TestLocalizedCardsSpeakTheLanguage: every golden card built in German has "lang": "de" and none of the
// English catalog's longer sentences.
func TestLocalizedCardsSpeakTheLanguage(t *testing.T) {
	de := i18n.For("de-DE")
	english := []string{"Your access request", "Waiting for", "Approval needed", "What I can do", "Find packages",
		"Refresh", "Submit request", "Something went wrong", "Accept the invitation"}
	for _, tc := range goldenCasesIn(de) {
		raw, err := tc.card.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if tc.card.Lang != "de" {
			t.Errorf("%s: lang = %q, want de", tc.name, tc.card.Lang)
		}
		for _, s := range english {
			if strings.Contains(string(raw), s) {
				t.Errorf("%s: German card contains English %q", tc.name, s)
			}
		}
	}
}
