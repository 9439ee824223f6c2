package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// The requester flow (DESIGN.md §1, §3 delegated mode): find packages, request one through the policy's form,
// follow its status card, cancel, extend, list requests and access.

// Limits on what a requester types.
const (
	maxQueryLen     = 100
	maxAnswerLen    = 1000
	maxJustifyLen   = 1000
	dialogFormPrefx = "form:"
)

func (b *Bot) registerRequester() {
	b.handle(&commandSpec{Name: "packages", Aliases: []string{"catalog", "find", "search", "list"}, Run: b.cmdPackages})
	b.handle(&commandSpec{Name: "request", Aliases: []string{"get"}, Run: b.cmdRequest})
	b.handle(&commandSpec{Name: "status", Aliases: []string{"requests", "mine"}, Run: b.cmdStatus})
	b.handle(&commandSpec{Name: "access", Aliases: []string{"assignments"}, Run: b.cmdAccess})
	b.handle(&commandSpec{Name: "cancel", Aliases: []string{"withdraw"}, Run: b.cmdCancel})
	b.handle(&commandSpec{Name: "extend", Aliases: []string{"renew"}, Run: b.cmdExtend})
	b.handle(&commandSpec{Name: "my", Run: b.cmdMy})

	b.onVerb(cards.VerbPackagesPage, b.verbPackagesPage)
	b.onVerb(cards.VerbRequestOpen, b.verbRequestOpen)
	b.onVerb(cards.VerbRequestSubmit, b.verbRequestSubmit)
	b.onVerb(cards.VerbRequestRefresh, b.verbRequestRefresh)
	b.onVerb(cards.VerbRequestCancel, b.verbRequestCancel)
	b.onVerb(cards.VerbAccessExtend, b.verbAccessExtend)
	b.registerTracker()
}

// ---- helpers shared by the flows ----

// delegated returns the entitlement port acting as the turn's user (their own token).
func (b *Bot) delegated(ctx context.Context, t *turn) (entitlement.Delegated, error) {
	if b.cfg.Entitlement == nil || b.cfg.Tokens == nil {
		return nil, fmt.Errorf("delegated access: %w", entitlement.ErrUnavailable)
	}
	if t.tenantID == "" || t.userID == "" {
		return nil, fmt.Errorf("delegated access: the activity has no tenant or user id: %w", entitlement.ErrSignInRequired)
	}
	b.acceptSSO(ctx, t)
	b.noteServiceURL(ctx, t)
	return b.cfg.Entitlement.ForUser(b.cfg.Tokens.ForUser(t.tenantID, t.userID)), nil
}

// acceptSSO exchanges the token Teams attaches to an Action.Execute retried after a login request.
func (b *Bot) acceptSSO(ctx context.Context, t *turn) {
	if t.act.Type != activityInvoke || b.cfg.Tokens == nil {
		return
	}
	_, _, tok, err := botframework.InvokeAction(t.act)
	if err != nil || tok == "" {
		return
	}
	if err := b.cfg.Tokens.ExchangeSSO(ctx, t.tenantID, t.userID, tok); err != nil {
		t.log.WarnContext(ctx, "exchange adaptive card SSO token", "err", err)
	}
}

// answer delivers a card for a verb handler: the invoke answer (it replaces the card clicked), or a new message
// when the action came as Action.Submit.
func (b *Bot) answer(ctx context.Context, t *turn, card *cards.Card) (*botframework.InvokeResponse, error) {
	if t.act.Type == activityInvoke {
		return botframework.CardResponse(card), nil
	}
	_, err := b.sendCard(ctx, t, card)
	return nil, err
}

// failure answers a verb with the card for err; for an invoke that needs sign-in it asks Teams for Adaptive
// Card SSO when it is configured.
func (b *Bot) failure(ctx context.Context, t *turn, title string, err error, retry string) (*botframework.InvokeResponse, error) {
	if t.act.Type == activityInvoke && errors.Is(err, entitlement.ErrSignInRequired) && b.cfg.SSOConnectionName != "" && b.cfg.SSOResource != "" {
		if _, _, tok, _ := botframework.InvokeAction(t.act); tok == "" {
			return botframework.LoginRequestResponse(b.cfg.SSOConnectionName, "",
				&botframework.TokenExchangeResource{ID: newID(), URI: b.cfg.SSOResource}), nil
		}
	}
	return b.answer(ctx, t, b.errorCard(ctx, t, title, err, retry))
}

// answerStatus answers with a request's status card and stores where it landed so it is updated in place.
func (b *Bot) answerStatus(ctx context.Context, t *turn, tr *trackedRequest) (*botframework.InvokeResponse, error) {
	card := cards.RequestStatus(b.statusView(ctx, tr))
	if t.act.Type == activityInvoke {
		b.storeCard(ctx, tr.ID, cardKindStatus, 0, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, t.act.ReplyToID)
		return botframework.CardResponse(card), nil
	}
	id, err := b.sendCard(ctx, t, card)
	if err != nil {
		return nil, err
	}
	b.storeCard(ctx, tr.ID, cardKindStatus, 0, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, id)
	return nil, nil
}

func str(data map[string]any, key string) string {
	switch v := data[key].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// validID checks an object id that came back in card data (it may have been tampered with).
func validID(s string) bool { return idRE.MatchString(s) }

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newID() string {
	var buf [12]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

func (b *Bot) auditTurn(ctx context.Context, t *turn, e store.AuditEntry) {
	e.ActorTenant, e.ActorID, e.ActorName = t.tenantID, t.userID, t.userName
	if e.Time.IsZero() {
		e.Time = b.now()
	}
	if _, err := b.cfg.Store.AppendAudit(ctx, e); err != nil {
		t.log.ErrorContext(ctx, "append audit entry", "action", e.Action, "err", err)
	}
}

// ---- packages ----

func (b *Bot) cmdPackages(ctx context.Context, t *turn, cmd Command) error {
	_, err := b.sendCard(ctx, t, b.packagesCard(ctx, t, cmd.Rest, 1))
	return err
}

func (b *Bot) verbPackagesPage(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	page, err := strconv.Atoi(str(data, cards.KeyPage))
	if err != nil || page < 1 {
		page = 1
	}
	return b.answer(ctx, t, b.packagesCard(ctx, t, str(data, cards.KeyQuery), page))
}

// packagesCard is one page of the packages the user may request that match query.
func (b *Bot) packagesCard(ctx context.Context, t *turn, query string, page int) *cards.Card {
	query = strings.TrimSpace(query)
	if utf8.RuneCountInString(query) > maxQueryLen {
		query = string([]rune(query)[:maxQueryLen])
	}
	md, err := b.requestMode(ctx, t)
	if err != nil {
		return b.errorCard(ctx, t, "I couldn't list the packages", err, "packages "+query)
	}
	if c := b.notHere(md, "", ""); c != nil {
		return c
	}
	pkgs, err := b.listPackages(ctx, t, md, query)
	if err == nil && len(pkgs) == 0 && len(freeTextWords(query)) > 1 {
		// "falcon wiki" is not a substring of any name: look for the packages that name the most words.
		var all []entitlement.Package
		if all, err = b.listPackages(ctx, t, md, ""); err == nil {
			pkgs = scorePackages(all, freeTextWords(query))
		}
	}
	if err != nil {
		return b.errorCard(ctx, t, "I couldn't list the packages", err, "packages "+query)
	}
	return packageListCard(pkgs, query, page, b.cfg.Tenant.Name)
}

// notHere is the card for a user who cannot request from the chat (refused, or link-out); nil otherwise.
func (b *Bot) notHere(md modeDecision, packageID, packageName string) *cards.Card {
	if !md.Allowed {
		return cards.Notice(cards.NoticeView{Kind: noticeWarning, Title: "You can't request access here",
			Text: orUnknown(md.Reason, "Your organization is not set up to request access in "+orUnknown(b.cfg.Tenant.Name, "this organization")+".")})
	}
	if md.Mode == cards.ModeLinkOut {
		return cards.LinkOut(cards.LinkOutView{PackageID: packageID, PackageName: packageName, TenantDomain: b.cfg.Tenant.Domain,
			OrgName: b.cfg.Tenant.Name, Reason: md.Reason})
	}
	return nil
}

// listPackages lists the packages the user may request in their mode.
func (b *Bot) listPackages(ctx context.Context, t *turn, md modeDecision, query string) ([]entitlement.Package, error) {
	if md.Mode == cards.ModeBrokered {
		return b.brokeredPackages(ctx, t, md, query)
	}
	d, err := b.delegated(ctx, t)
	if err != nil {
		return nil, err
	}
	return d.RequestablePackages(ctx, entitlement.PackageQuery{Search: query})
}

// requirementsFor returns what the user must supply for each policy of a package they may use, in their mode.
func (b *Bot) requirementsFor(ctx context.Context, t *turn, md modeDecision, packageID string) ([]entitlement.Requirements, error) {
	var reqs []entitlement.Requirements
	var err error
	if md.Mode == cards.ModeBrokered {
		reqs, err = b.brokeredRequirements(ctx, t, md, packageID)
	} else {
		var d entitlement.Delegated
		if d, err = b.delegated(ctx, t); err == nil {
			reqs, err = d.Requirements(ctx, packageID)
		}
	}
	if err == nil && len(reqs) == 0 {
		err = entitlement.ErrNotEligible
	}
	return reqs, err
}

// packageListCard pages a package list (MaxPackagesPerPage per page).
func packageListCard(pkgs []entitlement.Package, query string, page int, org string) *cards.Card {
	per := cards.MaxPackagesPerPage
	pages := max(1, (len(pkgs)+per-1)/per)
	page = min(max(page, 1), pages)
	lo := (page - 1) * per
	hi := min(lo+per, len(pkgs))
	v := cards.PackageListView{Query: query, Page: page, PageCount: pages, Total: len(pkgs), OrgName: org}
	for _, p := range pkgs[lo:hi] {
		v.Packages = append(v.Packages, packageView(p))
	}
	return cards.PackageList(v)
}

// ---- request form ----

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

func (b *Bot) cmdRequest(ctx context.Context, t *turn, cmd Command) error {
	if cmd.Rest == "" {
		return b.cmdPackages(ctx, t, Command{Name: "packages"})
	}
	return b.openByName(ctx, t, cmd.Rest)
}

// openByName answers "request <name or id>": the form when one package matches, the list when several do.
func (b *Bot) openByName(ctx context.Context, t *turn, text string) error {
	if guidRE.MatchString(text) {
		_, err := b.sendCard(ctx, t, b.formCardFor(ctx, t, text, "", nil))
		return err
	}
	md, err := b.requestMode(ctx, t)
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, "I couldn't open the request form", err, "request "+text))
		return err
	}
	if c := b.notHere(md, "", ""); c != nil {
		_, err = b.sendCard(ctx, t, c)
		return err
	}
	pkgs, err := b.listPackages(ctx, t, md, text)
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, "I couldn't look up that package", err, "request "+text))
		return err
	}
	for _, p := range pkgs {
		if strings.EqualFold(strings.TrimSpace(p.Name), text) {
			pkgs = []entitlement.Package{p}
			break
		}
	}
	switch len(pkgs) {
	case 0:
		return b.sendNotice(ctx, t, noticeWarning, "No package found",
			fmt.Sprintf("Nothing you can request matches %q. Here is how to see what you can request:", text),
			[]cards.Suggestion{{Title: "All packages", Command: "packages"}})
	case 1:
		_, err := b.sendCard(ctx, t, b.formCardFor(ctx, t, pkgs[0].ID, "", nil))
		return err
	}
	_, err = b.sendCard(ctx, t, packageListCard(pkgs, text, 1, b.cfg.Tenant.Name))
	return err
}

func (b *Bot) verbRequestOpen(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	pkgID := str(data, cards.KeyPackageID)
	if !validID(pkgID) {
		return b.answer(ctx, t, cards.Notice(cards.NoticeView{Kind: noticeError, Title: "That button is broken",
			Text: "It does not name an access package. Type packages to find the one you need."}))
	}
	policyID := str(data, cards.KeyPolicyID)
	if policyID != "" && !validID(policyID) {
		policyID = ""
	}
	return b.answer(ctx, t, b.formCardFor(ctx, t, pkgID, policyID, nil))
}

// extendInfo turns a form into an extension (userUpdate) of an assignment.
type extendInfo struct {
	AssignmentID string
}

// formCardFor is the request form for a package (under policyID, or the first policy the user may use).
func (b *Bot) formCardFor(ctx context.Context, t *turn, packageID, policyID string, ext *extendInfo) *cards.Card {
	md, err := b.requestMode(ctx, t)
	if err != nil {
		return b.errorCard(ctx, t, "I couldn't open the request form", err, "request "+packageID)
	}
	if !md.Allowed || md.Mode == cards.ModeLinkOut {
		name := ""
		if b.cfg.Entitlement != nil {
			if p, err := b.cfg.Entitlement.Package(ctx, packageID); err == nil {
				name = p.Name
			}
		}
		return b.notHere(md, packageID, name)
	}
	reqs, err := b.requirementsFor(ctx, t, md, packageID)
	if err != nil {
		return b.errorCard(ctx, t, "I couldn't open the request form", err, "request "+packageID)
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
	if err := b.cfg.Store.PutDialog(ctx, dialogFormPrefx+formID, fd); err != nil {
		return b.errorCard(ctx, t, "I couldn't open the request form", fmt.Errorf("store form: %w", err), "")
	}
	return cards.RequestForm(b.formView(ctx, formID, fd, reqs, req))
}

// formView is the request form for one policy's requirements.
func (b *Bot) formView(ctx context.Context, formID string, fd formDialog, reqs []entitlement.Requirements, req entitlement.Requirements) cards.RequestFormView {
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
		ExpirySummary:         expirySummary(req.Schedule.Expiration),
	}
	if fd.Extend {
		v.ApprovalRequired = req.ApprovalRequiredForUpdate
	}
	for _, r := range reqs {
		v.Policies = append(v.Policies, cards.PolicyOption{ID: r.PolicyID, Name: r.PolicyName, Description: r.PolicyDescription})
	}
	for _, q := range req.Questions {
		v.Questions = append(v.Questions, questionView(q))
	}
	if p, err := b.cfg.Entitlement.Package(ctx, fd.PackageID); err == nil {
		v.PackageName, v.PackageDescription, v.CatalogName = p.Name, p.Description, p.CatalogName
	}
	if pol, err := b.cfg.Entitlement.Policy(ctx, req.PolicyID); err == nil {
		v.ApprovalSummary = approvalSummary(pol)
		if v.ExpirySummary == "" {
			v.ExpirySummary = expirySummary(pol.Expiration)
		}
	}
	if fd.Extend {
		v.PackageDescription = "Extend your access: this asks for a new end date under the same policy. " + v.PackageDescription
	}
	return v
}

// validateForm checks a submitted form against the policy's requirements, field by field. It returns the
// request to file, the errors by input id (empty when valid) and the submitted values (to re-fill the form).
func validateForm(req entitlement.Requirements, data map[string]any, now time.Time) (entitlement.NewRequest, map[string]string, map[string]string) {
	errs := map[string]string{}
	vals := map[string]string{}
	in := entitlement.NewRequest{PolicyID: req.PolicyID}

	just := str(data, cards.InputJustification)
	vals[cards.InputJustification] = just
	switch {
	case just == "" && req.RequestorJustificationRequired:
		errs[cards.InputJustification] = "A justification is required for this package: say why you need the access."
	case utf8.RuneCountInString(just) > maxJustifyLen:
		errs[cards.InputJustification] = fmt.Sprintf("The justification is %d characters long; at most %d are allowed.", utf8.RuneCountInString(just), maxJustifyLen)
	}
	in.Justification = just

	for _, q := range req.Questions {
		id := cards.QuestionInputID(q.ID)
		val := str(data, id)
		vals[id] = val
		if val == "" {
			if q.Required {
				errs[id] = "An answer is required."
			}
			continue
		}
		if utf8.RuneCountInString(val) > maxAnswerLen {
			errs[id] = fmt.Sprintf("The answer is too long (at most %d characters).", maxAnswerLen)
			continue
		}
		ans := entitlement.Answer{QuestionID: q.ID, QuestionText: q.Text, Value: val, DisplayValue: val}
		if q.Kind == entitlement.QuestionChoice || len(q.Choices) > 0 {
			picked := []string{val}
			if q.MultipleSelection {
				picked = strings.Split(val, ",")
			}
			var shown []string
			ok := true
			for _, p := range picked {
				p = strings.TrimSpace(p)
				i := slices.IndexFunc(q.Choices, func(c entitlement.Choice) bool { return c.Value == p })
				if i < 0 {
					ok = false
					break
				}
				shown = append(shown, orUnknown(q.Choices[i].Text, p))
			}
			if !ok {
				var allowed []string
				for _, c := range q.Choices {
					allowed = append(allowed, c.Value)
				}
				errs[id] = "Choose one of: " + strings.Join(allowed, ", ") + "."
				continue
			}
			ans.DisplayValue = strings.Join(shown, ", ")
		} else if q.Regex != "" {
			re, err := regexp.Compile(q.Regex)
			if err == nil && !re.MatchString(val) {
				errs[id] = fmt.Sprintf("%q is not in the expected format (a value matching %s).", val, q.Regex)
				continue
			}
		}
		in.Answers = append(in.Answers, ans)
	}

	start, end := str(data, cards.InputStartDate), str(data, cards.InputEndDate)
	vals[cards.InputStartDate], vals[cards.InputEndDate] = start, end
	if (start != "" || end != "") && !req.CustomScheduleAllowed {
		if start != "" {
			errs[cards.InputStartDate] = "This policy does not let you choose dates; leave it empty."
		}
		if end != "" {
			errs[cards.InputEndDate] = "This policy does not let you choose dates; leave it empty."
		}
		return in, errs, vals
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	var sd, ed time.Time
	if start != "" {
		d, err := time.Parse(time.DateOnly, start)
		switch {
		case err != nil:
			errs[cards.InputStartDate] = fmt.Sprintf("%q is not a date; use YYYY-MM-DD.", start)
		case d.Before(today):
			errs[cards.InputStartDate] = fmt.Sprintf("The start date can't be in the past (today is %s).", today.Format(time.DateOnly))
		default:
			sd = d
		}
	}
	if end != "" {
		d, err := time.Parse(time.DateOnly, end)
		switch {
		case err != nil:
			errs[cards.InputEndDate] = fmt.Sprintf("%q is not a date; use YYYY-MM-DD.", end)
		case !sd.IsZero() && !d.After(sd):
			errs[cards.InputEndDate] = "The end date must be after the start date."
		case sd.IsZero() && !d.After(today):
			errs[cards.InputEndDate] = "The end date must be after today."
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
	return in, errs, vals
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
		return b.answer(ctx, t, formGone(""))
	}
	if err := b.cfg.Store.Dialog(ctx, dialogFormPrefx+formID, &fd); err != nil || fd.UserID != t.userID || fd.TenantID != t.tenantID {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("load form %s: %w", formID, err)
		}
		return b.answer(ctx, t, formGone(str(data, cards.KeyPackageID)))
	}
	unlock := b.lock(dialogFormPrefx + formID)
	defer unlock()
	if err := b.cfg.Store.Dialog(ctx, dialogFormPrefx+formID, &fd); err == nil && fd.RequestID != "" {
		// A second click on Submit (or a redelivery): show the request filed the first time.
		if tr, err := b.loadTracked(ctx, fd.RequestID); err == nil {
			return b.answerStatus(ctx, t, tr)
		}
		return b.answer(ctx, t, cards.Notice(cards.NoticeView{Kind: noticeInfo, Title: "Already submitted",
			Text: "This form was already submitted.", Suggestions: []cards.Suggestion{{Title: "My requests", Command: "status"}}}))
	}
	md, err := b.requestMode(ctx, t)
	if err != nil {
		return b.failure(ctx, t, "I couldn't file your request", err, "")
	}
	if c := b.notHere(md, fd.PackageID, ""); c != nil {
		return b.answer(ctx, t, c)
	}
	reqs, err := b.requirementsFor(ctx, t, md, fd.PackageID)
	if err != nil {
		return b.failure(ctx, t, "I couldn't file your request", err, "")
	}
	i := slices.IndexFunc(reqs, func(r entitlement.Requirements) bool { return r.PolicyID == fd.PolicyID })
	if i < 0 {
		return b.failure(ctx, t, "I couldn't file your request", fmt.Errorf("policy %s no longer applies: %w", fd.PolicyID, entitlement.ErrNotEligible), "")
	}
	req := reqs[i]
	fd.Mode = md.Mode
	in, errs, vals := validateForm(req, data, b.now())
	in.PackageID, in.PolicyID = fd.PackageID, fd.PolicyID
	in.Extend, in.AssignmentID = fd.Extend, fd.AssignmentID
	rerender := func(formErr string) (*botframework.InvokeResponse, error) {
		v := b.formView(ctx, formID, fd, reqs, req)
		v.Values, v.Errors, v.FormError = vals, errs, formErr
		return b.answer(ctx, t, cards.RequestForm(v))
	}
	if len(errs) > 0 {
		return rerender(fmt.Sprintf("%s to fix below.", pluralize(len(errs), "answer")))
	}
	var r entitlement.Request
	if md.Mode == cards.ModeBrokered {
		card, key, err := b.brokeredSubmit(ctx, t, md, in)
		if err != nil {
			if ie := (*entitlement.InvalidInputError)(nil); errors.As(err, &ie) {
				if id := inputForField(ie.Field, req); id != "" {
					errs[id] = capitalize(ie.Problem) + "."
					return rerender("Your answers were refused; see below.")
				}
				return rerender(capitalize(ie.Error()) + ".")
			}
			return b.failure(ctx, t, "I couldn't file your request", err, "request "+fd.PackageID)
		}
		fd.RequestID = key
		if err := b.cfg.Store.PutDialog(ctx, dialogFormPrefx+formID, fd); err != nil {
			t.log.WarnContext(ctx, "mark form submitted", "err", err)
		}
		if t.act.Type == activityInvoke {
			b.storeCard(ctx, key, cardKindStatus, 0, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, t.act.ReplyToID)
			return botframework.CardResponse(card), nil
		}
		id, err := b.sendCard(ctx, t, card)
		if err != nil {
			return nil, err
		}
		b.storeCard(ctx, key, cardKindStatus, 0, t.tenantID, t.userID, t.act.Conversation.ID, t.act.ServiceURL, id)
		return nil, nil
	}
	d, err := b.delegated(ctx, t)
	if err != nil {
		return b.failure(ctx, t, "I couldn't file your request", err, "")
	}
	r, err = d.SubmitRequest(ctx, in)
	if err != nil {
		var ie *entitlement.InvalidInputError
		if errors.As(err, &ie) {
			if id := inputForField(ie.Field, req); id != "" {
				errs[id] = capitalize(ie.Problem) + "."
				return rerender("Entra ID refused an answer; see below.")
			}
			return rerender(capitalize(ie.Error()) + ".")
		}
		return b.failure(ctx, t, "I couldn't file your request", err, "request "+fd.PackageID)
	}
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
	fd.RequestID = r.ID
	if err := b.cfg.Store.PutDialog(ctx, dialogFormPrefx+formID, fd); err != nil {
		t.log.WarnContext(ctx, "mark form submitted", "err", err)
	}
	action := "request.submit"
	if fd.Extend {
		action = "request.extend"
	}
	b.auditTurn(ctx, t, store.AuditEntry{Action: action, Mode: store.ModeDelegated, RequestID: r.ID, PackageID: r.PackageID,
		PackageName: r.PackageName, SubjectID: t.userID, SubjectName: t.userName, Outcome: string(r.State)})
	tr, err := b.track(ctx, r, trackOptions{RequestorTenant: t.tenantID, RequestorName: t.userName, Mode: cards.ModeDelegated})
	if err != nil {
		return nil, fmt.Errorf("track request %s: %w", r.ID, err)
	}
	b.Kick()
	return b.answerStatus(ctx, t, tr)
}

func formGone(packageID string) *cards.Card {
	v := cards.NoticeView{Kind: noticeWarning, Title: "This form is no longer valid",
		Text: "It expired, belongs to someone else, or was already used. Open the request form again."}
	if validID(packageID) {
		v.Suggestions = []cards.Suggestion{{Title: "Open the form again", Command: "request " + packageID}}
	} else {
		v.Suggestions = []cards.Suggestion{{Title: "Find packages", Command: "packages"}}
	}
	return cards.Notice(v)
}

// ---- status, refresh, cancel ----

func (b *Bot) cmdMy(ctx context.Context, t *turn, cmd Command) error {
	if len(cmd.Args) > 0 {
		switch strings.ToLower(cmd.Args[0]) {
		case "requests", "request", "status":
			return b.cmdStatus(ctx, t, cmd)
		case "access", "assignments", "packages":
			return b.cmdAccess(ctx, t, cmd)
		case "approvals":
			if spec, ok := b.byName["approvals"]; ok {
				return spec.Run(ctx, t, cmd)
			}
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
	_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, "I couldn't list your requests", err, "status"))
	return err
}

// myRequestsCard lists the user's requests; open ones the bot does not follow yet are tracked from now on.
func (b *Bot) myRequestsCard(ctx context.Context, t *turn, reqs []entitlement.Request) *cards.Card {
	v := cards.MyRequestsView{Total: len(reqs)}
	names := map[string]string{}
	for i, r := range reqs {
		var tr *trackedRequest
		if existing, err := b.loadTracked(ctx, r.ID); err == nil {
			tr = existing
		} else if r.State.Open() {
			if r.Requestor.ID == "" {
				r.Requestor.ID = t.userID
			}
			if tr, err = b.track(ctx, r, trackOptions{RequestorTenant: t.tenantID, RequestorName: t.userName}); err != nil {
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
				s.Detail = "waiting for " + namesOf(tr.Approvers)
				if tr.StageCount > 1 {
					s.Detail = fmt.Sprintf("stage %d of %d, %s", tr.Stage, tr.StageCount, s.Detail)
				}
			}
		}
		v.Requests = append(v.Requests, s)
	}
	if len(reqs) > 0 {
		b.Kick()
	}
	return cards.MyRequests(v)
}

// ownRequest reads a request with the app's identity and checks that the turn's user filed it.
func (b *Bot) ownRequest(ctx context.Context, t *turn, id string) (entitlement.Request, error) {
	if !validID(id) {
		return entitlement.Request{}, entitlement.Invalid("requestId", "is not a request id")
	}
	r, err := b.cfg.Entitlement.Request(ctx, id)
	if err != nil {
		return r, fmt.Errorf("read request %s: %w", id, err)
	}
	if r.Requestor.ID != "" && !strings.EqualFold(r.Requestor.ID, t.userID) {
		return r, fmt.Errorf("request %s belongs to someone else: %w", id, entitlement.ErrNotFound)
	}
	return r, nil
}

func (b *Bot) verbRequestRefresh(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	id := str(data, cards.KeyRequestID)
	r, err := b.ownRequest(ctx, t, id)
	if err != nil {
		return b.failure(ctx, t, "I couldn't read that request", err, "status")
	}
	tr, err := b.track(ctx, r, trackOptions{RequestorTenant: t.tenantID})
	if err != nil {
		return nil, fmt.Errorf("track request %s: %w", id, err)
	}
	return b.answerStatus(ctx, t, tr)
}

func (b *Bot) verbRequestCancel(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	id := str(data, cards.KeyRequestID)
	r, err := b.ownRequest(ctx, t, id)
	if err != nil {
		return b.failure(ctx, t, "I couldn't cancel that request", err, "status")
	}
	tr, err := b.cancel(ctx, t, r)
	if err != nil {
		return b.failure(ctx, t, "I couldn't cancel that request", err, "status")
	}
	return b.answerStatus(ctx, t, tr)
}

// cancel cancels one of the user's requests with their own token and updates every card of it.
func (b *Bot) cancel(ctx context.Context, t *turn, r entitlement.Request) (*trackedRequest, error) {
	if !r.State.Open() || r.State == entitlement.StateDelivering {
		return b.track(ctx, r, trackOptions{RequestorTenant: t.tenantID})
	}
	d, err := b.delegated(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := d.CancelRequest(ctx, r.ID); err != nil {
		return nil, err
	}
	b.auditTurn(ctx, t, store.AuditEntry{Action: "request.cancel", Mode: store.ModeDelegated, RequestID: r.ID, PackageID: r.PackageID,
		PackageName: r.PackageName, SubjectID: t.userID, SubjectName: t.userName, Outcome: "canceled"})
	unlock := b.lock("req:" + r.ID)
	if tr, err := b.loadTracked(ctx, r.ID); err == nil {
		tr.CanceledByUser = true
		_ = b.saveTracked(ctx, tr)
	}
	unlock()
	fresh, err := b.cfg.Entitlement.Request(ctx, r.ID)
	if err != nil {
		fresh = r
		fresh.State = entitlement.StateCanceled
	}
	tr, err := b.track(ctx, fresh, trackOptions{RequestorTenant: t.tenantID})
	if err != nil {
		return nil, err
	}
	if !tr.CanceledByUser {
		unlock := b.lock("req:" + r.ID)
		tr.CanceledByUser = true
		_ = b.saveTracked(ctx, tr)
		unlock()
	}
	return tr, nil
}

func (b *Bot) cmdCancel(ctx context.Context, t *turn, cmd Command) error {
	d, err := b.delegated(ctx, t)
	var reqs []entitlement.Request
	if err == nil {
		reqs, err = d.MyRequests(ctx)
	}
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, "I couldn't list your requests", err, "status"))
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
		return b.sendNotice(ctx, t, noticeInfo, "Nothing to cancel", "You have no open requests.", []cards.Suggestion{{Title: "My requests", Command: "status"}})
	case len(match) == 0:
		return b.sendNotice(ctx, t, noticeWarning, "No matching request",
			fmt.Sprintf("None of your open requests matches %q.", want), cancelSuggestions(open))
	case len(match) > 1:
		return b.sendNotice(ctx, t, noticeInfo, "Which request?",
			"Several open requests match. Pick the one to cancel:", cancelSuggestions(match))
	}
	tr, err := b.cancel(ctx, t, match[0])
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, "I couldn't cancel that request", err, "status"))
		return err
	}
	_, err = b.answerStatus(ctx, t, tr)
	return err
}

func cancelSuggestions(rs []entitlement.Request) []cards.Suggestion {
	var out []cards.Suggestion
	for _, r := range rs {
		out = append(out, cards.Suggestion{Title: "Cancel " + orUnknown(r.PackageName, r.ID), Command: "cancel " + r.ID})
	}
	return out
}

// ---- access and extend ----

func (b *Bot) cmdAccess(ctx context.Context, t *turn, cmd Command) error {
	d, err := b.delegated(ctx, t)
	var as []entitlement.Assignment
	if err == nil {
		as, err = d.MyAssignments(ctx)
	}
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, "I couldn't list your access", err, "access"))
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
			for _, r := range resourceViews(p.Resources) {
				av.Resources = append(av.Resources, r.String())
			}
		}
		v.Assignments = append(v.Assignments, av)
	}
	v.Total = len(v.Assignments)
	_, err = b.sendCard(ctx, t, cards.MyAccess(v))
	return err
}

// packageName returns a package's display name (cached per call in names; "" when unknown).
func (b *Bot) packageName(ctx context.Context, names map[string]string, id string) string {
	if id == "" {
		return ""
	}
	if n, ok := names[id]; ok {
		return n
	}
	p, err := b.cfg.Entitlement.Package(ctx, id)
	if err != nil {
		b.log.DebugContext(ctx, "read package name", "package", id, "err", err)
	}
	names[id] = p.Name
	return p.Name
}

func (b *Bot) policyCached(ctx context.Context, cache map[string]entitlement.Policy, id string) (entitlement.Policy, bool) {
	if id == "" {
		return entitlement.Policy{}, false
	}
	if p, ok := cache[id]; ok {
		return p, true
	}
	p, err := b.cfg.Entitlement.Policy(ctx, id)
	if err != nil {
		b.log.DebugContext(ctx, "read policy", "policy", id, "err", err)
		return p, false
	}
	cache[id] = p
	return p, true
}

func (b *Bot) cmdExtend(ctx context.Context, t *turn, cmd Command) error {
	resp, err := b.extend(ctx, t, strings.TrimSpace(cmd.Rest), "")
	if err != nil {
		return err
	}
	return b.sendInvokeResult(ctx, t, resp)
}

func (b *Bot) verbAccessExtend(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error) {
	return b.extend(ctx, t, "", str(data, cards.KeyAssignmentID))
}

// extend opens the extension form for one of the user's assignments (by id, or by package name or id).
func (b *Bot) extend(ctx context.Context, t *turn, want, assignmentID string) (*botframework.InvokeResponse, error) {
	d, err := b.delegated(ctx, t)
	var as []entitlement.Assignment
	if err == nil {
		as, err = d.MyAssignments(ctx)
	}
	if err != nil {
		return botframework.CardResponse(b.errorCard(ctx, t, "I couldn't list your access", err, "access")), nil
	}
	var match []entitlement.Assignment
	names := map[string]string{}
	for _, a := range as {
		if a.State == entitlement.AssignmentExpired {
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
		return botframework.CardResponse(cards.Notice(cards.NoticeView{Kind: kind, Title: title, Text: text, Suggestions: sugg}))
	}
	switch {
	case len(match) == 0:
		return notice(noticeWarning, "Nothing to extend", "None of your current access matches. Here is what you have:",
			[]cards.Suggestion{{Title: "My access", Command: "access"}}), nil
	case len(match) > 1:
		var sugg []cards.Suggestion
		for _, a := range match {
			sugg = append(sugg, cards.Suggestion{Title: "Extend " + orUnknown(a.PackageName, a.ID), Command: "extend " + a.ID})
		}
		return notice(noticeInfo, "Which access?", "Several of your assignments match. Pick one:", sugg), nil
	}
	a := match[0]
	pol, err := b.cfg.Entitlement.Policy(ctx, a.PolicyID)
	if err != nil {
		return botframework.CardResponse(b.errorCard(ctx, t, "I couldn't read the policy", err, "")), nil
	}
	if !pol.SelfUpdateAllowed {
		return notice(noticeWarning, "This access can't be extended here",
			fmt.Sprintf("The policy of %s does not let holders ask for more time. Ask an admin, or request it again when it ends.", orUnknown(a.PackageName, "this package")), nil), nil
	}
	return botframework.CardResponse(b.formCardFor(ctx, t, a.PackageID, a.PolicyID, &extendInfo{AssignmentID: a.ID})), nil
}

// ---- free text ----

// stopWords are ignored when looking for a package named in free text.
var stopWords = map[string]bool{
	"i": true, "need": true, "want": true, "would": true, "like": true, "access": true, "to": true, "the": true,
	"a": true, "an": true, "for": true, "please": true, "can": true, "could": true, "get": true, "me": true,
	"give": true, "request": true, "of": true, "on": true, "in": true, "into": true, "some": true, "my": true,
	"and": true, "or": true, "with": true, "package": true, "packages": true, "you": true, "is": true, "it": true,
	"hi": true, "hello": true, "there": true, "require": true, "be": true, "added": true, "add": true, "join": true,
}

// freeTextWords are the words of a message that may name a package.
func freeTextWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r > 127)
	}) {
		if len(w) >= 3 && !stopWords[w] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// matchFreeText answers a message that names a package ("I need access to Falcon"): the form when one package
// matches best, the list when several do. It returns false when nothing matches (the caller then suggests
// commands).
func (b *Bot) matchFreeText(ctx context.Context, t *turn, cmd Command) (bool, error) {
	words := freeTextWords(cmd.Name + " " + cmd.Rest)
	if len(words) == 0 {
		return false, nil
	}
	md, err := b.requestMode(ctx, t)
	if err == nil && !md.Allowed {
		// A user who cannot request here at all (unknown tenant, proposed organization) is told why.
		_, err := b.sendCard(ctx, t, b.notHere(md, "", ""))
		return true, err
	}
	if err != nil || md.Mode == cards.ModeLinkOut {
		return false, nil
	}
	pkgs, err := b.listPackages(ctx, t, md, "")
	if err != nil {
		t.log.InfoContext(ctx, "free text package search failed", "err", err)
		return false, nil
	}
	best := scorePackages(pkgs, words)
	switch len(best) {
	case 0:
		return false, nil
	case 1:
		_, err := b.sendCard(ctx, t, b.formCardFor(ctx, t, best[0].ID, "", nil))
		return true, err
	}
	_, err = b.sendCard(ctx, t, packageListCard(best, strings.Join(words, " "), 1, b.cfg.Tenant.Name))
	return true, err
}

// scorePackages keeps the packages whose name contains the most of words (at least one).
func scorePackages(pkgs []entitlement.Package, words []string) []entitlement.Package {
	top := 0
	var best []entitlement.Package
	for _, p := range pkgs {
		name := strings.ToLower(p.Name)
		score := 0
		for _, w := range words {
			if strings.Contains(name, w) {
				score++
			}
		}
		switch {
		case score == 0 || score < top:
		case score > top:
			top, best = score, []entitlement.Package{p}
		default:
			best = append(best, p)
		}
	}
	return best
}
