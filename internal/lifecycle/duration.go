package lifecycle

import "strconv"

// Pluralize renders a count with its unit ("1 day", "3 days").
func Pluralize(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
