package cards

import (
	"strconv"

	"github.com/accessbot/accessbot/internal/i18n"
)

// Command words the buttons run. They are typed commands, English in every language (the help card shows
// them as they are typed).
const (
	cmdPackages   = "packages"
	cmdStatus     = "status"
	cmdAccess     = "access"
	cmdApprovals  = "approvals"
	cmdHelp       = "help"
	cmdAdminHelp  = "/help"
	cmdPending    = "/pending"
	cmdExpiring   = "/expiring"
	cmdAudit      = "/audit"
	cmdAdminShort = "/orgs, /catalogs, /packages, /pending, /expiring, /audit"
)

// WelcomeView is what the Welcome card needs: who just opened the chat.
type WelcomeView struct {
	// UserName is the user's display name ("Rita Requester"); the card greets them by first name.
	UserName string
	// OrgName is the resource organization whose access packages the bot handles ("Contoso").
	OrgName string
	// IsGuest is true for a user of a partner tenant (a connected organization).
	IsGuest bool
	// HomeOrgName is a guest's own organization ("Fabrikam").
	HomeOrgName string
	// IsAdmin adds the admin section.
	IsAdmin bool
}

// Welcome is the first card a new user sees: what the bot does and buttons for the common actions.
func Welcome(l *i18n.Localizer, v WelcomeView) *Card {
	org := safe(orDefault(v.OrgName, l.T("common.yourOrganization")), maxName)
	c := newCard(l, l.T("welcome.fallback", "Org", org))
	c.add(title(l.T("welcome.title", "Name", safe(firstName(l, v.UserName), maxName))))
	if v.IsGuest {
		home := safe(orDefault(v.HomeOrgName, l.T("common.yourOrganization")), maxName)
		c.add(
			text(l.T("welcome.guest.intro", "Home", home, "Org", org)),
			heading(l.T("welcome.guest.howItWorks")),
			numbered(
				l.T("welcome.guest.step1", "Org", org),
				l.T("welcome.guest.step2", "Org", org),
				l.T("welcome.guest.step3", "Org", org),
			),
		)
	} else {
		c.add(
			text(l.T("welcome.member.intro", "Org", org)),
			heading(l.T("welcome.member.try")),
			FactSet{Facts: []Fact{
				{Title: cmdPackages, Value: l.T("help.packages")},
				{Title: cmdStatus, Value: l.T("help.status")},
				{Title: cmdAccess, Value: l.T("help.access")},
				{Title: cmdApprovals, Value: l.T("help.approvals")},
			}},
		)
	}
	if v.IsAdmin {
		c.add(
			Container{Separator: true, Spacing: SpacingMedium, Items: []Element{
				heading(l.T("welcome.admin.heading")),
				text(l.T("welcome.admin.text", "Commands", cmdAdminShort, "Help", cmdAdminHelp)),
				ActionSet{Actions: []Action{commandButton(l.T("button.adminHelp"), cmdAdminHelp)}, Spacing: SpacingSmall},
			}},
		)
	}
	c.Actions = []Action{
		commandButton(l.T("button.findPackages"), cmdPackages),
		commandButton(l.T("button.myRequests"), cmdStatus),
		commandButton(l.T("button.myAccess"), cmdAccess),
		commandButton(l.T("button.help"), cmdHelp),
	}
	return c
}

// numbered shows steps as "1  …" lines: the bare number, since "1." starts a Markdown list in Teams and its
// number vanishes.
func numbered(steps ...string) Container {
	ct := Container{Spacing: SpacingSmall}
	for i, s := range steps {
		ct.Items = append(ct.Items, ColumnSet{Spacing: SpacingSmall, Columns: []Column{
			{Width: widthStepNumber, Items: []Element{TextBlock{Text: strconv.Itoa(i + 1), Weight: WeightBolder}}},
			{Width: WidthStretch, Items: []Element{TextBlock{Text: s, Wrap: true}}},
		}})
	}
	return ct
}

const widthStepNumber = "20px"

func firstName(l *i18n.Localizer, name string) string {
	for i, r := range name {
		if r == ' ' {
			return name[:i]
		}
	}
	return orDefault(name, l.T("welcome.there"))
}

// HelpView is what the Help card needs.
type HelpView struct {
	// IsAdmin adds the admin commands.
	IsAdmin bool
	// IsGuest is true for a partner user (kept for callers; partners see the same buttons as employees).
	IsGuest bool
	// AdminOnly shows only the admin section (the /help command).
	AdminOnly bool
}

// helpLine is a command as typed (English in every language) and the catalog id of what it does.
type helpLine struct{ cmd, what string }

var requesterHelp = []helpLine{
	{"packages [words]", "help.packages"},
	{"request {package}", "help.request"},
	{"status", "help.status"},
	{"cancel {request}", "help.cancel"},
	{"access", "help.access"},
	{"extend {package}", "help.extend"},
	{"approvals", "help.approvals"},
	{"reviews", "help.reviews"},
	{"help", "help.help"},
}

var adminHelp = []helpLine{
	{"/orgs", "help.admin.orgs"},
	{"/connect {domain or tenant id} [name]", "help.admin.connect"},
	{"/disconnect {org}", "help.admin.disconnect"},
	{"/sponsors {org} add|remove {user}", "help.admin.sponsors"},
	{"/catalogs", "help.admin.catalogs"},
	{"/packages [catalog]", "help.admin.packages"},
	{"/package {name or id}", "help.admin.package"},
	{"/package new", "help.admin.packageNew"},
	{"/package {name} edit|delete", "help.admin.packageEdit"},
	{"/sod", "help.admin.sod"},
	{"/assign {user} {package}", "help.admin.assign"},
	{"/revoke {user} {package}", "help.admin.revoke"},
	{"/pending [package]", "help.admin.pending"},
	{"/expiring [days]", "help.admin.expiring"},
	{"/audit [user|package]", "help.admin.audit"},
	{"/reviews [package]", "help.admin.reviews"},
	{"/review {name} remind|stop|apply", "help.admin.review"},
	{"/review new {package} [manager|self]", "help.admin.reviewNew"},
	{"/review new {package} stages {who} then {who}", "help.admin.reviewNewStages"},
}

// Help lists the commands: the requester's, and the admin section for admins. The commands are shown as
// typed (English words in every language); what they do is in the reader's language.
func Help(l *i18n.Localizer, v HelpView) *Card {
	c := newCard(l, l.T("help.fallback"))
	if !v.AdminOnly {
		c.add(title(l.T("help.title")), subtitle(l.T("help.subtitle")))
		c.add(helpTable(l, requesterHelp))
	}
	if v.IsAdmin {
		if v.AdminOnly {
			c.add(title(l.T("help.admin.title")))
		} else {
			c.add(TextBlock{Text: l.T("help.admin.title"), Wrap: true, Size: SizeMedium, Weight: WeightBolder,
				Separator: true, Spacing: SpacingLarge})
		}
		c.add(subtitle(l.T("help.admin.subtitle")))
		c.add(helpTable(l, adminHelp))
	}
	if !v.AdminOnly {
		c.Actions = []Action{commandButton(l.T("button.findPackages"), cmdPackages),
			commandButton(l.T("button.myRequests"), cmdStatus),
			commandButton(l.T("button.myAccess"), cmdAccess),
			commandButton(l.T("button.approvals"), cmdApprovals)}
	} else {
		c.Actions = []Action{commandButton(l.T("button.pending"), cmdPending),
			commandButton(l.T("button.expiring"), cmdExpiring),
			commandButton(l.T("button.audit"), cmdAudit)}
	}
	return c
}

func helpTable(l *i18n.Localizer, lines []helpLine) FactSet {
	fs := FactSet{Spacing: SpacingMedium}
	for _, h := range lines {
		fs.Facts = append(fs.Facts, Fact{Title: h.cmd, Value: l.T(h.what)})
	}
	return fs
}
