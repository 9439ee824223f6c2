package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// "/review new {package} [manager|self] [monthly|quarterly|once]" creates a single-stage review; with
// "stages …" after the package (and recurrence) it creates a multi-stage one, each stage naming its reviewers:
//
//	/review new Falcon Team Member quarterly stages manager (approved) then adele@contoso.example 5d then self
//
// Stages are separated by "then", ";" or ","; each is its reviewers — manager, self, a user (sign-in name, mail,
// object id or the display name of someone who chatted with the bot) or "group {name or id}" — with an
// optional length ("5d"; 7 days when not given) and, in parentheses, the decisions that move on to the next
// stage (approved, denied, not reviewed, recommended; all when not given). Graph's rules (2 or 3 stages, one
// after the other, together within one recurrence) are checked before the confirmation card.

// reviewStageDays is a stage's length when the admin gives none.
const reviewStageDays = 7

// reviewSingleDays is the length of a single-stage review created from chat.
const reviewSingleDays = 14

// adminReviewNew parses "/review new {package} [manager|self] [monthly|quarterly|once] [stages …]" and asks
// to confirm.
func (b *Bot) adminReviewNew(ctx context.Context, c *adminCall, args []string) error {
	args, stageText, staged := cutStages(args)
	reviewers, recurrence := "", "quarterly"
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
	if staged && reviewers != "" {
		return admUsageErr("review", "stage.new.reviewersAndStages", "Got", strconv.Quote(reviewers))
	}
	pkg, err := b.resolvePackage(ctx, "review", strings.Join(args, " "))
	if err != nil {
		return err
	}
	c.entry.PackageID, c.entry.PackageName = pkg.ID, pkg.Name
	l := c.t.loc
	when := l.T(recurrenceMsg(recurrence))
	op := adminPendingOp{Op: opReviewCreate, PackageID: pkg.ID, PackageName: pkg.Name, InstanceID: recurrence}
	if staged {
		in, err := parseReviewStages(stageText)
		if err != nil {
			return err
		}
		plan, err := b.resolveReviewStages(ctx, l, in, recurrence)
		if err != nil {
			return err
		}
		op.ReviewStages = plan.settings
		return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{Title: l.T("review.bot.createTitle", "Name", pkg.Name),
			Summary:      l.T("stage.new.summary", "Name", pkg.Name, "When", when, "Count", len(plan.settings)),
			Details:      append([]cards.Fact{{Title: l.T("review.bot.package"), Value: pkg.Name}, {Title: l.T("review.bot.recurrence"), Value: when}}, stageFacts(l, plan)...),
			ConfirmLabel: l.T("review.bot.create")})
	}
	who, whoShort := l.T("review.bot.whoManager"), l.T("review.bot.reviewersManager")
	if reviewers == "self" {
		who, whoShort = l.T("review.bot.whoSelf"), l.T("review.bot.reviewersSelf")
	}
	op.ReviewID = orUnknown(reviewers, "manager")
	return b.askConfirmation(ctx, c, op, cards.AdminConfirmView{Title: l.T("review.bot.createTitle", "Name", pkg.Name),
		Summary:      l.T("review.bot.createSummary", "Name", pkg.Name, "When", when, "Who", who),
		Details:      []cards.Fact{{Title: l.T("review.bot.package"), Value: pkg.Name}, {Title: l.T("review.bot.reviewers"), Value: whoShort}, {Title: l.T("review.bot.recurrence"), Value: when}},
		ConfirmLabel: l.T("review.bot.create")})
}

// cutStages splits "{package …} stages {stages …}" at the first "stages" after the package's first word (a
// package may be named "Stages …"); staged is false without one ("stages" with nothing after is staged, and
// refused as too few stages).
func cutStages(args []string) (rest []string, stageText string, staged bool) {
	if len(args) < 2 {
		return args, "", false
	}
	i := slices.IndexFunc(args[1:], func(a string) bool { return strings.EqualFold(strings.TrimSuffix(a, ":"), "stages") })
	if i < 0 {
		return args, "", false
	}
	return args[:i+1], strings.Join(args[i+2:], " "), true
}

// createReview carries out a confirmed /review new (single- or multi-stage).
func (b *Bot) createReview(ctx context.Context, l *i18n.Localizer, op adminPendingOp) (string, string, error) {
	in := entitlement.NewReview{PackageID: op.PackageID, PackageName: op.PackageName, Reviewers: op.ReviewID, Recurrence: op.InstanceID,
		DurationDays: reviewSingleDays, JustificationRequired: true, DefaultDecision: reviewNoDefault, Stages: op.ReviewStages}
	d, err := b.cfg.Reviews.Create(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("create access review of %s: %w", op.PackageID, err)
	}
	return l.T("review.bot.created"), l.T("review.bot.createdText", "Name", d.Name), nil
}

// reviewStageInput is one stage as typed: who reviews, how long, what moves on.
type reviewStageInput struct {
	who    string
	days   int
	moveOn []string
}

var (
	// reviewStageSplitRE separates stages: "then", ";" or "," outside parentheses (commas inside list what
	// moves on).
	reviewStageSplitRE  = regexp.MustCompile(`(?i)\s+then\s+|;`)
	reviewStageDaysRE   = regexp.MustCompile(`(?i)(?:^|\s)(\d{1,4})\s*(?:d|days?)$`)
	reviewMoveOnSplitRE = regexp.MustCompile(`(?i),|\s+(?:and|or)\s+`)
	// reviewMoveOnWords are the typed decisions that move on, lower-cased without spaces ("not reviewed").
	reviewMoveOnWords = map[string]string{"approved": entitlement.MoveOnApprove, "approve": entitlement.MoveOnApprove,
		"denied": entitlement.MoveOnDeny, "deny": entitlement.MoveOnDeny, "notreviewed": entitlement.MoveOnNotReviewed,
		"undecided": entitlement.MoveOnNotReviewed, "recommended": entitlement.MoveOnRecommendation,
		"recommendation": entitlement.MoveOnRecommendation}
)

// splitReviewStages splits the text after "stages" into the stages' texts.
func splitReviewStages(text string) []string {
	var out []string
	for _, part := range reviewStageSplitRE.Split(text, -1) {
		depth, start := 0, 0
		for i, r := range part {
			switch r {
			case '(':
				depth++
			case ')':
				depth = max(depth-1, 0)
			case ',':
				if depth == 0 {
					out = append(out, strings.TrimSpace(part[start:i]))
					start = i + 1
				}
			}
		}
		out = append(out, strings.TrimSpace(part[start:]))
	}
	return out
}

// parseReviewStages reads the stages of "/review new … stages …" (who, length, what moves on); n is 1-based in
// the errors, which name the stage and the word.
func parseReviewStages(text string) ([]reviewStageInput, error) {
	parts := splitReviewStages(text)
	if len(parts) < 2 || len(parts) > entitlement.MaxReviewStages {
		return nil, admUsageErr("review", "stage.new.count", "Count", len(parts), "Max", entitlement.MaxReviewStages)
	}
	out := make([]reviewStageInput, 0, len(parts))
	for i, p := range parts {
		in := reviewStageInput{days: reviewStageDays}
		n := i + 1
		if open := strings.IndexByte(p, '('); open >= 0 {
			if !strings.HasSuffix(p, ")") {
				return nil, admUsageErr("review", "stage.new.parens", "Stage", n, "Got", strconv.Quote(p))
			}
			moves, err := parseMoveOn(n, p[open+1:len(p)-1], n == len(parts))
			if err != nil {
				return nil, err
			}
			in.moveOn, p = moves, strings.TrimSpace(p[:open])
		}
		if m := reviewStageDaysRE.FindStringSubmatch(p); m != nil {
			in.days, _ = strconv.Atoi(m[1])
			if in.days < 1 || in.days > 180 {
				return nil, admUsageErr("review", "stage.new.days", "Stage", n, "Got", strconv.Quote(strings.TrimSpace(m[0])))
			}
			p = strings.TrimSpace(p[:len(p)-len(m[0])])
		}
		switch in.who = strings.TrimSpace(p); strings.ToLower(in.who) {
		case "":
			return nil, admUsageErr("review", "stage.new.who", "Stage", n)
		case "sponsor", "sponsors":
			// Graph's v1.0 reviewer scopes name users, group members or owners, managers and app owners.
			return nil, admUsageErr("review", "stage.new.sponsors", "Stage", n)
		}
		out = append(out, in)
	}
	return out, nil
}

// parseMoveOn reads "approved, not reviewed" (what moves on from stage n); "all" is Graph's default (none
// listed). The last stage has no next stage.
func parseMoveOn(n int, text string, last bool) ([]string, error) {
	text = strings.TrimSpace(text)
	if last {
		return nil, admUsageErr("review", "stage.new.lastMoves", "Stage", n)
	}
	if strings.EqualFold(text, "all") {
		return nil, nil
	}
	var out []string
	for _, w := range reviewMoveOnSplitRE.Split(text, -1) {
		w = strings.ToLower(strings.Join(strings.Fields(w), " "))
		d, ok := reviewMoveOnWords[strings.ReplaceAll(w, " ", "")]
		if !ok {
			return nil, admUsageErr("review", "stage.new.moveOn", "Stage", n, "Got", strconv.Quote(w))
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// reviewStagePlan is the resolved stages with how the confirmation card names each stage's reviewers.
type reviewStagePlan struct {
	settings []entitlement.ReviewStageSetting
	who      []string
}

// resolveReviewStages turns the typed stages into stage settings (users and groups looked up) and checks them
// by Graph's rules; l names the reviewers for the confirmation card.
func (b *Bot) resolveReviewStages(ctx context.Context, l *i18n.Localizer, in []reviewStageInput, recurrence string) (reviewStagePlan, error) {
	var plan reviewStagePlan
	total := 0
	for _, st := range in {
		set := entitlement.ReviewStageSetting{DurationDays: st.days, MoveOn: st.moveOn, RecommendationsEnabled: true}
		who, err := b.stageReviewer(ctx, l, st.who, &set)
		if err != nil {
			return plan, err
		}
		total += st.days
		plan.settings, plan.who = append(plan.settings, set), append(plan.who, who)
	}
	if limit := entitlement.RecurrenceDays(recurrence); total > limit {
		return plan, admUsageErr("review", "stage.new.tooLong", "Days", total, "Max", limit, "When", msgRef(recurrenceMsg(recurrence)))
	}
	settings, err := entitlement.NormalizeReviewStages(plan.settings, recurrence)
	plan.settings = settings
	return plan, err
}

// stageReviewer fills set's reviewer queries from what the admin typed and says who that is.
func (b *Bot) stageReviewer(ctx context.Context, l *i18n.Localizer, who string, set *entitlement.ReviewStageSetting) (string, error) {
	switch w := strings.ToLower(who); {
	case w == "manager" || w == "managers":
		set.ReviewerQueries = []string{entitlement.ReviewerManager}
		return l.T("stage.new.who.manager"), nil
	case w == "self":
		return l.T("stage.new.who.self"), nil
	}
	if name, ok := reviewGroupArg(who); ok {
		g, err := b.resolveReviewGroup(ctx, name)
		if err != nil {
			return "", err
		}
		set.ReviewerQueries = []string{entitlement.ReviewerGroupQuery(g.OriginID)}
		return l.T("stage.new.who.group", "Name", g.Name), nil
	}
	u, err := b.resolveUser(ctx, "review", who)
	if err != nil {
		return "", err
	}
	set.ReviewerQueries = []string{entitlement.ReviewerUserQuery(u.ID)}
	return orUnknown(u.Name, u.ID), nil
}

// reviewGroupArg is the group of a stage's "group {name or id}" (or "group:{…}"); ok is false for other
// reviewers.
func reviewGroupArg(who string) (string, bool) {
	if word, rest, found := strings.Cut(who, ":"); found && strings.EqualFold(strings.TrimSpace(word), "group") {
		return strings.TrimSpace(rest), true
	}
	f := strings.Fields(who)
	if len(f) == 0 || !strings.EqualFold(f[0], "group") {
		return "", false
	}
	return strings.Join(f[1:], " "), true
}

// resolveReviewGroup finds a group by id, name or unambiguous name prefix (the directory's search).
func (b *Bot) resolveReviewGroup(ctx context.Context, arg string) (entitlement.DirectoryResource, error) {
	if b.cfg.Builder == nil || strings.TrimSpace(arg) == "" {
		return entitlement.DirectoryResource{}, admUsageErr("review", "adm.usage.give.group")
	}
	found, err := b.cfg.Builder.FindResources(ctx, arg)
	if err != nil {
		return entitlement.DirectoryResource{}, fmt.Errorf("find group %s: %w", arg, err)
	}
	var groups []entitlement.DirectoryResource
	var cs []admCandidate
	for _, r := range found {
		if r.OriginSystem == entitlement.OriginGroup {
			groups, cs = append(groups, r), append(cs, admCandidate{id: r.OriginID, name: r.Name})
		}
	}
	i, err := admResolve("review", "group", arg, cs)
	if err != nil {
		return entitlement.DirectoryResource{}, err
	}
	return groups[i], nil
}

// recurrenceMsg is the catalog message naming a recurrence ("every month", "once").
func recurrenceMsg(recurrence string) string {
	if recurrence == "" {
		return "review.bot.once"
	}
	return "review.bot." + recurrence
}

// stageFacts are the confirmation card's lines of a multi-stage review: "Stage 1 — each person's manager ·
// 7 days · moves on: approved".
func stageFacts(l *i18n.Localizer, plan reviewStagePlan) []cards.Fact {
	var out []cards.Fact
	for i, st := range plan.settings {
		v := plan.who[i] + " · " + l.N("stage.new.daysValue", st.DurationDays)
		if i < len(plan.settings)-1 {
			moves := l.T("stage.new.movesAll")
			if len(st.MoveOn) > 0 {
				var names []string
				for _, m := range st.MoveOn {
					names = append(names, l.T("stage.new.decision."+m))
				}
				moves = l.T("stage.new.moves", "Decisions", l.List(names))
			}
			v += " · " + moves
		}
		out = append(out, cards.Fact{Title: l.T("stage.new.fact", "Stage", i+1), Value: v})
	}
	return out
}
