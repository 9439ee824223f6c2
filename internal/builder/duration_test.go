package builder

import "testing"

// TestPolicyDurations: the wizard reads a policy's ISO-8601 durations as whole days or hours, and nothing else.
func TestPolicyDurations(t *testing.T) {
	tests := []struct {
		in            string
		days, hours   int
		dayOK, hourOK bool
	}{
		{"P30D", 30, 720, true, true},
		{"P4W2D", 30, 720, true, true},
		{"PT4H", 0, 4, false, true},
		{"P1DT2H", 0, 26, false, true},
		{"PT30M", 0, 0, false, false},
		{"", 0, 0, false, false},
		{"30D", 0, 0, false, false},
	}
	for _, tt := range tests {
		d, dok := durationDays(tt.in)
		h, hok := durationHours(tt.in)
		if d != tt.days || dok != tt.dayOK || h != tt.hours || hok != tt.hourOK {
			t.Errorf("%q: days %d %v, hours %d %v; want %d %v, %d %v", tt.in, d, dok, h, hok, tt.days, tt.dayOK, tt.hours, tt.hourOK)
		}
	}
}
