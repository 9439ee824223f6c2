package cards

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accessbot/accessbot/internal/i18n"
)

// Verbs of the Action.Execute (and Action.Submit) buttons. The bot routes on them; the data keys each verb
// carries are listed with it.
const (
	// VerbCommand runs a chat command as if typed: data {text}. Sent by Action.Submit (a message activity
	// whose value is {"verb":"command","text":…}) so the card it came from stays in the chat.
	VerbCommand = "command"
	// VerbRequestOpen opens the request form: data {packageId} and, to pick a policy, {policyId}.
	VerbRequestOpen = "request.open"
	// VerbPackagesPage shows another page of packages: data {query, page} (page is 1-based).
	VerbPackagesPage = "packages.page"
	// VerbRequestSubmit submits the request form: data {packageId, policyId, formId} plus the inputs.
	VerbRequestSubmit = "request.submit"
	// VerbRequestRefresh re-reads a request and answers with its status card: data {requestId}.
	VerbRequestRefresh = "request.refresh"
	// VerbRequestCancel cancels an open request: data {requestId}.
	VerbRequestCancel = "request.cancel"
	// VerbApprovalApprove approves a stage: data {requestId, approvalId, stageId} plus input justification.
	VerbApprovalApprove = "approval.approve"
	// VerbApprovalDeny denies a stage: data {requestId, approvalId, stageId} plus input justification.
	VerbApprovalDeny = "approval.deny"
	// VerbApprovalRefresh re-reads an approval (automatic refresh and the manual button): data {requestId,
	// approvalId, stageId}.
	VerbApprovalRefresh = "approval.refresh"
	// VerbApprovalOpen opens the approval card from the inbox: data {requestId, approvalId, stageId}.
	VerbApprovalOpen = "approval.open"
	// VerbAccessExtend asks to extend an assignment: data {assignmentId, packageId}.
	VerbAccessExtend = "access.extend"
	// VerbAccessRemove asks to remove an assignment: data {assignmentId, packageId}.
	VerbAccessRemove = "access.remove"
	// VerbAdminConfirm confirms a destructive admin command: data {token}.
	VerbAdminConfirm = "admin.confirm"
	// VerbAdminCancel cancels it: data {token}.
	VerbAdminCancel = "admin.cancel"
)

// Keys of action data and ids of inputs.
const (
	KeyText         = "text"
	KeyVerb         = "verb"
	KeyPackageID    = "packageId"
	KeyPolicyID     = "policyId"
	KeyFormID       = "formId"
	KeyQuery        = "query"
	KeyPage         = "page"
	KeyRequestID    = "requestId"
	KeyApprovalID   = "approvalId"
	KeyStageID      = "stageId"
	KeyAssignmentID = "assignmentId"
	KeyToken        = "token"

	// InputJustification is the id of the justification input on the request form and the approval card.
	InputJustification = "justification"
	// InputStartDate and InputEndDate are the ids of the schedule inputs (YYYY-MM-DD).
	InputStartDate = "startDate"
	InputEndDate   = "endDate"
	// QuestionInputPrefix prefixes a policy question's id to make its input id (see QuestionInputID).
	QuestionInputPrefix = "q_"
)

// QuestionInputID is the input id of the policy question with the given id.
func QuestionInputID(questionID string) string { return QuestionInputPrefix + questionID }

// Mode is how AccessBot files a request (DESIGN.md §3); every request card says which one applies.
type Mode string

// The request modes.
const (
	ModeDelegated Mode = "delegated"
	ModeBrokered  Mode = "brokered"
	ModeLinkOut   Mode = "linkOut"
)

// modeNote is the footnote that tells the user how the request is handled. org is the resource tenant's
// display name ("Contoso").
func modeNote(l *i18n.Localizer, m Mode, org string) string {
	org = orDefault(org, l.T("common.theOrganization"))
	switch m {
	case ModeDelegated:
		return l.T("mode.delegated", "Org", org)
	case ModeBrokered:
		return l.T("mode.brokered", "Org", org)
	case ModeLinkOut:
		return l.T("mode.linkOut", "Org", org)
	}
	return ""
}

// MyAccessURL is the tenant-scoped My Access link to an access package:
// https://myaccess.microsoft.com/@<domain>#/access-packages/<id>. An empty packageID links to the
// package list.
func MyAccessURL(tenantDomain, packageID string) string {
	u := "https://myaccess.microsoft.com/@" + url.PathEscape(tenantDomain) + "#/access-packages"
	if packageID != "" {
		u += "/" + url.PathEscape(packageID)
	}
	return u
}

// TeamsTenantURL is the Teams web link that opens Teams in the given tenant (the organization switch).
func TeamsTenantURL(tenantID string) string {
	return "https://teams.microsoft.com/?tenantId=" + url.QueryEscape(tenantID)
}

// BotChatURL is the Teams deep link that opens the user's 1:1 chat with the bot (botID is "28:<app id>" or the
// bare app id).
func BotChatURL(botID string) string {
	if !strings.HasPrefix(botID, "28:") {
		botID = "28:" + botID
	}
	return "https://teams.microsoft.com/l/chat/0/0?users=" + url.QueryEscape(botID)
}

// MaxAdminRows is the most rows an AdminTable shows; callers page by it.
const MaxAdminRows = maxAdminRows

// Limits that keep every card small (MaxCardBytes) and readable.
const (
	maxName          = 120
	maxShort         = 200
	maxDescription   = 400
	maxLong          = 1000
	maxListItems     = 10
	maxTimeline      = 12
	maxFacts         = 12
	maxChoices       = 20
	maxAdminRows     = 12
	maxAdminCols     = 5
	maxRowActions    = 2
	maxSuggestions   = 5
	maxResources     = 10
	maxAnswers       = 8
	maxQuestions     = 10
	maxDecisions     = 6
	maxPolicies      = 5
	maxStageLines    = 3
	maxPolicyDetails = 3
	maxCell          = 120
	maxPeopleInline  = 5
	maxErrorMessage  = 200
	maxCommandLength = 200
)

// clip shortens s to at most n runes, ending with "…" when cut, and trims white space.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// safe prepares user-supplied text (names, descriptions, justifications, answers) for a TextBlock: invisible
// and direction-changing characters are removed (CleanText), it is clipped to n runes and markdown links are
// defused, so a justification cannot put a clickable
// "[Approve here](https://evil.example)" on an approver's card.
func safe(s string, n int) string {
	s = clip(CleanText(s), n)
	if strings.Contains(s, "](") {
		s = strings.ReplaceAll(s, "[", `\[`)
		s = strings.ReplaceAll(s, "]", `\]`)
	}
	// The card host expands {{DATE(…)}} and {{TIME(…)}}; user text must not smuggle them in.
	s = strings.ReplaceAll(s, "{{", "{ {")
	return s
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// noValue stands for a missing date or cell.
const noValue = "—"

// when formats a time so that the Teams client shows it in the reader's locale and time zone:
// "{{DATE(…, SHORT)}} {{TIME(…)}}". The zero time is "—".
func when(t time.Time) string {
	if t.IsZero() {
		return noValue
	}
	ts := t.UTC().Format("2006-01-02T15:04:05Z")
	return fmt.Sprintf("{{DATE(%s, SHORT)}} {{TIME(%s)}}", ts, ts)
}

// stamp is a compact client-localized date and time ("11/26/2026 9:15 AM") for timelines.
func stamp(t time.Time) string {
	if t.IsZero() {
		return noValue
	}
	ts := t.UTC().Format("2006-01-02T15:04:05Z")
	return fmt.Sprintf("{{DATE(%s, COMPACT)}} {{TIME(%s)}}", ts, ts)
}

// day formats a date as "{{DATE(…, SHORT)}}" (client-localized). The zero time is "—".
func day(t time.Time) string {
	if t.IsZero() {
		return noValue
	}
	return fmt.Sprintf("{{DATE(%s, SHORT)}}", t.UTC().Format("2006-01-02T15:04:05Z"))
}

// clock formats a time of day as "{{TIME(…)}}" (client-localized).
func clock(t time.Time) string {
	if t.IsZero() {
		return noValue
	}
	return fmt.Sprintf("{{TIME(%s)}}", t.UTC().Format("2006-01-02T15:04:05Z"))
}

// isoDate is YYYY-MM-DD for Input.Date values.
func isoDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// joinNames lists names as "A, B and C" in the reader's language, at most maxPeopleInline of them
// ("A, B, C, D, E and 3 others").
func joinNames(l *i18n.Localizer, names []string) string { return joinPeople(l, names, l.List) }

// joinAnyOf lists people any one of whom may act (a stage's approvers) as "A, B or C" in the reader's
// language, at most maxPeopleInline of them ("A, B, C, D, E or 3 others").
func joinAnyOf(l *i18n.Localizer, names []string) string { return joinPeople(l, names, l.Or) }

// joinPeople cleans names and joins at most maxPeopleInline of them with join (an i18n list join).
func joinPeople(l *i18n.Localizer, names []string, join func([]string) string) string {
	var clean []string
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			clean = append(clean, safe(n, 60))
		}
	}
	if len(clean) > maxPeopleInline {
		rest := len(clean) - maxPeopleInline
		return join(append(clean[:maxPeopleInline:maxPeopleInline], l.N("common.others", rest)))
	}
	return join(clean)
}

// joinInline lists at most maxPeopleInline items on one line, each made safe and clipped to clipAt runes, joined
// by sep; when items were left out, "and N more" is appended.
func joinInline(l *i18n.Localizer, items []string, clipAt int, sep string) string {
	shown := items
	if len(shown) > maxPeopleInline {
		shown = shown[:maxPeopleInline]
	}
	cleaned := make([]string, len(shown))
	for i, it := range shown {
		cleaned[i] = safe(it, clipAt)
	}
	line := strings.Join(cleaned, sep)
	if rest := len(items) - len(shown); rest > 0 {
		line += " " + l.N("common.andMore", rest)
	}
	return line
}

// --- element helpers -------------------------------------------------------------------------------------

func title(text string) TextBlock {
	return TextBlock{Text: text, Wrap: true, Size: SizeLarge, Weight: WeightBolder, Style: StyleHeading}
}

func subtitle(text string) TextBlock {
	return TextBlock{Text: text, Wrap: true, IsSubtle: true, Spacing: SpacingSmall}
}

func text(s string) TextBlock { return TextBlock{Text: s, Wrap: true} }

func heading(s string) TextBlock {
	return TextBlock{Text: s, Wrap: true, Weight: WeightBolder, Spacing: SpacingMedium}
}

func footnote(s string) TextBlock {
	return TextBlock{Text: s, Wrap: true, Size: SizeSmall, IsSubtle: true, Spacing: SpacingMedium}
}

// fieldError is the attention-colored text shown under an input whose value the bot rejected.
func fieldError(s string) TextBlock { return errorLine(s, maxErrorMessage) }

// errorLine is an attention-colored line of text clipped to limit runes.
func errorLine(s string, limit int) TextBlock {
	return TextBlock{Text: safe(s, limit), Wrap: true, Color: ColorAttention, Size: SizeSmall, Spacing: SpacingSmall}
}

// moreLine is the "…and 12 more" line under a cut list; s is already localized.
func moreLine(s string) TextBlock {
	return TextBlock{Text: s, Wrap: true, IsSubtle: true, Spacing: SpacingSmall}
}

// banner is a styled container with a bold first line, for states and notices. Text colors are left to the
// container style so it reads in light and dark themes.
func banner(style, headline, detail string) Container {
	items := []Element{TextBlock{Text: headline, Wrap: true, Weight: WeightBolder}}
	if detail != "" {
		items = append(items, TextBlock{Text: detail, Wrap: true, Spacing: SpacingSmall})
	}
	return Container{Items: items, Style: style, Spacing: SpacingMedium}
}

// factList builds a FactSet of at most max facts, their titles and values cleaned and clipped; an empty value
// shows as empty (e.g. "—").
func factList(spacing string, list []Fact, max int, empty string) FactSet {
	fs := FactSet{Spacing: spacing}
	for i, f := range list {
		if i == max {
			break
		}
		fs.Facts = append(fs.Facts, Fact{Title: safe(f.Title, 60), Value: safe(orDefault(f.Value, empty), maxShort)})
	}
	return fs
}

// facts builds a FactSet from title/value pairs, skipping empty values and keeping at most maxFacts.
func facts(pairs ...string) FactSet {
	var fs FactSet
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" || len(fs.Facts) == maxFacts {
			continue
		}
		fs.Facts = append(fs.Facts, Fact{Title: pairs[i], Value: pairs[i+1]})
	}
	return fs
}

// commandButton is an Action.Submit that runs a chat command, so the card it sits on stays in the chat.
func commandButton(label, command string) ActionSubmit {
	return ActionSubmit{
		Title: clip(label, 40),
		Data:  map[string]any{KeyVerb: VerbCommand, KeyText: clip(command, maxCommandLength)},
	}
}

// execute is an Action.Execute with string data; empty values are left out (a missing key means empty).
func execute(label, verb string, kv ...string) ActionExecute {
	a := ActionExecute{Title: label, Verb: verb}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if a.Data == nil {
			a.Data = map[string]any{}
		}
		a.Data[kv[i]] = kv[i+1]
	}
	return a
}

// noInputs marks an action that must neither validate nor send the card's inputs.
func noInputs(a ActionExecute) ActionExecute {
	a.AssociatedInputs = "none"
	return a
}

// newCard starts a card in the Localizer's language with a fallback text for clients that cannot render it.
// The card's "lang" makes the client format its DATE()/TIME() functions in that language.
func newCard(l *i18n.Localizer, fallback string) *Card {
	return &Card{Lang: l.Lang(), FallbackText: clip(fallback, maxShort)}
}

// add appends elements, dropping empty FactSets and Containers (the schema wants their lists non-null and
// an empty one only adds spacing).
func (c *Card) add(els ...Element) {
	for _, e := range els {
		switch x := e.(type) {
		case FactSet:
			if len(x.Facts) == 0 {
				continue
			}
		case Container:
			if len(x.Items) == 0 {
				continue
			}
		}
		c.Body = append(c.Body, e)
	}
}
