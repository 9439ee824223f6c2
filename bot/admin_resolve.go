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
	"github.com/accessbot/accessbot/internal/lifecycle"
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
func admResolve(cmd, what, arg string, cs []admCandidate) (int, error) {
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
		return -1, admAmbiguous(cmd, what, arg, cs, exact)
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
		e := &adminError{title: "No such " + what, text: fmt.Sprintf("/%s: no %s is named %q.", cmd, what, arg)}
		if s := Suggest(arg, names, 3); len(s) > 0 {
			e.details = []string{"Did you mean " + admQuoteList(s) + "?"}
		} else if len(cs) == 0 {
			e.details = []string{fmt.Sprintf("There is no %s at all.", what)}
		}
		return -1, e
	}
	return -1, admAmbiguous(cmd, what, arg, cs, prefix)
}

func admAmbiguous(cmd, what, arg string, cs []admCandidate, idx []int) error {
	var names []string
	for i, j := range idx {
		if i == admMaxCandidates {
			names = append(names, fmt.Sprintf("and %d more", len(idx)-i))
			break
		}
		names = append(names, fmt.Sprintf("%s (%s)", cs[j].name, cs[j].id))
	}
	return &adminError{
		title:   "Which " + what + "?",
		text:    fmt.Sprintf("/%s: %q matches %d %ss; give more of the name, or the id.", cmd, arg, len(idx), what),
		details: names,
	}
}

func admQuoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = strconv.Quote(x)
	}
	return strings.Join(q, " or ")
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
			return entitlement.User{}, &adminError{title: "No such user",
				text:    fmt.Sprintf("/%s: no user %q in the %s directory.", cmd, arg, b.tenantName()),
				details: []string{"Give the user's sign-in name (user principal name), mail or object id."}}
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
		if errors.As(err, &ae) && ae.title == "No such user" {
			ae.details = append(ae.details, "Display names are matched only for people who have chatted with AccessBot; "+
				"otherwise give the sign-in name, mail or object id.")
		}
		return entitlement.User{}, err
	}
	u, err := b.cfg.Entitlement.User(ctx, cs[i].id)
	if err != nil {
		return entitlement.User{}, fmt.Errorf("read user %s: %w", cs[i].id, err)
	}
	return u, nil
}

func (b *Bot) tenantName() string {
	if b.cfg.Tenant.Name != "" {
		return b.cfg.Tenant.Name
	}
	return "organization's"
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
func admDurationWords(iso string) string {
	s := strings.ToUpper(strings.TrimSpace(iso))
	if len(s) < 3 || s[0] != 'P' {
		return iso
	}
	units := map[byte]string{'Y': "year", 'M': "month", 'W': "week", 'D': "day", 'H': "hour", 'S': "second"}
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
				unit = "minute"
			} else if !ok || (inTime && (ch == 'Y' || ch == 'W' || ch == 'D')) || (!inTime && (ch == 'H' || ch == 'S')) {
				return iso
			}
			if n != 0 {
				parts = append(parts, lifecycle.Pluralize(n, unit))
			}
			num = ""
		}
	}
	if num != "" || len(parts) == 0 {
		if len(parts) == 0 && num == "" {
			return "0 days"
		}
		return iso
	}
	return strings.Join(parts, " ")
}

// admExpiryWords describes a policy's expiration.
func admExpiryWords(e entitlement.Expiration) string {
	switch e.Type {
	case entitlement.ExpireNever:
		return "No expiry"
	case entitlement.ExpireAfterDateTime:
		return "On " + admStamp(e.EndDateTime)
	case entitlement.ExpireAfterDuration:
		return admDurationWords(e.Duration) + " after assignment"
	}
	if e.Duration != "" {
		return admDurationWords(e.Duration) + " after assignment"
	}
	return "Not specified"
}

// admScopeWords describes who may request through a policy; orgName resolves connected organization ids.
func admScopeWords(p entitlement.Policy, orgName func(id string) string) string {
	switch p.Scope {
	case entitlement.ScopeAllMemberUsers:
		return "All members of the organization"
	case entitlement.ScopeAllDirectoryUsers:
		return "All users in the directory, guests included"
	case entitlement.ScopeAllConfiguredConnectedOrganizationUsers:
		return "Users of all configured connected organizations"
	case entitlement.ScopeAllExternalUsers:
		return "All external users"
	case entitlement.ScopeSpecificConnectedOrganizationUsers:
		var names []string
		for _, t := range p.SpecificTargets {
			if t.ConnectedOrgID != "" {
				names = append(names, orgName(t.ConnectedOrgID))
			}
		}
		if len(names) == 0 {
			return "Users of specific connected organizations"
		}
		return "Users of " + strings.Join(names, ", ")
	case entitlement.ScopeSpecificDirectoryUsers:
		return "Specific users and groups of the directory"
	case entitlement.ScopeSpecificDirectoryServicePrincipals, entitlement.ScopeAllDirectoryServicePrincipals:
		return "Service principals"
	case entitlement.ScopeNotSpecified, "":
		return "Nobody (admin assignments only)"
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
