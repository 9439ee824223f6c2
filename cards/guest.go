package cards

import (
	"fmt"
	"time"
)

// GuestStep is which guidance a partner user needs.
type GuestStep string

// The guest guidance variants.
const (
	// GuestInvited: the guest account exists (PendingAcceptance); accept the invitation, then switch.
	GuestInvited GuestStep = "invited"
	// GuestAccepted: the invitation was accepted ("You're in").
	GuestAccepted GuestStep = "accepted"
	// GuestEnding: the last assignment ends soon; the guest account will be blocked and later deleted.
	GuestEnding GuestStep = "ending"
)

// GuestGuidanceView is what a partner user needs to get into (or know about leaving) the resource tenant.
type GuestGuidanceView struct {
	Step GuestStep
	// GuestName is the partner user's name.
	GuestName string
	// OrgName, TenantID and TenantDomain identify the resource organization (Contoso).
	OrgName      string
	TenantID     string
	TenantDomain string
	// HomeOrgName is the guest's own organization (Fabrikam).
	HomeOrgName string
	// PackageName is the package that was delivered (or ends).
	PackageName string
	// InviteRedeemURL is Graph's invitation redemption link.
	InviteRedeemURL string
	// TeamName and TeamURL point to the team the package gave them; TeamURL may be empty.
	TeamName string
	TeamURL  string
	// AccessEnds is when the (last) assignment ends; zero for no end.
	AccessEnds time.Time
	// Now is used to say "in 5 days".
	Now time.Time
}

// GuestGuidance walks a partner user through accepting the invitation and switching Teams to the resource
// organization, confirms when they are in, and warns before their access ends.
func GuestGuidance(v GuestGuidanceView) *Card {
	org := safe(orDefault(v.OrgName, "the organization"), maxName)
	home := safe(orDefault(v.HomeOrgName, "your organization"), maxName)
	pkg := safe(v.PackageName, maxName)
	team := safe(v.TeamName, maxName)
	switchURL := ""
	if v.TenantID != "" {
		switchURL = TeamsTenantURL(v.TenantID)
	}

	switch v.Step {
	case GuestAccepted:
		c := newCard("You're in: you are a guest in " + org + ".")
		c.add(title("You're in"))
		line := "You accepted " + org + "'s invitation. Your guest account is ready"
		if pkg != "" {
			line += " and " + pkg + " is yours"
		}
		c.add(banner(StyleGood, line+".", ""))
		c.add(heading("Find it in Teams"))
		c.add(switchSteps(org, home, team))
		if !v.AccessEnds.IsZero() {
			c.add(TextBlock{Text: "Your access lasts until " + day(v.AccessEnds) + ".", Wrap: true, Spacing: SpacingMedium})
		}
		c.Actions = guestLinks(switchURL, org, v.TeamURL, team)
		return c

	case GuestEnding:
		c := newCard("Your guest access to " + org + " ends soon.")
		c.add(title("Your access to " + org + " ends soon"))
		ends := "soon"
		if !v.AccessEnds.IsZero() {
			ends = "on " + when(v.AccessEnds)
			if !v.Now.IsZero() && v.AccessEnds.After(v.Now) {
				ends += " (in " + humanDuration(v.AccessEnds.Sub(v.Now)) + ")"
			}
		}
		what := "Your access"
		if pkg != "" {
			what = pkg
		}
		c.add(banner(StyleWarning, what+" ends "+ends+".", ""))
		c.add(text(fmt.Sprintf("It is your last access in %s. When it ends, your guest account in %s is blocked "+
			"from signing in, and later deleted. Anything you keep in %s's teams and sites stays with %s; "+
			"your %s account is not affected.", org, org, org, org, home)))
		c.add(text("If you still need it, ask to extend it before it ends."))
		c.Actions = []Action{commandButton("Extend my access", "access"), commandButton("My requests", "status")}
		return c
	}

	// GuestInvited (the default).
	c := newCard(org + " added you as a guest: accept the invitation, then switch Teams to " + org + ".")
	c.add(title(org + " added you as a guest"))
	intro := "Your request was approved"
	if pkg != "" {
		intro = "Your request for " + pkg + " was approved"
	}
	c.add(text(intro + ". To use it, you join " + org + "'s directory as a guest with your own " + home +
		" account: no new password, and nothing changes in " + home + "."))

	c.add(TextBlock{Text: "Step 1 — Accept the invitation", Wrap: true, Weight: WeightBolder, Size: SizeMedium,
		Spacing: SpacingLarge, Separator: true})
	c.add(text("Open the invitation link and sign in with your " + home + " account. Microsoft then asks for your consent:"))
	c.add(Container{Style: StyleEmphasis, Spacing: SpacingSmall, Items: []Element{
		TextBlock{Text: org + " would like to:", Wrap: true, Weight: WeightBolder},
		TextBlock{Text: "• Read your name, email address and photo", Wrap: true, Spacing: SpacingSmall},
		TextBlock{Text: "This lets " + org + " show who you are to the people you work with. Select Accept.",
			Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall},
	}})
	if v.InviteRedeemURL != "" {
		c.add(ActionSet{Spacing: SpacingSmall, Actions: []Action{
			ActionOpenURL{Title: "Accept the invitation", URL: v.InviteRedeemURL},
		}})
	} else {
		c.add(TextBlock{Text: "The invitation link is on its way by email from " + org + ".", Wrap: true, IsSubtle: true})
	}

	c.add(TextBlock{Text: "Step 2 — Switch Teams to " + org, Wrap: true, Weight: WeightBolder, Size: SizeMedium,
		Spacing: SpacingLarge, Separator: true})
	c.add(switchSteps(org, home, team))
	c.add(footnote("I'll confirm here as soon as you've accepted. Until then your request shows \"Delivering — waiting for you to accept the invitation\"."))
	c.Actions = guestLinks(switchURL, org, v.TeamURL, team)
	return c
}

// switchSteps explains the Teams organization switcher.
func switchSteps(org, home, team string) Container {
	find := "Find the team you were given in your list of teams."
	if team != "" {
		find = "Find " + team + " in your list of teams."
	}
	return numbered(
		"In Teams, select your profile picture (top right). Under Accounts and orgs, choose "+org+" (Guest). "+
			"Or select \"Open Teams in "+org+"\" below.",
		find,
		"To come back to "+home+", switch the same way.",
	)
}

func guestLinks(switchURL, org, teamURL, team string) []Action {
	var acts []Action
	if switchURL != "" {
		acts = append(acts, ActionOpenURL{Title: "Open Teams in " + clip(org, 30), URL: switchURL})
	}
	if teamURL != "" {
		t := "Open the team"
		if team != "" {
			t = "Open " + clip(team, 30)
		}
		acts = append(acts, ActionOpenURL{Title: t, URL: teamURL})
	}
	return acts
}

// LinkOutView explains why a request has to be finished in My Access.
type LinkOutView struct {
	PackageID   string
	PackageName string
	// Reason says why the bot can't file it here ("Brokered requests are turned off for Fabrikam").
	Reason string
	// TenantDomain is the resource tenant's domain for the tenant-scoped link (contoso.onmicrosoft.com).
	TenantDomain string
	OrgName      string
}

// LinkOut sends the user to the tenant-scoped My Access page of the package, with the reason.
func LinkOut(v LinkOutView) *Card {
	org := safe(orDefault(v.OrgName, "the organization"), maxName)
	pkg := safe(orDefault(v.PackageName, "this package"), maxName)
	c := newCard("Request " + pkg + " in My Access.")
	c.add(title("Request " + pkg + " in My Access"))
	c.add(text(orDefault(safe(v.Reason, maxDescription), "I can't file this request for you from Teams.")))
	c.add(text("My Access is " + org + "'s own portal for access requests: the link opens the package directly. " +
		"Sign in with your work account (partners use their own organization's account), fill in the form and " +
		"submit; the approvers are asked as usual."))
	c.add(footnote(modeNote(ModeLinkOut, org)))
	c.Actions = []Action{ActionOpenURL{Title: "Open in My Access", URL: MyAccessURL(v.TenantDomain, v.PackageID)}}
	return c
}

// SignInReason is why a user must sign in.
type SignInReason string

// The sign-in reasons.
const (
	// SignInConsent: the user (or an admin) must consent before the bot can act as them.
	SignInConsent SignInReason = "consentRequired"
	// SignInUnavailable: Teams single sign-on did not give the bot a token (client, policy or tenant).
	SignInUnavailable SignInReason = "ssoUnavailable"
)

// SignInView explains a sign-in problem.
type SignInView struct {
	Reason SignInReason
	// Detail is an optional specific explanation (never a token or an internal error).
	Detail string
	// SignInURL is where to sign in / consent; MyAccessURL the fallback portal link. Either may be empty.
	SignInURL   string
	MyAccessURL string
	// RetryCommand is the command to run again after signing in ("request Falcon Team Member").
	RetryCommand string
	OrgName      string
}

// SignIn explains why the bot cannot act as the user yet and offers to sign in or use My Access.
func SignIn(v SignInView) *Card {
	org := safe(orDefault(v.OrgName, "your organization"), maxName)
	c := newCard("Sign in to let AccessBot act for you.")
	switch v.Reason {
	case SignInConsent:
		c.add(title("AccessBot needs your permission"))
		c.add(text("To request and approve access as you, AccessBot needs your consent to use your " + org +
			" account for access requests. It can only do what you could do yourself in My Access."))
	default:
		c.add(title("I couldn't sign you in"))
		c.add(text("Teams didn't give me a sign-in for you, so I can't act as you in " + org +
			". This happens in some Teams clients, with some sign-in policies, or right after the app is installed."))
	}
	if d := safe(v.Detail, maxShort); d != "" {
		c.add(TextBlock{Text: d, Wrap: true, IsSubtle: true})
	}
	switch {
	case v.SignInURL != "" && v.RetryCommand != "":
		c.add(numbered("Select Sign in, approve the request and come back here.", "Select Try again."))
	case v.SignInURL != "":
		c.add(text("Select Sign in, approve the request and come back here."))
	case v.RetryCommand != "":
		c.add(text("Try again in a minute; if it keeps failing, sign out of Teams and back in."))
	}
	if v.MyAccessURL != "" {
		c.add(TextBlock{Text: "Or do it in My Access, " + org + "'s own portal for access requests.", Wrap: true,
			Spacing: SpacingMedium})
	}
	if v.SignInURL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: "Sign in", URL: v.SignInURL})
	}
	if v.RetryCommand != "" {
		c.Actions = append(c.Actions, commandButton("Try again", v.RetryCommand))
	}
	if v.MyAccessURL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: "Open My Access", URL: v.MyAccessURL})
	}
	return c
}
