package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// Admin commands that read the directory (/orgs, /catalogs, /packages, /package) and the one additive change
// that needs no confirmation (/connect). /pending, /expiring and /audit are in admin_activity.go.

// sendAdminTable sends an AdminTable with at most adminTableRows rows.
func (b *Bot) sendAdminTable(ctx context.Context, t *turn, v cards.AdminTableView) error {
	v.Total = max(v.Total, len(v.Rows))
	if len(v.Rows) > adminTableRows {
		v.Rows = v.Rows[:adminTableRows]
	}
	_, err := b.sendCard(ctx, t, cards.AdminTable(t.loc, v))
	return err
}

// orgStateWords describes a connected organization's state in l's language.
func orgStateWords(l *i18n.Localizer, s entitlement.ConnectedOrgState) string {
	switch s {
	case entitlement.OrgConfigured:
		return l.T("adm.org.configured")
	case entitlement.OrgProposed:
		return l.T("adm.org.proposed")
	}
	return admOrDash(string(s))
}

// orgStateWord names a connected organization's state in one word of l's language.
func orgStateWord(l *i18n.Localizer, s entitlement.ConnectedOrgState) string {
	if s == entitlement.OrgProposed {
		return l.T("adm.org.proposedShort")
	}
	return orgStateWords(l, s)
}

func admOrDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// orgSourceWords lists a connected organization's identity sources in l's language.
func orgSourceWords(l *i18n.Localizer, o entitlement.ConnectedOrg) string {
	var parts []string
	for _, s := range o.Sources {
		switch s.Kind {
		case entitlement.SourceTenant:
			parts = append(parts, l.T("adm.org.tenantSource", "ID", s.TenantID))
		case entitlement.SourceDomain, entitlement.SourceFederation:
			parts = append(parts, l.T("adm.org.domainSource", "Domain", s.DomainName))
		default:
			parts = append(parts, admOrDash(s.DisplayName))
		}
	}
	return admOrDash(l.List(parts))
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
	l := c.t.loc
	v := cards.AdminTableView{
		Title:     l.T("adm.orgs.title"),
		Subtitle:  l.T("adm.orgs.subtitle", "Tenant", b.tenantName(l)),
		Columns:   []string{l.T("adm.organization"), l.T("adm.state"), l.T("adm.identitySource"), l.T("adm.id")},
		EmptyText: l.T("adm.orgs.empty"),
		Footnote:  l.T("adm.orgs.footnote"),
	}
	for _, o := range orgs {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{o.Name, orgStateWords(l, o.State), orgSourceWords(l, o), o.ID}})
	}
	c.entry.Outcome = fmt.Sprintf("listed %d", len(orgs))
	return b.sendAdminTable(ctx, c.t, v)
}

func (b *Bot) adminConnect(ctx context.Context, c *adminCall) error {
	l := c.t.loc
	args := c.cmd.Args
	if len(args) == 0 {
		return admUsageErr("connect", "adm.usage.connectTarget")
	}
	target := strings.TrimSpace(args[0])
	name := strings.TrimSpace(strings.Join(args[1:], " "))
	if n := len([]rune(name)); n > 256 {
		return admUsageErr("connect", "adm.usage.connectName", "Got", n)
	}
	info, err := b.connectTarget(ctx, l, target)
	if err != nil {
		return err
	}
	c.entry.Details = admDetail(c.entry.Details, "tenantId", info.TenantID)
	if err := b.refuseConnected(ctx, l, info, target); err != nil {
		return err
	}
	if name == "" {
		name = info.DisplayName
	}
	if name == "" {
		name = target
	}
	org, err := b.cfg.Entitlement.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{
		Name:        name,
		Description: i18n.English().T("adm.connect.description", "Admin", admOrDash(c.t.userName)), // stored in Entra: the tenant's language
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
	id := "adm.connect.doneProposed"
	if state == entitlement.OrgConfigured {
		id = "adm.connect.doneConfigured"
	}
	text := l.T(id, "Name", org.Name, "ID", info.TenantID, "State", orgStateWord(l, state))
	return b.sendNotice(ctx, c.t, noticeSuccess, l.T("adm.connect.done", "Name", org.Name), text,
		[]cards.Suggestion{{Title: l.T("adm.connect.addSponsor"), Command: "/sponsors " + admQuote(org.Name)}, {Title: l.T("adm.connect.orgs"), Command: "/orgs"}})
}

// connectTarget finds the tenant /connect names (a tenant id, or a verified domain of it); another tenant
// than the bot's own.
func (b *Bot) connectTarget(ctx context.Context, l *i18n.Localizer, target string) (entitlement.TenantInfo, error) {
	var info entitlement.TenantInfo
	switch {
	case admIsGUID(target):
		info = entitlement.TenantInfo{TenantID: strings.ToLower(target)}
	case admDomainRE.MatchString(target) && len(target) <= 253:
		ti, err := b.cfg.Entitlement.TenantByDomain(ctx, target)
		if errors.Is(err, entitlement.ErrNotFound) {
			return info, &adminError{title: l.T("adm.connect.unknownDomain"),
				text:    l.T("adm.connect.unknownDomainText", "Domain", strconv.Quote(target)),
				details: []string{l.T("adm.connect.unknownDomainHint")}}
		}
		if err != nil {
			return info, fmt.Errorf("find tenant by domain %s: %w", target, err)
		}
		info = ti
	default:
		return info, admUsageErr("connect", "adm.usage.connectBad", "Got", strconv.Quote(target))
	}
	if strings.EqualFold(info.TenantID, b.cfg.Tenant.ID) {
		return info, &adminError{title: l.T("adm.connect.self"),
			text: l.T("adm.connect.selfText", "Target", target, "Tenant", b.tenantName(l))}
	}
	return info, nil
}

// refuseConnected refuses /connect for a tenant a connected organization already covers (nil when none does).
func (b *Bot) refuseConnected(ctx context.Context, l *i18n.Localizer, info entitlement.TenantInfo, target string) error {
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		return fmt.Errorf("list connected organizations: %w", err)
	}
	for _, o := range orgs {
		if admSameOrg(o, info, target) {
			text := l.T("adm.connect.alreadyText", "Target", target, "Name", strconv.Quote(o.Name), "State", orgStateWord(l, o.State))
			details := []string{l.T("adm.confirm.nothingChanged")}
			if o.State == entitlement.OrgProposed {
				details = append(details, l.T("adm.connect.alreadyProposed"))
			}
			return &adminError{title: l.T("adm.connect.already"), text: text, details: details,
				sugg: []cards.Suggestion{{Title: l.T("adm.connect.showOrgs"), Command: "/orgs"}}}
		}
	}
	return nil
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
	l := c.t.loc
	v := cards.AdminTableView{
		Title:     l.T("adm.catalogs.title"),
		Columns:   []string{l.T("adm.col.catalog"), l.T("adm.state"), l.T("adm.col.packages"), l.T("adm.col.externalUsers"), l.T("adm.id")},
		EmptyText: l.T("adm.catalogs.empty"),
		Footnote:  l.T("adm.catalogs.footnote"),
	}
	for _, ct := range cats {
		ext := l.T("adm.catalogs.notVisible")
		if ct.IsExternallyVisible {
			ext = l.T("adm.catalogs.visible")
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
		l    = c.t.loc
		sub  = l.T("adm.packages.subtitle")
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
		sub = l.T("adm.packages.subtitleCatalog", "Catalog", cat.Name)
		c.entry.Details = admDetail(c.entry.Details, "catalogId", cat.ID)
	} else {
		pkgs, err = b.cfg.Entitlement.Packages(ctx)
		if err != nil {
			return fmt.Errorf("list access packages: %w", err)
		}
	}
	admSortByName(pkgs, func(p entitlement.Package) string { return p.Name })
	v := cards.AdminTableView{
		Title:       l.T("adm.packages.title"),
		Subtitle:    sub,
		Columns:     []string{l.T("adm.package"), l.T("adm.col.catalog"), l.T("adm.col.visibility"), l.T("adm.id")},
		EmptyText:   l.T("adm.packages.empty"),
		Footnote:    l.T("adm.packages.footnote"),
		MoreCommand: "/packages {catalog}",
	}
	for _, p := range pkgs {
		vis := l.T("adm.packages.listed")
		if p.IsHidden {
			vis = l.T("adm.packages.hidden")
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
		return admUsageErr("package", "adm.usage.packageName")
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
		v.Resources = append(v.Resources, cards.ResourceRoleView{Resource: r.ResourceName, Kind: resourceKind(c.t.loc, r), Role: r.RoleName})
	}
	names := newAdmNamer(b, c.t.loc)
	for _, p := range pols {
		pv := cards.PolicyDetailView{
			ID:                    p.ID,
			Name:                  p.Name,
			WhoCanRequest:         admScopeWords(c.t.loc, p, func(id string) string { return names.org(ctx, id) }),
			Expiry:                admExpiryWords(c.t.loc, p.Expiration),
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
					sv.Timeout = admDurationWords(c.t.loc, s.DurationBeforeAutomaticDenial)
				}
				if s.EscalationEnabled {
					sv.Escalation = c.t.loc.T("adm.pkg.escalation", "After", admDurationWords(c.t.loc, s.DurationBeforeEscalation),
						"To", c.t.loc.Or(names.sets(ctx, s.EscalationApprovers)))
				}
				pv.Stages = append(pv.Stages, sv)
			}
		}
		for _, q := range p.Questions {
			qt := q.Text
			if q.Required {
				qt = c.t.loc.T("adm.pkg.required", "Question", q.Text)
			}
			pv.Questions = append(pv.Questions, qt)
		}
		v.Policies = append(v.Policies, pv)
	}
	_, err = b.sendCard(ctx, c.t, cards.PackageDetails(c.t.loc, v))
	return err
}

// admNamer resolves ids (users, groups, organizations) to names for one command, each at most once, and
// describes approver rules in l's language.
type admNamer struct {
	b     *Bot
	l     *i18n.Localizer
	users map[string]string
	orgs  map[string]string
}

func newAdmNamer(b *Bot, l *i18n.Localizer) *admNamer {
	return &admNamer{b: b, l: l, users: map[string]string{}, orgs: map[string]string{}}
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
			w = n.l.T("resource.groupNamed", "Name", orUnknown(s.Description, s.GroupID))
		case entitlement.SetRequestorManager:
			w = n.l.T("adm.set.manager")
			if s.ManagerLevel > 1 {
				w = n.l.T("adm.set.managerLevel", "Level", s.ManagerLevel)
			}
		case entitlement.SetInternalSponsors:
			w = n.l.T("adm.set.internalSponsors")
		case entitlement.SetExternalSponsors:
			w = n.l.T("adm.set.externalSponsors")
		case entitlement.SetConnectedOrganizationMembers:
			w = n.l.T("adm.set.orgMembers", "Org", n.org(ctx, s.ConnectedOrgID))
		case entitlement.SetTargetUserSponsors:
			w = n.l.T("adm.set.requestorSponsors")
		default:
			w = orUnknown(s.Description, string(s.Kind))
		}
		if s.IsBackup {
			w = n.l.T("adm.set.backup", "Who", w)
		}
		out = append(out, w)
	}
	return out
}
