package bot

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

// ---- packages and requirements ----

func TestBrokeredPackages(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{name: "all the org may request, hidden and member-only excluded", want: []string{ptPkgPart, ptPkgExt, ptPkgTwo}},
		{name: "query narrows", query: "collaboration", want: []string{ptPkgPart}},
		{name: "every word must match", query: "falcon wiki", want: []string{ptPkgExt}},
		{name: "no match", query: "payroll", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			tu := e.turn(ptUGus)
			md, err := e.bot.requestMode(context.Background(), tu)
			if err != nil {
				t.Fatal(err)
			}
			pkgs, err := e.bot.brokeredPackages(context.Background(), tu, md, tc.query)
			if err != nil {
				t.Fatalf("brokeredPackages: %v", err)
			}
			var got []string
			for _, p := range pkgs {
				got = append(got, p.ID)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("packages %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBrokeredRequirements(t *testing.T) {
	tests := []struct {
		name    string
		pkg     string
		wantPol string
		wantErr error
	}{
		{name: "partner package", pkg: ptPkgPart, wantPol: ptPolPart},
		{name: "any external user", pkg: ptPkgExt, wantPol: ptPolExt},
		{name: "members only", pkg: ptPkgTeam, wantErr: entitlement.ErrNotEligible},
		{name: "hidden", pkg: ptPkgHidden, wantErr: entitlement.ErrNotEligible},
		{name: "unknown package", pkg: "eeeeeeee-0000-0000-0000-000000000099", wantErr: entitlement.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPtEnv(t, true)
			tu := e.turn(ptUGus)
			md, _ := e.bot.requestMode(context.Background(), tu)
			reqs, err := e.bot.brokeredRequirements(context.Background(), tu, md, tc.pkg)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(reqs) != 1 || reqs[0].PolicyID != tc.wantPol {
				t.Fatalf("requirements = %+v, %v; want policy %s", reqs, err, tc.wantPol)
			}
		})
	}
	t.Run("delegated users are not brokered", func(t *testing.T) {
		e := newPtEnv(t, true)
		tu := e.turn(ptURita)
		md, _ := e.bot.requestMode(context.Background(), tu)
		if _, err := e.bot.brokeredRequirements(context.Background(), tu, md, ptPkgPart); !errors.Is(err, entitlement.ErrNotEligible) {
			t.Fatalf("err = %v, want ErrNotEligible", err)
		}
	})
}

func TestEndingLead(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		dur  time.Duration
		want time.Duration
	}{
		{"thirty days warns three days before", 30 * 24 * time.Hour, 72 * time.Hour},
		{"a year still three days", 365 * 24 * time.Hour, 72 * time.Hour},
		{"eight hours warns 48 minutes before", 8 * time.Hour, 48 * time.Minute},
	}
	for _, tc := range tests {
		if got := lifecycle.EndingLead(start, start.Add(tc.dur)); got != tc.want {
			t.Errorf("%s: lead %v, want %v", tc.name, got, tc.want)
		}
	}
}
