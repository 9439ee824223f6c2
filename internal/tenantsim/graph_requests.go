package tenantsim

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

var requestTypes = []string{"userAdd", "userUpdate", "userRemove", "userExtend", "adminAdd", "adminUpdate", "adminRemove"}

func canonicalRequestType(v string) (string, bool) {
	for _, t := range requestTypes {
		if strings.EqualFold(t, v) {
			return t, true
		}
	}
	return "", false
}

func isOpenState(state string) bool {
	switch state {
	case "submitted", "pendingApproval", "delivering", "scheduled":
		return true
	}
	return false
}

func isActiveAssignment(a *assignment) bool { return a.State == "delivered" || a.State == "delivering" }

// subjectMatches reports whether a stored subject is the identity.
func subjectMatches(sub *subject, id identity) bool {
	if sub == nil {
		return false
	}
	if id.User != nil && sub.ObjectID != "" && sub.ObjectID == id.User.ID {
		return true
	}
	if id.HomeUserID != "" && sub.HomeUserID == id.HomeUserID && sub.HomeTenantID == id.HomeTenantID {
		return true
	}
	return id.User == nil && id.Email != "" && strings.EqualFold(sub.Email, id.Email)
}

func (s *Sim) subjectFor(id identity) *subject {
	for _, sub := range s.w.Subjects {
		if subjectMatches(sub, id) {
			if id.User != nil && sub.ObjectID == "" {
				sub.ObjectID, sub.PrincipalName = id.User.ID, id.User.UPN
			}
			return sub
		}
	}
	sub := &subject{ID: newID(), DisplayName: id.DisplayName, Email: id.Email, SubjectType: "user",
		ConnectedOrgID: id.ConnectedOrgID, HomeTenantID: id.HomeTenantID, HomeUserID: id.HomeUserID, PrincipalName: id.Email}
	if id.User != nil {
		sub.ObjectID, sub.PrincipalName = id.User.ID, id.User.UPN
	}
	s.w.Subjects[sub.ID] = sub
	return sub
}

// checkExisting refuses a duplicate or incompatible add request.
func (s *Sim) checkExisting(id identity, p *accessPkg) *graphErr {
	for _, rq := range sortedBy(s.w.Requests, func(r *request) int64 { return r.Ord }) {
		if rq.PackageID == p.ID && isOpenState(rq.State) && (rq.RequestType == "userAdd" || rq.RequestType == "adminAdd") &&
			subjectMatches(s.w.Subjects[rq.TargetID], id) {
			return &graphErr{Status: http.StatusBadRequest, Code: "ExistingOpenRequest",
				Message: fmt.Sprintf("There is already an open request (%s, state %s) for this user and access package '%s'.", rq.ID, rq.State, p.DisplayName)}
		}
	}
	if id.User != nil {
		for _, gid := range p.IncompatibleGroups {
			if gr := s.w.Groups[gid]; gr != nil && s.inGroup(gid, id.User.ID) {
				return &graphErr{Status: http.StatusBadRequest, Code: "IncompatibleGroup",
					Message: fmt.Sprintf("Access package '%s' is incompatible with the group '%s' that the user is a member of.", p.DisplayName, gr.DisplayName)}
			}
		}
	}
	for _, a := range sortedBy(s.w.Assignments, func(a *assignment) int64 { return a.Ord }) {
		if !isActiveAssignment(a) || !subjectMatches(s.w.Subjects[a.TargetID], id) {
			continue
		}
		if a.PackageID == p.ID {
			return &graphErr{Status: http.StatusBadRequest, Code: "ExistingAssignment",
				Message: fmt.Sprintf("The user already has an active assignment (%s) to access package '%s'.", a.ID, p.DisplayName)}
		}
		other := s.w.Packages[a.PackageID]
		if slices.Contains(p.Incompatible, a.PackageID) || (other != nil && slices.Contains(other.Incompatible, p.ID)) {
			name := a.PackageID
			if other != nil {
				name = other.DisplayName
			}
			return &graphErr{Status: http.StatusBadRequest, Code: "IncompatibleAccessPackage",
				Message: fmt.Sprintf("Access package '%s' is incompatible with access package '%s' that the user already has.", p.DisplayName, name)}
		}
	}
	return nil
}

func (s *Sim) validateAnswers(pol *policy, raw []any) ([]answer, *graphErr) {
	var out []answer
	seen := map[string]bool{}
	for i, a := range raw {
		am, ok := a.(map[string]any)
		if !ok {
			return nil, errBadRequest("answers[%d] must be an object.", i)
		}
		qid := jstr(jobj(am, "answeredQuestion"), "id")
		if qid == "" {
			return nil, errBadRequest("answers[%d].answeredQuestion.id is required.", i)
		}
		var q *question
		for k := range pol.Questions {
			if pol.Questions[k].ID == qid {
				q = &pol.Questions[k]
			}
		}
		if q == nil {
			return nil, errBadRequest("answers[%d] answers question '%s', which policy '%s' does not have.", i, qid, pol.DisplayName)
		}
		val := jstr(am, "value")
		display := jstr(am, "displayValue")
		if q.Kind == "multipleChoice" {
			var matched *choice
			for k := range q.Choices {
				if q.Choices[k].ActualValue == val {
					matched = &q.Choices[k]
				}
			}
			if matched == nil && val != "" {
				vals := []string{}
				for _, c := range q.Choices {
					vals = append(vals, c.ActualValue)
				}
				return nil, errBadRequest("The answer %q to question '%s' is not one of its choices (%s).", val, q.Text, strings.Join(vals, ", "))
			}
			if matched != nil && display == "" {
				display = matched.Text
			}
		} else if val != "" && q.Regex != "" {
			re, err := regexp.Compile(q.Regex)
			if err == nil && !re.MatchString(val) {
				return nil, errBadRequest("The answer to question '%s' does not match the required format %s.", q.Text, q.Regex)
			}
		}
		if display == "" {
			display = val
		}
		if strings.TrimSpace(val) != "" {
			seen[qid] = true
			out = append(out, answer{QuestionID: qid, QuestionType: q.Kind, Value: val, DisplayValue: display})
		}
	}
	for _, q := range pol.Questions {
		if q.IsRequired && !seen[q.ID] {
			return nil, errBadRequest("An answer to the required question '%s' (%s) is missing.", q.Text, q.ID)
		}
	}
	return out, nil
}

// parseSchedule validates a requested schedule against the policy.
func (s *Sim) parseSchedule(sched map[string]any, pol *policy, custom bool, now time.Time) (*time.Time, expirationPattern, *graphErr) {
	var start *time.Time
	exp := expirationPattern{Type: "notSpecified"}
	if sched == nil {
		return nil, exp, nil
	}
	if v := jstr(sched, "startDateTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, exp, errBadRequest("schedule.startDateTime %q is not an ISO-8601 date and time.", v)
		}
		start = &t
	}
	e := jobj(sched, "expiration")
	if e == nil {
		return start, exp, nil
	}
	typ := jstr(e, "type")
	end := jstr(e, "endDateTime")
	dur := jstr(e, "duration")
	if end == "" && dur == "" && (typ == "" || typ == "notSpecified" || typ == "noExpiration") {
		return start, exp, nil
	}
	if !custom {
		return nil, exp, errBadRequest("Policy '%s' does not allow requestors to set a custom assignment schedule (schedule.expiration).", pol.DisplayName)
	}
	from := now
	if start != nil {
		from = *start
	}
	var endAt time.Time
	switch {
	case end != "":
		t, err := time.Parse(time.RFC3339, end)
		if err != nil {
			return nil, exp, errBadRequest("schedule.expiration.endDateTime %q is not an ISO-8601 date and time.", end)
		}
		exp = expirationPattern{Type: "afterDateTime", EndDateTime: &t}
		endAt = t
	case dur != "":
		d, err := parseISODuration(dur)
		if err != nil {
			return nil, exp, errBadRequest("schedule.expiration.duration: %v.", err)
		}
		exp = expirationPattern{Type: "afterDuration", Duration: dur}
		endAt = from.Add(d)
	default:
		return nil, exp, errBadRequest("schedule.expiration of type %q needs endDateTime or duration.", typ)
	}
	if !endAt.After(from) {
		return nil, exp, errBadRequest("The requested schedule ends (%s) before it starts (%s).", ts(endAt), ts(from))
	}
	if pol.Expiration.Type == "afterDuration" {
		if max, err := parseISODuration(pol.Expiration.Duration); err == nil && endAt.Sub(from) > max {
			return nil, exp, errBadRequest("The requested schedule is longer than policy '%s' allows (%s).", pol.DisplayName, pol.Expiration.Duration)
		}
	}
	return start, exp, nil
}

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
	if name, args, ok := parseFunc(seg[0]); ok && strings.EqualFold(name, "filterByCurrentUser") {
		if g.c.AppOnly {
			return errDelegatedOnly("accessPackageAssignmentRequest: filterByCurrentUser")
		}
		id, _ := s.callerIdentity(g.c)
		var keep func(*request) bool
		switch strings.ToLower(args["on"]) {
		case "target":
			keep = func(rq *request) bool { return subjectMatches(s.w.Subjects[rq.TargetID], id) }
		case "createdby":
			keep = func(rq *request) bool { return rq.CreatedByOID == g.c.OID }
		case "approver":
			keep = func(rq *request) bool { return s.awaitsApprovalFrom(rq, g.c.OID) }
		default:
			return errBadRequest("The value '%s' of parameter 'on' is not valid; expected 'target', 'createdBy' or 'approver'.", args["on"])
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
	if name, args, ok := parseFunc(seg[0]); ok && strings.EqualFold(name, "filterByCurrentUser") {
		if g.c.AppOnly {
			return errDelegatedOnly("accessPackageAssignment: filterByCurrentUser")
		}
		if !strings.EqualFold(args["on"], "target") {
			return errBadRequest("The value '%s' of parameter 'on' is not valid; expected 'target'.", args["on"])
		}
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
	if name, args, ok := parseFunc(seg[0]); ok && strings.EqualFold(name, "filterByCurrentUser") {
		if g.r.Method != http.MethodGet {
			return methodNotAllowed(g.r)
		}
		if g.c.AppOnly {
			return errDelegatedOnly("approval: filterByCurrentUser")
		}
		if !strings.EqualFold(args["on"], "approver") {
			return errBadRequest("The value '%s' of parameter 'on' is not valid; expected 'approver'.", args["on"])
		}
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
