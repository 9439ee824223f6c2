package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// Admin commands that change a user's access and ask for confirmation first: /assign and /revoke.

// userAndPackage splits "<user> <package>": the first argument is the user, the rest the package name.
func userAndPackage(cmd string, args []string) (string, string, error) {
	if len(args) < 2 {
		return "", "", admUsageErr(cmd, "adm.usage.userAndPackage", "Got", len(args))
	}
	return strings.TrimSpace(args[0]), strings.TrimSpace(strings.Join(args[1:], " ")), nil
}

func (b *Bot) adminAssign(ctx context.Context, c *adminCall) error {
	userArg, pkgArg, err := userAndPackage("assign", c.cmd.Args)
	if err != nil {
		return err
	}
	pkg, err := b.resolvePackage(ctx, "assign", pkgArg)
	if err != nil {
		return err
	}
	c.entry.PackageID, c.entry.PackageName = pkg.ID, pkg.Name
	op := adminPendingOp{Op: opAssign, PackageID: pkg.ID, PackageName: pkg.Name}
	who, err := b.assignTarget(ctx, c.t.loc, userArg, &op)
	if err != nil {
		return err
	}
	c.entry.SubjectID, c.entry.SubjectName = op.UserID, op.UserName
	l := c.t.loc
	pol, err := b.assignPolicy(ctx, l, pkg, op, who)
	if err != nil {
		return err
	}
	op.PolicyID, op.PolicyName = pol.ID, pol.Name
	approval := l.T("adm.assign.noApproval")
	if pol.ApprovalRequired && len(pol.Stages) > 0 {
		approval = l.N("adm.assign.bypass", len(pol.Stages))
	}
	return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{
		Title:   l.T("adm.assign.title", "Package", pkg.Name, "User", op.UserName),
		Summary: l.T("adm.assign.summary", "Approval", approval),
		Details: []cards.Fact{
			{Title: l.T("adm.user"), Value: who},
			{Title: l.T("adm.package"), Value: pkg.Name},
			{Title: l.T("adm.policy"), Value: orUnknown(pol.Name, pol.ID)},
			{Title: l.T("adm.expiry"), Value: admExpiryWords(l, pol.Expiration)},
			{Title: l.T("adm.approval"), Value: l.T("adm.assign.bypassed")},
		},
		ConfirmLabel: l.T("adm.assign.confirm"),
	})
}

// assignTarget resolves the user /assign names into op: a directory user, or (by mail address) a connected
// organization's user who is not a guest yet. It returns how the confirm card names them.
func (b *Bot) assignTarget(ctx context.Context, l *i18n.Localizer, userArg string, op *adminPendingOp) (string, error) {
	u, uerr := b.resolveUser(ctx, "assign", userArg)
	var ae *adminError
	switch {
	case uerr == nil:
		op.UserID, op.UserName, op.UserEmail = u.ID, orUnknown(u.Name, u.UPN), u.Mail
		op.External = u.IsGuest()
		return admUserLabel(u), nil
	case errors.As(uerr, &ae) && ae.is("adm.noSuch.user") && strings.Contains(userArg, "@"):
		// Not in the directory yet: a connected organization's user, assigned by mail (Entra invites them).
		org, oerr := b.orgForEmail(ctx, userArg)
		if oerr != nil {
			return "", oerr
		}
		op.UserEmail, op.UserName, op.ConnectedOrgID = userArg, userArg, org.ID
		op.External = true
		return l.T("adm.assign.notGuestYet", "Email", userArg, "Org", org.Name), nil
	default:
		return "", uerr
	}
}

// assignPolicy picks the first policy of pkg that covers op's user (a member, or a connected organization's
// user) and refuses when none does or the user already holds pkg.
func (b *Bot) assignPolicy(ctx context.Context, l *i18n.Localizer, pkg entitlement.Package, op adminPendingOp, who string) (*entitlement.Policy, error) {
	external := op.External
	pols, err := b.cfg.Entitlement.Policies(ctx, pkg.ID)
	if err != nil {
		return nil, fmt.Errorf("list policies of package %s: %w", pkg.ID, err)
	}
	var pol *entitlement.Policy
	for i := range pols {
		if admPolicyCovers(pols[i], external) {
			pol = &pols[i]
			break
		}
	}
	if pol == nil {
		id := "adm.assign.noPolicyMembers"
		if external {
			id = "adm.assign.noPolicyPartners"
		}
		return nil, &adminError{title: l.T("adm.assign.noPolicy"),
			text: l.T(id, "Package", pkg.Name, "Org", orUnknown(b.cfg.Tenant.Name, l.T("review.bot.theOrg")), "User", who)}
	}
	if op.UserID != "" {
		as, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: pkg.ID, TargetID: op.UserID})
		if err != nil {
			return nil, fmt.Errorf("check existing assignments of %s: %w", op.UserID, err)
		}
		for _, a := range as {
			if a.State.GrantsAccess() {
				return nil, &adminError{title: l.T("adm.assign.already"),
					text: l.T("adm.assign.alreadyText", "User", who, "Package", pkg.Name, "Until", admStamp(a.EndsAt()))}
			}
		}
	}
	return pol, nil
}

// orgForEmail finds the connected organization whose tenant owns the mail address's domain.
func (b *Bot) orgForEmail(ctx context.Context, email string) (entitlement.ConnectedOrg, error) {
	at := strings.LastIndex(email, "@")
	domain := strings.ToLower(email[at+1:])
	notFound := (&adminError{titleMsg: "adm.noSuch.user", msg: "adm.assign.unknownMail",
		args: []any{"Email", strconv.Quote(email), "Org", b.cfg.Tenant.Name, "Domain", domain, "Quoted", strconv.Quote(domain)}}).withDetails("adm.assign.connectFirst")
	if !admDomainRE.MatchString(domain) {
		return entitlement.ConnectedOrg{}, notFound
	}
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		return entitlement.ConnectedOrg{}, fmt.Errorf("list connected organizations: %w", err)
	}
	for _, o := range orgs {
		for _, s := range o.Sources {
			if strings.EqualFold(s.DomainName, domain) {
				return o, nil
			}
		}
	}
	ti, err := b.cfg.Entitlement.TenantByDomain(ctx, domain)
	if errors.Is(err, entitlement.ErrNotFound) {
		return entitlement.ConnectedOrg{}, notFound
	}
	if err != nil {
		return entitlement.ConnectedOrg{}, fmt.Errorf("find tenant by domain %s: %w", domain, err)
	}
	for _, o := range orgs {
		if strings.EqualFold(o.TenantID(), ti.TenantID) {
			if o.State == entitlement.OrgProposed {
				return entitlement.ConnectedOrg{}, userErr("adm.assign.orgProposed", "adm.assign.orgProposedText", "Org", o.Name)
			}
			return o, nil
		}
	}
	return entitlement.ConnectedOrg{}, notFound
}

func (b *Bot) adminRevoke(ctx context.Context, c *adminCall) error {
	userArg, pkgArg, err := userAndPackage("revoke", c.cmd.Args)
	if err != nil {
		return err
	}
	pkg, err := b.resolvePackage(ctx, "revoke", pkgArg)
	if err != nil {
		return err
	}
	c.entry.PackageID, c.entry.PackageName = pkg.ID, pkg.Name
	a, err := b.revokeHolder(ctx, pkg, userArg)
	if err != nil {
		return err
	}
	name := orUnknown(a.Target.Name, orUnknown(a.Target.PrincipalName, a.Target.ID))
	c.entry.SubjectID, c.entry.SubjectName = a.Target.ID, name
	email, external := b.holderContact(ctx, c, a)
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opRevoke, PackageID: pkg.ID, PackageName: pkg.Name, AssignmentID: a.ID,
		UserID: a.Target.ID, UserName: name, UserEmail: email, External: external}, cards.AdminConfirmView{
		Title:   c.t.loc.T("adm.revoke.title", "Package", pkg.Name, "User", name),
		Summary: c.t.loc.T("adm.revoke.summary", "User", name),
		Details: []cards.Fact{
			{Title: c.t.loc.T("adm.user"), Value: admSubjectLabel(a.Target)},
			{Title: c.t.loc.T("adm.package"), Value: pkg.Name},
			{Title: c.t.loc.T("adm.revoke.until"), Value: admStamp(a.EndsAt())},
			{Title: c.t.loc.T("adm.revoke.assignment"), Value: a.ID},
		},
		ConfirmLabel: c.t.loc.T("adm.revoke.confirm"),
		Irreversible: true,
	})
}

// revokeHolder finds the active assignment of pkg that userArg names: by the assignment's target, by the
// directory user's object id, or among the holders' names.
func (b *Bot) revokeHolder(ctx context.Context, pkg entitlement.Package, userArg string) (entitlement.Assignment, error) {
	all, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: pkg.ID})
	if err != nil {
		return entitlement.Assignment{}, fmt.Errorf("list assignments of %s: %w", pkg.ID, err)
	}
	var holders []entitlement.Assignment
	for _, a := range all {
		if a.State.GrantsAccess() {
			holders = append(holders, a)
		}
	}
	idx := slices.IndexFunc(holders, func(a entitlement.Assignment) bool { return admSubjectMatches(a.Target, userArg) })
	if idx < 0 && (admIsGUID(userArg) || strings.Contains(userArg, "@")) {
		// The assignment may not carry the sign-in name: look the user up and match the object id.
		if u, uerr := b.resolveUser(ctx, "revoke", userArg); uerr == nil {
			idx = slices.IndexFunc(holders, func(a entitlement.Assignment) bool { return strings.EqualFold(a.Target.ID, u.ID) })
		}
	}
	if idx >= 0 {
		return holders[idx], nil
	}
	cs := make([]admCandidate, len(holders))
	for i, a := range holders {
		cs[i] = admCandidate{id: a.Target.ID, name: orUnknown(a.Target.Name, a.Target.ID)}
	}
	i, rerr := admResolve("revoke", "holder", userArg, cs, pkg.Name)
	if rerr != nil {
		var ae *adminError
		if errors.As(rerr, &ae) && strings.HasPrefix(ae.titleMsg, "adm.noSuch") {
			ae.retitled("adm.revoke.noAssignment", "adm.revoke.noAssignmentText", "Package", pkg.Name)
		}
		return entitlement.Assignment{}, rerr
	}
	return holders[i], nil
}

// holderContact returns the mail address of an assignment's holder and whether they are a partner user,
// which decides how they are told once the revocation is done.
func (b *Bot) holderContact(ctx context.Context, c *adminCall, a entitlement.Assignment) (string, bool) {
	email := a.Target.Email
	external := a.Target.ConnectedOrgID != "" || strings.Contains(strings.ToUpper(a.Target.PrincipalName), "#EXT#")
	if a.Target.ID != "" {
		if u, uerr := b.cfg.Entitlement.User(ctx, a.Target.ID); uerr == nil {
			external = external || u.IsGuest()
			email = orUnknown(email, u.Mail)
		} else {
			c.t.log.InfoContext(ctx, "read the holder of a revoked assignment", "user", a.Target.ID, "err", uerr)
		}
	}
	return email, external
}
