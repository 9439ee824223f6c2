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

// isActiveAssignment reports whether an assignment holds (or is about to hold) its package's access: Graph's
// accessPackageAssignment states delivering, partiallyDelivered (some resources granted, the rest retried)
// and delivered; not expired, deliveryFailed or the rest.
func isActiveAssignment(a *assignment) bool {
	switch a.State {
	case "delivering", "partiallyDelivered", "delivered":
		return true
	}
	return false
}

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
