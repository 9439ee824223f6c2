package tenantsim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ---- $filter: a small OData expression parser (eq ne in and or not, contains,
// startswith, endswith, parentheses, string/bool/null/number literals) ----

type filterExpr struct {
	op    string // and or not eq ne gt ge lt le fn prop lit
	left  *filterExpr
	right *filterExpr
	fn    string
	args  []*filterExpr
	prop  string
	lit   any
}

type ftoken struct {
	kind string // ident str num punct
	text string
}

func lexFilter(s string) ([]ftoken, error) {
	var out []ftoken
	i := 0
	for i < len(s) {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, ftoken{"punct", string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, errors.New("unterminated string literal")
			}
			out = append(out, ftoken{"str", b.String()})
		case c == '-' || unicode.IsDigit(c) || unicode.IsLetter(c) || c == '_' || c == '@' || c == '$':
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || strings.ContainsRune("_/.-:@$", rune(s[j]))) {
				j++
			}
			tok := s[i:j]
			if tok[0] == '-' || unicode.IsDigit(rune(tok[0])) {
				if _, err := strconv.ParseFloat(tok, 64); err == nil {
					out = append(out, ftoken{"num", tok})
					i = j
					continue
				}
			}
			out = append(out, ftoken{"ident", tok})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", c, i)
		}
	}
	return out, nil
}

type fparser struct {
	toks []ftoken
	pos  int
}

func parseFilter(s string) (*filterExpr, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, err
	}
	p := &fparser{toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected token %q", p.toks[p.pos].text)
	}
	return e, nil
}

func (p *fparser) peek() *ftoken {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *fparser) isKeyword(kw string) bool {
	t := p.peek()
	return t != nil && t.kind == "ident" && strings.EqualFold(t.text, kw)
}

func (p *fparser) parseOr() (*filterExpr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		p.pos++
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &filterExpr{op: "or", left: left, right: right}
	}
	return left, nil
}

func (p *fparser) parseAnd() (*filterExpr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		p.pos++
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &filterExpr{op: "and", left: left, right: right}
	}
	return left, nil
}

func (p *fparser) parseUnary() (*filterExpr, error) {
	if p.isKeyword("not") {
		p.pos++
		e, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return &filterExpr{op: "not", left: e}, nil
	}
	return p.parseComparison()
}

func (p *fparser) parseComparison() (*filterExpr, error) {
	left, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t != nil && t.kind == "ident" {
		switch op := strings.ToLower(t.text); op {
		case "eq", "ne", "gt", "ge", "lt", "le":
			p.pos++
			right, err := p.parsePrimary()
			if err != nil {
				return nil, err
			}
			return &filterExpr{op: op, left: left, right: right}, nil
		case "in":
			p.pos++
			list, err := p.parseList()
			if err != nil {
				return nil, err
			}
			return &filterExpr{op: "in", left: left, args: list}, nil
		}
	}
	return left, nil
}

// parseList reads the literal list of "in": ('a', 'b', …).
func (p *fparser) parseList() ([]*filterExpr, error) {
	if t := p.peek(); t == nil || t.text != "(" {
		return nil, errors.New("in needs a parenthesised list")
	}
	p.pos++
	var out []*filterExpr
	for {
		e, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		t := p.peek()
		if t == nil {
			return nil, errors.New("missing closing parenthesis")
		}
		p.pos++
		if t.text == ")" {
			return out, nil
		}
		if t.text != "," {
			return nil, fmt.Errorf("unexpected %q in the list of in", t.text)
		}
	}
}

func (p *fparser) parsePrimary() (*filterExpr, error) {
	t := p.peek()
	if t == nil {
		return nil, errors.New("unexpected end of expression")
	}
	switch t.kind {
	case "punct":
		if t.text != "(" {
			return nil, fmt.Errorf("unexpected %q", t.text)
		}
		p.pos++
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if nt := p.peek(); nt == nil || nt.text != ")" {
			return nil, errors.New("missing closing parenthesis")
		}
		p.pos++
		return e, nil
	case "str":
		p.pos++
		return &filterExpr{op: "lit", lit: t.text}, nil
	case "num":
		p.pos++
		f, _ := strconv.ParseFloat(t.text, 64)
		return &filterExpr{op: "lit", lit: f}, nil
	}
	p.pos++
	if _, err := time.Parse(time.RFC3339, t.text); err == nil {
		// An OData DateTimeOffset literal (unquoted).
		return &filterExpr{op: "lit", lit: t.text}, nil
	}
	switch strings.ToLower(t.text) {
	case "true":
		return &filterExpr{op: "lit", lit: true}, nil
	case "false":
		return &filterExpr{op: "lit", lit: false}, nil
	case "null":
		return &filterExpr{op: "lit", lit: nil}, nil
	}
	if nt := p.peek(); nt != nil && nt.text == "(" {
		fn := strings.ToLower(t.text)
		switch fn {
		case "contains", "startswith", "endswith", "tolower", "toupper":
		default:
			return nil, fmt.Errorf("unsupported function %q", t.text)
		}
		p.pos++
		var args []*filterExpr
		for {
			a, err := p.parseOr()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			nt := p.peek()
			if nt == nil {
				return nil, errors.New("missing closing parenthesis")
			}
			p.pos++
			if nt.text == ")" {
				break
			}
			if nt.text != "," {
				return nil, fmt.Errorf("unexpected %q in arguments", nt.text)
			}
		}
		return &filterExpr{op: "fn", fn: fn, args: args}, nil
	}
	return &filterExpr{op: "prop", prop: t.text}, nil
}

// mentions reports whether the expression references the property path.
func (e *filterExpr) mentions(path string) bool {
	if e == nil {
		return false
	}
	if e.op == "prop" && strings.EqualFold(e.prop, path) {
		return true
	}
	for _, a := range e.args {
		if a.mentions(path) {
			return true
		}
	}
	return e.left.mentions(path) || e.right.mentions(path)
}

func (e *filterExpr) value(obj map[string]any) any {
	switch e.op {
	case "lit":
		return e.lit
	case "prop":
		return lookupPath(obj, e.prop)
	case "fn":
		switch e.fn {
		case "tolower", "toupper":
			s, _ := e.args[0].value(obj).(string)
			if e.fn == "tolower" {
				return strings.ToLower(s)
			}
			return strings.ToUpper(s)
		}
		return e.eval(obj)
	}
	return e.eval(obj)
}

func (e *filterExpr) eval(obj map[string]any) bool {
	switch e.op {
	case "and":
		return e.left.eval(obj) && e.right.eval(obj)
	case "or":
		return e.left.eval(obj) || e.right.eval(obj)
	case "not":
		return !e.left.eval(obj)
	case "in":
		v := e.left.value(obj)
		for _, a := range e.args {
			if c, ok := compare(v, a.value(obj)); ok && c == 0 {
				return true
			}
		}
		return false
	case "eq", "ne", "gt", "ge", "lt", "le":
		c, ok := compare(e.left.value(obj), e.right.value(obj))
		switch e.op {
		case "eq":
			return ok && c == 0
		case "ne":
			return !ok || c != 0
		case "gt":
			return ok && c > 0
		case "ge":
			return ok && c >= 0
		case "lt":
			return ok && c < 0
		case "le":
			return ok && c <= 0
		}
	case "fn":
		if len(e.args) != 2 {
			return false
		}
		a, _ := e.args[0].value(obj).(string)
		b, _ := e.args[1].value(obj).(string)
		a, b = strings.ToLower(a), strings.ToLower(b)
		switch e.fn {
		case "contains":
			return strings.Contains(a, b)
		case "startswith":
			return strings.HasPrefix(a, b)
		case "endswith":
			return strings.HasSuffix(a, b)
		}
	case "prop", "lit":
		b, _ := e.value(obj).(bool)
		return b
	}
	return false
}

// compare compares JSON values; strings compare case-insensitively (as Graph does
// for enum and most string properties). ok is false when the types differ.
func compare(a, b any) (int, bool) {
	if a == nil || b == nil {
		if a == nil && b == nil {
			return 0, true
		}
		return 1, false
	}
	switch av := a.(type) {
	case string:
		bv, ok := b.(string)
		if !ok {
			return 0, false
		}
		if at, err1 := time.Parse(time.RFC3339, av); err1 == nil {
			if bt, err2 := time.Parse(time.RFC3339, bv); err2 == nil {
				return at.Compare(bt), true
			}
		}
		return strings.Compare(strings.ToLower(av), strings.ToLower(bv)), true
	case bool:
		bv, ok := b.(bool)
		if !ok {
			return 0, false
		}
		if av == bv {
			return 0, true
		}
		return 1, true
	case float64:
		var bv float64
		switch x := b.(type) {
		case float64:
			bv = x
		case int:
			bv = float64(x)
		default:
			return 0, false
		}
		switch {
		case av < bv:
			return -1, true
		case av > bv:
			return 1, true
		}
		return 0, true
	case int:
		return compare(float64(av), b)
	}
	return 0, false
}
