package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Admin flow (DESIGN.md §1, issue 6): slash-style commands for members of the configured admin group and
// holders of the configured directory roles.
// Reads answer with tables; changes that remove or grant access ask for confirmation on a card first. Every
// command, confirmation and refusal is written to the audit log with mode "admin".

const (
	// adminCacheTTL is how long a user's admin status (group membership or directory role) and a tenant's
	// organization name are cached.
	adminCacheTTL = 5 * time.Minute
	// adminConfirmTTL is how long a confirmation card stays valid.
	adminConfirmTTL = 10 * time.Minute
	// adminExpiringDefault and adminExpiringMax bound /expiring [days].
	adminExpiringDefault = 14
	adminExpiringMax     = 365
	// adminTableRows is how many rows an admin list shows: what the card shows, so "and N more" counts right.
	adminTableRows = cards.MaxAdminRows
	// adminAuditFetch is how many audit entries /audit reads (it shows adminTableRows of them).
	adminAuditFetch = 200
)

// adminState is the admin flow's in-memory state: short-lived caches (consuming a confirmation token is made
// atomic by a store lock, admin_confirm.go). Its zero value is ready to use.
type adminState struct {
	mu      sync.Mutex
	members map[string]cached[bool]   // tenant|user → admin?
	orgs    map[string]cached[string] // tenant id → connected organization name ("" = none)

	// swept is when expired cache entries were last dropped (see sweepExpired).
	swept time.Time
}

// sweep drops expired admin and organization entries (entries are valid for adminCacheTTL, so an entry
// valid until u was stored at u-adminCacheTTL: that is now). The caller holds s.mu.
func (s *adminState) sweep(now time.Time) {
	if now.Sub(s.swept) < adminCacheTTL {
		return
	}
	s.swept = now
	sweepExpired(s.members, cached[bool].expiry, now)
	sweepExpired(s.orgs, cached[string].expiry, now)
}

// sweepExpired drops the entries of m whose validity (until) has passed. Called at most once per TTL, it
// keeps a cache keyed by user to the users seen in the last two TTL windows instead of every user who ever
// chatted with the bot. The caller holds the cache's lock.
func sweepExpired[K comparable, V any](m map[K]V, until func(V) time.Time, now time.Time) {
	for k, v := range m {
		if !now.Before(until(v)) {
			delete(m, k)
		}
	}
}

// cached is a cache entry valid until until.
type cached[V any] struct {
	v     V
	until time.Time
}

func (c cached[V]) expiry() time.Time { return c.until }

// lookupCached returns m[key] while it is valid at now. The caller holds the cache's lock.
func lookupCached[V any](m map[string]cached[V], key string, now time.Time) (V, bool) {
	c, ok := m[key]
	if !ok || !now.Before(c.until) {
		var zero V
		return zero, false
	}
	return c.v, true
}

// putCached stores v under key until until, making the map when it is nil. The caller holds the cache's lock.
func putCached[V any](m map[string]cached[V], key string, v V, until time.Time) map[string]cached[V] {
	if m == nil {
		m = map[string]cached[V]{}
	}
	m[key] = cached[V]{v: v, until: until}
	return m
}

func (s *adminState) member(key string, now time.Time) (bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lookupCached(s.members, key, now)
}

func (s *adminState) setMember(key string, v bool, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(until.Add(-adminCacheTTL))
	s.members = putCached(s.members, key, v, until)
}

func (s *adminState) orgName(tenantID string, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return lookupCached(s.orgs, tenantID, now)
}

func (s *adminState) setOrgName(tenantID, name string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(until.Add(-adminCacheTTL))
	s.orgs = putCached(s.orgs, tenantID, name, until)
}

// forgetOrgs drops the organization name cache (after /connect or /disconnect).
func (s *adminState) forgetOrgs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgs = nil
}

// checkAdmin sets t.admin when the user is an admin: a (transitive) member of the configured admin group
// or the holder of one of the configured directory roles (checked in Graph, group first). Only users of the
// resource tenant can be admins. The answer is cached per user for adminCacheTTL. A failed check is
// logged; unless the other check said yes, the user is treated as "not an admin" and nothing is cached.
func (b *Bot) checkAdmin(ctx context.Context, t *turn) {
	t.admin = b.isAdmin(ctx, t)
}

func (b *Bot) isAdmin(ctx context.Context, t *turn) bool {
	group := strings.TrimSpace(b.cfg.AdminGroupID)
	roles := adminRoles(b.cfg.AdminRoleIDs)
	if (group == "" && len(roles) == 0) || b.cfg.Entitlement == nil || t.userID == "" || t.tenantID == "" {
		return false
	}
	if b.cfg.Tenant.ID == "" || !strings.EqualFold(t.tenantID, b.cfg.Tenant.ID) {
		// Admins are users of the resource tenant; a guest's home-tenant identity never is one.
		return false
	}
	key := strings.ToLower(t.tenantID + "|" + t.userID)
	now := b.now()
	if v, ok := b.adm.member(key, now); ok {
		return v
	}
	failed := false
	if group != "" {
		ok, err := b.cfg.Entitlement.IsMemberOf(ctx, t.userID, group)
		switch {
		case err != nil:
			failed = true
			t.log.WarnContext(ctx, "admin group check failed", "group", group, "err", err)
		case ok:
			b.adm.setMember(key, true, now.Add(adminCacheTTL))
			return true
		}
	}
	if len(roles) > 0 {
		ok, err := b.cfg.Entitlement.HasDirectoryRole(ctx, t.userID, roles)
		switch {
		case err != nil:
			failed = true
			t.log.WarnContext(ctx, "admin directory role check failed", "roles", roles, "err", err)
		case ok:
			b.adm.setMember(key, true, now.Add(adminCacheTTL))
			return true
		}
	}
	if failed {
		t.log.WarnContext(ctx, "admin check incomplete; treating user as not an admin")
		return false
	}
	b.adm.setMember(key, false, now.Add(adminCacheTTL))
	return false
}

// adminRoles returns the configured role ids without blanks.
func adminRoles(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// partnerOrgName returns the display name of the connected organization whose tenant is tenantID, or ""
// when there is none (or it cannot be read right now). Answers are cached for adminCacheTTL.
func (b *Bot) partnerOrgName(ctx context.Context, tenantID string) string {
	tenantID = strings.ToLower(strings.TrimSpace(tenantID))
	if tenantID == "" || b.cfg.Entitlement == nil {
		return ""
	}
	now := b.now()
	if v, ok := b.adm.orgName(tenantID, now); ok {
		return v
	}
	orgs, err := b.cfg.Entitlement.ConnectedOrgs(ctx)
	if err != nil {
		b.log.WarnContext(ctx, "list connected organizations for partner name", "tenant", tenantID, "err", err)
		return ""
	}
	name := ""
	for _, o := range orgs {
		if strings.EqualFold(o.TenantID(), tenantID) {
			name = o.Name
			break
		}
	}
	b.adm.setOrgName(tenantID, name, now.Add(adminCacheTTL))
	return name
}

// adminCall is one admin command being run: the command's audit entry is filled in as it goes.
type adminCall struct {
	t     *turn
	cmd   Command
	name  string
	entry store.AuditEntry
}

// adminUsage is each admin command's syntax, for argument errors.
var adminUsage = map[string]string{
	"help":       "/help",
	"orgs":       "/orgs",
	"connect":    "/connect {domain or tenant id} [name]",
	"disconnect": "/disconnect {org}",
	"sponsors":   "/sponsors {org} [add|remove [internal|external] {user}]",
	"catalogs":   "/catalogs",
	"packages":   "/packages [catalog]",
	"package":    "/package {name or id} [edit|delete], /package new, /package resume",
	"sod":        "/sod",
	"assign":     "/assign {user} {package}",
	"revoke":     "/revoke {user} {package}",
	"pending":    "/pending [package]",
	"expiring":   "/expiring [days]",
	"audit":      "/audit [user|package]",
}

// registerAdmin registers the admin commands and the confirmation verbs.
func (b *Bot) registerAdmin() {
	b.adminCommand("help", b.adminHelp)
	b.adminCommand("orgs", b.adminOrgs)
	b.adminCommand("connect", b.adminConnect)
	b.adminCommand("disconnect", b.adminDisconnect)
	b.adminCommand("sponsors", b.adminSponsors)
	b.adminCommand("catalogs", b.adminCatalogs)
	b.adminCommand("packages", b.adminPackages)
	b.adminCommand("package", b.adminPackage)
	b.adminCommand("assign", b.adminAssign)
	b.adminCommand("revoke", b.adminRevoke)
	b.adminCommand("pending", b.adminPending)
	b.adminCommand("expiring", b.adminExpiring)
	b.adminCommand("audit", b.adminAudit)
	b.onVerb(cards.VerbAdminConfirm, b.onAdminConfirm)
	b.onVerb(cards.VerbAdminCancel, b.onAdminCancel)
}

// adminCommand registers /name. The wrapper checks admin membership, answers problems with a notice and
// writes the audit entry (also for refusals and failures).
func (b *Bot) adminCommand(name string, run func(ctx context.Context, c *adminCall) error) {
	b.handle(&commandSpec{Name: name, Admin: true, Run: func(ctx context.Context, t *turn, cmd Command) error {
		b.checkAdmin(ctx, t)
		if !t.admin {
			// "/packages" or "/help" from a non-admin: run the everyday command of that name, if there is one.
			if spec, ok := b.byName[cmd.Name]; ok && !spec.Admin {
				return spec.Run(ctx, t, cmd)
			}
			return b.refuseNonAdmin(ctx, t, "/"+name)
		}
		c := &adminCall{t: t, cmd: cmd, name: name, entry: b.adminEntry(t, "admin."+name)}
		if raw := strings.TrimSpace(cmd.Rest); raw != "" {
			c.entry.Details = map[string]string{"args": admClip(raw, 200)}
		}
		err := run(ctx, c)
		var ae *adminError
		switch {
		case err == nil:
			if c.entry.Outcome == "" {
				c.entry.Outcome = "ok"
			}
		case errors.As(err, &ae):
			c.entry.Outcome = "rejected: " + admClip(ae.text, 300)
		case c.entry.Outcome != "":
			// The command did its work (the outcome is set) and only sending the answer failed: record what
			// happened and let the turn fail, so Teams redelivers it.
			c.entry.Outcome += "; answer not delivered"
			b.appendAudit(ctx, c.entry)
			return err
		default:
			t.log.ErrorContext(ctx, "admin command failed", "command", name, "err", err)
			c.entry.Outcome = "failed: " + entitlement.UserMessage(err)
			ae = &adminError{title: c.t.loc.T("adm.failed", "Command", "/"+name), text: userMessage(c.t.loc, err)}
		}
		b.appendAudit(ctx, c.entry)
		if ae != nil {
			ae = ae.localized(c.t.loc)
			_, sendErr := b.sendCard(ctx, t, cards.Notice(c.t.loc, cards.NoticeView{Kind: cards.NoticeError, Title: ae.title,
				Text: ae.text, Details: ae.details, Suggestions: ae.sugg}))
			return sendErr
		}
		return nil
	}})
}

// refuseNonAdmin answers an admin command typed by someone who is not an admin; only the refusal is audited.
func (b *Bot) refuseNonAdmin(ctx context.Context, t *turn, command string) error {
	e := b.adminEntry(t, "admin.refused")
	e.Outcome = "refused: not an admin"
	e.Details = map[string]string{"command": command}
	if typed := strings.TrimSpace(botframework.StripMentions(t.act.Text)); typed != "" {
		e.Details["typed"] = admClip(cards.CleanText(typed), 120)
	}
	b.appendAudit(ctx, e)
	t.log.InfoContext(ctx, "admin command refused", "command", command)
	return b.sendNotice(ctx, t, noticeError, t.loc.T("admin.refused"), t.loc.T("admin.refusedText", "Command", command),
		[]cards.Suggestion{{Title: "help", Command: "help"}})
}

// adminEntry starts an audit entry for the acting user.
func (b *Bot) adminEntry(t *turn, action string) store.AuditEntry {
	return store.AuditEntry{
		Time:        b.now(),
		ActorTenant: t.tenantID,
		ActorID:     t.userID,
		ActorName:   t.userName,
		Action:      action,
		Mode:        store.ModeAdmin,
	}
}

// appendAudit appends e to the audit log; a failure is logged (the action already happened or was refused).
func (b *Bot) appendAudit(ctx context.Context, e store.AuditEntry) {
	if _, err := b.cfg.Store.AppendAudit(ctx, e); err != nil {
		b.log.ErrorContext(ctx, "append audit entry", "action", e.Action, "err", err)
		return
	}
	b.observeAudit(ctx, e)
}

func (b *Bot) adminHelp(ctx context.Context, c *adminCall) error {
	if len(c.cmd.Args) > 0 {
		return admUsageErr("help", "adm.usage.noArgs", "Got", strconv.Quote(c.cmd.Rest))
	}
	c.entry.Outcome = "viewed"
	_, err := b.sendCard(ctx, c.t, cards.Help(c.t.loc, cards.HelpView{IsAdmin: true, AdminOnly: true}))
	return err
}

func admNoArgs(c *adminCall) error {
	if len(c.cmd.Args) > 0 {
		return admUsageErr(c.name, "adm.usage.noArgs", "Got", strconv.Quote(c.cmd.Rest))
	}
	return nil
}

// admClip shortens s to n runes.
func admClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
