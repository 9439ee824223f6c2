package lifecycle

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseISODuration parses the ISO-8601 durations Graph uses (P180D, PT4H, P4W2D, P1Y2M, PT30M, P1DT12H).
// Years count as 365 days and months as 30.
func ParseISODuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	if !strings.HasPrefix(s, "P") || len(s) < 3 {
		return 0, fmt.Errorf("duration %q: expected an ISO-8601 duration such as P30D or PT4H", s)
	}
	var total time.Duration
	inTime := false
	num := ""
	for _, r := range s[1:] {
		switch {
		case r == 'T':
			if inTime || num != "" {
				return 0, fmt.Errorf("duration %q: misplaced T", s)
			}
			inTime = true
		case r >= '0' && r <= '9' || r == '.':
			num += string(r)
		default:
			if num == "" {
				return 0, fmt.Errorf("duration %q: unit %c without a number", s, r)
			}
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %w", s, err)
			}
			num = ""
			var unit time.Duration
			switch {
			case !inTime && r == 'Y':
				unit = 365 * 24 * time.Hour
			case !inTime && r == 'M':
				unit = 30 * 24 * time.Hour
			case !inTime && r == 'W':
				unit = 7 * 24 * time.Hour
			case !inTime && r == 'D':
				unit = 24 * time.Hour
			case inTime && r == 'H':
				unit = time.Hour
			case inTime && r == 'M':
				unit = time.Minute
			case inTime && r == 'S':
				unit = time.Second
			default:
				return 0, fmt.Errorf("duration %q: unknown unit %c", s, r)
			}
			total += time.Duration(n * float64(unit))
		}
	}
	if num != "" {
		return 0, fmt.Errorf("duration %q: number without a unit", s)
	}
	return total, nil
}

// Pluralize renders a count with its unit ("1 day", "3 days").
func Pluralize(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
