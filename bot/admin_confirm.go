package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"regexp"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// Destructive admin commands (/disconnect, /sponsors … remove, /assign, /revoke) do nothing at first: they
// store a pending confirmation in the store's dialogs under a random token, bound to the admin who asked and
// valid for adminConfirmTTL, and show cards.AdminConfirm. The admin.confirm verb runs the change once; a
// click by someone else, a second click or a click after expiry changes nothing and says why.

// Pending admin operations.
const (
	opDisconnect    = "disconnect"
	opSponsorRemove = "sponsor.remove"
	opAssign        = "assign"
	opRevoke        = "revoke"
	opPackageDelete = "package.delete"
)

// Pending confirmation states.
const (
	pendingWaiting   = ""
	pendingRunning   = "running"
	pendingDone      = "done"
	pendingFailed    = "failed"
	pendingCancelled = "cancelled"
)

// adminPendingOp is a destructive admin command waiting for its confirmation (stored as a dialog).
type adminPendingOp struct {
	Token     string    `json:"token"`
	Op        string    `json:"op"`
	TenantID  string    `json:"tenantId"`
	AdminID   string    `json:"adminId"`
	AdminName string    `json:"adminName,omitempty"`
	Created   time.Time `json:"created"`
	Expires   time.Time `json:"expires"`
	// State is "" while waiting, then running, done, failed or cancelled.
	State   string    `json:"state,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	Closed  time.Time `json:"closed,omitzero"`

	OrgID          string `json:"orgId,omitempty"`
	OrgName        string `json:"orgName,omitempty"`
	SponsorKind    string `json:"sponsorKind,omitempty"`
	UserID         string `json:"userId,omitempty"`
	UserName       string `json:"userName,omitempty"`
	UserEmail      string `json:"userEmail,omitempty"`
	PackageID      string `json:"packageId,omitempty"`
	PackageName    string `json:"packageName,omitempty"`
	PolicyID       string `json:"policyId,omitempty"`
	PolicyName     string `json:"policyName,omitempty"`
	AssignmentID   string `json:"assignmentId,omitempty"`
	ConnectedOrgID string `json:"connectedOrgId,omitempty"`
	// External marks a connected organization's user (a guest here, or assigned by mail address).
	External bool `json:"external,omitempty"`
	// ReviewID and InstanceID name the access review of /review stop|apply (for /review new: reviewers and
	// recurrence).
	ReviewID   string `json:"reviewId,omitempty"`
	InstanceID string `json:"instanceId,omitempty"`
}

var adminTokenRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func adminDialogKey(token string) string { return "admin.confirm." + token }

func newAdminToken() (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate confirmation token: %w", err)
	}
	return hex.EncodeToString(raw[:]), nil
}

// askConfirmation stores op as a pending confirmation and shows the confirm card.
func (b *Bot) askConfirmation(ctx context.Context, c *adminCall, op adminPendingOp, view cards.AdminConfirmView) error {
	token, err := newAdminToken()
	if err != nil {
		return err
	}
	now := b.now()
	op.Token = token
	op.TenantID, op.AdminID, op.AdminName = c.t.tenantID, c.t.userID, c.t.userName
	op.Created = now.UTC()
	op.Expires = now.Add(adminConfirmTTL).UTC()
	if err := b.cfg.Store.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		return fmt.Errorf("store pending %s confirmation: %w", op.Op, err)
	}
	view.Token = token
	c.entry.Outcome = "confirmation requested"
	c.entry.Details = admDetail(c.entry.Details, "token", token[:8])
	_, err = b.sendCard(ctx, c.t, cards.AdminConfirm(c.t.loc, view))
	return err
}

func (b *Bot) onAdminConfirm(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	return b.closePending(ctx, t, data, true)
}

func (b *Bot) onAdminCancel(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	return b.closePending(ctx, t, data, false)
}

// closePending handles a click on Confirm (run) or Cancel. It claims the pending operation under a lock, so
// only the first valid click acts.
func (b *Bot) closePending(ctx context.Context, t *turn, data map[string]any, run bool) (*botframework.InvokeResponse, error) {
	verb := "cancel"
	if run {
		verb = "confirm"
	}
	entry := b.adminEntry(t, "admin."+verb)
	refuse := func(title, text, why string) (*botframework.InvokeResponse, error) {
		entry.Outcome = "refused: " + why
		b.appendAudit(ctx, entry)
		t.log.InfoContext(ctx, "admin confirmation refused", "verb", verb, "why", why)
		return noticeCard(t.loc, noticeWarning, title, text), nil
	}
	token, _ := data[cards.KeyToken].(string)
	if !adminTokenRE.MatchString(token) {
		return refuse("This button can't be used", "The confirmation could not be read (its token is missing or malformed). Nothing was changed; run the command again.", "malformed token")
	}
	entry.Details = map[string]string{"token": token[:8]}
	if run {
		// Membership may need Graph: ask before taking the lock that serializes confirmations.
		b.checkAdmin(ctx, t)
	}

	unlock, err := b.core.Lock(ctx, "admin-confirm:"+token[:8]) // a double click (or two replicas) runs a change once
	if err != nil {
		return nil, err
	}
	var op adminPendingOp
	err = b.cfg.Store.Dialog(ctx, adminDialogKey(token), &op)
	if errors.Is(err, store.ErrNotFound) {
		unlock()
		return refuse("This confirmation is no longer valid", "I don't know this confirmation (it expired and was cleaned up, or never existed). Nothing was changed; run the command again.", "unknown token")
	}
	if err != nil {
		unlock()
		return nil, fmt.Errorf("load pending confirmation: %w", err)
	}
	entry.Action = "admin." + op.Op + "." + verb
	entry.SubjectID, entry.SubjectName = op.UserID, op.UserName
	entry.PackageID, entry.PackageName = op.PackageID, op.PackageName
	if op.OrgID != "" && op.UserID == "" {
		entry.SubjectID, entry.SubjectName = op.OrgID, op.OrgName
	}
	if !strings.EqualFold(op.AdminID, t.userID) || !strings.EqualFold(op.TenantID, t.tenantID) {
		unlock()
		who := orUnknown(op.AdminName, "another admin")
		return refuse("Not yours to confirm", fmt.Sprintf("Only %s, who ran the command, can confirm or cancel it. Nothing was changed.", who),
			"confirmation belongs to "+orUnknown(op.AdminName, op.AdminID))
	}
	now := b.now()
	if op.State != pendingWaiting {
		expired := !now.Before(op.Expires)
		if expired {
			// Closed (or interrupted) and past its validity: nothing can use it any more, so drop it.
			if derr := b.cfg.Store.DeleteDialog(ctx, adminDialogKey(token)); derr != nil {
				t.log.WarnContext(ctx, "delete closed confirmation", "err", derr)
			}
		}
		unlock()
		text := fmt.Sprintf("This was already %s (%s). Nothing more was changed.", op.State, orUnknown(op.Outcome, "no details"))
		switch {
		case op.State == pendingRunning && expired:
			text = "This change was interrupted while it was being carried out. Check the result (for example with /audit) and run the command again if needed."
		case op.State == pendingRunning:
			text = "This is already being carried out. Nothing more was changed."
		}
		return refuse("Already handled", text, "already "+op.State)
	}
	if !now.Before(op.Expires) {
		if derr := b.cfg.Store.DeleteDialog(ctx, adminDialogKey(token)); derr != nil {
			t.log.WarnContext(ctx, "delete expired confirmation", "err", derr)
		}
		unlock()
		return refuse("This confirmation expired", fmt.Sprintf("Confirmations are valid for %s and this one expired. Nothing was changed; run the command again.",
			admRoughDuration(t.loc, adminConfirmTTL)), "expired")
	}
	if run {
		if !t.admin {
			unlock()
			return refuse("Not allowed", "You are no longer an AccessBot admin (a member of the admin group or the holder of an admin directory role). Nothing was changed.", "not an admin")
		}
		op.State = pendingRunning
	} else {
		op.State, op.Outcome = pendingCancelled, "cancelled by "+orUnknown(t.userName, t.userID)
		op.Closed = now.UTC()
	}
	if err := b.cfg.Store.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		unlock()
		return nil, fmt.Errorf("claim pending confirmation: %w", err)
	}
	unlock()

	if !run {
		entry.Outcome = "cancelled"
		b.appendAudit(ctx, entry)
		return noticeCard(t.loc, noticeInfo, "Cancelled", "Nothing was changed."), nil
	}

	title, text, runErr := b.runPending(ctx, t, op)
	op.Closed = b.now().UTC()
	kind := noticeSuccess
	if runErr != nil {
		var ae *adminError
		if errors.As(runErr, &ae) {
			title, text = ae.title, ae.text
		} else {
			t.log.ErrorContext(ctx, "admin change failed", "op", op.Op, "err", runErr)
			title, text = "That didn't work", entitlement.UserMessage(runErr)
		}
		kind = noticeError
		op.State, op.Outcome = pendingFailed, text
		entry.Outcome = "failed: " + text
	} else {
		op.State, op.Outcome = pendingDone, text
		entry.Outcome = "done"
		b.notifyAccessChange(ctx, t, op)
	}
	if err := b.cfg.Store.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		t.log.ErrorContext(ctx, "record confirmation outcome", "err", err)
	}
	b.appendAudit(ctx, entry)
	return noticeCard(t.loc, kind, title, text), nil
}

// runPending carries out a confirmed operation and describes the result.
func (b *Bot) runPending(ctx context.Context, t *turn, op adminPendingOp) (string, string, error) {
	by := orUnknown(t.userName, t.userID)
	switch op.Op {
	case opReviewStop, opReviewApply, opReviewCreate:
		return b.runReviewOp(ctx, op)
	case opDisconnect:
		if err := b.cfg.Entitlement.DeleteConnectedOrg(ctx, op.OrgID); err != nil {
			return "", "", fmt.Errorf("delete connected organization %s: %w", op.OrgID, err)
		}
		b.forgetConnectedOrgs()
		return "Disconnected " + op.OrgName,
			fmt.Sprintf("%s is no longer a connected organization: its users can't request new access.", op.OrgName), nil
	case opSponsorRemove:
		if err := b.cfg.Entitlement.RemoveSponsor(ctx, op.OrgID, entitlement.SponsorKind(op.SponsorKind), op.UserID); err != nil {
			return "", "", fmt.Errorf("remove %s sponsor %s of %s: %w", op.SponsorKind, op.UserID, op.OrgID, err)
		}
		return "Sponsor removed", fmt.Sprintf("%s is no longer an %s sponsor of %s.", op.UserName, op.SponsorKind, op.OrgName), nil
	case opAssign:
		in := entitlement.AdminAddInput{
			PackageID:     op.PackageID,
			PolicyID:      op.PolicyID,
			TargetID:      op.UserID,
			TargetName:    op.UserName,
			Justification: "Assigned directly by " + by + " (AccessBot admin command; no approval).",
		}
		if op.UserID == "" {
			in.TargetEmail, in.ConnectedOrgID = op.UserEmail, op.ConnectedOrgID
		}
		req, err := b.cfg.Entitlement.AdminAdd(ctx, in)
		if err != nil {
			return "", "", fmt.Errorf("assign package %s to %s: %w", op.PackageID, orUnknown(op.UserID, op.UserEmail), err)
		}
		return "Assigned " + op.PackageName,
			fmt.Sprintf("%s was assigned %s directly, without approval (request %s, %s).", op.UserName, op.PackageName, req.ID, orUnknown(string(req.State), "submitted")), nil
	case opPackageDelete:
		return b.runPackageDelete(ctx, op)
	case opRevoke:
		req, err := b.cfg.Entitlement.AdminRemove(ctx, op.AssignmentID, "Removed by "+by+" (AccessBot admin command).")
		if err != nil {
			return "", "", fmt.Errorf("remove assignment %s: %w", op.AssignmentID, err)
		}
		return "Revoked " + op.PackageName,
			fmt.Sprintf("%s's assignment of %s is being removed (request %s, %s).", op.UserName, op.PackageName, req.ID, orUnknown(string(req.State), "submitted")), nil
	}
	return "", "", &adminError{title: "Unknown change", text: fmt.Sprintf("The pending change %q is not something I can carry out. Nothing was changed.", op.Op)}
}

// notifyAccessChange tells the person whose access a confirmed /assign or /revoke changed, through the
// outbox's notification: a member in their chat (created when needed), a partner user only through a chat
// the bot already has with them. An admin changing their own access is not told again.
func (b *Bot) notifyAccessChange(ctx context.Context, t *turn, op adminPendingOp) {
	if op.Op != opAssign && op.Op != opRevoke || op.UserID == "" && op.UserEmail == "" || strings.EqualFold(op.UserID, t.userID) {
		return
	}
	admin := orUnknown(t.userName, "An admin") + " (AccessBot admin)"
	job := notifyJob{TenantID: b.cfg.Tenant.ID, UserID: op.UserID, Partner: op.External || op.UserID == "", Email: op.UserEmail}
	if op.Op == opAssign {
		job.Kind, job.Title = noticeSuccess, "Access granted"
		job.Text = fmt.Sprintf("%s gave you %s. It is being set up now.", admin, op.PackageName)
		if job.Partner {
			job.Text = fmt.Sprintf("%s gave you %s in %s. It is being set up now.", admin, op.PackageName, orUnknown(b.cfg.Tenant.Name, "the organization"))
		}
		job.Buttons = []notifyButton{{Title: "My access", Command: "access"}, {Title: "My requests", Command: "status"}}
	} else {
		job.Kind, job.Title = noticeInfo, "Access removed"
		job.Text = fmt.Sprintf("%s removed your access to %s.", admin, op.PackageName)
		job.Buttons = []notifyButton{{Title: "My access", Command: "access"}}
	}
	b.enqueue(ctx, OutboxNotify, job)
}

// --- the commands ----------------------------------------------------------------------------------------

func (b *Bot) adminDisconnect(ctx context.Context, c *adminCall) error {
	arg := strings.TrimSpace(strings.Join(c.cmd.Args, " "))
	if arg == "" {
		return admUsageErr("disconnect", "give the organization (name, id, tenant id or domain)")
	}
	org, err := b.resolveOrg(ctx, "disconnect", arg)
	if err != nil {
		return err
	}
	c.entry.SubjectID, c.entry.SubjectName = org.ID, org.Name
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opDisconnect, OrgID: org.ID, OrgName: org.Name}, cards.AdminConfirmView{
		Title: "Disconnect " + org.Name + "?",
		Summary: fmt.Sprintf("%s stops being a connected organization: its users can no longer request %s access packages, "+
			"and policies that name it no longer cover them.", org.Name, b.tenantName()),
		Details: []cards.Fact{
			{Title: "Organization", Value: org.Name},
			{Title: "State", Value: orgStateWords(org.State)},
			{Title: "Identity source", Value: orgSourceWords(org)},
			{Title: "Id", Value: org.ID},
		},
		ConfirmLabel: "Disconnect",
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
			return sa, admUsageErr("sponsors", "give the organization")
		}
		return sa, nil
	}
	if k == 0 {
		return sa, admUsageErr("sponsors", "give the organization before %q", args[0])
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
		return sa, admUsageErr("sponsors", "give the user to %s (sign-in name, mail or object id)", sa.action)
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
		if sa.action == "" && len(c.cmd.Args) > 1 && errors.As(err, &ae) && ae.title == "No such organization" {
			// "/sponsors Fabrikam ad rita@…": the organization resolves alone, the action word is wrong.
			if _, err2 := b.resolveOrg(ctx, "sponsors", c.cmd.Args[0]); err2 == nil {
				return admUsageErr("sponsors", "expected add or remove after the organization, got %q", c.cmd.Args[1])
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
	v := cards.AdminTableView{
		Title:     "Sponsors of " + org.Name,
		Subtitle:  "Sponsors approve requests from this organization where a policy names them.",
		Columns:   []string{"Sponsor", "Kind", "Sign-in name"},
		EmptyText: org.Name + " has no sponsors. Add one with /sponsors " + admQuote(org.Name) + " add {user}.",
		Footnote:  "Change them with /sponsors " + admQuote(org.Name) + " add|remove {user}.",
	}
	for _, u := range sp.Internal {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{orUnknown(u.Name, u.ID), "internal", admOrDash(orUnknown(u.UPN, u.Mail))}})
	}
	for _, u := range sp.External {
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{orUnknown(u.Name, u.ID), "external", admOrDash(orUnknown(u.UPN, u.Mail))}})
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
				return &adminError{title: "Already a sponsor", text: fmt.Sprintf("/sponsors: %s is already a sponsor of %s. Nothing was changed.", admUserLabel(u), org.Name)}
			}
		}
	}
	if err := b.cfg.Entitlement.AddSponsor(ctx, org.ID, kind, u.ID); err != nil {
		return fmt.Errorf("add %s sponsor %s to %s: %w", kind, u.ID, org.ID, err)
	}
	c.entry.Outcome = "added " + string(kind) + " sponsor"
	return b.sendNotice(ctx, c.t, noticeSuccess, "Sponsor added",
		fmt.Sprintf("%s is now an %s sponsor of %s.", admUserLabel(u), kind, org.Name),
		[]cards.Suggestion{{Title: "Sponsors", Command: "/sponsors " + admQuote(org.Name)}})
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
	i, err := admResolve("sponsors", "sponsor of "+org.Name, sa.user, cs)
	if err != nil {
		var ae *adminError
		if errors.As(err, &ae) && strings.HasPrefix(ae.title, "No such") {
			ae.title = "Not a sponsor"
			ae.text = fmt.Sprintf("/sponsors: %q is not a sponsor of %s. Nothing was changed.", sa.user, org.Name)
		}
		return err
	}
	s := all[i]
	c.entry.SubjectID, c.entry.SubjectName = s.u.ID, s.u.Name
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opSponsorRemove, OrgID: org.ID, OrgName: org.Name, SponsorKind: string(s.kind),
		UserID: s.u.ID, UserName: orUnknown(s.u.Name, s.u.ID)}, cards.AdminConfirmView{
		Title:   fmt.Sprintf("Remove %s as a sponsor of %s?", orUnknown(s.u.Name, s.u.ID), org.Name),
		Summary: fmt.Sprintf("%s stops being an %s sponsor: policies that ask sponsors to approve no longer ask them.", orUnknown(s.u.Name, s.u.ID), s.kind),
		Details: []cards.Fact{
			{Title: "Sponsor", Value: admUserLabel(s.u)},
			{Title: "Kind", Value: string(s.kind)},
			{Title: "Organization", Value: org.Name},
		},
		ConfirmLabel: "Remove sponsor",
	})
}

// userAndPackage splits "<user> <package>": the first argument is the user, the rest the package name.
func userAndPackage(cmd string, args []string) (string, string, error) {
	if len(args) < 2 {
		return "", "", admUsageErr(cmd, "expected a user and a package, got %d argument(s); quote names with spaces", len(args))
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
	external := false
	var who string
	u, uerr := b.resolveUser(ctx, "assign", userArg)
	var ae *adminError
	switch {
	case uerr == nil:
		op.UserID, op.UserName, op.UserEmail = u.ID, orUnknown(u.Name, u.UPN), u.Mail
		external = u.IsGuest()
		op.External = external
		who = admUserLabel(u)
	case errors.As(uerr, &ae) && ae.title == "No such user" && strings.Contains(userArg, "@"):
		// Not in the directory yet: a connected organization's user, assigned by mail (Entra invites them).
		org, oerr := b.orgForEmail(ctx, userArg)
		if oerr != nil {
			return oerr
		}
		op.UserEmail, op.UserName, op.ConnectedOrgID = userArg, userArg, org.ID
		external = true
		op.External = true
		who = userArg + " (" + org.Name + ", not yet a guest)"
	default:
		return uerr
	}
	c.entry.SubjectID, c.entry.SubjectName = op.UserID, op.UserName
	pols, err := b.cfg.Entitlement.Policies(ctx, pkg.ID)
	if err != nil {
		return fmt.Errorf("list policies of package %s: %w", pkg.ID, err)
	}
	var pol *entitlement.Policy
	for i := range pols {
		if admPolicyCovers(pols[i], external) {
			pol = &pols[i]
			break
		}
	}
	if pol == nil {
		whom := "members of " + b.tenantName()
		if external {
			whom = "users of connected organizations"
		}
		return &adminError{title: "No policy fits",
			text: fmt.Sprintf("/assign: no policy of %s covers %s, so %s can't be assigned it. Nothing was changed.", pkg.Name, whom, who)}
	}
	op.PolicyID, op.PolicyName = pol.ID, pol.Name
	if op.UserID != "" {
		as, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: pkg.ID, TargetID: op.UserID})
		if err != nil {
			return fmt.Errorf("check existing assignments of %s: %w", op.UserID, err)
		}
		for _, a := range as {
			if admActive(a.State) {
				return &adminError{title: "Already assigned",
					text: fmt.Sprintf("/assign: %s already has %s (until %s). Nothing was changed.", who, pkg.Name, admStamp(a.EndsAt()))}
			}
		}
	}
	approval := "This policy assigns without approval."
	if pol.ApprovalRequired && len(pol.Stages) > 0 {
		approval = fmt.Sprintf("This bypasses the policy's approval (%s): no approver is asked.", lifecycle.Pluralize(len(pol.Stages), "stage"))
	}
	return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{
		Title: fmt.Sprintf("Assign %s to %s?", pkg.Name, op.UserName),
		Summary: "Direct assignment by an admin. " + approval + " Entra delivers the access right away" +
			" and the assignment follows the policy's expiry.",
		Details: []cards.Fact{
			{Title: "User", Value: who},
			{Title: "Package", Value: pkg.Name},
			{Title: "Policy", Value: orUnknown(pol.Name, pol.ID)},
			{Title: "Expiry", Value: admExpiryWords(pol.Expiration)},
			{Title: "Approval", Value: "Bypassed (direct admin assignment)"},
		},
		ConfirmLabel: "Assign",
	})
}

// orgForEmail finds the connected organization whose tenant owns the mail address's domain.
func (b *Bot) orgForEmail(ctx context.Context, email string) (entitlement.ConnectedOrg, error) {
	at := strings.LastIndex(email, "@")
	domain := strings.ToLower(email[at+1:])
	notFound := &adminError{title: "No such user",
		text:    fmt.Sprintf("/assign: %q is not in the %s directory, and %q is not the domain of a connected organization.", email, b.tenantName(), domain),
		details: []string{"Connect the partner first with /connect " + domain + ", or give a user of the directory."}}
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
				return entitlement.ConnectedOrg{}, &adminError{title: "Organization not configured",
					text: fmt.Sprintf("/assign: %s is only a proposed connected organization; configure it before assigning its users.", o.Name)}
			}
			return o, nil
		}
	}
	return entitlement.ConnectedOrg{}, notFound
}

// admActive reports whether an assignment in state s currently grants (or is granting) access.
func admActive(s entitlement.AssignmentState) bool {
	switch s {
	case entitlement.AssignmentDelivered, entitlement.AssignmentDelivering, entitlement.AssignmentPartiallyDelivered:
		return true
	}
	return false
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
	all, err := b.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: pkg.ID})
	if err != nil {
		return fmt.Errorf("list assignments of %s: %w", pkg.ID, err)
	}
	var holders []entitlement.Assignment
	for _, a := range all {
		if admActive(a.State) {
			holders = append(holders, a)
		}
	}
	idx := -1
	for i, a := range holders {
		if admSubjectMatches(a.Target, userArg) {
			idx = i
			break
		}
	}
	if idx < 0 && (admIsGUID(userArg) || strings.Contains(userArg, "@")) {
		// The assignment may not carry the sign-in name: look the user up and match the object id.
		if u, uerr := b.resolveUser(ctx, "revoke", userArg); uerr == nil {
			for i, a := range holders {
				if strings.EqualFold(a.Target.ID, u.ID) {
					idx = i
					break
				}
			}
		}
	}
	if idx < 0 {
		cs := make([]admCandidate, len(holders))
		for i, a := range holders {
			cs[i] = admCandidate{id: a.Target.ID, name: orUnknown(a.Target.Name, a.Target.ID)}
		}
		i, rerr := admResolve("revoke", "holder of "+pkg.Name, userArg, cs)
		if rerr != nil {
			var ae *adminError
			if errors.As(rerr, &ae) && strings.HasPrefix(ae.title, "No such") {
				ae.title = "No assignment"
				ae.text = fmt.Sprintf("/revoke: %q holds no active assignment of %s. Nothing was changed.", userArg, pkg.Name)
			}
			return rerr
		}
		idx = i
	}
	a := holders[idx]
	name := orUnknown(a.Target.Name, orUnknown(a.Target.PrincipalName, a.Target.ID))
	c.entry.SubjectID, c.entry.SubjectName = a.Target.ID, name
	// Whether the holder is a partner user decides how they are told once it is done.
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
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opRevoke, PackageID: pkg.ID, PackageName: pkg.Name, AssignmentID: a.ID,
		UserID: a.Target.ID, UserName: name, UserEmail: email, External: external}, cards.AdminConfirmView{
		Title:   fmt.Sprintf("Revoke %s from %s?", pkg.Name, name),
		Summary: fmt.Sprintf("%s loses the access this package grants as soon as Entra removes the assignment.", name),
		Details: []cards.Fact{
			{Title: "User", Value: admSubjectLabel(a.Target)},
			{Title: "Package", Value: pkg.Name},
			{Title: "Assigned until", Value: admStamp(a.EndsAt())},
			{Title: "Assignment", Value: a.ID},
		},
		ConfirmLabel: "Revoke",
		Irreversible: true,
	})
}
