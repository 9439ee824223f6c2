package bot

import (
	"testing"

	"github.com/accessbot/accessbot/cards"
)

func TestStagesNotShown(t *testing.T) {
	stage := func(n int) map[string]any { return map[string]any{cards.InputPBStage(n, "autoDeny"): "14"} }
	both := stage(1)
	both[cards.InputPBStage(2, "justification")] = "false"
	tests := []struct {
		name  string
		data  map[string]any
		count string
		want  bool
	}{
		{"no approval, nothing shown", map[string]any{}, "0", false},
		{"one stage shown", stage(1), "1", false},
		{"one stage chosen on a no-approval card", map[string]any{}, "1", true},
		{"two stages chosen on a one-stage card", stage(1), "2", true},
		{"two stages shown", both, "2", false},
		{"back to one stage from two", both, "1", false},
		{"unreadable count is checked as one stage", map[string]any{}, "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stagesNotShown(tt.data, tt.count); got != tt.want {
				t.Errorf("stagesNotShown(%v, %q) = %v, want %v", tt.data, tt.count, got, tt.want)
			}
		})
	}
}
