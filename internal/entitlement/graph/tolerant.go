package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	khttp "github.com/microsoft/kiota-http-go"
)

// rawPrefix prefixes the additional-data key under which tolerantReader keeps an enum string (state,
// requestType) exactly as Graph sent it, so a value the SDK does not know (it parses to nil) is not lost.
const rawPrefix = "accessbot.raw."

// maxTolerantBody bounds the answers tolerantReader rewrites; larger bodies pass through untouched.
const maxTolerantBody = 8 << 20

// tolerantReader rewrites a successful JSON answer into the v1.0 shape before the SDK parses it. The SDK
// fails a whole response on one property of an unexpected type, and silently drops enum values it does
// not know; Microsoft's own v1.0 pages still show older shapes that real tenants send:
//   - requestState / requestStatus / completedDate beside state / status / completedDateTime;
//   - enum values in PascalCase (UserAdd, AdminAdd, Delivered, PendingApproval);
//   - a question's text or a choice's displayValue as an accessPackageLocalizedText object
//     ({defaultText, localizedTexts[]}) instead of a string plus localizations[];
//   - allowsMultipleSelection instead of isMultipleSelectionAllowed.
//
// Question properties of the wrong JSON type are dropped (and logged) instead of failing every question.
// An enum value nobody knows is kept under rawPrefix+property and logged once at warn.
type tolerantReader struct {
	log  *slog.Logger
	seen *sync.Map
}

// Intercept implements khttp.Middleware.
func (t tolerantReader) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := p.Next(req, i)
	if err != nil || resp == nil || resp.StatusCode < 200 || resp.StatusCode > 299 || resp.Body == nil {
		return resp, err
	}
	if !strings.Contains(req.URL.Path, "/identityGovernance/entitlementManagement/") {
		// Only entitlement management answers have these shapes (a user's "state" is a province).
		return resp, nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return resp, nil
	}
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTolerantBody+1))
	_ = resp.Body.Close()
	if rerr != nil {
		// Hand the SDK what was read plus the failure, as the transport would have.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), errReader{rerr}))
		return resp, nil
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if len(raw) > maxTolerantBody {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), resp.Body))
		return resp, nil
	}
	if !needsRewrite(raw, req.URL.Path) {
		return resp, nil // the SDK reads it as it would read the rewritten body: handed over untouched
	}
	out, changed := t.rewrite(raw, req.URL.Path)
	if changed {
		resp.Body = io.NopCloser(bytes.NewReader(out))
		resp.ContentLength = int64(len(out))
		resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// rewrite returns body in the v1.0 shape and whether anything changed. A body that is not a JSON
// object is returned as is (the SDK reports it).
func (t tolerantReader) rewrite(body []byte, path string) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return body, false
	}
	if !t.walk(v, "", path) {
		return body, false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body, false
	}
	return out, true
}

// walk normalizes v in place; key is the property v was found under.
func (t tolerantReader) walk(v any, key, path string) bool {
	changed := false
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			changed = t.walk(e, key, path) || changed
		}
	case map[string]any:
		changed = t.object(x, key, path)
		for k, e := range x {
			changed = t.walk(e, k, path) || changed
		}
	}
	return changed
}

// renamed maps legacy property names to their v1.0 names.
var renamed = map[string]string{
	"requestState":            "state",
	"requestStatus":           "status",
	"completedDate":           "completedDateTime",
	"allowsMultipleSelection": "isMultipleSelectionAllowed",
}

func (t tolerantReader) object(m map[string]any, key, path string) bool {
	changed := false
	for old, name := range renamed {
		if v, ok := m[old]; ok {
			if cur, has := m[name]; !has || cur == nil {
				m[name] = v
			}
			delete(m, old)
			changed = true
		}
	}
	if isDirectoryObject(m) {
		// A user (a sponsor, say) read under an entitlement path: its "state" is a province, not an enum.
		return changed
	}
	for _, k := range []string{"state", "requestType"} {
		s, ok := m[k].(string)
		if !ok || s == "" {
			continue
		}
		camel := lowerFirst(s)
		if camel != s {
			m[k] = camel
			changed = true
		}
		m[rawPrefix+k] = s
		changed = true
		if !knownEnum[k][camel] {
			t.warnOnce(k, s, path)
		}
	}
	if localizedObject(m, "text", "") {
		changed = true
	}
	if _, isChoice := m["actualValue"]; isChoice {
		if localizedObject(m, "displayValue", "text") {
			changed = true
		}
	} else if lt, ok := m["displayValue"].(map[string]any); ok {
		// An answer's displayValue as a localized text: keep its default text.
		m["displayValue"] = defaultOf(lt)
		changed = true
	}
	if key == "questions" || key == "answeredQuestion" {
		changed = t.sanitizeQuestion(m, path) || changed
	}
	return changed
}

// isDirectoryObject reports whether m is a user or another directory object (not an entitlement one).
func isDirectoryObject(m map[string]any) bool {
	t, _ := m["@odata.type"].(string)
	if strings.HasPrefix(t, "#microsoft.graph.") {
		switch strings.TrimPrefix(t, "#microsoft.graph.") {
		case "user", "group", "servicePrincipal", "directoryObject", "device", "orgContact":
			return true
		}
	}
	_, upn := m["userPrincipalName"]
	return upn
}

// localizedObject turns m[from] holding {defaultText, localizedTexts[]} into m[to] = the default text
// and m["localizations"] = the translations (to defaults to from). It reports whether it changed m.
func localizedObject(m map[string]any, from, to string) bool {
	lt, ok := m[from].(map[string]any)
	if !ok {
		return false
	}
	if to == "" {
		to = from
	}
	if to != from {
		delete(m, from)
	}
	if s, has := m[to].(string); !has || s == "" || to == from {
		m[to] = defaultOf(lt)
	}
	if locs, has := m["localizations"].([]any); !has || len(locs) == 0 {
		if texts, ok := lt["localizedTexts"].([]any); ok {
			m["localizations"] = texts
		}
	}
	return true
}

// defaultOf is the default text of an accessPackageLocalizedText-like object; when it has none, the
// first translation (the docs show choices with localizedTexts only).
func defaultOf(lt map[string]any) string {
	if s, ok := lt["defaultText"].(string); ok && s != "" {
		return s
	}
	if texts, ok := lt["localizedTexts"].([]any); ok {
		for _, e := range texts {
			if o, ok := e.(map[string]any); ok {
				if s, ok := o["text"].(string); ok && s != "" {
					return s
				}
			}
		}
	}
	return ""
}

// questionTypes are the JSON types of the v1.0 question properties ('s' string, 'b' bool, 'n' number,
// 'a' array).
var questionTypes = map[string]byte{
	"id": 's', "text": 's', "isRequired": 'b', "isAnswerEditable": 'b', "sequence": 'n',
	"isSingleLineQuestion": 'b', "regexPattern": 's', "isMultipleSelectionAllowed": 'b',
	"choices": 'a', "localizations": 'a', "@odata.type": 's',
}

// sanitizeQuestion makes the properties of a question, its choices and its localizations the JSON
// type the SDK expects: a number or boolean where a string belongs becomes its text, "true"/"false" and
// numeric strings become booleans and numbers, anything else of the wrong type is dropped (and logged),
// and list entries that are not objects are dropped — so one odd question does not fail the whole answer.
func (t tolerantReader) sanitizeQuestion(q map[string]any, path string) bool {
	changed := false
	for k, want := range questionTypes {
		if fixType(q, k, want) {
			t.log.Warn("graph question property has an unexpected type", "property", k, "question", q["id"], "path", path)
			changed = true
		}
	}
	for _, k := range []string{"choices", "localizations"} {
		list, ok := q[k].([]any)
		if !ok {
			continue
		}
		kept := list[:0:0]
		for _, e := range list {
			o, ok := e.(map[string]any)
			if !ok {
				changed = true
				continue
			}
			for pk, pv := range o {
				if _, nested := pv.(map[string]any); nested || pk == "localizations" {
					continue // a localized text object (normalized next) or the localizations list
				}
				changed = fixType(o, pk, 's') || changed
			}
			kept = append(kept, o)
		}
		q[k] = kept
	}
	return changed
}

// fixType converts or drops m[k] when it is not of JSON kind want (null and absent are fine); it reports
// whether it changed m.
func fixType(m map[string]any, k string, want byte) bool {
	v, ok := m[k]
	if !ok || v == nil || jsonKind(v) == want {
		return false
	}
	switch x := v.(type) {
	case json.Number:
		if want == 's' {
			m[k] = x.String()
			return true
		}
	case bool:
		if want == 's' {
			m[k] = strconv.FormatBool(x)
			return true
		}
	case string:
		switch want {
		case 'b':
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				m[k] = b
				return true
			}
		case 'n':
			if _, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32); err == nil {
				m[k] = json.Number(strings.TrimSpace(x))
				return true
			}
		}
	}
	delete(m, k)
	return true
}

func jsonKind(v any) byte {
	switch v.(type) {
	case string:
		return 's'
	case bool:
		return 'b'
	case json.Number, float64:
		return 'n'
	case []any:
		return 'a'
	case map[string]any:
		return 'o'
	}
	return 0
}

func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// knownEnum lists, per property, the values this client maps to a domain value (request, assignment,
// catalog and connected organization states; request types).
var knownEnum = map[string]map[string]bool{
	"state": set("submitted", "pendingApproval", "delivering", "delivered", "deliveryFailed", "denied",
		"scheduled", "canceled", "cancelled", "partiallyDelivered", "accepted", "expired",
		"published", "unpublished", "configured", "proposed"),
	"requestType": set("userAdd", "userUpdate", "userRemove", "adminAdd", "adminUpdate", "adminRemove",
		"systemAdd", "systemUpdate", "systemRemove", "onBehalfAdd", "notSpecified"),
}

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// warnOnce logs an enum value this client does not know, once per property and value.
func (t tolerantReader) warnOnce(prop, value, path string) {
	if t.seen == nil {
		return
	}
	if _, dup := t.seen.LoadOrStore(prop+"="+value, true); dup {
		return
	}
	t.log.Warn("graph sent a value this client does not know; kept as is", "property", prop, "value", value, "path", path)
}
