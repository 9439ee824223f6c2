package lifecycle

import (
	"testing"
	"time"
)

// Tests of the ISO-8601 durations (duration.go).

func TestParseISODuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"P180D", 180 * 24 * time.Hour, false},
		{"PT4H", 4 * time.Hour, false},
		{"P4W2D", 30 * 24 * time.Hour, false},
		{"P1DT12H", 36 * time.Hour, false},
		{"PT30M", 30 * time.Minute, false},
		{"P1Y", 365 * 24 * time.Hour, false},
		{"", 0, true},
		{"180D", 0, true},
		{"P5", 0, true},
		{"PT4X", 0, true},
		{"P1H", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseISODuration(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseISODuration(%q) = %v, %v; want %v, err=%v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
