package bot

// The contract between the request/approve flows (request.go, approve.go, tracker.go) and the partner flows
// (partner.go: brokered approvals for connected-organization users, guest guidance). The request flow asks
// requestMode first and, for ModeBrokered, calls the brokered* functions instead of the delegated port.
// INTERIM bodies below are replaced by partner.go (delete them there).

import (
	"context"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// modeDecision says how the bot files requests for one user (DESIGN.md §3) and why.
type modeDecision struct {
	// Mode is delegated (members and guests of the resource tenant), brokered (connected-organization users
	// not yet in it) or link-out (anything else the bot cannot do: the card shows the My Access link).
	Mode cards.Mode
	// Allowed is false when the user cannot request here at all (unknown tenant, proposed organization);
	// Reason then explains it in words the user can act on.
	Allowed bool
	// Reason explains link-out or refusal.
	Reason string
	// OrgID and OrgName are the connected organization of a partner user.
	OrgID   string
	OrgName string
	// Email is a partner user's address (from Teams), used to target adminAdd in brokered mode.
	Email string
}

// requestMode decides the request mode for the turn's user. INTERIM: delegated for the resource tenant,
// link-out for everyone else.
func (b *Bot) requestMode(ctx context.Context, t *turn) (modeDecision, error) {
	if b.cfg.Tenant.ID == "" || strings.EqualFold(t.tenantID, b.cfg.Tenant.ID) {
		return modeDecision{Mode: cards.ModeDelegated, Allowed: true}, nil
	}
	return modeDecision{Mode: cards.ModeLinkOut, Allowed: true,
		Reason: "You are chatting from another organization; finish the request in My Access."}, nil
}

// brokeredPackages lists the packages a partner user's connected organization may request (app-only),
// filtered by query words. INTERIM: none.
func (b *Bot) brokeredPackages(ctx context.Context, t *turn, md modeDecision, query string) ([]entitlement.Package, error) {
	return nil, nil
}

// brokeredRequirements returns what a partner user must supply for a package, read from its policies that
// admit their organization (app-only). INTERIM: not eligible.
func (b *Bot) brokeredRequirements(ctx context.Context, t *turn, md modeDecision, packageID string) ([]entitlement.Requirements, error) {
	return nil, entitlement.ErrNotEligible
}

// brokeredSubmit records a brokered request (validated input), starts its first stage (approval cards to
// the stage's approvers) and returns the requester's status card plus the request key under which the
// status card's CardRef must be stored. INTERIM: not eligible.
func (b *Bot) brokeredSubmit(ctx context.Context, t *turn, md modeDecision, in entitlement.NewRequest) (*cards.Card, string, error) {
	return nil, "", entitlement.ErrNotEligible
}

// brokeredDecision handles approval.approve/deny/refresh for a brokered request (data carries requestId).
// handled=false means the request is not brokered and the delegated path applies. INTERIM: never handled.
func (b *Bot) brokeredDecision(ctx context.Context, t *turn, data map[string]any, result entitlement.ReviewResult) (*botframework.InvokeResponse, bool, error) {
	return nil, false, nil
}
