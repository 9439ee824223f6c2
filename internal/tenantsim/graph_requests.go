package tenantsim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

func (s *Sim) emRequests(g *gctx, seg []string) *graphErr {
	if len(seg) == 0 {
		switch g.r.Method {
		case http.MethodGet:
			if !s.isEMAdmin(g.c) {
				return errNotAdmin()
			}
			s.writeRequests(g, emCtx+"assignmentRequests", func(*request) bool { return true })
			return nil
		case http.MethodPost:
			return s.createRequest(g)
		}
		return methodNotAllowed(g.r)
	}
	if on, ok, gerr := currentUserFilter(g, seg[0], "accessPackageAssignmentRequest", "target", "createdBy", "approver"); gerr != nil {
		return gerr
	} else if ok {
		id, _ := s.callerIdentity(g.c)
		keep := func(rq *request) bool { return subjectMatches(s.w.Subjects[rq.TargetID], id) }
		switch on {
		case "createdBy":
			keep = func(rq *request) bool { return rq.CreatedByOID == g.c.OID }
		case "approver":
			keep = func(rq *request) bool { return s.awaitsApprovalFrom(rq, g.c.OID) }
		}
		s.writeRequests(g, "Collection(microsoft.graph.accessPackageAssignmentRequest)", keep)
		return nil
	}
	rq := s.w.Requests[seg[0]]
	if rq == nil {
		return errNotFound("accessPackageAssignmentRequest", seg[0])
	}
	if !s.canSeeRequest(g.c, rq) {
		return errNotFound("accessPackageAssignmentRequest", seg[0])
	}
	if len(seg) == 1 {
		switch g.r.Method {
		case http.MethodGet:
			s.writeEntity(g.w, http.StatusOK, g.q, emCtx+"assignmentRequests", s.renderRequest(rq, g.q.expands))
			return nil
		case http.MethodDelete:
			if !s.isEMAdmin(g.c) {
				return errNotAdmin()
			}
			if isOpenState(rq.State) {
				return errBadRequest("Request %s is still %s; cancel it before deleting it.", rq.ID, rq.State)
			}
			delete(s.w.Requests, rq.ID)
			g.mutated = true
			g.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return methodNotAllowed(g.r)
	}
	if len(seg) == 2 && strings.EqualFold(seg[1], "cancel") {
		if g.r.Method != http.MethodPost {
			return methodNotAllowed(g.r)
		}
		if !g.c.AppOnly && !s.isEMAdmin(g.c) && !s.isTargetOrRequestor(rq, g.c.OID) && rq.CreatedByOID != g.c.OID {
			return errForbidden("Only the requestor or an administrator can cancel request %s.", rq.ID)
		}
		switch rq.State {
		case "submitted", "pendingApproval", "scheduled":
		default:
			return &graphErr{Status: http.StatusBadRequest, Code: "RequestNotCancelable",
				Message: fmt.Sprintf("Request %s is in state '%s' and cannot be canceled.", rq.ID, rq.State)}
		}
		now := s.now()
		rq.State, rq.Status, rq.Completed = "canceled", "Canceled", &now
		for i := range rq.Stages {
			if rq.Stages[i].Status == "InProgress" {
				rq.Stages[i].Status = "Completed"
			}
		}
		g.mutated = true
		g.w.WriteHeader(http.StatusOK)
		return nil
	}
	return errNotFound("segment", strings.Join(seg, "/"))
}

func (s *Sim) canSeeRequest(c *caller, rq *request) bool {
	if c.AppOnly || s.isEMAdmin(c) || rq.CreatedByOID == c.OID || s.isTargetOrRequestor(rq, c.OID) {
		return true
	}
	for _, st := range rq.Stages {
		if s.isApprover(st, c.OID) {
			return true
		}
	}
	return false
}

func (s *Sim) writeRequests(g *gctx, ctx string, keep func(*request) bool) {
	var items []item
	for _, rq := range sortedBy(s.w.Requests, func(r *request) int64 { return r.Ord }) {
		if !keep(rq) {
			continue
		}
		full := s.renderRequest(rq, all)
		full["assignment"] = nil
		if a := s.w.Assignments[rq.AssignmentID]; a != nil {
			full["assignment"] = s.renderAssignment(a, all)
		}
		items = append(items, item{full: full, view: func() map[string]any { return s.renderRequest(rq, g.q.expands) }})
	}
	s.writeCollection(g.w, g.r, g.q, ctx, items)
}

// targetIdentity resolves an adminAdd target: object id, or email for a user
// who may not be in the directory yet.
func (s *Sim) targetIdentity(asg map[string]any) (identity, *graphErr) {
	target := jobj(asg, "target")
	oid := jstr(asg, "targetId")
	if oid == "" {
		oid = jstr(target, "objectId")
	}
	if oid != "" {
		u := s.findUser(ContosoTenantID, oid)
		if u == nil {
			return identity{}, errBadRequest("The target user '%s' does not exist in the directory.", oid)
		}
		return s.identityOfUser(u), nil
	}
	email := strings.TrimSpace(jstr(target, "email"))
	if email == "" {
		return identity{}, errBadRequest("assignment.targetId or assignment.target.email is required for an adminAdd request.")
	}
	at := strings.LastIndex(email, "@")
	if at <= 0 || at == len(email)-1 {
		return identity{}, errBadRequest("assignment.target.email %q is not a valid email address.", email)
	}
	for _, u := range sortedBy(s.w.Users, func(u *user) int64 { return u.Ord }) {
		if u.TenantID == ContosoTenantID && (strings.EqualFold(u.Mail, email) || strings.EqualFold(u.UPN, email)) {
			return s.identityOfUser(u), nil
		}
	}
	id := identity{Email: email, DisplayName: jstr(target, "displayName")}
	if t, home := s.homeOfEmail(email); t != nil {
		id.HomeTenantID = t.ID
		if home != nil {
			id.HomeUserID = home.ID
			if id.DisplayName == "" {
				id.DisplayName = home.DisplayName
			}
		}
	}
	if id.DisplayName == "" {
		id.DisplayName = email
	}
	coID := jstr(jobj(target, "connectedOrganization"), "id")
	if coID == "" {
		coID = jstr(target, "connectedOrganizationId")
	}
	if coID != "" {
		co := s.w.ConnectedOrgs[coID]
		if co == nil {
			return identity{}, errBadRequest("Connected organization '%s' does not exist.", coID)
		}
		id.ConnectedOrgID = co.ID
	} else if co := s.connectedOrgForTenant(id.HomeTenantID, email); co != nil {
		id.ConnectedOrgID = co.ID
	}
	if id.HomeTenantID == "" {
		id.HomeTenantID = "external:" + strings.ToLower(email[at+1:])
	}
	return id, nil
}

func (s *Sim) createRequest(g *gctx) *graphErr {
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	rawType := jstr(body, "requestType")
	rt, ok := canonicalRequestType(rawType)
	if !ok {
		return errBadRequest("requestType %q is not valid; expected userAdd, userRemove, adminAdd or adminRemove.", rawType)
	}
	asg := jobj(body, "assignment")
	if asg == nil {
		asg = jobj(body, "accessPackageAssignment")
	}
	if asg == nil {
		return errBadRequest("The request body must contain 'assignment' with accessPackageId (and assignmentPolicyId), or the id of the assignment to remove.")
	}
	now := s.now()
	switch rt {
	case "userAdd", "adminAdd":
		return s.createAdd(g, body, asg, rt, now)
	case "userRemove", "adminRemove":
		return s.createRemove(g, asg, rt, now)
	case "userUpdate", "adminUpdate":
		return s.createUpdate(g, body, asg, rt, now)
	}
	return errBadRequest("requestType '%s' is not supported by this tenant; use userAdd, userRemove, adminAdd or adminRemove.", rt)
}

func (s *Sim) createAdd(g *gctx, body, asg map[string]any, rt string, now time.Time) *graphErr {
	var id identity
	if rt == "userAdd" {
		if g.c.AppOnly {
			return errDelegatedOnly("accessPackageAssignmentRequest (requestType userAdd)")
		}
		id, _ = s.callerIdentity(g.c)
		if t := jstr(asg, "targetId"); t != "" && t != g.c.OID {
			return errForbidden("A userAdd request can only be filed for the signed-in user (%s), not for '%s'.", g.c.OID, t)
		}
	} else {
		if !s.isEMAdmin(g.c) {
			return errNotAdmin()
		}
		var gerr *graphErr
		if id, gerr = s.targetIdentity(asg); gerr != nil {
			return gerr
		}
	}
	pkgID := jstr(asg, "accessPackageId")
	if pkgID == "" {
		pkgID = jstr(jobj(asg, "accessPackage"), "id")
	}
	if pkgID == "" {
		return errBadRequest("assignment.accessPackageId is required.")
	}
	p := s.w.Packages[pkgID]
	if p == nil {
		return errNotFound("accessPackage", pkgID)
	}
	var pol *policy
	polID := jstr(asg, "assignmentPolicyId")
	if polID == "" {
		polID = jstr(jobj(asg, "assignmentPolicy"), "id")
	}
	if polID != "" {
		pol = s.w.Policies[polID]
		if pol == nil || pol.PackageID != p.ID {
			return errBadRequest("assignment.assignmentPolicyId '%s' is not a policy of access package '%s'.", polID, p.ID)
		}
		if !s.eligible(pol, id) || (rt == "userAdd" && !pol.SelfAdd) {
			return errForbidden("The target is not in the scope of policy '%s' (allowedTargetScope %s).", pol.DisplayName, pol.AllowedTargetScope)
		}
	} else {
		if rt == "adminAdd" {
			return errBadRequest("assignment.assignmentPolicyId is required for an adminAdd request.")
		}
		pols := s.requestablePolicies(p.ID, id)
		if len(pols) == 0 {
			return errForbidden("The signed-in user is not allowed to request access package '%s': no policy includes them.", p.DisplayName)
		}
		pol = pols[0]
	}
	if gerr := s.checkExisting(id, p); gerr != nil {
		return gerr
	}
	justification := strings.TrimSpace(jstr(body, "justification"))
	if rt == "userAdd" && pol.JustificationRequired && justification == "" {
		return errBadRequest("Policy '%s' requires a justification from the requestor.", pol.DisplayName)
	}
	var answers []answer
	if rt == "userAdd" || len(jarr(body, "answers")) > 0 {
		var gerr *graphErr
		if answers, gerr = s.validateAnswers(pol, jarr(body, "answers")); gerr != nil {
			return gerr
		}
	}
	start, exp, gerr := s.parseSchedule(requestSchedule(body, asg), pol, rt == "adminAdd" || pol.AllowCustomSchedule, now)
	if gerr != nil {
		return gerr
	}
	target := s.subjectFor(id)
	requestor := target
	if rt == "adminAdd" && !g.c.AppOnly && g.c.TokenUser != nil {
		requestor = s.subjectFor(s.identityOfUser(g.c.TokenUser))
	}
	rq := &request{Ord: s.w.nextOrd(), ID: newID(), RequestType: rt, State: "submitted", Status: "Accepted", Created: now,
		Justification: justification, Answers: answers, Start: start, Expiration: exp, RequestorID: requestor.ID,
		TargetID: target.ID, PackageID: p.ID, PolicyID: pol.ID}
	s.submitRequest(g, rq, now)
	s.log.Info("assignment request created", "request", rq.ID, "type", rt, "package", p.ID, "state", rq.State)
	return nil
}

func (s *Sim) createRemove(g *gctx, asg map[string]any, rt string, now time.Time) *graphErr {
	a, gerr := s.requestedAssignment(g, asg, rt, "remove")
	if gerr != nil {
		return gerr
	}
	if rt == "userRemove" {
		id, _ := s.callerIdentity(g.c)
		if !subjectMatches(s.w.Subjects[a.TargetID], id) {
			return errForbidden("A userRemove request can only remove the signed-in user's own assignment.")
		}
		if pol := s.w.Policies[a.PolicyID]; pol != nil && !pol.SelfRemove {
			return errForbidden("Policy '%s' does not let users remove their own access.", pol.DisplayName)
		}
	}
	if a.State != "delivered" {
		return errBadRequest("Assignment %s is in state '%s' and cannot be removed.", a.ID, a.State)
	}
	for _, rq := range s.w.Requests {
		if rq.AssignmentID == a.ID && isOpenState(rq.State) && strings.HasSuffix(rq.RequestType, "Remove") {
			return &graphErr{Status: http.StatusBadRequest, Code: "ExistingOpenRequest",
				Message: fmt.Sprintf("There is already an open removal request (%s) for assignment %s.", rq.ID, a.ID)}
		}
	}
	rq := &request{Ord: s.w.nextOrd(), ID: newID(), RequestType: rt, State: "submitted", Status: "Accepted", Created: now,
		RequestorID: a.TargetID, TargetID: a.TargetID, PackageID: a.PackageID, PolicyID: a.PolicyID, AssignmentID: a.ID,
		Expiration: expirationPattern{Type: "notSpecified"}}
	if !g.c.AppOnly && g.c.TokenUser != nil {
		rq.RequestorID = s.subjectFor(s.identityOfUser(g.c.TokenUser)).ID
	}
	s.submitRequest(g, rq, now)
	return nil
}

// requestedAssignment checks that the caller may file a request of type rt (user*: delegated only; admin*:
// an entitlement management administrator) on an existing assignment, and finds assignment.id.
func (s *Sim) requestedAssignment(g *gctx, asg map[string]any, rt, verb string) (*assignment, *graphErr) {
	if strings.HasPrefix(rt, "user") && g.c.AppOnly {
		return nil, errDelegatedOnly("accessPackageAssignmentRequest (requestType " + rt + ")")
	}
	if strings.HasPrefix(rt, "admin") && !s.isEMAdmin(g.c) {
		return nil, errNotAdmin()
	}
	aid := jstr(asg, "id")
	if aid == "" {
		return nil, errBadRequest("assignment.id (the assignment to %s) is required for a %s request.", verb, rt)
	}
	a := s.w.Assignments[aid]
	if a == nil {
		return nil, errNotFound("accessPackageAssignment", aid)
	}
	return a, nil
}

// createUpdate files a userUpdate/adminUpdate (extension) of an existing assignment.
func (s *Sim) createUpdate(g *gctx, body, asg map[string]any, rt string, now time.Time) *graphErr {
	a, gerr := s.requestedAssignment(g, asg, rt, "update")
	if gerr != nil {
		return gerr
	}
	if pkgID := jstr(asg, "accessPackageId"); pkgID != "" && pkgID != a.PackageID {
		return errBadRequest("assignment.accessPackageId '%s' does not match assignment %s (package %s).", pkgID, a.ID, a.PackageID)
	}
	if a.State != "delivered" {
		return errBadRequest("Assignment %s is in state '%s' and cannot be updated.", a.ID, a.State)
	}
	pol := s.w.Policies[a.PolicyID]
	if pol == nil {
		return errBadRequest("The policy of assignment %s no longer exists.", a.ID)
	}
	if rt == "userUpdate" {
		id, _ := s.callerIdentity(g.c)
		if !subjectMatches(s.w.Subjects[a.TargetID], id) {
			return errForbidden("A userUpdate request can only update the signed-in user's own assignment.")
		}
		if !s.eligible(pol, id) {
			return errForbidden("The signed-in user is no longer in the scope of policy '%s'.", pol.DisplayName)
		}
	}
	for _, rq := range s.w.Requests {
		if rq.AssignmentID == a.ID && isOpenState(rq.State) && rq.ID != a.RequestID {
			return &graphErr{Status: http.StatusBadRequest, Code: "ExistingOpenRequest",
				Message: fmt.Sprintf("There is already an open request (%s) for assignment %s.", rq.ID, a.ID)}
		}
	}
	start, exp, gerr := s.parseSchedule(requestSchedule(body, asg), pol, rt == "adminUpdate" || pol.AllowCustomSchedule, now)
	if gerr != nil {
		return gerr
	}
	justification := strings.TrimSpace(jstr(body, "justification"))
	rq := &request{Ord: s.w.nextOrd(), ID: newID(), RequestType: rt, State: "submitted", Status: "Accepted", Created: now,
		Justification: justification, Start: start, Expiration: exp, RequestorID: a.TargetID, TargetID: a.TargetID,
		PackageID: a.PackageID, PolicyID: a.PolicyID, AssignmentID: a.ID}
	s.submitRequest(g, rq, now)
	return nil
}

// requestSchedule is the request's schedule, or the one given inside its assignment.
func requestSchedule(body, asg map[string]any) map[string]any {
	if sched := jobj(body, "schedule"); sched != nil {
		return sched
	}
	return jobj(asg, "schedule")
}

// submitRequest stores a new request (recording the signed-in user who filed it), answers 201 with it
// and moves it on to approval or delivery.
func (s *Sim) submitRequest(g *gctx, rq *request, now time.Time) {
	if !g.c.AppOnly {
		rq.CreatedByOID = g.c.OID
	}
	s.w.Requests[rq.ID] = rq
	g.mutated = true
	g.w.Header().Set("Location", s.graphBase()+"/"+emCtx+"assignmentRequests/"+rq.ID)
	s.writeEntity(g.w, http.StatusCreated, nil, emCtx+"assignmentRequests", s.renderRequest(rq, none))
	s.process(rq, now)
}
