package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// Admin commands that read request activity: /pending, /expiring and /audit.

func (b *Bot) adminPending(ctx context.Context, c *adminCall) error {
	l := c.t.loc
	f := entitlement.RequestFilter{States: []entitlement.RequestState{entitlement.StatePendingApproval, entitlement.StateSubmitted}}
	sub := l.T("admin.pending.subtitle")
	if arg := strings.TrimSpace(strings.Join(c.cmd.Args, " ")); arg != "" {
		p, err := b.resolvePackage(ctx, "pending", arg)
		if err != nil {
			return err
		}
		f.PackageID = p.ID
		c.entry.PackageID, c.entry.PackageName = p.ID, p.Name
		sub = l.T("admin.pending.subtitlePackage", "Package", p.Name)
	}
	graphReqs, err := b.cfg.Entitlement.Requests(ctx, f)
	if err != nil {
		return fmt.Errorf("list pending requests: %w", err)
	}
	type pendingRow struct {
		r     entitlement.Request
		state string
	}
	var rows []pendingRow
	for _, r := range graphReqs {
		rows = append(rows, pendingRow{r, cards.StateLabel(l, cards.RequestState(r.State))})
	}
	brokered := 0
	// Requests the bot runs itself for partner users (brokered) wait in its own store, not in Entra.
	if err := b.eachOpenBrokered(ctx, func(br *brokeredRequest) error {
		if br.Canceled || br.State != entitlement.StatePendingApproval || (f.PackageID != "" && br.PackageID != f.PackageID) {
			return nil
		}
		state := l.T("admin.pending.brokered", "State", cards.StateLabel(l, cards.StatePendingApproval))
		if cur := br.Current(); cur != nil && br.StageCount > 0 {
			state = l.T("admin.pending.brokeredStage", "State", cards.StateLabel(l, cards.StatePendingApproval),
				"Stage", cur.Index, "Stages", br.StageCount)
		}
		brokered++
		rows = append(rows, pendingRow{entitlement.Request{ID: br.ID, State: br.State, PackageID: br.PackageID,
			PackageName: br.PackageName, CreatedAt: br.CreatedAt, Requestor: entitlement.Subject{Name: br.Requester.Name,
				Email: br.Requester.Email, TenantID: br.Requester.TenantID, ConnectedOrgID: br.Requester.OrgID}}, state})
		return nil
	}); err != nil {
		return fmt.Errorf("list brokered requests: %w", err)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].r.CreatedAt.Before(rows[j].r.CreatedAt) })
	now := b.now()
	v := cards.AdminTableView{
		Title:    l.T("admin.pending.title"),
		Subtitle: sub,
		Columns: []string{l.T("admin.col.requestor"), l.T("admin.col.package"), l.T("admin.col.state"),
			l.T("admin.col.submitted"), l.T("admin.col.waiting")},
		EmptyText:   l.T("admin.pending.empty"),
		MoreCommand: "/pending {package}",
	}
	if brokered > 0 {
		v.Footnote = l.T("admin.pending.brokeredNote")
	}
	for _, row := range rows {
		r := row.r
		wait := "—"
		if !r.CreatedAt.IsZero() {
			wait = admRoughDuration(l, now.Sub(r.CreatedAt))
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{admSubjectLabel(r.Requestor), admOrDash(r.PackageName),
			row.state, admStamp(r.CreatedAt), wait}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(rows))
	return b.sendAdminTable(ctx, c.t, v)
}

// admRoughDuration is "3 days", "5 hours", "12 minutes", rounded the way people count: an assignment that
// ends in 364 days and 23 hours ends "in 365 days".
func admRoughDuration(l *i18n.Localizer, d time.Duration) string {
	switch {
	case d < 0:
		return "—"
	case d >= 47*time.Hour+30*time.Minute:
		return l.N("duration.days", int(math.Round(d.Hours()/24)))
	case d >= 2*time.Hour-30*time.Second:
		return l.N("duration.hours", int(math.Round(d.Hours())))
	case d >= time.Minute:
		return l.N("duration.minutes", int(math.Round(d.Minutes())))
	}
	return l.T("duration.lessThanMinute")
}

// parseExpiringDays validates the /expiring argument.
func parseExpiringDays(args []string) (int, error) {
	switch len(args) {
	case 0:
		return adminExpiringDefault, nil
	case 1:
	default:
		return 0, admUsageErr("expiring", "adm.usage.expiringArgs", "Got", len(args))
	}
	n, err := strconv.Atoi(strings.TrimSpace(args[0]))
	if err != nil || n < 1 || n > adminExpiringMax {
		return 0, admUsageErr("expiring", "adm.usage.expiringDays", "Max", adminExpiringMax, "Got", strconv.Quote(args[0]))
	}
	return n, nil
}

func (b *Bot) adminExpiring(ctx context.Context, c *adminCall) error {
	days, err := parseExpiringDays(c.cmd.Args)
	if err != nil {
		return err
	}
	now := b.now()
	until := now.Add(time.Duration(days) * 24 * time.Hour)
	as, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{ExpiringBefore: until,
		States: entitlement.GrantingAssignmentStates()})
	if err != nil {
		return fmt.Errorf("list expiring assignments: %w", err)
	}
	var keep []entitlement.Assignment
	for _, a := range as {
		end := a.EndsAt()
		if end.IsZero() || end.Before(now) || end.After(until) {
			continue
		}
		keep = append(keep, a)
	}
	sort.SliceStable(keep, func(i, j int) bool { return keep[i].EndsAt().Before(keep[j].EndsAt()) })
	l := c.t.loc
	v := cards.AdminTableView{
		Title:    l.T("admin.expiring.title"),
		Subtitle: l.T("admin.expiring.subtitle", "Days", l.N("duration.days", days)),
		Columns: []string{l.T("admin.col.user"), l.T("admin.col.package"), l.T("admin.col.ends"),
			l.T("admin.col.in")},
		EmptyText:   l.T("admin.expiring.empty", "Days", l.N("duration.days", days)),
		MoreCommand: "/expiring {fewer days}",
	}
	for _, a := range keep {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{admSubjectLabel(a.Target), admOrDash(a.PackageName),
			admStamp(a.EndsAt()), admRoughDuration(l, a.EndsAt().Sub(now))}})
	}
	c.entry.Details = admDetail(c.entry.Details, "days", strconv.Itoa(days))
	c.entry.Outcome = fmt.Sprintf("listed %d", len(keep))
	return b.sendAdminTable(ctx, c.t, v)
}

func (b *Bot) adminAudit(ctx context.Context, c *adminCall) error {
	l := c.t.loc
	q := store.AuditQuery{Limit: adminAuditFetch}
	sub := l.T("audit.subtitle")
	args, page := auditPage(c.cmd.Args)
	if arg := strings.TrimSpace(strings.Join(args, " ")); arg != "" {
		p, perr := b.resolvePackage(ctx, "audit", arg)
		var ae *adminError
		switch {
		case perr == nil:
			q.PackageID = p.ID
			sub = l.T("audit.subtitlePackage", "Package", p.Name)
			c.entry.PackageID, c.entry.PackageName = p.ID, p.Name
		case errors.As(perr, &ae) && ae.is("adm.noSuch.package"):
			u, uerr := b.resolveUser(ctx, "audit", arg)
			if uerr != nil {
				if errors.As(uerr, &ae) && ae.is("adm.noSuch.user") {
					return userErr("adm.audit.nothing", "adm.audit.nothingText", "Arg", strconv.Quote(arg)).withDetails("adm.audit.give")
				}
				return uerr
			}
			q.SubjectID = u.ID
			sub = l.T("audit.subtitleUser", "User", admUserLabel(u))
			c.entry.SubjectID, c.entry.SubjectName = u.ID, u.Name
		default:
			return perr
		}
	}
	entries, err := b.cfg.Store.Audit(ctx, q)
	if err != nil {
		return fmt.Errorf("read audit log: %w", err)
	}
	if q.SubjectID != "" {
		// A user's entries are those about them and those they made (requests, decisions, admin commands).
		byUser, err := b.cfg.Store.Audit(ctx, store.AuditQuery{ActorID: q.SubjectID, Limit: q.Limit})
		if err != nil {
			return fmt.Errorf("read audit log: %w", err)
		}
		seen := map[uint64]bool{}
		for _, e := range entries {
			seen[e.Seq] = true
		}
		for _, e := range byUser {
			if !seen[e.Seq] {
				entries = append(entries, e)
			}
		}
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].Seq > entries[j].Seq })
	}
	v := cards.AdminTableView{
		Title:    l.T("audit.title"),
		Subtitle: sub,
		Columns: []string{l.T("audit.col.when"), l.T("audit.col.who"), l.T("audit.col.action"), l.T("audit.col.about"),
			l.T("audit.col.outcome")},
		EmptyText: l.T("audit.empty"),
	}
	total := len(entries)
	from := min((page-1)*adminTableRows, total)
	entries = entries[from:]
	if page > 1 {
		v.Subtitle = l.T("audit.page", "Subtitle", sub, "Page", page, "From", from+1, "To", min(from+adminTableRows, total), "Total", total)
	}
	for _, e := range entries {
		v.Rows = append(v.Rows, auditRow(l, e))
	}
	v.Total = len(entries)
	if len(entries) > adminTableRows {
		// The "…and N more" line names the command that shows the next page, and a button runs it.
		next := "/audit " + strings.Join(append(slices.Clone(args), "page", strconv.Itoa(page+1)), " ")
		v.MoreCommand = next
		v.MoreAction = &cards.Suggestion{Title: l.T("audit.older"), Command: next}
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", total)
	return b.sendAdminTable(ctx, c.t, v)
}

// auditPage splits a trailing "page N" off the /audit arguments; page is 1 without it.
func auditPage(args []string) ([]string, int) {
	if n := len(args); n >= 2 && strings.EqualFold(args[n-2], "page") {
		if p, err := strconv.Atoi(args[n-1]); err == nil && p >= 1 {
			return args[:n-2], p
		}
	}
	return args, 1
}

// auditRow is one audit entry as a table row in l's language: the action by its label (the code itself when
// no catalog names it; an admin command by its command word), the outcome by its label when it is one of the
// words the bot records. A refused command says what was attempted ("/assign Rita Falcon…") and on what,
// instead of a bare "refused". Names and typed text are shown as recorded.
func auditRow(l *i18n.Localizer, e store.AuditEntry) cards.AdminRow {
	who := orUnknown(e.ActorName, e.ActorID)
	if who == "" {
		who = "AccessBot"
	}
	about := strings.TrimSpace(strings.Join(admNonEmpty(orUnknown(e.SubjectName, e.SubjectID), e.PackageName), " · "))
	action := auditActionLabel(l, e.Action)
	if e.Mode != store.ModeAdmin && e.Mode != "" {
		action = l.T("audit.withMode", "Action", action, "Mode", localOr(l, "audit.mode."+e.Mode, e.Mode))
	}
	outcome := auditOutcomeLabel(l, e.Outcome)
	if e.Action == "admin.refused" {
		cmd, typed := e.Details["command"], e.Details["typed"]
		action = l.T("audit.refused.action", "Command", orUnknown(cmd, l.T("audit.refused.anyCommand")))
		if rest := strings.TrimSpace(strings.TrimPrefix(typed, cmd)); rest != "" && about == "" {
			about = admClip(rest, 60)
		}
		outcome = l.T("audit.refused.outcome", "Who", who)
	}
	return cards.AdminRow{Cells: []string{e.Time.UTC().Format("2006-01-02 15:04"), who, action,
		admOrDash(about), admOrDash(admClip(outcome, 80))}}
}

// auditActionLabel names a recorded action code: an admin command by its (English) command word, any other
// by its label, else the code.
func auditActionLabel(l *i18n.Localizer, code string) string {
	if cmd, ok := strings.CutPrefix(code, "admin."); ok {
		return cmd
	}
	return localOr(l, "audit.action."+code, code)
}

// auditOutcomes are the outcome words the bot records, by their catalog ids.
var auditOutcomes = map[string]string{"rejected": "rejected", "confirmation requested": "confirmationRequested",
	"viewed": "viewed", "submitted": "submitted", "connected": "connected", "canceled": "canceled", "cancelled": "canceled",
	"recorded": "recorded", "done": "done", "sent": "sent", "removal requested": "removalRequested",
	"already-decided": "alreadyDecided", "retrying": "retrying", "ok": "ok", "found": "found", "filed": "filed",
	"failed": "failed", "undone": "undone", "denied": "denied", "approved": "approved", "escalated": "escalated",
	"accepted": "accepted", "refused": "refused"}

// auditOutcomeLabel is a recorded outcome in l's language when it is one of the bot's outcome words or
// "listed N"; any other outcome is shown as recorded.
func auditOutcomeLabel(l *i18n.Localizer, outcome string) string {
	if id, ok := auditOutcomes[outcome]; ok {
		return l.T("audit.outcome." + id)
	}
	if n, ok := strings.CutPrefix(outcome, "listed "); ok {
		if count, err := strconv.Atoi(n); err == nil {
			return l.N("audit.outcome.listed", count)
		}
	}
	return outcome
}

func admNonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if strings.TrimSpace(x) != "" {
			out = append(out, x)
		}
	}
	return out
}
