package cards

import (
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
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
	// TeamName and TeamURL point to the team the package gave them; TeamURL (the team's own deep link, which
	// carries the tenant) may be empty.
	TeamName string
	TeamURL  string
	// Links open the other resources the package grants (more teams, SharePoint sites); at most
	// maxResourceLinks are shown.
	Links []Link
	// AccessEnds is when the (last) assignment ends; zero for no end.
	AccessEnds time.Time
	// Now is used to say "in 5 days".
	Now time.Time
}

// GuestGuidance walks a partner user through accepting the invitation and switching Teams to the resource
// organization, confirms when they are in, and warns before their access ends.
func GuestGuidance(l *i18n.Localizer, v GuestGuidanceView) *Card {
	org := safe(orDefault(v.OrgName, l.T("common.theOrganization")), maxName)
	home := safe(orDefault(v.HomeOrgName, l.T("common.yourOrganization")), maxName)
	pkg := safe(v.PackageName, maxName)
	team := safe(v.TeamName, maxName)
	switchURL := ""
	if v.TenantID != "" {
		switchURL = TeamsTenantURL(v.TenantID)
	}

	switch v.Step {
	case GuestAccepted:
		c := newCard(l, l.T("guest.accepted.fallback", "Org", org))
		c.add(title(l.T("guest.accepted.title")))
		line := l.T("guest.accepted.banner", "Org", org)
		if pkg != "" {
			line = l.T("guest.accepted.bannerPackage", "Org", org, "Package", pkg)
		}
		c.add(banner(StyleGood, line, ""))
		c.add(heading(l.T("guest.accepted.find")))
		c.add(switchSteps(l, org, home, team, v.TeamURL != ""))
		if !v.AccessEnds.IsZero() {
			c.add(TextBlock{Text: l.T("guest.accepted.lasts", "Date", day(v.AccessEnds)), Wrap: true, Spacing: SpacingMedium})
		}
		c.Actions = guestLinks(l, switchURL, org, v.TeamURL, team, v.Links)
		return c

	case GuestEnding:
		return guestEnding(l, v, org, home, pkg)
	}

	// GuestInvited (the default).
	c := newCard(l, l.T("guest.invited.fallback", "Org", org))
	c.add(title(l.T("guest.invited.title", "Org", org)))
	intro := l.T("guest.invited.approved")
	if pkg != "" {
		intro = l.T("guest.invited.approvedPackage", "Package", pkg)
	}
	c.add(text(intro + " " + l.T("guest.invited.intro", "Org", org, "Home", home)))

	c.add(TextBlock{Text: l.T("guest.invited.step1"), Wrap: true, Weight: WeightBolder, Size: SizeMedium,
		Spacing: SpacingLarge, Separator: true})
	c.add(text(l.T("guest.invited.step1Text", "Home", home)))
	c.add(Container{Style: StyleEmphasis, Spacing: SpacingSmall, Items: []Element{
		TextBlock{Text: l.T("guest.invited.consentTitle", "Org", org), Wrap: true, Weight: WeightBolder},
		TextBlock{Text: bullet + l.T("guest.invited.consentScope"), Wrap: true, Spacing: SpacingSmall},
		TextBlock{Text: l.T("guest.invited.consentWhy", "Org", org),
			Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall},
	}})
	if v.InviteRedeemURL != "" {
		c.add(ActionSet{Spacing: SpacingSmall, Actions: []Action{
			ActionOpenURL{Title: l.T("button.acceptInvitation"), URL: v.InviteRedeemURL},
		}})
	} else {
		c.add(TextBlock{Text: l.T("guest.invited.byEmail", "Org", org), Wrap: true, IsSubtle: true})
	}

	c.add(TextBlock{Text: l.T("guest.invited.step2", "Org", org), Wrap: true, Weight: WeightBolder, Size: SizeMedium,
		Spacing: SpacingLarge, Separator: true})
	c.add(switchSteps(l, org, home, team, v.TeamURL != ""))
	c.add(footnote(l.T("guest.invited.footnote", "State", l.T("status.waitingInvitation", "State", l.T("state.delivering")))))
	c.Actions = guestLinks(l, switchURL, org, v.TeamURL, team, v.Links)
	return c
}

// guestEnding warns a guest that their last access ends soon.
func guestEnding(l *i18n.Localizer, v GuestGuidanceView, org, home, pkg string) *Card {
	c := newCard(l, l.T("guest.ending.fallback", "Org", org))
	c.add(title(l.T("guest.ending.title", "Org", org)))
	what := orDefault(pkg, l.T("guest.ending.yourAccess"))
	line := l.T("guest.ending.soon", "What", what)
	if !v.AccessEnds.IsZero() {
		line = l.T("guest.ending.on", "What", what, "When", when(v.AccessEnds))
		if !v.Now.IsZero() && v.AccessEnds.After(v.Now) {
			line = l.T("guest.ending.onIn", "What", what, "When", when(v.AccessEnds), "In", l.Duration(v.AccessEnds.Sub(v.Now)))
		}
	}
	c.add(banner(StyleWarning, line, ""))
	c.add(text(l.T("guest.ending.text", "Org", org, "Home", home)))
	c.add(text(l.T("guest.ending.extend")))
	c.Actions = []Action{commandButton(l.T("button.extendMyAccess"), cmdAccess), commandButton(l.T("button.myRequests"), cmdStatus)}
	return c
}

// switchSteps explains the Teams organization switcher.
func switchSteps(l *i18n.Localizer, org, home, team string, teamLink bool) Container {
	find := l.T("guest.switch.findAny")
	switch {
	case team != "" && teamLink:
		find = l.T("guest.switch.findTeamLink", "Team", team, "Button", l.T("button.openNamed", "Name", clip(team, 30)))
	case team != "":
		find = l.T("guest.switch.findTeam", "Team", team)
	}
	return numbered(
		l.T("guest.switch.step1", "Org", org, "Button", l.T("button.openTeamsIn", "Org", org)),
		find,
		l.T("guest.switch.back", "Home", home),
	)
}

// maxResourceLinks bounds the resource buttons of the guest guidance (Teams shows a handful of actions).
const maxResourceLinks = 3

func guestLinks(l *i18n.Localizer, switchURL, org, teamURL, team string, links []Link) []Action {
	var acts []Action
	if switchURL != "" {
		acts = append(acts, ActionOpenURL{Title: l.T("button.openTeamsIn", "Org", clip(org, 30)), URL: switchURL})
	}
	if teamURL != "" {
		t := l.T("button.openTheTeam")
		if team != "" {
			t = l.T("button.openNamed", "Name", clip(team, 30))
		}
		acts = append(acts, ActionOpenURL{Title: t, URL: teamURL})
	}
	for i, k := range links {
		if i == maxResourceLinks || k.URL == "" {
			break
		}
		acts = append(acts, ActionOpenURL{Title: l.T("button.openNamed", "Name", clip(safe(k.Title, maxName), 30)), URL: k.URL})
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
func LinkOut(l *i18n.Localizer, v LinkOutView) *Card {
	org := safe(orDefault(v.OrgName, l.T("common.theOrganization")), maxName)
	pkg := safe(orDefault(v.PackageName, l.T("linkOut.thisPackage")), maxName)
	c := newCard(l, l.T("linkOut.title", "Package", pkg))
	c.add(title(l.T("linkOut.title", "Package", pkg)))
	c.add(text(orDefault(safe(v.Reason, maxDescription), l.T("linkOut.reason"))))
	c.add(text(l.T("linkOut.text", "Org", org)))
	c.add(footnote(modeNote(l, ModeLinkOut, org)))
	c.Actions = []Action{ActionOpenURL{Title: l.T("button.openInMyAccess"), URL: MyAccessURL(v.TenantDomain, v.PackageID)}}
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
func SignIn(l *i18n.Localizer, v SignInView) *Card {
	org := safe(orDefault(v.OrgName, l.T("common.yourOrganization")), maxName)
	c := newCard(l, l.T("signIn.fallback"))
	switch v.Reason {
	case SignInConsent:
		c.add(title(l.T("signIn.consent.title")))
		c.add(text(l.T("signIn.consent.text", "Org", org)))
	default:
		c.add(title(l.T("signIn.unavailable.title")))
		c.add(text(l.T("signIn.unavailable.text", "Org", org)))
	}
	if d := safe(v.Detail, maxShort); d != "" {
		c.add(TextBlock{Text: d, Wrap: true, IsSubtle: true})
	}
	switch {
	case v.SignInURL != "" && v.RetryCommand != "":
		c.add(numbered(l.T("signIn.stepSignIn"), l.T("signIn.stepRetry")))
	case v.SignInURL != "":
		c.add(text(l.T("signIn.stepSignIn")))
	case v.RetryCommand != "":
		c.add(text(l.T("signIn.retryLater")))
	}
	if v.MyAccessURL != "" {
		c.add(TextBlock{Text: l.T("signIn.orMyAccess", "Org", org), Wrap: true, Spacing: SpacingMedium})
	}
	if v.SignInURL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: l.T("button.signIn"), URL: v.SignInURL})
	}
	if v.RetryCommand != "" {
		c.Actions = append(c.Actions, commandButton(l.T("button.tryAgain"), v.RetryCommand))
	}
	if v.MyAccessURL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: l.T("button.openMyAccess"), URL: v.MyAccessURL})
	}
	return c
}
