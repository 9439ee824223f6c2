package tenantsim

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Multi-stage access reviews (accessReviewScheduleDefinition.stageSettings, accessReviewStage). The rules kept
// here, from the v1.0 pages: at most three sequential stages, stage N>1 dependsOn stage N-1; each stage has its
// own reviewers, fallback reviewers, recommendations and duration (the durations add up to the instance's);
// a stage holds one decision item per principal still under review; when a stage ends (its end date or stop)
// the items whose decision is in decisionsThatWillMoveToNextStage (all when empty) go on to the next stage,
// which starts then — the others keep their decision as the instance's final one. The instance-level items
// mirror the latest stage an item reached, so applyDecisions and the default decision work on them unchanged.
// Decisions on a multi-stage instance are recorded on its stages (PATCH …/stages/{id}/decisions/{id}), by a
// reviewer of that stage, with a delegated token.

// stageSetting is one accessReviewStageSettings.
type stageSetting struct {
	StageID         string          `json:"stageId"`
	DependsOn       []string        `json:"dependsOn,omitempty"`
	DurationDays    int             `json:"durationInDays"`
	Reviewers       []reviewerScope `json:"reviewers"`
	Fallback        []reviewerScope `json:"fallbackReviewers,omitempty"`
	Recommendations bool            `json:"recommendationsEnabled"`
	MoveOn          []string        `json:"decisionsThatWillMoveToNextStage,omitempty"`
}

// reviewStage is one accessReviewStage of an instance.
type reviewStage struct {
	ID        string            `json:"id"`
	Index     int               `json:"index"`
	Status    string            `json:"status"`
	Start     time.Time         `json:"start"`
	End       time.Time         `json:"end"`
	Decisions []*reviewDecision `json:"decisions"`
}

// staged reports whether the definition has stage settings.
func (d *reviewDef) staged() bool { return len(d.Stages) > 0 }

// stagesDays is the instance length of a multi-stage definition: the sum of its stages' durations.
func (d *reviewDef) stagesDays() int {
	n := 0
	for _, st := range d.Stages {
		n += st.DurationDays
	}
	return n
}

// currentStage is the stage in progress, or nil.
func (in *reviewInst) currentStage() *reviewStage {
	for _, st := range in.Stages {
		if st.Status == "InProgress" {
			return st
		}
	}
	return nil
}

func (in *reviewInst) findStage(id string) *reviewStage {
	for _, st := range in.Stages {
		if st.ID == id {
			return st
		}
	}
	return nil
}

// openItems is where decisions are recorded now: the current stage's items for a multi-stage instance (nil
// when no stage is in progress), else the instance's own.
func (in *reviewInst) openItems() (*reviewStage, []*reviewDecision) {
	if len(in.Stages) == 0 {
		return nil, in.Decisions
	}
	st := in.currentStage()
	if st == nil {
		return nil, nil
	}
	return st, st.Decisions
}

// instanceItem is the instance-level item of a principal.
func (in *reviewInst) instanceItem(principalID string) *reviewDecision {
	for _, dc := range in.Decisions {
		if dc.PrincipalID == principalID {
			return dc
		}
	}
	return nil
}

// startStages lays out the stages of a new multi-stage instance and starts the first with every item.
func (s *Sim) startStages(d *reviewDef, in *reviewInst) {
	in.Stages = nil
	at := in.Start
	for i, set := range d.Stages {
		end := at.Add(time.Duration(max(set.DurationDays, 1)) * 24 * time.Hour)
		in.Stages = append(in.Stages, &reviewStage{ID: newID(), Index: i, Status: "NotStarted", Start: at, End: end})
		at = end
	}
	in.End = at
	s.beginStage(d, in, in.Stages[0], in.Decisions, in.Start)
}

// beginStage starts a stage with one new item per carried instance item, reviewed by the stage's reviewers.
func (s *Sim) beginStage(d *reviewDef, in *reviewInst, st *reviewStage, carried []*reviewDecision, now time.Time) {
	set := d.Stages[st.Index]
	st.Status, st.Decisions = "InProgress", nil
	if st.Start.After(now) || st.Index > 0 {
		// A stage starts when the one before it ended (early, when stopped); the later ones move with it.
		shift := now.Sub(st.Start)
		for _, later := range in.Stages[st.Index:] {
			later.Start, later.End = later.Start.Add(shift), later.End.Add(shift)
		}
		in.End = in.Stages[len(in.Stages)-1].End
	}
	for _, it := range carried {
		rec, last := s.recommendation(it.PrincipalID, st.Start, set.Recommendations)
		revs := s.resolveReviewers(set.Reviewers, set.Fallback, it.PrincipalID)
		st.Decisions = append(st.Decisions, &reviewDecision{ID: newID(), PrincipalID: it.PrincipalID, AssignmentID: it.AssignmentID,
			Reviewers: revs, Decision: "NotReviewed", Recommendation: rec, ApplyResult: "New", LastSignIn: last})
		// The instance item now waits for this stage's decision; its reviewers are everyone asked so far.
		it.Decision, it.Justification, it.ReviewedBy, it.ReviewedAt = "NotReviewed", "", nil, nil
		it.Recommendation, it.LastSignIn = rec, last
		it.Reviewers = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(it.Reviewers), revs...))))
		if it.ReviewerSince == nil {
			it.ReviewerSince = map[string]time.Time{}
		}
		for _, r := range revs {
			if _, ok := it.ReviewerSince[r]; !ok {
				it.ReviewerSince[r] = st.Start
			}
		}
	}
	s.log.Info("access review stage started", "definition", d.ID, "instance", in.ID, "stage", st.Index+1)
}

// moves reports whether a stage's decision goes on to the next stage.
func moves(set stageSetting, dc *reviewDecision) bool {
	if len(set.MoveOn) == 0 {
		return true
	}
	for _, m := range set.MoveOn {
		switch {
		case strings.EqualFold(m, dc.Decision):
			return true
		case strings.EqualFold(m, "Recommendation") && dc.Decision == "NotReviewed" && (dc.Recommendation == "Approve" || dc.Recommendation == "Deny"):
			return true
		}
	}
	return false
}

// endStage completes the stage in progress at now and starts the next with the items that move on; after
// the last stage the instance completes.
func (s *Sim) endStage(d *reviewDef, in *reviewInst, st *reviewStage, now time.Time) {
	st.Status = "Completed"
	if st.End.After(now) {
		st.End = now
	}
	if st.Index+1 >= len(in.Stages) {
		s.completeInstance(d, in, now)
		return
	}
	var carried []*reviewDecision
	for _, dc := range st.Decisions {
		if it := in.instanceItem(dc.PrincipalID); it != nil && moves(d.Stages[st.Index], dc) {
			carried = append(carried, it)
		}
	}
	next := in.Stages[st.Index+1]
	if len(carried) == 0 {
		for _, later := range in.Stages[st.Index+1:] {
			later.Status = "Completed"
		}
		s.completeInstance(d, in, now)
		return
	}
	s.beginStage(d, in, next, carried, now)
}

// tickStages ends the stages whose end date has passed (a stage may start and end within one long tick).
func (s *Sim) tickStages(d *reviewDef, in *reviewInst, now time.Time) bool {
	changed := false
	for st := in.currentStage(); st != nil && !now.Before(st.End) && in.Status == "InProgress"; st = in.currentStage() {
		s.endStage(d, in, st, st.End)
		changed = true
	}
	return changed
}

// stopInstanceStages marks the stage in progress completed when the whole instance is stopped.
func stopInstanceStages(in *reviewInst, now time.Time) {
	if st := in.currentStage(); st != nil {
		st.Status = "Completed"
		if st.End.After(now) {
			st.End = now
		}
	}
}

// mirror copies a stage decision onto the instance's item of the same principal.
func (in *reviewInst) mirror(dc *reviewDecision) {
	if it := in.instanceItem(dc.PrincipalID); it != nil {
		it.Decision, it.Justification, it.ReviewedBy, it.ReviewedAt = dc.Decision, dc.Justification, dc.ReviewedBy, dc.ReviewedAt
	}
}

// reviewsStage reports whether the user reviews at least one item of the stage.
func reviewsStage(st *reviewStage, oid string) bool {
	return reviewsAny(st.Decisions, oid)
}

// reviewStages serves …/instances/{id}/stages[/filterByCurrentUser(on='reviewer')|/{id}[/decisions…|/stop|…]].
func (s *Sim) reviewStages(g *gctx, d *reviewDef, in *reviewInst, seg []string, ctx string) *graphErr {
	admin := s.reviewAdmin(g.c, false)
	if list, mine, gerr := s.reviewerListing(g, seg, "accessReviewStage"); gerr != nil {
		return gerr
	} else if list {
		var items []item
		for _, st := range in.Stages {
			if !mine || reviewsStage(st, g.c.OID) {
				items = append(items, sameItem(s.renderReviewStage(d, st)))
			}
		}
		s.writeCollection(g.w, g.r, g.q, "Collection(microsoft.graph.accessReviewStage)", items)
		return nil
	}
	st := in.findStage(seg[0])
	if st == nil {
		return errNotFound("accessReviewStage", seg[0])
	}
	if !admin && !reviewsStage(st, g.c.OID) {
		return errForbidden("The signed-in user is not a reviewer of this access review stage.")
	}
	ctx += "('" + st.ID + "')"
	if len(seg) == 1 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		s.writeEntity(g.w, http.StatusOK, g.q, ctx, s.renderReviewStage(d, st))
		return nil
	}
	if strings.EqualFold(seg[1], "decisions") {
		return s.reviewDecisions(g, d, in, st, seg[2:], ctx+"/decisions")
	}
	if g.r.Method != http.MethodPost || len(seg) > 2 {
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	return s.stageAction(g, d, in, st, strings.ToLower(seg[1]))
}

// stageAction runs stop (admin), acceptRecommendations and batchRecordDecisions (the caller's items of the
// stage, delegated).
func (s *Sim) stageAction(g *gctx, d *reviewDef, in *reviewInst, st *reviewStage, action string) *graphErr {
	switch action {
	case "stop":
		if !s.reviewAdmin(g.c, true) {
			return errNotReviewAdmin()
		}
		if st.Status != "InProgress" {
			return errBadRequest("Only a stage that is InProgress can be stopped (it is %s).", st.Status)
		}
		s.endStage(d, in, st, s.now())
	case "acceptrecommendations", "batchrecorddecisions":
		if g.c.AppOnly {
			return errDelegatedOnly("accessReviewStage: " + action)
		}
		if gerr := s.decideMine(g, d, in, st, st.Decisions, action == "acceptrecommendations"); gerr != nil {
			return gerr
		}
	default:
		return errNotFound("action", action)
	}
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}

// decideMine records the caller's verdict (the body's decision, or each item's recommendation) on the items of
// items they review and have not decided (acceptRecommendations / batchRecordDecisions).
func (s *Sim) decideMine(g *gctx, d *reviewDef, in *reviewInst, st *reviewStage, items []*reviewDecision, recommendations bool) *graphErr {
	var body map[string]any
	if !recommendations {
		var gerr *graphErr
		if body, gerr = readJSONObject(g.r); gerr != nil {
			return gerr
		}
	}
	pid, rid := jstr(body, "principalId"), jstr(body, "resourceId")
	for _, dc := range items {
		if dc.Decision != "NotReviewed" || !slices.Contains(dc.Reviewers, g.c.OID) || (pid != "" && dc.PrincipalID != pid) || (rid != "" && rid != d.PackageID) {
			continue
		}
		decision, why := jstr(body, "decision"), jstr(body, "justification")
		if recommendations {
			if dc.Recommendation != "Approve" && dc.Recommendation != "Deny" {
				continue
			}
			decision, why = dc.Recommendation, "Accepted the recommendation"
		}
		if gerr := s.recordDecision(g, d, in, st, dc, decision, why); gerr != nil {
			return gerr
		}
	}
	return nil
}

func (s *Sim) renderReviewStage(d *reviewDef, st *reviewStage) map[string]any {
	set := d.Stages[st.Index]
	return map[string]any{
		"@odata.type":       "#microsoft.graph.accessReviewStage",
		"id":                st.ID,
		"startDateTime":     ts(st.Start),
		"endDateTime":       ts(st.End),
		"status":            st.Status,
		"reviewers":         renderReviewerScopes(set.Reviewers),
		"fallbackReviewers": renderReviewerScopes(set.Fallback),
	}
}

func renderStageSettings(d *reviewDef) []any {
	out := []any{}
	for _, set := range d.Stages {
		moveOn := []any{}
		for _, m := range set.MoveOn {
			moveOn = append(moveOn, m)
		}
		deps := []any{}
		for _, x := range set.DependsOn {
			deps = append(deps, x)
		}
		out = append(out, map[string]any{"stageId": set.StageID, "dependsOn": deps, "durationInDays": set.DurationDays,
			"recommendationsEnabled": set.Recommendations, "decisionsThatWillMoveToNextStage": moveOn,
			"reviewers": renderReviewerScopes(set.Reviewers), "fallbackReviewers": renderReviewerScopes(set.Fallback)})
	}
	return out
}

// parseStageSettings reads a definition's stageSettings (POST), with Graph's rules.
func parseStageSettings(body map[string]any, scopes func(o map[string]any, key string) ([]reviewerScope, *graphErr)) ([]stageSetting, *graphErr) {
	raw := jarr(body, "stageSettings")
	if len(raw) > 3 {
		return nil, errBadRequest("stageSettings: at most 3 stages are supported, not %d.", len(raw))
	}
	var out []stageSetting
	for i, x := range raw {
		o, _ := x.(map[string]any)
		set := stageSetting{StageID: strings.TrimSpace(jstr(o, "stageId"))}
		if set.StageID == "" || slices.ContainsFunc(out, func(p stageSetting) bool { return p.StageID == set.StageID }) {
			return nil, errBadRequest("stageSettings[%d].stageId is required and must be unique.", i)
		}
		for _, dep := range jarr(o, "dependsOn") {
			if v, _ := dep.(string); v != "" {
				set.DependsOn = append(set.DependsOn, v)
			}
		}
		switch {
		case i == 0 && len(set.DependsOn) > 0:
			return nil, errBadRequest("stageSettings[0].dependsOn must be empty: the first stage depends on none.")
		case i > 0 && (len(set.DependsOn) != 1 || set.DependsOn[0] != out[i-1].StageID):
			return nil, errBadRequest("stageSettings[%d].dependsOn must be [\"%s\"]: only sequential stages are supported.", i, out[i-1].StageID)
		}
		if v, ok := jget(o, "durationInDays"); ok {
			n, _ := v.(float64)
			set.DurationDays = int(n)
		}
		if set.DurationDays <= 0 {
			return nil, errBadRequest("stageSettings[%d].durationInDays must be a positive number of days.", i)
		}
		if v, ok := jget(o, "recommendationsEnabled"); ok {
			set.Recommendations, _ = v.(bool)
		}
		for _, m := range jarr(o, "decisionsThatWillMoveToNextStage") {
			v, _ := m.(string)
			if !slices.Contains([]string{"Approve", "Deny", "Recommendation", "NotReviewed"}, v) {
				return nil, errBadRequest("stageSettings[%d].decisionsThatWillMoveToNextStage: %q is not one of Approve, Deny, Recommendation, NotReviewed.", i, v)
			}
			set.MoveOn = append(set.MoveOn, v)
		}
		var gerr *graphErr
		if set.Reviewers, gerr = scopes(o, "reviewers"); gerr != nil {
			return nil, gerr
		}
		if set.Fallback, gerr = scopes(o, "fallbackReviewers"); gerr != nil {
			return nil, gerr
		}
		out = append(out, set)
	}
	return out, nil
}

// Seeded multi-stage review (SeedStagedReview).
const (
	// ReviewStagedID is the two-stage review of Falcon Team Member: stage 1 the holder's manager (Aaron for
	// Rita and Megan), stage 2 Adele for what the manager approved.
	ReviewStagedID = "a7e70000-0000-4000-8000-000000000004"
)

// SeedStagedReview adds a two-stage review of Falcon Team Member (opt-in): Rita and Megan hold it; stage 1
// (7 days) is reviewed by their manager Aaron (fallback Patti), and what he approves moves on to stage 2
// (7 days), reviewed by Adele. Megan has not signed in for 60 days. Idempotent.
func (s *Sim) SeedStagedReview() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Reviews[ReviewStagedID] != nil {
		return
	}
	now := s.now()
	s.seedTeamHolders(now)
	start := now.Add(-time.Hour).Truncate(time.Second)
	s.addReview(&reviewDef{ID: ReviewStagedID, DisplayName: "Falcon Team Member two-stage review",
		Description: "Managers first, then the Falcon owner, confirm who still needs team access.", PackageID: PkgTeamMember,
		Reviewers:       []reviewerScope{{Query: "./manager", QueryType: "MicrosoftGraph", QueryRoot: "decisions"}},
		Recommendations: true, DefaultDecision: "None",
		Stages: []stageSetting{
			{StageID: "1", DurationDays: 7, Recommendations: true, MoveOn: []string{"Approve"},
				Reviewers: []reviewerScope{{Query: "./manager", QueryType: "MicrosoftGraph", QueryRoot: "decisions"}},
				Fallback:  []reviewerScope{{Query: "/users/" + UserPatti, QueryType: "MicrosoftGraph"}}},
			{StageID: "2", DependsOn: []string{"1"}, DurationDays: 7, Recommendations: true,
				Reviewers: []reviewerScope{{Query: "/users/" + UserAdele, QueryType: "MicrosoftGraph"}}},
		},
		Start: start, Created: start, CreatedBy: identityRef{ID: UserAdele, DisplayName: "Adele Vance"}}, now)
	s.persistLocked()
}

// SeedTeamHolders gives Rita and Megan Falcon Team Member (Megan has not signed in for 60 days) and starts no
// review: the admin creates one from chat (/review new … stages …). Idempotent.
func (s *Sim) SeedTeamHolders() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seedTeamHolders(s.now())
	s.persistLocked()
}

// seedTeamHolders gives Rita and Megan Falcon Team Member unless they hold it, with their last sign-ins.
func (s *Sim) seedTeamHolders(now time.Time) {
	for id, ago := range map[string]time.Duration{UserRita: 24 * time.Hour, UserMegan: 60 * 24 * time.Hour, UserAaron: 2 * time.Hour} {
		if _, ok := s.w.LastSignIns[id]; !ok {
			s.w.LastSignIns[id] = now.Add(-ago)
		}
	}
	for _, id := range []string{UserRita, UserMegan} {
		if !s.holds(id, PkgTeamMember) {
			s.seedAssignment(id, PkgTeamMember, now, 30*24*time.Hour, 180*24*time.Hour)
		}
	}
}

// holds reports whether a directory user has an active assignment of a package.
func (s *Sim) holds(userID, pkgID string) bool {
	for _, a := range s.w.Assignments {
		if a.PackageID != pkgID || !isActiveAssignment(a) {
			continue
		}
		if sub := s.w.Subjects[a.TargetID]; sub != nil && sub.ObjectID == userID {
			return true
		}
	}
	return false
}
