package reviews

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// ExpiryLead says how long before its end an assignment at least MinLength long is announced.
type ExpiryLead struct {
	MinLength time.Duration
	Lead      time.Duration
}

// DefaultExpiryLeads: 7 days ahead for assignments of 90 days or more, 3 days for 30+, 1 day for 7+, 2 hours
// for shorter ones (ACCESSBOT_EXPIRY_LEADS overrides, e.g. "90d:7d,30d:3d,7d:1d,0:2h").
var DefaultExpiryLeads = []ExpiryLead{
	{MinLength: 90 * 24 * time.Hour, Lead: 7 * 24 * time.Hour},
	{MinLength: 30 * 24 * time.Hour, Lead: 3 * 24 * time.Hour},
	{MinLength: 7 * 24 * time.Hour, Lead: 24 * time.Hour},
	{MinLength: 0, Lead: 2 * time.Hour},
}

// ParseExpiryLeads reads "90d:7d,30d:3d,0:2h" (length:lead pairs; d = days, other units as in Go durations).
func ParseExpiryLeads(s string) ([]ExpiryLead, error) {
	if s == "" {
		return nil, nil
	}
	var out []ExpiryLead
	for _, part := range splitTrim(s, ",") {
		pair := splitTrim(part, ":")
		if len(pair) != 2 {
			return nil, fmt.Errorf("expiry lead %q: want LENGTH:LEAD such as 90d:7d", part)
		}
		length, err := parseDays(pair[0])
		if err != nil {
			return nil, fmt.Errorf("expiry lead %q: length: %w", part, err)
		}
		lead, err := parseDays(pair[1])
		if err != nil || lead <= 0 {
			return nil, fmt.Errorf("expiry lead %q: lead must be a positive duration such as 7d or 2h", part)
		}
		out = append(out, ExpiryLead{MinLength: length, Lead: lead})
	}
	return out, nil
}

func splitTrim(s string, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseDays(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if n := len(s); n > 1 && s[n-1] == 'd' {
		d, err := strconv.Atoi(s[:n-1])
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 7d or 2h", s)
	}
	return d, nil
}

// leadFor is how long before the end an assignment of the given length is announced.
func (s *Service) leadFor(length time.Duration) time.Duration {
	best := time.Duration(0)
	bestMin := time.Duration(-1)
	for _, l := range s.cfg.ExpiryLeads {
		if length >= l.MinLength && l.MinLength > bestMin {
			best, bestMin = l.Lead, l.MinLength
		}
	}
	return best
}

func (s *Service) maxLead() time.Duration {
	m := time.Duration(0)
	for _, l := range s.cfg.ExpiryLeads {
		m = max(m, l.Lead)
	}
	return m
}

// endedNoticeWithin is how long after an assignment's end its holder is still told that it ended (a later sweep
// skips it: the notice would be stale news).
const endedNoticeWithin = 7 * 24 * time.Hour

// EndAnnouncer is implemented by a Notifier that already announces the end of some assignments itself (the
// bot's brokered flow warns the partner guests it created): AnnouncedEnds returns "targetID/packageID" keys,
// which SweepExpiry skips so nobody is told twice.
type EndAnnouncer interface {
	AnnouncedEnds(ctx context.Context) (map[string]bool, error)
}

// SweepExpiry warns every holder of an assignment with an end date ahead of the end (with Extend where the
// policy lets holders extend) and tells them when it has ended. Each notice is sent once per end date, so an
// extension (a new end) gets its own warning.
func (s *Service) SweepExpiry(ctx context.Context, n Notifier) error {
	now := s.now()
	soon, err := s.cfg.Directory.Assignments(ctx, entitlement.AssignmentFilter{ExpiringBefore: now.Add(s.maxLead()),
		States: entitlement.GrantingAssignmentStates()})
	if err != nil {
		return fmt.Errorf("list assignments ending soon: %w", err)
	}
	var errs []error
	skip := map[string]bool{}
	if ea, ok := n.(EndAnnouncer); ok {
		if skip, err = ea.AnnouncedEnds(ctx); err != nil {
			return fmt.Errorf("list the ends the bot announces itself: %w", err)
		}
	}
	names, policies := map[string]string{}, map[string]entitlement.Policy{}
	for _, a := range soon {
		end := a.EndsAt()
		if end.IsZero() || !end.After(now) || a.Target.ID == "" || skip[a.Target.ID+"/"+a.PackageID] ||
			now.Before(end.Add(-s.leadFor(end.Sub(a.Schedule.Start)))) {
			continue
		}
		key := "expiring/" + a.ID + "/" + strconv.FormatInt(end.Unix(), 10)
		if _, err := s.once(ctx, key, func() error {
			return s.deliver(ctx, n, a.Target.ID, func(l *i18n.Localizer) *cards.Card { return s.endingCard(ctx, l, a, names, policies) })
		}); err != nil {
			errs = append(errs, fmt.Errorf("warn %s about assignment %s: %w", a.Target.ID, a.ID, err))
		}
	}
	ended, err := s.cfg.Directory.Assignments(ctx, entitlement.AssignmentFilter{States: []entitlement.AssignmentState{entitlement.AssignmentExpired}})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list ended assignments: %w", err))...)
	}
	for _, a := range ended {
		end := a.EndsAt()
		// Only ends by date, recent ones: a removal (review, admin, the holder) is announced where it happens.
		if end.IsZero() || a.Target.ID == "" || skip[a.Target.ID+"/"+a.PackageID] || a.ExpiredAt.Before(end) || now.Sub(end) > endedNoticeWithin {
			continue
		}
		name := s.pkgName(ctx, names, a)
		card := func(l *i18n.Localizer) *cards.Card {
			return cards.Notice(l, cards.NoticeView{Kind: cards.NoticeInfo, Title: l.T("rv.ended.title", "Package", orPackage(l, name)),
				Text:        l.T("rv.ended.text", "When", end.UTC().Format("2006-01-02 15:04 MST")),
				Suggestions: []cards.Suggestion{{Title: l.T("rv.requestAgain"), Command: strings.TrimSpace("request " + name)}, {Title: l.T("button.myAccess"), Command: "access"}}})
		}
		if _, err := s.once(ctx, "ended/"+a.ID, func() error { return s.deliver(ctx, n, a.Target.ID, card) }); err != nil {
			errs = append(errs, fmt.Errorf("tell %s that assignment %s ended: %w", a.Target.ID, a.ID, err))
		}
	}
	return errors.Join(errs...)
}

// orPackage is name, or "an access package" in l's language when the package's name is unknown.
func orPackage(l *i18n.Localizer, name string) string {
	if name == "" {
		return l.T("rv.aPackage")
	}
	return name
}

// pkgName is the name of a's package ("" when it cannot be read).
func (s *Service) pkgName(ctx context.Context, names map[string]string, a entitlement.Assignment) string {
	if a.PackageName != "" {
		return a.PackageName
	}
	if n, ok := names[a.PackageID]; ok {
		return n
	}
	name := ""
	if p, err := s.cfg.Directory.Package(ctx, a.PackageID); err == nil && p.Name != "" {
		name = p.Name
	}
	names[a.PackageID] = name
	return name
}

// endingCard says when the access ends, with Extend (the request form, then the policy's approval) when the
// policy lets holders extend, or whom to ask otherwise.
func (s *Service) endingCard(ctx context.Context, l *i18n.Localizer, a entitlement.Assignment, names map[string]string, policies map[string]entitlement.Policy) *cards.Card {
	name := s.pkgName(ctx, names, a)
	pol, ok := policies[a.PolicyID]
	if !ok && a.PolicyID != "" {
		p, err := s.cfg.Directory.Policy(ctx, a.PolicyID)
		if err == nil {
			pol, ok = p, true
			policies[a.PolicyID] = p
		}
	}
	end := a.EndsAt().UTC().Format("2006-01-02 15:04 MST")
	v := cards.NoticeView{Kind: cards.NoticeWarning, Title: l.T("rv.ending.title", "Package", orPackage(l, name), "When", end),
		Suggestions: []cards.Suggestion{{Title: l.T("button.myAccess"), Command: "access"}}}
	if ok && pol.SelfUpdateAllowed {
		v.Text = l.T("rv.ending.extend")
		c := cards.Notice(l, v)
		c.Actions = append([]cards.Action{cards.ActionExecute{Title: l.T("rv.extend"), Verb: cards.VerbAccessExtend,
			Data: map[string]any{cards.KeyAssignmentID: a.ID, cards.KeyPackageID: a.PackageID}}}, c.Actions...)
		return c
	}
	v.Text = l.T("rv.ending.noExtend", "When", end, "Org", orDefault(s.cfg.Tenant.Name, l.T("common.yourOrganization")))
	return cards.Notice(l, v)
}
