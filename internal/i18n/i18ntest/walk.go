package i18ntest

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/internal/i18n"
)

// checker walks one file, remembering the literals that are ids (skipped when the walk reaches them).
type checker struct {
	fset     *token.FileSet
	r        Rules
	words    map[string]bool
	logField map[string]bool
	skipFunc map[string]bool
	skipCall map[string]bool
	vars     map[string]bool // value names the catalogs' messages use
	ids      map[string]bool // the English catalogs' ids
	ok       map[*ast.BasicLit]bool
	found    []Finding
}

func newChecker(fset *token.FileSet, r Rules) (*checker, error) {
	vars, ids, err := englishCatalog()
	if err != nil {
		return nil, err
	}
	c := &checker{fset: fset, r: r, words: set(r.CommandWords), logField: set(r.LogFields), vars: vars, ids: ids,
		skipFunc: set(append([]string{"MarshalJSON"}, r.SkipFuncs...)), skipCall: set(append([]string{"panic"}, r.SkipCalls...)),
		ok: map[*ast.BasicLit]bool{}}
	return c, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (c *checker) file(f *ast.File) []Finding {
	ast.Inspect(f, c.visit)
	return c.found
}

func (c *checker) visit(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.GenDecl:
		return x.Tok != token.CONST && x.Tok != token.IMPORT
	case *ast.Field:
		return false // struct fields: names, types and tags
	case *ast.FuncDecl:
		return !c.skipFunc[x.Name.Name]
	case *ast.AssignStmt:
		for i, lhs := range x.Lhs {
			sel, ok := lhs.(*ast.SelectorExpr)
			if ok && c.logField[sel.Sel.Name] {
				return false
			}
			if ok && textFields[sel.Sel.Name] && i < len(x.Rhs) {
				c.strict(x.Rhs[i])
			}
		}
	case *ast.KeyValueExpr:
		switch k := x.Key.(type) {
		case *ast.Ident:
			if textFields[k.Name] {
				c.strict(x.Value)
			}
			return !c.logField[k.Name]
		case *ast.BasicLit: // map[string]string{"reason": …} of an audit entry
			name, _ := strconv.Unquote(k.Value)
			return !c.logField[name]
		}
	case *ast.CallExpr:
		return c.call(x)
	case *ast.BasicLit:
		c.literal(x)
	}
	return true
}

// call skips log calls, errors built for logs, regular expressions and the calls the Rules name; it checks
// the id of a T or N call, and takes the value names after any catalog id argument as names.
func (c *checker) call(x *ast.CallExpr) bool {
	if id, isIdent := x.Fun.(*ast.Ident); isIdent && c.skipCall[id.Name] {
		return false
	}
	sel, ok := x.Fun.(*ast.SelectorExpr)
	if !ok || len(x.Args) == 0 {
		return true
	}
	if pkg, isIdent := sel.X.(*ast.Ident); isIdent {
		switch {
		case pkg.Name == "errors", pkg.Name == "slog", pkg.Name == "regexp":
			return false
		case pkg.Name == "fmt" && sel.Sel.Name == "Errorf":
			return false
		}
	}
	if logMethods[sel.Sel.Name] || c.skipCall[sel.Sel.Name] {
		return false
	}
	if sel.Sel.Name != "T" && sel.Sel.Name != "N" {
		c.keysAfterID(x.Args)
		return true
	}
	c.id(x.Args[0])
	// The template data names: T(id, name, value, …) and N(id, count, name, value, …).
	first := 1
	if sel.Sel.Name == "N" {
		first = 2
	}
	for i := first; i < len(x.Args); i += 2 {
		if lit, isLit := x.Args[i].(*ast.BasicLit); isLit {
			c.ok[lit] = true
		}
	}
	return true
}

// keysAfterID marks the value names that follow a catalog id among a call's arguments (Msg(id, "Name", x),
// userErr(title, id, "Arg", x)).
func (c *checker) keysAfterID(args []ast.Expr) {
	seen := false
	for _, a := range args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			continue
		}
		s, _ := strconv.Unquote(lit.Value)
		switch {
		case i18n.Has(s):
			seen = true
		case seen && templateKey.MatchString(s):
			c.ok[lit] = true
		}
	}
}

// id checks the message id argument of a T or N call: a literal must be in the English catalog; a literal
// prefix ("state." + …) must start some id.
func (c *checker) id(arg ast.Expr) {
	lit, ok := arg.(*ast.BasicLit)
	prefix := false
	if b, isBin := arg.(*ast.BinaryExpr); isBin {
		lit, ok = b.X.(*ast.BasicLit)
		prefix = true
	}
	if !ok || lit.Kind != token.STRING {
		return
	}
	c.ok[lit] = true
	id, _ := strconv.Unquote(lit.Value)
	switch {
	case prefix && !c.hasPrefixID(id):
		c.report(lit, id, "no catalog id starts with")
	case !prefix && !i18n.Has(id):
		c.report(lit, id, "message id not in the English catalog:")
	}
}

func (c *checker) hasPrefixID(prefix string) bool {
	for id := range c.ids {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// textFields are the view fields people read: a literal given to one is text even when it is a single
// lowercase word ("hidden"), unless it is a command word or a catalog id.
var textFields = map[string]bool{"Title": true, "Text": true, "Subtitle": true, "Footnote": true, "EmptyText": true,
	"Summary": true, "Detail": true, "Reason": true, "Next": true, "Label": true, "Placeholder": true, "Cells": true,
	"Columns": true}

// strict reports a literal given to a text field (see textFields), or one of a list of them (Cells, Columns).
func (c *checker) strict(v ast.Expr) {
	if list, isList := v.(*ast.CompositeLit); isList {
		for _, el := range list.Elts {
			c.strict(el)
		}
		return
	}
	lit, ok := v.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING || c.ok[lit] {
		return
	}
	c.ok[lit] = true // reported here or not at all
	s, err := strconv.Unquote(lit.Value)
	if err != nil || !hasLetters(s) || i18n.Has(s) || strings.HasPrefix(s, "/") || c.words[strings.Fields(s)[0]] {
		return
	}
	c.report(lit, s, "literal user-visible text")
}

// literal reports a string literal that reads like text for people.
func (c *checker) literal(x *ast.BasicLit) {
	if x.Kind != token.STRING || c.ok[x] {
		return
	}
	s, err := strconv.Unquote(x.Value)
	if err != nil || !hasLetters(s) || i18n.Has(s) || technical.MatchString(s) || strings.HasPrefix(s, "/") || c.vars[s] ||
		c.words[strings.Fields(s)[0]] || c.r.Technical != nil && c.r.Technical.MatchString(s) {
		return
	}
	c.report(x, s, "literal user-visible text")
}

func (c *checker) report(x ast.Node, s, why string) {
	c.found = append(c.found, Finding{Pos: c.fset.Position(x.Pos()), Text: s, Why: why})
}

func hasLetters(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}
