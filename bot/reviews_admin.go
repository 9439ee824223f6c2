package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/reviews"
)

// The admin's /review command: remind the reviewers of a review (Entra's mail and the bot's cards), stop it or
// apply its decisions (both after a confirmation card), and create a recurring review of a package's assignments
// (after a confirmation card).

// Pending admin operations of /review.
const (
	opReviewStop   = "review.stop"
	opReviewApply  = "review.apply"
	opReviewCreate = "review.create"
)

// reviewNoDefault is Graph's defaultDecision of a review that decides nothing for silent reviewers.
const reviewNoDefault = "None"

func init() {
	adminUsage["reviews"] = "/reviews [package]"
	adminUsage["review"] = "/review {name} remind|stop|apply, or /review new {package} [manager|self] [monthly|quarterly|once], or /review new {package} [monthly|quarterly|once] stages {who} [{n}d] [(approved|denied|not reviewed|recommended, …)] then {who} … (2 or 3 stages; who: manager, self, a user, group {name})"
}

func (b *Bot) adminReview(ctx context.Context, c *adminCall) error {
	svc := b.cfg.Reviews
	if svc == nil {
		return &adminError{title: c.t.loc.T("review.bot.title"), text: c.t.loc.T("review.bot.off")}
	}
	l := c.t.loc
	args := c.cmd.Args
	if len(args) < 2 {
		return admUsageErr("review", "adm.usage.reviewArgs", "Got", strconv.Quote(c.cmd.Rest))
	}
	if strings.EqualFold(args[0], "new") {
		return b.adminReviewNew(ctx, c, args[1:])
	}
	action := strings.ToLower(args[len(args)-1])
	name := strings.Join(args[:len(args)-1], " ")
	if action != "remind" && action != "stop" && action != "apply" {
		return admUsageErr("review", "adm.usage.reviewAction", "Got", strconv.Quote(action))
	}
	a, err := svc.Find(ctx, name)
	var ie *entitlement.InvalidInputError
	if errors.Is(err, entitlement.ErrNotFound) || errors.As(err, &ie) {
		return &adminError{title: l.T("review.bot.which"), text: userMessage(l, err), sugg: []cards.Suggestion{{Title: l.T("review.bot.list"), Command: "/reviews"}}}
	}
	if err != nil {
		return fmt.Errorf("find access review %q: %w", name, err)
	}
	c.entry.SubjectID, c.entry.SubjectName = a.Def.ID, a.Def.Name
	op := adminPendingOp{ReviewID: a.Def.ID, InstanceID: a.Inst.ID, PackageName: a.Def.Name, PackageID: a.Def.ResourceID}
	switch action {
	case "remind":
		return b.adminReviewRemind(ctx, c, a)
	case "stop":
		if !a.Inst.Status.Open() {
			return &adminError{title: l.T("review.bot.nothingToStop"), text: l.T("review.bot.notInProgress", "Name", a.Def.Name, "Status", a.Inst.Status)}
		}
		op.Op = opReviewStop
		view := cards.AdminConfirmView{Title: l.T("review.bot.stopTitle", "Name", a.Def.Name),
			Summary:      l.T("review.bot.stopSummary"),
			Details:      []cards.Fact{{Title: l.T("review.bot.reviews"), Value: a.Resource}, {Title: l.T("review.bot.ends"), Value: a.Inst.End.UTC().Format("2006-01-02 15:04 UTC")}},
			ConfirmLabel: l.T("review.bot.stop")}
		if cur, count, ok := a.NextStage(); ok {
			// A multi-stage review stops stage by stage: the next stage starts with what this one moves on.
			op.StageID, op.Stage, op.StageCount = a.Stage.ID, cur, count
			view.Title = l.T("stage.bot.stopTitle", "Stage", cur, "Name", a.Def.Name)
			view.Summary = l.T("stage.bot.stopSummary", "Stage", cur, "Count", count, "Next", cur+1)
		}
		return b.askConfirmation(ctx, c, op, view)
	default:
		if a.Inst.Status != entitlement.ReviewCompleted {
			return &adminError{title: l.T("review.bot.notReady"), text: l.T("review.bot.notReadyText", "Name", a.Def.Name, "Status", a.Inst.Status)}
		}
		op.Op = opReviewApply
		return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{Title: l.T("review.bot.applyTitle", "Name", a.Def.Name),
			Summary: l.T("review.bot.applySummary"), Irreversible: true,
			Details: []cards.Fact{{Title: l.T("review.bot.reviews"), Value: a.Resource}}, ConfirmLabel: l.T("review.bot.apply")})
	}
}

func (b *Bot) adminReviewRemind(ctx context.Context, c *adminCall, a reviews.Active) error {
	svc := b.cfg.Reviews
	if err := svc.RemindEntra(ctx, a); err != nil {
		return fmt.Errorf("ask Entra to remind the reviewers of %s: %w", a.Def.Name, err)
	}
	n, err := svc.RemindNow(ctx, reviewNotifier{b}, a)
	c.entry.Outcome = fmt.Sprintf("reminded %d in Teams", n)
	if err != nil {
		c.t.log.WarnContext(ctx, "remind reviewers in Teams", "review", a.Def.ID, "err", err)
	}
	_, serr := b.sendCard(ctx, c.t, cards.Notice(c.t.loc, cards.NoticeView{Kind: cards.NoticeSuccess, Title: c.t.loc.T("review.bot.reminded"),
		Text: c.t.loc.N("review.bot.remindedText", n, "Name", a.Def.Name)}))
	return serr
}

// runReviewOp carries out a confirmed /review stop, apply or new.
func (b *Bot) runReviewOp(ctx context.Context, l *i18n.Localizer, op adminPendingOp) (string, string, error) {
	svc := b.cfg.Reviews
	if svc == nil {
		return "", "", &adminError{title: l.T("review.bot.title"), text: l.T("review.bot.off")}
	}
	a := reviews.Active{Def: entitlement.ReviewDefinition{ID: op.ReviewID, Name: op.PackageName}, Inst: entitlement.ReviewInstance{ID: op.InstanceID}}
	switch op.Op {
	case opReviewStop:
		if op.StageID != "" {
			if err := svc.StopStage(ctx, entitlement.ReviewRef{DefinitionID: op.ReviewID, InstanceID: op.InstanceID, StageID: op.StageID}); err != nil {
				return "", "", fmt.Errorf("stop stage %d of access review %s: %w", op.Stage, op.ReviewID, err)
			}
			return l.T("stage.bot.stopped", "Stage", op.Stage), l.T("stage.bot.stoppedText", "Stage", op.Stage, "Name", op.PackageName, "Next", op.Stage+1), nil
		}
		if err := svc.Stop(ctx, a); err != nil {
			return "", "", fmt.Errorf("stop access review %s: %w", op.ReviewID, err)
		}
		return l.T("review.bot.stopped"), l.T("review.bot.stoppedText", "Name", op.PackageName), nil
	case opReviewApply:
		if err := svc.Apply(ctx, a); err != nil {
			return "", "", fmt.Errorf("apply access review %s: %w", op.ReviewID, err)
		}
		return l.T("review.bot.applied"), l.T("review.bot.appliedText", "Name", op.PackageName), nil
	}
	return b.createReview(ctx, l, op)
}
