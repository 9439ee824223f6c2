package bot

import (
	"regexp"
	"testing"

	"github.com/accessbot/accessbot/internal/i18n/i18ntest"
)

// literalRules are what bot/ may keep as string literals: typed command words, the product name, audit
// fields (English by design), and calls whose text is not the bot's to translate: timeline events (the
// lifecycle package renders them), wire errors to the Teams client, audit entries, the field names of bad
// input (for logs; the person reads the refusal's catalog text).
var literalRules = i18ntest.Rules{
	CommandWords: []string{"packages", "request", "status", "cancel", "access", "extend", "approvals", "help", "my",
		"reviews", "page"},
	// The product name; audit outcomes as recorded (English by design; auditOutcomeLabel reads them).
	Technical: regexp.MustCompile(`^(AccessBot|confirmation requested|removal requested|listed )$`),
	LogFields: []string{"Outcome", "why", "reason"},
	SkipCalls: []string{"AddEvent", "ErrorResponse", "TokenExchangeResponse", "auditTurn", "AuditBrokered", "invalid"},
}

// TestNoLiteralUserText fails when bot/ writes a user-visible string literal instead of taking it from the
// message catalogs (internal/i18n): answers, notices, errors and prompts are rendered in the turn's language.
func TestNoLiteralUserText(t *testing.T) {
	i18ntest.Run(t, ".", literalRules)
}
