package bot

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/accessbot/accessbot/internal/lifecycle"
)

// The requester flow (DESIGN.md §1, §3 delegated mode): find packages, request one through the policy's form,
// follow its status card, cancel, extend, list requests and access.
// This file holds the flow's commands and verbs (registerRequester), the package list and search, "request
// <name>", and free text that names a package. The form is in requestform.go, the requester's own requests
// and access in myrequests.go.

// Limits on what a requester types.
const (
	maxQueryLen     = 100
	maxAnswerLen    = 1000
	maxJustifyLen   = lifecycle.MaxJustificationLen
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
		return b.errorCard(ctx, t, t.loc.T("fail.listPackages"), err, "packages "+query)
	}
	if c := b.notHere(t.loc, md, "", ""); c != nil {
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
		return b.errorCard(ctx, t, t.loc.T("fail.listPackages"), err, "packages "+query)
	}
	return packageListCard(t.loc, pkgs, query, page, b.cfg.Tenant.Name)
}

// notHere is the card for a user who cannot request from the chat (refused, or link-out); nil otherwise.
func (b *Bot) notHere(l *i18n.Localizer, md modeDecision, packageID, packageName string) *cards.Card {
	if !md.Allowed {
		return cards.Notice(l, cards.NoticeView{Kind: noticeWarning, Title: l.T("request.notHere"),
			Text: orUnknown(md.Reason, l.T("request.notHereText", "Org", orUnknown(b.cfg.Tenant.Name, l.T("common.theOrganization"))))})
	}
	if md.Mode == cards.ModeLinkOut {
		return cards.LinkOut(l, cards.LinkOutView{PackageID: packageID, PackageName: packageName, TenantDomain: b.cfg.Tenant.Domain,
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
func packageListCard(l *i18n.Localizer, pkgs []entitlement.Package, query string, page int, org string) *cards.Card {
	per := cards.MaxPackagesPerPage
	pages := max(1, (len(pkgs)+per-1)/per)
	page = min(max(page, 1), pages)
	lo := (page - 1) * per
	hi := min(lo+per, len(pkgs))
	v := cards.PackageListView{Query: query, Page: page, PageCount: pages, Total: len(pkgs), OrgName: org}
	for _, p := range pkgs[lo:hi] {
		v.Packages = append(v.Packages, packageView(p))
	}
	return cards.PackageList(l, v)
}

// ---- request by name ----

func (b *Bot) cmdRequest(ctx context.Context, t *turn, cmd Command) error {
	if cmd.Rest == "" {
		return b.cmdPackages(ctx, t, Command{Name: "packages"})
	}
	return b.openByName(ctx, t, cmd.Rest)
}

// openByName answers "request <name or id>": the form when one package matches, the list when several do.
func (b *Bot) openByName(ctx context.Context, t *turn, text string) error {
	if guidRE.MatchString(text) {
		_, err := b.sendCard(ctx, t, b.formCardFor(ctx, t, false, text, "", nil))
		return err
	}
	md, err := b.requestMode(ctx, t)
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.openForm"), err, "request "+text))
		return err
	}
	if c := b.notHere(t.loc, md, "", ""); c != nil {
		_, err = b.sendCard(ctx, t, c)
		return err
	}
	pkgs, err := b.listPackages(ctx, t, md, text)
	if err != nil {
		_, err = b.sendCard(ctx, t, b.errorCard(ctx, t, t.loc.T("fail.lookUpPackage"), err, "request "+text))
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
		return b.sendNoMatch(ctx, t, md, text)
	case 1:
		_, err := b.sendCard(ctx, t, b.formCardFor(ctx, t, false, pkgs[0].ID, "", nil))
		return err
	}
	_, err = b.sendCard(ctx, t, packageListCard(t.loc, pkgs, text, 1, b.cfg.Tenant.Name))
	return err
}

// sendNoMatch answers a package name that matches nothing the user may request with the closest packages as
// buttons (typo-tolerant, ranked by word overlap), and the full list.
func (b *Bot) sendNoMatch(ctx context.Context, t *turn, md modeDecision, text string) error {
	l := t.loc
	var sugg []cards.Suggestion
	if all, err := b.listPackages(ctx, t, md, ""); err == nil {
		for _, p := range closestPackages(text, all, maxPackageSuggestions) {
			sugg = append(sugg, cards.Suggestion{Title: p.Name, Command: "request " + p.Name})
		}
	} else {
		t.log.WarnContext(ctx, "list packages for suggestions", "err", err)
	}
	msg := l.T("request.noMatch", "Typed", text)
	if len(sugg) > 0 {
		msg = l.T("request.noMatchClosest", "Typed", text)
	}
	sugg = append(sugg, cards.Suggestion{Title: l.T("button.listAllPackages"), Command: "packages"})
	return b.sendNotice(ctx, t, noticeWarning, l.T("request.noMatchTitle"), msg, sugg)
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
		_, err := b.sendCard(ctx, t, b.notHere(t.loc, md, "", ""))
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
		_, err := b.sendCard(ctx, t, b.formCardFor(ctx, t, false, best[0].ID, "", nil))
		return true, err
	}
	_, err = b.sendCard(ctx, t, packageListCard(t.loc, best, strings.Join(words, " "), 1, b.cfg.Tenant.Name))
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
