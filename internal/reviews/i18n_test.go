package reviews

import (
	"testing"

	"github.com/accessbot/accessbot/internal/i18n/i18ntest"
)

// TestNoLiteralUserText fails when the review cards or notices use a user-visible string literal instead of
// the catalogs. A refused input's problem (entitlement.Invalid) is English for logs and English readers; the
// bot shows other readers error.invalid.<field>.
func TestNoLiteralUserText(t *testing.T) {
	i18ntest.Run(t, ".", i18ntest.Rules{
		CommandWords: []string{"request", "access", "reviews"},
		SkipCalls:    []string{"Invalid"},
	})
}
