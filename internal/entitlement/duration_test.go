package entitlement

import (
	"testing"
	"time"
)

func TestISODurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"P30D", 30 * 24 * time.Hour, false},
		{"PT8H", 8 * time.Hour, false},
		{"P4W2D", 30 * 24 * time.Hour, false},
		{"P1DT2H30M", 26*time.Hour + 30*time.Minute, false},
		{"PT0.5S", 500 * time.Millisecond, false},
		{"P", 0, true},
		{"PT", 0, true},
		{"30D", 0, true},
		{"P1DT", 0, true},
		{"P180D", 180 * 24 * time.Hour, false},
		{"PT4H", 4 * time.Hour, false},
		{"P1DT12H", 36 * time.Hour, false},
		{"PT30M", 30 * time.Minute, false},
		{"P1Y", 365 * 24 * time.Hour, false},
		{"", 0, true},
		{"P5", 0, true},
		{"PT4X", 0, true},
		{"P1H", 0, true},
		{"180D", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseISODuration(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseISODuration(%q) = %v, %v; want %v (bad %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
