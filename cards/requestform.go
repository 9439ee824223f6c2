package cards

import (
	"fmt"
	"strings"
	"time"
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
func RequestForm(v RequestFormView) *Card {
	name := safe(orDefault(v.PackageName, v.PackageID), maxName)
	c := newCard("Request " + name)
	c.add(title("Request " + name))
	if v.CatalogName != "" {
		c.add(subtitle(safe(v.CatalogName, maxName)))
	}
	if d := safe(v.PackageDescription, maxDescription); d != "" {
		c.add(text(d))
	}
	if v.FormError != "" {
		c.add(banner(StyleAttention, "Please check the form", safe(v.FormError, maxShort)))
	}

	policyID := v.PolicyID
	if policyID == "" && len(v.Policies) > 0 {
		policyID = v.Policies[0].ID
	}
	if len(v.Policies) > 1 {
		c.add(policySwitch(v.PackageID, policyID, v.Policies))
	}

	approval := "No approval needed: access is granted right away."
	if v.ApprovalRequired {
		approval = orDefault(safe(v.ApprovalSummary, maxShort), "Approval required.")
	}
	c.add(facts("Approval", approval, "Access lasts", safe(v.ExpirySummary, maxShort)))

	qs := v.Questions
	if len(qs) > maxQuestions {
		qs = qs[:maxQuestions]
	}
	if len(qs) > 0 {
		c.add(heading("Questions"))
	}
	for _, q := range qs {
		c.add(questionInput(q, v.Values)...)
		c.add(fieldErrors(v.Errors, QuestionInputID(q.ID))...)
	}
	if len(v.Questions) > len(qs) {
		c.add(banner(StyleWarning, "This policy asks more questions than fit here",
			"Finish the request in My Access; the remaining questions are not shown."))
	}

	just := InputText{
		ID:          InputJustification,
		Label:       "Why do you need access?",
		Placeholder: "Business justification, seen by the approvers",
		IsMultiline: true,
		MaxLength:   maxLong,
		Value:       clip(v.Values[InputJustification], maxLong),
		Spacing:     SpacingMedium,
	}
	if v.JustificationRequired {
		just.IsRequired = true
		just.ErrorMessage = "A justification is required for this package."
	} else {
		just.Label += " (optional)"
	}
	c.add(just)
	c.add(fieldErrors(v.Errors, InputJustification)...)

	if v.CustomSchedule {
		start := InputDate{ID: InputStartDate, Label: "Start date (optional)", Value: clip(v.Values[InputStartDate], 10),
			Min: isoDate(v.MinDate), Max: isoDate(v.MaxDate)}
		end := InputDate{ID: InputEndDate, Label: "End date (optional)", Value: clip(v.Values[InputEndDate], 10),
			Min: isoDate(v.MinDate), Max: isoDate(v.MaxDate)}
		c.add(ColumnSet{Spacing: SpacingMedium, Columns: []Column{
			{Width: WidthStretch, Items: append([]Element{start}, fieldErrors(v.Errors, InputStartDate)...)},
			{Width: WidthStretch, Items: append([]Element{end}, fieldErrors(v.Errors, InputEndDate)...)},
		}})
		dflt := "Leave the dates empty to start as soon as it's approved"
		if e := safe(v.ExpirySummary, maxShort); e != "" {
			dflt += " and keep access for " + e
		}
		c.add(TextBlock{Text: dflt + ".", Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingSmall})
	}
	if note := modeNote(v.Mode, v.OrgName); note != "" {
		c.add(footnote(note))
	}
	submit := execute("Submit request", VerbRequestSubmit, KeyPackageID, v.PackageID, KeyPolicyID, policyID, KeyFormID, v.FormID)
	c.Actions = []Action{submit}
	return c
}

func policySwitch(packageID, current string, ps []PolicyOption) Container {
	var cur PolicyOption
	var others []Action
	for _, p := range ps {
		if p.ID == current {
			cur = p
			continue
		}
		if len(others) < maxPolicies-1 {
			// No inputs: switching policy must not be blocked by the required fields of this form.
			others = append(others, noInputs(execute("Use "+clip(orDefault(p.Name, p.ID), 40), VerbRequestOpen,
				KeyPackageID, packageID, KeyPolicyID, p.ID)))
		}
	}
	items := []Element{
		TextBlock{Text: fmt.Sprintf("You can request this package in %d ways. This form is for:", len(ps)), Wrap: true},
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

func questionInput(q QuestionView, values map[string]string) []Element {
	id := QuestionInputID(q.ID)
	label := safe(orDefault(q.Text, q.ID), maxShort)
	if !q.Required {
		label += " (optional)"
	}
	switch q.Kind {
	case QuestionMultipleChoice:
		in := InputChoiceSet{ID: id, Label: label, Value: clip(values[id], maxShort), IsMultiSelect: q.MultiSelect,
			Wrap: true, Style: "compact", Placeholder: "Choose…"}
		if len(q.Choices) <= 4 || q.MultiSelect {
			in.Style = "expanded"
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
			in.ErrorMessage = "Choose an answer."
		}
		if rest := len(q.Choices) - len(in.Choices); rest > 0 {
			return []Element{in, moreLine(rest, "options not shown; if yours is missing, request in My Access")}
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
			in.ErrorMessage = "Expected: " + hint + "."
		case q.Regex != "":
			in.ErrorMessage = "This answer is not in the expected format."
		case q.Required:
			in.ErrorMessage = "An answer is required."
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
