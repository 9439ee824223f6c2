package tenantsim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func (s *Sim) routes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/v1.0" || strings.HasPrefix(path, "/v1.0/"):
			s.serveGraph(w, r)
		case strings.HasPrefix(path, "/_sim/"):
			s.serveAdmin(w, r)
		default:
			s.serveEntra(w, r)
		}
	})
}

// serveEntra routes the per-tenant Entra endpoints.
func (s *Sim) serveEntra(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	tid, rest := parts[0], strings.Join(parts[1:], "/")
	switch rest {
	case "v2.0/.well-known/openid-configuration", ".well-known/openid-configuration":
		s.handleOpenIDConfig(w, r, tid)
	case "discovery/v2.0/keys", "discovery/keys":
		s.handleJWKS(w, r, tid)
	case "oauth2/v2.0/token":
		if s.injectFault(w, r, true) {
			return
		}
		s.handleToken(w, r, tid)
	default:
		http.NotFound(w, r)
	}
}

// gctx is one Graph request being served (s.mu held).
type gctx struct {
	w       http.ResponseWriter
	r       *http.Request
	c       *caller
	q       *query
	seg     []string
	mutated bool
}

func (s *Sim) serveGraph(w http.ResponseWriter, r *http.Request) {
	reqID := newID()
	w.Header().Set("request-id", reqID)
	w.Header().Set("client-request-id", clientRequestID(r, reqID))
	if s.injectFault(w, r, false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The state is written at most once per request, after everything it changed.
	dirty := s.tickLocked()
	defer func() {
		if dirty {
			s.persistLocked()
		}
	}()
	c, gerr := s.authenticate(r)
	if gerr != nil {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, s.opts.BaseURL, graphAppID))
		writeGraphError(w, r, s.now(), gerr)
		return
	}
	q, gerr := parseQuery(r)
	if gerr != nil {
		writeGraphError(w, r, s.now(), gerr)
		return
	}
	path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1.0"), "/")
	g := &gctx{w: w, r: r, c: c, q: q, seg: splitPath(path)}
	if err := s.dispatch(g); err != nil {
		writeGraphError(w, r, s.now(), err)
	}
	dirty = dirty || g.mutated
	s.log.Debug("graph request", "method", r.Method, "path", r.URL.Path, "tenant", c.TenantID, "appOnly", c.AppOnly)
}

// splitPath splits on "/" outside quotes and parentheses.
func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	var out []string
	depth, inq, start := 0, false, 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\'':
			inq = !inq
		case '(':
			if !inq {
				depth++
			}
		case ')':
			if !inq {
				depth--
			}
		case '/':
			if depth == 0 && !inq {
				out = append(out, p[start:i])
				start = i + 1
			}
		}
	}
	return append(out, p[start:])
}

// parseFunc parses "name(a='x',b='y')" into the name and arguments.
func parseFunc(seg string) (string, map[string]string, bool) {
	i := strings.Index(seg, "(")
	if i < 0 || !strings.HasSuffix(seg, ")") {
		return seg, nil, false
	}
	name := seg[:i]
	args := map[string]string{}
	inner := seg[i+1 : len(seg)-1]
	for _, part := range splitTopLevel(inner) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
			v = strings.ReplaceAll(v[1:len(v)-1], "''", "'")
		}
		if uv, err := url.PathUnescape(v); err == nil {
			v = uv
		}
		args[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return name, args, true
}

func methodNotAllowed(r *http.Request) *graphErr {
	return &graphErr{Status: http.StatusMethodNotAllowed, Code: "Request_BadRequest",
		Message: fmt.Sprintf("The HTTP method '%s' is not allowed for this resource.", r.Method)}
}

// currentUserFilter reads seg as entity's function filterByCurrentUser(on='…'); ok is false when seg is
// something else. It checks the call in Graph's order, the request's shape before who asks: a function
// answers only GET (405), on must be one of allowed (400; matched ignoring case, returned as allowed spells
// it), and only a signed-in user may call it (403: application tokens are not supported).
func currentUserFilter(g *gctx, seg, entity string, allowed ...string) (on string, ok bool, gerr *graphErr) {
	name, args, isFunc := parseFunc(seg)
	if !isFunc || !strings.EqualFold(name, "filterByCurrentUser") {
		return "", false, nil
	}
	if g.r.Method != http.MethodGet {
		return "", true, methodNotAllowed(g.r)
	}
	i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, args["on"]) })
	if i < 0 {
		want := make([]string, len(allowed))
		for j, a := range allowed {
			want[j] = "'" + a + "'"
		}
		if n := len(want); n > 1 {
			want = append(want[:n-2], want[n-2]+" or "+want[n-1])
		}
		return "", true, errBadRequest("The value '%s' of parameter 'on' is not valid; expected %s.", args["on"], strings.Join(want, ", "))
	}
	if g.c.AppOnly {
		return "", true, errDelegatedOnly(entity + ": filterByCurrentUser")
	}
	return allowed[i], true, nil
}

func (s *Sim) dispatch(g *gctx) *graphErr {
	seg := g.seg
	if len(seg) == 0 {
		return errNotFound("path", "/")
	}
	if strings.EqualFold(seg[0], "me") {
		if g.c.AppOnly {
			return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest", Message: "/me request is only valid with delegated authentication flow."}
		}
		seg = append([]string{"users", g.c.OID}, seg[1:]...)
		g.seg = seg
	}
	switch strings.ToLower(seg[0]) {
	case "$batch":
		return s.serveBatch(g)
	case "identitygovernance":
		if len(seg) >= 2 && strings.EqualFold(seg[1], "accessReviews") {
			return s.dispatchReviews(g, seg[2:])
		}
		if len(seg) < 3 || !strings.EqualFold(seg[1], "entitlementManagement") {
			return errNotFound("segment", strings.Join(seg, "/"))
		}
		return s.dispatchEM(g, seg[2:])
	case "users":
		return s.dispatchUsers(g, seg[1:])
	case "groups":
		return s.dispatchGroups(g, seg[1:])
	case "teams":
		return s.dispatchTeams(g, seg[1:])
	case "sites":
		return s.dispatchSites(g, seg[1:])
	case "serviceprincipals":
		return s.dispatchServicePrincipals(g, seg[1:])
	case "invitations":
		if len(seg) != 1 || g.r.Method != http.MethodPost {
			return methodNotAllowed(g.r)
		}
		return s.createInvitation(g)
	case "organization":
		return s.getOrganization(g)
	case "appcatalogs":
		return s.appCatalog(g, seg[1:])
	case "rolemanagement":
		return s.roleManagement(g, seg[1:])
	case "tenantrelationships":
		if len(seg) == 2 {
			name, args, ok := parseFunc(seg[1])
			if ok && strings.EqualFold(name, "findTenantInformationByDomainName") {
				return s.findTenantByDomain(g, args["domainname"])
			}
			if ok && strings.EqualFold(name, "findTenantInformationByTenantId") {
				return s.findTenantByID(g, args["tenantid"])
			}
		}
	}
	return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest",
		Message: fmt.Sprintf("Resource not found for the segment '%s'.", seg[0])}
}
