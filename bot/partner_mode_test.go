package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// ---- request mode ----

func TestRequestMode(t *testing.T) {
	tests := []struct {
		name       string
		user       ptUser
		brokered   bool
		orgErr     error
		wantMode   cards.Mode
		wantAllow  bool
		wantOrg    string
		wantEmail  string
		wantReason string
		wantErr    bool
	}{
		{name: "resource tenant member is delegated", user: ptURita, brokered: true, wantMode: cards.ModeDelegated, wantAllow: true},
		{name: "configured org is brokered with the Teams address", user: ptUGus, brokered: true, wantMode: cards.ModeBrokered,
			wantAllow: true, wantOrg: ptOrgFab, wantEmail: "gus@fabrikam.example"},
		{name: "configured org links out when brokered is off", user: ptUGus, brokered: false, wantMode: cards.ModeLinkOut,
			wantAllow: true, wantOrg: ptOrgFab, wantReason: "My Access"},
		{name: "proposed org is explained", user: ptULit, brokered: true, wantMode: cards.ModeLinkOut, wantAllow: false,
			wantOrg: ptOrgLit, wantReason: "Litware is known to Contoso but not yet approved"},
		{name: "unknown tenant is explained", user: ptUNina, brokered: true, wantMode: cards.ModeLinkOut, wantAllow: false,
			wantReason: "not connected to Contoso"},
		{name: "org listing failure is an error", user: ptUGus, brokered: true, orgErr: entitlement.ErrUnavailable, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, tc.brokered)
			e.port.orgErr = tc.orgErr
			md, err := e.bot.requestMode(context.Background(), e.turn(tc.user))
			if tc.wantErr {
				if !errors.Is(err, entitlement.ErrUnavailable) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("requestMode: %v", err)
			}
			if md.Mode != tc.wantMode || md.Allowed != tc.wantAllow || md.OrgID != tc.wantOrg || md.Email != tc.wantEmail {
				t.Errorf("got %+v, want mode %s allowed %v org %q email %q", md, tc.wantMode, tc.wantAllow, tc.wantOrg, tc.wantEmail)
			}
			if !strings.Contains(md.Reason, tc.wantReason) {
				t.Errorf("reason %q does not contain %q", md.Reason, tc.wantReason)
			}
			if !tc.wantAllow && md.Reason == "" {
				t.Error("a refusal without a reason")
			}
		})
	}
}

func TestRequestModeCachesOrgsAndAddresses(t *testing.T) {
	e := newPtEnv(t, true)
	for range 3 {
		if md, err := e.bot.requestMode(context.Background(), e.turn(ptUGus)); err != nil || md.Mode != cards.ModeBrokered {
			t.Fatalf("requestMode = %+v, %v", md, err)
		}
	}
	if e.port.orgListings != 1 || e.conn.lookups != 1 {
		t.Errorf("org listings %d, member lookups %d; want 1 each within the cache TTL", e.port.orgListings, e.conn.lookups)
	}
	e.clock.Advance(partnerCacheTTL + time.Second)
	if _, err := e.bot.requestMode(context.Background(), e.turn(ptUGus)); err != nil {
		t.Fatal(err)
	}
	if e.port.orgListings != 2 || e.conn.lookups != 2 {
		t.Errorf("after the TTL: org listings %d, member lookups %d; want 2 each", e.port.orgListings, e.conn.lookups)
	}
}

func TestRequestModeUPNFallback(t *testing.T) {
	e := newPtEnv(t, true)
	e.port.orgs[1].State = entitlement.OrgConfigured
	md, err := e.bot.requestMode(context.Background(), e.turn(ptULit))
	if err != nil || md.Email != "lou@litware.example" {
		t.Fatalf("requestMode = %+v, %v; want the UPN as address", md, err)
	}
}
