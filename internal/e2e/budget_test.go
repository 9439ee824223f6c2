package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/tenantsim"
)

// TestRequestFormGraphBudget pins what opening a request form costs in Graph requests once the caches are
// warm, through the bot: the policy and the package's incompatibilities (both directions) come from the
// client's cache, and the requester's held assignments are read only for a package that some package is
// incompatible with (for the separation-of-duties check). The form cost 3 when the incompatibilities were
// read on every form (make bench's Graph/activity went from 0.55 to 1.15).
func TestRequestFormGraphBudget(t *testing.T) {
	e := newFlowEnv(t, envOptions{CacheTTL: time.Minute})
	tests := []struct {
		name, pkg string
		want      int64
	}{
		{"no incompatibilities either way", tenantsim.PkgTeamMember, 0},
		{"named incompatible by partner and break-glass: held assignments read", tenantsim.PkgProduction, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			open := func() int64 {
				t.Helper()
				before := e.calls.Load()
				_, card := e.click(rita, "card-1", "request.open", map[string]any{"packageId": tc.pkg})
				raw, _ := json.Marshal(card)
				if !strings.Contains(string(raw), "request.submit") {
					t.Fatalf("request.open answered without a form: %s", raw)
				}
				return e.calls.Load() - before
			}
			open() // cold: policy, incompatibilities
			for i := 0; i < 2; i++ {
				if n := open(); n != tc.want {
					t.Errorf("warm request form cost %d Graph calls, want %d", n, tc.want)
				}
			}
		})
	}
}
