package reviews

import (
	"context"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// GuestIdentity is how a partner user chatting from their home tenant is known in the resource tenant: the
// guest accounts the bot brokered for them, and their address (which a guest account carries as its mail).
type GuestIdentity struct {
	// GuestIDs are the guest accounts the brokered flow recorded for this home user.
	GuestIDs []string
	// Email is the user's address as Teams knows it; a guest account whose mail it is counts too.
	Email string
}

// SelfItemsFor finds the self-reviews in progress that ask a partner user, known by who, about their own
// access (app-only reads). A principal counts when it is one of who.GuestIDs, or a guest account (a #EXT#
// user principal name) whose mail is who.Email.
func (s *Service) SelfItemsFor(ctx context.Context, who GuestIdentity) ([]SelfItem, error) {
	if len(who.GuestIDs) == 0 && strings.TrimSpace(who.Email) == "" {
		return nil, nil
	}
	all, err := s.ActiveReviews(ctx, false)
	if err != nil {
		return nil, err
	}
	mine := guestMatcher{s: s, who: who, seen: map[string]bool{}}
	var out []SelfItem
	for _, a := range all {
		if !a.SelfReview() {
			continue
		}
		ds, err := s.itemsNow(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if mine.match(ctx, d.Principal) {
				out = append(out, SelfItem{Active: a, Decision: d})
			}
		}
	}
	return out, nil
}

// guestMatcher decides whether a principal is the partner user's guest account, reading each candidate guest
// account at most once.
type guestMatcher struct {
	s    *Service
	who  GuestIdentity
	seen map[string]bool
}

func (m guestMatcher) match(ctx context.Context, p entitlement.Subject) bool {
	for _, id := range m.who.GuestIDs {
		if id != "" && strings.EqualFold(id, p.ID) {
			return true
		}
	}
	email := strings.TrimSpace(m.who.Email)
	if email == "" || p.ID == "" || !strings.Contains(strings.ToUpper(p.PrincipalName), "#EXT#") {
		return false
	}
	if known, read := m.seen[p.ID]; read {
		return known
	}
	u, err := m.s.cfg.Directory.User(ctx, p.ID)
	if err != nil {
		m.s.log.WarnContext(ctx, "read a guest account for a partner's reviews", "user", p.ID, "err", err)
	}
	ok := err == nil && u.IsGuest() && strings.EqualFold(strings.TrimSpace(u.Mail), email)
	m.seen[p.ID] = ok
	return ok
}
