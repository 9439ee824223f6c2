package bot

import (
	"slices"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// adminError is a problem the person can fix (wrong argument, unknown name, refused change): shown as is.
// Admin commands answer with it; the everyday flows use it (userErr) for input they refuse themselves.
type adminError struct {
	title   string
	text    string
	details []string
	sugg    []cards.Suggestion
	// usage names the command of an argument error, msg and args its message: the card says them in the
	// admin's language (title, text and details above are the English, for logs and the audit).
	usage string
	msg   string
	args  []any
	// titleMsg and detailMsgs are the catalog ids of the title and the details when msg is set without
	// usage (userErr): rendered with args like msg.
	titleMsg   string
	detailMsgs []string
	// data are details that are values (candidate names), shown as they are after the catalog lines.
	data []string
	// kind is the domain error this one is (an *entitlement.InvalidInputError, see invalid), for errors.Is/As.
	kind error
}

// tCount renders id with the name/value pairs kv, as a plural message of the "Count" value when kv has one.
func tCount(l *i18n.Localizer, id string, kv []any) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if n, ok := kv[i+1].(int); ok && kv[i] == "Count" {
			return l.N(id, n, kv...)
		}
	}
	return l.T(id, kv...)
}

// msgRef is a catalog id given as a message's value: it is rendered in the reader's language (with the
// message's other values) before the message is.
type msgRef string

// orList is a message's value listing alternatives: it is joined as the reader's language writes "A, B or C".
type orList []string

// renderRefs returns the name/value pairs kv with every msgRef and orList value rendered by l.
func renderRefs(l *i18n.Localizer, kv []any) []any {
	out := slices.Clone(kv)
	for i := 1; i < len(out); i += 2 {
		switch v := out[i].(type) {
		case msgRef:
			out[i] = l.T(string(v), kv...)
		case orList:
			out[i] = l.Or(v)
		}
	}
	return out
}

// localized is e in l's language: an argument error's title, text and usage line, or a catalog error's
// title, text and details; an error built of text only is unchanged.
func (e *adminError) localized(l *i18n.Localizer) *adminError {
	out := *e
	switch {
	case e.usage != "":
		out.title = l.T("adm.usage.title", "Command", e.usage)
		out.text = "/" + e.usage + ": " + l.T(e.msg, renderRefs(l, e.args)...)
		out.details = []string{l.T("adm.usage.usage", "Usage", adminUsage[e.usage])}
		if len(e.details) > 1 {
			out.details = append(out.details, e.details[1:]...) // added after the usage line
		}
	case e.msg != "":
		args := renderRefs(l, e.args)
		out.text = tCount(l, e.msg, args)
		if e.titleMsg != "" {
			out.title = tCount(l, e.titleMsg, args)
		}
		out.details = nil
		for _, id := range e.detailMsgs {
			out.details = append(out.details, tCount(l, id, args))
		}
		out.details = append(out.details, e.data...)
	default:
		return e
	}
	return &out
}

// Unwrap is the domain error e is, if any.
func (e *adminError) Unwrap() error { return e.kind }

func (e *adminError) Error() string {
	if len(e.details) > 0 {
		return e.text + " (" + strings.Join(e.details, "; ") + ")"
	}
	return e.text
}

// admUsageErr is an argument error of a command: "/expiring: days must be …".
func admUsageErr(name, msg string, kv ...any) *adminError {
	return (&adminError{usage: name, msg: msg, args: kv}).localized(i18n.English())
}

// userErr is a refusal told in the reader's language: title and text are catalog ids rendered with the
// name/value pairs kv (Error() is the English, for logs and the audit).
func userErr(title, msg string, kv ...any) *adminError {
	return (&adminError{titleMsg: title, msg: msg, args: kv}).localized(i18n.English())
}

// withDetails adds catalog lines (rendered with e's values) below e's text.
func (e *adminError) withDetails(ids ...string) *adminError {
	e.detailMsgs = append(e.detailMsgs, ids...)
	*e = *e.localized(i18n.English())
	return e
}

// retitled changes e's title and text to other catalog ids, with more values.
func (e *adminError) retitled(title, msg string, kv ...any) *adminError {
	e.titleMsg, e.msg, e.args = title, msg, append(e.args, kv...)
	e.detailMsgs, e.data = nil, nil
	*e = *e.localized(i18n.English())
	return e
}

// is reports whether e is the catalog refusal titled title.
func (e *adminError) is(title string) bool { return e.titleMsg == title }

// invalid makes e bad input of field: an *entitlement.InvalidInputError (errors.As, with e's English text as
// the problem), for flows that treat bad input apart.
func (e *adminError) invalid(field string) *adminError {
	e.kind = entitlement.Invalid(field, e.text)
	return e
}
