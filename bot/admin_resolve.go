package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// Name resolution for admin commands: organizations, catalogs, packages and users may be given by id, by
// exact name (case-insensitive) or by an unambiguous prefix of the name. An ambiguous name lists the
// candidates; an unknown one suggests the closest names.

// admIsGUID reports whether s looks like a directory object or tenant id.
func admIsGUID(s string) bool { return guidRE.MatchString(s) }

// admDomainRE accepts a DNS name with at least two labels.
var admDomainRE = regexp.MustCompile(`^(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$`)

// admCandidate is one nameable object.
type admCandidate struct {
	id   string
	name string
	// keys are other exact identifiers (tenant id, domain, UPN, mail).
	keys []string
}

// admMaxCandidates caps the names listed for an ambiguous argument.
const admMaxCandidates = 6

// admResolve picks the candidate arg names, returning its index. what is "organization", "package", …
// cmd is the command name (for the error text).
func admResolve(cmd, what, arg string, cs []admCandidate, of ...string) (int, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		msg := "adm.usage.give." + what
		if !i18n.Has(msg) {
			msg = "adm.usage.giveWhat"
		}
		return -1, admUsageErr(cmd, msg, "What", what)
	}
	for i, c := range cs {
		if strings.EqualFold(c.id, arg) {
			return i, nil
		}
	}
	var exact []int
	for i, c := range cs {
		if strings.EqualFold(c.name, arg) {
			exact = append(exact, i)
			continue
		}
		for _, k := range c.keys {
			if k != "" && strings.EqualFold(k, arg) {
				exact = append(exact, i)
				break
			}
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	if len(exact) > 1 {
		return -1, admAmbiguous(cmd, what, arg, cs, exact, of)
	}
	var prefix []int
	low := strings.ToLower(arg)
	for i, c := range cs {
		if strings.HasPrefix(strings.ToLower(c.name), low) {
			prefix = append(prefix, i)
		}
	}
	switch len(prefix) {
	case 1:
		return prefix[0], nil
	case 0:
		names := make([]string, 0, len(cs))
		for _, c := range cs {
			names = append(names, c.name)
		}
		e := &adminError{titleMsg: admNoSuch(what), msg: "adm.noSuchText", args: admWhatArgs(cmd, what, arg, of)}
		if s := Suggest(arg, names, 3); len(s) > 0 {
			e.args = append(e.args, "Names", admQuoteList(s))
			e.detailMsgs = []string{"adm.didYouMean"}
		} else if len(cs) == 0 {
			e.detailMsgs = []string{"adm.noneAtAll"}
		}
		return -1, e.localized(i18n.English())
	}
	return -1, admAmbiguous(cmd, what, arg, cs, prefix, of)
}

func admAmbiguous(cmd, what, arg string, cs []admCandidate, idx []int, of []string) error {
	var names []string
	for _, j := range idx[:min(len(idx), admMaxCandidates)] {
		names = append(names, fmt.Sprintf("%s (%s)", cs[j].name, cs[j].id))
	}
	e := &adminError{titleMsg: "adm.which", msg: "adm.whichText", data: names,
		args: append(admWhatArgs(cmd, what, arg, of), "Count", len(idx), "More", len(idx)-len(names))}
	if len(idx) > len(names) {
		e.detailMsgs = []string{"adm.andMore"}
	}
	return e.localized(i18n.English())
}

// admNoSuch is the title of "no such organization/package/…": the noun's own title when the catalog has one.
func admNoSuch(what string) string {
	if id := "adm.noSuch." + what; i18n.Has(id) {
		return id
	}
	return "adm.noSuch"
}

// admWhatArgs are the values of a resolve error: the command, the noun (a catalog id rendered in the
// admin's language; "holder" and "sponsor" name what they are of), and what was typed.
func admWhatArgs(cmd, what, arg string, of []string) []any {
	kv := []any{"Cmd", cmd, "What", msgRef("adm.what." + what), "Arg", strconv.Quote(arg)}
	if len(of) > 0 {
		kv = append(kv, "Of", of[0])
	}
	return kv
}

// admQuoteList lists names (quoted) as alternatives, joined in the reader's language when the message is said.
func admQuoteList(s []string) orList {
	q := make(orList, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return q
}

// resolveOrg finds a connected organization by id, name, tenant id, domain or name prefix.
func (b *Bot) resolveOrg(ctx context.Context, cmd, arg string) (entitlement.ConnectedOrg, error) {
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		return entitlement.ConnectedOrg{}, fmt.Errorf("list connected organizations: %w", err)
	}
	cs := make([]admCandidate, len(orgs))
	for i, o := range orgs {
		c := admCandidate{id: o.ID, name: o.Name}
		for _, s := range o.Sources {
			c.keys = append(c.keys, s.TenantID, s.DomainName)
		}
		cs[i] = c
	}
	i, err := admResolve(cmd, "organization", arg, cs)
	if err != nil {
		return entitlement.ConnectedOrg{}, err
	}
	return orgs[i], nil
}

// resolvePackage finds an access package by id, name or name prefix (hidden packages included).
func (b *Bot) resolvePackage(ctx context.Context, cmd, arg string) (entitlement.Package, error) {
	pkgs, err := b.cfg.Entitlement.Packages(ctx)
	if err != nil {
		return entitlement.Package{}, fmt.Errorf("list access packages: %w", err)
	}
	cs := make([]admCandidate, len(pkgs))
	for i, p := range pkgs {
		cs[i] = admCandidate{id: p.ID, name: p.Name}
	}
	i, err := admResolve(cmd, "package", arg, cs)
	if err != nil {
		return entitlement.Package{}, err
	}
	return pkgs[i], nil
}

// resolveCatalog finds a catalog by id, name or name prefix.
func (b *Bot) resolveCatalog(ctx context.Context, cmd, arg string) (entitlement.Catalog, error) {
	cats, err := b.cfg.Entitlement.Catalogs(ctx)
	if err != nil {
		return entitlement.Catalog{}, fmt.Errorf("list catalogs: %w", err)
	}
	cs := make([]admCandidate, len(cats))
	for i, c := range cats {
		cs[i] = admCandidate{id: c.ID, name: c.Name}
	}
	i, err := admResolve(cmd, "catalog", arg, cs)
	if err != nil {
		return entitlement.Catalog{}, err
	}
	return cats[i], nil
}

// admConversationLister is the part of the store that lists the users who chatted with the bot (internal/store
// implements it); it lets admins name users by display name.
type admConversationLister interface {
	Conversations(ctx context.Context, tenantID string) ([]store.ConversationRef, error)
}

// resolveUser finds a user of the resource tenant by object id, user principal name or mail, or by display
// name (exact or unambiguous prefix) among the users who have chatted with the bot. An unknown user is an
// *adminError titled "No such user".
func (b *Bot) resolveUser(ctx context.Context, cmd, arg string) (entitlement.User, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return entitlement.User{}, admUsageErr(cmd, "adm.usage.userID")
	}
	if admIsGUID(arg) || strings.Contains(arg, "@") {
		u, err := b.cfg.Entitlement.User(ctx, arg)
		if errors.Is(err, entitlement.ErrNotFound) {
			return entitlement.User{}, (&adminError{titleMsg: "adm.noSuch.user", msg: "adm.noUserInDirectory",
				args: []any{"Cmd", cmd, "Arg", strconv.Quote(arg), "Org", b.cfg.Tenant.Name}}).withDetails("adm.giveUserID")
		}
		if err != nil {
			return entitlement.User{}, fmt.Errorf("read user %s: %w", arg, err)
		}
		return u, nil
	}
	lister, ok := b.cfg.Store.(admConversationLister)
	if !ok || b.cfg.Tenant.ID == "" {
		return entitlement.User{}, admUsageErr(cmd, "adm.usage.userBad", "Got", strconv.Quote(arg))
	}
	refs, err := lister.Conversations(ctx, b.cfg.Tenant.ID)
	if err != nil {
		return entitlement.User{}, fmt.Errorf("list known users: %w", err)
	}
	cs := make([]admCandidate, 0, len(refs))
	for _, r := range refs {
		if r.UserName != "" {
			cs = append(cs, admCandidate{id: r.AADObjectID, name: r.UserName})
		}
	}
	i, err := admResolve(cmd, "user", arg, cs)
	if err != nil {
		var ae *adminError
		if errors.As(err, &ae) && ae.is("adm.noSuch.user") {
			ae.withDetails("adm.displayNamesKnown")
		}
		return entitlement.User{}, err
	}
	u, err := b.cfg.Entitlement.User(ctx, cs[i].id)
	if err != nil {
		return entitlement.User{}, fmt.Errorf("read user %s: %w", cs[i].id, err)
	}
	return u, nil
}

// tenantName is the resource tenant's name, or "this organization" in l's language.
func (b *Bot) tenantName(l *i18n.Localizer) string {
	return orUnknown(b.cfg.Tenant.Name, l.T("mode.thisOrganization"))
}

// admUserLabel is "Name (upn)" for tables and confirmations.
func admUserLabel(u entitlement.User) string {
	id := u.UPN
	if id == "" {
		id = u.Mail
	}
	switch {
	case u.Name != "" && id != "":
		return u.Name + " (" + id + ")"
	case u.Name != "":
		return u.Name
	case id != "":
		return id
	}
	return u.ID
}

func admSubjectLabel(s entitlement.Subject) string {
	id := s.PrincipalName
	if id == "" {
		id = s.Email
	}
	switch {
	case s.Name != "" && id != "":
		return s.Name + " (" + id + ")"
	case s.Name != "":
		return s.Name
	case id != "":
		return id
	}
	return s.ID
}

// admSubjectMatches reports whether arg names s exactly (id, UPN, mail, name).
func admSubjectMatches(s entitlement.Subject, arg string) bool {
	for _, k := range []string{s.ID, s.PrincipalName, s.Email, s.Name} {
		if k != "" && strings.EqualFold(k, arg) {
			return true
		}
	}
	return false
}

// --- formatting ------------------------------------------------------------------------------------------

// admStamp formats a time for table cells (cards defuse client date templates in cells): "2026-11-26 14:05 UTC".
func admStamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// admDurationWords turns an ISO-8601 duration ("P180D", "PT8H", "P4W2D", "P1DT12H") into words ("180 days");
// anything it cannot read is returned unchanged.
func admDurationWords(l *i18n.Localizer, iso string) string {
	s := strings.ToUpper(strings.TrimSpace(iso))
	if len(s) < 3 || s[0] != 'P' {
		return iso
	}
	units := map[byte]string{'Y': "duration.years", 'M': "duration.months", 'W': "duration.weeks", 'D': "duration.days",
		'H': "duration.hours", 'S': "duration.seconds"}
	var parts []string
	inTime := false
	num := ""
	for i := 1; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == 'T':
			if inTime || num != "" {
				return iso
			}
			inTime = true
		case ch >= '0' && ch <= '9':
			num += string(ch)
		default:
			if num == "" {
				return iso
			}
			n, err := strconv.Atoi(num)
			if err != nil {
				return iso
			}
			unit, ok := units[ch]
			if inTime && ch == 'M' {
				unit = "duration.minutes"
			} else if !ok || (inTime && (ch == 'Y' || ch == 'W' || ch == 'D')) || (!inTime && (ch == 'H' || ch == 'S')) {
				return iso
			}
			if n != 0 {
				parts = append(parts, l.N(unit, n))
			}
			num = ""
		}
	}
	if num != "" || len(parts) == 0 {
		if len(parts) == 0 && num == "" {
			return l.N("duration.days", 0)
		}
		return iso
	}
	return strings.Join(parts, " ")
}

// admExpiryWords describes a policy's expiration.
func admExpiryWords(l *i18n.Localizer, e entitlement.Expiration) string {
	switch e.Type {
	case entitlement.ExpireNever:
		return l.T("adm.expiry.never")
	case entitlement.ExpireAfterDateTime:
		return l.T("adm.expiry.on", "Date", admStamp(e.EndDateTime))
	case entitlement.ExpireAfterDuration:
		return l.T("adm.expiry.after", "Duration", admDurationWords(l, e.Duration))
	}
	if e.Duration != "" {
		return l.T("adm.expiry.after", "Duration", admDurationWords(l, e.Duration))
	}
	return l.T("adm.expiry.unspecified")
}

// admScopeWords describes who may request through a policy; orgName resolves connected organization ids.
func admScopeWords(l *i18n.Localizer, p entitlement.Policy, orgName func(id string) string) string {
	switch p.Scope {
	case entitlement.ScopeAllMemberUsers:
		return l.T("adm.scope.allMembers")
	case entitlement.ScopeAllDirectoryUsers:
		return l.T("adm.scope.allDirectory")
	case entitlement.ScopeAllConfiguredConnectedOrganizationUsers:
		return l.T("adm.scope.allConnected")
	case entitlement.ScopeAllExternalUsers:
		return l.T("adm.scope.allExternal")
	case entitlement.ScopeSpecificConnectedOrganizationUsers:
		var names []string
		for _, t := range p.SpecificTargets {
			if t.ConnectedOrgID != "" {
				names = append(names, orgName(t.ConnectedOrgID))
			}
		}
		if len(names) == 0 {
			return l.T("adm.scope.specificConnected")
		}
		return l.T("adm.scope.usersOf", "Orgs", l.List(names))
	case entitlement.ScopeSpecificDirectoryUsers:
		return l.T("adm.scope.specificDirectory")
	case entitlement.ScopeSpecificDirectoryServicePrincipals, entitlement.ScopeAllDirectoryServicePrincipals:
		return l.T("adm.scope.servicePrincipals")
	case entitlement.ScopeNotSpecified, "":
		return l.T("adm.scope.nobody")
	}
	return string(p.Scope)
}

// admPolicyCovers reports whether an admin may assign the package through p to a member (external false) or to
// a connected-organization user (external true).
func admPolicyCovers(p entitlement.Policy, external bool) bool {
	if external {
		return p.Scope.External() || p.Scope == entitlement.ScopeAllDirectoryUsers
	}
	switch p.Scope {
	case entitlement.ScopeAllMemberUsers, entitlement.ScopeAllDirectoryUsers, entitlement.ScopeSpecificDirectoryUsers,
		entitlement.ScopeNotSpecified, "":
		return true
	}
	return false
}

// admSortByName sorts rows by their first cell, case-insensitively.
func admSortByName[T any](xs []T, name func(T) string) {
	sort.SliceStable(xs, func(i, j int) bool { return strings.ToLower(name(xs[i])) < strings.ToLower(name(xs[j])) })
}
