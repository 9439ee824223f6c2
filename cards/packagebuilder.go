package cards

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Verbs of the package builder wizard (/package new, /package {name} edit). Every action carries KeyDraftID
// and KeyStep; a card of a closed or replaced wizard is answered with a notice.
const (
	// VerbBuilderNext submits the step's inputs and shows the next step (or the review).
	VerbBuilderNext = "builder.next"
	// VerbBuilderBack shows the previous step without saving its inputs.
	VerbBuilderBack = "builder.back"
	// VerbBuilderGoto shows the step KeyTarget (the review's Edit buttons).
	VerbBuilderGoto = "builder.goto"
	// VerbBuilderSearch searches groups and Teams to add to the catalog (the resources step).
	VerbBuilderSearch = "builder.search"
	// VerbBuilderCreate files the Graph calls (the review's Create / Save).
	VerbBuilderCreate = "builder.create"
	// VerbBuilderUndo removes what a failed Create made.
	VerbBuilderUndo = "builder.undo"
	// VerbBuilderCancel closes the wizard.
	VerbBuilderCancel = "builder.cancel"
)

// Keys of the wizard's action data and the ids of its inputs.
const (
	KeyDraftID = "draftId"
	KeyStep    = "step"
	KeyTarget  = "target"

	InputPBName           = "pb.name"
	InputPBDescription    = "pb.description"
	InputPBCatalog        = "pb.catalog"
	InputPBNewCatalog     = "pb.newCatalog"
	InputPBRoles          = "pb.roles"
	InputPBSearch         = "pb.search"
	InputPBWho            = "pb.who"
	InputPBOrgs           = "pb.orgs"
	InputPBStages         = "pb.stages"
	InputPBJustification  = "pb.requestorJustification"
	InputPBExpiry         = "pb.expiry"
	InputPBExpiryDays     = "pb.expiryDays"
	InputPBExpiryDate     = "pb.expiryDate"
	InputPBExtension      = "pb.extension"
	InputPBIncompatPkgs   = "pb.incompatiblePackages"
	InputPBIncompatGroups = "pb.incompatibleGroups"
)

// Limits of the review card (seven sections, one per step).
const (
	maxReviewSections = 7
	maxReviewFacts    = 8
)

// InputPBStage is the id of a stage input: field is kind, names, fallback, justification, autoDeny,
// escalateHours or escalateTo; n is 1 or 2.
func InputPBStage(n int, field string) string { return "pb.stage" + strconv.Itoa(n) + "." + field }

// InputPBQuestion is the id of a question input: field is text, format, choices or required; n is 1 to 3.
func InputPBQuestion(n int, field string) string { return "pb.q" + strconv.Itoa(n) + "." + field }

// WizardStageView is one approval stage on the approval step.
type WizardStageView struct {
	// Kind is manager, internalSponsors, externalSponsors, user or group.
	Kind, Names, Fallback, AutoDenyDays, EscalateHours, EscalateTo string
	Justification                                                 bool
}

// WizardQuestionView is one question on the approval step.
type WizardQuestionView struct {
	Text, Format, Choices string
	Required              bool
}

// WizardSection is one part of the review: its facts and the step that edits it.
type WizardSection struct {
	Step  string
	Title string
	Facts []Fact
}

// PackageWizardView is one step of the package builder.
type PackageWizardView struct {
	DraftID string
	// Step is basics, resources, who, approval, lifetime, sod or review; StepIndex/StepCount number it.
	Step      string
	StepIndex int
	StepCount int
	// Edit is true when changing an existing package (then the catalog is fixed: CatalogName).
	Edit        bool
	PackageName string
	// Errors are the problems of the last submit, shown on top.
	Errors []string

	Name, Description, Catalog, NewCatalogName, CatalogName string
	Catalogs                                                []Choice

	Roles, Search, SearchNote string
	RoleChoices               []Choice

	Who        string
	Orgs       string
	OrgChoices []Choice

	StageCount             string
	Stages                 [2]WizardStageView
	RequestorJustification bool
	Questions              [3]WizardQuestionView

	Expiry, ExpiryDays, ExpiryDate string
	Extension                      bool

	IncompatiblePackages, IncompatibleGroups string
	PackageChoices                           []Choice

	Review []WizardSection
}

var wizardStepTitles = map[string]string{
	"basics": "Name and catalog", "resources": "Resources and roles", "who": "Who may request",
	"approval": "Approval and questions", "lifetime": "Lifetime", "sod": "Separation of duties", "review": "Review",
}

// PackageWizard is one step of the package builder wizard.
func PackageWizard(v PackageWizardView) *Card {
	head := "New access package"
	if v.Edit {
		head = "Edit " + safe(v.PackageName, maxName)
	}
	c := newCard(head)
	c.add(title(head))
	c.add(subtitle(fmt.Sprintf("Step %d of %d: %s", v.StepIndex, v.StepCount, wizardStepTitles[v.Step])))
	for i, e := range v.Errors {
		if i == maxFacts {
			break
		}
		c.add(fieldError(e))
	}
	switch v.Step {
	case "basics":
		wizardBasics(c, v)
	case "resources":
		wizardResources(c, v)
	case "who":
		wizardWho(c, v)
	case "approval":
		wizardApproval(c, v)
	case "lifetime":
		wizardLifetime(c, v)
	case "sod":
		wizardSoD(c, v)
	case "review":
		wizardReview(c, v)
		return c
	}
	data := []string{KeyDraftID, v.DraftID, KeyStep, v.Step}
	c.Actions = []Action{execute("Next", VerbBuilderNext, data...)}
	if v.StepIndex > 1 {
		c.Actions = append(c.Actions, noInputs(execute("Back", VerbBuilderBack, data...)))
	}
	c.Actions = append(c.Actions, noInputs(execute("Cancel", VerbBuilderCancel, data...)))
	return c
}

func choices(cs []Choice) []Choice {
	out := make([]Choice, 0, min(len(cs), maxChoices))
	for i, ch := range cs {
		if i == maxChoices {
			break
		}
		out = append(out, Choice{Title: safe(ch.Title, maxShort), Value: ch.Value})
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func wizardBasics(c *Card, v PackageWizardView) {
	c.add(InputText{ID: InputPBName, Label: "Name", Value: safe(v.Name, maxName), MaxLength: 256, IsRequired: true,
		ErrorMessage: "Give the package a name.", Placeholder: "Northwind Pilot"})
	c.add(InputText{ID: InputPBDescription, Label: "Description", Value: safe(v.Description, maxLong), IsMultiline: true, MaxLength: 1000,
		Placeholder: "What the package gives and who it is for"})
	if v.Edit {
		c.add(facts("Catalog", safe(v.CatalogName, maxShort)))
		return
	}
	opts := append(choices(v.Catalogs), Choice{Title: "New catalog…", Value: "new"})
	c.add(InputChoiceSet{ID: InputPBCatalog, Label: "Catalog", Choices: opts, Value: v.Catalog, Style: "compact", IsRequired: true,
		ErrorMessage: "Pick a catalog or New catalog."})
	c.add(InputText{ID: InputPBNewCatalog, Label: "New catalog's name (when New catalog is picked)", Value: safe(v.NewCatalogName, maxName), MaxLength: 256})
}

func wizardResources(c *Card, v PackageWizardView) {
	if len(v.RoleChoices) == 0 {
		c.add(text("The catalog has no resources yet. Search for a Team or group to add it."))
	} else {
		c.add(InputChoiceSet{ID: InputPBRoles, Label: "Roles the package grants", Choices: choices(v.RoleChoices), Value: v.Roles,
			Style: "expanded", IsMultiSelect: true, Wrap: true})
	}
	c.add(InputText{ID: InputPBSearch, Label: "Add a Team or group to the catalog (start of its name)", Value: safe(v.Search, maxShort), MaxLength: 100})
	c.add(ActionSet{Actions: []Action{execute("Search", VerbBuilderSearch, KeyDraftID, v.DraftID, KeyStep, v.Step)}})
	if v.SearchNote != "" {
		c.add(footnote(safe(v.SearchNote, maxShort)))
	}
	c.add(footnote("A Team or group found by search is added to the catalog when you create the package."))
}

func wizardWho(c *Card, v PackageWizardView) {
	c.add(InputChoiceSet{ID: InputPBWho, Label: "Who may request it", Value: v.Who, Style: "expanded", IsRequired: true,
		ErrorMessage: "Pick who may request.", Choices: []Choice{
			{Title: "Members of this directory", Value: "members"},
			{Title: "Users of specific connected organizations", Value: "orgs"},
			{Title: "Users of all connected organizations", Value: "allOrgs"},
			{Title: "Nobody: admins assign it", Value: "nobody"}}})
	if len(v.OrgChoices) > 0 {
		c.add(InputChoiceSet{ID: InputPBOrgs, Label: "Connected organizations (for specific organizations)", Choices: choices(v.OrgChoices),
			Value: v.Orgs, Style: "expanded", IsMultiSelect: true, Wrap: true})
	} else {
		c.add(footnote("There are no connected organizations yet: add one with /connect."))
	}
}

func wizardApproval(c *Card, v PackageWizardView) {
	c.add(InputChoiceSet{ID: InputPBStages, Label: "Approval", Value: orDefault(v.StageCount, "1"), Style: "compact", Choices: []Choice{
		{Title: "No approval", Value: "0"}, {Title: "One stage", Value: "1"}, {Title: "Two stages", Value: "2"}}})
	kinds := []Choice{{Title: "Requestor's manager", Value: "manager"}, {Title: "Internal sponsors", Value: "internalSponsors"},
		{Title: "External sponsors", Value: "externalSponsors"}, {Title: "Named people", Value: "user"}, {Title: "A group", Value: "group"}}
	for i, s := range v.Stages {
		n := i + 1
		c.add(heading(fmt.Sprintf("Stage %d", n)))
		c.add(InputChoiceSet{ID: InputPBStage(n, "kind"), Label: "Approvers", Choices: kinds, Value: s.Kind, Style: "compact"})
		c.add(InputText{ID: InputPBStage(n, "names"), Label: "Named people (sign-in names, comma-separated) or the group's name", Value: safe(s.Names, maxShort), MaxLength: 500})
		c.add(InputText{ID: InputPBStage(n, "fallback"), Label: "Fallback approvers (sign-in names)", Value: safe(s.Fallback, maxShort), MaxLength: 500})
		c.add(ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBStage(n, "autoDeny"), Label: "Days to decide (1-14)", Value: orDefault(s.AutoDenyDays, "14"), MaxLength: 2}}},
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBStage(n, "escalateHours"), Label: "Escalate after hours (0 = never)", Value: orDefault(s.EscalateHours, "0"), MaxLength: 3}}},
		}})
		c.add(InputText{ID: InputPBStage(n, "escalateTo"), Label: "Escalate to (sign-in names)", Value: safe(s.EscalateTo, maxShort), MaxLength: 500})
		c.add(InputToggle{ID: InputPBStage(n, "justification"), Title: "Approvers must give a justification", Value: yesNo(s.Justification)})
	}
	c.add(heading("Requestors"))
	c.add(InputToggle{ID: InputPBJustification, Title: "Requestors must give a justification", Value: yesNo(v.RequestorJustification)})
	for i, q := range v.Questions {
		n := i + 1
		c.add(InputText{ID: InputPBQuestion(n, "text"), Label: fmt.Sprintf("Question %d (optional)", n), Value: safe(q.Text, maxShort), MaxLength: 200})
		c.add(ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBQuestion(n, "format"), Label: "Answer format (regular expression)", Value: safe(q.Format, maxShort), MaxLength: 200}}},
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBQuestion(n, "choices"), Label: "Or choices (comma-separated)", Value: safe(q.Choices, maxShort), MaxLength: 500}}},
		}})
		c.add(InputToggle{ID: InputPBQuestion(n, "required"), Title: "Answer required", Value: yesNo(q.Required)})
	}
}

func wizardLifetime(c *Card, v PackageWizardView) {
	c.add(InputChoiceSet{ID: InputPBExpiry, Label: "Access ends", Value: orDefault(v.Expiry, "days"), Style: "expanded", Choices: []Choice{
		{Title: "After a number of days", Value: "days"}, {Title: "On a date", Value: "date"}, {Title: "Never", Value: "never"}}})
	c.add(InputText{ID: InputPBExpiryDays, Label: "Days", Value: orDefault(v.ExpiryDays, "30"), MaxLength: 4})
	c.add(InputDate{ID: InputPBExpiryDate, Label: "End date", Value: v.ExpiryDate})
	c.add(InputToggle{ID: InputPBExtension, Title: "Holders may ask to extend", Value: yesNo(v.Extension)})
}

func wizardSoD(c *Card, v PackageWizardView) {
	c.add(text("People who hold an incompatible package, or are in an incompatible group, can't request this one."))
	if len(v.PackageChoices) > 0 {
		c.add(InputChoiceSet{ID: InputPBIncompatPkgs, Label: "Incompatible packages", Choices: choices(v.PackageChoices),
			Value: v.IncompatiblePackages, Style: "expanded", IsMultiSelect: true, Wrap: true})
	}
	c.add(InputText{ID: InputPBIncompatGroups, Label: "Incompatible groups (names, comma-separated)", Value: safe(v.IncompatibleGroups, maxShort), MaxLength: 500})
}

func wizardReview(c *Card, v PackageWizardView) {
	for n, s := range v.Review {
		if n == maxReviewSections {
			break
		}
		row := ColumnSet{Spacing: SpacingMedium, Separator: true, Columns: []Column{
			{Width: WidthStretch, Items: []Element{TextBlock{Text: safe(s.Title, maxShort), Wrap: true, Weight: WeightBolder}}},
			{Width: WidthAuto, Items: []Element{ActionSet{Actions: []Action{
				noInputs(execute("Edit", VerbBuilderGoto, KeyDraftID, v.DraftID, KeyStep, v.Step, KeyTarget, s.Step))}}}},
		}}
		c.add(row)
		fs := FactSet{Spacing: SpacingSmall}
		for i, f := range s.Facts {
			if i == maxReviewFacts {
				fs.Facts = append(fs.Facts, Fact{Title: "…", Value: fmt.Sprintf("and %d more", len(s.Facts)-i)})
				break
			}
			fs.Facts = append(fs.Facts, Fact{Title: safe(f.Title, 60), Value: safe(orDefault(f.Value, "—"), maxShort)})
		}
		c.add(fs)
	}
	label := "Create"
	if v.Edit {
		label = "Save"
	}
	c.add(footnote("Nothing is created until you select " + label + ". Each step is reported; if one fails, you can finish or undo."))
	data := []string{KeyDraftID, v.DraftID, KeyStep, v.Step}
	c.Actions = []Action{noInputs(execute(label, VerbBuilderCreate, data...)),
		noInputs(execute("Back", VerbBuilderBack, data...)), noInputs(execute("Cancel", VerbBuilderCancel, data...))}
}

// InputToggle is an on/off input; its value is "true" or "false".
type InputToggle struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Label    string `json:"label,omitempty"`
	Value    string `json:"value,omitempty"`
	ValueOn  string `json:"valueOn,omitempty"`
	ValueOff string `json:"valueOff,omitempty"`
	Wrap     bool   `json:"wrap,omitempty"`
	Spacing  string `json:"spacing,omitempty"`
}

// MarshalJSON writes the element with its "type".
func (e InputToggle) MarshalJSON() ([]byte, error) {
	type plain InputToggle
	return marshal(struct {
		Type string `json:"type"`
		plain
	}{"Input.Toggle", plain(e)})
}

func (InputToggle) isElement() {}

// BotChatMessageURL is the Teams deep link that opens the 1:1 chat with the bot with message typed in.
func BotChatMessageURL(botID, message string) string {
	return BotChatURL(botID) + "&message=" + strings.ReplaceAll(url.QueryEscape(message), "+", "%20")
}
