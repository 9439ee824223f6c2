package cards

import (
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

// Realistic views built from the demo seed (docs/ARCHITECTURE.md): Contoso, Fabrikam, Project Falcon.

var (
	en        = i18n.English()
	t0        = time.Date(2026, 11, 26, 9, 15, 0, 0, time.UTC)
	contosoID = "11111111-1111-1111-1111-111111111111"
)

const (
	pkgTeam    = "eeeeeeee-0000-0000-0000-000000000001"
	pkgProd    = "eeeeeeee-0000-0000-0000-000000000002"
	pkgPartner = "eeeeeeee-0000-0000-0000-000000000003"
	pkgWiki    = "eeeeeeee-0000-0000-0000-000000000004"
	polTeam    = "ffffffff-0000-0000-0000-000000000001"
	polProd    = "ffffffff-0000-0000-0000-000000000002"
	reqID      = "a1b2c3d4-0000-4000-8000-000000000042"
)

var falconResources = []ResourceRoleView{
	{Resource: "Falcon Team", Kind: "Team", Role: "Member"},
	{Resource: "https://contoso.sharepoint.com/sites/falcon", Kind: "SharePoint site", Role: "Member"},
	{Resource: "Falcon Portal", Kind: "App", Role: "User"},
}

var falconPackages = []PackageView{
	{ID: pkgTeam, Name: "Falcon Team Member", CatalogName: "Project Falcon", Summary: "Manager approval · 180 days",
		Description: "Membership of the Falcon Team in Teams, the Falcon SharePoint site and the Falcon Portal."},
	{ID: pkgProd, Name: "Falcon Production Access", CatalogName: "Project Falcon", Summary: "2 approval stages · 90 days",
		Description: "Operator access to the Falcon production environment. Needs a change ticket."},
	{ID: pkgWiki, Name: "Falcon Wiki Reader", CatalogName: "Project Falcon", Summary: "No approval · 365 days",
		Description: "Read the Falcon wiki on SharePoint."},
}

func prodQuestions() []QuestionView {
	return []QuestionView{
		{ID: "ticket", Kind: QuestionText, Text: "Change ticket (INC + digits)", Required: true, Regex: `^INC\d{4,}$`,
			Hint: "INC followed by at least 4 digits, e.g. INC0042"},
		{ID: "env", Kind: QuestionMultipleChoice, Text: "Environment", Required: true,
			Choices: []Choice{{Title: "Production EU", Value: "prod-eu"}, {Title: "Production US", Value: "prod-us"}}},
	}
}

type cardCase struct {
	name string
	card *Card
}

// goldenCases are the cards the golden files and the schema test cover: every constructor, every variant, in
// English (testdata/golden/*.json) and in German (testdata/golden/de/*.json).
func goldenCases() []cardCase {
	out := append(append(goldenCasesIn(en), reviewGoldenCases()...), builderCases(en)...)
	de := i18n.For("de")
	for _, c := range append(goldenCasesIn(de), builderCases(de)...) {
		c.name = germanDir + c.name
		out = append(out, c)
	}
	return out
}

// germanDir is the golden subdirectory of the German cards.
const germanDir = "de/"

// goldenCasesIn builds every golden card with l.
func goldenCasesIn(l *i18n.Localizer) []cardCase {
	rita := PersonView{Name: "Rita Requester", Email: "rita@contoso.example", OrgName: "Contoso", Manager: "Aaron Approver"}
	gus := PersonView{Name: "Gus Guest", Email: "gus@fabrikam.example", OrgName: "Fabrikam", External: true,
		TenantID: "22222222-2222-2222-2222-222222222222"}
	prodApproval := ApprovalView{
		RequestID: reqID, ApprovalID: reqID, StageID: "stage-1", Requester: rita,
		PackageName: "Falcon Production Access", CatalogName: "Project Falcon",
		PackageDescription: "Operator access to the Falcon production environment.",
		Resources:          falconResources,
		Start:              t0, End: t0.Add(30 * 24 * time.Hour),
		Answers: []AnswerView{{Question: "Change ticket (INC + digits)", Answer: "INC0042"},
			{Question: "Environment", Answer: "Production EU"}},
		Justification: "On call for the Falcon release next week; need to run the database migration in prod-eu.",
		RequestedAt:   t0, StageIndex: 1, StageCount: 2,
		Deadline: t0.Add(14 * 24 * time.Hour), Now: t0.Add(2 * time.Hour),
		JustificationRequired: true,
		ApproverIDs:           []string{"29:aaron"},
		Mode:                  ModeDelegated, OrgName: "Contoso",
	}
	stage2 := prodApproval
	stage2.StageID = "stage-2"
	stage2.StageIndex = 2
	stage2.ApproverIDs = []string{"29:isaiah", "29:lynne"}
	stage2.Deadline = t0.Add(26 * time.Hour)
	stage2.Now = t0.Add(10 * time.Hour)
	stage2.Decisions = []DecisionView{{Stage: 1, Approver: "Aaron Approver", Decision: DecisionApprove,
		At: t0.Add(85 * time.Minute), Justification: "Rita is on the release rota."}}
	stage2.Note = "Reminder: this request has been waiting for you for 8 hours."
	stage2.Error = "A justification is required to deny."

	partnerApproval := ApprovalView{
		RequestID: "b1", ApprovalID: "b1", StageID: "brokered-stage-1", Requester: gus,
		PackageName: "Falcon Partner Collaboration", CatalogName: "Project Falcon",
		Resources: falconResources[:1], ExpirySummary: "30 days", RequestedAt: t0,
		Justification: "Fabrikam is building the Falcon mobile client; I need the team's channel.",
		StageIndex:    1, StageCount: 1, Deadline: t0.Add(7 * 24 * time.Hour), Now: t0.Add(time.Hour),
		ApproverIDs: []string{"29:patti", "29:fiona"},
		Mode:        ModeBrokered, OrgName: "Contoso",
	}

	// The history as the lifecycle core stores it (message ids and data), rendered in the card's language.
	timeline := []EventView{
		{At: t0, Msg: "event.submitted"},
		{At: t0.Add(time.Minute), Msg: "event.pendingStage", Data: map[string]string{"Stage": "1", "Stages": "2"}},
		{At: t0.Add(85 * time.Minute), Msg: "event.stageApproved", Data: map[string]string{"Stage": "1", "By": "Aaron Approver"}},
		{At: t0.Add(86 * time.Minute), Msg: "event.stageWaiting", Data: map[string]string{"Stage": "2", "Stages": "2"},
			Names: []string{"Isaiah Langer", "Lynne Robbins"}},
	}

	// A partner's brokered request to the end (a line of an older build, English text shown as stored, is
	// covered by TestEventText).
	guestTimeline := []EventView{
		{At: t0, Msg: "event.submittedBrokered"},
		{At: t0.Add(time.Minute), Msg: "event.waiting", Names: []string{"Patti Fernandez", "Fiona Partner"}},
		{At: t0.Add(2 * time.Hour), Msg: "event.approved", Data: map[string]string{"By": "Patti Fernandez"}},
		{At: t0.Add(121 * time.Minute), Msg: "event.fileDelivering"},
		{At: t0.Add(125 * time.Minute), Msg: "event.deliveredGuest", Data: map[string]string{"Org": "Contoso"}},
		{At: t0.Add(126 * time.Minute), Msg: "event.guestWaiting"},
		{At: t0.Add(3 * time.Hour), Msg: "event.guestAccepted"},
		{At: t0.Add(27 * 24 * time.Hour), Msg: "event.guestEnding", Data: map[string]string{"When": t0.Add(30 * 24 * time.Hour).Format(time.RFC3339)}},
	}

	return []cardCase{
		{"welcome", Welcome(l, WelcomeView{UserName: "Rita Requester", OrgName: "Contoso"})},
		{"welcome-guest", Welcome(l, WelcomeView{UserName: "Gus Guest", OrgName: "Contoso", IsGuest: true, HomeOrgName: "Fabrikam"})},
		{"welcome-admin", Welcome(l, WelcomeView{UserName: "Adele Vance", OrgName: "Contoso", IsAdmin: true})},
		{"help", Help(l, HelpView{})},
		{"help-admin", Help(l, HelpView{IsAdmin: true, AdminOnly: true})},
		{"package-list", PackageList(l, PackageListView{Query: "falcon", Page: 1, PageCount: 3, Total: 23,
			Packages: falconPackages, OrgName: "Contoso"})},
		{"package-list-last-page", PackageList(l, PackageListView{Page: 3, PageCount: 3, Total: 23,
			Packages: falconPackages[2:], OrgName: "Contoso"})},
		{"package-list-empty", PackageList(l, PackageListView{Query: "payroll", OrgName: "Contoso"})},
		{"request-form", RequestForm(l, RequestFormView{
			PackageID: pkgProd, PackageName: "Falcon Production Access", CatalogName: "Project Falcon",
			PackageDescription: "Operator access to the Falcon production environment.", FormID: "form-7",
			Policies: []PolicyOption{{ID: polProd, Name: "Contoso employees"}}, PolicyID: polProd,
			ApprovalRequired: true, ApprovalSummary: "Your manager, then Falcon Security Reviewers",
			ExpirySummary: "90 days", Questions: prodQuestions(), JustificationRequired: true,
			CustomSchedule: true, MinDate: t0, MaxDate: t0.Add(90 * 24 * time.Hour),
			Mode: ModeDelegated, OrgName: "Contoso",
		})},
		{"request-form-errors", RequestForm(l, RequestFormView{
			PackageID: pkgProd, PackageName: "Falcon Production Access", CatalogName: "Project Falcon", FormID: "form-8",
			Policies: []PolicyOption{
				{ID: polProd, Name: "Contoso employees", Description: "Two approval stages, 90 days"},
				{ID: "ffffffff-0000-0000-0000-0000000000a2", Name: "Contractors", Description: "Sponsor approval, 30 days"},
			},
			PolicyID: polProd, ApprovalRequired: true, ApprovalSummary: "Your manager, then Falcon Security Reviewers",
			ExpirySummary: "90 days", Questions: prodQuestions(), JustificationRequired: true, CustomSchedule: true,
			Values: map[string]string{QuestionInputID("ticket"): "CHG-12", QuestionInputID("env"): "prod-eu",
				InputStartDate: "2026-12-10", InputEndDate: "2026-12-01"},
			Errors: map[string]string{QuestionInputID("ticket"): "\"CHG-12\" is not a change ticket: expected INC followed by at least 4 digits.",
				InputJustification: "A justification is required for this package.",
				InputEndDate:       "The end date is before the start date."},
			FormError: "3 answers need your attention.",
			Mode:      ModeDelegated, OrgName: "Contoso",
		})},
		{"request-form-simple", RequestForm(l, RequestFormView{
			PackageID: pkgTeam, PackageName: "Falcon Team Member", FormID: "form-9", PolicyID: polTeam,
			ApprovalRequired: true, ApprovalSummary: "Your manager (Aaron Approver)", ExpirySummary: "180 days",
			Mode: ModeDelegated, OrgName: "Contoso",
		})},
		{"request-form-brokered", RequestForm(l, RequestFormView{
			PackageID: pkgPartner, PackageName: "Falcon Partner Collaboration", FormID: "form-10",
			PolicyID: "ffffffff-0000-0000-0000-000000000003", ApprovalRequired: true,
			ApprovalSummary: "Contoso's sponsor (Patti Fernandez) or Fabrikam's sponsor (Fiona Partner)",
			ExpirySummary:   "30 days", Mode: ModeBrokered, OrgName: "Contoso",
		})},
		{"status-submitted", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Production Access",
			State: StateSubmitted, Timeline: timeline[:1], Cancelable: true, UpdatedAt: t0, Mode: ModeDelegated, OrgName: "Contoso"})},
		{"status-pending", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Production Access",
			State: StatePendingApproval, StageIndex: 2, StageCount: 2, Asked: []string{"Isaiah Langer", "Lynne Robbins"},
			Timeline: timeline, Cancelable: true, UpdatedAt: t0.Add(90 * time.Minute), Mode: ModeDelegated, OrgName: "Contoso"})},
		{"status-approved", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Team Member",
			State: StateApproved, DecidedBy: "Aaron Approver", DecidedAt: t0.Add(time.Hour),
			DecisionJustification: "Welcome to the team.", Mode: ModeDelegated, OrgName: "Contoso"})},
		{"status-denied", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Production Access",
			State: StateDenied, DecidedBy: "Isaiah Langer", DecidedAt: t0.Add(3 * time.Hour),
			DecisionJustification: "Prod access needs the security training first; request again once it's done.",
			Timeline:              append(timeline, EventView{At: t0.Add(3 * time.Hour), Msg: "event.stageDenied", Data: map[string]string{"Stage": "2", "By": "Isaiah Langer"}}),
			Mode:                  ModeDelegated, OrgName: "Contoso"})},
		{"status-delivering-guest", RequestStatus(l, RequestStatusView{RequestID: "b1", PackageName: "Falcon Partner Collaboration",
			State: StateDelivering, WaitingForInvitation: true, InviteRedeemURL: "https://invitations.microsoft.com/redeem/?tenant=" + contosoID,
			Mode: ModeBrokered, OrgName: "Contoso"})},
		{"status-delivered", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Team Member",
			State: StateDelivered, Granted: []string{"Falcon Team (Team) — Member", "Falcon site (SharePoint) — Member", "Falcon Portal (App) — User"},
			Until: t0.Add(180 * 24 * time.Hour), Mode: ModeDelegated, OrgName: "Contoso"})},
		{"status-canceled", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Team Member",
			State: StateCanceled, Reason: "You canceled the request.", Mode: ModeDelegated, OrgName: "Contoso"})},
		{"status-delivered-guest-history", RequestStatus(l, RequestStatusView{RequestID: "b1", PackageName: "Falcon Partner Collaboration",
			State: StateDelivered, Granted: []string{"Falcon Team (Team) — Member"}, Until: t0.Add(30 * 24 * time.Hour),
			Timeline: guestTimeline, Mode: ModeBrokered, OrgName: "Contoso"})},
		{"status-expired", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Team Member",
			State: StateExpired, Mode: ModeDelegated, OrgName: "Contoso"})},
		{"status-delivery-failed", RequestStatus(l, RequestStatusView{RequestID: reqID, PackageName: "Falcon Team Member",
			State: StateDeliveryFailed, Reason: "The Falcon Team group could not be updated. An admin has been told.",
			Mode: ModeDelegated, OrgName: "Contoso"})},
		{"approval", Approval(l, prodApproval)},
		{"approval-stage2-reminder", Approval(l, stage2)},
		{"approval-brokered", Approval(l, partnerApproval)},
		{"approval-decided", ApprovalDecided(l, ApprovalDecidedView{RequestID: reqID, ApprovalID: reqID, StageID: "stage-1",
			PackageName: "Falcon Production Access", RequesterName: "Rita Requester", RequesterOrg: "Contoso",
			Outcome: DecisionApprove, DecidedBy: "Aaron Approver", DecidedAt: t0.Add(85 * time.Minute),
			Justification: "Rita is on the release rota.", StageIndex: 1, StageCount: 2, ByYou: true,
			Next: "Now waiting for stage 2: Falcon Security Reviewers.", Mode: ModeDelegated, OrgName: "Contoso"})},
		{"approval-already-decided", ApprovalDecided(l, ApprovalDecidedView{RequestID: reqID, ApprovalID: reqID, StageID: "stage-2",
			PackageName: "Falcon Production Access", RequesterName: "Rita Requester", RequesterOrg: "Contoso",
			Outcome: DecisionApprove, DecidedBy: "Isaiah Langer", DecidedAt: time.Date(2026, 11, 26, 10, 42, 0, 0, time.UTC),
			Justification: "Ticket INC0042 checked.", StageIndex: 2, StageCount: 2, AlreadyDecided: true,
			Decisions: []DecisionView{
				{Stage: 1, Approver: "Aaron Approver", Decision: DecisionApprove, At: t0.Add(85 * time.Minute), Justification: "Rita is on the release rota."},
				{Stage: 2, Approver: "Isaiah Langer", Decision: DecisionApprove, At: time.Date(2026, 11, 26, 10, 42, 0, 0, time.UTC), Justification: "Ticket INC0042 checked."},
			}, Mode: ModeDelegated, OrgName: "Contoso"})},
		{"approval-decided-brokered-denied", ApprovalDecided(l, ApprovalDecidedView{RequestID: "b1", ApprovalID: "b1", StageID: "brokered-stage-1",
			PackageName: "Falcon Partner Collaboration", RequesterName: "Gus Guest", RequesterOrg: "Fabrikam",
			Outcome: DecisionDeny, DecidedBy: "Patti Fernandez", DecidedAt: t0.Add(2 * time.Hour),
			Justification: "The mobile client contract isn't signed yet.", NotApprover: true, Mode: ModeBrokered, OrgName: "Contoso"})},
		{"approval-canceled", ApprovalDecided(l, ApprovalDecidedView{RequestID: reqID, ApprovalID: reqID, StageID: "stage-1",
			PackageName: "Falcon Team Member", RequesterName: "Megan Bowen", RequesterOrg: "Contoso",
			Outcome: DecisionNotReviewed, StageIndex: 1, StageCount: 1, Closed: ClosureCanceledByRequester,
			Mode: ModeDelegated, OrgName: "Contoso"})},
		{"approval-canceled-brokered-late-click", ApprovalDecided(l, ApprovalDecidedView{RequestID: "b1", ApprovalID: "b1", StageID: "stage-1",
			PackageName: "Falcon Partner Collaboration", RequesterName: "Gus Guest", RequesterOrg: "Fabrikam",
			Outcome: DecisionNotReviewed, StageIndex: 1, StageCount: 1, Closed: ClosureCanceledByRequester, AlreadyDecided: true,
			Mode: ModeBrokered, OrgName: "Contoso"})},
		{"approval-expired", ApprovalDecided(l, ApprovalDecidedView{RequestID: reqID, ApprovalID: reqID, StageID: "stage-2",
			PackageName: "Falcon Production Access", RequesterName: "Rita Requester", RequesterOrg: "Contoso",
			Outcome: DecisionDeny, StageIndex: 2, StageCount: 2, Closed: ClosureExpired,
			Decisions: []DecisionView{
				{Stage: 1, Approver: "Aaron Approver", Decision: DecisionApprove, At: t0.Add(85 * time.Minute), Justification: "Rita is on the release rota."},
			}, Mode: ModeDelegated, OrgName: "Contoso"})},
		{"approval-denied-automatically", ApprovalDecided(l, ApprovalDecidedView{RequestID: "b2", ApprovalID: "b2", StageID: "stage-1",
			PackageName: "Falcon Partner Collaboration", RequesterName: "Frank Miller", RequesterOrg: "Fabrikam",
			Outcome: DecisionDeny, StageIndex: 1, StageCount: 1, Closed: ClosureAutoDenied,
			Reason: "Nobody can approve the next stage (no approver is set).", Mode: ModeBrokered, OrgName: "Contoso"})},
		{"approval-inbox", ApprovalInbox(l, ApprovalInboxView{Now: t0.Add(3 * time.Hour), Items: []InboxItemView{
			{RequestID: reqID, ApprovalID: reqID, StageID: "stage-1", PackageName: "Falcon Production Access",
				RequesterName: "Rita Requester", RequesterOrg: "Contoso", RequestedAt: t0, Deadline: t0.Add(14 * 24 * time.Hour), StageIndex: 1, StageCount: 2},
			{RequestID: "r2", ApprovalID: "r2", StageID: "s1", PackageName: "Falcon Team Member",
				RequesterName: "Megan Bowen", RequesterOrg: "Contoso", RequestedAt: t0.Add(time.Hour), Deadline: t0.Add(5 * time.Hour), StageIndex: 1, StageCount: 1},
		}})},
		{"approval-inbox-empty", ApprovalInbox(l, ApprovalInboxView{})},
		{"my-requests", MyRequests(l, MyRequestsView{Requests: []RequestSummaryView{
			{RequestID: reqID, PackageName: "Falcon Production Access", State: StatePendingApproval, Detail: "stage 2 of 2, waiting for Falcon Security Reviewers", UpdatedAt: t0.Add(90 * time.Minute)},
			{RequestID: "r0", PackageName: "Falcon Team Member", State: StateDelivered, Detail: "until 25 May 2027", UpdatedAt: t0.Add(-48 * time.Hour)},
			{RequestID: "r-1", PackageName: "Falcon Wiki Reader", State: StateDenied, UpdatedAt: t0.Add(-30 * 24 * time.Hour)},
		}})},
		{"my-requests-empty", MyRequests(l, MyRequestsView{})},
		{"my-access", MyAccess(l, MyAccessView{Now: t0, OrgName: "Contoso", Assignments: []AssignmentView{
			{AssignmentID: "as-1", PackageID: pkgTeam, PackageName: "Falcon Team Member",
				Resources: []string{"Falcon Team — Member", "Falcon site — Member", "Falcon Portal — User"},
				Start:     t0.Add(-170 * 24 * time.Hour), End: t0.Add(10 * 24 * time.Hour), CanExtend: true, CanRemove: true},
			{AssignmentID: "as-2", PackageID: pkgWiki, PackageName: "Falcon Wiki Reader", Resources: []string{"Falcon wiki — Visitor"},
				End: t0.Add(300 * 24 * time.Hour), CanRemove: true},
		}})},
		{"my-access-empty", MyAccess(l, MyAccessView{OrgName: "Contoso"})},
		{"guest-invited", GuestGuidance(l, GuestGuidanceView{Step: GuestInvited, GuestName: "Gus Guest", OrgName: "Contoso",
			TenantID: contosoID, TenantDomain: "contoso.onmicrosoft.com", HomeOrgName: "Fabrikam",
			PackageName: "Falcon Partner Collaboration", TeamName: "Falcon Team",
			InviteRedeemURL: "https://invitations.microsoft.com/redeem/?tenant=" + contosoID + "&ticket=abc",
			TeamURL:         "https://teams.microsoft.com/l/team/19%3Afalcon%40thread.tacv2/conversations?groupId=dddddddd-0000-0000-0000-000000000001&tenantId=" + contosoID})},
		{"guest-accepted", GuestGuidance(l, GuestGuidanceView{Step: GuestAccepted, OrgName: "Contoso", TenantID: contosoID,
			HomeOrgName: "Fabrikam", PackageName: "Falcon Partner Collaboration", TeamName: "Falcon Team",
			TeamURL:    "https://teams.microsoft.com/l/team/19%3Afalcon%40thread.tacv2/conversations?groupId=dddddddd-0000-0000-0000-000000000001&tenantId=" + contosoID,
			AccessEnds: t0.Add(30 * 24 * time.Hour),
			Links:      []Link{{Title: "Falcon site", URL: "https://contoso.sharepoint.com/sites/falcon"}}})},
		{"guest-ending", GuestGuidance(l, GuestGuidanceView{Step: GuestEnding, OrgName: "Contoso", TenantID: contosoID,
			HomeOrgName: "Fabrikam", PackageName: "Falcon Partner Collaboration", AccessEnds: t0.Add(5 * 24 * time.Hour), Now: t0})},
		{"link-out", LinkOut(l, LinkOutView{PackageID: pkgPartner, PackageName: "Falcon Partner Collaboration",
			Reason:       "Brokered requests are turned off for Fabrikam, and you don't have an account in Contoso yet.",
			TenantDomain: "contoso.onmicrosoft.com", OrgName: "Contoso"})},
		{"admin-confirm", AdminConfirm(l, AdminConfirmView{Title: "Revoke Falcon Production Access from Rita Requester?",
			Summary:      "Rita Requester loses operator access to the Falcon production environment right away.",
			Details:      []Fact{{Title: "User", Value: "Rita Requester (rita@contoso.example)"}, {Title: "Package", Value: "Falcon Production Access"}, {Title: "Assignment", Value: "as-7, ends 24/02/2027"}},
			ConfirmLabel: "Revoke", Token: "cfm-91f2", Irreversible: true})},
		{"admin-confirm-review-stages", AdminConfirm(l, AdminConfirmView{Title: "Create an access review of Falcon Team Member?",
			Summary: "Everyone holding Falcon Team Member is reviewed every quarter in 3 stages, one after the other: each stage's reviewers get their card when it starts, with what the earlier stages decided. Approving needs a justification; nothing is applied automatically.",
			Details: []Fact{{Title: "Package", Value: "Falcon Team Member"}, {Title: "Recurrence", Value: "every quarter"},
				{Title: "Stage 1", Value: "each person's manager · 7 days · moves on: approved, not reviewed"},
				{Title: "Stage 2", Value: "Adele Vance · 5 days · all decisions move on"}, {Title: "Stage 3", Value: "each person, about their own access · 7 days"}},
			ConfirmLabel: "Create review", Token: "cfm-5a0e"})},
		{"admin-table-orgs", AdminTable(l, AdminTableView{Title: "Connected organizations", Subtitle: "2 organizations",
			Columns: []string{"Organization", "State", "Tenant / domain", "Sponsors"},
			Rows: []AdminRow{
				{Cells: []string{"Fabrikam", "configured", "22222222-2222-2222-2222-222222222222", "Patti Fernandez (internal), Fiona Partner (external)"},
					Actions: []RowAction{{Title: "Packages", Verb: VerbCommand, Data: map[string]string{KeyText: "/packages"}}}},
				{Cells: []string{"Litware", "proposed", "litware.example", "—"}},
			}, Footnote: "/connect {domain or tenant id} adds one; /disconnect {org} removes one."})},
		{"admin-table-pending", AdminTable(l, AdminTableView{Title: "Pending requests", Columns: []string{"Package", "Requester", "Stage", "Waiting"},
			Rows: []AdminRow{
				{Cells: []string{"Falcon Production Access", "Rita Requester", "2 of 2", "3 hours"}},
				{Cells: []string{"Falcon Partner Collaboration", "Gus Guest (Fabrikam)", "1 of 1", "1 day"}},
			}})},
		{"admin-table-empty", AdminTable(l, AdminTableView{Title: "Assignments expiring in 7 days", EmptyText: "Nothing expires in the next 7 days."})},
		{"package-details", PackageDetails(l, PackageDetailsView{ID: pkgProd, Name: "Falcon Production Access",
			Description: "Operator access to the Falcon production environment.", CatalogName: "Project Falcon",
			Resources: falconResources, TenantDomain: "contoso.onmicrosoft.com",
			Policies: []PolicyDetailView{{ID: polProd, Name: "Contoso employees", WhoCanRequest: "All members of Contoso",
				Expiry: "90 days", JustificationRequired: true, CustomSchedule: true,
				Stages: []StageView{
					{Approvers: []string{"Requestor's manager"}, Fallback: []string{"Patti Fernandez"}, Timeout: "14 days",
						Escalation: "after 4 hours to Patti Fernandez", JustificationRequired: true},
					{Approvers: []string{"Falcon Security Reviewers (group)"}, Timeout: "14 days", JustificationRequired: true},
				},
				Questions: []string{"Change ticket (INC + digits), required, ^INC\\d{4,}$", "Environment (prod-eu / prod-us), required"}}},
		})},
		{"notice-info", Notice(l, NoticeView{Kind: NoticeInfo, Title: "Request canceled", Text: "Your request for Falcon Team Member was canceled."})},
		{"notice-private-only", Notice(l, NoticeView{Kind: NoticeInfo, Title: "Let's take this to our 1:1 chat",
			Text:        "Access requests are personal, so I answer \"status\" in our private chat, not in this channel.",
			Link:        Link{Title: "Open my chat with AccessBot", URL: BotChatURL("28:b0770000-0000-4000-8000-000000000001")},
			Suggestions: []Suggestion{{Title: "help"}}})},
		{"notice-success", Notice(l, NoticeView{Kind: NoticeSuccess, Title: "Falcon Wiki Reader is yours",
			Text: "It needed no approval. You have access until 26/11/2027."})},
		{"notice-warning", Notice(l, NoticeView{Kind: NoticeWarning, Title: "You already asked for this",
			Text: "Your request for Falcon Team Member is still waiting for Aaron Approver.", Suggestions: []Suggestion{{Title: "Show status", Command: "status"}}})},
		{"notice-error", Notice(l, NoticeView{Kind: NoticeError, Title: "I don't know \"pakages\"",
			Text:        "Did you mean one of these?",
			Details:     []string{"Type help for everything I can do."},
			Suggestions: []Suggestion{{Title: "packages"}, {Title: "approvals"}, {Title: "Help", Command: "help"}}})},
		{"sign-in-consent", SignIn(l, SignInView{Reason: SignInConsent, OrgName: "Contoso",
			SignInURL:    "https://login.microsoftonline.com/" + contosoID + "/adminconsent?client_id=b0770000-0000-4000-8000-000000000001",
			MyAccessURL:  MyAccessURL("contoso.onmicrosoft.com", ""),
			RetryCommand: "request Falcon Team Member"})},
		{"sign-in-unavailable", SignIn(l, SignInView{Reason: SignInUnavailable, OrgName: "Contoso",
			MyAccessURL: MyAccessURL("contoso.onmicrosoft.com", pkgTeam), RetryCommand: "request Falcon Team Member"})},
	}
}

// long returns a realistic long sentence of about n characters.
func long(n int) string {
	const s = "Needed for the Falcon migration: we move the billing workload to the new cluster, run the cut-over rehearsal with the operations team and sign off the runbook with security. "
	return strings.Repeat(s, n/len(s)+1)[:n]
}

// largeCases build every card from a view far larger than real life: many items, long texts. Each must stay
// under MaxCardBytes.
// largeCases are the seed's large views and the package builder's (builder_fixtures_test.go).
func largeCases() []cardCase { return append(seedLargeCases(), builderLargeCases()...) }

func seedLargeCases() []cardCase {
	var pkgs []PackageView
	for i := range 40 {
		pkgs = append(pkgs, PackageView{ID: fmt.Sprintf("eeeeeeee-0000-0000-0000-%012d", i), Name: "Falcon " + long(150),
			Description: long(2000), CatalogName: "Project Falcon " + long(200), Summary: long(300)})
	}
	var qs []QuestionView
	for i := range 30 {
		q := QuestionView{ID: fmt.Sprintf("q%d", i), Kind: QuestionText, Text: long(400), Required: true, Regex: `^INC\d{4,}$`, Hint: long(300)}
		if i%2 == 1 {
			q.Kind = QuestionMultipleChoice
			for j := range 80 {
				q.Choices = append(q.Choices, Choice{Title: fmt.Sprintf("Option %d %s", j, long(60)), Value: fmt.Sprintf("opt-%d", j)})
			}
		}
		qs = append(qs, q)
	}
	var pols []PolicyOption
	for i := range 12 {
		pols = append(pols, PolicyOption{ID: fmt.Sprintf("pol-%d", i), Name: long(200), Description: long(800)})
	}
	errs := map[string]string{InputJustification: long(900)}
	vals := map[string]string{InputJustification: long(5000)}
	for _, q := range qs {
		errs[QuestionInputID(q.ID)] = long(500)
	}
	var events []EventView
	var names []string
	var ids []string
	var res []ResourceRoleView
	var answers []AnswerView
	var decisions []DecisionView
	for i := range 200 {
		events = append(events, EventView{At: t0.Add(time.Duration(i) * time.Minute), Text: long(400)})
		names = append(names, fmt.Sprintf("Reviewer %d %s", i, long(100)))
		ids = append(ids, fmt.Sprintf("29:user-%03d", i))
		res = append(res, ResourceRoleView{Resource: long(300), Kind: long(80), Role: long(100)})
		answers = append(answers, AnswerView{Question: long(300), Answer: long(1500)})
		decisions = append(decisions, DecisionView{Stage: i, Approver: long(200), Decision: DecisionDeny, At: t0, Justification: long(2000)})
	}
	var inbox []InboxItemView
	var reqs []RequestSummaryView
	var assigns []AssignmentView
	var rows []AdminRow
	var stages []StageView
	var pdetails []PolicyDetailView
	var granted []string
	var details []Fact
	var sugg []Suggestion
	var lines []string
	for i := range 100 {
		inbox = append(inbox, InboxItemView{RequestID: fmt.Sprintf("r%d", i), ApprovalID: fmt.Sprintf("r%d", i), StageID: "s1",
			PackageName: long(300), RequesterName: long(200), RequesterOrg: long(200), RequestedAt: t0, Deadline: t0.Add(time.Hour), StageIndex: 1, StageCount: 3})
		reqs = append(reqs, RequestSummaryView{RequestID: fmt.Sprintf("r%d", i), PackageName: long(300), State: StatePendingApproval, Detail: long(500), UpdatedAt: t0})
		assigns = append(assigns, AssignmentView{AssignmentID: fmt.Sprintf("as%d", i), PackageID: pkgTeam, PackageName: long(300),
			Resources: names[:50], End: t0.Add(time.Duration(i) * 24 * time.Hour), CanExtend: true, CanRemove: true})
		rows = append(rows, AdminRow{Cells: []string{long(300), long(300), long(300), long(300), long(300), long(300), long(300)},
			Actions: []RowAction{{Title: long(50), Verb: VerbCommand, Data: map[string]string{KeyText: long(100)}},
				{Title: "b", Verb: "x"}, {Title: "c", Verb: "y"}, {Title: "d", Verb: "z"}}})
		stages = append(stages, StageView{Approvers: names, Fallback: names, Escalation: long(400), Timeout: long(100), JustificationRequired: true})
		granted = append(granted, long(300))
		details = append(details, Fact{Title: long(100), Value: long(500)})
		sugg = append(sugg, Suggestion{Title: long(100), Command: long(300)})
		lines = append(lines, long(300))
	}
	for i := range 20 {
		pdetails = append(pdetails, PolicyDetailView{ID: fmt.Sprintf("p%d", i), Name: long(300), WhoCanRequest: long(500), Expiry: long(300),
			Stages: stages[:20], Questions: lines})
	}
	approval := ApprovalView{RequestID: reqID, ApprovalID: reqID, StageID: "s", Requester: PersonView{Name: long(300), Email: long(300),
		OrgName: long(300), Manager: long(300), External: true}, PackageName: long(400), PackageDescription: long(3000), CatalogName: long(300),
		Resources: res, Start: t0, End: t0.Add(time.Hour), Answers: answers, Justification: long(8000), RequestedAt: t0,
		StageIndex: 3, StageCount: 5, Deadline: t0.Add(time.Hour), Now: t0, JustificationRequired: true, Decisions: decisions,
		ApproverIDs: ids, Note: long(800), Error: long(800), JustificationValue: long(8000), Mode: ModeBrokered, OrgName: long(200)}

	return append(reviewLargeCases(), []cardCase{
		{"welcome", Welcome(en, WelcomeView{UserName: long(500), OrgName: long(500), IsGuest: true, HomeOrgName: long(500), IsAdmin: true})},
		{"help", Help(en, HelpView{IsAdmin: true})},
		{"package-list", PackageList(en, PackageListView{Query: long(2000), Page: 2, PageCount: 40, Total: 400, Packages: pkgs, OrgName: long(300)})},
		{"request-form", RequestForm(en, RequestFormView{PackageID: pkgProd, PackageName: long(500), PackageDescription: long(5000),
			CatalogName: long(300), FormID: "f", Policies: pols, PolicyID: "pol-3", ApprovalRequired: true, ApprovalSummary: long(800),
			ExpirySummary: long(300), Questions: qs, JustificationRequired: true, CustomSchedule: true, MinDate: t0, MaxDate: t0,
			Values: vals, Errors: errs, FormError: long(2000), Mode: ModeBrokered, OrgName: long(300)})},
		{"request-status", RequestStatus(en, RequestStatusView{RequestID: reqID, PackageName: long(500), State: StatePendingApproval,
			StageIndex: 2, StageCount: 3, Asked: names, Timeline: events, Cancelable: true, UpdatedAt: t0, Mode: ModeDelegated, OrgName: long(300)})},
		{"request-status-delivered", RequestStatus(en, RequestStatusView{RequestID: reqID, PackageName: long(500), State: StateDelivered,
			Granted: granted, Until: t0, Timeline: events, DecisionJustification: long(5000), DecidedBy: long(300), Mode: ModeBrokered, OrgName: long(300)})},
		{"request-status-denied", RequestStatus(en, RequestStatusView{RequestID: reqID, PackageName: long(500), State: StateDenied,
			DecidedBy: long(300), DecidedAt: t0, DecisionJustification: long(6000), Timeline: events, Reason: long(3000)})},
		{"approval", Approval(en, approval)},
		{"approval-decided", ApprovalDecided(en, ApprovalDecidedView{RequestID: reqID, ApprovalID: reqID, StageID: "s", PackageName: long(500),
			RequesterName: long(300), RequesterOrg: long(300), Outcome: DecisionDeny, DecidedBy: long(300), DecidedAt: t0,
			Justification: long(6000), StageIndex: 2, StageCount: 3, AlreadyDecided: true, NotApprover: true, Next: long(900),
			Decisions: decisions, Mode: ModeBrokered, OrgName: long(300)})},
		{"approval-inbox", ApprovalInbox(en, ApprovalInboxView{Items: inbox, Total: 250, Now: t0})},
		{"my-requests", MyRequests(en, MyRequestsView{Requests: reqs, Total: 300})},
		{"my-access", MyAccess(en, MyAccessView{Assignments: assigns, Total: 120, Now: t0, OrgName: long(300)})},
		{"guest-invited", GuestGuidance(en, GuestGuidanceView{Step: GuestInvited, GuestName: long(300), OrgName: long(300), TenantID: contosoID,
			HomeOrgName: long(300), PackageName: long(400), InviteRedeemURL: "https://invitations.microsoft.com/redeem/?t=" + strings.Repeat("x", 1500),
			TeamName: long(300), TeamURL: "https://teams.microsoft.com/l/team/" + strings.Repeat("y", 1500)})},
		{"guest-ending", GuestGuidance(en, GuestGuidanceView{Step: GuestEnding, OrgName: long(300), HomeOrgName: long(300), PackageName: long(400),
			AccessEnds: t0.Add(time.Hour), Now: t0})},
		{"link-out", LinkOut(en, LinkOutView{PackageID: pkgTeam, PackageName: long(500), Reason: long(5000), TenantDomain: "contoso.onmicrosoft.com", OrgName: long(300)})},
		{"admin-confirm", AdminConfirm(en, AdminConfirmView{Title: long(800), Summary: long(5000), Details: details, ConfirmLabel: long(100), Token: "t", Irreversible: true})},
		{"admin-table", AdminTable(en, AdminTableView{Title: long(500), Subtitle: long(500), Columns: []string{long(100), long(100), long(100), long(100), long(100), long(100), long(100)},
			Rows: rows, Total: 5000, Footnote: long(800), MoreCommand: long(300)})},
		{"package-details", PackageDetails(en, PackageDetailsView{ID: pkgProd, Name: long(500), Description: long(5000), CatalogName: long(300),
			Hidden: true, Resources: res, Policies: pdetails, TenantDomain: "contoso.onmicrosoft.com"})},
		{"notice", Notice(en, NoticeView{Kind: NoticeError, Title: long(800), Text: long(8000), Details: lines, Suggestions: sugg})},
		{"sign-in", SignIn(en, SignInView{Reason: SignInConsent, Detail: long(3000), SignInURL: "https://login.example/" + strings.Repeat("z", 1000),
			MyAccessURL: MyAccessURL("contoso.onmicrosoft.com", pkgTeam), RetryCommand: long(3000), OrgName: long(300)})},
	}...)
}
