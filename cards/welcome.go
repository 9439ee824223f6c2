package cards

import "fmt"

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
func Welcome(v WelcomeView) *Card {
	org := safe(orDefault(v.OrgName, "your organization"), maxName)
	c := newCard("Welcome to AccessBot: ask for access to " + org + "'s resources from chat.")
	c.add(title("Hi " + safe(firstName(v.UserName), maxName) + ", I'm AccessBot"))
	if v.IsGuest {
		home := safe(orDefault(v.HomeOrgName, "your organization"), maxName)
		c.add(
			text(fmt.Sprintf("You're chatting from %s. %s works with %s as a partner, so you can ask me for "+
				"access to the %s teams, sites and apps that %s people may request.", home, org, home, org, home)),
			heading("How it works for partners"),
			numbered(
				"Find a package and send a request; I ask "+org+"'s approvers for you.",
				"When it's approved, "+org+" invites you as a guest: you accept once, in your browser.",
				"Then you switch Teams to "+org+" and find the team you were given. I walk you through it.",
			),
		)
	} else {
		c.add(
			text(fmt.Sprintf("I get you access to %s's teams, sites and apps without leaving Teams: find an "+
				"access package, request it, and I'll keep you posted while approvers decide.", org)),
			heading("Try"),
			FactSet{Facts: []Fact{
				{Title: "packages", Value: "what you can request (add words to search)"},
				{Title: "status", Value: "your open and recent requests"},
				{Title: "access", Value: "what you have and when it ends"},
				{Title: "approvals", Value: "requests waiting for your decision"},
			}},
		)
	}
	if v.IsAdmin {
		c.add(
			Container{Separator: true, Spacing: SpacingMedium, Items: []Element{
				heading("You're an AccessBot admin"),
				text("Admin commands start with a slash: /orgs, /catalogs, /packages, /pending, /expiring and /audit. " +
					"Type /help for the full list."),
				ActionSet{Actions: []Action{commandButton("Admin help", "/help")}, Spacing: SpacingSmall},
			}},
		)
	}
	c.Actions = []Action{
		commandButton("Find packages", "packages"),
		commandButton("My requests", "status"),
	}
	if !v.IsGuest {
		c.Actions = append(c.Actions, commandButton("My access", "access"))
	}
	c.Actions = append(c.Actions, commandButton("Help", "help"))
	return c
}

// numbered shows steps as "1  …" lines: the bare number, since "1." starts a Markdown list in Teams and its
// number vanishes.
func numbered(steps ...string) Container {
	ct := Container{Spacing: SpacingSmall}
	for i, s := range steps {
		ct.Items = append(ct.Items, ColumnSet{Spacing: SpacingSmall, Columns: []Column{
			{Width: "20px", Items: []Element{TextBlock{Text: fmt.Sprintf("%d", i+1), Weight: WeightBolder}}},
			{Width: WidthStretch, Items: []Element{TextBlock{Text: s, Wrap: true}}},
		}})
	}
	return ct
}

func firstName(name string) string {
	for i, r := range name {
		if r == ' ' {
			return name[:i]
		}
	}
	return orDefault(name, "there")
}

// HelpView is what the Help card needs.
type HelpView struct {
	// IsAdmin adds the admin commands.
	IsAdmin bool
	// IsGuest is true for a partner user: the buttons skip the Contoso-only actions.
	IsGuest bool
	// AdminOnly shows only the admin section (the /help command).
	AdminOnly bool
}

type helpLine struct{ cmd, what string }

var requesterHelp = []helpLine{
	{"packages [words]", "packages you can request; add words to search"},
	{"request {package}", "open the request form"},
	{"status", "your open and recent requests"},
	{"cancel {request}", "cancel a request that is still open"},
	{"access", "what you have, until when; extend or remove"},
	{"extend {package}", "ask for more time where the policy allows"},
	{"approvals", "requests waiting for your decision"},
	{"help", "this card"},
}

var adminHelp = []helpLine{
	{"/orgs", "connected organizations"},
	{"/connect {domain or tenant id} [name]", "connect a partner organization"},
	{"/disconnect {org}", "remove a connected organization"},
	{"/sponsors {org} add|remove {user}", "manage an organization's sponsors"},
	{"/catalogs", "catalogs"},
	{"/packages [catalog]", "access packages"},
	{"/package {name or id}", "policies, approvers, expiry, My Access link"},
	{"/assign {user} {package}", "assign directly (no approval)"},
	{"/revoke {user} {package}", "remove an assignment"},
	{"/pending [package]", "requests waiting for approval"},
	{"/expiring [days]", "assignments that end soon"},
	{"/audit [user|package]", "recent actions"},
}

// Help lists the commands: the requester's, and the admin section for admins.
func Help(v HelpView) *Card {
	c := newCard("AccessBot commands: packages, request, status, cancel, access, extend, approvals, help.")
	if !v.AdminOnly {
		c.add(title("What I can do"),
			subtitle("Type a command, or just say what you need (\"I need access to Falcon\")."))
		c.add(helpTable(requesterHelp))
	}
	if v.IsAdmin {
		if v.AdminOnly {
			c.add(title("Admin commands"))
		} else {
			c.add(TextBlock{Text: "Admin commands", Wrap: true, Size: SizeMedium, Weight: WeightBolder,
				Separator: true, Spacing: SpacingLarge})
		}
		c.add(subtitle("Only AccessBot admins (the admin group or an admin directory role) can run these. Changes ask for confirmation and are audited."))
		c.add(helpTable(adminHelp))
	}
	if !v.AdminOnly {
		c.Actions = []Action{commandButton("Find packages", "packages"), commandButton("My requests", "status")}
		if !v.IsGuest {
			c.Actions = append(c.Actions, commandButton("My access", "access"))
		}
		c.Actions = append(c.Actions, commandButton("Approvals", "approvals"))
	} else {
		c.Actions = []Action{commandButton("Pending", "/pending"), commandButton("Expiring", "/expiring"),
			commandButton("Audit", "/audit")}
	}
	return c
}

func helpTable(lines []helpLine) FactSet {
	fs := FactSet{Spacing: SpacingMedium}
	for _, l := range lines {
		fs.Facts = append(fs.Facts, Fact{Title: l.cmd, Value: l.what})
	}
	return fs
}
