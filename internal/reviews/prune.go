package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Retention. The sweeps keep three kinds of records through the store's compare-and-swap: send-once claims
// (bucketSent), where each reviewer's card landed (bucketCards) and whom a stage's queries resolved to
// (bucketStageReviewers). Prune deletes those nothing will read again to decide anything, with a margin
// (keepEnded); Run prunes once a day. A record is read again only while:
//   - it belongs to a review instance the sweeps still visit: the instance in progress of a definition, or, when
//     none is, its latest finished one (pickInstance; refreshClosed updates its cards and tellRemoved reads its
//     "removed" claims on every sweep). Those stay, however old: dropping them would send the notices again.
//     The records of any other instance Graph lists as finished (Completed or Applied) go keepEnded after its
//     end; an instance in any other status keeps them. Records of an instance Graph no longer lists (its review
//     was deleted) go keepUnlisted after they were written, or at once when they carry no time (a card kept by
//     an older build) or are only a cache (a stage's resolved reviewers);
//   - an expiry warning ("expiring/<assignment>/<end>") is read until that end; it goes keepEnded after it;
//   - an end notice ("ended/<assignment>") is read for endedNoticeWithin of the end, which is before its claim's
//     time; it goes endedNoticeWithin+keepEnded after that time.
//
// Anything else (a key this build does not know) is kept.

// keepEnded is the margin after which a record nothing reads any more is pruned: 30 days (Graph's clock and
// ours may disagree, an instance's end may move, an applied review may still be applying).
const keepEnded = 30 * 24 * time.Hour

// keepUnlisted is how long after it was written a record of an instance Graph no longer lists is kept: longer
// than any review instance runs, so an instance missing from one listing loses nothing.
const keepUnlisted = 400 * 24 * time.Hour

// pruneEvery is how often Run prunes.
const pruneEvery = 24 * time.Hour

// retention is what the rules need to know when Prune runs.
type retention struct {
	now time.Time
	// insts maps the id of every instance Graph lists to its state; nil when the listing failed (then every
	// instance's records are kept).
	insts map[string]instanceState
}

// instanceState is whether the sweeps still read an instance's records, and when it ended.
type instanceState struct {
	visited bool
	end     time.Time
}

// Prune deletes the review and notice records nothing will read again (see Retention) and returns how many it
// deleted. When the review listing fails, only the expiry notices' records are pruned and the error is returned.
func (s *Service) Prune(ctx context.Context) (int, error) {
	r := retention{now: s.now()}
	insts, listErr := s.listInstances(ctx)
	if listErr == nil {
		r.insts = insts
	}
	total := 0
	errs := []error{listErr}
	for _, b := range []struct {
		bucket string
		stale  func(key string, raw []byte) bool
	}{
		{bucketSent, r.staleClaim},
		{bucketCards, r.staleCard},
		{bucketStageReviewers, r.staleStage},
	} {
		n, err := s.cfg.Store.PruneKV(ctx, b.bucket, b.stale)
		if err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", b.bucket, err))
			continue
		}
		if n > 0 {
			s.log.InfoContext(ctx, "pruned review records", "bucket", b.bucket, "count", n)
		}
		total += n
	}
	return total, errors.Join(errs...)
}

// withoutForbidden is err without its entitlement.ErrForbidden parts, nil when nothing else is left: Run says
// once that the review permission is missing, but a store failure of the same Prune must still be logged.
func withoutForbidden(err error) error {
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else if err != nil {
		parts = []error{err}
	}
	var rest []error
	for _, e := range parts {
		if !errors.Is(e, entitlement.ErrForbidden) {
			rest = append(rest, e)
		}
	}
	return errors.Join(rest...)
}

// listInstances reads every instance of every review definition, marking those the sweeps visit.
func (s *Service) listInstances(ctx context.Context) (map[string]instanceState, error) {
	out := map[string]instanceState{}
	err := s.eachDefinition(ctx, func(_ entitlement.ReviewDefinition, insts []entitlement.ReviewInstance) error {
		pick := pickInstance(insts, true)
		for i, in := range insts {
			visited := &insts[i] == pick || !finished(in.Status)
			out[in.ID] = instanceState{visited: visited, end: in.End}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// finished reports whether an instance with status st is over for good (a status this build does not know,
// such as one Graph adds, counts as not over).
func finished(st entitlement.ReviewStatus) bool {
	return st == entitlement.ReviewCompleted || st == entitlement.ReviewApplied
}

// instanceGone reports whether the records of instance id, the latest written at (zero: unknown), may go;
// cache marks records whose loss costs only a re-read.
func (r retention) instanceGone(id string, at time.Time, cache bool) bool {
	if r.insts == nil || id == "" {
		return false
	}
	st, listed := r.insts[id]
	switch {
	case listed:
		return !st.visited && !st.end.IsZero() && r.now.Sub(st.end) > keepEnded
	case cache || at.IsZero():
		return true
	default:
		return r.now.Sub(at) > keepUnlisted
	}
}

// staleClaim is the rule of bucketSent: keys are "<kind>/<instance or assignment>/…", values claims.
func (r retention) staleClaim(key string, raw []byte) bool {
	var c claim
	if json.Unmarshal(raw, &c) != nil {
		return false
	}
	parts := strings.Split(key, "/")
	if len(parts) < 2 {
		return false
	}
	switch parts[0] {
	case "review", "remind", "self", "self-remind", "self-answered", "removed":
		return r.instanceGone(parts[1], c.At, false)
	case "expiring":
		if len(parts) != 3 {
			return false
		}
		end, err := strconv.ParseInt(parts[2], 10, 64)
		return err == nil && r.now.Sub(time.Unix(end, 0)) > keepEnded
	case "ended":
		return !c.At.IsZero() && r.now.Sub(c.At) > endedNoticeWithin+keepEnded
	}
	return false
}

// staleCard is the rule of bucketCards: keys are "<instance>/[<stage>/]<reviewer>".
func (r retention) staleCard(key string, raw []byte) bool {
	var rec cardRecord
	if json.Unmarshal(raw, &rec) != nil {
		return false
	}
	inst, _, _ := strings.Cut(key, "/")
	return r.instanceGone(inst, rec.At, false)
}

// staleStage is the rule of bucketStageReviewers: keys are "<instance>/<stage>", values a cache.
func (r retention) staleStage(key string, _ []byte) bool {
	inst, _, _ := strings.Cut(key, "/")
	return r.instanceGone(inst, time.Time{}, true)
}
