package tenantsim

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds every request body the simulator reads (after gunzip).
const maxBody = 1 << 20

// graphErr is a Graph error answer: HTTP status, OData error code and message.
type graphErr struct {
	Status  int
	Code    string
	Message string
}

func (e *graphErr) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func errBadRequest(format string, a ...any) *graphErr {
	return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf(format, a...)}
}

func errNotFound(kind, id string) *graphErr {
	return &graphErr{Status: http.StatusNotFound, Code: "ResourceNotFound",
		Message: fmt.Sprintf("Resource '%s' of type '%s' does not exist or one of its queried reference-property objects are not present.", id, kind)}
}

func errForbidden(format string, a ...any) *graphErr {
	return &graphErr{Status: http.StatusForbidden, Code: "AccessDenied", Message: fmt.Sprintf(format, a...)}
}

func errConflict(format string, a ...any) *graphErr {
	return &graphErr{Status: http.StatusConflict, Code: "Conflict", Message: fmt.Sprintf(format, a...)}
}

// writeGraphError writes Graph's error envelope.
func writeGraphError(w http.ResponseWriter, r *http.Request, now time.Time, e *graphErr) {
	reqID := w.Header().Get("request-id")
	if reqID == "" {
		reqID = newID()
		w.Header().Set("request-id", reqID)
	}
	body := map[string]any{
		"error": map[string]any{
			"code":    e.Code,
			"message": e.Message,
			"innerError": map[string]any{
				"date":              now.UTC().Format("2006-01-02T15:04:05"),
				"request-id":        reqID,
				"client-request-id": clientRequestID(r, reqID),
			},
		},
	}
	writeJSON(w, e.Status, body)
}

func clientRequestID(r *http.Request, fallback string) string {
	if v := r.Header.Get("client-request-id"); v != "" {
		return v
	}
	return fallback
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// readBody returns the request body, gunzipping it when Content-Encoding says gzip.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, maxBody)
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("request body is not valid gzip: %w", err)
		}
		defer gz.Close()
		rd = io.LimitReader(gz, maxBody+1)
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q (expected gzip or none)", r.Header.Get("Content-Encoding"))
	}
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(data) > maxBody {
		return nil, fmt.Errorf("request body larger than %d bytes", maxBody)
	}
	return data, nil
}

// readJSONObject decodes the body as a JSON object (empty body -> empty object).
func readJSONObject(r *http.Request) (map[string]any, *graphErr) {
	data, err := readBody(r)
	if err != nil {
		return nil, errBadRequest("%v", err)
	}
	out := map[string]any{}
	if len(strings.TrimSpace(string(data))) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, errBadRequest("Invalid JSON in request body: %v", err)
	}
	return out, nil
}

// ---- small accessors for decoded JSON (case-insensitive keys, like Graph) ----

func jget(m map[string]any, key string) (any, bool) {
	if m == nil {
		return nil, false
	}
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func jstr(m map[string]any, key string) string {
	v, _ := jget(m, key)
	s, _ := v.(string)
	return s
}

func jobj(m map[string]any, key string) map[string]any {
	v, _ := jget(m, key)
	o, _ := v.(map[string]any)
	return o
}

func jarr(m map[string]any, key string) []any {
	v, _ := jget(m, key)
	a, _ := v.([]any)
	return a
}

// ---- query options ----

type query struct {
	Select  map[string]bool
	Expand  map[string]bool // lower-case nav names; nested as "outer/inner"
	Filter  *filterExpr
	Top     int
	Skip    int
	Search  string
	Count   bool
	OrderBy string
	Desc    bool
	Raw     url.Values
}

func parseQuery(r *http.Request) (*query, *graphErr) {
	vals := r.URL.Query()
	q := &query{Raw: vals}
	get := func(name string) string {
		if v := vals.Get("$" + name); v != "" {
			return v
		}
		return vals.Get(name)
	}
	if s := get("select"); s != "" {
		q.Select = map[string]bool{}
		for _, p := range strings.Split(s, ",") {
			q.Select[strings.ToLower(strings.TrimSpace(p))] = true
		}
	}
	if s := get("expand"); s != "" {
		q.Expand = map[string]bool{}
		addExpand(q.Expand, "", s)
	}
	if s := get("filter"); s != "" {
		f, err := parseFilter(s)
		if err != nil {
			return nil, &graphErr{Status: http.StatusBadRequest, Code: "BadRequest", Message: fmt.Sprintf("Invalid filter clause: %v", err)}
		}
		q.Filter = f
	}
	if s := get("top"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, errBadRequest("Invalid $top value %q: expected a non-negative integer.", s)
		}
		q.Top = n
	}
	if s := get("skip"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, errBadRequest("Invalid $skip value %q: expected a non-negative integer.", s)
		}
		q.Skip = n
	}
	if s := get("skiptoken"); s != "" {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "o="))
		if err != nil || err2 != nil || n < 0 {
			return nil, errBadRequest("Invalid $skiptoken value.")
		}
		q.Skip = n
	}
	if s := get("search"); s != "" {
		q.Search = strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`))
		if i := strings.Index(q.Search, ":"); i >= 0 {
			q.Search = strings.Trim(q.Search[i+1:], `"`)
		}
	}
	if s := get("count"); strings.EqualFold(s, "true") {
		q.Count = true
	}
	if s := get("orderby"); s != "" {
		parts := strings.Fields(s)
		q.OrderBy = parts[0]
		if len(parts) > 1 && strings.EqualFold(parts[1], "desc") {
			q.Desc = true
		}
	}
	return q, nil
}

// addExpand records $expand items, including nested ones such as
// assignmentPolicies($expand=questions) as "assignmentpolicies/questions".
func addExpand(set map[string]bool, prefix, s string) {
	for _, p := range splitTopLevel(s) {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		name, opts := p, ""
		if i := strings.Index(p, "("); i >= 0 && strings.HasSuffix(p, ")") {
			name, opts = p[:i], p[i+1:len(p)-1]
		}
		key := prefix + strings.ToLower(strings.TrimSpace(name))
		set[key] = true
		for _, o := range strings.Split(opts, ";") {
			if k, v, ok := strings.Cut(o, "="); ok && strings.EqualFold(strings.TrimSpace(k), "$expand") {
				addExpand(set, key+"/", v)
			}
		}
	}
}

func (q *query) expands(nav string) bool {
	if q == nil || q.Expand == nil {
		return false
	}
	return q.Expand[strings.ToLower(nav)] || q.Expand["*"]
}

// splitTopLevel splits on commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// applySelect keeps the selected properties (plus id, annotations and expanded navigations).
func applySelect(obj map[string]any, q *query) map[string]any {
	if q == nil || q.Select == nil {
		return obj
	}
	out := map[string]any{}
	for k, v := range obj {
		lk := strings.ToLower(k)
		if q.Select[lk] || lk == "id" || strings.HasPrefix(k, "@") || q.expands(k) {
			out[k] = v
		}
	}
	return out
}

// collection filters, searches, orders and pages full (filterable) objects and
// writes the OData collection response. full renders an item with every
// navigation expanded (used for $filter); view renders what the caller asked for.
type item struct {
	full map[string]any
	view func() map[string]any
}

// sameItem is an item whose filterable and shown renderings are one object (it has no navigation to expand),
// rendered once.
func sameItem(m map[string]any) item { return item{full: m, view: func() map[string]any { return m }} }

func (s *Sim) writeCollection(w http.ResponseWriter, r *http.Request, q *query, contextPath string, items []item, searchFields ...string) {
	filtered := make([]item, 0, len(items))
	for _, it := range items {
		if q.Filter != nil && !q.Filter.eval(it.full) {
			continue
		}
		if q.Search != "" && !matchesSearch(it.full, q.Search, searchFields) {
			continue
		}
		filtered = append(filtered, it)
	}
	if q.OrderBy != "" {
		key := q.OrderBy
		sort.SliceStable(filtered, func(i, j int) bool {
			a := fmt.Sprint(lookupPath(filtered[i].full, key))
			b := fmt.Sprint(lookupPath(filtered[j].full, key))
			if q.Desc {
				return strings.ToLower(a) > strings.ToLower(b)
			}
			return strings.ToLower(a) < strings.ToLower(b)
		})
	}
	total := len(filtered)
	start := q.Skip
	if start > total {
		start = total
	}
	pageSize := 100
	if q.Top > 0 && q.Top < pageSize {
		pageSize = q.Top
	}
	end := start + pageSize
	if end > total {
		end = total
	}
	values := make([]any, 0, end-start)
	for _, it := range filtered[start:end] {
		values = append(values, applySelect(it.view(), q))
	}
	body := map[string]any{
		"@odata.context": s.graphBase() + "/$metadata#" + contextPath,
		"value":          values,
	}
	if q.Count {
		body["@odata.count"] = total
	}
	if end < total {
		vals := url.Values{}
		for k, v := range q.Raw {
			if strings.EqualFold(strings.TrimPrefix(k, "$"), "skiptoken") || strings.EqualFold(strings.TrimPrefix(k, "$"), "skip") {
				continue
			}
			vals[k] = v
		}
		vals.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte("o="+strconv.Itoa(end))))
		body["@odata.nextLink"] = s.opts.BaseURL + r.URL.EscapedPath() + "?" + vals.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}

func matchesSearch(obj map[string]any, term string, fields []string) bool {
	if len(fields) == 0 {
		fields = []string{"displayName", "description"}
	}
	for _, f := range fields {
		if s, ok := lookupPath(obj, f).(string); ok && strings.Contains(strings.ToLower(s), term) {
			return true
		}
	}
	return false
}

// writeEntity writes a single object with its @odata.context.
func (s *Sim) writeEntity(w http.ResponseWriter, status int, q *query, contextPath string, obj map[string]any) {
	out := applySelect(obj, q)
	out["@odata.context"] = s.graphBase() + "/$metadata#" + contextPath + "/$entity"
	writeJSON(w, status, out)
}

// lookupPath resolves "a/b/c" case-insensitively in nested maps.
func lookupPath(obj map[string]any, path string) any {
	var cur any = obj
	for _, part := range strings.Split(path, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		v, ok := jget(m, part)
		if !ok {
			return nil
		}
		cur = v
	}
	return cur
}
