package cards

import (
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// QuestionKind is the kind of a policy question.
type QuestionKind string

// The question kinds of an assignment policy.
const (
	QuestionText           QuestionKind = "text"
	QuestionMultipleChoice QuestionKind = "multipleChoice"
)

// QuestionView is one policy question on the request form.
type QuestionView struct {
	ID       string
	Kind     QuestionKind
	Text     string
	Required bool
	// Regex is the pattern a text answer must match (from the policy), e.g. ^INC\d{4,}$.
	Regex string
	// Hint explains the expected format in words ("INC followed by at least 4 digits"); it is the input's
	// error message when the regex fails.
	Hint string
	// Multiline asks for a long text answer.
	Multiline bool
	// Choices are the options of a multiple-choice question.
	Choices []Choice
	// MultiSelect allows several choices.
	MultiSelect bool
}

// PolicyOption is one policy of a package the user may request under.
type PolicyOption struct {
	ID          string
	Name        string
	Description string
}

// RequestFormView is the request form built from a policy's requirements.
type RequestFormView struct {
	PackageID          string
	PackageName        string
	PackageDescription string
	CatalogName        string
	// FormID identifies this form instance (the bot's dialog); it comes back with the submit.
	FormID string
	// Policies are all the policies the user may request under; when there are several the card offers to
	// switch. PolicyID is the one this form is for (default: the first).
	Policies []PolicyOption
	PolicyID string
	// ApprovalSummary says who approves ("Your manager, then Falcon Security Reviewers"); empty for none.
	ApprovalSummary string
	// ApprovalRequired is false for packages assigned without approval.
	ApprovalRequired bool
	// ExpirySummary says how long access lasts ("90 days").
	ExpirySummary string
	Questions     []QuestionView
	// JustificationRequired makes the justification mandatory (the policy's isRequestorJustificationRequired).
	JustificationRequired bool
	// CustomSchedule shows start/end dates; MinDate/MaxDate bound them (zero: no bound).
	CustomSchedule   bool
	MinDate, MaxDate time.Time
	// Values re-fill the inputs after a rejected submit, by input id.
	Values map[string]string
	// Errors are the bot's per-field errors, by input id; each is shown under its field.
	Errors map[string]string
	// FormError is a general error shown at the top ("Your request could not be filed: …").
	FormError string
	Mode      Mode
	OrgName   string
}

// RequestForm is the form to request a package under one policy.
func RequestForm(l *i18n.Localizer, v RequestFormView) *Card {
	name := safe(orDefault(v.PackageName, v.PackageID), maxName)
	c := newCard(l, l.T("form.title", "Package", name))
	c.add(title(l.T("form.title", "Package", name)))
	if v.CatalogName != "" {
		c.add(subtitle(safe(v.CatalogName, maxName)))
	}
	if d := safe(v.PackageDescription, maxDescription); d != "" {
		c.add(text(d))
	}
	if v.FormError != "" {
		c.add(banner(StyleAttention, l.T("form.checkForm"), safe(v.FormError, maxShort)))
	}

	policyID := v.PolicyID
	if policyID == "" && len(v.Policies) > 0 {
		policyID = v.Policies[0].ID
	}
	if len(v.Policies) > 1 {
		c.add(policySwitch(l, v.PackageID, policyID, v.Policies))
	}

	approval := l.T("form.noApproval")
	if v.ApprovalRequired {
		approval = orDefault(safe(v.ApprovalSummary, maxShort), l.T("form.approvalRequired"))
	}
	c.add(facts(l.T("form.approval"), approval, l.T("form.accessLasts"), safe(v.ExpirySummary, maxShort)))

	qs := v.Questions
	if len(qs) > maxQuestions {
		qs = qs[:maxQuestions]
	}
	if len(qs) > 0 {
		c.add(heading(l.T("form.questions")))
	}
	for _, q := range qs {
		c.add(questionInput(l, q, v.Values)...)
		c.add(fieldErrors(v.Errors, QuestionInputID(q.ID))...)
	}
	if len(v.Questions) > len(qs) {
		c.add(banner(StyleWarning, l.T("form.tooManyQuestions"), l.T("form.tooManyQuestionsDetail")))
	}

	just := InputText{
		ID:          InputJustification,
		Label:       l.T("form.justification"),
		Placeholder: l.T("form.justificationPlaceholder"),
		IsMultiline: true,
		MaxLength:   maxLong,
		Value:       clip(v.Values[InputJustification], maxLong),
		Spacing:     SpacingMedium,
	}
	if v.JustificationRequired {
		just.IsRequired = true
		just.ErrorMessage = l.T("form.justificationRequired")
	} else {
		just.Label = l.T("common.optional", "Label", just.Label)
	}
	c.add(just)
	c.add(fieldErrors(v.Errors, InputJustification)...)

	if v.CustomSchedule {
		start := InputDate{ID: InputStartDate, Label: l.T("form.startDate"), Value: clip(v.Values[InputStartDate], 10),
			Min: isoDate(v.MinDate), Max: isoDate(v.MaxDate)}
		end := InputDate{ID: InputEndDate, Label: l.T("form.endDate"), Value: clip(v.Values[InputEndDate], 10),
			Min: isoDate(v.MinDate), Max: isoDate(v.MaxDate)}
		c.add(ColumnSet{Spacing: SpacingMedium, Columns: []Column{
			{Width: WidthStretch, Items: append([]Element{start}, fieldErrors(v.Errors, InputStartDate)...)},
			{Width: WidthStretch, Items: append([]Element{end}, fieldErrors(v.Errors, InputEndDate)...)},
		}})
		dflt := l.T("form.datesEmpty")
		if e := safe(v.ExpirySummary, maxShort); e != "" {
			dflt = l.T("form.datesEmptyFor", "Expiry", e)
		}
		c.add(TextBlock{Text: dflt, Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall})
	}
	if note := modeNote(l, v.Mode, v.OrgName); note != "" {
		c.add(footnote(note))
	}
	submit := execute(l.T("button.submitRequest"), VerbRequestSubmit, KeyPackageID, v.PackageID, KeyPolicyID, policyID, KeyFormID, v.FormID)
	c.Actions = []Action{submit}
	return c
}

func policySwitch(l *i18n.Localizer, packageID, current string, ps []PolicyOption) Container {
	var cur PolicyOption
	var others []Action
	for _, p := range ps {
		if p.ID == current {
			cur = p
			continue
		}
		if len(others) < maxPolicies-1 {
			// No inputs: switching policy must not be blocked by the required fields of this form.
			others = append(others, noInputs(execute(l.T("form.usePolicy", "Policy", clip(orDefault(p.Name, p.ID), 40)), VerbRequestOpen,
				KeyPackageID, packageID, KeyPolicyID, p.ID)))
		}
	}
	items := []Element{
		TextBlock{Text: l.N("form.policyCount", len(ps)), Wrap: true},
		TextBlock{Text: safe(orDefault(cur.Name, current), maxName), Wrap: true, Weight: WeightBolder, Spacing: SpacingSmall},
	}
	if d := safe(cur.Description, maxShort); d != "" {
		items = append(items, TextBlock{Text: d, Wrap: true, IsSubtle: true, Spacing: SpacingNone})
	}
	if len(others) > 0 {
		items = append(items, ActionSet{Actions: others, Spacing: SpacingSmall})
	}
	return Container{Style: StyleEmphasis, Spacing: SpacingMedium, Items: items}
}

func questionInput(l *i18n.Localizer, q QuestionView, values map[string]string) []Element {
	id := QuestionInputID(q.ID)
	label := safe(orDefault(q.Text, q.ID), maxShort)
	if !q.Required {
		label = l.T("common.optional", "Label", label)
	}
	switch q.Kind {
	case QuestionMultipleChoice:
		in := InputChoiceSet{ID: id, Label: label, Value: clip(values[id], maxShort), IsMultiSelect: q.MultiSelect,
			Wrap: true, Style: choiceCompact, Placeholder: l.T("form.choose")}
		if len(q.Choices) <= 4 || q.MultiSelect {
			in.Style = choiceExpanded
			in.Placeholder = ""
		}
		for i, ch := range q.Choices {
			if i == maxChoices {
				break
			}
			in.Choices = append(in.Choices, Choice{Title: safe(orDefault(ch.Title, ch.Value), 60), Value: ch.Value})
		}
		if q.Required {
			in.IsRequired = true
			in.ErrorMessage = l.T("form.chooseAnswer")
		}
		if rest := len(q.Choices) - len(in.Choices); rest > 0 {
			return []Element{in, moreLine(l.N("form.moreOptions", rest))}
		}
		return []Element{in}
	default:
		in := InputText{ID: id, Label: label, Value: clip(values[id], maxDescription), IsMultiline: q.Multiline, MaxLength: maxLong,
			Regex: q.Regex}
		hint := safe(q.Hint, 120)
		if hint != "" {
			in.Placeholder = hint
		}
		switch {
		case q.Regex != "" && hint != "":
			in.ErrorMessage = l.T("form.expected", "Hint", hint)
		case q.Regex != "":
			in.ErrorMessage = l.T("form.badFormat")
		case q.Required:
			in.ErrorMessage = l.T("form.answerRequired")
		}
		if q.Required {
			in.IsRequired = true
		}
		return []Element{in}
	}
}

func fieldErrors(errs map[string]string, id string) []Element {
	if e := strings.TrimSpace(errs[id]); e != "" {
		return []Element{fieldError(e)}
	}
	return nil
}

// Input.ChoiceSet styles.
const (
	choiceCompact  = "compact"
	choiceExpanded = "expanded"
)
