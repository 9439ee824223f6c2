package bot

import (
	"fmt"
	"testing"
	"time"
)

// The per-user caches (admin status, partner addresses) and the organization-name cache drop expired
// entries: after a quiet TTL only the users seen since are kept, not everyone who ever chatted.
func TestCachesDropExpiredEntries(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		fill func(s *adminState, i int, now time.Time)
		size func(s *adminState) int
	}{
		{"admin status", func(s *adminState, i int, now time.Time) {
			s.setMember(fmt.Sprintf("t|user-%d", i), i%2 == 0, now.Add(adminCacheTTL))
		}, func(s *adminState) int { return len(s.members) }},
		{"organization names", func(s *adminState, i int, now time.Time) {
			s.setOrgName(fmt.Sprintf("tenant-%d", i), "", now.Add(adminCacheTTL))
		}, func(s *adminState) int { return len(s.orgs) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s adminState
			for i := range 500 {
				tc.fill(&s, i, t0)
			}
			if n := tc.size(&s); n != 500 {
				t.Fatalf("entries while valid = %d, want 500", n)
			}
			later := t0.Add(adminCacheTTL + time.Second)
			tc.fill(&s, 1000, later)
			if n := tc.size(&s); n != 1 {
				t.Fatalf("entries after the TTL = %d, want 1 (the new one)", n)
			}
		})
	}
}

func TestPartnerAddressCacheDropsExpiredEntries(t *testing.T) {
	e := newPtEnv(t, true)
	e.bot.prt.mu.Lock()
	e.bot.prt.members = map[string]memberEntry{}
	for i := range 500 {
		e.bot.prt.members[fmt.Sprintf("t|user-%d", i)] = memberEntry{email: "x@example.com", until: e.clock.Now().Add(partnerCacheTTL)}
	}
	e.bot.prt.mu.Unlock()
	e.clock.Advance(partnerCacheTTL + time.Second)
	if got := e.bot.memberEmail(t.Context(), e.turn(ptUGus)); got != "gus@fabrikam.example" {
		t.Fatalf("memberEmail = %q", got)
	}
	e.bot.prt.mu.Lock()
	n := len(e.bot.prt.members)
	e.bot.prt.mu.Unlock()
	if n != 1 {
		t.Fatalf("cached addresses after the TTL = %d, want 1", n)
	}
}
