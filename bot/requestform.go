package bot

import (
	"context"
	"errors"
	"fmt"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/store"
)

// The request form (requester flow): opening the form for a package and policy (also as an extension of an
// assignment), building it from the policy's requirements, validating a submitted form field by field, and
// filing the request (delegated or brokered), with a second submit showing the request already filed.

// formDialog is a request form the bot handed out; it comes back with the submit (formId).
type formDialog struct {
	TenantID     string    `json:"tenantId"`
	UserID       string    `json:"userId"`
	PackageID    string    `json:"packageId"`
	PolicyID     string    `json:"policyId"`
	Extend       bool      `json:"extend,omitempty"`
	AssignmentID string    `json:"assignmentId,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	// Mode is how the request is filed (delegated or brokered).
	Mode cards.Mode `json:"mode,omitempty"`
	// RequestID is set once the form was submitted: a second click shows that request instead of filing again.
	RequestID string `json:"requestId,omitempty"`
}

func (b *Bot) verbRequestOpen(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	pkgID := str(data, cards.KeyPackageID)
	if !validID(pkgID) {
		return b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeError, Title: t.loc.T("form.brokenButton"),
			Text: t.loc.T("form.brokenButtonText")}))
	}
	policyID := str(data, cards.KeyPolicyID)
	if policyID != "" && !validID(policyID) {
		policyID = ""
	}
	return b.answer(ctx, t, b.formCardFor(ctx, t, true, pkgID, policyID, nil))
}

// extendInfo turns a form into an extension (userUpdate) of an assignment.
type extendInfo struct {
	AssignmentID string
}

// formCardFor is the request form for a package (under policyID, or the first policy the user may use).
// answered says the card is the turn's answer, not a message sent during the turn (see putAnswerDialog).
func (b *Bot) formCardFor(ctx context.Context, t *turn, answered bool, packageID, policyID string, ext *extendInfo) *cards.Card {
	md, err := b.requestMode(ctx, t)
	if err != nil {
		return b.errorCard(ctx, t, t.loc.T("fail.openForm"), err, "request "+packageID)
	}
	if !md.Allowed || md.Mode == cards.ModeLinkOut {
		name := ""
		if b.cfg.Entitlement != nil {
			if p, err := b.cfg.Entitlement.Package(ctx, packageID); err == nil {
				name = p.Name
			}
		}
		return b.notHere(t.loc, md, packageID, name)
	}
	reqs, err := b.requirementsFor(ctx, t, md, packageID)
	if err != nil {
		return b.errorCard(ctx, t, t.loc.T("fail.openForm"), err, "request "+packageID)
	}
	if c := b.sodCard(ctx, t, packageID); c != nil && ext == nil {
		return c
	}
	req := reqs[0]
	for _, r := range reqs {
		if r.PolicyID == policyID {
			req = r
		}
	}
	fd := formDialog{TenantID: t.tenantID, UserID: t.userID, PackageID: packageID, PolicyID: req.PolicyID, CreatedAt: b.now(), Mode: md.Mode}
	if ext != nil {
		fd.Extend, fd.AssignmentID = true, ext.AssignmentID
	}
	formID := newID()
	if err := b.putAnswerDialog(ctx, t, answered, dialogFormPrefx+formID, fd); err != nil {
		return b.errorCard(ctx, t, t.loc.T("fail.openForm"), fmt.Errorf("store form: %w", err), "")
	}
	return cards.RequestForm(t.loc, b.formView(ctx, t, formID, fd, reqs, req))
}

// formView is the request form for one policy's requirements.
func (b *Bot) formView(ctx context.Context, t *turn, formID string, fd formDialog, reqs []entitlement.Requirements, req entitlement.Requirements) cards.RequestFormView {
	v := cards.RequestFormView{
		PackageID:             fd.PackageID,
		PackageName:           fd.PackageID,
		FormID:                formID,
		PolicyID:              req.PolicyID,
		ApprovalRequired:      req.ApprovalRequired,
		JustificationRequired: req.RequestorJustificationRequired,
		CustomSchedule:        req.CustomScheduleAllowed,
		MinDate:               b.now(),
		Mode:                  orMode(fd.Mode),
		OrgName:               b.cfg.Tenant.Name,
		ExpirySummary:         expirySummary(t.loc, req.Schedule.Expiration),
	}
	if fd.Extend {
		v.ApprovalRequired = req.ApprovalRequiredForUpdate
	}
	for _, r := range reqs {
		v.Policies = append(v.Policies, cards.PolicyOption{ID: r.PolicyID, Name: r.PolicyName, Description: r.PolicyDescription})
	}
	for _, q := range req.Questions {
		v.Questions = append(v.Questions, questionView(t.loc, t.act.Locale, q))
	}
	if p, err := b.cfg.Entitlement.Package(ctx, fd.PackageID); err == nil {
		v.PackageName, v.PackageDescription, v.CatalogName = p.Name, p.Description, p.CatalogName
	}
	if pol, err := b.cfg.Entitlement.Policy(ctx, req.PolicyID); err == nil {
		v.ApprovalSummary = approvalSummary(t.loc, pol)
		if v.Mode == cards.ModeBrokered {
			v.ApprovalSummary = orUnknown(b.brokeredApprovalSummary(ctx, t, pol), v.ApprovalSummary)
		}
		if v.ExpirySummary == "" {
			v.ExpirySummary = expirySummary(t.loc, pol.Expiration)
		}
	}
	if fd.Extend {
		v.PackageDescription = strings.TrimSpace(t.loc.T("form.extendLead") + " " + v.PackageDescription)
	}
	return v
}

// validateForm checks a submitted form against the policy's requirements, field by field. It returns the
// request to file, the errors by input id (empty when valid) and the submitted values (to re-fill the form).
func validateForm(l *i18n.Localizer, req entitlement.Requirements, data map[string]any, now time.Time) (entitlement.NewRequest, map[string]string, map[string]string) {
	errs := map[string]string{}
	vals := map[string]string{}
	in := entitlement.NewRequest{PolicyID: req.PolicyID}

	just := str(data, cards.InputJustification)
	vals[cards.InputJustification] = just
	switch {
	case just == "" && req.RequestorJustificationRequired:
		errs[cards.InputJustification] = l.T("form.justificationMissing")
	case utf8.RuneCountInString(just) > maxJustifyLen:
		errs[cards.InputJustification] = l.T("form.justificationTooLong", "Got", utf8.RuneCountInString(just), "Max", maxJustifyLen)
	}
	in.Justification = just

	for _, q := range req.Questions {
		id := cards.QuestionInputID(q.ID)
		val := str(data, id)
		vals[id] = val
		if val == "" {
			if q.Required {
				errs[id] = l.T("form.answerRequired")
			}
			continue
		}
		ans, problem := validateAnswer(l, q, val)
		if problem != "" {
			errs[id] = problem
			continue
		}
		in.Answers = append(in.Answers, ans)
	}
	validateSchedule(l, req, data, now, &in, errs, vals)
	return in, errs, vals
}

// validateAnswer checks the non-empty answer val to question q: its length, then its choices or its
// pattern. It returns the answer to file, or the problem to show on the field.
func validateAnswer(l *i18n.Localizer, q entitlement.Question, val string) (entitlement.Answer, string) {
	if utf8.RuneCountInString(val) > maxAnswerLen {
		return entitlement.Answer{}, l.T("form.answerTooLong", "Max", maxAnswerLen)
	}
	ans := entitlement.Answer{QuestionID: q.ID, QuestionText: q.Text, Value: val, DisplayValue: val}
	if q.Kind == entitlement.QuestionChoice || len(q.Choices) > 0 {
		picked := []string{val}
		if q.MultipleSelection {
			picked = strings.Split(val, ",")
		}
		var shown []string
		for _, p := range picked {
			p = strings.TrimSpace(p)
			i := slices.IndexFunc(q.Choices, func(c entitlement.Choice) bool { return c.Value == p })
			if i < 0 {
				var allowed []string
				for _, c := range q.Choices {
					allowed = append(allowed, c.Value)
				}
				return entitlement.Answer{}, l.T("form.chooseOneOf", "Choices", strings.Join(allowed, ", "))
			}
			shown = append(shown, orUnknown(q.Choices[i].Text, p))
		}
		ans.DisplayValue = strings.Join(shown, ", ")
	} else if q.Regex != "" {
		re, err := regexp.Compile(q.Regex)
		if err == nil && !re.MatchString(val) {
			return entitlement.Answer{}, formatError(l, q, val)
		}
	}
	return ans, ""
}

// validateSchedule checks the form's start and end dates (allowed by the policy, real dates, not in the
// past, end after start) and sets in's schedule from them; problems go into errs by input id.
func validateSchedule(l *i18n.Localizer, req entitlement.Requirements, data map[string]any, now time.Time, in *entitlement.NewRequest, errs, vals map[string]string) {
	start, end := str(data, cards.InputStartDate), str(data, cards.InputEndDate)
	vals[cards.InputStartDate], vals[cards.InputEndDate] = start, end
	if (start != "" || end != "") && !req.CustomScheduleAllowed {
		if start != "" {
			errs[cards.InputStartDate] = l.T("form.noDates")
		}
		if end != "" {
			errs[cards.InputEndDate] = l.T("form.noDates")
		}
		return
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var sd, ed time.Time
	if start != "" {
		d, err := time.Parse(time.DateOnly, start)
		switch {
		case err != nil:
			errs[cards.InputStartDate] = l.T("form.notADate", "Value", strconv.Quote(start))
		case d.Before(today):
			errs[cards.InputStartDate] = l.T("form.startInPast", "Today", today.Format(time.DateOnly))
		default:
			sd = d
		}
	}
	if end != "" {
		d, err := time.Parse(time.DateOnly, end)
		switch {
		case err != nil:
			errs[cards.InputEndDate] = l.T("form.notADate", "Value", strconv.Quote(end))
		case !sd.IsZero() && !d.After(sd):
			errs[cards.InputEndDate] = l.T("form.endBeforeStart")
		case sd.IsZero() && !d.After(today):
			errs[cards.InputEndDate] = l.T("form.endNotAfterToday")
		default:
			ed = d
		}
	}
	if sd.After(today) {
		in.Schedule.Start = sd
	}
	if !ed.IsZero() {
		in.Schedule.Expiration = entitlement.Expiration{Type: entitlement.ExpireAfterDateTime, EndDateTime: ed}
	}
}

// inputForField maps the field an InvalidInputError names to the form input it belongs to ("" when none).
func inputForField(field string, req entitlement.Requirements) string {
	f := strings.ToLower(field)
	switch {
	case strings.Contains(f, "justification"):
		return cards.InputJustification
	case strings.Contains(f, "start"):
		return cards.InputStartDate
	case strings.Contains(f, "end") || strings.Contains(f, "expiration") || strings.Contains(f, "schedule"):
		return cards.InputEndDate
	}
	if i := strings.Index(field, "["); i >= 0 && strings.HasSuffix(field, "]") {
		key := field[i+1 : len(field)-1]
		for _, q := range req.Questions {
			if q.ID == key || strings.EqualFold(q.Text, key) {
				return cards.QuestionInputID(q.ID)
			}
		}
	}
	return ""
}

func (b *Bot) verbRequestSubmit(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	formID := str(data, cards.KeyFormID)
	var fd formDialog
	if !validID(formID) {
		return b.answer(ctx, t, formGone(t.loc, ""))
	}
	if err := b.cfg.Store.Dialog(ctx, dialogFormPrefx+formID, &fd); err != nil || fd.UserID != t.userID || fd.TenantID != t.tenantID {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("load form %s: %w", formID, err)
		}
		return b.answer(ctx, t, formGone(t.loc, str(data, cards.KeyPackageID)))
	}
	unlock, err := b.core.Lock(ctx, dialogFormPrefx+formID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := b.cfg.Store.Dialog(ctx, dialogFormPrefx+formID, &fd); err == nil && fd.RequestID != "" {
		// A second click on Submit (or a redelivery): show the request filed the first time.
		if tr, err := b.core.Get(ctx, fd.RequestID); err == nil {
			return b.answerStatus(ctx, t, tr)
		}
		return b.answer(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: noticeInfo, Title: t.loc.T("form.alreadySubmitted"),
			Text: t.loc.T("form.alreadySubmittedText"), Suggestions: []cards.Suggestion{{Title: t.loc.T("button.myRequests"), Command: "status"}}}))
	}
	return b.submitForm(ctx, t, formID, fd, data)
}

// submitForm validates a form the user may still submit (under its lock) and files the request in the
// user's mode: bad answers re-render the form with the problems on their fields.
func (b *Bot) submitForm(ctx context.Context, t *turn, formID string, fd formDialog, data map[string]any) (*botframework.InvokeResponse, error) {
	md, err := b.requestMode(ctx, t)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.fileRequest"), err, "")
	}
	if c := b.notHere(t.loc, md, fd.PackageID, ""); c != nil {
		return b.answer(ctx, t, c)
	}
	reqs, err := b.requirementsFor(ctx, t, md, fd.PackageID)
	if err != nil {
		return b.failure(ctx, t, t.loc.T("fail.fileRequest"), err, "")
	}
	i := slices.IndexFunc(reqs, func(r entitlement.Requirements) bool { return r.PolicyID == fd.PolicyID })
	if i < 0 {
		return b.failure(ctx, t, t.loc.T("fail.fileRequest"), fmt.Errorf("policy %s no longer applies: %w", fd.PolicyID, entitlement.ErrNotEligible), "")
	}
	req := reqs[i]
	fd.Mode = md.Mode
	in, errs, vals := validateForm(t.loc, req, data, b.now())
	in.PackageID, in.PolicyID = fd.PackageID, fd.PolicyID
	in.Extend, in.AssignmentID = fd.Extend, fd.AssignmentID
	rerender := func(formErr string) (*botframework.InvokeResponse, error) {
		v := b.formView(ctx, t, formID, fd, reqs, req)
		v.Values, v.Errors, v.FormError = vals, errs, formErr
		return b.answer(ctx, t, cards.RequestForm(t.loc, v))
	}
	if len(errs) > 0 {
		return rerender(t.loc.N("form.toFix", len(errs)))
	}
	// refused shows bad input the request was refused for: on the field it names, else above the form.
	refused := func(refusal error, lead string) (*botframework.InvokeResponse, error) {
		if ie := (*entitlement.InvalidInputError)(nil); errors.As(refusal, &ie) {
			if id := inputForField(ie.Field, req); id != "" {
				errs[id] = fieldProblem(t.loc, ie)
				return rerender(lead)
			}
		}
		return rerender(userMessage(t.loc, refusal))
	}
	if md.Mode == cards.ModeBrokered {
		resp, refusal, err := b.fileBrokeredForm(ctx, t, md, formID, fd, in)
		if refusal != nil {
			return refused(refusal, t.loc.T("form.answersRefused"))
		}
		return resp, err
	}
	resp, refusal, err := b.fileDelegatedForm(ctx, t, formID, fd, in)
	if refusal != nil {
		return refused(refusal, t.loc.T("form.entraRefused"))
	}
	return resp, err
}

// fieldProblem is what is wrong with one answer: the refusing code's own words (English) to an English reader,
// else what the field needs (error.invalid.<field>) or that the answer was refused.
func fieldProblem(l *i18n.Localizer, ie *entitlement.InvalidInputError) string {
	return inputProblem(l, ie, ie.Problem, "form.fieldRefused")
}

// fileBrokeredForm files a partner's validated form as a brokered request and answers with its status card.
// Bad input it was refused for comes back alone, for the form to show.
func (b *Bot) fileBrokeredForm(ctx context.Context, t *turn, md modeDecision, formID string, fd formDialog, in entitlement.NewRequest) (*botframework.InvokeResponse, error, error) {
	card, key, err := b.brokeredSubmit(ctx, t, md, in)
	if err != nil {
		if errors.Is(err, entitlement.ErrInvalidInput) {
			return nil, err, nil
		}
		resp, err := b.failure(ctx, t, t.loc.T("fail.fileRequest"), err, "request "+fd.PackageID)
		return resp, nil, err
	}
	fd.RequestID = key
	b.markFormSubmitted(ctx, t, formID, fd)
	resp, err := b.answerStatusCard(ctx, t, key, card)
	return resp, nil, err
}

// fileDelegatedForm submits a member's validated form to Entra ID, audits and tracks the request, and answers
// with its status. Bad input Entra ID refused comes back alone, for the form to show.
func (b *Bot) fileDelegatedForm(ctx context.Context, t *turn, formID string, fd formDialog, in entitlement.NewRequest) (*botframework.InvokeResponse, error, error) {
	d, err := b.delegated(ctx, t)
	if err != nil {
		resp, err := b.failure(ctx, t, t.loc.T("fail.fileRequest"), err, "")
		return resp, nil, err
	}
	r, err := d.SubmitRequest(ctx, in)
	if err != nil {
		if ie := (*entitlement.InvalidInputError)(nil); errors.As(err, &ie) {
			return nil, err, nil
		}
		resp, err := b.failure(ctx, t, t.loc.T("fail.fileRequest"), err, "request "+fd.PackageID)
		return resp, nil, err
	}
	b.completeSubmitted(ctx, t, &r, fd, in)
	fd.RequestID = r.ID
	b.markFormSubmitted(ctx, t, formID, fd)
	action := "request.submit"
	if fd.Extend {
		action = "request.extend"
	}
	b.auditTurn(ctx, t, store.AuditEntry{Action: action, Mode: store.ModeDelegated, RequestID: r.ID, PackageID: r.PackageID,
		PackageName: r.PackageName, SubjectID: t.userID, SubjectName: t.userName, Outcome: string(r.State)})
	tr, err := b.core.Track(ctx, r, trackOptions{RequestorTenant: t.tenantID, RequestorName: t.userName, Mode: lifecycle.ModeDelegated})
	if err != nil {
		return nil, nil, fmt.Errorf("track request %s: %w", r.ID, err)
	}
	b.Kick()
	resp, err := b.answerStatus(ctx, t, tr)
	return resp, nil, err
}

// completeSubmitted fills what Entra ID's answer to a submitted request left out (requestor, package,
// policy, justification, answers) from the turn and the form.
func (b *Bot) completeSubmitted(ctx context.Context, t *turn, r *entitlement.Request, fd formDialog, in entitlement.NewRequest) {
	if r.Requestor.ID == "" {
		r.Requestor.ID = t.userID
	}
	if r.Requestor.Name == "" {
		r.Requestor.Name = t.userName
	}
	if r.PackageID == "" {
		r.PackageID = fd.PackageID
	}
	if r.PolicyID == "" {
		r.PolicyID = fd.PolicyID
	}
	if r.PackageName == "" {
		if p, err := b.cfg.Entitlement.Package(ctx, fd.PackageID); err == nil {
			r.PackageName = p.Name
		}
	}
	if r.Justification == "" {
		r.Justification = in.Justification
	}
	if len(r.Answers) == 0 {
		r.Answers = in.Answers
	}
}

// markFormSubmitted records the request a form filed, so a second click shows it instead of filing again.
func (b *Bot) markFormSubmitted(ctx context.Context, t *turn, formID string, fd formDialog) {
	if err := b.cfg.Store.PutDialog(ctx, dialogFormPrefx+formID, fd); err != nil {
		t.log.WarnContext(ctx, "mark form submitted", "err", err)
	}
}

func formGone(l *i18n.Localizer, packageID string) *cards.Card {
	v := cards.NoticeView{Kind: noticeWarning, Title: l.T("form.gone"), Text: l.T("form.goneText")}
	if validID(packageID) {
		v.Suggestions = []cards.Suggestion{{Title: l.T("form.openAgain"), Command: "request " + packageID}}
	} else {
		v.Suggestions = []cards.Suggestion{{Title: l.T("button.findPackages"), Command: "packages"}}
	}
	return cards.Notice(l, v)
}
