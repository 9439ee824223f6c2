package tenantsim

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

const arCtx = "identityGovernance/accessReviews/definitions"

// reviewAdmin reports whether the caller may read and manage all reviews: an app with AccessReview.ReadWrite.All
// (reads also with AccessReview.Read.All), or an admin user (AccessBot Admins or Identity Governance
// Administrator) with the delegated scope.
func (s *Sim) reviewAdmin(c *caller, write bool) bool {
	if c.AppOnly {
		return slices.Contains(c.Roles, "AccessReview.ReadWrite.All") || (!write && slices.Contains(c.Roles, "AccessReview.Read.All"))
	}
	if !slices.Contains(c.Scopes, "AccessReview.ReadWrite.All") {
		return false
	}
	if s.inGroup(AdminsGroupID, c.OID) {
		return true
	}
	for _, ra := range s.w.RoleAssignments {
		if ra.PrincipalID == c.OID && ra.RoleDefinitionID == IdentityGovernanceAdminRoleID && ra.DirectoryScopeID == "/" {
			return true
		}
	}
	return false
}

func errNotReviewAdmin() *graphErr {
	return errForbidden("The caller is not authorized to perform this operation: it requires the AccessReview.ReadWrite.All permission and an Identity Governance Administrator role.")
}

// reviewsOf returns the definitions in creation order.
func (s *Sim) reviewDefs() []*reviewDef {
	return sortedBy(s.w.Reviews, func(d *reviewDef) int64 { return d.Ord })
}

// reviewsIn reports whether the user reviews at least one item of the instance.
func reviewsIn(in *reviewInst, oid string) bool { return reviewsAny(in.Decisions, oid) }

// reviewsAny reports whether the user reviews at least one of the items.
func reviewsAny(items []*reviewDecision, oid string) bool {
	return slices.ContainsFunc(items, func(dc *reviewDecision) bool { return slices.Contains(dc.Reviewers, oid) })
}

func (s *Sim) dispatchReviews(g *gctx, seg []string) *graphErr {
	if g.c.TenantID != ContosoTenantID {
		return errNotFound("accessReviewScheduleDefinition", strings.Join(seg, "/"))
	}
	if len(seg) == 0 || !strings.EqualFold(seg[0], "definitions") {
		return errBadRequest("Resource not found for the segment '%s'.", strings.Join(seg, "/"))
	}
	seg = seg[1:]
	if len(seg) == 0 {
		switch g.r.Method {
		case http.MethodGet:
			if !s.reviewAdmin(g.c, false) {
				return errNotReviewAdmin()
			}
			var items []item
			for _, d := range s.reviewDefs() {
				items = append(items, sameItem(s.renderReviewDef(d)))
			}
			s.writeCollection(g.w, g.r, g.q, "identityGovernance/accessReviews/definitions", items)
			return nil
		case http.MethodPost:
			return s.createReview(g)
		}
		return methodNotAllowed(g.r)
	}
	if _, ok, gerr := currentUserFilter(g, seg[0], "accessReviewScheduleDefinition", "reviewer"); gerr != nil {
		return gerr
	} else if ok {
		var items []item
		for _, d := range s.reviewDefs() {
			if slices.ContainsFunc(d.Instances, func(in *reviewInst) bool { return reviewsIn(in, g.c.OID) }) {
				items = append(items, sameItem(s.renderReviewDef(d)))
			}
		}
		s.writeCollection(g.w, g.r, g.q, "Collection(microsoft.graph.accessReviewScheduleDefinition)", items)
		return nil
	}
	d := s.w.Reviews[seg[0]]
	if d == nil {
		return errNotFound("accessReviewScheduleDefinition", seg[0])
	}
	if len(seg) == 1 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		if !s.reviewAdmin(g.c, false) && !slices.ContainsFunc(d.Instances, func(in *reviewInst) bool { return reviewsIn(in, g.c.OID) }) {
			return errNotReviewAdmin()
		}
		s.writeEntity(g.w, http.StatusOK, g.q, arCtx, s.renderReviewDef(d))
		return nil
	}
	if !strings.EqualFold(seg[1], "instances") {
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	return s.reviewInstances(g, d, seg[2:])
}

// reviewerListing checks a request for a listing of entity (…/instances, …/decisions, …/stages) or its
// reviewer form filterByCurrentUser(on='reviewer'): list is false when seg names one item instead. The
// reviewer form (mine) is delegated only; the whole listing is for review administrators.
func (s *Sim) reviewerListing(g *gctx, seg []string, entity string) (list, mine bool, gerr *graphErr) {
	if len(seg) > 0 {
		_, mine, gerr = currentUserFilter(g, seg[0], entity, "reviewer")
		return mine, mine, gerr
	}
	if g.r.Method != http.MethodGet {
		return true, false, methodNotAllowed(g.r)
	}
	if !s.reviewAdmin(g.c, false) {
		return true, false, errNotReviewAdmin()
	}
	return true, false, nil
}

func (s *Sim) reviewInstances(g *gctx, d *reviewDef, seg []string) *graphErr {
	ctx := arCtx + "('" + d.ID + "')/instances"
	if list, mine, gerr := s.reviewerListing(g, seg, "accessReviewInstance"); gerr != nil {
		return gerr
	} else if list {
		var items []item
		for _, in := range d.Instances {
			if !mine || reviewsIn(in, g.c.OID) {
				items = append(items, sameItem(s.renderInstance(d, in)))
			}
		}
		s.writeCollection(g.w, g.r, g.q, ctx, items)
		return nil
	}
	in := d.findInstance(seg[0])
	if in == nil {
		return errNotFound("accessReviewInstance", seg[0])
	}
	admin := s.reviewAdmin(g.c, false)
	if !admin && !reviewsIn(in, g.c.OID) {
		return errForbidden("The signed-in user is not a reviewer of this access review instance.")
	}
	if len(seg) == 1 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		s.writeEntity(g.w, http.StatusOK, g.q, ctx, s.renderInstance(d, in))
		return nil
	}
	ctx += "('" + in.ID + "')"
	switch strings.ToLower(seg[1]) {
	case "decisions":
		return s.reviewDecisions(g, d, in, nil, seg[2:], ctx+"/decisions")
	case "stages":
		return s.reviewStages(g, d, in, seg[2:], ctx+"/stages")
	case "contactedreviewers":
		if g.r.Method != http.MethodGet || len(seg) > 2 {
			return methodNotAllowed(g.r)
		}
		if !admin {
			return errNotReviewAdmin()
		}
		var items []item
		for _, id := range contacted(in) {
			if u := s.w.Users[id]; u != nil {
				items = append(items, sameItem(map[string]any{"@odata.type": "#microsoft.graph.accessReviewReviewer", "id": u.ID,
					"displayName": u.DisplayName, "userPrincipalName": u.UPN, "createdDateTime": ts(contactedAt(in, id))}))
			}
		}
		s.writeCollection(g.w, g.r, g.q, ctx+"/contactedReviewers", items)
		return nil
	}
	if g.r.Method != http.MethodPost || len(seg) > 2 {
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	return s.reviewAction(g, d, in, strings.ToLower(seg[1]))
}

// contactedAt is when a reviewer was first asked: the instance's start, or in a multi-stage instance the
// start of the first stage they review.
func contactedAt(in *reviewInst, id string) time.Time {
	at := in.Start
	first := true
	for _, dc := range in.Decisions {
		if t, ok := dc.ReviewerSince[id]; ok && (first || t.Before(at)) {
			at, first = t, false
		}
	}
	return at
}

// contacted lists the distinct reviewers of an instance's items.
func contacted(in *reviewInst) []string {
	var out []string
	for _, dc := range in.Decisions {
		out = append(out, dc.Reviewers...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// reviewDecisions serves an instance's decision items, or a stage's when st is set.
func (s *Sim) reviewDecisions(g *gctx, d *reviewDef, in *reviewInst, st *reviewStage, seg []string, ctx string) *graphErr {
	all := in.Decisions
	if st != nil {
		all = st.Decisions
	}
	if list, mine, gerr := s.reviewerListing(g, seg, "accessReviewInstanceDecisionItem"); gerr != nil {
		return gerr
	} else if list {
		var items []item
		for _, dc := range all {
			if mine && !slices.Contains(dc.Reviewers, g.c.OID) {
				continue
			}
			items = append(items, item{full: s.renderDecision(d, in, dc, true), view: func() map[string]any { return s.renderDecision(d, in, dc, g.q.expands("insights")) }})
		}
		s.writeCollection(g.w, g.r, g.q, "Collection(microsoft.graph.accessReviewInstanceDecisionItem)", items)
		return nil
	}
	var dc *reviewDecision
	for _, x := range all {
		if x.ID == seg[0] {
			dc = x
		}
	}
	if dc == nil || len(seg) > 1 {
		return errNotFound("accessReviewInstanceDecisionItem", seg[0])
	}
	switch g.r.Method {
	case http.MethodGet:
		if !s.reviewAdmin(g.c, false) && !slices.Contains(dc.Reviewers, g.c.OID) {
			return errForbidden("The signed-in user is not a reviewer of this decision item.")
		}
		s.writeEntity(g.w, http.StatusOK, g.q, ctx, s.renderDecision(d, in, dc, g.q.expands("insights")))
		return nil
	case http.MethodPatch:
		if g.c.AppOnly {
			return errDelegatedOnly("accessReviewInstanceDecisionItem: update")
		}
		if st == nil && len(in.Stages) > 0 {
			return errBadRequest("This is a multi-stage access review: record the decision on its stage (PATCH …/instances/%s/stages/{stageId}/decisions/{id}).", in.ID)
		}
		body, gerr := readJSONObject(g.r)
		if gerr != nil {
			return gerr
		}
		if gerr := s.recordDecision(g, d, in, st, dc, jstr(body, "decision"), jstr(body, "justification")); gerr != nil {
			return gerr
		}
		g.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(g.r)
}

// recordDecision records the caller's decision on one item (of stage st when set), with Graph's checks.
func (s *Sim) recordDecision(g *gctx, d *reviewDef, in *reviewInst, st *reviewStage, dc *reviewDecision, decision, justification string) *graphErr {
	if in.Status != "InProgress" {
		return errBadRequest("The access review instance is %s; decisions can only be recorded while it is InProgress.", in.Status)
	}
	if st != nil && st.Status != "InProgress" {
		return errBadRequest("Stage %d of this access review is %s; decisions can only be recorded on the stage in progress.", st.Index+1, st.Status)
	}
	if !slices.Contains(dc.Reviewers, g.c.OID) {
		return errForbidden("The signed-in user is not a reviewer of this decision item.")
	}
	var v string
	for _, ok := range []string{"Approve", "Deny", "DontKnow", "NotReviewed"} {
		if strings.EqualFold(decision, ok) {
			v = ok
		}
	}
	if v == "" {
		return errBadRequest("decision %q is not valid; expected Approve, Deny, DontKnow or NotReviewed.", decision)
	}
	justification = strings.TrimSpace(justification)
	if v == "Approve" && d.JustificationRequired && justification == "" {
		return errBadRequest("A justification is required to approve access in this review (justificationRequiredOnApproval).")
	}
	now := s.now()
	dc.Decision, dc.Justification = v, justification
	dc.ReviewedBy, dc.ReviewedAt = &identityRef{ID: g.c.OID, DisplayName: g.c.UserName}, &now
	if st != nil {
		in.mirror(dc)
	}
	g.mutated = true
	return nil
}

func (s *Sim) reviewAction(g *gctx, d *reviewDef, in *reviewInst, action string) *graphErr {
	switch action {
	case "acceptrecommendations", "batchrecorddecisions":
		// batchRecordDecisions has an application permission too, but AccessBot never uses it; the simulator keeps
		// decisions delegated so a bot that tried would be caught. On a multi-stage instance both act on the
		// caller's items of the stage in progress.
		if g.c.AppOnly {
			return errDelegatedOnly("accessReviewInstance: " + action)
		}
		st, items := in.openItems()
		if gerr := s.decideMine(g, d, in, st, items, action == "acceptrecommendations"); gerr != nil {
			return gerr
		}
	case "sendreminder":
		if !s.reviewAdmin(g.c, true) {
			return errNotReviewAdmin()
		}
		if in.Status != "InProgress" {
			return errBadRequest("Reminders can only be sent for an instance that is InProgress (it is %s).", in.Status)
		}
		in.Reminders++
	case "stop":
		if !s.reviewAdmin(g.c, true) {
			return errNotReviewAdmin()
		}
		if in.Status != "InProgress" {
			return errBadRequest("Only an instance that is InProgress can be stopped (it is %s).", in.Status)
		}
		s.completeInstance(d, in, s.now())
	case "applydecisions":
		if !s.reviewAdmin(g.c, true) {
			return errNotReviewAdmin()
		}
		if in.Status != "Completed" {
			return errBadRequest("Decisions can only be applied once the instance is Completed (it is %s).", in.Status)
		}
		s.applyInstance(in, s.now(), &identityRef{ID: g.c.OID, DisplayName: g.c.UserName})
	default:
		return errNotFound("action", action)
	}
	g.mutated = true
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}

var pkgQueryRE = regexp.MustCompile(`accessPackageAssignments\?\$filter=\(accessPackageId eq '([0-9a-fA-F-]{36})'`)

func (s *Sim) createReview(g *gctx) *graphErr {
	if !s.reviewAdmin(g.c, true) {
		return errNotReviewAdmin()
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	d := &reviewDef{DisplayName: strings.TrimSpace(jstr(body, "displayName")), Description: jstr(body, "descriptionForAdmins")}
	if d.DisplayName == "" {
		return errBadRequest("displayName is required.")
	}
	m := pkgQueryRE.FindStringSubmatch(jstr(jobj(body, "scope"), "query"))
	if m == nil || s.w.Packages[m[1]] == nil {
		return errBadRequest("scope.query must be /identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '{id}') for an existing access package.")
	}
	d.PackageID = m[1]
	scopes := func(body map[string]any, key string) ([]reviewerScope, *graphErr) {
		var out []reviewerScope
		for _, raw := range jarr(body, key) {
			o, _ := raw.(map[string]any)
			q := jstr(o, "query")
			if q != "./manager" && !strings.HasPrefix(q, "/users/") && !strings.HasPrefix(q, "/groups/") {
				return nil, errBadRequest("%s: query %q is not supported; use ./manager, /users/{id} or /groups/{id}/transitiveMembers.", key, q)
			}
			out = append(out, reviewerScope{Query: q, QueryType: "MicrosoftGraph", QueryRoot: jstr(o, "queryRoot")})
		}
		return out, nil
	}
	if d.Reviewers, gerr = scopes(body, "reviewers"); gerr != nil {
		return gerr
	}
	if d.Fallback, gerr = scopes(body, "fallbackReviewers"); gerr != nil {
		return gerr
	}
	if d.Stages, gerr = parseStageSettings(body, scopes); gerr != nil {
		return gerr
	}
	st := jobj(body, "settings")
	flag := func(k string) bool { v, _ := jget(st, k); b, _ := v.(bool); return b }
	d.JustificationRequired, d.Recommendations = flag("justificationRequiredOnApproval"), flag("recommendationsEnabled")
	d.DefaultDecisionEnabled, d.AutoApply = flag("defaultDecisionEnabled"), flag("autoApplyDecisionsEnabled")
	d.DefaultDecision = jstr(st, "defaultDecision")
	if v, ok := jget(st, "instanceDurationInDays"); ok {
		n, _ := v.(float64)
		d.DurationDays = int(n)
	}
	if d.staged() {
		// The stages' durations add up to the instance's and override instanceDurationInDays.
		d.DurationDays = d.stagesDays()
	}
	if d.DurationDays <= 0 {
		return errBadRequest("settings.instanceDurationInDays must be a positive number of days.")
	}
	rec := jobj(st, "recurrence")
	now := s.now()
	d.Start = now
	if sd := jstr(jobj(rec, "range"), "startDate"); sd != "" {
		t, err := time.Parse("2006-01-02", sd)
		if err != nil {
			return errBadRequest("settings.recurrence.range.startDate %q is not a date (YYYY-MM-DD).", sd)
		}
		if t.After(now) {
			d.Start = t
		}
	}
	if pt := jobj(rec, "pattern"); pt != nil {
		d.Recurrence = jstr(pt, "type")
		if v, ok := jget(pt, "interval"); ok {
			n, _ := v.(float64)
			d.Interval = int(n)
		}
	}
	d.Created, d.CreatedBy = now, identityRef{ID: g.c.OID, DisplayName: g.c.UserName}
	s.addReview(d, now)
	g.mutated = true
	s.writeEntity(g.w, http.StatusCreated, g.q, arCtx, s.renderReviewDef(d))
	return nil
}
