package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// A reviewer's card is updated in place when the instance's decisions change elsewhere (another reviewer, My
// Access, a recommendation accepted on another device) or the review ends: the sweep keeps where each card
// landed and the fingerprint of the decisions it showed, and re-renders it with the reviewer's own token when
// the fingerprint moved. Without a token for them the card keeps its Refresh button.

const bucketCards = "reviews.cards"

// cardRecord is where a reviewer's card landed and what it showed.
type cardRecord struct {
	Delivery Delivery `json:"delivery"`
	Seen     string   `json:"seen"`
	// At is when the card was sent (zero in a record kept by an older build); pruning reads it (prune.go).
	At time.Time `json:"at,omitzero"`
}

// cardKey is where a reviewer's card of a is tracked: per stage for a multi-stage review.
func cardKey(a Active, userID string) string {
	if a.Stage != nil {
		return a.Inst.ID + "/" + a.Stage.ID + "/" + userID
	}
	return a.Inst.ID + "/" + userID
}

// deliverTracked sends a reviewer their card (with the reminder note when remind) and remembers where it landed.
func (s *Service) deliverTracked(ctx context.Context, n Notifier, a Active, userID, fp string, remind bool, open int) error {
	to := s.recipient(ctx, userID)
	l := n.Localizer(ctx, to)
	note := ""
	if remind {
		note = reminderNote(l, a)
	}
	d, err := n.Deliver(ctx, to, s.cardFor(ctx, l, a, userID, note, open))
	if err != nil {
		return err
	}
	return s.putCard(ctx, cardKey(a, userID), cardRecord{Delivery: d, Seen: fp, At: s.now()})
}

func (s *Service) putCard(ctx context.Context, key string, rec cardRecord) error {
	return s.cfg.Store.UpdateKV(ctx, bucketCards, key, func([]byte) ([]byte, error) { return json.Marshal(rec) })
}

// claimRefresh reads the record of a card and, when it showed another fingerprint, marks it as showing fp;
// ok is false when there is nothing to update.
func (s *Service) claimRefresh(ctx context.Context, key, fp string) (cardRecord, bool, error) {
	var rec cardRecord
	ok := false
	err := s.cfg.Store.UpdateKV(ctx, bucketCards, key, func(raw []byte) ([]byte, error) {
		ok = false
		if raw == nil || json.Unmarshal(raw, &rec) != nil || rec.Seen == fp || rec.Delivery.ActivityID == "" {
			return nil, store.ErrNoChange
		}
		ok = true
		next := rec
		next.Seen = fp
		return json.Marshal(next)
	})
	return rec, ok, err
}

// refreshCards re-renders the reviewers' cards of an instance whose decisions changed since they were drawn.
func (s *Service) refreshCards(ctx context.Context, n Notifier, a Active, revs []entitlement.Subject, fp string) error {
	if s.cfg.Tokens == nil {
		return nil
	}
	var errs []error
	for _, r := range revs {
		key := cardKey(a, r.ID)
		tok := s.cfg.Tokens.ForUser(s.cfg.Tenant.ID, r.ID)
		if _, err := tok.Token(ctx); err != nil {
			continue
		}
		rec, ok, err := s.claimRefresh(ctx, key, fp)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		l := n.Localizer(ctx, s.recipient(ctx, r.ID))
		card, err := s.ReviewerCard(ctx, l, tok, a.Ref(), 1, "", "")
		if err == nil {
			err = n.Update(ctx, rec.Delivery, card)
		}
		if err != nil {
			// Put the old fingerprint back so the next sweep tries again.
			errs = append(errs, fmt.Errorf("update the card of %s: %w", r.ID, err), s.putCard(ctx, key, rec))
		}
	}
	return errors.Join(errs...)
}

// refreshClosed re-renders the tracked reviewer cards of an instance (of every started stage) whose decisions or
// status changed: a finished instance's reviewers see that it ended, an earlier stage's that the stage did.
func (s *Service) refreshClosed(ctx context.Context, n Notifier, a Active) error {
	if a.Def.SelfReview {
		return nil
	}
	_, fp, err := s.progress(ctx, a)
	if err != nil {
		return err
	}
	revs, err := s.cfg.Reviews.ContactedReviewers(ctx, a.Def.ID, a.Inst.ID)
	if err != nil {
		return fmt.Errorf("list reviewers of %s: %w", a.Def.Name, err)
	}
	if len(a.Stages) > 0 {
		return s.refreshStages(ctx, n, a, revs, fp)
	}
	return s.refreshCards(ctx, n, a, subjects(revs), fp)
}
