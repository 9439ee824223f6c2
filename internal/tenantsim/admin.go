package tenantsim

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strings"
	"time"
)

// serveAdmin routes /_sim/...: clock, throttle, consent, dev assertion,
// invitation redemption and reset. These are never under /v1.0.
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/_sim/")
	switch {
	case path == "clock":
		s.adminClock(w, r)
	case path == "throttle":
		s.adminThrottle(w, r)
	case path == "fault":
		s.adminFault(w, r)
	case path == "consent":
		s.adminConsent(w, r)
	case path == "dev/assertion":
		s.adminAssertion(w, r)
	case path == "reset":
		if r.Method != http.MethodPost {
			adminError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		s.Reset()
		writeJSON(w, http.StatusOK, map[string]any{"reset": true})
	case path == "seed":
		s.adminSeed(w, r)
	case path == "myaccess/decide":
		s.adminMyAccessDecide(w, r)
	case strings.HasPrefix(path, "redeem/"):
		s.adminRedeem(w, r, strings.TrimPrefix(path, "redeem/"))
	default:
		adminError(w, http.StatusNotFound, "unknown simulator admin endpoint "+r.URL.Path)
	}
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

func decodeAdmin(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	return nil
}

// decodeAdminPost decodes the JSON body of a POST-only admin endpoint into v. It answers 405 for another
// method and 400 for a bad body, and then reports false.
func decodeAdminPost(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Method != http.MethodPost {
		adminError(w, http.StatusMethodNotAllowed, "use POST")
		return false
	}
	if err := decodeAdmin(r, v); err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func (s *Sim) clockBody() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"now": s.now().Format(time.RFC3339Nano), "offsetSeconds": int64(s.w.ClockOffset.Seconds())}
}

func (s *Sim) adminClock(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.clockBody())
	case http.MethodPost:
		var body struct {
			Advance string `json:"advance"`
		}
		if err := decodeAdmin(r, &body); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		if body.Advance == "" {
			s.Tick()
			writeJSON(w, http.StatusOK, s.clockBody())
			return
		}
		d, err := parseISODuration(body.Advance)
		if err != nil {
			adminError(w, http.StatusBadRequest, "advance: "+err.Error())
			return
		}
		s.Advance(d)
		writeJSON(w, http.StatusOK, s.clockBody())
	default:
		adminError(w, http.StatusMethodNotAllowed, "use GET or POST")
	}
}

func (s *Sim) adminThrottle(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Requests          int   `json:"requests"`
		RetryAfterSeconds int   `json:"retryAfterSeconds"`
		Enabled           *bool `json:"enabled"`
	}
	if !decodeAdminPost(w, r, &body) {
		return
	}
	n := body.Requests
	if body.Enabled != nil {
		switch {
		case !*body.Enabled:
			n = 0
		case n == 0:
			n = -1
		}
	}
	if body.RetryAfterSeconds < 0 {
		adminError(w, http.StatusBadRequest, "retryAfterSeconds must not be negative")
		return
	}
	s.SetThrottle(n, time.Duration(body.RetryAfterSeconds)*time.Second)
	writeJSON(w, http.StatusOK, map[string]any{"requests": n, "retryAfterSeconds": body.RetryAfterSeconds})
}

// adminFault switches the failure test switch: {"requests":-1,"kind":"status","status":503,
// "retryAfterSeconds":2,"noRetryAfter":true,"delayMillis":0,"entra":false}; {"requests":0} switches it off.
func (s *Sim) adminFault(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Requests          int       `json:"requests"`
		Kind              FaultKind `json:"kind"`
		Status            int       `json:"status"`
		RetryAfterSeconds int       `json:"retryAfterSeconds"`
		NoRetryAfter      bool      `json:"noRetryAfter"`
		DelayMillis       int       `json:"delayMillis"`
		Entra             bool      `json:"entra"`
		Method            string    `json:"method"`
	}
	if !decodeAdminPost(w, r, &body) {
		return
	}
	switch {
	case body.Kind != "" && body.Kind != FaultStatus && body.Kind != FaultCut && body.Kind != FaultSlow:
		adminError(w, http.StatusBadRequest, "kind must be status, cut or slow")
		return
	case body.Status != 0 && (body.Status < 400 || body.Status > 599):
		adminError(w, http.StatusBadRequest, "status must be an HTTP error status (400-599)")
		return
	case body.RetryAfterSeconds < 0 || body.DelayMillis < 0 || body.Requests < -1:
		adminError(w, http.StatusBadRequest, "requests must be -1 or more; retryAfterSeconds and delayMillis must not be negative")
		return
	}
	f := Fault{Requests: body.Requests, Kind: body.Kind, Status: body.Status, RetryAfter: time.Duration(body.RetryAfterSeconds) * time.Second,
		NoRetryAfter: body.NoRetryAfter, Delay: time.Duration(body.DelayMillis) * time.Millisecond, Entra: body.Entra, Method: body.Method}
	s.SetFault(f)
	s.mu.Lock()
	f = s.fault
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f)
}

func (s *Sim) adminConsent(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TenantID  string `json:"tenantId"`
		OID       string `json:"oid"`
		Consented *bool  `json:"consented"`
	}
	if !decodeAdminPost(w, r, &body) {
		return
	}
	if body.TenantID == "" || body.OID == "" || body.Consented == nil {
		adminError(w, http.StatusBadRequest, `body must be {"tenantId":"…","oid":"…","consented":true|false}`)
		return
	}
	s.SetConsent(body.TenantID, body.OID, *body.Consented)
	writeJSON(w, http.StatusOK, map[string]any{"tenantId": body.TenantID, "oid": body.OID, "consented": *body.Consented})
}

func (s *Sim) adminAssertion(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TenantID string `json:"tenantId"`
		OID      string `json:"oid"`
	}
	if !decodeAdminPost(w, r, &body) {
		return
	}
	if body.TenantID == "" || body.OID == "" {
		adminError(w, http.StatusBadRequest, `body must be {"tenantId":"…","oid":"…"}`)
		return
	}
	s.mu.Lock()
	tok, err := s.devAssertion(body.TenantID, body.OID)
	s.mu.Unlock()
	if err != nil {
		adminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"token": tok, "access_token": tok, "token_type": "Bearer", "expires_in": int(tokenLifetime.Seconds()),
	})
}

func (s *Sim) adminRedeem(w http.ResponseWriter, r *http.Request, id string) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		adminError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	s.mu.Lock()
	u, t, ok := s.redeem(id, s.now())
	if ok {
		s.persistLocked()
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, "<!doctype html><title>Invitation not found</title><p>The invitation %s does not exist (or the guest was removed).</p>\n", html.EscapeString(id))
		return
	}
	s.log.Info("invitation redeemed", "invitation", id, "user", u.ID)
	fmt.Fprintf(w, "<!doctype html><title>Invitation accepted</title><h1>You accepted the invitation to %s</h1><p>%s can now sign in to %s.</p>\n",
		html.EscapeString(t.Name), html.EscapeString(u.DisplayName), html.EscapeString(t.Name))
}
