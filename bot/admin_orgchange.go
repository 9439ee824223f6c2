package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// Admin commands that change a connected organization and ask for confirmation first: /disconnect and
// /sponsors … remove (/sponsors without an action or with add acts at once).

func (b *Bot) adminDisconnect(ctx context.Context, c *adminCall) error {
	arg := strings.TrimSpace(strings.Join(c.cmd.Args, " "))
	if arg == "" {
		return admUsageErr("disconnect", "adm.usage.giveOrgLong")
	}
	org, err := b.resolveOrg(ctx, "disconnect", arg)
	if err != nil {
		return err
	}
	c.entry.SubjectID, c.entry.SubjectName = org.ID, org.Name
	l := c.t.loc
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opDisconnect, OrgID: org.ID, OrgName: org.Name}, cards.AdminConfirmView{
		Title:   l.T("adm.disconnect.title", "Org", org.Name),
		Summary: l.T("adm.disconnect.summary", "Org", org.Name, "Tenant", b.tenantName(l)),
		Details: []cards.Fact{
			{Title: l.T("adm.organization"), Value: org.Name},
			{Title: l.T("adm.state"), Value: orgStateWords(l, org.State)},
			{Title: l.T("adm.identitySource"), Value: orgSourceWords(l, org)},
			{Title: l.T("adm.id"), Value: org.ID},
		},
		ConfirmLabel: l.T("adm.disconnect.confirm"),
		Irreversible: true,
	})
}

// sponsorsArgs splits "/sponsors <org> [add|remove [internal|external] <user>]".
type sponsorsArgs struct {
	org    string
	action string // "", add, remove
	kind   entitlement.SponsorKind
	user   string
}

func parseSponsorsArgs(args []string) (sponsorsArgs, error) {
	var sa sponsorsArgs
	k := -1
	for i, a := range args {
		if l := strings.ToLower(a); l == "add" || l == "remove" {
			k = i
			break
		}
	}
	if k < 0 {
		sa.org = strings.TrimSpace(strings.Join(args, " "))
		if sa.org == "" {
			return sa, admUsageErr("sponsors", "adm.usage.give.organization")
		}
		return sa, nil
	}
	if k == 0 {
		return sa, admUsageErr("sponsors", "adm.usage.orgBefore", "Got", strconv.Quote(args[0]))
	}
	sa.org = strings.Join(args[:k], " ")
	sa.action = strings.ToLower(args[k])
	rest := args[k+1:]
	if len(rest) > 0 {
		switch strings.ToLower(rest[0]) {
		case "internal":
			sa.kind, rest = entitlement.SponsorInternal, rest[1:]
		case "external":
			sa.kind, rest = entitlement.SponsorExternal, rest[1:]
		}
	}
	sa.user = strings.TrimSpace(strings.Join(rest, " "))
	if sa.user == "" {
		return sa, admUsageErr("sponsors", "adm.usage.userTo", "Action", sa.action)
	}
	return sa, nil
}

func (b *Bot) adminSponsors(ctx context.Context, c *adminCall) error {
	sa, err := parseSponsorsArgs(c.cmd.Args)
	if err != nil {
		return err
	}
	org, err := b.resolveOrg(ctx, "sponsors", sa.org)
	if err != nil {
		var ae *adminError
		if sa.action == "" && len(c.cmd.Args) > 1 && errors.As(err, &ae) && ae.is("adm.noSuch.organization") {
			// "/sponsors Fabrikam ad rita@…": the organization resolves alone, the action word is wrong.
			if _, err2 := b.resolveOrg(ctx, "sponsors", c.cmd.Args[0]); err2 == nil {
				return admUsageErr("sponsors", "adm.usage.addOrRemove", "Got", strconv.Quote(c.cmd.Args[1]))
			}
		}
		return err
	}
	c.entry.Details = admDetail(c.entry.Details, "orgId", org.ID)
	sp, err := b.cfg.Entitlement.Sponsors(ctx, org.ID)
	if err != nil {
		return fmt.Errorf("list sponsors of %s: %w", org.ID, err)
	}
	switch sa.action {
	case "":
		return b.showSponsors(ctx, c, org, sp)
	case "add":
		return b.addSponsor(ctx, c, org, sp, sa)
	}
	return b.removeSponsor(ctx, c, org, sp, sa)
}

func (b *Bot) showSponsors(ctx context.Context, c *adminCall, org entitlement.ConnectedOrg, sp entitlement.Sponsors) error {
	l := c.t.loc
	v := cards.AdminTableView{
		Title:     l.T("adm.sponsors.title", "Org", org.Name),
		Subtitle:  l.T("adm.sponsors.subtitle"),
		Columns:   []string{l.T("adm.sponsor"), l.T("adm.kind"), l.T("adm.col.signIn")},
		EmptyText: l.T("adm.sponsors.empty", "Org", org.Name, "Quoted", admQuote(org.Name)),
		Footnote:  l.T("adm.sponsors.footnote", "Quoted", admQuote(org.Name)),
	}
	for _, u := range sp.Internal {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{orUnknown(u.Name, u.ID), l.T("adm.sponsor.kind.internal"), admOrDash(orUnknown(u.UPN, u.Mail))}})
	}
	for _, u := range sp.External {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{orUnknown(u.Name, u.ID), l.T("adm.sponsor.kind.external"), admOrDash(orUnknown(u.UPN, u.Mail))}})
	}
	c.entry.SubjectID, c.entry.SubjectName = org.ID, org.Name
	c.entry.Outcome = fmt.Sprintf("listed %d", len(v.Rows))
	return b.sendAdminTable(ctx, c.t, v)
}

func (b *Bot) addSponsor(ctx context.Context, c *adminCall, org entitlement.ConnectedOrg, sp entitlement.Sponsors, sa sponsorsArgs) error {
	u, err := b.resolveUser(ctx, "sponsors", sa.user)
	if err != nil {
		return err
	}
	kind := sa.kind
	if kind == "" {
		kind = entitlement.SponsorInternal
		if u.IsGuest() {
			kind = entitlement.SponsorExternal
		}
	}
	c.entry.SubjectID, c.entry.SubjectName = u.ID, u.Name
	for _, list := range [][]entitlement.User{sp.Internal, sp.External} {
		for _, s := range list {
			if strings.EqualFold(s.ID, u.ID) {
				return &adminError{title: c.t.loc.T("adm.sponsor.already"), text: c.t.loc.T("adm.sponsor.alreadyText", "User", admUserLabel(u), "Org", org.Name)}
			}
		}
	}
	if err := b.cfg.Entitlement.AddSponsor(ctx, org.ID, kind, u.ID); err != nil {
		return fmt.Errorf("add %s sponsor %s to %s: %w", kind, u.ID, org.ID, err)
	}
	c.entry.Outcome = "added " + string(kind) + " sponsor"
	l := c.t.loc
	return b.sendNotice(ctx, c.t, noticeSuccess, l.T("adm.sponsor.added"),
		l.T("adm.sponsor.addedText", "User", admUserLabel(u), "Kind", l.T("adm.sponsor.kind."+string(kind)), "Org", org.Name),
		[]cards.Suggestion{{Title: l.T("adm.sponsor.list"), Command: "/sponsors " + admQuote(org.Name)}})
}

func (b *Bot) removeSponsor(ctx context.Context, c *adminCall, org entitlement.ConnectedOrg, sp entitlement.Sponsors, sa sponsorsArgs) error {
	type sponsor struct {
		u    entitlement.User
		kind entitlement.SponsorKind
	}
	var all []sponsor
	if sa.kind != entitlement.SponsorExternal {
		for _, u := range sp.Internal {
			all = append(all, sponsor{u, entitlement.SponsorInternal})
		}
	}
	if sa.kind != entitlement.SponsorInternal {
		for _, u := range sp.External {
			all = append(all, sponsor{u, entitlement.SponsorExternal})
		}
	}
	cs := make([]admCandidate, len(all))
	for i, s := range all {
		cs[i] = admCandidate{id: s.u.ID, name: orUnknown(s.u.Name, s.u.ID), keys: []string{s.u.UPN, s.u.Mail}}
	}
	i, err := admResolve("sponsors", "sponsor", sa.user, cs, org.Name)
	if err != nil {
		var ae *adminError
		if errors.As(err, &ae) && strings.HasPrefix(ae.titleMsg, "adm.noSuch") {
			ae.retitled("adm.sponsor.notSponsor", "adm.sponsor.notSponsorText")
		}
		return err
	}
	s := all[i]
	c.entry.SubjectID, c.entry.SubjectName = s.u.ID, s.u.Name
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opSponsorRemove, OrgID: org.ID, OrgName: org.Name, SponsorKind: string(s.kind),
		UserID: s.u.ID, UserName: orUnknown(s.u.Name, s.u.ID)}, cards.AdminConfirmView{
		Title:   c.t.loc.T("adm.sponsor.removeTitle", "User", orUnknown(s.u.Name, s.u.ID), "Org", org.Name),
		Summary: c.t.loc.T("adm.sponsor.removeSummary", "User", orUnknown(s.u.Name, s.u.ID), "Kind", c.t.loc.T("adm.sponsor.kind."+string(s.kind))),
		Details: []cards.Fact{
			{Title: c.t.loc.T("adm.sponsor"), Value: admUserLabel(s.u)},
			{Title: c.t.loc.T("adm.kind"), Value: c.t.loc.T("adm.sponsor.kind." + string(s.kind))},
			{Title: c.t.loc.T("adm.organization"), Value: org.Name},
		},
		ConfirmLabel: c.t.loc.T("adm.sponsor.removeConfirm"),
	})
}
