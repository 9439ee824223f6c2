package bot

import (
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// Views of packages and policies: a package in a list, its resources, expiry, approval and questions, and a
// stage's automatic denial.

// packageView is one package in a list.
func packageView(p entitlement.Package) cards.PackageView {
	return cards.PackageView{ID: p.ID, Name: p.Name, Description: p.Description, CatalogName: p.CatalogName}
}

// resourceViews describes what a package grants.
func resourceViews(l *i18n.Localizer, rs []entitlement.ResourceRole) []cards.ResourceRoleView {
	var out []cards.ResourceRoleView
	for _, r := range rs {
		out = append(out, cards.ResourceRoleView{Resource: orUnknown(r.ResourceName, r.OriginID), Kind: resourceKind(l, r), Role: r.RoleName})
	}
	return out
}

func resourceKind(l *i18n.Localizer, r entitlement.ResourceRole) string {
	switch {
	case strings.EqualFold(r.OriginSystem, "SharePointOnline"):
		return l.T("resource.site")
	case strings.EqualFold(r.OriginSystem, "AadApplication"):
		return l.T("resource.app")
	case isTeamResource(r):
		return l.T("resource.team")
	case strings.EqualFold(r.OriginSystem, "AadGroup"):
		return l.T("resource.group")
	}
	return r.ResourceType
}

// expirySummary says how long access lasts ("180 days", "until 2027-01-31", "no end date").
func expirySummary(l *i18n.Localizer, e entitlement.Expiration) string {
	switch e.Type {
	case entitlement.ExpireNever:
		return l.T("expiry.never")
	case entitlement.ExpireAfterDateTime:
		if !e.EndDateTime.IsZero() {
			return l.T("expiry.until", "Date", e.EndDateTime.UTC().Format("2006-01-02"))
		}
	case entitlement.ExpireAfterDuration:
		if d, err := entitlement.ParseISODuration(e.Duration); err == nil && d > 0 {
			return durationWords(l, d)
		}
		return e.Duration
	}
	return ""
}

// durationWords says a policy duration in one unit, in the reader's language: "180 days", "8 hours".
func durationWords(l *i18n.Localizer, d time.Duration) string {
	switch {
	case d >= 48*time.Hour || d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return l.N("duration.days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour || d >= time.Hour && d%time.Hour == 0:
		return l.N("duration.hours", int(d/time.Hour))
	case d >= time.Minute:
		return l.N("duration.minutes", int(d/time.Minute))
	}
	return l.T("duration.lessThanMinute")
}

// approvalSummary says who approves, stage by stage ("The requester's manager, then Falcon Security Reviewers").
func approvalSummary(l *i18n.Localizer, p entitlement.Policy) string {
	if !p.ApprovalRequired || len(p.Stages) == 0 {
		return ""
	}
	var parts []string
	for _, st := range p.Stages {
		var who []string
		for _, s := range st.PrimaryApprovers {
			if s.IsBackup {
				continue
			}
			who = append(who, subjectSetLabel(l, s))
		}
		parts = append(parts, orUnknown(l.Or(who), l.T("approvers.anApprover")))
	}
	s := strings.Join(parts, l.T("approvers.then"))
	r := []rune(s)
	return strings.ToUpper(string(r[:1])) + string(r[1:])
}

func subjectSetLabel(l *i18n.Localizer, s entitlement.SubjectSet) string {
	switch s.Kind {
	case entitlement.SetRequestorManager:
		return l.T("approvers.manager")
	case entitlement.SetInternalSponsors:
		return l.T("approvers.internalSponsors")
	case entitlement.SetExternalSponsors:
		return l.T("approvers.externalSponsors")
	case entitlement.SetSingleUser:
		return orUnknown(s.Description, l.T("approvers.named"))
	case entitlement.SetGroupMembers:
		return orUnknown(s.Description, l.T("approvers.group"))
	}
	return l.T("approvers.anApprover")
}

// questionView is one policy question on the request form.
// questionView is a policy question on the request form in the requester's language: Entra's localized
// text for their locale, and a regex described in words (never the pattern itself).
func questionView(l *i18n.Localizer, locale string, q entitlement.Question) cards.QuestionView {
	v := cards.QuestionView{ID: q.ID, Text: q.TextFor(locale), Required: q.Required, Regex: q.Regex, Multiline: q.MultiLine,
		MultiSelect: q.MultipleSelection, Kind: cards.QuestionText}
	if q.Kind == entitlement.QuestionChoice || len(q.Choices) > 0 {
		v.Kind = cards.QuestionMultipleChoice
		for _, c := range q.Choices {
			v.Choices = append(v.Choices, cards.Choice{Title: orUnknown(c.TextFor(locale), c.Value), Value: c.Value})
		}
	}
	if q.Regex != "" {
		v.Hint, _ = describePattern(l, q.Regex)
	}
	return v
}

// formatError says that an answer does not fit its question's pattern: in words with an example where the
// pattern can be described, else by the question's own text.
func formatError(l *i18n.Localizer, q entitlement.Question, val string) string {
	if hint, ok := describePattern(l, q.Regex); ok {
		return l.T("form.error.format", "Value", val, "Hint", hint)
	}
	return l.T("form.error.formatQuestion", "Value", val, "Question", q.TextFor(l.Lang()))
}

// autoDenyAt is when stage (1-based) of pol denies the request on its own if nobody decides, counted from
// started; zero when the stage does not exist, has no such limit, or started is unknown.
func autoDenyAt(pol entitlement.Policy, stage int, started time.Time) time.Time {
	if stage < 1 || stage > len(pol.Stages) || started.IsZero() {
		return time.Time{}
	}
	d, err := entitlement.ParseISODuration(pol.Stages[stage-1].DurationBeforeAutomaticDenial)
	if err != nil || d <= 0 {
		return time.Time{}
	}
	return started.Add(d)
}
