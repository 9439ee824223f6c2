package reviews

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// Sweep sends each reviewer (and self-reviewer) of every review in progress their card once, reminds those
// with open decisions once RemindBefore the end, confirms self-review answers given in My Access, and tells
// the people whose access an applied review removed. Every message is sent at most once (claims in the store).
func (s *Service) Sweep(ctx context.Context, n Notifier) error {
	all, err := s.ActiveReviews(ctx, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range all {
		switch {
		case a.Inst.Status.Open() && a.SelfReview():
			errs = append(errs, s.sweepSelf(ctx, n, a))
			if a.Stage != nil {
				// A self-review stage: the earlier stages' reviewer cards still show that their stage ended.
				errs = append(errs, s.refreshClosed(ctx, n, a))
			}
		case a.Inst.Status.Open():
			errs = append(errs, s.sweepReviewers(ctx, n, a))
		case a.Inst.Status == entitlement.ReviewApplied:
			errs = append(errs, s.tellRemoved(ctx, n, a), s.refreshClosed(ctx, n, a))
		default:
			errs = append(errs, s.refreshClosed(ctx, n, a))
		}
	}
	return errors.Join(errs...)
}

// recipient describes a directory user as a card recipient (guests are flagged so the bot can find their home
// chat).
func (s *Service) recipient(ctx context.Context, userID string) Recipient {
	r := Recipient{TenantID: s.cfg.Tenant.ID, UserID: userID}
	if u, err := s.cfg.Directory.User(ctx, userID); err == nil {
		r.Email, r.Guest = u.Mail, u.IsGuest()
	}
	return r
}

// deliver sends the card build makes in the recipient's language.
func (s *Service) deliver(ctx context.Context, n Notifier, userID string, build func(l *i18n.Localizer) *cards.Card) error {
	to := s.recipient(ctx, userID)
	_, err := n.Deliver(ctx, to, build(n.Localizer(ctx, to)))
	return err
}

// cardFor builds a reviewer's card: the full card when the bot can act as them now, else the "waiting for you"
// card whose button opens it (Teams signs them in).
func (s *Service) cardFor(ctx context.Context, l *i18n.Localizer, a Active, userID, note string, remaining int) *cards.Card {
	if s.cfg.Tokens != nil {
		tok := s.cfg.Tokens.ForUser(s.cfg.Tenant.ID, userID)
		if _, err := tok.Token(ctx); err == nil {
			c, err := s.ReviewerCard(ctx, l, tok, a.Ref(), 1, note, "")
			if err == nil {
				return c
			}
			s.log.InfoContext(ctx, "reviewer card needs the reviewer to open it", "review", a.Def.ID, "reviewer", userID, "err", err)
		}
	}
	return waitingCard(l, a, note, remaining)
}

// progress counts an instance's undecided items and fingerprints its decisions and status (a change means the
// reviewers' cards are out of date).
func (s *Service) progress(ctx context.Context, a Active) (int, string, error) {
	ds, err := s.cfg.Reviews.InstanceDecisions(ctx, a.Def.ID, a.Inst.ID)
	if err != nil {
		return 0, "", fmt.Errorf("load decisions of %s: %w", a.Def.Name, err)
	}
	n := 0
	h := sha256.New()
	fmt.Fprint(h, a.Inst.Status)
	if a.Stage != nil {
		fmt.Fprint(h, "|", a.Stage.ID, ":", a.Stage.Status)
	}
	for _, d := range ds {
		if !d.Decided() {
			n++
		}
		fmt.Fprint(h, "|", d.ID, ":", d.Decision)
	}
	return n, hex.EncodeToString(h.Sum(nil)[:12]), nil
}

func (s *Service) undecided(ctx context.Context, a Active) (int, error) {
	n, _, err := s.progress(ctx, a)
	return n, err
}

func (s *Service) remindDue(a Active) bool {
	return a.deadline().Sub(s.now()) <= s.cfg.RemindBefore
}

// deadline is when the reviewers asked now must have decided: the current stage's end in a multi-stage review.
func (a Active) deadline() time.Time {
	if a.Stage != nil {
		return a.Stage.End
	}
	return a.Inst.End
}

func reminderNote(l *i18n.Localizer, a Active) string {
	return l.T("rv.reminder", "When", a.deadline().UTC().Format("2006-01-02 15:04 MST"))
}

// sweepReviewers sends the reviewers of an instance (its current stage's, when multi-stage) their card once and
// a reminder once, and updates the cards already sent. The instance's reviewer list is read once.
func (s *Service) sweepReviewers(ctx context.Context, n Notifier, a Active) error {
	contacted, revs, err := s.readReviewersNow(ctx, a)
	if err != nil {
		return err
	}
	open, fp, err := s.progress(ctx, a)
	if err != nil {
		return err
	}
	var errs []error
	if len(a.Stages) > 0 {
		errs = append(errs, s.refreshStages(ctx, n, a, contacted, fp))
	} else {
		errs = append(errs, s.refreshCards(ctx, n, a, revs, fp))
	}
	for _, r := range revs {
		if _, err := s.once(ctx, sendKey("review", a, r.ID), func() error { return s.deliverTracked(ctx, n, a, r.ID, fp, false, open) }); err != nil {
			errs = append(errs, fmt.Errorf("send %s to %s: %w", a.Def.Name, r.ID, err))
		}
		if open == 0 || !s.remindDue(a) {
			continue
		}
		if _, err := s.once(ctx, sendKey("remind", a, r.ID), func() error { return s.deliverTracked(ctx, n, a, r.ID, fp, true, open) }); err != nil {
			errs = append(errs, fmt.Errorf("remind %s of %s: %w", r.ID, a.Def.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RemindNow sends every reviewer of an instance in progress a reminder card now (the admin's /review … remind,
// besides Entra's own reminder mail). It returns how many were sent.
func (s *Service) RemindNow(ctx context.Context, n Notifier, a Active) (int, error) {
	if !a.Inst.Status.Open() {
		return 0, entitlement.Invalid("reviewStatus", "is not in progress, so there is nobody to remind")
	}
	if a.SelfReview() {
		return s.remindSelf(ctx, n, a)
	}
	open, err := s.undecided(ctx, a)
	if err != nil {
		return 0, err
	}
	_, revs, err := s.readReviewersNow(ctx, a)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, r := range revs {
		if err := s.deliver(ctx, n, r.ID, func(l *i18n.Localizer) *cards.Card { return s.cardFor(ctx, l, a, r.ID, reminderNote(l, a), open) }); err != nil {
			errs = append(errs, fmt.Errorf("remind %s: %w", orDefault(r.Name, r.ID), err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func (s *Service) remindSelf(ctx context.Context, n Notifier, a Active) (int, error) {
	ds, err := s.itemsNow(ctx, a)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, d := range ds {
		if d.Decided() {
			continue
		}
		item := SelfItem{Active: a, Decision: d}
		if err := s.deliver(ctx, n, d.Principal.ID, func(l *i18n.Localizer) *cards.Card { return s.SelfCard(l, item, false, reminderNote(l, a), "") }); err != nil {
			errs = append(errs, fmt.Errorf("remind %s: %w", orDefault(d.Principal.Name, d.Principal.ID), err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// sweepSelf asks each reviewed person once (once per stage in a multi-stage review), reminds them once, and
// confirms an answer once it shows in Graph (given in My Access, where the bot could not record it).
func (s *Service) sweepSelf(ctx context.Context, n Notifier, a Active) error {
	ds, err := s.itemsNow(ctx, a)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range ds {
		pid := d.Principal.ID
		item := SelfItem{Active: a, Decision: d}
		send := func(kind string, note func(l *i18n.Localizer) string) {
			if _, err := s.once(ctx, selfKey(kind, a.Ref(), pid), func() error {
				return s.deliver(ctx, n, pid, func(l *i18n.Localizer) *cards.Card { return s.SelfCard(l, item, false, note(l), "") })
			}); err != nil {
				errs = append(errs, fmt.Errorf("send %s to %s: %w", a.Def.Name, pid, err))
			}
		}
		if d.Decided() {
			send("self-answered", func(l *i18n.Localizer) string { return l.T("rv.self.recorded") })
			continue
		}
		send("self", func(*i18n.Localizer) string { return "" })
		if s.remindDue(a) {
			send("self-remind", func(l *i18n.Localizer) string { return reminderNote(l, a) })
		}
	}
	return errors.Join(errs...)
}

// selfKey is the send-once key of a self-review notice (kind self, self-remind or self-answered): per stage
// for a multi-stage review.
func selfKey(kind string, ref entitlement.ReviewRef, principalID string) string {
	if ref.StageID != "" {
		return kind + "/" + ref.InstanceID + "/" + ref.StageID + "/" + principalID
	}
	return kind + "/" + ref.InstanceID + "/" + principalID
}

// AnsweredKey is the claim key of the confirmation of a self-review answer (set when the chat showed it); ref
// names the instance and, in a multi-stage review, the stage.
func AnsweredKey(ref entitlement.ReviewRef, principalID string) string {
	return selfKey("self-answered", ref, principalID)
}

// tellRemoved tells each person whose access an applied review removed, once.
func (s *Service) tellRemoved(ctx context.Context, n Notifier, a Active) error {
	ds, err := s.cfg.Reviews.InstanceDecisions(ctx, a.Def.ID, a.Inst.ID)
	if err != nil {
		return fmt.Errorf("load decisions of %s: %w", a.Def.Name, err)
	}
	var errs []error
	for _, d := range ds {
		if d.Decision != entitlement.ReviewDeny || d.ApplyResult != "AppliedSuccessfully" || d.Principal.ID == "" {
			continue
		}
		card := func(l *i18n.Localizer) *cards.Card {
			return cards.Notice(l, cards.NoticeView{Kind: cards.NoticeInfo, Title: l.T("rv.ended.title", "Package", a.Resource),
				Text:        l.T("rv.removed.text", "Review", a.Def.Name),
				Suggestions: []cards.Suggestion{{Title: l.T("rv.requestAgain"), Command: "request " + a.Resource}, {Title: l.T("button.myAccess"), Command: "access"}}})
		}
		if _, err := s.once(ctx, "removed/"+a.Inst.ID+"/"+d.Principal.ID, func() error {
			return s.deliver(ctx, n, d.Principal.ID, card)
		}); err != nil {
			errs = append(errs, fmt.Errorf("tell %s: %w", d.Principal.ID, err))
		}
	}
	return errors.Join(errs...)
}
