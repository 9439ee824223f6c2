package bot

import "context"

// Interim: the flow files (request.go, approve.go, partner.go, admin.go) replace these as they land.

func (b *Bot) registerRequester() {}
func (b *Bot) registerApprover()  {}
func (b *Bot) registerPartner()   {}
func (b *Bot) registerAdmin()     {}

func (b *Bot) matchFreeText(ctx context.Context, t *turn, cmd Command) (bool, error) {
	return false, nil
}
func (b *Bot) partnerOrgName(ctx context.Context, tenantID string) string { return "" }
func (b *Bot) checkAdmin(ctx context.Context, t *turn)                    {}
