package tenantsim

import (
	"net/http"
	"strings"
)

func (s *Sim) emAssignments(g *gctx, seg []string) *graphErr {
	if g.r.Method != http.MethodGet {
		return methodNotAllowed(g.r)
	}
	write := func(ctx string, keep func(*assignment) bool) {
		var items []item
		for _, a := range sortedBy(s.w.Assignments, func(a *assignment) int64 { return a.Ord }) {
			if !keep(a) {
				continue
			}
			items = append(items, item{full: s.renderAssignment(a, all), view: func() map[string]any { return s.renderAssignment(a, g.q.expands) }})
		}
		s.writeCollection(g.w, g.r, g.q, ctx, items)
	}
	if len(seg) == 0 {
		if !s.isEMAdmin(g.c) {
			return errNotAdmin()
		}
		write(emCtx+"assignments", func(*assignment) bool { return true })
		return nil
	}
	if _, ok, gerr := currentUserFilter(g, seg[0], "accessPackageAssignment", "target"); gerr != nil {
		return gerr
	} else if ok {
		id, _ := s.callerIdentity(g.c)
		write("Collection(microsoft.graph.accessPackageAssignment)", func(a *assignment) bool { return subjectMatches(s.w.Subjects[a.TargetID], id) })
		return nil
	}
	a := s.w.Assignments[seg[0]]
	if a == nil || len(seg) > 1 {
		return errNotFound("accessPackageAssignment", seg[0])
	}
	if !s.isEMAdmin(g.c) {
		id, _ := s.callerIdentity(g.c)
		if !subjectMatches(s.w.Subjects[a.TargetID], id) {
			return errNotFound("accessPackageAssignment", seg[0])
		}
	}
	s.writeEntity(g.w, http.StatusOK, g.q, emCtx+"assignments", s.renderAssignment(a, g.q.expands))
	return nil
}

func (s *Sim) emApprovals(g *gctx, seg []string) *graphErr {
	const ctx = emCtx + "accessPackageAssignmentApprovals"
	if len(seg) == 0 {
		return &graphErr{Status: http.StatusBadRequest, Code: "BadRequest", Message: "Listing all approvals is not supported; use filterByCurrentUser(on='approver') or get an approval by id."}
	}
	if _, ok, gerr := currentUserFilter(g, seg[0], "approval", "approver"); gerr != nil {
		return gerr
	} else if ok {
		var items []item
		for _, rq := range sortedBy(s.w.Requests, func(r *request) int64 { return r.Ord }) {
			if !s.awaitsApprovalFrom(rq, g.c.OID) {
				continue
			}
			items = append(items, sameItem(s.renderApproval(rq, g.c)))
		}
		s.writeCollection(g.w, g.r, g.q, "Collection(microsoft.graph.approval)", items)
		return nil
	}
	if g.c.AppOnly {
		return errDelegatedOnly("approval")
	}
	rq := s.w.Requests[seg[0]]
	if rq == nil || len(rq.Stages) == 0 {
		return errNotFound("approval", seg[0])
	}
	if g.r.Method == http.MethodGet && !s.canSeeRequest(g.c, rq) {
		return errForbidden("The signed-in user is neither an approver nor the requestor of this request.")
	}
	if len(seg) == 1 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		s.writeEntity(g.w, http.StatusOK, g.q, ctx, s.renderApproval(rq, g.c))
		return nil
	}
	if !strings.EqualFold(seg[1], "stages") {
		return errNotFound("segment", strings.Join(seg, "/"))
	}
	if len(seg) == 2 {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		var items []item
		for _, st := range rq.Stages {
			items = append(items, sameItem(s.renderStage(st, g.c)))
		}
		s.writeCollection(g.w, g.r, g.q, ctx+"('"+rq.ID+"')/stages", items)
		return nil
	}
	idx := -1
	for i, st := range rq.Stages {
		if st.ID == seg[2] {
			idx = i
		}
	}
	if idx < 0 || len(seg) > 3 {
		return errNotFound("approvalStage", seg[2])
	}
	switch g.r.Method {
	case http.MethodGet:
		s.writeEntity(g.w, http.StatusOK, g.q, ctx+"('"+rq.ID+"')/stages", s.renderStage(rq.Stages[idx], g.c))
		return nil
	case http.MethodPatch:
		return s.decideStage(g, rq, idx)
	}
	return methodNotAllowed(g.r)
}

func (s *Sim) decideStage(g *gctx, rq *request, idx int) *graphErr {
	if g.c.AppOnly {
		return errDelegatedOnly("approvalStage: update")
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	st := &rq.Stages[idx]
	switch {
	case st.Status == "Completed" || st.Status == "Expired" || (rq.State != "pendingApproval" && st.Status != "InProgress"):
		by := "the system"
		if st.ReviewedBy != nil {
			by = st.ReviewedBy.DisplayName
		}
		return errConflict("This approval stage has already been decided (%s by %s); the request is %s.", st.ReviewResult, by, rq.State)
	case st.Status != "InProgress":
		return errBadRequest("Approval stage %d of request %s has not started yet.", idx+1, rq.ID)
	}
	if s.isTargetOrRequestor(rq, g.c.OID) {
		return errForbidden("The requestor cannot approve their own request.")
	}
	if !s.isApprover(*st, g.c.OID) {
		return errForbidden("The signed-in user is not an approver of the current stage of this request.")
	}
	var result string
	switch strings.ToLower(jstr(body, "reviewResult")) {
	case "approve", "approved":
		result = "Approve"
	case "deny", "denied":
		result = "Deny"
	default:
		return errBadRequest("reviewResult %q is not valid; expected 'Approve' or 'Deny'.", jstr(body, "reviewResult"))
	}
	justification := strings.TrimSpace(jstr(body, "justification"))
	pol := s.w.Policies[rq.PolicyID]
	if pol != nil && idx < len(pol.Stages) && pol.Stages[idx].IsApproverJustificationRequired && justification == "" {
		return errBadRequest("This approval stage requires a justification from the approver.")
	}
	now := s.now()
	st.ReviewResult, st.Status, st.Justification = result, "Completed", justification
	st.ReviewedBy = &identityRef{ID: g.c.OID, DisplayName: g.c.UserName}
	st.ReviewedAt = &now
	if result == "Deny" {
		s.deny(rq, now, "Denied")
	} else if idx+1 < len(rq.Stages) {
		s.startStage(rq, idx+1, now)
	} else {
		s.beginDelivery(rq, now)
	}
	g.mutated = true
	s.log.Info("approval stage decided", "request", rq.ID, "stage", idx+1, "result", result)
	g.w.WriteHeader(http.StatusNoContent)
	return nil
}
