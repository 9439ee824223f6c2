package tenantsim

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// deliveryDelay is how long (simulated) a request stays "delivering" before its
// resources are granted, so clients can observe the state.
const deliveryDelay = 2 * time.Second

var isoDurationRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// parseISODuration parses ISO-8601 durations such as P30D, P4W2D, PT8H, P1DT2H
// (years count 365 days, months 30).
func parseISODuration(s string) (time.Duration, error) {
	m := isoDurationRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil || s == "P" || strings.HasSuffix(strings.ToUpper(s), "T") {
		return 0, fmt.Errorf("invalid ISO-8601 duration %q (expected e.g. P30D, P4W2D or PT8H)", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute}
	var d time.Duration
	found := false
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return 0, fmt.Errorf("invalid ISO-8601 duration %q: %w", s, err)
		}
		d += time.Duration(n) * u
		found = true
	}
	if m[7] != "" {
		f, err := strconv.ParseFloat(m[7], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid ISO-8601 duration %q: %w", s, err)
		}
		d += time.Duration(f * float64(time.Second))
		found = true
	}
	if !found {
		return 0, fmt.Errorf("invalid ISO-8601 duration %q: no components", s)
	}
	return d, nil
}

func (s *Sim) policiesOf(pkgID string) []*policy {
	var out []*policy
	for _, p := range sortedBy(s.w.Policies, func(p *policy) int64 { return p.Ord }) {
		if p.PackageID == pkgID {
			out = append(out, p)
		}
	}
	return out
}

// identity is whoever a request is for: a user of the resource tenant
// (member or guest) and/or an external user identified by home tenant or email.
type identity struct {
	User           *user // in the resource tenant, nil when not yet there
	HomeTenantID   string
	HomeUserID     string
	Email          string
	DisplayName    string
	ConnectedOrgID string
}

func (s *Sim) identityOfUser(u *user) identity {
	id := identity{User: u, HomeTenantID: u.TenantID, HomeUserID: u.ID, Email: u.Mail, DisplayName: u.DisplayName}
	if u.UserType == "Guest" {
		id.HomeTenantID, id.HomeUserID = u.HomeTenantID, u.HomeUserID
	}
	if id.HomeTenantID != ContosoTenantID {
		if co := s.connectedOrgForTenant(id.HomeTenantID, id.Email); co != nil {
			id.ConnectedOrgID = co.ID
		}
	}
	return id
}

// connectedOrgForTenant finds the connected organization of a tenant id (or,
// for domain-based organizations, of the email's domain).
func (s *Sim) connectedOrgForTenant(tid, email string) *connectedOrg {
	domain := ""
	if i := strings.LastIndex(email, "@"); i >= 0 {
		domain = strings.ToLower(email[i+1:])
	}
	for _, co := range sortedBy(s.w.ConnectedOrgs, func(c *connectedOrg) int64 { return c.Ord }) {
		if tid != "" && strings.EqualFold(co.SourceTenantID, tid) {
			return co
		}
		if domain != "" && co.SourceDomain != "" && strings.EqualFold(co.SourceDomain, domain) {
			return co
		}
	}
	return nil
}

func (s *Sim) tenantOfDomain(domain string) *tenant {
	for _, t := range s.w.Tenants {
		for _, d := range t.Domains {
			if strings.EqualFold(d, domain) {
				return t
			}
		}
	}
	return nil
}

// homeOfEmail finds the simulated tenant that owns an email's domain and, in it, the user with that mail
// (nil when the simulator does not know them).
func (s *Sim) homeOfEmail(email string) (*tenant, *user) {
	at := strings.LastIndex(email, "@")
	if at < 0 {
		return nil, nil
	}
	t := s.tenantOfDomain(email[at+1:])
	if t == nil {
		return nil, nil
	}
	for _, u := range s.w.Users {
		if u.TenantID == t.ID && strings.EqualFold(u.Mail, email) {
			return t, u
		}
	}
	return t, nil
}

func (s *Sim) inGroup(groupID, userID string) bool {
	g := s.w.Groups[groupID]
	return g != nil && slices.Contains(g.Members, userID)
}

// eligible reports whether id is in the policy's allowed target scope.
func (s *Sim) eligible(p *policy, id identity) bool {
	member := id.User != nil && id.User.UserType == "Member" && id.User.TenantID == ContosoTenantID
	external := !member && id.HomeTenantID != ContosoTenantID
	switch p.AllowedTargetScope {
	case "allMemberUsers":
		return member
	case "allDirectoryUsers":
		return id.User != nil
	case "specificDirectoryUsers":
		if id.User == nil {
			return false
		}
		for _, t := range p.SpecificTargets {
			if (t.Type == "singleUser" && t.UserID == id.User.ID) || (t.Type == "groupMembers" && s.inGroup(t.GroupID, id.User.ID)) {
				return true
			}
		}
	case "specificConnectedOrganizationUsers":
		if !external || id.ConnectedOrgID == "" {
			return false
		}
		for _, t := range p.SpecificTargets {
			if t.Type == "connectedOrganizationMembers" && t.ConnectedOrg == id.ConnectedOrgID {
				return true
			}
		}
	case "allConfiguredConnectedOrganizationUsers":
		co := s.w.ConnectedOrgs[id.ConnectedOrgID]
		return external && co != nil && co.State == "configured"
	case "allExternalUsers":
		return external
	}
	return false
}

// resolveSets turns approver subject sets into user ids for request rq.
func (s *Sim) resolveSets(sets []subjectSet, rq *request) []string {
	var out []string
	target := s.w.Subjects[rq.TargetID]
	add := func(ids ...string) {
		for _, id := range ids {
			if id != "" && !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	for _, ss := range sets {
		switch ss.Type {
		case "singleUser":
			add(ss.UserID)
		case "groupMembers":
			if g := s.w.Groups[ss.GroupID]; g != nil {
				add(g.Members...)
			}
		case "requestorManager":
			if target != nil && target.ObjectID != "" {
				if u := s.w.Users[target.ObjectID]; u != nil {
					add(u.ManagerID)
				}
			}
		case "internalSponsors", "externalSponsors":
			if target == nil || target.ConnectedOrgID == "" {
				continue
			}
			if co := s.w.ConnectedOrgs[target.ConnectedOrgID]; co != nil {
				if ss.Type == "internalSponsors" {
					add(co.InternalSponsors...)
				} else {
					add(co.ExternalSponsors...)
				}
			}
		}
	}
	return out
}

// isApprover reports whether the user (object id in the resource tenant, or a
// home id for external sponsors) may decide the stage.
func (s *Sim) isApprover(st approvalStage, oid string) bool {
	if slices.Contains(st.Approvers, oid) {
		return true
	}
	if u := s.w.Users[oid]; u != nil && u.UserType == "Guest" && u.HomeUserID != "" {
		return slices.Contains(st.Approvers, u.HomeUserID)
	}
	return false
}

// awaitsApprovalFrom reports whether the request is pending approval and oid may decide its current stage.
func (s *Sim) awaitsApprovalFrom(rq *request, oid string) bool {
	i := s.currentStage(rq)
	return rq.State == "pendingApproval" && i >= 0 && s.isApprover(rq.Stages[i], oid)
}

// isTargetOrRequestor reports whether oid is the request's target user (no self-approval).
func (s *Sim) isTargetOrRequestor(rq *request, oid string) bool {
	for _, sid := range []string{rq.TargetID, rq.RequestorID} {
		sub := s.w.Subjects[sid]
		if sub == nil {
			continue
		}
		if sub.ObjectID == oid || sub.HomeUserID == oid {
			return true
		}
		if u := s.w.Users[oid]; u != nil && u.HomeUserID != "" && u.HomeUserID == sub.HomeUserID {
			return true
		}
	}
	return false
}

func (s *Sim) startStage(rq *request, i int, now time.Time) {
	pol := s.w.Policies[rq.PolicyID]
	st := &rq.Stages[i]
	def := pol.Stages[i]
	approvers := s.resolveSets(def.Primary, rq)
	approvers = slices.DeleteFunc(approvers, func(id string) bool { return s.isTargetOrRequestor(rq, id) })
	if len(approvers) == 0 {
		approvers = s.resolveSets(def.FallbackPrimary, rq)
		approvers = slices.DeleteFunc(approvers, func(id string) bool { return s.isTargetOrRequestor(rq, id) })
	}
	st.Approvers = approvers
	st.Status = "InProgress"
	t := now
	st.StartedAt = &t
	rq.State, rq.Status = "pendingApproval", "PendingApproval"
	s.log.Info("approval stage started", "request", rq.ID, "stage", i+1, "approvers", len(approvers))
}

func (s *Sim) currentStage(rq *request) int {
	for i, st := range rq.Stages {
		if st.Status == "InProgress" {
			return i
		}
	}
	return -1
}

// process moves a freshly submitted request to approval or delivery.
func (s *Sim) process(rq *request, now time.Time) {
	if rq.State != "submitted" {
		return
	}
	pol := s.w.Policies[rq.PolicyID]
	switch rq.RequestType {
	case "userAdd", "userUpdate":
		needed := pol != nil && (rq.RequestType == "userAdd" && pol.ApprovalRequired || rq.RequestType == "userUpdate" && pol.ApprovalForUpdate)
		if needed && len(pol.Stages) > 0 {
			rq.Stages = make([]approvalStage, len(pol.Stages))
			for i := range pol.Stages {
				rq.Stages[i] = approvalStage{ID: newID(), Index: i, DisplayName: fmt.Sprintf("Stage %d", i+1), Status: "NotStarted", ReviewResult: "NotReviewed"}
			}
			s.startStage(rq, 0, now)
			return
		}
		s.beginDelivery(rq, now)
	default:
		s.beginDelivery(rq, now)
	}
}

func (s *Sim) beginDelivery(rq *request, now time.Time) {
	isAdd := rq.RequestType == "userAdd" || rq.RequestType == "adminAdd"
	if isAdd && rq.State != "scheduled" && rq.Start != nil && rq.Start.After(now.Add(deliveryDelay)) {
		// A future start: the request waits as "scheduled" until then.
		at := *rq.Start
		rq.State, rq.Status, rq.DeliverAt = "scheduled", "Scheduled", &at
		return
	}
	rq.State, rq.Status = "delivering", "Delivering"
	at := now.Add(deliveryDelay)
	rq.DeliverAt = &at
	switch rq.RequestType {
	case "userAdd", "adminAdd":
		if rq.AssignmentID == "" {
			pol := s.w.Policies[rq.PolicyID]
			a := &assignment{Ord: s.w.nextOrd(), ID: newID(), PackageID: rq.PackageID, PolicyID: rq.PolicyID,
				TargetID: rq.TargetID, State: "delivering", Status: "Delivering", Start: now, RequestID: rq.ID}
			if rq.Start != nil && rq.Start.After(now) {
				a.Start = *rq.Start
			}
			s.applyExpiration(a, pol, rq)
			s.w.Assignments[a.ID] = a
			rq.AssignmentID = a.ID
		}
	}
}

func (s *Sim) applyExpiration(a *assignment, pol *policy, rq *request) {
	exp := rq.Expiration
	if exp.Type == "" || exp.Type == "notSpecified" {
		if pol != nil {
			exp = pol.Expiration
		}
	}
	a.ExpType = exp.Type
	switch exp.Type {
	case "afterDateTime":
		if exp.EndDateTime != nil {
			t := *exp.EndDateTime
			a.End = &t
		}
	case "afterDuration":
		a.Duration = exp.Duration
		if d, err := parseISODuration(exp.Duration); err == nil {
			t := a.Start.Add(d)
			a.End = &t
			a.ExpType = "afterDateTime"
		}
	case "", "notSpecified":
		a.ExpType = "noExpiration"
	}
}

// deliver grants the resources of a delivering request.
func (s *Sim) deliver(rq *request, now time.Time) {
	t := now
	rq.Completed = &t
	rq.DeliverAt = nil
	switch rq.RequestType {
	case "userRemove", "adminRemove":
		if a := s.w.Assignments[rq.AssignmentID]; a != nil && a.State != "expired" {
			s.endAssignment(a, now, "Removed")
		}
		rq.State, rq.Status = "delivered", "Delivered"
		return
	case "userUpdate", "adminUpdate":
		a := s.w.Assignments[rq.AssignmentID]
		if a == nil || a.State != "delivered" {
			rq.State, rq.Status = "deliveryFailed", "DeliveryFailed"
			return
		}
		// The extension runs from now (or the requested start) for the policy's
		// duration or the requested schedule.
		a.Start = now
		if rq.Start != nil {
			a.Start = *rq.Start
		}
		a.End, a.Duration = nil, ""
		s.applyExpiration(a, s.w.Policies[rq.PolicyID], rq)
		rq.State, rq.Status = "delivered", "Delivered"
		return
	}
	a := s.w.Assignments[rq.AssignmentID]
	sub := s.w.Subjects[rq.TargetID]
	if a == nil || sub == nil {
		rq.State, rq.Status = "deliveryFailed", "DeliveryFailed"
		return
	}
	if sub.ObjectID == "" {
		g := s.createGuest(sub, now)
		sub.ObjectID = g.ID
		sub.PrincipalName = g.UPN
	}
	if u := s.w.Users[sub.ObjectID]; u != nil && !u.AccountEnabled && u.BlockedAt != nil {
		u.AccountEnabled, u.BlockedAt = true, nil
	}
	s.grant(a, sub.ObjectID)
	a.State, a.Status = "delivered", "Delivered"
	rq.State, rq.Status = "delivered", "Delivered"
	s.log.Info("assignment delivered", "request", rq.ID, "assignment", a.ID, "package", a.PackageID)
}

func guestUPN(email string) string {
	return strings.ReplaceAll(strings.ToLower(email), "@", "_") + "#EXT#@contoso.onmicrosoft.com"
}

// newGuest adds an invited guest (PendingAcceptance) to tenant tid, with the names and Teams id of its home
// user when the simulator knows it.
func (s *Sim) newGuest(tid, display, email, homeTID, homeOID string, now time.Time) *user {
	t := now
	g := &user{Ord: s.w.nextOrd(), ID: newID(), TenantID: tid, DisplayName: display, UPN: guestUPN(email), Mail: email,
		UserType: "Guest", ExternalUserState: "PendingAcceptance", ExternalStateAt: &t, CreationType: "Invitation",
		AccountEnabled: true, Created: now, HomeTenantID: homeTID, HomeUserID: homeOID}
	if home := s.w.Users[homeOID]; home != nil {
		g.GivenName, g.Surname, g.TeamsID = home.GivenName, home.Surname, home.TeamsID
	}
	s.w.Users[g.ID] = g
	return g
}

// createGuest adds a guest user for an external subject to the resource tenant.
func (s *Sim) createGuest(sub *subject, now time.Time) *user {
	display := sub.DisplayName
	if display == "" {
		display = sub.Email
	}
	g := s.newGuest(ContosoTenantID, display, sub.Email, sub.HomeTenantID, sub.HomeUserID, now)
	g.ByEntitlement = true
	inv := &invitation{Ord: s.w.nextOrd(), ID: newID(), Email: sub.Email, DisplayName: display, UserID: g.ID,
		RedirectURL: "https://myapplications.microsoft.com/?tenantid=" + ContosoTenantID, UserType: "Guest", Status: "PendingAcceptance"}
	s.w.Invitations[inv.ID] = inv
	s.log.Info("guest created", "user", g.ID, "homeTenant", sub.HomeTenantID)
	return g
}

func (s *Sim) grant(a *assignment, userID string) {
	p := s.w.Packages[a.PackageID]
	if p == nil {
		return
	}
	for _, sc := range p.RoleScopes {
		r := s.w.Resources[sc.ResourceID]
		if r == nil {
			continue
		}
		if r.Grants == nil {
			r.Grants = map[string]string{}
		}
		for _, role := range r.Roles {
			if role.ID == sc.RoleID {
				r.Grants[userID] = role.OriginID
			}
		}
		if r.OriginSystem == "AadGroup" {
			if g := s.w.Groups[r.OriginID]; g != nil && !slices.Contains(g.Members, userID) {
				g.Members = append(g.Members, userID)
			}
		}
	}
}

// endAssignment expires or removes an assignment and revokes resources no
// other active assignment of the same user still grants.
func (s *Sim) endAssignment(a *assignment, now time.Time, status string) {
	t := now
	a.State, a.Status, a.Expired = "expired", status, &t
	sub := s.w.Subjects[a.TargetID]
	if sub == nil || sub.ObjectID == "" {
		return
	}
	still := map[string]bool{}
	for _, o := range s.w.Assignments {
		if o.ID == a.ID || o.TargetID != a.TargetID || !isActiveAssignment(o) {
			continue
		}
		if p := s.w.Packages[o.PackageID]; p != nil {
			for _, sc := range p.RoleScopes {
				still[sc.ResourceID] = true
			}
		}
	}
	p := s.w.Packages[a.PackageID]
	if p == nil {
		return
	}
	for _, sc := range p.RoleScopes {
		r := s.w.Resources[sc.ResourceID]
		if r == nil || still[r.ID] {
			continue
		}
		if _, had := r.Grants[sub.ObjectID]; !had {
			continue
		}
		delete(r.Grants, sub.ObjectID)
		if r.OriginSystem == "AadGroup" {
			if g := s.w.Groups[r.OriginID]; g != nil {
				g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == sub.ObjectID })
			}
		}
	}
	s.log.Info("assignment ended", "assignment", a.ID, "status", status)
}

func (s *Sim) deny(rq *request, now time.Time, status string) {
	t := now
	rq.State, rq.Status, rq.Completed = "denied", status, &t
	if a := s.w.Assignments[rq.AssignmentID]; a != nil && a.State == "delivering" {
		delete(s.w.Assignments, a.ID)
		rq.AssignmentID = ""
	}
}

// tickLocked runs the clock-driven rules; it reports whether anything changed.
func (s *Sim) tickLocked() bool {
	now := s.now()
	changed := false
	for _, rq := range sortedBy(s.w.Requests, func(r *request) int64 { return r.Ord }) {
		switch rq.State {
		case "submitted":
			s.process(rq, now)
			changed = true
		case "pendingApproval":
			if s.tickApproval(rq, now) {
				changed = true
			}
		case "scheduled":
			if rq.DeliverAt != nil && !now.Before(*rq.DeliverAt) {
				s.beginDelivery(rq, now)
				changed = true
			}
		}
		if rq.State == "delivering" && rq.DeliverAt != nil && !now.Before(*rq.DeliverAt) {
			s.deliver(rq, now)
			changed = true
		}
	}
	for _, a := range sortedBy(s.w.Assignments, func(a *assignment) int64 { return a.Ord }) {
		if a.State == "delivered" && a.End != nil && !now.Before(*a.End) {
			at := *a.End
			s.endAssignment(a, at, "Expired")
			// Entra records the removal as a systemRemove request.
			rq := &request{Ord: s.w.nextOrd(), ID: newID(), RequestType: "systemRemove", State: "delivered", Status: "Delivered",
				Created: at, Completed: &at, RequestorID: a.TargetID, TargetID: a.TargetID, PackageID: a.PackageID,
				PolicyID: a.PolicyID, AssignmentID: a.ID, Expiration: expirationPattern{Type: "notSpecified"}}
			s.w.Requests[rq.ID] = rq
			changed = true
		}
	}
	if s.guestLifecycle(now) {
		changed = true
	}
	if s.tickReviews(now) {
		changed = true
	}
	return changed
}

func (s *Sim) tickApproval(rq *request, now time.Time) bool {
	i := s.currentStage(rq)
	pol := s.w.Policies[rq.PolicyID]
	if i < 0 || pol == nil || i >= len(pol.Stages) {
		return false
	}
	st := &rq.Stages[i]
	def := pol.Stages[i]
	changed := false
	if def.IsEscalationEnabled && !st.Escalated && st.StartedAt != nil {
		if d, err := parseISODuration(def.DurationBeforeEscalation); err == nil && !now.Before(st.StartedAt.Add(d)) {
			esc := s.resolveSets(def.Escalation, rq)
			if len(esc) == 0 {
				esc = s.resolveSets(def.FallbackEscalation, rq)
			}
			for _, id := range esc {
				if !slices.Contains(st.Approvers, id) && !s.isTargetOrRequestor(rq, id) {
					st.Approvers = append(st.Approvers, id)
				}
			}
			st.Escalated = true
			rq.Status = "PendingApprovalEscalated"
			s.log.Info("approval stage escalated", "request", rq.ID, "stage", i+1)
			changed = true
		}
	}
	if st.StartedAt != nil {
		if d, err := parseISODuration(def.DurationBeforeAutomaticDenial); err == nil && !now.Before(st.StartedAt.Add(d)) {
			st.Status = "Expired"
			s.deny(rq, st.StartedAt.Add(d), "Expired")
			s.log.Info("request automatically denied", "request", rq.ID, "stage", i+1)
			changed = true
		}
	}
	return changed
}

// guestLifecycle blocks guests created by entitlement management once their
// last assignment ended, and deletes them after the configured duration.
func (s *Sim) guestLifecycle(now time.Time) bool {
	action := s.w.Settings.ExternalUserLifecycleAction
	if action == "" || action == "none" {
		return false
	}
	changed := false
	for _, u := range sortedBy(s.w.Users, func(u *user) int64 { return u.Ord }) {
		if !u.ByEntitlement || u.UserType != "Guest" {
			continue
		}
		active, ended := false, time.Time{}
		for _, a := range s.w.Assignments {
			sub := s.w.Subjects[a.TargetID]
			if sub == nil || sub.ObjectID != u.ID {
				continue
			}
			if isActiveAssignment(a) {
				active = true
			} else if a.Expired != nil && a.Expired.After(ended) {
				ended = *a.Expired
			}
		}
		if active || ended.IsZero() {
			continue
		}
		if u.BlockedAt == nil {
			t := ended
			u.AccountEnabled, u.BlockedAt = false, &t
			s.log.Info("guest blocked", "user", u.ID)
			changed = true
		}
		if action == "blockSignInAndDelete" && u.BlockedAt != nil {
			d, err := parseISODuration(s.w.Settings.DurationUntilExternalUserDeletedAfterBlocked)
			if err == nil && !now.Before(u.BlockedAt.Add(d)) {
				s.deleteUser(u)
				changed = true
			}
		}
	}
	return changed
}

func (s *Sim) deleteUser(u *user) {
	delete(s.w.Users, u.ID)
	for _, g := range s.w.Groups {
		g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == u.ID })
	}
	for _, sub := range s.w.Subjects {
		if sub.ObjectID == u.ID {
			sub.ObjectID = ""
		}
	}
	s.log.Info("guest deleted", "user", u.ID)
}
