package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// TestAdmRoughDurationCountsAsPeopleDo: a fresh 365-day assignment ends "in 365 days", not 364 (issue 13 item 8).
func TestAdmRoughDurationCountsAsPeopleDo(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{365*24*time.Hour - 5*time.Minute, "365 days"},
		{364*24*time.Hour + 13*time.Hour, "365 days"},
		{364*24*time.Hour + 11*time.Hour, "364 days"},
		{48*time.Hour - 10*time.Minute, "2 days"},
		{26 * time.Hour, "26 hours"},
		{2*time.Hour - 10*time.Second, "2 hours"},
		{90 * time.Minute, "90 minutes"},
		{30 * time.Second, "less than a minute"},
		{-time.Minute, "—"},
	}
	for _, c := range cases {
		if got := admRoughDuration(i18n.English(), c.d); got != c.want {
			t.Errorf("admRoughDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := admRoughDuration(i18n.For("de"), 3*24*time.Hour); got != "3 Tage" {
		t.Errorf("German: %q", got)
	}
}

// TestUnknownAdminCommandSuggestsSlashHelp: an admin's unknown slash command points to /help, an everyday
// unknown word to help (issue 13 item 8).
func TestUnknownAdminCommandSuggestsSlashHelp(t *testing.T) {
	e := newAdmEnv(t)
	got := e.say(admAdele, "/frobnicate")
	admWantAll(t, "/frobnicate", got, `I don't know "/frobnicate"`, "Type /help to see")
	admWantNone(t, "/frobnicate", got, "Type help to see")
	got = e.say(admRita, "frobnicate")
	admWantAll(t, "frobnicate", got, "Type help to see")
}

// TestAuditSaysWhatWasRefusedAndPages: a refused admin command reads as what was attempted and on what, and
// a long audit log offers the next page instead of a dead "…and N more rows" (issue 13 item 4).
func TestAuditSaysWhatWasRefusedAndPages(t *testing.T) {
	e := newAdmEnv(t)
	e.say(admRita, "/revoke rita@contoso.example Falcon Team Member")
	got := e.say(admAdele, "/audit")
	admWantAll(t, "/audit", got, "refused /revoke", "rita@contoso.example Falcon Team Member", "is not an AccessBot admin")
	admWantNone(t, "/audit", got, "refused: not an admin")

	for i := 0; i < 20; i++ {
		e.say(admAdele, "/orgs")
	}
	got = e.say(admAdele, "/audit")
	admWantAll(t, "/audit (long)", got, "more rows", "Show older entries")
	page2 := e.say(admAdele, "/audit page 2")
	admWantAll(t, "/audit page 2", page2, "Page 2: entries 13 to")
	if strings.Count(page2, "refused /revoke") != 1 {
		t.Errorf("page 2 must reach the oldest entry, the refusal:\n%s", page2)
	}
	entries := e.audit(store.AuditQuery{})
	if n := len(entries); n < 23 {
		t.Fatalf("audit has %d entries", n)
	}
}
