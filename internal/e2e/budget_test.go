package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestRequestFormGraphBudget pins what opening a request form costs in Graph requests once the caches are
// warm, through the bot: the policy and the package's incompatibilities come from the client's cache, and
// only the requester's held assignments are read (for the separation-of-duties check). The form cost 3
// when the incompatibilities were read on every form (make bench's Graph/activity went from 0.55 to 1.15).
func TestRequestFormGraphBudget(t *testing.T) {
	e := newFlowEnv(t, envOptions{CacheTTL: time.Minute})
	open := func() int64 {
		t.Helper()
		before := e.calls.Load()
		_, card := e.click(rita, "card-1", "request.open", map[string]any{"packageId": tenantsim.PkgProduction})
		raw, _ := json.Marshal(card)
		if !strings.Contains(string(raw), "request.submit") {
			t.Fatalf("request.open answered without a form: %s", raw)
		}
		return e.calls.Load() - before
	}
	open() // cold: policy, incompatibilities, held assignments
	for i := 0; i < 2; i++ {
		if n := open(); n != 1 {
			t.Errorf("warm request form cost %d Graph calls, want 1 (the requester's held assignments)", n)
		}
	}
}
