package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
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

func init() {
	adminUsage["reviews"] = "/reviews [package]"
	adminUsage["review"] = "/review {name} remind|stop|apply, or /review new {package} [manager|self] [monthly|quarterly|once]"
}

func (b *Bot) adminReview(ctx context.Context, c *adminCall) error {
	svc := b.cfg.Reviews
	if svc == nil {
		return &adminError{title: "Access reviews", text: errReviewsOff.Error()}
	}
	args := c.cmd.Args
	if len(args) < 2 {
		return admUsageErr("review", "expected a review name and an action, got %q", c.cmd.Rest)
	}
	if strings.EqualFold(args[0], "new") {
		return b.adminReviewNew(ctx, c, args[1:])
	}
	action := strings.ToLower(args[len(args)-1])
	name := strings.Join(args[:len(args)-1], " ")
	if action != "remind" && action != "stop" && action != "apply" {
		return admUsageErr("review", "the last word must be remind, stop or apply, got %q", action)
	}
	a, err := svc.Find(ctx, name)
	var ie *entitlement.InvalidInputError
	if errors.Is(err, entitlement.ErrNotFound) || errors.As(err, &ie) {
		return &adminError{title: "Which review?", text: entitlement.UserMessage(err), sugg: []cards.Suggestion{{Title: "List reviews", Command: "/reviews"}}}
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
			return &adminError{title: "Nothing to stop", text: fmt.Sprintf("%q is not in progress (it is %s).", a.Def.Name, a.Inst.Status)}
		}
		op.Op = opReviewStop
		return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{Title: "Stop the review \u201c" + a.Def.Name + "\u201d now?",
			Summary:      "Reviewers can no longer record decisions. Nobody's access changes until the decisions are applied (/review … apply).",
			Details:      []cards.Fact{{Title: "Reviews", Value: a.Resource}, {Title: "Ends", Value: a.Inst.End.UTC().Format("2006-01-02 15:04 UTC")}},
			ConfirmLabel: "Stop review"})
	default:
		if a.Inst.Status != entitlement.ReviewCompleted {
			return &adminError{title: "Not ready to apply", text: fmt.Sprintf("%q is %s: decisions can be applied once it is completed (stop it first, or wait for its end).", a.Def.Name, a.Inst.Status)}
		}
		op.Op = opReviewApply
		return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{Title: "Apply the decisions of \u201c" + a.Def.Name + "\u201d?",
			Summary: "Access that reviewers denied is removed now, and the people concerned are told.", Irreversible: true,
			Details: []cards.Fact{{Title: "Reviews", Value: a.Resource}}, ConfirmLabel: "Apply decisions"})
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
	_, serr := b.sendCard(ctx, c.t, cards.Notice(c.t.loc, cards.NoticeView{Kind: cards.NoticeSuccess, Title: "Reviewers reminded",
		Text: fmt.Sprintf("Entra sent its reminder mail, and I reminded %d in Teams about \u201c%s\u201d.", n, a.Def.Name)}))
	return serr
}

// adminReviewNew parses "/review new {package} [manager|self] [monthly|quarterly|once]" and asks to confirm.
func (b *Bot) adminReviewNew(ctx context.Context, c *adminCall, args []string) error {
	reviewers, recurrence := "manager", "quarterly"
trailing:
	for len(args) > 1 {
		switch w := strings.ToLower(args[len(args)-1]); w {
		case "manager", "self":
			reviewers = w
		case "monthly", "quarterly":
			recurrence = w
		case "once":
			recurrence = ""
		default:
			break trailing
		}
		args = args[:len(args)-1]
	}
	pkg, err := b.resolvePackage(ctx, "review", strings.Join(args, " "))
	if err != nil {
		return err
	}
	c.entry.PackageID, c.entry.PackageName = pkg.ID, pkg.Name
	who := "each person's manager (or an admin group fallback you set in Entra)"
	if reviewers == "self" {
		who = "each person, about their own access"
	}
	when := "once"
	if recurrence != "" {
		when = "every " + map[string]string{"monthly": "month", "quarterly": "quarter"}[recurrence]
	}
	return b.askConfirmation(ctx, c, adminPendingOp{Op: opReviewCreate, PackageID: pkg.ID, PackageName: pkg.Name, ReviewID: reviewers, InstanceID: recurrence},
		cards.AdminConfirmView{Title: "Create an access review of " + pkg.Name + "?",
			Summary:      fmt.Sprintf("Everyone holding %s is reviewed %s by %s, for 14 days each time. Approving needs a justification; nothing is applied automatically.", pkg.Name, when, who),
			Details:      []cards.Fact{{Title: "Package", Value: pkg.Name}, {Title: "Reviewers", Value: reviewers}, {Title: "Recurrence", Value: when}},
			ConfirmLabel: "Create review"})
}

// runReviewOp carries out a confirmed /review stop, apply or new.
func (b *Bot) runReviewOp(ctx context.Context, op adminPendingOp) (string, string, error) {
	svc := b.cfg.Reviews
	if svc == nil {
		return "", "", &adminError{title: "Access reviews", text: errReviewsOff.Error()}
	}
	a := reviews.Active{Def: entitlement.ReviewDefinition{ID: op.ReviewID, Name: op.PackageName}, Inst: entitlement.ReviewInstance{ID: op.InstanceID}}
	switch op.Op {
	case opReviewStop:
		if err := svc.Stop(ctx, a); err != nil {
			return "", "", fmt.Errorf("stop access review %s: %w", op.ReviewID, err)
		}
		return "Review stopped", fmt.Sprintf("\u201c%s\u201d is stopped. Apply its decisions with /review %s apply.", op.PackageName, op.PackageName), nil
	case opReviewApply:
		if err := svc.Apply(ctx, a); err != nil {
			return "", "", fmt.Errorf("apply access review %s: %w", op.ReviewID, err)
		}
		return "Decisions applied", fmt.Sprintf("The decisions of \u201c%s\u201d are applied: denied access is removed and the people concerned are told.", op.PackageName), nil
	}
	d, err := svc.Create(ctx, entitlement.NewReview{PackageID: op.PackageID, PackageName: op.PackageName, Reviewers: op.ReviewID,
		Recurrence: op.InstanceID, DurationDays: 14, JustificationRequired: true, DefaultDecision: "None"})
	if err != nil {
		return "", "", fmt.Errorf("create access review of %s: %w", op.PackageID, err)
	}
	return "Review created", fmt.Sprintf("\u201c%s\u201d is created; reviewers get their card in Teams when it starts.", d.Name), nil
}
