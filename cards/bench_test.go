package cards

import (
	"encoding/json"
	"testing"
)

// BenchmarkCardJSON encodes every golden card the way an outgoing activity carries it (inside an attachment,
// through the outer encoder): one op is all of them.
func BenchmarkCardJSON(b *testing.B) {
	cases := goldenCases()
	type attachment struct {
		ContentType string `json:"contentType"`
		Content     any    `json:"content"`
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cases {
			if _, err := json.Marshal(attachment{ContentType, c.card}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBuildCards builds every golden card (English and German) from its view: the builders' own work,
// localized text included, without encoding.
func BenchmarkBuildCards(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if len(goldenCases()) == 0 {
			b.Fatal("no golden cards")
		}
	}
}
