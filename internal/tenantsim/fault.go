package tenantsim

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind is how a faulty request fails.
type FaultKind string

// Fault kinds.
const (
	// FaultStatus answers with Fault.Status (429, 503, 504 as Graph error JSON; 502 as a gateway's HTML page).
	FaultStatus FaultKind = "status"
	// FaultCut closes the connection without an answer.
	FaultCut FaultKind = "cut"
	// FaultSlow answers normally after Fault.Delay (a client with a shorter timeout gives up first; the
	// request still takes effect, as it may at Graph).
	FaultSlow FaultKind = "slow"
)

// Fault is the failure test switch of the simulated services. It lives on the Sim, not in the stored world:
// it does not survive a restart, and a reset switches it off.
type Fault struct {
	// Requests is how many requests fail: n > 0 the next n, -1 every request until switched off, 0 off.
	Requests int `json:"requests"`
	// Kind is how they fail (default FaultStatus).
	Kind FaultKind `json:"kind,omitempty"`
	// Status is the answer of FaultStatus (default 429).
	Status int `json:"status,omitempty"`
	// RetryAfter is sent as Retry-After, rounded up to whole seconds (0 sends "Retry-After: 0"), unless
	// NoRetryAfter.
	RetryAfter   time.Duration `json:"retryAfter,omitempty"`
	NoRetryAfter bool          `json:"noRetryAfter,omitempty"`
	// Delay is how long FaultSlow waits before answering.
	Delay time.Duration `json:"delay,omitempty"`
	// Entra makes the token endpoints fail too (a whole outage), not only Graph.
	Entra bool `json:"entra,omitempty"`
	// Method, when set, limits the fault to requests with this HTTP method (for example POST).
	Method string `json:"method,omitempty"`
}

// SetFault switches the failure test switch (Fault{} switches it off) and zeroes FaultHits.
func (s *Sim) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultHits = 0
	if f.Kind == "" {
		f.Kind = FaultStatus
	}
	if f.Kind == FaultStatus && f.Status == 0 {
		f.Status = http.StatusTooManyRequests
	}
	if f.RetryAfter < 0 {
		f.RetryAfter = 0
	}
	s.fault = f
}

// SetThrottle makes the next n Graph requests fail with 429 and a Retry-After of retryAfter rounded up to
// whole seconds (n < 0: every request until switched off; n == 0: off; retryAfter 0 sends "Retry-After: 0").
func (s *Sim) SetThrottle(n int, retryAfter time.Duration) {
	s.SetFault(Fault{Requests: n, Kind: FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: retryAfter})
}

// FaultHits is how many requests suffered the fault since it was last set.
func (s *Sim) FaultHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faultHits
}

// takeFault counts one request against the switch and returns the fault it must suffer, if any.
func (s *Sim) takeFault(r *http.Request, entra bool) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f.Requests == 0 || (entra && !f.Entra) || (f.Method != "" && !strings.EqualFold(f.Method, r.Method)) {
		return Fault{}, false
	}
	if f.Requests > 0 {
		s.fault.Requests--
	}
	s.faultHits++
	return f, true
}

// injectFault makes the request suffer the switched-on fault. It reports whether the request was answered
// (or cut); false means serve it normally (no fault, or after a slow fault's delay).
func (s *Sim) injectFault(w http.ResponseWriter, r *http.Request, entra bool) bool {
	f, ok := s.takeFault(r, entra)
	if !ok {
		return false
	}
	switch f.Kind {
	case FaultCut:
		// net/http closes the connection without writing a response (and logs nothing).
		panic(http.ErrAbortHandler)
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		return false
	}
	if !f.NoRetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	switch f.Status {
	case http.StatusBadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>")
	case http.StatusTooManyRequests:
		writeGraphError(w, r, s.baseNow(), &graphErr{Status: f.Status, Code: "TooManyRequests",
			Message: "Too many requests. Please wait and retry after the number of seconds in the Retry-After header."})
	default:
		writeGraphError(w, r, s.baseNow(), &graphErr{Status: f.Status, Code: http.StatusText(f.Status),
			Message: fmt.Sprintf("The service is temporarily unavailable (%d).", f.Status)})
	}
	return true
}
