package tenantsim

import (
	"strings"
	"time"
)

// Fixed seed identifiers (docs/ARCHITECTURE.md).
const (
	// ContosoTenantID is tenant A, the resource tenant.
	ContosoTenantID = "11111111-1111-1111-1111-111111111111"
	// FabrikamTenantID is tenant B, configured as a connected organization of Contoso.
	FabrikamTenantID = "22222222-2222-2222-2222-222222222222"
	// NorthwindTenantID is tenant C, not connected.
	NorthwindTenantID = "33333333-3333-3333-3333-333333333333"
	// BotAppID is the bot app registration's client id (registered in Contoso).
	BotAppID = "b0770000-0000-4000-8000-000000000001"
	// BotTeamsAppManifestID is the id in AccessBot's Teams app manifest (what `accessbot manifest` derives from
	// BotAppID): the teamsApp's externalId in Contoso's app catalog.
	BotTeamsAppManifestID = "b24d5ddd-b906-5249-88e0-84db29a16996"
	// BotTeamsAppCatalogID is the id Teams generated when AccessBot was published to Contoso's app catalog; Graph
	// installs the app by this id (appCatalogs/teamsApps/{id}), not by the manifest id.
	BotTeamsAppCatalogID = "7ea70000-0000-4000-8000-000000000001"

	// AdminsGroupID is the "AccessBot Admins" group.
	AdminsGroupID = "dddddddd-0000-0000-0000-0000000000a1"
	// IdentityGovernanceAdminRoleID is the template id of the built-in Microsoft Entra role "Identity
	// Governance Administrator" (Microsoft Entra built-in roles reference). Adele holds it tenant-wide.
	IdentityGovernanceAdminRoleID = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
	// GovernanceAdminsGroupID is "Identity Governance Admins", a role-assignable group that holds the Identity
	// Governance Administrator role (Lynne is its member: she holds the role through the group).
	GovernanceAdminsGroupID = "dddddddd-0000-0000-0000-0000000000a3"
	// ReviewersGroupID is the "Falcon Security Reviewers" group.
	ReviewersGroupID = "dddddddd-0000-0000-0000-0000000000a2"
	// FalconTeamGroupID is the "Falcon Team" Team (a catalog resource).
	FalconTeamGroupID = "dddddddd-0000-0000-0000-000000000001"
	// FabrikamConnectedOrgID is the connected organization for Fabrikam.
	FabrikamConnectedOrgID = "99999999-0000-0000-0000-000000000001"
	// FalconCatalogID is the "Project Falcon" catalog.
	FalconCatalogID = "eeeeeeee-0000-0000-0000-0000000000c1"

	// PkgTeamMember is "Falcon Team Member" (members, manager approval, P180D).
	PkgTeamMember = "eeeeeeee-0000-0000-0000-000000000001"
	// PkgProduction is "Falcon Production Access" (two stages, questions, P90D).
	PkgProduction = "eeeeeeee-0000-0000-0000-000000000002"
	// PkgPartner is "Falcon Partner Collaboration" (Fabrikam users, sponsors, P30D).
	PkgPartner = "eeeeeeee-0000-0000-0000-000000000003"
	// PkgWikiReader is "Falcon Wiki Reader" (members, no approval, P365D).
	PkgWikiReader = "eeeeeeee-0000-0000-0000-000000000004"
	// PkgBreakGlass is the hidden "Falcon Break-glass" package (Patti approves, PT8H).
	PkgBreakGlass = "eeeeeeee-0000-0000-0000-000000000005"

	// QuestionTicketID is PolicyProduction's required text question "Change ticket (INC + digits)".
	QuestionTicketID = "ffffffff-0000-0000-0000-000000000201"
	// QuestionEnvironmentID is PolicyProduction's required multiple-choice question "Environment".
	QuestionEnvironmentID = "ffffffff-0000-0000-0000-000000000202"

	policyPrefix    = "ffffffff-0000-0000-0000-00000000000"
	resTeamID       = "eeeeeeee-0000-0000-0000-0000000000d1"
	resSiteID       = "eeeeeeee-0000-0000-0000-0000000000d2"
	resAppID        = "eeeeeeee-0000-0000-0000-0000000000d3"
	falconPortalApp = "dddddddd-0000-0000-0000-0000000000b1"
	falconSiteURL   = "https://contoso.sharepoint.com/sites/falcon"
)

// Policy ids (policy N belongs to package N).
const (
	// PolicyTeamMember is the policy of PkgTeamMember.
	PolicyTeamMember = policyPrefix + "1"
	// PolicyProduction is the policy of PkgProduction.
	PolicyProduction = policyPrefix + "2"
	// PolicyPartner is the policy of PkgPartner.
	PolicyPartner = policyPrefix + "3"
	// PolicyWikiReader is the policy of PkgWikiReader.
	PolicyWikiReader = policyPrefix + "4"
	// PolicyBreakGlass is the policy of PkgBreakGlass.
	PolicyBreakGlass = policyPrefix + "5"
)

// Seeded user ids.
const (
	// UserRita is Rita Requester, requester persona (manager Aaron).
	UserRita = "aaaaaaaa-0000-0000-0000-000000000001"
	// UserAaron is Aaron Approver, manager of Rita and Megan (approver persona).
	UserAaron = "aaaaaaaa-0000-0000-0000-000000000002"
	// UserAdele is Adele Vance, AccessBot admin (admin persona).
	UserAdele = "aaaaaaaa-0000-0000-0000-000000000003"
	// UserIsaiah is Isaiah Langer, Falcon Security Reviewer.
	UserIsaiah = "aaaaaaaa-0000-0000-0000-000000000004"
	// UserPatti is Patti Fernandez, director, internal sponsor and fallback approver.
	UserPatti = "aaaaaaaa-0000-0000-0000-000000000005"
	// UserLynne is Lynne Robbins, Falcon Security Reviewer.
	UserLynne = "aaaaaaaa-0000-0000-0000-000000000006"
	// UserMegan is Megan Bowen, employee (manager Aaron).
	UserMegan = "aaaaaaaa-0000-0000-0000-000000000007"
	// UserNestor is Nestor Wilke, employee without a manager.
	UserNestor = "aaaaaaaa-0000-0000-0000-000000000008"
	// UserGus is Gus Guest, Fabrikam partner user (guest persona).
	UserGus = "bbbbbbbb-0000-0000-0000-000000000001"
	// UserFiona is Fiona Partner, Fabrikam external sponsor.
	UserFiona = "bbbbbbbb-0000-0000-0000-000000000002"
	// UserFrank is Frank Miller, another Fabrikam user.
	UserFrank = "bbbbbbbb-0000-0000-0000-000000000003"
	// UserNina is Nina North of the unconnected Northwind tenant.
	UserNina = "cccccccc-0000-0000-0000-000000000001"
)

func seed(w *world, now time.Time) {
	created := now.Add(-30 * 24 * time.Hour).Truncate(time.Second)
	w.Tenants = []*tenant{
		{ID: ContosoTenantID, Name: "Contoso", Domains: []string{"contoso.onmicrosoft.com", "contoso.example"}},
		{ID: FabrikamTenantID, Name: "Fabrikam", Domains: []string{"fabrikam.onmicrosoft.com", "fabrikam.example"}},
		{ID: NorthwindTenantID, Name: "Northwind", Domains: []string{"northwind.onmicrosoft.com", "northwind.example"}},
	}
	addUser := func(id, tid, given, surname, domain, job, manager string) {
		first := strings.ToLower(given)
		upn := first + "@" + domain
		w.Users[id] = &user{Ord: w.nextOrd(), ID: id, TenantID: tid, DisplayName: given + " " + surname,
			GivenName: given, Surname: surname, UPN: upn, Mail: upn, JobTitle: job, UserType: "Member",
			AccountEnabled: true, ManagerID: manager, TeamsID: "29:" + first, Created: created}
	}
	addUser(UserRita, ContosoTenantID, "Rita", "Requester", "contoso.example", "Engineer", UserAaron)
	addUser(UserAaron, ContosoTenantID, "Aaron", "Approver", "contoso.example", "Engineering Manager", UserPatti)
	addUser(UserAdele, ContosoTenantID, "Adele", "Vance", "contoso.example", "IT Administrator", UserPatti)
	addUser(UserIsaiah, ContosoTenantID, "Isaiah", "Langer", "contoso.example", "Security Reviewer", UserPatti)
	addUser(UserPatti, ContosoTenantID, "Patti", "Fernandez", "contoso.example", "Director", "")
	addUser(UserLynne, ContosoTenantID, "Lynne", "Robbins", "contoso.example", "Security Reviewer", UserPatti)
	addUser(UserMegan, ContosoTenantID, "Megan", "Bowen", "contoso.example", "Engineer", UserAaron)
	addUser(UserNestor, ContosoTenantID, "Nestor", "Wilke", "contoso.example", "Engineer", "")
	addUser(UserGus, FabrikamTenantID, "Gus", "Guest", "fabrikam.example", "Partner Engineer", "")
	addUser(UserFiona, FabrikamTenantID, "Fiona", "Partner", "fabrikam.example", "Partner Manager", "")
	addUser(UserFrank, FabrikamTenantID, "Frank", "Miller", "fabrikam.example", "Partner Engineer", "")
	addUser(UserNina, NorthwindTenantID, "Nina", "North", "northwind.example", "Consultant", "")

	w.Groups[AdminsGroupID] = &group{Ord: w.nextOrd(), ID: AdminsGroupID, TenantID: ContosoTenantID,
		DisplayName: "AccessBot Admins", Description: "Administrators of AccessBot", MailNick: "accessbotadmins",
		Members: []string{UserAdele}}
	w.Groups[ReviewersGroupID] = &group{Ord: w.nextOrd(), ID: ReviewersGroupID, TenantID: ContosoTenantID,
		DisplayName: "Falcon Security Reviewers", Description: "Second-stage reviewers for Project Falcon", MailNick: "falconreviewers",
		Members: []string{UserIsaiah, UserLynne}}
	w.Groups[FalconTeamGroupID] = &group{Ord: w.nextOrd(), ID: FalconTeamGroupID, TenantID: ContosoTenantID,
		DisplayName: "Falcon Team", Description: "Project Falcon team", MailNick: "falconteam", IsTeam: true,
		Members: []string{UserPatti}}

	w.ConnectedOrgs[FabrikamConnectedOrgID] = &connectedOrg{Ord: w.nextOrd(), ID: FabrikamConnectedOrgID,
		DisplayName: "Fabrikam", Description: "Fabrikam, partner on Project Falcon", State: "configured",
		SourceType: "azureActiveDirectoryTenant", SourceTenantID: FabrikamTenantID, SourceName: "Fabrikam",
		InternalSponsors: []string{UserPatti}, ExternalSponsors: []string{UserFiona}, Created: created, Modified: created}

	seedTeamsApps(w)
	seedRoleAssignments(w)
	seedPIM(w)
	seedSitesAndApps(w)
	seedEMRoleAssignments(w)

	w.Catalogs[FalconCatalogID] = &catalog{Ord: w.nextOrd(), ID: FalconCatalogID, DisplayName: "Project Falcon",
		Description: "Everything people need to work on Project Falcon", CatalogType: "userManaged", State: "published",
		IsExternallyVisible: true, Created: created}

	w.Resources[resTeamID] = &resource{Ord: w.nextOrd(), ID: resTeamID, CatalogID: FalconCatalogID,
		DisplayName: "Falcon Team", Description: "Project Falcon team", OriginID: FalconTeamGroupID, OriginSystem: "AadGroup",
		ScopeID: "eeeeeeee-0000-0000-0000-0000000001e1",
		Roles:   []resourceRole{{ID: "eeeeeeee-0000-0000-0000-0000000001d1", DisplayName: "Member", Description: "Member of the team", OriginID: "Member_" + FalconTeamGroupID}},
		Created: created}
	w.Resources[resSiteID] = &resource{Ord: w.nextOrd(), ID: resSiteID, CatalogID: FalconCatalogID,
		DisplayName: "Falcon", Description: "Project Falcon SharePoint site", OriginID: falconSiteURL, OriginSystem: "SharePointOnline",
		ScopeID: "eeeeeeee-0000-0000-0000-0000000001e2",
		Roles: []resourceRole{
			{ID: "eeeeeeee-0000-0000-0000-0000000001d2", DisplayName: "Falcon Visitors", Description: "Visitor", OriginID: "4"},
			{ID: "eeeeeeee-0000-0000-0000-0000000001d3", DisplayName: "Falcon Members", Description: "Member", OriginID: "5"},
		},
		Created: created}
	w.Resources[resAppID] = &resource{Ord: w.nextOrd(), ID: resAppID, CatalogID: FalconCatalogID,
		DisplayName: "Falcon Portal", Description: "Project Falcon web portal", OriginID: falconPortalApp, OriginSystem: "AadApplication",
		ScopeID: "eeeeeeee-0000-0000-0000-0000000001e3",
		Roles:   []resourceRole{{ID: "eeeeeeee-0000-0000-0000-0000000001d4", DisplayName: "User", Description: "Portal user", OriginID: "dddddddd-0000-0000-0000-0000000000c1"}},
		Created: created}

	teamMember := roleScope{ID: "eeeeeeee-0000-0000-0000-0000000002a1", ResourceID: resTeamID, RoleID: "eeeeeeee-0000-0000-0000-0000000001d1"}
	siteVisitor := roleScope{ID: "eeeeeeee-0000-0000-0000-0000000002a2", ResourceID: resSiteID, RoleID: "eeeeeeee-0000-0000-0000-0000000001d2"}
	siteMember := roleScope{ID: "eeeeeeee-0000-0000-0000-0000000002a3", ResourceID: resSiteID, RoleID: "eeeeeeee-0000-0000-0000-0000000001d3"}
	appUser := roleScope{ID: "eeeeeeee-0000-0000-0000-0000000002a4", ResourceID: resAppID, RoleID: "eeeeeeee-0000-0000-0000-0000000001d4"}
	addPkg := func(id, name, desc string, hidden bool, scopes []roleScope, incompatible ...string) {
		w.Packages[id] = &accessPkg{Ord: w.nextOrd(), ID: id, CatalogID: FalconCatalogID, DisplayName: name,
			Description: desc, IsHidden: hidden, RoleScopes: scopes, Incompatible: incompatible, Created: created, Modified: created}
	}
	addPkg(PkgTeamMember, "Falcon Team Member", "Membership of the Falcon team and its SharePoint site.", false, []roleScope{teamMember, siteMember})
	addPkg(PkgProduction, "Falcon Production Access", "Access to the Falcon Portal in production. Needs a change ticket.", false, []roleScope{appUser})
	addPkg(PkgPartner, "Falcon Partner Collaboration", "For Fabrikam partners: the Falcon team and read access to the site.", false, []roleScope{teamMember, siteVisitor}, PkgProduction)
	addPkg(PkgWikiReader, "Falcon Wiki Reader", "Read access to the Falcon SharePoint site.", false, []roleScope{siteVisitor})
	addPkg(PkgBreakGlass, "Falcon Break-glass", "Emergency production access for eight hours.", true, []roleScope{appUser, teamMember}, PkgProduction)

	manager := []subjectSet{{Type: "requestorManager", ManagerLevel: 1}}
	patti := []subjectSet{{Type: "singleUser", UserID: UserPatti, Description: "Patti Fernandez"}}
	addPolicy := func(n, name, desc, scope string, exp expirationPattern, approval, justification, custom bool, stages []stageDef, qs []question, targets []subjectSet) {
		id := policyPrefix + n
		pkgID := "eeeeeeee-0000-0000-0000-00000000000" + n
		w.Policies[id] = &policy{Ord: w.nextOrd(), ID: id, PackageID: pkgID, DisplayName: name, Description: desc,
			AllowedTargetScope: scope, SpecificTargets: targets, Expiration: exp, SelfAdd: true, SelfRemove: true,
			AllowCustomSchedule: custom, ApprovalRequired: approval, JustificationRequired: justification,
			Stages: stages, Questions: qs, Created: created, Modified: created}
	}
	addPolicy("1", "Employees with manager approval", "Members of Contoso; their manager approves.", "allMemberUsers",
		expirationPattern{Type: "afterDuration", Duration: "P180D"}, true, false, false,
		[]stageDef{{DurationBeforeAutomaticDenial: "P14D", Primary: manager, FallbackPrimary: patti}}, nil, nil)
	addPolicy("2", "Production access with security review", "Manager, then the Falcon Security Reviewers.", "allMemberUsers",
		expirationPattern{Type: "afterDuration", Duration: "P90D"}, true, true, true,
		[]stageDef{
			{DurationBeforeAutomaticDenial: "P7D", IsApproverJustificationRequired: true, IsEscalationEnabled: true, DurationBeforeEscalation: "PT4H",
				Primary: manager, FallbackPrimary: patti, Escalation: patti},
			{DurationBeforeAutomaticDenial: "P7D", IsApproverJustificationRequired: true, IsEscalationEnabled: true, DurationBeforeEscalation: "PT4H",
				Primary:    []subjectSet{{Type: "groupMembers", GroupID: ReviewersGroupID, Description: "Falcon Security Reviewers"}},
				Escalation: patti},
		},
		[]question{
			{ID: QuestionTicketID, Kind: "text", Text: "Change ticket (INC + digits)", IsRequired: true, Sequence: 1, Regex: `^INC\d{4,}$`, IsSingleLine: true},
			{ID: QuestionEnvironmentID, Kind: "multipleChoice", Text: "Environment", IsRequired: true, Sequence: 2,
				Choices: []choice{{ActualValue: "prod-eu", Text: "Production EU"}, {ActualValue: "prod-us", Text: "Production US"}}},
		}, nil)
	addPolicy("3", "Fabrikam partners", "Users of the Fabrikam connected organization; sponsors approve.", "specificConnectedOrganizationUsers",
		expirationPattern{Type: "afterDuration", Duration: "P30D"}, true, false, false,
		[]stageDef{{DurationBeforeAutomaticDenial: "P14D",
			Primary:         []subjectSet{{Type: "internalSponsors"}, {Type: "externalSponsors"}},
			FallbackPrimary: patti}}, nil,
		[]subjectSet{{Type: "connectedOrganizationMembers", ConnectedOrg: FabrikamConnectedOrgID, Description: "Fabrikam"}})
	addPolicy("4", "Employees, no approval", "Any member of Contoso, delivered at once.", "allMemberUsers",
		expirationPattern{Type: "afterDuration", Duration: "P365D"}, false, false, false, nil, nil, nil)
	addPolicy("5", "Break-glass approved by the director", "Patti approves; access ends after eight hours.", "allMemberUsers",
		expirationPattern{Type: "afterDuration", Duration: "PT8H"}, true, true, false,
		[]stageDef{{DurationBeforeAutomaticDenial: "PT2H", Primary: patti}}, nil, nil)

	w.Settings = emSettings{DurationUntilExternalUserDeletedAfterBlocked: "P30D", ExternalUserLifecycleAction: "blockSignInAndDelete"}
}

// seedTeamsApps publishes AccessBot to Contoso's Teams app catalog (if it is not there yet, e.g. in a state
// saved before the catalog existed): catalog id BotTeamsAppCatalogID, manifest id BotTeamsAppManifestID.
func seedTeamsApps(w *world) {
	if w.TeamsApps == nil {
		w.TeamsApps = map[string]*teamsApp{}
	}
	if w.TeamsApps[BotTeamsAppCatalogID] != nil {
		return
	}
	w.TeamsApps[BotTeamsAppCatalogID] = &teamsApp{Ord: w.nextOrd(), ID: BotTeamsAppCatalogID,
		ExternalID: BotTeamsAppManifestID, DisplayName: "AccessBot", DistributionMethod: "organization"}
}

// seedRoleAssignments gives Adele the Identity Governance Administrator role, assigned directly and
// tenant-wide, unless the world already has role assignments (a state saved before they existed has none).
func seedRoleAssignments(w *world) {
	if w.RoleAssignments == nil {
		w.RoleAssignments = map[string]*roleAssignment{}
	}
	if len(w.RoleAssignments) > 0 {
		return
	}
	a := newTenantWideRole(w, UserAdele, IdentityGovernanceAdminRoleID)
	w.RoleAssignments[a.ID] = a
}

// newTenantWideRole is a Contoso assignment of roleDefinitionID to principalID over the whole directory, with
// the id Entra would give it.
func newTenantWideRole(w *world, principalID, roleDefinitionID string) *roleAssignment {
	return &roleAssignment{Ord: w.nextOrd(), ID: roleAssignmentID(roleDefinitionID, principalID), TenantID: ContosoTenantID,
		PrincipalID: principalID, RoleDefinitionID: roleDefinitionID, DirectoryScopeID: "/"}
}
