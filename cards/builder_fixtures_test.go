package cards

import (
	"strings"

	"github.com/accessbot/accessbot/internal/i18n"
)

// The package builder's cards, built from the seed's story: Adele builds "Northwind Pilot".

const (
	draftID   = "5f1c0d2a9b8e7f6a5b4c3d2e"
	pkgPilot  = "eeeeeeee-0000-0000-0000-0000000000p1"
	botTeamID = "28:b0770000-0000-4000-8000-000000000001"
)

func pilotWizard(step string, index int) PackageWizardView {
	v := PackageWizardView{DraftID: draftID, Step: step, StepIndex: index, StepCount: 7,
		Name: "Northwind Pilot", Description: "The Falcon team for Northwind's pilot engineers.", Catalog: "eeeeeeee-0000-0000-0000-0000000000c1",
		Catalogs:    []Choice{{Title: "Project Falcon", Value: "eeeeeeee-0000-0000-0000-0000000000c1"}},
		RoleChoices: []Choice{{Title: "Falcon Team (Team): Member", Value: "dddd|Member"}, {Title: "Falcon (SharePoint site): Falcon Visitors", Value: "site|Falcon Visitors"}, {Title: "Falcon Portal (App): User", Value: "app|User"}},
		Roles:       "dddd|Member",
		Who:         "orgs", Orgs: "99999999-0000-0000-0000-000000000002",
		OrgChoices: []Choice{{Title: "Fabrikam", Value: "99999999-0000-0000-0000-000000000001"}, {Title: "Northwind", Value: "99999999-0000-0000-0000-000000000002"}},
		StageCount: "1",
		Expiry:     "days", ExpiryDays: "30",
		PackageChoices: []Choice{{Title: "Falcon Production Access", Value: pkgProd}, {Title: "Falcon Break-glass", Value: "eeeeeeee-0000-0000-0000-000000000005"}},
	}
	v.Stages[0] = WizardStageView{Kind: "user", Names: "patti@contoso.example", AutoDenyDays: "14"}
	return v
}

func pilotReview() PackageWizardView {
	v := pilotWizard("review", 7)
	v.Review = []WizardSection{
		{Step: "basics", Title: "Name and catalog", Facts: []Fact{{Title: "Name", Value: "Northwind Pilot"}, {Title: "Catalog", Value: "Project Falcon"}}},
		{Step: "resources", Title: "Resources and roles", Facts: []Fact{{Title: "Falcon Team", Value: "Member"}}},
		{Step: "who", Title: "Who may request", Facts: []Fact{{Title: "Requesters", Value: "Users of Northwind"}}},
		{Step: "approval", Title: "Approval and questions", Facts: []Fact{{Title: "Stage 1", Value: "Patti Fernandez; 14 days to decide"}, {Title: "Justification", Value: "optional"}}},
		{Step: "lifetime", Title: "Lifetime", Facts: []Fact{{Title: "Access ends", Value: "after 30 days"}, {Title: "Extension", Value: "not allowed"}}},
		{Step: "sod", Title: "Separation of duties", Facts: []Fact{{Title: "Incompatible", Value: "none"}}},
	}
	return v
}

// pilotEditReview is the review of an edit of Northwind Pilot's partner policy: a role swapped, 60 days (the
// sections show the draft as it will be saved, "What Save changes" the difference).
func pilotEditReview() PackageWizardView {
	v := pilotReview()
	v.Edit, v.PackageName = true, "Northwind Pilot"
	v.Review[1].Facts = []Fact{{Title: "Falcon Team", Value: "Member"}, {Title: "Northwind Team", Value: "Member"}}
	v.Review[2].Facts = append([]Fact{{Title: "Policy", Value: "Northwind partners"}}, v.Review[2].Facts...)
	v.Review[4].Facts = []Fact{{Title: "Access ends", Value: "after 60 days"}, {Title: "Extension", Value: "not allowed"}}
	v.Changes = []string{"Grant Member of Northwind Team", "Remove Falcon Visitors of Falcon", "Save the policy Northwind partners"}
	v.ChangedFacts = []Fact{{Title: "Access ends", Value: "after 30 days → after 60 days"}}
	v.OtherPolicies = []string{"Employees"}
	return v
}

func builderCases(l *i18n.Localizer) []cardCase {
	basics := pilotWizard("basics", 1)
	basics.Errors = []string{"Name: give the package a name (what requesters will look for)."}
	basics.Name = ""
	res := pilotWizard("resources", 2)
	res.Search, res.SearchNote = "North", "Found 3: pick the roles to grant above."
	res.RoleChoices = append(res.RoleChoices, Choice{Title: "Northwind Team (Team, added on create): Member", Value: "nw|Member"},
		Choice{Title: "Northwind Collaboration (SharePoint site, added on create): Northwind Collaboration Visitors", Value: "https://contoso.sharepoint.com/sites/northwind-collab|Northwind Collaboration Visitors"},
		Choice{Title: "Northwind Extranet (App, added on create): Partner", Value: "sp-nw|Partner"})
	two := pilotWizard("approval", 4)
	two.StageCount = "2"
	two.Stages[1] = WizardStageView{Kind: "group", Names: "Falcon Security", AutoDenyDays: "7", Justification: true}
	return []cardCase{
		{"builder-basics-errors", PackageWizard(l, basics)},
		{"builder-resources", PackageWizard(l, res)},
		{"builder-who", PackageWizard(l, pilotWizard("who", 3))},
		{"builder-approval", PackageWizard(l, pilotWizard("approval", 4))},
		{"builder-approval-two-stages", PackageWizard(l, two)},
		{"builder-lifetime", PackageWizard(l, pilotWizard("lifetime", 5))},
		{"builder-sod", PackageWizard(l, pilotWizard("sod", 6))},
		{"builder-review", PackageWizard(l, pilotReview())},
		{"builder-created", PackageBuilt(l, PackageBuiltView{DraftID: draftID, PackageName: "Northwind Pilot",
			Progress: []ProgressLine{{What: "Create the access package Northwind Pilot in Project Falcon", OK: true}, {What: "Grant Member of Falcon Team", OK: true},
				{What: "Create the policy Users of Northwind", OK: true}},
			MyAccessURL: MyAccessURL("contoso.onmicrosoft.com", pkgPilot), ChatURL: BotChatMessageURL(botTeamID, "request Northwind Pilot")})},
		{"builder-failed", PackageBuilt(l, PackageBuiltView{DraftID: draftID, PackageName: "Northwind Pilot", Failed: true, CanUndo: true,
			Progress: []ProgressLine{{What: "Create the access package Northwind Pilot in Project Falcon", OK: true}, {What: "Grant Member of Falcon Team", OK: true},
				{What: "Create the policy Users of Northwind", Err: "approval stage 1 has no primary approvers; a policy that requires approval needs at least one approver in every stage"}}})},
		{"builder-policy-choice", PolicyChoice(l, PolicyChoiceView{PackageID: pkgPilot, PackageName: "Northwind Pilot", Policies: []PolicyChoiceItem{
			{ID: "ffffffff-0000-0000-0000-0000000000a1", Name: "Employees", Facts: []Fact{{Title: "Requesters", Value: "Members of this directory"},
				{Title: "Approval", Value: "No approval"}, {Title: "Access ends", Value: "after 180 days"}}},
			{ID: "ffffffff-0000-0000-0000-0000000000a2", Name: "Northwind partners", Facts: []Fact{{Title: "Requesters", Value: "Users of Northwind"},
				{Title: "Stage 1", Value: "Patti Fernandez; 14 days to decide"}, {Title: "Access ends", Value: "after 30 days"}}},
		}})},
		{"builder-edit-review", PackageWizard(l, pilotEditReview())},
		{"builder-edit-failed", PackageBuilt(l, PackageBuiltView{DraftID: draftID, PackageName: "Northwind Pilot", Edit: true, Failed: true,
			Progress: []ProgressLine{{What: "Grant Member of Northwind Team", OK: true},
				{What: "Remove Falcon Visitors of Falcon", Err: "Microsoft Entra is not reachable right now; nothing was changed by this step."}},
			NotDone: []string{"Save the policy Northwind partners"}})},
		{"package-details-incompatible", PackageDetails(l, PackageDetailsView{ID: "eeeeeeee-0000-0000-0000-000000000005", Name: "Falcon Break-glass",
			CatalogName: "Project Falcon", Hidden: true, Resources: falconResources[:1], TenantDomain: "contoso.onmicrosoft.com", Editable: true,
			Incompatible: []string{"Falcon Production Access", "Falcon Security Reviewers (group)"}})},
		{"sod-incompatible-package", Incompatible(l, IncompatibleView{PackageName: "Falcon Production Access",
			Conflicts: []IncompatibleConflict{{Name: "Falcon Break-glass", PackageID: "eeeeeeee-0000-0000-0000-000000000005", AssignmentID: "a5a5a5a5-0000-4000-8000-000000000001"}}})},
		{"sod-incompatible-group", Incompatible(l, IncompatibleView{PackageName: "Northwind Pilot",
			Conflicts: []IncompatibleConflict{{Group: true, Name: "Falcon Security Reviewers"}}})},
	}
}

func builderLargeCases() []cardCase {
	l := en
	var many []Choice
	var progress []ProgressLine
	var conflicts []IncompatibleConflict
	for i := 0; i < 60; i++ {
		many = append(many, Choice{Title: long(300), Value: strings.Repeat("v", 60)})
		progress = append(progress, ProgressLine{What: long(400), Err: long(600)})
		conflicts = append(conflicts, IncompatibleConflict{Name: long(300), AssignmentID: "a", PackageID: "p"})
	}
	v := pilotWizard("approval", 4)
	v.StageCount = "2"
	v.Errors = []string{long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900), long(900)}
	v.Name, v.Description = long(2000), long(5000)
	for i := range v.Questions {
		v.Questions[i] = WizardQuestionView{Text: long(900), Format: long(900), Choices: long(900)}
	}
	for i := range v.Stages {
		v.Stages[i] = WizardStageView{Names: long(900), Fallback: long(900), EscalateTo: long(900)}
	}
	res := pilotWizard("resources", 2)
	res.RoleChoices, res.Search, res.SearchNote = many, long(900), long(900)
	sod := pilotWizard("sod", 6)
	sod.PackageChoices, sod.IncompatibleGroups = many, long(2000)
	rev := pilotReview()
	for i := 0; i < 10; i++ {
		var fs []Fact
		for j := 0; j < 40; j++ {
			fs = append(fs, Fact{Title: long(200), Value: long(600)})
		}
		rev.Review = append(rev.Review, WizardSection{Step: "basics", Title: long(400), Facts: fs})
	}
	return []cardCase{
		{"builder-approval", PackageWizard(l, v)},
		{"builder-resources", PackageWizard(l, res)},
		{"builder-sod", PackageWizard(l, sod)},
		{"builder-review", PackageWizard(l, rev)},
		{"builder-failed", PackageBuilt(l, PackageBuiltView{PackageName: long(800), Failed: true, CanUndo: true, Progress: progress, Left: []string{long(300)}, Undone: true})},
		{"sod-incompatible", Incompatible(l, IncompatibleView{PackageName: long(800), Conflicts: conflicts})},
	}
}
