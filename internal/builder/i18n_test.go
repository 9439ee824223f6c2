package builder

import (
	"regexp"
	"testing"

	"github.com/accessbot/accessbot/internal/i18n/i18ntest"
)

// TestNoLiteralUserText fails when the builder writes a user-visible string literal: what the admin reads
// is a Message (a catalog id and its values) the bot renders in the admin's language. ISO 8601 durations
// are Graph values.
func TestNoLiteralUserText(t *testing.T) {
	i18ntest.Run(t, ".", i18ntest.Rules{Technical: regexp.MustCompile(`^(P|D|PT?%d[DH])$`)})
}
