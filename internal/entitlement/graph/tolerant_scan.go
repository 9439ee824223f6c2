package graph

import (
	"bytes"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// needsRewrite reports whether tolerantReader must decode body and rewrite it (rewrite); when it returns
// false the body is handed to the SDK untouched, which reads it exactly as it reads the rewritten body. It
// reads body once, without decoding it, and says false only for a JSON object in which:
//   - no key is a legacy name (renamed), "questions" or "answeredQuestion" (those objects are sanitized), and
//     no "text" or "displayValue" holds an object (a localized text);
//   - every "state" and "requestType" string is one knownEnum lists, so walk would neither lower its first
//     letter nor log it;
//   - on an item of the answer (the object itself, or an entry of its "value" list: what toRequest and
//     toAssignment read) every such string is one the SDK reads as itself and readState maps for the
//     path's entity (itemStates), so the raw copy walk keeps under rawPrefix would never be consulted;
//   - no key or enum string holds an escape, and nothing but white space follows the object.
//
// Anything else, including malformed JSON, says true: rewrite then does what it always did.
func needsRewrite(body []byte, path string) bool {
	safe := itemStates(path)
	var stack [maxScanDepth]scanFrame
	depth := 0
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return true
	}
	pending := scanFrame{item: true} // what the next container opened is
	for i < len(body) {
		switch c := body[i]; c {
		case '{', '[':
			if depth == maxScanDepth {
				return true
			}
			f := pending
			f.obj = c == '{'
			if !f.obj {
				f.item = false
			}
			stack[depth] = f
			depth++
			pending = scanFrame{item: !f.obj && f.valueList}
			i++
		case '}', ']':
			if depth == 0 {
				return true
			}
			depth--
			i++
			if depth == 0 {
				return skipSpace(body, i) != len(body)
			}
			pending = scanFrame{item: !stack[depth-1].obj && stack[depth-1].valueList}
		case '"':
			end, ok := stringEnd(body, i)
			if !ok {
				return true
			}
			next := skipSpace(body, end)
			if depth == 0 || !stack[depth-1].obj || next >= len(body) || body[next] != ':' {
				i = end // a string value
				continue
			}
			key := body[i+1 : end-1]
			v := skipSpace(body, next+1)
			if v >= len(body) || keyNeedsRewrite(key, body, v, stack[depth-1].item, safe) {
				return true
			}
			pending = scanFrame{valueList: depth == 1 && string(key) == "value"}
			i = v
		default:
			i++
		}
	}
	return true // the object never closed
}

// maxScanDepth bounds the nesting needsRewrite follows; a deeper body is rewritten (decoded) as before.
const maxScanDepth = 32

// scanFrame is an open object or list: obj for an object; item for an item of the answer; valueList for
// the answer's "value" list.
type scanFrame struct {
	obj, item, valueList bool
}

// keyNeedsRewrite reports whether the property key, whose value starts at body[v], in an object that is an
// item of the answer or not, makes walk change something that matters (see needsRewrite); safe is the states
// an item may have (itemStates).
func keyNeedsRewrite(key, body []byte, v int, item bool, safe map[string]bool) bool {
	if bytes.IndexByte(key, '\\') >= 0 {
		return true
	}
	switch string(key) {
	case "requestState", "requestStatus", "completedDate", "allowsMultipleSelection", "questions", "answeredQuestion":
		return true
	case "text", "displayValue":
		return body[v] == '{'
	case "state", "requestType":
		if body[v] != '"' {
			return false // not a string: walk leaves it
		}
		end, ok := stringEnd(body, v)
		if !ok {
			return true
		}
		s := body[v+1 : end-1]
		if len(s) == 0 {
			return false
		}
		if bytes.IndexByte(s, '\\') >= 0 || !knownEnum[string(key)][string(s)] {
			return true
		}
		if string(key) == "requestType" {
			return item && !sdkRequestTypes[string(s)]
		}
		return item && !safe[string(s)]
	}
	return false
}

// itemStates is the states an item of the answer at path may have without a raw copy: the SDK reads them as
// themselves for the path's entity and readState maps them. On a path that is neither requests' nor
// assignments' (its items may be either, as far as this knows) they must be safe for both.
func itemStates(path string) map[string]bool {
	requests := strings.Contains(path, "/assignmentRequests")
	assignments := strings.Contains(path, "/assignments")
	switch {
	case requests && !assignments:
		return safeRequestStates
	case assignments && !requests:
		return safeAssignmentStates
	}
	return safeStatesBoth
}

// safeRequestStates, safeAssignmentStates and sdkRequestTypes are the knownEnum values the SDK reads as
// themselves (and, for states, readState maps), computed from the SDK's own parsers; safeStatesBoth is
// the states safe for both entities.
var (
	safeRequestStates = sdkReadable(knownEnum["state"], models.ParseAccessPackageRequestState, func(v string) bool {
		_, ok := requestStates[strings.ToLower(v)]
		return ok
	})
	safeAssignmentStates = sdkReadable(knownEnum["state"], models.ParseAccessPackageAssignmentState, func(v string) bool {
		_, ok := assignmentStates[strings.ToLower(v)]
		return ok
	})
	sdkRequestTypes = sdkReadable(knownEnum["requestType"], models.ParseAccessPackageRequestType, func(string) bool { return true })
	safeStatesBoth  = both(safeRequestStates, safeAssignmentStates)
)

// both is the keys a and b have in common.
func both(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		if b[k] {
			out[k] = true
		}
	}
	return out
}

// sdkReadable is the values of known that parse reads to an enum whose String() is the value and that mapped
// accepts.
func sdkReadable(known map[string]bool, parse func(string) (any, error), mapped func(string) bool) map[string]bool {
	out := map[string]bool{}
	for v := range known {
		p, err := parse(v)
		if s, ok := p.(interface{ String() string }); err == nil && ok && s.String() == v && mapped(v) {
			out[v] = true
		}
	}
	return out
}

// stringEnd returns the index just past the JSON string starting at body[i] (a '"'): the first quote after
// it that is not escaped (preceded by an even number of backslashes).
func stringEnd(body []byte, i int) (int, bool) {
	for j := i + 1; j < len(body); j++ {
		k := bytes.IndexByte(body[j:], '"')
		if k < 0 {
			return 0, false
		}
		j += k
		slashes := 0
		for p := j - 1; p > i && body[p] == '\\'; p-- {
			slashes++
		}
		if slashes%2 == 0 {
			return j + 1, true
		}
	}
	return 0, false
}

func skipSpace(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
