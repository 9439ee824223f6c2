package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Who reviews a stage. Graph does not say: contactedReviewers is one list for the whole instance, one entry per
// person with the time Graph first asked them (createdDateTime), and a stage (accessReviewStage) carries only
// its reviewer *queries*. The per-item reviewers Graph resolves are not exposed to the app either (the
// delegated stages/{id}/decisions/filterByCurrentUser needs each reviewer's own token). So the bot works a
// stage's reviewers out from what Graph does give:
//
//   - everyone first contacted at or after the stage's start (Graph added them for this stage);
//   - of the people contacted earlier (an earlier stage asked them too), those the stage's reviewer queries
//     name: "/users/{id}" directly, "./manager" when they manage a person under review in this stage (the
//     stage's fallback queries for a person without a manager), "/groups/{id}/…" when they are a member;
//   - in a self-review stage (no reviewer queries), the people under review in this stage.
//
// Only people Graph contacted count (besides the users a stage names): a manager changed since is not sent a
// card Graph would not let them use. A stage's reviewer then gets exactly one card for it (send-once keys are
// per stage).

// subjects are the people of a contacted list.
func subjects(cs []entitlement.ContactedReviewer) []entitlement.Subject {
	out := make([]entitlement.Subject, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Subject)
	}
	return out
}

// readReviewersNow reads an instance's contacted reviewers (once) and works out who reviews it now
// (reviewersNow); it returns both. A self-review stage does not read the contacted list (nil): its reviewers
// are the people under review in it.
func (s *Service) readReviewersNow(ctx context.Context, a Active) ([]entitlement.ContactedReviewer, []entitlement.Subject, error) {
	var contacted []entitlement.ContactedReviewer
	if a.Stage == nil || !a.SelfReview() {
		var err error
		if contacted, err = s.cfg.Reviews.ContactedReviewers(ctx, a.Def.ID, a.Inst.ID); err != nil {
			return nil, nil, fmt.Errorf("list reviewers of %s: %w", a.Def.Name, err)
		}
	}
	revs, err := s.reviewersNow(ctx, a, contacted)
	if err != nil {
		return nil, nil, fmt.Errorf("list reviewers of %s: %w", a.Def.Name, err)
	}
	return contacted, revs, nil
}

// reviewersNow lists who reviews an instance now, from contacted (the instance's contactedReviewers, read once
// by the caller; nil for a self-review stage, which does not use it): everyone contacted for a single-stage
// review, the current stage's reviewers otherwise.
func (s *Service) reviewersNow(ctx context.Context, a Active, contacted []entitlement.ContactedReviewer) ([]entitlement.Subject, error) {
	if a.Stage == nil {
		return subjects(contacted), nil
	}
	set, ok := a.Def.StageSetting(a.Stage.Number)
	if ok && set.SelfReview() {
		ds, err := s.itemsNow(ctx, a)
		if err != nil {
			return nil, err
		}
		var out []entitlement.Subject
		for _, d := range ds {
			out = addSubject(out, d.Principal)
		}
		return out, nil
	}
	start := a.Stage.Start.Truncate(time.Second)
	var out []entitlement.Subject
	var earlier []entitlement.ContactedReviewer
	for _, r := range contacted {
		if r.Since.Before(start) {
			earlier = append(earlier, r)
		} else {
			out = addSubject(out, r.Subject)
		}
	}
	if !ok {
		return out, nil
	}
	named, err := s.stageNames(ctx, a, set, len(earlier) > 0)
	if err != nil {
		// Who Graph added for this stage still gets their card; the others on a later sweep.
		s.log.WarnContext(ctx, "work out which earlier reviewers review this stage", "review", a.Def.ID, "stage", a.Stage.Number, "err", err)
	}
	for _, r := range earlier {
		if named.has(r.ID) {
			out = addSubject(out, r.Subject)
		}
	}
	for _, id := range named.users {
		out = addSubject(out, entitlement.Subject{ID: id, Kind: entitlement.SubjectUser})
	}
	return out, nil
}

// addSubject appends p to out unless a subject with its id is there already.
func addSubject(out []entitlement.Subject, p entitlement.Subject) []entitlement.Subject {
	if p.ID == "" || slices.ContainsFunc(out, func(r entitlement.Subject) bool { return strings.EqualFold(r.ID, p.ID) }) {
		return out
	}
	return append(out, p)
}

// stageNamed is who a stage's reviewer queries name: users by "/users/{id}", and (resolved from the directory)
// the managers and group members.
type stageNamed struct {
	// users maps a named user's lower-cased id to the id as the query gives it.
	users    map[string]string
	resolved map[string]bool
}

func (n stageNamed) has(id string) bool {
	id = strings.ToLower(id)
	return n.users[id] != "" || n.resolved[id]
}

// stageNames reads who a stage's reviewer queries name. The directory is read (the stage's items, their
// managers, group members) only when resolve is set: someone contacted earlier may be among them.
func (s *Service) stageNames(ctx context.Context, a Active, set entitlement.ReviewStageSetting, resolve bool) (stageNamed, error) {
	n := stageNamed{users: map[string]string{}, resolved: map[string]bool{}}
	var managed, groups []string
	for _, q := range set.ReviewerQueries {
		switch kind, id, _ := entitlement.ParseReviewerQuery(q); kind {
		case entitlement.ReviewerKindUser:
			n.users[strings.ToLower(id)] = id
		case entitlement.ReviewerKindManager:
			managed = append(managed, q)
		case entitlement.ReviewerKindGroup:
			groups = append(groups, id)
		}
	}
	if !resolve || len(managed)+len(groups) == 0 {
		return n, nil
	}
	if ids, ok := s.resolvedBefore(ctx, a); ok {
		for _, id := range ids {
			n.resolved[id] = true
		}
		return n, nil
	}
	var errs []error
	complete := true
	if len(managed) > 0 {
		items, err := s.addManagers(ctx, a, set, &n)
		// Graph fills a stage's items shortly after it starts: until it lists some, resolve again next time.
		errs, complete = append(errs, err), items > 0
	}
	for _, g := range groups {
		errs = append(errs, s.addMembers(ctx, g, n.resolved))
	}
	if err := errors.Join(errs...); err != nil {
		return n, err
	}
	if complete {
		s.keepResolved(ctx, a, n.resolved)
	}
	return n, nil
}

// bucketStageReviewers keeps, per stage (instance/stage id), who its manager and group queries resolved to.
// A stage's items and the people Graph contacted before it started are fixed once Graph lists the items (shortly
// after the stage starts), so the directory is read once per stage, not on every sweep (nor on every "reviews").
const bucketStageReviewers = "reviews.stagereviewers"

// resolvedBefore reads what keepResolved kept for a's current stage.
func (s *Service) resolvedBefore(ctx context.Context, a Active) ([]string, bool) {
	if s.cfg.Store == nil {
		return nil, false
	}
	var ids []string
	found := false
	err := s.cfg.Store.UpdateKV(ctx, bucketStageReviewers, a.Inst.ID+"/"+a.Stage.ID, func(raw []byte) ([]byte, error) {
		found = raw != nil && json.Unmarshal(raw, &ids) == nil
		return nil, store.ErrNoChange
	})
	return ids, err == nil && found
}

// keepResolved records who a's current stage's queries resolved to (a failure only costs a re-read).
func (s *Service) keepResolved(ctx context.Context, a Active, resolved map[string]bool) {
	if s.cfg.Store == nil {
		return
	}
	ids := slices.Sorted(maps.Keys(resolved))
	err := s.cfg.Store.UpdateKV(ctx, bucketStageReviewers, a.Inst.ID+"/"+a.Stage.ID, func([]byte) ([]byte, error) { return json.Marshal(ids) })
	if err != nil {
		s.log.WarnContext(ctx, "keep a stage's resolved reviewers", "review", a.Def.ID, "stage", a.Stage.Number, "err", err)
	}
}

// addManagers adds the managers of the people under review in a's current stage; a person without a manager
// is reviewed by the stage's fallback reviewers. items is how many items the stage lists.
func (s *Service) addManagers(ctx context.Context, a Active, set entitlement.ReviewStageSetting, n *stageNamed) (items int, err error) {
	ds, err := s.itemsNow(ctx, a)
	if err != nil {
		return 0, err
	}
	fallback := false
	var errs []error
	for _, d := range ds {
		m, err := s.cfg.Directory.Manager(ctx, d.Principal.ID)
		switch {
		case errors.Is(err, entitlement.ErrNotFound):
			fallback = true
		case err != nil:
			errs = append(errs, fmt.Errorf("read the manager of %s: %w", d.Principal.ID, err))
		default:
			n.resolved[strings.ToLower(m.ID)] = true
		}
	}
	if !fallback {
		return len(ds), errors.Join(errs...)
	}
	for _, q := range set.FallbackQueries {
		switch kind, id, _ := entitlement.ParseReviewerQuery(q); kind {
		case entitlement.ReviewerKindUser:
			n.resolved[strings.ToLower(id)] = true
		case entitlement.ReviewerKindGroup:
			errs = append(errs, s.addMembers(ctx, id, n.resolved))
		}
	}
	return len(ds), errors.Join(errs...)
}

// addMembers adds a group's members to set, nested groups' members included, as Graph's
// "/groups/{id}/transitiveMembers" reviewer query counts them. (For a "/groups/{id}/members" query this may add
// someone Graph did not ask; only people Graph contacted get a card, so that adds nobody.)
func (s *Service) addMembers(ctx context.Context, groupID string, set map[string]bool) error {
	us, err := s.cfg.Directory.TransitiveGroupMembers(ctx, groupID)
	if err != nil {
		return fmt.Errorf("read the members of group %s: %w", groupID, err)
	}
	for _, u := range us {
		set[strings.ToLower(u.ID)] = true
	}
	return nil
}
