package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
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
	// StageID, Stage and StageCount name the stage of a multi-stage review that /review stop ends (the next
	// stage starts); empty when stop ends the whole instance.
	StageID    string `json:"stageId,omitempty"`
	Stage      int    `json:"stage,omitempty"`
	StageCount int    `json:"stageCount,omitempty"`
	// ReviewStages are the stages of a multi-stage review /review new creates (none: single-stage).
	ReviewStages []entitlement.ReviewStageSetting `json:"reviewStages,omitempty"`
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

// pendingRefusal is why a click on Confirm or Cancel changes nothing: the notice's title and text, and the
// reason the audit records.
type pendingRefusal struct {
	title, text string // in the admin's language
	why         string // for the log and the audit, in English
}

// closePending handles a click on Confirm (run) or Cancel. It claims the pending operation under a lock, so
// only the first valid click acts.
func (b *Bot) closePending(ctx context.Context, t *turn, data map[string]any, run bool) (*botframework.InvokeResponse, error) {
	verb := "cancel"
	if run {
		verb = "confirm"
	}
	entry := b.adminEntry(t, "admin."+verb)
	refuse := func(r *pendingRefusal) (*botframework.InvokeResponse, error) {
		entry.Outcome = "refused: " + r.why
		b.appendAudit(ctx, entry)
		t.log.InfoContext(ctx, "admin confirmation refused", "verb", verb, "why", r.why)
		return noticeCard(t.loc, noticeWarning, r.title, r.text), nil
	}
	token, _ := data[cards.KeyToken].(string)
	if !adminTokenRE.MatchString(token) {
		return refuse(&pendingRefusal{title: t.loc.T("adm.confirm.badButton"), text: t.loc.T("adm.confirm.badToken"), why: "malformed token"})
	}
	entry.Details = map[string]string{"token": token[:8]}
	if run {
		// Membership may need Graph: ask before taking the lock that serializes confirmations.
		b.checkAdmin(ctx, t)
	}
	op, refusal, err := b.claimPending(ctx, t, token, run, verb, &entry)
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return refuse(refusal)
	}
	if !run {
		entry.Outcome = "cancelled"
		b.appendAudit(ctx, entry)
		return noticeCard(t.loc, noticeInfo, t.loc.T("adm.confirm.cancelled"), t.loc.T("adm.confirm.nothingChanged")), nil
	}
	return b.finishPending(ctx, t, token, op, entry), nil
}

// claimPending loads the pending operation of token and, when this click may act on it, marks it running
// (run) or cancelled, under the lock that makes a double click (or two replicas) act once. It names the
// operation in entry. A non-nil refusal says why nothing changes.
func (b *Bot) claimPending(ctx context.Context, t *turn, token string, run bool, verb string, entry *store.AuditEntry) (adminPendingOp, *pendingRefusal, error) {
	var op adminPendingOp
	unlock, err := b.core.Lock(ctx, "admin-confirm:"+token[:8]) // a double click (or two replicas) runs a change once
	if err != nil {
		return op, nil, err
	}
	defer unlock()
	err = b.cfg.Store.Dialog(ctx, adminDialogKey(token), &op)
	if errors.Is(err, store.ErrNotFound) {
		return op, &pendingRefusal{title: t.loc.T("adm.confirm.unknown"), text: t.loc.T("adm.confirm.unknownText"), why: "unknown token"}, nil
	}
	if err != nil {
		return op, nil, fmt.Errorf("load pending confirmation: %w", err)
	}
	entry.Action = "admin." + op.Op + "." + verb
	entry.SubjectID, entry.SubjectName = op.UserID, op.UserName
	entry.PackageID, entry.PackageName = op.PackageID, op.PackageName
	if op.OrgID != "" && op.UserID == "" {
		entry.SubjectID, entry.SubjectName = op.OrgID, op.OrgName
	}
	if !strings.EqualFold(op.AdminID, t.userID) || !strings.EqualFold(op.TenantID, t.tenantID) {
		who := orUnknown(op.AdminName, t.loc.T("adm.confirm.anotherAdmin"))
		return op, &pendingRefusal{title: t.loc.T("adm.confirm.notYours"), text: t.loc.T("adm.confirm.notYoursText", "Admin", who),
			why: "confirmation belongs to " + orUnknown(op.AdminName, op.AdminID)}, nil
	}
	now := b.now()
	if r := b.pendingClosed(ctx, t, token, op, now); r != nil {
		return op, r, nil
	}
	if run {
		if !t.admin {
			return op, &pendingRefusal{title: t.loc.T("adm.confirm.notAllowed"), text: t.loc.T("adm.confirm.notAdmin"), why: "not an admin"}, nil
		}
		op.State = pendingRunning
	} else {
		op.State, op.Outcome = pendingCancelled, "cancelled by "+orUnknown(t.userName, t.userID)
		op.Closed = now.UTC()
	}
	if err := b.cfg.Store.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		return op, nil, fmt.Errorf("claim pending confirmation: %w", err)
	}
	return op, nil, nil
}

// pendingClosed refuses an operation that was already handled or has expired, and drops it from the store
// once nothing can use it any more. It returns nil while op is still waiting and valid.
func (b *Bot) pendingClosed(ctx context.Context, t *turn, token string, op adminPendingOp, now time.Time) *pendingRefusal {
	if op.State != pendingWaiting {
		expired := !now.Before(op.Expires)
		if expired {
			// Closed (or interrupted) and past its validity: nothing can use it any more, so drop it.
			if derr := b.cfg.Store.DeleteDialog(ctx, adminDialogKey(token)); derr != nil {
				t.log.WarnContext(ctx, "delete closed confirmation", "err", derr)
			}
		}
		var text string
		switch {
		case op.State == pendingRunning && expired:
			text = t.loc.T("adm.confirm.interrupted")
		case op.State == pendingRunning:
			text = t.loc.T("adm.confirm.running")
		default: // done, failed or cancelled
			text = t.loc.T("adm.confirm.handled."+op.State, "Outcome", orUnknown(op.Outcome, t.loc.T("adm.confirm.noDetails")))
		}
		return &pendingRefusal{title: t.loc.T("adm.confirm.handled"), text: text, why: "already " + op.State}
	}
	if !now.Before(op.Expires) {
		if derr := b.cfg.Store.DeleteDialog(ctx, adminDialogKey(token)); derr != nil {
			t.log.WarnContext(ctx, "delete expired confirmation", "err", derr)
		}
		return &pendingRefusal{title: t.loc.T("adm.confirm.expired"), text: t.loc.T("adm.confirm.expiredText", "Duration", admRoughDuration(t.loc, adminConfirmTTL)), why: "expired"}
	}
	return nil
}

// finishPending runs a claimed operation, records its outcome on the pending operation and in the audit,
// tells the user whose access changed, and answers the admin.
func (b *Bot) finishPending(ctx context.Context, t *turn, token string, op adminPendingOp, entry store.AuditEntry) *botframework.InvokeResponse {
	title, text, runErr := b.runPending(ctx, t, op)
	op.Closed = b.now().UTC()
	kind := noticeSuccess
	if runErr != nil {
		var ae *adminError
		english := entitlement.UserMessage(runErr) // the audit's words
		if errors.As(runErr, &ae) {
			english = ae.text
			ae = ae.localized(t.loc)
			title, text = ae.title, ae.text
		} else {
			t.log.ErrorContext(ctx, "admin change failed", "op", op.Op, "err", runErr)
			title, text = t.loc.T("adm.confirm.failed"), userMessage(t.loc, runErr)
		}
		kind = noticeError
		op.State, op.Outcome = pendingFailed, text
		entry.Outcome = "failed: " + english
	} else {
		op.State, op.Outcome = pendingDone, text
		entry.Outcome = "done"
		b.notifyAccessChange(ctx, t, op)
	}
	if err := b.cfg.Store.PutDialog(ctx, adminDialogKey(token), op); err != nil {
		t.log.ErrorContext(ctx, "record confirmation outcome", "err", err)
	}
	b.appendAudit(ctx, entry)
	return noticeCard(t.loc, kind, title, text)
}

// runPending carries out a confirmed operation and describes the result.
func (b *Bot) runPending(ctx context.Context, t *turn, op adminPendingOp) (string, string, error) {
	by := orUnknown(t.userName, t.userID)
	switch op.Op {
	case opReviewStop, opReviewApply, opReviewCreate:
		return b.runReviewOp(ctx, t.loc, op)
	case opDisconnect:
		if err := b.cfg.Entitlement.DeleteConnectedOrg(ctx, op.OrgID); err != nil {
			return "", "", fmt.Errorf("delete connected organization %s: %w", op.OrgID, err)
		}
		b.forgetConnectedOrgs()
		return t.loc.T("adm.disconnected", "Org", op.OrgName), t.loc.T("adm.disconnectedText", "Org", op.OrgName), nil
	case opSponsorRemove:
		if err := b.cfg.Entitlement.RemoveSponsor(ctx, op.OrgID, entitlement.SponsorKind(op.SponsorKind), op.UserID); err != nil {
			return "", "", fmt.Errorf("remove %s sponsor %s of %s: %w", op.SponsorKind, op.UserID, op.OrgID, err)
		}
		return t.loc.T("adm.sponsor.removed"), t.loc.T("adm.sponsor.removedText", "User", op.UserName, "Kind", t.loc.T("adm.sponsor.kind."+op.SponsorKind), "Org", op.OrgName), nil
	case opAssign:
		in := entitlement.AdminAddInput{
			PackageID:     op.PackageID,
			PolicyID:      op.PolicyID,
			TargetID:      op.UserID,
			TargetName:    op.UserName,
			Justification: i18n.English().T("adm.assign.justification", "Admin", by), // kept in Entra: English
		}
		if op.UserID == "" {
			in.TargetEmail, in.ConnectedOrgID = op.UserEmail, op.ConnectedOrgID
		}
		req, err := b.cfg.Entitlement.AdminAdd(ctx, in)
		if err != nil {
			return "", "", fmt.Errorf("assign package %s to %s: %w", op.PackageID, orUnknown(op.UserID, op.UserEmail), err)
		}
		return t.loc.T("adm.assigned", "Package", op.PackageName),
			t.loc.T("adm.assignedText", "User", op.UserName, "Package", op.PackageName, "Request", req.ID, "State", orUnknown(string(req.State), "submitted")), nil
	case opPackageDelete:
		return b.runPackageDelete(ctx, t.loc, op)
	case opRevoke:
		req, err := b.cfg.Entitlement.AdminRemove(ctx, op.AssignmentID, i18n.English().T("adm.revoke.justification", "Admin", by))
		if err != nil {
			return "", "", fmt.Errorf("remove assignment %s: %w", op.AssignmentID, err)
		}
		return t.loc.T("adm.revoked", "Package", op.PackageName),
			t.loc.T("adm.revokedText", "User", op.UserName, "Package", op.PackageName, "Request", req.ID, "State", orUnknown(string(req.State), "submitted")), nil
	}
	return "", "", userErr("adm.unknownChange", "adm.unknownChangeText", "Op", strconv.Quote(op.Op))
}

// notifyAccessChange tells the person whose access a confirmed /assign or /revoke changed, through the
// outbox's notification: a member in their chat (created when needed), a partner user only through a chat
// the bot already has with them. An admin changing their own access is not told again.
func (b *Bot) notifyAccessChange(ctx context.Context, t *turn, op adminPendingOp) {
	if op.Op != opAssign && op.Op != opRevoke || op.UserID == "" && op.UserEmail == "" || strings.EqualFold(op.UserID, t.userID) {
		return
	}
	// Text and Title are the English fallback; Msg, TitleMsg and Data say them in the reader's language.
	en := i18n.English()
	args := map[string]string{"Admin": t.userName, "Package": op.PackageName, "Org": b.cfg.Tenant.Name}
	job := notifyJob{NotifyJob: lifecycle.NotifyJob{TenantID: b.cfg.Tenant.ID, UserID: op.UserID, Message: lifecycle.Message{Data: args}},
		Partner: op.External || op.UserID == "", Email: op.UserEmail}
	myAccess := notifyButton{Title: en.T("button.myAccess"), Command: "access", Msg: "button.myAccess"}
	if op.Op == opAssign {
		job.Kind, job.TitleMsg, job.Msg = noticeSuccess, "adm.notify.grantedTitle", "adm.notify.granted"
		if job.Partner {
			job.Msg = "adm.notify.grantedIn"
		}
		job.Buttons = []notifyButton{myAccess, {Title: en.T("button.myRequests"), Command: "status", Msg: "button.myRequests"}}
	} else {
		job.Kind, job.TitleMsg, job.Msg = noticeInfo, "adm.notify.removedTitle", "adm.notify.removed"
		job.Buttons = []notifyButton{myAccess}
	}
	job.Title, job.Text = en.T(job.TitleMsg), en.T(job.Msg, "Admin", args["Admin"], "Package", args["Package"], "Org", args["Org"])
	job.NotifyJob = job.ForOlderBuilds()
	b.enqueue(ctx, OutboxNotify, job)
}
