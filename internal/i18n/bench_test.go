package i18n

import "testing"

// BenchmarkFor picks the Localizer of a Teams locale, as every turn does.
func BenchmarkFor(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if For("de-DE").Lang() != "de" {
			b.Fatal("de-DE did not pick German")
		}
	}
}

// BenchmarkT renders a message without template data (most card labels) and one with data.
func BenchmarkT(b *testing.B) {
	de := For("de")
	for _, bc := range []struct {
		name string
		kv   []any
		id   string
	}{
		{"plain", nil, "common.history"},
		{"data", []any{"Head", "A, B", "Last", "C"}, "list.and"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if de.T(bc.id, bc.kv...) == bc.id {
					b.Fatalf("%s is not in the German catalog", bc.id)
				}
			}
		})
	}
}
