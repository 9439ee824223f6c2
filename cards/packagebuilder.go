package cards

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/internal/i18n"
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
	// VerbBuilderEditPolicy opens the wizard on one policy of a package (the policy choice of
	// /package {name} edit); it carries KeyPackageID and KeyPolicyID.
	VerbBuilderEditPolicy = "builder.editPolicy"
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

// Prefixes of the numbered stage and question inputs, and the deep link's message parameter.
const (
	inputPBStagePrefix    = "pb.stage"
	inputPBQuestionPrefix = "pb.q"
	messageParam          = "&message="
	// editSuffix ends the command that opens the package builder on a package ("/package {name} edit").
	editSuffix = " edit"
)

// wizardStepTitle is each step's title message id.
var wizardStepTitle = map[string]string{
	"basics": "builder.step.basics", "resources": "builder.step.resources", "who": "builder.step.who",
	"approval": "builder.step.approval", "lifetime": "builder.step.lifetime", "sod": "builder.step.sod", "review": "builder.step.review",
}

// Limits of the review card (one section per step).
const (
	maxReviewSections = 7
	maxReviewFacts    = 8
	maxWizardError    = 500
)

// InputPBStage is the id of a stage input: field is kind, names, fallback, justification, autoDeny,
// escalateHours or escalateTo; n is 1 or 2.
func InputPBStage(n int, field string) string {
	return inputPBStagePrefix + strconv.Itoa(n) + "." + field
}

// InputPBQuestion is the id of a question input: field is text, format, choices or required; n is 1 to 3.
func InputPBQuestion(n int, field string) string {
	return inputPBQuestionPrefix + strconv.Itoa(n) + "." + field
}

// WizardStageView is one approval stage on the approval step.
type WizardStageView struct {
	// Kind is manager, internalSponsors, externalSponsors, user or group.
	Kind, Names, Fallback, AutoDenyDays, EscalateHours, EscalateTo string
	Justification                                                  bool
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
	// Edit mode, on the review: Changes are the calls Save will make, in order (none: nothing changes);
	// ChangedFacts say how the edited policy changes ("before → after"); OtherPolicies are the package's
	// policies this edit leaves alone.
	Changes       []string
	ChangedFacts  []Fact
	OtherPolicies []string
}

// PackageWizard is one step of the package builder wizard.
func PackageWizard(l *i18n.Localizer, v PackageWizardView) *Card {
	head := l.T("builder.newTitle")
	if v.Edit {
		head = l.T("builder.editTitle", "Name", safe(v.PackageName, maxName))
	}
	c := newCard(l, head)
	c.add(title(head))
	c.add(subtitle(l.T("builder.stepOf", "N", v.StepIndex, "Count", v.StepCount, "Title", l.T(wizardStepTitle[v.Step]))))
	for i, e := range v.Errors {
		if i == maxFacts {
			break
		}
		// The builder's problems say what to do as well (which role is missing, how to activate it): longer
		// than a form field's.
		c.add(errorLine(e, maxWizardError))
	}
	switch v.Step {
	case "basics":
		wizardBasics(l, c, v)
	case "resources":
		wizardResources(l, c, v)
	case "who":
		wizardWho(l, c, v)
	case "approval":
		wizardApproval(l, c, v)
	case "lifetime":
		wizardLifetime(l, c, v)
	case "sod":
		wizardSoD(l, c, v)
	case "review":
		wizardReview(l, c, v)
		return c
	}
	data := []string{KeyDraftID, v.DraftID, KeyStep, v.Step}
	c.Actions = []Action{execute(l.T("button.next"), VerbBuilderNext, data...)}
	if v.StepIndex > 1 {
		c.Actions = append(c.Actions, noInputs(execute(l.T("builder.back"), VerbBuilderBack, data...)))
	}
	c.Actions = append(c.Actions, noInputs(execute(l.T("button.cancel"), VerbBuilderCancel, data...)))
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

func wizardBasics(l *i18n.Localizer, c *Card, v PackageWizardView) {
	c.add(InputText{ID: InputPBName, Label: l.T("builder.name"), Value: safe(v.Name, maxName), MaxLength: 256, IsRequired: true,
		ErrorMessage: l.T("builder.nameMissing")})
	c.add(InputText{ID: InputPBDescription, Label: l.T("builder.description"), Value: safe(v.Description, maxLong), IsMultiline: true, MaxLength: 1000,
		Placeholder: l.T("builder.descriptionHint")})
	if v.Edit {
		c.add(facts(l.T("builder.catalog"), safe(v.CatalogName, maxShort)))
		return
	}
	opts := append(choices(v.Catalogs), Choice{Title: l.T("builder.newCatalog"), Value: "new"})
	c.add(InputChoiceSet{ID: InputPBCatalog, Label: l.T("builder.catalog"), Choices: opts, Value: v.Catalog, Style: "compact", IsRequired: true,
		ErrorMessage: l.T("builder.catalogMissing")})
	c.add(InputText{ID: InputPBNewCatalog, Label: l.T("builder.newCatalogName"), Value: safe(v.NewCatalogName, maxName), MaxLength: 256})
}

func wizardResources(l *i18n.Localizer, c *Card, v PackageWizardView) {
	if len(v.RoleChoices) == 0 {
		c.add(text(l.T("builder.noResources")))
	} else {
		c.add(InputChoiceSet{ID: InputPBRoles, Label: l.T("builder.roles"), Choices: choices(v.RoleChoices), Value: v.Roles,
			Style: "expanded", IsMultiSelect: true, Wrap: true})
	}
	if v.Edit && len(v.RoleChoices) > 0 {
		c.add(footnote(l.T("builder.rolesEditNote")))
	}
	c.add(InputText{ID: InputPBSearch, Label: l.T("builder.search"), Value: safe(v.Search, maxShort), MaxLength: 100})
	c.add(ActionSet{Actions: []Action{execute(l.T("builder.searchButton"), VerbBuilderSearch, KeyDraftID, v.DraftID, KeyStep, v.Step)}})
	if v.SearchNote != "" {
		c.add(footnote(safe(v.SearchNote, maxShort)))
	}
	c.add(footnote(l.T("builder.searchNote")))
}

func wizardWho(l *i18n.Localizer, c *Card, v PackageWizardView) {
	c.add(InputChoiceSet{ID: InputPBWho, Label: l.T("builder.who"), Value: v.Who, Style: "expanded", IsRequired: true,
		ErrorMessage: l.T("builder.whoMissing"), Choices: []Choice{
			{Title: l.T("builder.who.members"), Value: "members"},
			{Title: l.T("builder.who.orgs"), Value: "orgs"},
			{Title: l.T("builder.who.allOrgs"), Value: "allOrgs"},
			{Title: l.T("builder.who.nobody"), Value: "nobody"}}})
	if len(v.OrgChoices) > 0 {
		c.add(InputChoiceSet{ID: InputPBOrgs, Label: l.T("builder.orgs"), Choices: choices(v.OrgChoices),
			Value: v.Orgs, Style: "expanded", IsMultiSelect: true, Wrap: true})
	} else {
		c.add(footnote(l.T("builder.noOrgs")))
	}
}

func wizardApproval(l *i18n.Localizer, c *Card, v PackageWizardView) {
	c.add(InputChoiceSet{ID: InputPBStages, Label: l.T("builder.approval"), Value: orDefault(v.StageCount, "1"), Style: "compact", Choices: []Choice{
		{Title: l.T("builder.approval.none"), Value: "0"}, {Title: l.T("builder.approval.one"), Value: "1"}, {Title: l.T("builder.approval.two"), Value: "2"}}})
	kinds := []Choice{{Title: l.T("builder.approver.manager"), Value: "manager"}, {Title: l.T("builder.approver.internalSponsors"), Value: "internalSponsors"},
		{Title: l.T("builder.approver.externalSponsors"), Value: "externalSponsors"}, {Title: l.T("builder.approver.user"), Value: "user"}, {Title: l.T("builder.approver.group"), Value: "group"}}
	c.add(footnote(l.T("builder.stagesHint")))
	for i, s := range v.Stages[:ShownStages(v.StageCount)] {
		n := i + 1
		c.add(heading(l.T("builder.stage", "N", n)))
		c.add(InputChoiceSet{ID: InputPBStage(n, "kind"), Label: l.T("builder.approvers"), Choices: kinds, Value: s.Kind, Style: "compact"})
		c.add(InputText{ID: InputPBStage(n, "names"), Label: l.T("builder.approverNames"), Value: safe(s.Names, maxShort), MaxLength: 500})
		c.add(InputText{ID: InputPBStage(n, "fallback"), Label: l.T("builder.fallback"), Value: safe(s.Fallback, maxShort), MaxLength: 500})
		c.add(ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBStage(n, "autoDeny"), Label: l.T("builder.autoDeny"), Value: orDefault(s.AutoDenyDays, "14"), MaxLength: 2}}},
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBStage(n, "escalateHours"), Label: l.T("builder.escalateHours"), Value: orDefault(s.EscalateHours, "0"), MaxLength: 3}}},
		}})
		c.add(InputText{ID: InputPBStage(n, "escalateTo"), Label: l.T("builder.escalateTo"), Value: safe(s.EscalateTo, maxShort), MaxLength: 500})
		c.add(InputToggle{ID: InputPBStage(n, "justification"), Title: l.T("builder.approverJustification"), Value: yesNo(s.Justification)})
	}
	c.add(heading(l.T("builder.requestors")))
	c.add(InputToggle{ID: InputPBJustification, Title: l.T("builder.requestorJustification"), Value: yesNo(v.RequestorJustification)})
	for i, q := range v.Questions {
		n := i + 1
		c.add(InputText{ID: InputPBQuestion(n, "text"), Label: l.T("builder.question", "N", n), Value: safe(q.Text, maxShort), MaxLength: 200})
		c.add(ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBQuestion(n, "format"), Label: l.T("builder.questionFormat"), Value: safe(q.Format, maxShort), MaxLength: 200}}},
			{Width: WidthStretch, Items: []Element{InputText{ID: InputPBQuestion(n, "choices"), Label: l.T("builder.questionChoices"), Value: safe(q.Choices, maxShort), MaxLength: 500}}},
		}})
		c.add(InputToggle{ID: InputPBQuestion(n, "required"), Title: l.T("builder.questionRequired"), Value: yesNo(q.Required)})
	}
}

// ShownStages is how many stage sections the approval step shows for the chosen stage count ("0", "1" or "2";
// anything else shows one): the inputs of a stage appear only once that many stages are chosen.
func ShownStages(count string) int {
	switch count {
	case "0":
		return 0
	case "2":
		return 2
	}
	return 1
}

func wizardLifetime(l *i18n.Localizer, c *Card, v PackageWizardView) {
	c.add(InputChoiceSet{ID: InputPBExpiry, Label: l.T("builder.expiry"), Value: orDefault(v.Expiry, "days"), Style: "expanded", Choices: []Choice{
		{Title: l.T("builder.expiry.days"), Value: "days"}, {Title: l.T("builder.expiry.date"), Value: "date"}, {Title: l.T("builder.expiry.never"), Value: "never"}}})
	c.add(InputText{ID: InputPBExpiryDays, Label: l.T("builder.expiryDays"), Value: orDefault(v.ExpiryDays, "30"), MaxLength: 4})
	c.add(InputDate{ID: InputPBExpiryDate, Label: l.T("builder.expiryDate"), Value: v.ExpiryDate})
	c.add(InputToggle{ID: InputPBExtension, Title: l.T("builder.extension"), Value: yesNo(v.Extension)})
}

func wizardSoD(l *i18n.Localizer, c *Card, v PackageWizardView) {
	c.add(text(l.T("builder.sodIntro")))
	if len(v.PackageChoices) > 0 {
		c.add(InputChoiceSet{ID: InputPBIncompatPkgs, Label: l.T("builder.incompatiblePackages"), Choices: choices(v.PackageChoices),
			Value: v.IncompatiblePackages, Style: "expanded", IsMultiSelect: true, Wrap: true})
	}
	c.add(InputText{ID: InputPBIncompatGroups, Label: l.T("builder.incompatibleGroups"), Value: safe(v.IncompatibleGroups, maxShort), MaxLength: 500})
}

func wizardReview(l *i18n.Localizer, c *Card, v PackageWizardView) {
	for n, s := range v.Review {
		if n == maxReviewSections {
			break
		}
		row := ColumnSet{Spacing: SpacingMedium, Separator: true, Columns: []Column{
			{Width: WidthStretch, Items: []Element{TextBlock{Text: safe(s.Title, maxShort), Wrap: true, Weight: WeightBolder}}},
			{Width: WidthAuto, Items: []Element{ActionSet{Actions: []Action{
				noInputs(execute(l.T("builder.edit"), VerbBuilderGoto, KeyDraftID, v.DraftID, KeyStep, v.Step, KeyTarget, s.Step))}}}},
		}}
		c.add(row)
		fs := factList(SpacingSmall, s.Facts, maxReviewFacts, "—")
		if len(s.Facts) > maxReviewFacts {
			fs.Facts = append(fs.Facts, Fact{Title: "…", Value: l.N("common.andMore", len(s.Facts)-maxReviewFacts)})
		}
		c.add(fs)
	}
	label := l.T("builder.create")
	if v.Edit {
		label = l.T("builder.save")
		wizardChanges(l, c, v)
	}
	c.add(footnote(l.T("builder.reviewNote", "Button", label)))
	data := []string{KeyDraftID, v.DraftID, KeyStep, v.Step}
	c.Actions = []Action{noInputs(execute(label, VerbBuilderCreate, data...)),
		noInputs(execute(l.T("builder.back"), VerbBuilderBack, data...)), noInputs(execute(l.T("button.cancel"), VerbBuilderCancel, data...))}
}

// wizardChanges is the edit review's confirmation: each call Save makes, how the policy changes, and what
// it leaves alone.
func wizardChanges(l *i18n.Localizer, c *Card, v PackageWizardView) {
	c.add(TextBlock{Text: l.T("builder.changes.title"), Wrap: true, Weight: WeightBolder, Spacing: SpacingLarge, Separator: true})
	if len(v.Changes) == 0 {
		c.add(text(l.T("builder.changes.none")))
	}
	addMarked(l, c, "• ", v.Changes)
	if len(v.ChangedFacts) > 0 {
		c.add(factList(SpacingSmall, v.ChangedFacts, maxReviewFacts, ""))
	}
	if len(v.OtherPolicies) > 0 {
		c.add(footnote(l.T("builder.changes.others", "Names", joinNames(l, v.OtherPolicies))))
	}
}

// PolicyChoiceView offers the policies of a package to edit (/package {name} edit on a package with
// several policies).
type PolicyChoiceView struct {
	PackageID, PackageName string
	Policies               []PolicyChoiceItem
}

// PolicyChoiceItem is one policy: its name and what it says (who may request, approval, lifetime).
type PolicyChoiceItem struct {
	ID, Name string
	Facts    []Fact
}

// PolicyChoice shows every policy of a package, each with a button that edits it.
func PolicyChoice(l *i18n.Localizer, v PolicyChoiceView) *Card {
	name := safe(v.PackageName, maxName)
	head := l.T("builder.pick.title", "Name", name)
	c := newCard(l, head)
	c.add(title(head))
	c.add(text(l.N("builder.pick.text", len(v.Policies), "Name", name)))
	for i, p := range v.Policies {
		if i == maxListItems {
			c.add(moreLine(l.N("common.andMore", len(v.Policies)-i)))
			break
		}
		c.add(TextBlock{Text: safe(p.Name, maxShort), Wrap: true, Weight: WeightBolder, Spacing: SpacingLarge, Separator: true})
		c.add(factList(SpacingSmall, p.Facts, maxReviewFacts, "—"))
		c.add(ActionSet{Actions: []Action{noInputs(execute(l.T("builder.pick.edit"), VerbBuilderEditPolicy,
			KeyPackageID, v.PackageID, KeyPolicyID, p.ID))}})
	}
	c.Actions = []Action{commandButton(l.T("builder.showPackage"), "/package "+v.PackageName)}
	return c
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
	return marshal(wireOf(e))
}

func (InputToggle) isElement() {}

// BotChatMessageURL is the Teams deep link that opens the 1:1 chat with the bot with message typed in.
func BotChatMessageURL(botID, message string) string {
	return BotChatURL(botID) + messageParam + strings.ReplaceAll(url.QueryEscape(message), "+", "%20")
}
