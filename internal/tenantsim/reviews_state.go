package tenantsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Access reviews (identityGovernance/accessReviews): a definition reviews the assignments of one access package;
// each instance holds one decision item per reviewed assignment. The rules kept here: instance status
// NotStarted → InProgress → Completed → Applied; decisions are recorded only by a reviewer of the item with a
// delegated token; recommendations come from the principal's last sign-in (none in the 30 days before the
// instance started → Deny); at the end the default decision is filled in and, with auto-apply, the decisions are
// applied; applying a Deny removes the assignment.

// reviewerScope is an accessReviewReviewerScope.
type reviewerScope struct {
	Query     string `json:"query"`
	QueryType string `json:"queryType"`
	QueryRoot string `json:"queryRoot,omitempty"`
}

type reviewDef struct {
	Ord                    int64           `json:"ord"`
	ID                     string          `json:"id"`
	DisplayName            string          `json:"displayName"`
	Description            string          `json:"description"`
	PackageID              string          `json:"packageId"`
	Reviewers              []reviewerScope `json:"reviewers"`
	Fallback               []reviewerScope `json:"fallbackReviewers"`
	JustificationRequired  bool            `json:"justificationRequired"`
	Recommendations        bool            `json:"recommendations"`
	DefaultDecisionEnabled bool            `json:"defaultDecisionEnabled"`
	DefaultDecision        string          `json:"defaultDecision"`
	AutoApply              bool            `json:"autoApply"`
	DurationDays           int             `json:"durationDays"`
	Recurrence             string          `json:"recurrence,omitempty"` // "" | weekly | absoluteMonthly
	Interval               int             `json:"interval,omitempty"`
	Start                  time.Time       `json:"start"`
	Created                time.Time       `json:"created"`
	CreatedBy              identityRef     `json:"createdBy"`
	Instances              []*reviewInst   `json:"instances"`
	// Stages are the stageSettings of a multi-stage review (reviews_stages.go); empty for a single stage.
	Stages []stageSetting `json:"stageSettings,omitempty"`
}

type reviewInst struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Start     time.Time         `json:"start"`
	End       time.Time         `json:"end"`
	Decisions []*reviewDecision `json:"decisions"`
	Reminders int               `json:"reminders,omitempty"`
	// Stages are the stages of a multi-stage instance (reviews_stages.go).
	Stages []*reviewStage `json:"stages,omitempty"`
}

type reviewDecision struct {
	ID             string       `json:"id"`
	PrincipalID    string       `json:"principalId"`
	AssignmentID   string       `json:"assignmentId"`
	Reviewers      []string     `json:"reviewers"`
	Decision       string       `json:"decision"`
	Recommendation string       `json:"recommendation"`
	Justification  string       `json:"justification,omitempty"`
	ReviewedBy     *identityRef `json:"reviewedBy,omitempty"`
	ReviewedAt     *time.Time   `json:"reviewedAt,omitempty"`
	ApplyResult    string       `json:"applyResult"`
	AppliedBy      *identityRef `json:"appliedBy,omitempty"`
	AppliedAt      *time.Time   `json:"appliedAt,omitempty"`
	LastSignIn     *time.Time   `json:"lastSignIn,omitempty"`
	// ReviewerSince is when each reviewer of a multi-stage instance's item was first asked (its stage's start).
	ReviewerSince map[string]time.Time `json:"reviewerSince,omitempty"`
}

// selfReview reports whether the reviewed users review themselves (no reviewers configured).
func (d *reviewDef) selfReview() bool { return len(d.Reviewers) == 0 }

// findInstance finds an instance of a definition.
func (d *reviewDef) findInstance(id string) *reviewInst {
	for _, in := range d.Instances {
		if in.ID == id {
			return in
		}
	}
	return nil
}

// reviewersOf resolves the reviewers of a principal's item: the definition's reviewer scopes ("./manager",
// "/users/{id}", "/groups/{id}/transitiveMembers"), else the fallback reviewers; no scopes = the principal.
func (s *Sim) reviewersOf(d *reviewDef, principalID string) []string {
	return s.resolveReviewers(d.Reviewers, d.Fallback, principalID)
}

// resolveReviewers resolves reviewer scopes (else the fallback scopes) for a principal; no scopes = the
// principal reviews themselves.
func (s *Sim) resolveReviewers(reviewers, fallback []reviewerScope, principalID string) []string {
	if len(reviewers) == 0 {
		return []string{principalID}
	}
	resolve := func(scopes []reviewerScope) []string {
		var out []string
		for _, sc := range scopes {
			q := strings.TrimSpace(sc.Query)
			switch {
			case q == "./manager":
				if u := s.w.Users[principalID]; u != nil && u.ManagerID != "" {
					out = append(out, u.ManagerID)
				}
			case strings.HasPrefix(q, "/users/"):
				out = append(out, strings.TrimPrefix(q, "/users/"))
			case strings.HasPrefix(q, "/groups/"):
				gid, _, _ := strings.Cut(strings.TrimPrefix(q, "/groups/"), "/")
				if g := s.w.Groups[gid]; g != nil {
					out = append(out, g.Members...)
				}
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	if r := resolve(reviewers); len(r) > 0 {
		return r
	}
	return resolve(fallback)
}

// recommendation follows Graph: Approve when the principal signed in within 30 days before the instance
// started, Deny when longer ago, NoInfoAvailable when there is no sign-in or recommendations are off (enabled
// false); the last sign-in is returned either way.
func (s *Sim) recommendation(principalID string, start time.Time, enabled bool) (string, *time.Time) {
	t, ok := s.w.LastSignIns[principalID]
	if !ok {
		return "NoInfoAvailable", nil
	}
	if !enabled {
		return "NoInfoAvailable", &t
	}
	if start.Sub(t) > 30*24*time.Hour {
		return "Deny", &t
	}
	return "Approve", &t
}

// startInstance fills an instance with one decision item per active assignment of the package.
func (s *Sim) startInstance(d *reviewDef, in *reviewInst) {
	in.Status = "InProgress"
	in.Decisions = nil
	for _, a := range sortedBy(s.w.Assignments, func(a *assignment) int64 { return a.Ord }) {
		if a.PackageID != d.PackageID || !isActiveAssignment(a) {
			continue
		}
		sub := s.w.Subjects[a.TargetID]
		if sub == nil || sub.ObjectID == "" {
			continue
		}
		rec, last := s.recommendation(sub.ObjectID, in.Start, d.Recommendations)
		in.Decisions = append(in.Decisions, &reviewDecision{ID: newID(), PrincipalID: sub.ObjectID, AssignmentID: a.ID,
			Reviewers: s.reviewersOf(d, sub.ObjectID), Decision: "NotReviewed", Recommendation: rec, ApplyResult: "New", LastSignIn: last})
	}
	if d.staged() {
		for _, dc := range in.Decisions {
			dc.Reviewers = nil
		}
		s.startStages(d, in)
	}
}

// completeInstance ends an instance: the default decision fills undecided items; auto-apply applies them.
func (s *Sim) completeInstance(d *reviewDef, in *reviewInst, now time.Time) {
	in.Status = "Completed"
	stopInstanceStages(in, now)
	if in.End.After(now) {
		in.End = now
	}
	if d.DefaultDecisionEnabled {
		for _, dc := range in.Decisions {
			if dc.Decision != "NotReviewed" {
				continue
			}
			switch d.DefaultDecision {
			case "Approve", "Deny":
				dc.Decision = d.DefaultDecision
			case "Recommendation":
				if dc.Recommendation == "Approve" || dc.Recommendation == "Deny" {
					dc.Decision = dc.Recommendation
				}
			}
		}
	}
	if d.AutoApply {
		s.applyInstance(in, now, nil)
	}
	s.log.Info("access review instance completed", "definition", d.ID, "instance", in.ID)
}

// applyInstance applies the decisions of a completed instance: a Deny removes the assignment.
func (s *Sim) applyInstance(in *reviewInst, now time.Time, by *identityRef) {
	for _, dc := range in.Decisions {
		if dc.ApplyResult != "New" {
			continue
		}
		t := now
		dc.AppliedAt, dc.AppliedBy = &t, by
		dc.ApplyResult = "AppliedSuccessfully"
		if dc.Decision != "Deny" {
			continue
		}
		a := s.w.Assignments[dc.AssignmentID]
		if a == nil || !isActiveAssignment(a) {
			dc.ApplyResult = "AppliedSuccessfullyButObjectNotFound"
			continue
		}
		s.endAssignment(a, now, "Removed")
		rq := &request{Ord: s.w.nextOrd(), ID: newID(), RequestType: "systemRemove", State: "delivered", Status: "Delivered",
			Created: now, Completed: &t, RequestorID: a.TargetID, TargetID: a.TargetID, PackageID: a.PackageID,
			PolicyID: a.PolicyID, AssignmentID: a.ID, Justification: "Removed by access review", Expiration: expirationPattern{Type: "notSpecified"}}
		s.w.Requests[rq.ID] = rq
	}
	in.Status = "Applied"
}

// tickReviews runs the review clock: start due instances, complete ended ones, schedule the next recurrence.
func (s *Sim) tickReviews(now time.Time) bool {
	changed := false
	for _, d := range sortedBy(s.w.Reviews, func(d *reviewDef) int64 { return d.Ord }) {
		for _, in := range d.Instances {
			if in.Status == "NotStarted" && !now.Before(in.Start) {
				s.startInstance(d, in)
				changed = true
			}
			if in.Status == "InProgress" && d.staged() && s.tickStages(d, in, now) {
				changed = true
			}
			if in.Status == "InProgress" && !now.Before(in.End) {
				s.completeInstance(d, in, in.End)
				changed = true
			}
		}
		if len(d.Instances) == 0 {
			continue
		}
		if last := d.Instances[len(d.Instances)-1]; d.Recurrence != "" && last.Status != "NotStarted" && last.Status != "InProgress" {
			next := nextStart(d, last.Start)
			d.Instances = append(d.Instances, &reviewInst{ID: newID(), Status: "NotStarted", Start: next,
				End: next.Add(time.Duration(max(d.DurationDays, 1)) * 24 * time.Hour)})
			changed = true
		}
	}
	return changed
}

func nextStart(d *reviewDef, prev time.Time) time.Time {
	n := max(d.Interval, 1)
	if d.Recurrence == "weekly" {
		return prev.AddDate(0, 0, 7*n)
	}
	return prev.AddDate(0, n, 0)
}

// addReview adds a definition with its first instance (started at once when start is not in the future).
func (s *Sim) addReview(d *reviewDef, now time.Time) {
	d.Ord = s.w.nextOrd()
	if d.ID == "" {
		d.ID = newID()
	}
	if d.staged() {
		d.DurationDays = d.stagesDays()
	}
	if d.DurationDays <= 0 {
		d.DurationDays = 14
	}
	in := &reviewInst{ID: newID(), Status: "NotStarted", Start: d.Start, End: d.Start.Add(time.Duration(d.DurationDays) * 24 * time.Hour)}
	d.Instances = []*reviewInst{in}
	s.w.Reviews[d.ID] = d
	if !now.Before(in.Start) {
		s.startInstance(d, in)
	}
}

// seedAssignment gives a directory user a delivered assignment of a package that started ago and ends after
// lasts (from its start).
func (s *Sim) seedAssignment(userID, pkgID string, now time.Time, ago, lasts time.Duration) *assignment {
	u := s.w.Users[userID]
	sub := &subject{ID: newID(), ObjectID: u.ID, DisplayName: u.DisplayName, Email: u.Mail, PrincipalName: u.UPN, SubjectType: "user"}
	for _, o := range s.w.Subjects {
		if o.ObjectID == u.ID {
			sub = o
		}
	}
	s.w.Subjects[sub.ID] = sub
	pol := s.policiesOf(pkgID)[0]
	start := now.Add(-ago)
	end := start.Add(lasts)
	a := &assignment{Ord: s.w.nextOrd(), ID: newID(), PackageID: pkgID, PolicyID: pol.ID, TargetID: sub.ID,
		State: "delivered", Status: "Delivered", Start: start, End: &end, ExpType: "afterDateTime", Duration: pol.Expiration.Duration}
	rq := &request{Ord: s.w.nextOrd(), ID: newID(), RequestType: "userAdd", State: "delivered", Status: "Delivered",
		Created: start, Completed: &start, RequestorID: sub.ID, TargetID: sub.ID, PackageID: pkgID, PolicyID: pol.ID,
		AssignmentID: a.ID, Justification: "Seeded for the access review demo", Expiration: pol.Expiration}
	a.RequestID = rq.ID
	s.w.Assignments[a.ID] = a
	s.w.Requests[rq.ID] = rq
	s.grant(a, u.ID)
	return a
}

// Seeded access review ids (SeedReviews).
const (
	// ReviewProductionID is the manager review of Falcon Production Access (Aaron reviews Rita and Megan).
	ReviewProductionID = "a7e70000-0000-4000-8000-000000000001"
	// ReviewPartnerID is the guest self-review of Falcon Partner Collaboration (Gus).
	ReviewPartnerID = "a7e70000-0000-4000-8000-000000000002"
	// ReviewLargeID is the many-decision review SeedLargeReview adds (Aaron reviews them all).
	ReviewLargeID = "a7e70000-0000-4000-8000-000000000003"
)

// SeedReviews adds the access review scenario (opt-in, so the request flows keep their clean seed): Rita and
// Megan hold Falcon Production Access, Megan has not signed in for 60 days; Aaron's manager review of it is in
// progress. Gus is an accepted Contoso guest holding Falcon Partner Collaboration and reviews it himself. Rita's
// Falcon Team Member access (180 days, extendable by its holder) ends in ten days. Idempotent.
func (s *Sim) SeedReviews() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Reviews[ReviewProductionID] != nil {
		return
	}
	now := s.now()
	s.w.LastSignIns[UserRita] = now.Add(-24 * time.Hour)
	s.w.LastSignIns[UserMegan] = now.Add(-60 * 24 * time.Hour)
	s.w.LastSignIns[UserAaron] = now.Add(-2 * time.Hour)
	s.seedAssignment(UserRita, PkgProduction, now, 20*24*time.Hour, 90*24*time.Hour)
	s.seedAssignment(UserMegan, PkgProduction, now, 40*24*time.Hour, 90*24*time.Hour)
	s.seedAssignment(UserRita, PkgTeamMember, now, 170*24*time.Hour, 180*24*time.Hour)
	s.w.Policies[PolicyTeamMember].SelfUpdate = true
	s.w.Policies[PolicyTeamMember].ApprovalForUpdate = true

	home := s.w.Users[UserGus]
	g := s.guestOf(ContosoTenantID, FabrikamTenantID, UserGus)
	if g == nil {
		g = s.newGuest(ContosoTenantID, home.DisplayName, home.Mail, FabrikamTenantID, UserGus, now.Add(-25*24*time.Hour))
	}
	t := now.Add(-24 * 24 * time.Hour)
	g.ExternalUserState, g.ExternalStateAt = "Accepted", &t
	s.w.LastSignIns[g.ID] = now.Add(-3 * 24 * time.Hour)
	s.seedAssignment(g.ID, PkgPartner, now, 25*24*time.Hour, 30*24*time.Hour)
	for _, sub := range s.w.Subjects {
		if sub.ObjectID == g.ID {
			sub.ConnectedOrgID, sub.HomeTenantID, sub.HomeUserID, sub.SubjectType = FabrikamConnectedOrgID, FabrikamTenantID, UserGus, "user"
		}
	}

	adele := identityRef{ID: UserAdele, DisplayName: "Adele Vance"}
	start := now.Add(-time.Hour).Truncate(time.Second)
	s.addReview(&reviewDef{ID: ReviewProductionID, DisplayName: "Falcon Production Access quarterly review",
		Description: "Managers confirm who still needs production access.", PackageID: PkgProduction,
		Reviewers:             []reviewerScope{{Query: "./manager", QueryType: "MicrosoftGraph", QueryRoot: "decisions"}},
		Fallback:              []reviewerScope{{Query: "/users/" + UserPatti, QueryType: "MicrosoftGraph"}},
		JustificationRequired: true, Recommendations: true, DefaultDecision: "None", DurationDays: 14,
		Recurrence: "absoluteMonthly", Interval: 3, Start: start, Created: start, CreatedBy: adele}, now)
	s.addReview(&reviewDef{ID: ReviewPartnerID, DisplayName: "Falcon Partner Collaboration guest review",
		Description: "Partners confirm they still need access.", PackageID: PkgPartner,
		Recommendations: true, DefaultDecisionEnabled: true, DefaultDecision: "Deny", AutoApply: true, DurationDays: 7,
		Start: start, Created: start, CreatedBy: adele}, now)
	s.persistLocked()
}

// SeedLargeReview adds a review of Falcon Wiki Reader with n decision items, all reviewed by Aaron (n employees
// whose manager is Aaron). Idempotent.
func (s *Sim) SeedLargeReview(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w.Reviews[ReviewLargeID] != nil {
		return
	}
	now := s.now()
	created := now.Add(-100 * 24 * time.Hour)
	for i := range n {
		id := fmt.Sprintf("aaaaaaaa-0000-0000-0001-%012d", i+1)
		first := fmt.Sprintf("user%03d", i+1)
		s.w.Users[id] = &user{Ord: s.w.nextOrd(), ID: id, TenantID: ContosoTenantID, DisplayName: fmt.Sprintf("Employee %03d", i+1),
			GivenName: "Employee", Surname: fmt.Sprintf("%03d", i+1), UPN: first + "@contoso.example", Mail: first + "@contoso.example",
			UserType: "Member", AccountEnabled: true, ManagerID: UserAaron, TeamsID: "29:" + first, Created: created}
		if i%3 != 0 {
			s.w.LastSignIns[id] = now.Add(-time.Duration(i%50) * 24 * time.Hour)
		}
		s.seedAssignment(id, PkgWikiReader, now, 30*24*time.Hour, 365*24*time.Hour)
	}
	start := now.Add(-time.Hour).Truncate(time.Second)
	s.addReview(&reviewDef{ID: ReviewLargeID, DisplayName: "Falcon Wiki Reader yearly review", PackageID: PkgWikiReader,
		Reviewers:       []reviewerScope{{Query: "./manager", QueryType: "MicrosoftGraph", QueryRoot: "decisions"}},
		Recommendations: true, DefaultDecision: "None", DurationDays: 14, Start: start, Created: start,
		CreatedBy: identityRef{ID: UserAdele, DisplayName: "Adele Vance"}}, now)
	s.persistLocked()
}

// adminSeed adds an opt-in scenario: POST /_sim/seed {"scenario":"reviews"}, {"scenario":"stagedReview"},
// {"scenario":"teamHolders"} or {"scenario":"largeReview","count":500}.
func (s *Sim) adminSeed(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Scenario string `json:"scenario"`
		Count    int    `json:"count"`
	}
	if !decodeAdminPost(w, r, &in) {
		return
	}
	switch in.Scenario {
	case "reviews":
		s.SeedReviews()
	case "stagedReview":
		s.SeedStagedReview()
	case "teamHolders":
		s.SeedTeamHolders()
	case "largeReview":
		if in.Count <= 0 || in.Count > 5000 {
			adminError(w, http.StatusBadRequest, "count must be between 1 and 5000")
			return
		}
		s.SeedLargeReview(in.Count)
	default:
		adminError(w, http.StatusBadRequest, `scenario must be "reviews", "stagedReview", "teamHolders" or "largeReview"`)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"seeded": in.Scenario})
}

// adminMyAccessDecide stands in for the reviewer deciding in My Access (in the browser, signed in to the
// resource tenant): POST /_sim/myaccess/decide {"reviewId","userId","decision","justification"}. userId is the
// reviewer's object id in Contoso, or a partner's home object id (their guest account decides).
func (s *Sim) adminMyAccessDecide(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ReviewID      string `json:"reviewId"`
		UserID        string `json:"userId"`
		Decision      string `json:"decision"`
		Justification string `json:"justification"`
	}
	if !decodeAdminPost(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.w.Reviews[in.ReviewID]
	u := s.w.Users[in.UserID]
	if u != nil && u.TenantID != ContosoTenantID {
		u = s.guestOf(ContosoTenantID, u.TenantID, u.ID)
	}
	if d == nil || u == nil {
		adminError(w, http.StatusNotFound, "unknown review or user")
		return
	}
	g := &gctx{w: w, r: r, c: &caller{TenantID: ContosoTenantID, OID: u.ID, UserName: u.DisplayName, TokenUser: u}}
	n := 0
	for _, in2 := range d.Instances {
		if in2.Status != "InProgress" {
			continue
		}
		st, items := in2.openItems()
		for _, dc := range items {
			if !slices.Contains(dc.Reviewers, u.ID) || dc.Decision != "NotReviewed" {
				continue
			}
			if gerr := s.recordDecision(g, d, in2, st, dc, in.Decision, in.Justification); gerr != nil {
				adminError(w, gerr.Status, gerr.Message)
				return
			}
			n++
		}
	}
	s.persistLocked()
	writeJSON(w, http.StatusOK, map[string]any{"decided": n})
}
