package i18n

import (
	"strings"
	"time"
)

// List joins items the way the language writes a list: "A, B and C" / "A, B und C" / "A, B et C". Empty
// items are skipped.
func (l *Localizer) List(items []string) string { return l.join("list.and", items) }

// Or joins alternatives the way the language writes them: "A, B or C" / "A, B oder C" / "A, B ou C" (the
// approvers of a stage, any of whom may decide). Empty items are skipped.
func (l *Localizer) Or(items []string) string { return l.join("list.or", items) }

func (l *Localizer) join(id string, items []string) string {
	var clean []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			clean = append(clean, it)
		}
	}
	switch len(clean) {
	case 0:
		return ""
	case 1:
		return clean[0]
	}
	return l.T(id, "Head", strings.Join(clean[:len(clean)-1], ", "), "Last", clean[len(clean)-1])
}

// Duration renders d coarsely in words: "3 days 4 hours", "45 minutes", "less than a minute" (and their
// translations, with the language's plural forms).
func (l *Localizer) Duration(d time.Duration) string {
	if d < time.Minute {
		return l.T("duration.lessThanMinute")
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	mins := int(d % time.Hour / time.Minute)
	switch {
	case days > 0 && hours > 0:
		return l.N("duration.days", days) + " " + l.N("duration.hours", hours)
	case days > 0:
		return l.N("duration.days", days)
	case hours > 0 && mins > 0 && hours < 6:
		return l.N("duration.hours", hours) + " " + l.N("duration.minutes", mins)
	case hours > 0:
		return l.N("duration.hours", hours)
	}
	return l.N("duration.minutes", mins)
}
