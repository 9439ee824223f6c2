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
	if p := s.w.Packages[a.PackageID]; p != nil {
		s.revokeUngranted(a.TargetID, p.RoleScopes, a.ID)
	}
	s.log.Info("assignment ended", "assignment", a.ID, "status", status)
}

// revokeUngranted takes the resources of scopes from the subject targetID unless an active assignment of
// theirs (other than skipID) still grants them: an assignment that ends, or a role scope removed from a
// package its holders keep.
func (s *Sim) revokeUngranted(targetID string, scopes []roleScope, skipID string) {
	sub := s.w.Subjects[targetID]
	if sub == nil || sub.ObjectID == "" {
		return
	}
	still := map[string]bool{}
	for _, o := range s.w.Assignments {
		if o.ID == skipID || o.TargetID != targetID || !isActiveAssignment(o) {
			continue
		}
		if p := s.w.Packages[o.PackageID]; p != nil {
			for _, sc := range p.RoleScopes {
				still[sc.ResourceID] = true
			}
		}
	}
	for _, sc := range scopes {
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
