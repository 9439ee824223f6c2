package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

// A requester's own requests and access: "my …", status (my requests, tracked from now on), refreshing a
// status card, cancel (by button or by name), access (current assignments) and extend (the extension form of an
// assignment).

func (b *Bot) cmdMy(ctx context.Context, t *turn, cmd Command) error {
	if len(cmd.Args) > 0 {
		// By name, so the commands' wrappers (partner users: wrapForeign) apply here too.
		name := map[string]string{"requests": "status", "request": "status", "status": "status", "access": "access",
			"assignments": "access", "packages": "access", "approvals": "approvals"}[strings.ToLower(cmd.Args[0])]
		if spec, ok := b.byName[name]; ok {
			return spec.Run(ctx, t, cmd)
		}
	}
	return b.sendUnknown(ctx, t, Command{Name: strings.TrimSpace("my " + cmd.Rest)})
}

func (b *Bot) cmdStatus(ctx context.Context, t *turn, cmd Command) error {
	d, err := b.delegated(ctx, t)
	if err == nil {
		var reqs []entitlement.Request
		reqs, err = d.MyRequests(ctx)
		if err == nil {
			_, err = b.sendCard(ctx, t, b.myRequestsCard(ctx, t, reqs))
			return err
		}
	}
	_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.listRequests"), err, "status"))
	return err
}

// myRequestsCard lists the user's requests; open ones the bot does not follow yet are tracked from now on.
func (b *Bot) myRequestsCard(ctx context.Context, t *turn, reqs []entitlement.Request) *cards.Card {
	v := cards.MyRequestsView{Total: len(reqs)}
	names := map[string]string{}
	for i, r := range reqs {
		var tr *trackedRequest
		if existing, err := b.core.Get(ctx, r.ID); err == nil {
			tr = existing
		} else if r.State.Open() {
			if r.Requestor.ID == "" {
				r.Requestor.ID = t.userID
			}
			if tr, err = b.core.Track(ctx, r, trackOptions{RequestorTenant: t.tenantID, RequestorName: t.userName}); err != nil {
				t.log.WarnContext(ctx, "track listed request", "request", r.ID, "err", err)
			}
		}
		if i >= cards.MaxPackagesPerPage {
			continue
		}
		name := r.PackageName
		if name == "" && tr != nil {
			name = tr.PackageName
		}
		if name == "" {
			name = b.packageName(ctx, names, r.PackageID)
		}
		s := cards.RequestSummaryView{RequestID: r.ID, PackageName: name, State: cards.RequestState(r.State), UpdatedAt: r.CreatedAt}
		if !r.CompletedAt.IsZero() {
			s.UpdatedAt = r.CompletedAt
		}
		if tr != nil {
			s.State = cardState(tr)
			if tr.State == entitlement.StatePendingApproval && len(tr.Approvers) > 0 {
				s.Detail = t.loc.T("myreq.waitingFor", "Names", t.loc.Or(lifecycle.PeopleNames(tr.Approvers)))
				if tr.StageCount > 1 {
					s.Detail = t.loc.T("myreq.waitingForStage", "Stage", tr.Stage, "Stages", tr.StageCount, "Names", t.loc.Or(lifecycle.PeopleNames(tr.Approvers)))
				}
			}
		}
		v.Requests = append(v.Requests, s)
	}
	if len(reqs) > 0 {
		b.Kick()
	}
	return cards.MyRequests(t.loc, v)
}

// ownRequest reads a request with the app's identity and checks that the turn's user filed it.
func (b *Bot) ownRequest(ctx context.Context, t *turn, id string) (entitlement.Request, error) {
	if !validID(id) {
		return entitlement.Request{}, userErr("", "request.badID").invalid("requestId")
	}
	r, err := b.cfg.Entitlement.Request(ctx, id)
	if err != nil {
		return r, fmt.Errorf("read request %s: %w", id, err)
	}
	owner := r.Requestor.ID
	if owner == "" {
		// Graph did not say who filed it (not expanded, a deleted account): only the tracked record can.
		if tr, err := b.core.Get(ctx, id); err == nil {
			owner = tr.RequestorID
		}
	}
	if owner == "" || !strings.EqualFold(owner, t.userID) {
		return r, fmt.Errorf("request %s is not one of yours: %w", id, entitlement.ErrNotFound)
	}
	if r.Requestor.ID == "" {
		r.Requestor.ID = owner
	}
	return r, nil
}

func (b *Bot) verbRequestRefresh(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	id := str(data, cards.KeyRequestID)
	r, err := b.ownRequest(ctx, t, id)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.readRequest"), err, "status")
	}
	tr, err := b.core.Track(ctx, r, trackOptions{RequestorTenant: t.tenantID})
	if err != nil {
		return nil, fmt.Errorf("track request %s: %w", id, err)
	}
	return b.answerStatus(ctx, t, tr)
}

func (b *Bot) verbRequestCancel(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	id := str(data, cards.KeyRequestID)
	r, err := b.ownRequest(ctx, t, id)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.cancelRequest"), err, "status")
	}
	tr, err := b.cancel(ctx, t, r)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.cancelRequest"), err, "status")
	}
	return b.answerStatus(ctx, t, tr)
}

// cancel cancels one of the user's requests with their own token and updates every card of it.
func (b *Bot) cancel(ctx context.Context, t *turn, r entitlement.Request) (*trackedRequest, error) {
	if !r.State.Open() || r.State == entitlement.StateDelivering {
		return b.core.Track(ctx, r, trackOptions{RequestorTenant: t.tenantID})
	}
	d, err := b.delegated(ctx, t)
	if err != nil {
		return nil, err
	}
	return b.core.Cancel(ctx, d, r, lifecycle.Actor{TenantID: t.tenantID, ID: t.userID, Name: t.userName})
}

func (b *Bot) cmdCancel(ctx context.Context, t *turn, cmd Command) error {
	d, err := b.delegated(ctx, t)
	var reqs []entitlement.Request
	if err == nil {
		reqs, err = d.MyRequests(ctx)
	}
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.listRequests"), err, "status"))
		return err
	}
	var open []entitlement.Request
	names := map[string]string{}
	for _, r := range reqs {
		if r.PackageName == "" {
			r.PackageName = b.packageName(ctx, names, r.PackageID)
		}
		if r.State.Open() && r.State != entitlement.StateDelivering {
			open = append(open, r)
		}
	}
	want := strings.TrimSpace(cmd.Rest)
	var match []entitlement.Request
	for _, r := range open {
		if want == "" || strings.EqualFold(r.ID, want) || strings.Contains(strings.ToLower(r.PackageName), strings.ToLower(want)) {
			match = append(match, r)
		}
	}
	switch {
	case len(open) == 0:
		return b.sendNotice(ctx, t, noticeInfo, t.loc.T("cancel.nothing"), t.loc.T("cancel.nothingText"),
			[]cards.Suggestion{{Title: t.loc.T("button.myRequests"), Command: "status"}})
	case len(match) == 0:
		return b.sendNotice(ctx, t, noticeWarning, t.loc.T("cancel.noMatch"),
			t.loc.T("cancel.noMatchText", "Typed", want), cancelSuggestions(t.loc, open))
	case len(match) > 1:
		return b.sendNotice(ctx, t, noticeInfo, t.loc.T("cancel.which"), t.loc.T("cancel.whichText"), cancelSuggestions(t.loc, match))
	}
	tr, err := b.cancel(ctx, t, match[0])
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.cancelRequest"), err, "status"))
		return err
	}
	_, err = b.answerStatus(ctx, t, tr)
	return err
}

func cancelSuggestions(l *i18n.Localizer, rs []entitlement.Request) []cards.Suggestion {
	var out []cards.Suggestion
	for _, r := range rs {
		out = append(out, cards.Suggestion{Title: l.T("cancel.button", "Package", orUnknown(r.PackageName, r.ID)), Command: "cancel " + r.ID})
	}
	return out
}

func (b *Bot) cmdAccess(ctx context.Context, t *turn, cmd Command) error {
	d, err := b.delegated(ctx, t)
	var as []entitlement.Assignment
	if err == nil {
		as, err = d.MyAssignments(ctx)
	}
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.listAccess"), err, "access"))
		return err
	}
	v := cards.MyAccessView{Now: b.now(), OrgName: b.cfg.Tenant.Name}
	policies := map[string]entitlement.Policy{}
	pkgs := map[string]entitlement.Package{}
	for _, a := range as {
		if a.State == entitlement.AssignmentExpired || a.State == entitlement.AssignmentDeliveryFailed {
			continue
		}
		av := cards.AssignmentView{AssignmentID: a.ID, PackageID: a.PackageID, PackageName: a.PackageName, Start: a.Schedule.Start, End: a.EndsAt()}
		if pol, ok := b.policyCached(ctx, policies, a.PolicyID); ok {
			av.CanExtend = pol.SelfUpdateAllowed
		}
		if p, ok := pkgs[a.PackageID]; ok || a.PackageID != "" {
			if !ok {
				if got, err := b.cfg.Entitlement.Package(ctx, a.PackageID); err == nil {
					p = got
					pkgs[a.PackageID] = p
				}
			}
			av.PackageName = orUnknown(av.PackageName, p.Name)
			for _, r := range resourceViews(t.loc, p.Resources) {
				av.Resources = append(av.Resources, r.String())
			}
		}
		v.Assignments = append(v.Assignments, av)
	}
	v.Total = len(v.Assignments)
	_, err = b.sendCard(ctx, t, cards.MyAccess(t.loc, v))
	return err
}

func (b *Bot) cmdExtend(ctx context.Context, t *turn, cmd Command) error {
	resp, err := b.extend(ctx, t, false, strings.TrimSpace(cmd.Rest), "")
	if err != nil {
		return err
	}
	return b.sendInvokeResult(ctx, t, resp)
}

func (b *Bot) verbAccessExtend(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	return b.extend(ctx, t, true, "", str(data, cards.KeyAssignmentID))
}

// extend opens the extension form for one of the user's assignments (by id, or by package name or id).
// answered says its answer is the turn's answer, not sent during the turn (see putAnswerDialog): a command's
// is sent (and a command runs in an invoke turn too, after a sign-in).
func (b *Bot) extend(ctx context.Context, t *turn, answered bool, want, assignmentID string) (*botframework.InvokeResponse, error) {
	d, err := b.delegated(ctx, t)
	var as []entitlement.Assignment
	if err == nil {
		as, err = d.MyAssignments(ctx)
	}
	if err != nil {
		return botframework.CardResponse(b.errorCard(ctx, t, t.loc.T("fail.listAccess"), err, "access")), nil
	}
	var match []entitlement.Assignment
	names := map[string]string{}
	for _, a := range as {
		if !a.State.GrantsAccess() { // expired, failed or unknown: nothing Graph would extend
			continue
		}
		if a.PackageName == "" {
			a.PackageName = b.packageName(ctx, names, a.PackageID)
		}
		switch {
		case assignmentID != "":
			if a.ID == assignmentID {
				match = append(match, a)
			}
		case want == "" || strings.EqualFold(a.ID, want) || strings.EqualFold(a.PackageID, want) ||
			strings.Contains(strings.ToLower(a.PackageName), strings.ToLower(want)):
			match = append(match, a)
		}
	}
	notice := func(kind cards.NoticeKind, title, text string, sugg []cards.Suggestion) *botframework.InvokeResponse {
		return botframework.CardResponse(cards.Notice(t.loc, cards.NoticeView{Kind: kind, Title: title, Text: text, Suggestions: sugg}))
	}
	switch {
	case len(match) == 0:
		return notice(noticeWarning, t.loc.T("extend.nothing"), t.loc.T("extend.nothingText"),
			[]cards.Suggestion{{Title: t.loc.T("button.myAccess"), Command: "access"}}), nil
	case len(match) > 1:
		var sugg []cards.Suggestion
		for _, a := range match {
			sugg = append(sugg, cards.Suggestion{Title: t.loc.T("extend.button", "Package", orUnknown(a.PackageName, a.ID)), Command: "extend " + a.ID})
		}
		return notice(noticeInfo, t.loc.T("extend.which"), t.loc.T("extend.whichText"), sugg), nil
	}
	a := match[0]
	pol, err := b.cfg.Entitlement.Policy(ctx, a.PolicyID)
	if err != nil {
		return botframework.CardResponse(b.errorCard(ctx, t, t.loc.T("fail.readPolicy"), err, "")), nil
	}
	if !pol.SelfUpdateAllowed {
		return notice(noticeWarning, t.loc.T("extend.notAllowed"),
			t.loc.T("extend.notAllowedText", "Package", orUnknown(a.PackageName, t.loc.T("extend.thisPackage"))), nil), nil
	}
	return botframework.CardResponse(b.formCardFor(ctx, t, answered, a.PackageID, a.PolicyID, &extendInfo{AssignmentID: a.ID})), nil
}
