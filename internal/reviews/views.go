package reviews

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// Active is one review instance in progress with what it reviews.
type Active struct {
	Def      entitlement.ReviewDefinition
	Inst     entitlement.ReviewInstance
	Resource string
	// Stages are a multi-stage instance's stages; Stage is the one in progress (else the last started).
	Stages []entitlement.ReviewStage
	Stage  *entitlement.ReviewStage
}

// resourceName names what a definition reviews (the access package's name when it is one).
func (s *Service) resourceName(ctx context.Context, d entitlement.ReviewDefinition) string {
	if d.ScopeKind == entitlement.ReviewOfAccessPackage && d.ResourceID != "" {
		if p, err := s.cfg.Directory.Package(ctx, d.ResourceID); err == nil && p.Name != "" {
			return p.Name
		}
	}
	return d.Name
}

func kindName(l *i18n.Localizer, k entitlement.ReviewScopeKind) string {
	switch k {
	case entitlement.ReviewOfAccessPackage:
		return l.T("rv.kind.package")
	case entitlement.ReviewOfGroup:
		return l.T("rv.kind.group")
	case entitlement.ReviewOfApp:
		return l.T("rv.kind.app")
	}
	return ""
}

// ActiveReviews lists the instances in progress (and, with closed, the latest finished instance of each
// definition that has none in progress).
func (s *Service) ActiveReviews(ctx context.Context, closed bool) ([]Active, error) {
	var out []Active
	err := s.eachDefinition(ctx, func(d entitlement.ReviewDefinition, insts []entitlement.ReviewInstance) error {
		pick := pickInstance(insts, closed)
		if pick == nil {
			return nil
		}
		a := Active{Def: d, Inst: *pick, Resource: s.resourceName(ctx, d)}
		if err := s.withStages(ctx, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachDefinition reads every review definition and its instances and calls fn with each, stopping at the first
// error.
func (s *Service) eachDefinition(ctx context.Context, fn func(entitlement.ReviewDefinition, []entitlement.ReviewInstance) error) error {
	defs, err := s.cfg.Reviews.ReviewDefinitions(ctx)
	if err != nil {
		return fmt.Errorf("list access reviews: %w", err)
	}
	for _, d := range defs {
		insts, err := s.cfg.Reviews.ReviewInstances(ctx, d.ID)
		if err != nil {
			return fmt.Errorf("list instances of %s: %w", d.Name, err)
		}
		if err := fn(d, insts); err != nil {
			return err
		}
	}
	return nil
}

// pickInstance is the instance of a definition the bot shows and sweeps: the one in progress, else (when
// closed) the latest started one that has ended; nil when there is none.
func pickInstance(insts []entitlement.ReviewInstance, closed bool) *entitlement.ReviewInstance {
	var pick *entitlement.ReviewInstance
	for i := range insts {
		in := &insts[i]
		switch {
		case in.Status.Open():
			pick = in
		case closed && pick == nil && in.Status != entitlement.ReviewNotStarted:
			pick = in
		case closed && pick != nil && !pick.Status.Open() && in.Status != entitlement.ReviewNotStarted && in.Start.After(pick.Start):
			pick = in
		}
	}
	return pick
}

// Find resolves "/review <name>": the definition whose name (or reviewed package's name) contains name.
func (s *Service) Find(ctx context.Context, name string) (Active, error) {
	all, err := s.ActiveReviews(ctx, true)
	if err != nil {
		return Active{}, err
	}
	name = strings.ToLower(strings.TrimSpace(name))
	var hits []Active
	for _, a := range all {
		if strings.EqualFold(a.Def.Name, name) || strings.EqualFold(a.Def.ID, name) {
			return a, nil
		}
		if strings.Contains(strings.ToLower(a.Def.Name), name) || strings.Contains(strings.ToLower(a.Resource), name) {
			hits = append(hits, a)
		}
	}
	switch len(hits) {
	case 0:
		return Active{}, fmt.Errorf("no access review matches %q: %w", name, entitlement.ErrNotFound)
	case 1:
		return hits[0], nil
	}
	var names []string
	for _, h := range hits {
		names = append(names, h.Def.Name)
	}
	return Active{}, entitlement.Invalid("review", fmt.Sprintf("%q matches %d reviews (%s); give more of the name", name, len(hits), strings.Join(names, "; ")))
}

// evidence maps each principal to their assignment of the reviewed package (how and since when they hold it,
// until when).
func (s *Service) evidence(ctx context.Context, d entitlement.ReviewDefinition) map[string]entitlement.Assignment {
	out := map[string]entitlement.Assignment{}
	if d.ScopeKind != entitlement.ReviewOfAccessPackage || d.ResourceID == "" {
		return out
	}
	as, err := s.cfg.Directory.Assignments(ctx, entitlement.AssignmentFilter{PackageID: d.ResourceID})
	if err != nil {
		s.log.WarnContext(ctx, "read assignments for review evidence", "review", d.ID, "err", err)
		return out
	}
	for _, a := range as {
		if a.Target.ID != "" {
			out[a.Target.ID] = a
		}
	}
	return out
}

func (s *Service) policyName(ctx context.Context, names map[string]string, id string) string {
	if id == "" {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	p, err := s.cfg.Directory.Policy(ctx, id)
	names[id] = p.Name
	if err != nil {
		names[id] = ""
	}
	return names[id]
}

// ErrSelfReview is ReviewerCard's answer for a self-review stage: each person answers about their own access
// on the self-review card (SelfItemOf, SelfCard), not on a reviewer's list.
var ErrSelfReview = errors.New("the people under review answer for themselves in this stage")

// ReviewerCard builds the reviewer's card for page (1-based), acting with the reviewer's token. For a
// multi-stage review it shows ref's stage (the reviewer's current one when ref names none).
func (s *Service) ReviewerCard(ctx context.Context, l *i18n.Localizer, tok entitlement.TokenSource, ref entitlement.ReviewRef, page int, note, errMsg string) (*cards.Card, error) {
	d, err := s.cfg.Reviews.ReviewDefinition(ctx, ref.DefinitionID)
	if err != nil {
		return nil, fmt.Errorf("load access review %s: %w", ref.DefinitionID, err)
	}
	inst, err := s.cfg.Reviews.ReviewInstance(ctx, ref.DefinitionID, ref.InstanceID)
	if err != nil {
		return nil, fmt.Errorf("load instance %s of %s: %w", ref.InstanceID, d.Name, err)
	}
	rv := s.cfg.Reviews.ForReviewer(tok)
	v := cards.ReviewView{ReviewID: d.ID, InstanceID: inst.ID, Name: d.Name, Resource: s.resourceName(ctx, d), ResourceKind: kindName(l, d.ScopeKind),
		Deadline: inst.End, Now: s.now(), Open: inst.Status.Open(), Status: statusLabel(l, inst.Status),
		JustificationRequired: d.JustificationRequired, Recommendations: d.RecommendationsEnabled, Note: note, Error: errMsg}
	var earlier map[string][]cards.EarlierDecisionView
	if d.MultiStage() {
		st, all, err := s.stageFor(ctx, rv, d, ref)
		if err != nil {
			return nil, err
		}
		if set, ok := d.StageSetting(st.Number); ok && set.SelfReview() {
			return nil, fmt.Errorf("stage %d of %s: %w", st.Number, d.Name, ErrSelfReview)
		}
		ref.StageID, v.StageID, v.Stage, v.StageCount, v.Deadline = st.ID, st.ID, st.Number, max(len(all), len(d.Stages)), st.End
		if v.Open && !st.Status.Open() {
			v.Open, v.Status = false, l.T("stage.closed", "Stage", st.Number)
		}
		earlier = s.earlier(ctx, ref, all, st)
	}
	items, err := s.pageOf(ctx, rv, ref, &v, page)
	if err != nil {
		return nil, fmt.Errorf("load my decisions in %s: %w", d.Name, err)
	}
	ev := s.evidence(ctx, d)
	policies := map[string]string{}
	for _, it := range items {
		iv := cards.ReviewItemView{DecisionID: it.ID, Name: it.Principal.Name, Detail: it.Principal.PrincipalName,
			Recommendation: string(it.Recommendation), LastSignIn: it.LastSignIn, Decision: string(it.Decision),
			DecidedBy: it.ReviewedBy.Name, Justification: it.Justification, Earlier: earlier[it.Principal.ID]}
		if !d.RecommendationsEnabled {
			iv.Recommendation = ""
		}
		if a, ok := ev[it.Principal.ID]; ok {
			iv.Since, iv.AccessEnds = a.Schedule.Start, a.EndsAt()
			if pn := s.policyName(ctx, policies, a.PolicyID); pn != "" {
				iv.Obtained = l.T("rv.throughPolicy", "Policy", pn)
			} else {
				iv.Obtained = l.T("rv.assigned")
			}
		}
		v.Items = append(v.Items, iv)
	}
	return cards.Review(l, v), nil
}

// pageOf reads one page of the reviewer's items (the last page when page is past the end) and fills in the
// paging and the counts of v.
func (s *Service) pageOf(ctx context.Context, rv entitlement.Reviewer, ref entitlement.ReviewRef, v *cards.ReviewView, page int) ([]entitlement.ReviewDecision, error) {
	page = max(page, 1)
	items, total, err := rv.MyDecisions(ctx, ref, entitlement.PageQuery{Skip: (page - 1) * PageSize, Top: PageSize})
	if err == nil && len(items) == 0 && total > 0 && page > 1 {
		page = (total + PageSize - 1) / PageSize
		items, total, err = rv.MyDecisions(ctx, ref, entitlement.PageQuery{Skip: (page - 1) * PageSize, Top: PageSize})
	}
	if err != nil {
		return nil, err
	}
	_, remaining, err := rv.MyDecisions(ctx, ref, entitlement.PageQuery{Top: 1, Undecided: true})
	if err != nil {
		return nil, fmt.Errorf("count undecided items: %w", err)
	}
	v.Page, v.PageCount, v.Total, v.Remaining = page, max((total+PageSize-1)/PageSize, 1), total, remaining
	return items, nil
}

func statusLabel(l *i18n.Localizer, s entitlement.ReviewStatus) string {
	switch s {
	case entitlement.ReviewInProgress:
		return l.T("rv.status.inProgress")
	case entitlement.ReviewNotStarted:
		return l.T("rv.status.notStarted")
	case entitlement.ReviewCompleted:
		return l.T("rv.status.completed")
	case entitlement.ReviewApplying:
		return l.T("rv.status.applying")
	case entitlement.ReviewApplied:
		return l.T("rv.status.applied")
	}
	return string(s)
}

// SelfItem is a user's own decision item in a self-review (in a multi-stage review, the item of the
// self-review stage: Active.Stage).
type SelfItem struct {
	Active
	Decision entitlement.ReviewDecision
}

// SelfReview reports whether the people under review answer for themselves now: a self-review, or a
// multi-stage review whose current stage has no reviewers.
func (a Active) SelfReview() bool {
	if a.Stage != nil {
		set, ok := a.Def.StageSetting(a.Stage.Number)
		return ok && set.SelfReview()
	}
	return a.Def.SelfReview
}

// SelfItemOf finds principalID's item in ref's instance, or its stage (the current one when ref names none);
// app-only read.
func (s *Service) SelfItemOf(ctx context.Context, ref entitlement.ReviewRef, principalID string) (SelfItem, error) {
	return s.selfItem(ctx, ref, func(d entitlement.ReviewDecision) bool { return strings.EqualFold(d.Principal.ID, principalID) })
}

// SelfItemByDecision finds an item of ref's instance, or its stage, by its decision id (app-only read).
func (s *Service) SelfItemByDecision(ctx context.Context, ref entitlement.ReviewRef, decisionID string) (SelfItem, error) {
	return s.selfItem(ctx, ref, func(d entitlement.ReviewDecision) bool { return d.ID == decisionID })
}

func (s *Service) selfItem(ctx context.Context, ref entitlement.ReviewRef, match func(entitlement.ReviewDecision) bool) (SelfItem, error) {
	d, err := s.cfg.Reviews.ReviewDefinition(ctx, ref.DefinitionID)
	if err != nil {
		return SelfItem{}, fmt.Errorf("load access review %s: %w", ref.DefinitionID, err)
	}
	inst, err := s.cfg.Reviews.ReviewInstance(ctx, ref.DefinitionID, ref.InstanceID)
	if err != nil {
		return SelfItem{}, fmt.Errorf("load instance %s of %s: %w", ref.InstanceID, d.Name, err)
	}
	a := Active{Def: d, Inst: inst, Resource: s.resourceName(ctx, d)}
	if err := s.withStages(ctx, &a); err != nil {
		return SelfItem{}, err
	}
	if ref.StageID != "" {
		i := slices.IndexFunc(a.Stages, func(st entitlement.ReviewStage) bool { return st.ID == ref.StageID })
		if i < 0 {
			return SelfItem{}, fmt.Errorf("no stage %s in %s: %w", ref.StageID, d.Name, entitlement.ErrNotFound)
		}
		a.Stage = &a.Stages[i]
	}
	ds, err := s.itemsNow(ctx, a)
	if err != nil {
		return SelfItem{}, err
	}
	for _, it := range ds {
		if match(it) {
			return SelfItem{Active: a, Decision: it}, nil
		}
	}
	return SelfItem{}, fmt.Errorf("no matching item in %s: %w", d.Name, entitlement.ErrNotApprover)
}

// itemsNow lists the decision items of a's current stage, or of the instance when it has no stages.
func (s *Service) itemsNow(ctx context.Context, a Active) ([]entitlement.ReviewDecision, error) {
	if a.Stage != nil {
		ds, err := s.cfg.Reviews.StageDecisions(ctx, a.Ref())
		if err != nil {
			return nil, fmt.Errorf("load decisions of stage %d of %s: %w", a.Stage.Number, a.Def.Name, err)
		}
		return ds, nil
	}
	ds, err := s.cfg.Reviews.InstanceDecisions(ctx, a.Def.ID, a.Inst.ID)
	if err != nil {
		return nil, fmt.Errorf("load decisions of %s: %w", a.Def.Name, err)
	}
	return ds, nil
}

// SelfCard renders a self-review card for item.
func (s *Service) SelfCard(l *i18n.Localizer, item SelfItem, linkOnly bool, note, errMsg string) *cards.Card {
	v := cards.SelfReviewView{ReviewID: item.Def.ID, InstanceID: item.Inst.ID, DecisionID: item.Decision.ID,
		Resource: item.Resource, OrgName: s.cfg.Tenant.Name, Deadline: item.deadline(), Decision: string(item.Decision.Decision),
		Open: item.Inst.Status.Open(), MyAccessURL: cards.MyAccessReviewsURL(s.cfg.Tenant.Domain), LinkOnly: linkOnly, Note: note, Error: errMsg}
	if st := item.Stage; st != nil {
		v.StageID, v.Stage, v.StageCount = st.ID, st.Number, max(len(item.Stages), len(item.Def.Stages))
		v.Open = v.Open && st.Status.Open()
	}
	return cards.SelfReview(l, v)
}

// waitingCard is the proactive card of a reviewer whose delegated token the bot does not hold yet: what waits,
// and a button that opens the full card (Teams signs them in).
func waitingCard(l *i18n.Localizer, a Active, note string, remaining int) *cards.Card {
	text := l.T("rv.waiting.text", "Review", orDefault(a.Def.Name, l.T("review.defaultName")), "Resource", orDefault(a.Resource, l.T("review.thisAccess")))
	if remaining > 0 {
		text += " " + l.N("rv.waiting.open", remaining)
	}
	details := []string{l.T("rv.decideBy", "When", a.Inst.End.UTC().Format("2006-01-02 15:04 MST"))}
	data := map[string]any{cards.KeyReviewID: a.Def.ID, cards.KeyInstanceID: a.Inst.ID, cards.KeyPage: "1"}
	if a.Stage != nil {
		details = []string{l.T("stage.of", "Stage", a.Stage.Number, "Count", len(a.Stages)), l.T("rv.decideBy", "When", a.Stage.End.UTC().Format("2006-01-02 15:04 MST"))}
		data[cards.KeyStageID] = a.Stage.ID
	}
	c := cards.Notice(l, cards.NoticeView{Kind: cards.NoticeInfo, Title: orDefault(note, l.T("rv.waiting.title")), Text: text, Details: details})
	c.Actions = append(c.Actions, cards.ActionExecute{Title: l.T("rv.waiting.open.button"), Verb: cards.VerbReviewOpen, AssociatedInputs: "none", Data: data})
	return c
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// Summary is the admin overview of active reviews (optionally of one package): progress, who decided, overdue.
func (s *Service) Summary(ctx context.Context, l *i18n.Localizer, pkg string) (cards.AdminTableView, error) {
	all, err := s.ActiveReviews(ctx, true)
	if err != nil {
		return cards.AdminTableView{}, err
	}
	v := cards.AdminTableView{Title: l.T("rv.summary.title"), Columns: []string{l.T("rv.col.review"), l.T("review.status"), l.T("review.progress"), l.T("review.ends"), l.T("rv.col.reviewers")},
		EmptyText: l.T("rv.summary.empty"), Footnote: l.T("rv.summary.footnote")}
	if pkg != "" {
		v.Subtitle = l.T("rv.summary.of", "Package", pkg)
	}
	now := s.now()
	for _, a := range all {
		if pkg != "" && !strings.Contains(strings.ToLower(a.Resource+" "+a.Def.Name), strings.ToLower(pkg)) {
			continue
		}
		progress, by, err := s.progressOf(ctx, l, a)
		if err != nil {
			return v, err
		}
		var people []string
		if revs, err := s.cfg.Reviews.ContactedReviewers(ctx, a.Def.ID, a.Inst.ID); err == nil {
			for _, r := range revs {
				people = append(people, l.N("rv.summary.reviewer", by[r.Name], "Name", orDefault(r.Name, r.ID)))
			}
		}
		if a.SelfReview() {
			people = append([]string{l.T("rv.summary.self")}, people...)
		}
		ends := a.Inst.End.UTC().Format("2006-01-02")
		if a.Inst.Status.Open() && now.After(a.Inst.End) {
			ends = l.T("rv.overdue", "Date", ends)
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{a.Def.Name + " — " + a.Resource, statusLabel(l, a.Inst.Status),
			progress, ends, l.List(people)}})
	}
	v.Total = len(v.Rows)
	return v, nil
}

// progressOf is an instance's progress for /reviews ("1 of 2 decided", per stage for a multi-stage review) and
// how many decisions each reviewer recorded.
func (s *Service) progressOf(ctx context.Context, l *i18n.Localizer, a Active) (string, map[string]int, error) {
	if len(a.Stages) > 0 {
		return s.stageProgress(ctx, l, a)
	}
	ds, err := s.cfg.Reviews.InstanceDecisions(ctx, a.Def.ID, a.Inst.ID)
	if err != nil {
		return "", nil, fmt.Errorf("load decisions of %s: %w", a.Def.Name, err)
	}
	by := map[string]int{}
	decided := countDecided(ds, by)
	return l.T("review.progressValue", "Decided", decided, "Total", len(ds)), by, nil
}

// countDecided counts the decided items of ds and adds each to its reviewer's count in by.
func countDecided(ds []entitlement.ReviewDecision, by map[string]int) int {
	decided := 0
	for _, d := range ds {
		if d.Decided() {
			decided++
			by[orDefault(d.ReviewedBy.Name, "someone")]++
		}
	}
	return decided
}

// PendingFor lists the reviews in progress that ask userID to review (as a reviewer or about their own access).
func (s *Service) PendingFor(ctx context.Context, userID string) ([]Active, error) {
	all, err := s.ActiveReviews(ctx, false)
	if err != nil {
		return nil, err
	}
	var out []Active
	for _, a := range all {
		_, revs, err := s.readReviewersNow(ctx, a)
		if err != nil {
			return nil, err
		}
		for _, r := range revs {
			if strings.EqualFold(r.ID, userID) {
				out = append(out, a)
				break
			}
		}
	}
	return out, nil
}

// PendingView lists what waits for a user, each with an Open button.
func PendingView(l *i18n.Localizer, items []Active, now time.Time) cards.AdminTableView {
	v := cards.AdminTableView{Title: l.T("rv.pending.title"), Columns: []string{l.T("rv.col.review"), l.T("rv.col.reviews"), l.T("review.decideBy")},
		EmptyText: l.T("rv.pending.empty")}
	for _, a := range items {
		due := a.deadline().UTC().Format("2006-01-02")
		if now.After(a.deadline()) {
			due = l.T("rv.overdue", "Date", due)
		}
		v.Rows = append(v.Rows, cards.AdminRow{Cells: []string{a.Def.Name, a.Resource, due},
			Actions: []cards.RowAction{{Title: l.T("common.open"), Verb: cards.VerbReviewOpen, Data: openData(a)}}})
	}
	v.Total = len(v.Rows)
	return v
}

// openData is the data of a button that opens a reviewer's card of a (its current stage when multi-stage).
func openData(a Active) map[string]string {
	data := map[string]string{cards.KeyReviewID: a.Def.ID, cards.KeyInstanceID: a.Inst.ID, cards.KeyPage: "1"}
	if a.Stage != nil {
		data[cards.KeyStageID] = a.Stage.ID
	}
	return data
}
