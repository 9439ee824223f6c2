package bot

import (
	"context"
	"errors"
	"fmt"
	"github.com/accessbot/accessbot/internal/i18n"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Admin commands that read (/orgs, /catalogs, /packages, /package, /pending, /expiring, /audit) and the one
// additive change that needs no confirmation (/connect).

// sendAdminTable sends an AdminTable with at most adminTableRows rows.
func (b *Bot) sendAdminTable(ctx context.Context, t *turn, v cards.AdminTableView) error {
	v.Total = max(v.Total, len(v.Rows))
	if len(v.Rows) > adminTableRows {
		v.Rows = v.Rows[:adminTableRows]
	}
	_, err := b.sendCard(ctx, t, cards.AdminTable(t.loc, v))
	return err
}

func orgStateWords(s entitlement.ConnectedOrgState) string {
	switch s {
	case entitlement.OrgConfigured:
		return "configured"
	case entitlement.OrgProposed:
		return "proposed (its users can't request yet)"
	}
	return admOrDash(string(s))
}

func admOrDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func orgSourceWords(o entitlement.ConnectedOrg) string {
	var parts []string
	for _, s := range o.Sources {
		switch s.Kind {
		case entitlement.SourceTenant:
			parts = append(parts, "Entra tenant "+s.TenantID)
		case entitlement.SourceDomain, entitlement.SourceFederation:
			parts = append(parts, "domain "+s.DomainName)
		default:
			parts = append(parts, admOrDash(s.DisplayName))
		}
	}
	return admOrDash(strings.Join(parts, ", "))
}

func (b *Bot) adminOrgs(ctx context.Context, c *adminCall) error {
	if err := admNoArgs(c); err != nil {
		return err
	}
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		return fmt.Errorf("list connected organizations: %w", err)
	}
	admSortByName(orgs, func(o entitlement.ConnectedOrg) string { return o.Name })
	v := cards.AdminTableView{
		Title:     "Connected organizations",
		Subtitle:  fmt.Sprintf("Partner organizations whose users may request %s access packages.", b.tenantName()),
		Columns:   []string{"Organization", "State", "Identity source", "Id"},
		EmptyText: "No connected organizations yet. Add one with /connect {domain or tenant id} [name].",
		Footnote:  "Manage sponsors with /sponsors {org}; remove one with /disconnect {org}.",
	}
	for _, o := range orgs {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{o.Name, orgStateWords(o.State), orgSourceWords(o), o.ID}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(orgs))
	return b.sendAdminTable(ctx, c.t, v)
}

func (b *Bot) adminConnect(ctx context.Context, c *adminCall) error {
	args := c.cmd.Args
	if len(args) == 0 {
		return admUsageErr("connect", "give the partner's domain (fabrikam.example) or Entra tenant id")
	}
	target := strings.TrimSpace(args[0])
	name := strings.TrimSpace(strings.Join(args[1:], " "))
	if n := len([]rune(name)); n > 256 {
		return admUsageErr("connect", "the name is %d characters long; at most 256 are allowed", n)
	}
	var info entitlement.TenantInfo
	switch {
	case admIsGUID(target):
		info = entitlement.TenantInfo{TenantID: strings.ToLower(target)}
	case admDomainRE.MatchString(target) && len(target) <= 253:
		ti, err := b.cfg.Entitlement.TenantByDomain(ctx, target)
		if errors.Is(err, entitlement.ErrNotFound) {
			return &adminError{title: "Unknown domain",
				text:    fmt.Sprintf("/connect: no Microsoft Entra tenant has the domain %q.", target),
				details: []string{"Check the spelling, or give the partner's tenant id."}}
		}
		if err != nil {
			return fmt.Errorf("find tenant by domain %s: %w", target, err)
		}
		info = ti
	default:
		return admUsageErr("connect", "%q is neither a domain name (fabrikam.example) nor a tenant id (a GUID)", target)
	}
	if strings.EqualFold(info.TenantID, b.cfg.Tenant.ID) {
		return &adminError{title: "That is this organization",
			text: fmt.Sprintf("/connect: %s is %s's own tenant; connect partner organizations only.", target, b.tenantName())}
	}
	c.entry.Details = admDetail(c.entry.Details, "tenantId", info.TenantID)
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		return fmt.Errorf("list connected organizations: %w", err)
	}
	for _, o := range orgs {
		if admSameOrg(o, info, target) {
			text := fmt.Sprintf("/connect: %s is already connected as %q (%s).", target, o.Name, o.State)
			details := []string{"Nothing was changed."}
			if o.State == entitlement.OrgProposed {
				details = append(details, "It is proposed: its users can't request until it is configured in the Entra admin center.")
			}
			return &adminError{title: "Already connected", text: text, details: details,
				sugg: []cards.Suggestion{{Title: "Show organizations", Command: "/orgs"}}}
		}
	}
	if name == "" {
		name = info.DisplayName
	}
	if name == "" {
		name = target
	}
	org, err := b.cfg.Entitlement.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{
		Name:        name,
		Description: fmt.Sprintf("Connected by %s with AccessBot", admOrDash(c.t.userName)),
		State:       entitlement.OrgConfigured,
		TenantID:    info.TenantID,
		TenantName:  info.DisplayName,
	})
	if err != nil {
		return fmt.Errorf("create connected organization for tenant %s: %w", info.TenantID, err)
	}
	b.forgetConnectedOrgs()
	c.entry.SubjectID, c.entry.SubjectName = org.ID, org.Name
	c.entry.Outcome = "connected"
	state := org.State
	if state == "" {
		state = entitlement.OrgConfigured
	}
	text := fmt.Sprintf("%s (tenant %s) is now a connected organization, state %s.", org.Name, info.TenantID, state)
	if state == entitlement.OrgConfigured {
		text += " Its users can request the packages whose policies allow connected organizations."
	} else {
		text += " Its users can't request until it is configured."
	}
	return b.sendNotice(ctx, c.t, noticeSuccess, "Connected "+org.Name, text,
		[]cards.Suggestion{{Title: "Add a sponsor", Command: "/sponsors " + admQuote(org.Name)}, {Title: "Organizations", Command: "/orgs"}})
}

// admSameOrg reports whether the connected organization o already covers the tenant info (found for target,
// a domain or tenant id): same tenant, or a domain identity source for the target or the tenant's domain.
func admSameOrg(o entitlement.ConnectedOrg, info entitlement.TenantInfo, target string) bool {
	for _, src := range o.Sources {
		if src.TenantID != "" && strings.EqualFold(src.TenantID, info.TenantID) {
			return true
		}
		if src.DomainName != "" && (strings.EqualFold(src.DomainName, target) || strings.EqualFold(src.DomainName, info.DefaultDomain)) {
			return true
		}
	}
	return false
}

// admQuote quotes a name with spaces so it reads back as one argument.
func admQuote(s string) string {
	if strings.ContainsAny(s, " \t") {
		return `"` + strings.ReplaceAll(s, `"`, "") + `"`
	}
	return s
}

func admDetail(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

func (b *Bot) adminCatalogs(ctx context.Context, c *adminCall) error {
	if err := admNoArgs(c); err != nil {
		return err
	}
	cats, err := b.cfg.Entitlement.Catalogs(ctx)
	if err != nil {
		return fmt.Errorf("list catalogs: %w", err)
	}
	pkgs, err := b.cfg.Entitlement.Packages(ctx)
	if err != nil {
		return fmt.Errorf("list access packages: %w", err)
	}
	count := map[string]int{}
	for _, p := range pkgs {
		count[p.CatalogID]++
	}
	admSortByName(cats, func(c entitlement.Catalog) string { return c.Name })
	v := cards.AdminTableView{
		Title:     "Catalogs",
		Columns:   []string{"Catalog", "State", "Packages", "External users", "Id"},
		EmptyText: "There are no catalogs.",
		Footnote:  "List a catalog's packages with /packages {catalog}.",
	}
	for _, ct := range cats {
		ext := "not visible"
		if ct.IsExternallyVisible {
			ext = "visible"
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{ct.Name, admOrDash(ct.State), strconv.Itoa(count[ct.ID]), ext, ct.ID}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(cats))
	return b.sendAdminTable(ctx, c.t, v)
}

func (b *Bot) adminPackages(ctx context.Context, c *adminCall) error {
	var (
		pkgs []entitlement.Package
		err  error
		sub  = "All access packages, hidden ones included."
	)
	if arg := strings.TrimSpace(strings.Join(c.cmd.Args, " ")); arg != "" {
		cat, rerr := b.resolveCatalog(ctx, "packages", arg)
		if rerr != nil {
			return rerr
		}
		pkgs, err = b.cfg.Entitlement.CatalogPackages(ctx, cat.ID)
		if err != nil {
			return fmt.Errorf("list packages of catalog %s: %w", cat.ID, err)
		}
		for i := range pkgs {
			if pkgs[i].CatalogName == "" {
				pkgs[i].CatalogName = cat.Name
			}
		}
		sub = "Access packages of the catalog " + cat.Name + ", hidden ones included."
		c.entry.Details = admDetail(c.entry.Details, "catalogId", cat.ID)
	} else {
		pkgs, err = b.cfg.Entitlement.Packages(ctx)
		if err != nil {
			return fmt.Errorf("list access packages: %w", err)
		}
	}
	admSortByName(pkgs, func(p entitlement.Package) string { return p.Name })
	v := cards.AdminTableView{
		Title:       "Access packages",
		Subtitle:    sub,
		Columns:     []string{"Package", "Catalog", "Visibility", "Id"},
		EmptyText:   "No access packages.",
		Footnote:    "Details, policies and approvers: /package {name or id}.",
		MoreCommand: "/packages {catalog}",
	}
	for _, p := range pkgs {
		vis := "listed"
		if p.IsHidden {
			vis = "hidden"
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{p.Name, admOrDash(p.CatalogName), vis, p.ID}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(pkgs))
	return b.sendAdminTable(ctx, c.t, v)
}

func (b *Bot) adminPackage(ctx context.Context, c *adminCall) error {
	if handled, err := b.packageBuilderCommand(ctx, c); handled {
		return err
	}
	arg := strings.TrimSpace(strings.Join(c.cmd.Args, " "))
	if arg == "" {
		return admUsageErr("package", "give the package's name or id")
	}
	found, err := b.resolvePackage(ctx, "package", arg)
	if err != nil {
		return err
	}
	pkg, err := b.cfg.Entitlement.Package(ctx, found.ID)
	if err != nil {
		return fmt.Errorf("read access package %s: %w", found.ID, err)
	}
	pols, err := b.cfg.Entitlement.Policies(ctx, pkg.ID)
	if err != nil {
		return fmt.Errorf("list policies of package %s: %w", pkg.ID, err)
	}
	c.entry.PackageID, c.entry.PackageName = pkg.ID, pkg.Name
	c.entry.Outcome = "viewed"
	v := cards.PackageDetailsView{
		ID:           pkg.ID,
		Name:         pkg.Name,
		Description:  pkg.Description,
		CatalogName:  orUnknown(pkg.CatalogName, found.CatalogName),
		Hidden:       pkg.IsHidden,
		TenantDomain: b.cfg.Tenant.Domain,
		Editable:     b.cfg.Builder != nil,
		Incompatible: b.incompatibleNames(ctx, c.t, pkg.ID),
	}
	for _, r := range pkg.Resources {
		v.Resources = append(v.Resources, cards.ResourceRoleView{Resource: r.ResourceName, Kind: admResourceKind(r), Role: r.RoleName})
	}
	names := newAdmNamer(b)
	for _, p := range pols {
		pv := cards.PolicyDetailView{
			ID:                    p.ID,
			Name:                  p.Name,
			WhoCanRequest:         admScopeWords(p, func(id string) string { return names.org(ctx, id) }),
			Expiry:                admExpiryWords(p.Expiration),
			JustificationRequired: p.RequestorJustificationRequired,
			CustomSchedule:        p.CustomScheduleAllowed,
		}
		if p.ApprovalRequired {
			for _, s := range p.Stages {
				sv := cards.StageView{
					Approvers:             names.sets(ctx, s.PrimaryApprovers),
					Fallback:              names.sets(ctx, s.FallbackPrimaryApprovers),
					JustificationRequired: s.ApproverJustificationRequired,
				}
				if s.DurationBeforeAutomaticDenial != "" {
					sv.Timeout = admDurationWords(s.DurationBeforeAutomaticDenial)
				}
				if s.EscalationEnabled {
					sv.Escalation = "after " + admDurationWords(s.DurationBeforeEscalation)
					if to := names.sets(ctx, s.EscalationApprovers); len(to) > 0 {
						sv.Escalation += " to " + strings.Join(to, ", ")
					}
				}
				pv.Stages = append(pv.Stages, sv)
			}
		}
		for _, q := range p.Questions {
			qt := q.Text
			if q.Required {
				qt += " (required)"
			}
			pv.Questions = append(pv.Questions, qt)
		}
		v.Policies = append(v.Policies, pv)
	}
	_, err = b.sendCard(ctx, c.t, cards.PackageDetails(c.t.loc, v))
	return err
}

// admResourceKind names a resource's kind for people ("Group", "SharePoint site", "App").
func admResourceKind(r entitlement.ResourceRole) string {
	switch strings.ToLower(r.OriginSystem) {
	case "aadgroup":
		return "Group"
	case "sharepointonline":
		return "SharePoint site"
	case "aadapplication":
		return "App"
	}
	return r.ResourceType
}

// admNamer resolves ids (users, groups, organizations) to names for one command, each at most once.
type admNamer struct {
	b     *Bot
	users map[string]string
	orgs  map[string]string
}

func newAdmNamer(b *Bot) *admNamer {
	return &admNamer{b: b, users: map[string]string{}, orgs: map[string]string{}}
}

func (n *admNamer) user(ctx context.Context, id, fallback string) string {
	if v, ok := n.users[id]; ok {
		return v
	}
	name := fallback
	if u, err := n.b.cfg.Entitlement.User(ctx, id); err == nil && u.Name != "" {
		name = u.Name
	} else if err != nil {
		n.b.log.DebugContext(ctx, "resolve approver name", "user", id, "err", err)
	}
	if name == "" {
		name = id
	}
	n.users[id] = name
	return name
}

func (n *admNamer) org(ctx context.Context, id string) string {
	if v, ok := n.orgs[id]; ok {
		return v
	}
	name := id
	if o, err := n.b.cfg.Entitlement.ConnectedOrg(ctx, id); err == nil && o.Name != "" {
		name = o.Name
	}
	n.orgs[id] = name
	return name
}

// sets describes approver rules in words ("Requestor's manager", "Falcon Security Reviewers (group)").
func (n *admNamer) sets(ctx context.Context, ss []entitlement.SubjectSet) []string {
	var out []string
	for _, s := range ss {
		var w string
		switch s.Kind {
		case entitlement.SetSingleUser:
			w = n.user(ctx, s.UserID, s.Description)
		case entitlement.SetGroupMembers:
			w = orUnknown(s.Description, s.GroupID) + " (group)"
		case entitlement.SetRequestorManager:
			w = "Requestor's manager"
			if s.ManagerLevel > 1 {
				w = fmt.Sprintf("Requestor's manager (level %d)", s.ManagerLevel)
			}
		case entitlement.SetInternalSponsors:
			w = "Internal sponsors"
		case entitlement.SetExternalSponsors:
			w = "External sponsors"
		case entitlement.SetConnectedOrganizationMembers:
			w = "Members of " + n.org(ctx, s.ConnectedOrgID)
		case entitlement.SetTargetUserSponsors:
			w = "The requestor's sponsors"
		default:
			w = orUnknown(s.Description, string(s.Kind))
		}
		if s.IsBackup {
			w += " (backup, notified only)"
		}
		out = append(out, w)
	}
	return out
}

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
	if err := b.eachBrokered(ctx, func(br *brokeredRequest) error {
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
		return 0, admUsageErr("expiring", "expected at most one argument (days), got %d", len(args))
	}
	n, err := strconv.Atoi(strings.TrimSpace(args[0]))
	if err != nil || n < 1 || n > adminExpiringMax {
		return 0, admUsageErr("expiring", "days must be a whole number between 1 and %d, got %q", adminExpiringMax, args[0])
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
		States: []entitlement.AssignmentState{entitlement.AssignmentDelivered, entitlement.AssignmentPartiallyDelivered}})
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
	q := store.AuditQuery{Limit: adminAuditFetch}
	sub := "Most recent first; times in UTC."
	args, page := auditPage(c.cmd.Args)
	if arg := strings.TrimSpace(strings.Join(args, " ")); arg != "" {
		p, perr := b.resolvePackage(ctx, "audit", arg)
		var ae *adminError
		switch {
		case perr == nil:
			q.PackageID = p.ID
			sub = "Entries about the package " + p.Name + ", most recent first; times in UTC."
			c.entry.PackageID, c.entry.PackageName = p.ID, p.Name
		case errors.As(perr, &ae) && ae.title == "No such package":
			u, uerr := b.resolveUser(ctx, "audit", arg)
			if uerr != nil {
				if errors.As(uerr, &ae) && ae.title == "No such user" {
					return &adminError{title: "Nothing matches",
						text:    fmt.Sprintf("/audit: %q is neither a package nor a user.", arg),
						details: []string{"Give a package name or id, or a user's sign-in name, mail or object id."}}
				}
				return uerr
			}
			q.SubjectID = u.ID
			sub = "Entries about or by " + admUserLabel(u) + ", most recent first; times in UTC."
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
		Title:     "Audit log",
		Subtitle:  sub,
		Columns:   []string{"When", "Who", "Action", "About", "Outcome"},
		EmptyText: "No audit entries match.",
	}
	total := len(entries)
	from := min((page-1)*adminTableRows, total)
	entries = entries[from:]
	if page > 1 {
		v.Subtitle = fmt.Sprintf("%s Page %d: entries %d to %d of %d.", sub, page, from+1, min(from+adminTableRows, total), total)
	}
	for _, e := range entries {
		v.Rows = append(v.Rows, auditRow(e))
	}
	v.Total = len(entries)
	if len(entries) > adminTableRows {
		// The "…and N more" line names the command that shows the next page, and a button runs it.
		next := strings.TrimSpace("/audit " + strings.Join(args, " ") + fmt.Sprintf(" page %d", page+1))
		v.MoreCommand = next
		v.MoreAction = &cards.Suggestion{Title: "Show older entries", Command: next}
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

// auditRow is one audit entry as a table row. A refused command says what was attempted ("/assign Rita
// Falcon…") and on what, instead of a bare "refused".
func auditRow(e store.AuditEntry) cards.AdminRow {
	who := orUnknown(e.ActorName, e.ActorID)
	if who == "" {
		who = "AccessBot"
	}
	about := strings.TrimSpace(strings.Join(admNonEmpty(orUnknown(e.SubjectName, e.SubjectID), e.PackageName), " · "))
	action := strings.TrimPrefix(e.Action, "admin.")
	if e.Mode != store.ModeAdmin {
		action += " (" + e.Mode + ")"
	}
	outcome := e.Outcome
	if e.Action == "admin.refused" {
		cmd, typed := e.Details["command"], e.Details["typed"]
		action = "refused " + orUnknown(cmd, "an admin command")
		if rest := strings.TrimSpace(strings.TrimPrefix(typed, cmd)); rest != "" && about == "" {
			about = admClip(rest, 60)
		}
		outcome = "refused: " + who + " is not an AccessBot admin; nothing was changed"
	}
	return cards.AdminRow{Cells: []string{e.Time.UTC().Format("Jan 2 15:04"), who, action,
		admOrDash(about), admOrDash(admClip(outcome, 80))}}
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
