package tenantsim

import (
	"slices"
	"time"
)

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
