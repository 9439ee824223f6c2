package entitlement

import (
	"context"
	"time"
)

// TokenSource supplies a bearer token for Microsoft Graph, fresh for each call (implementations cache).
// For Port.ForUser it yields the acting user's delegated token; errors should match ErrSignInRequired or
// ErrConsentRequired when the user must act.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenFunc adapts a function to TokenSource.
type TokenFunc func(ctx context.Context) (string, error)

// Token implements TokenSource.
func (f TokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// Port is everything the bot needs from entitlement management. App-only parts are embedded; delegated
// parts are obtained per acting user with ForUser.
type Port interface {
	Directory
	Admin
	// ForUser returns the delegated view acting as the user whose Graph token tok yields.
	ForUser(tok TokenSource) Delegated
}

// Delegated acts as one signed-in user.
type Delegated interface {
	Requester
	Approver
}

// Directory reads and changes directory objects with the application's identity.
type Directory interface {
	// User returns a user by object id or user principal name, with guest state.
	User(ctx context.Context, idOrUPN string) (User, error)
	// Manager returns the user's manager; ErrNotFound when they have none.
	Manager(ctx context.Context, userID string) (User, error)
	// GroupMembers returns the users that are direct members of a group.
	GroupMembers(ctx context.Context, groupID string) ([]User, error)
	// IsMemberOf reports whether the user is a (transitive) member of the group.
	IsMemberOf(ctx context.Context, userID, groupID string) (bool, error)
	// HasDirectoryRole reports whether the user holds at least one of the Microsoft Entra directory roles
	// roleTemplateIDs, assigned to the user directly and tenant-wide (directory scope "/"). A built-in
	// role is named by its template id (e.g. Identity Governance Administrator
	// 45d8d3c5-c802-45c6-b32a-1d70b5e1e86e); a custom role by its role definition id. Assignments scoped to
	// an administrative unit or an application, eligible (not activated) PIM assignments and roles held
	// only through a role-assignable group do not count. No ids: false without a call.
	HasDirectoryRole(ctx context.Context, userID string, roleTemplateIDs []string) (bool, error)
	// TenantByDomain finds a tenant by one of its domain names; ErrNotFound when no tenant has it.
	TenantByDomain(ctx context.Context, domain string) (TenantInfo, error)
	// Invite invites an external user as a guest.
	Invite(ctx context.Context, in NewInvitation) (Invitation, error)
	// InstallAppForUser installs the Teams app for the user so the bot can reach them proactively. teamsAppID
	// is the manifest id (or the app catalog id); an app published to the organization's catalog is resolved to
	// its catalog id. Already installed is not an error.
	InstallAppForUser(ctx context.Context, userID, teamsAppID string) error
}

// RequestFilter narrows Admin.Requests. Zero fields do not filter.
type RequestFilter struct {
	// States keeps requests in one of these states (e.g. StatePendingApproval).
	States    []RequestState
	PackageID string
	// RequestorID keeps requests whose requestor has this object id.
	RequestorID string
	// Max caps the number returned (0 = all pages).
	Max int
}

// AssignmentFilter narrows Admin.Assignments. Zero fields do not filter.
type AssignmentFilter struct {
	PackageID string
	TargetID  string
	// ExpiringBefore keeps assignments that end before this time (and have an end).
	ExpiringBefore time.Time
	// States keeps assignments in one of these states.
	States []AssignmentState
	// Max caps the number returned (0 = all pages).
	Max int
}

// AdminAddInput is an assignment made by an admin or by the brokered flow. Give TargetID (object id of a
// user in the resource tenant) or TargetEmail + ConnectedOrgID (a connected-organization user not yet in
// the resource tenant).
type AdminAddInput struct {
	PackageID      string
	PolicyID       string
	TargetID       string
	TargetEmail    string
	TargetName     string
	ConnectedOrgID string
	Justification  string
	Answers        []Answer
	// Schedule is optional; zero means the policy default.
	Schedule Schedule
}

// Admin manages entitlement objects with the application's identity.
type Admin interface {
	// Catalogs lists all catalogs.
	Catalogs(ctx context.Context) ([]Catalog, error)
	// CatalogPackages lists the packages of a catalog (hidden ones included).
	CatalogPackages(ctx context.Context, catalogID string) ([]Package, error)
	// Packages lists all packages (hidden ones included), with catalog names.
	Packages(ctx context.Context) ([]Package, error)
	// Package returns one package with its catalog and resource roles.
	Package(ctx context.Context, packageID string) (Package, error)
	// Policies lists the assignment policies of a package.
	Policies(ctx context.Context, packageID string) ([]Policy, error)
	// Policy returns one assignment policy.
	Policy(ctx context.Context, policyID string) (Policy, error)

	// ConnectedOrgs lists connected organizations.
	ConnectedOrgs(ctx context.Context) ([]ConnectedOrg, error)
	// ConnectedOrg returns one connected organization.
	ConnectedOrg(ctx context.Context, id string) (ConnectedOrg, error)
	// CreateConnectedOrg creates a connected organization for a tenant or a domain.
	CreateConnectedOrg(ctx context.Context, in NewConnectedOrg) (ConnectedOrg, error)
	// DeleteConnectedOrg deletes a connected organization.
	DeleteConnectedOrg(ctx context.Context, id string) error
	// Sponsors lists internal and external sponsors of a connected organization.
	Sponsors(ctx context.Context, orgID string) (Sponsors, error)
	// AddSponsor adds a user as a sponsor of a connected organization.
	AddSponsor(ctx context.Context, orgID string, kind SponsorKind, userID string) error
	// RemoveSponsor removes a sponsor of a connected organization.
	RemoveSponsor(ctx context.Context, orgID string, kind SponsorKind, userID string) error

	// AdminAdd assigns a package directly (no approval). See AdminAddInput.
	AdminAdd(ctx context.Context, in AdminAddInput) (Request, error)
	// AdminRemove removes an assignment.
	AdminRemove(ctx context.Context, assignmentID, justification string) (Request, error)
	// Requests lists assignment requests.
	Requests(ctx context.Context, f RequestFilter) ([]Request, error)
	// Request returns one assignment request.
	Request(ctx context.Context, requestID string) (Request, error)
	// Assignments lists assignments.
	Assignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error)
}

// PackageQuery narrows Requester.RequestablePackages.
type PackageQuery struct {
	// Search keeps packages whose name, description or catalog name contains it (case-insensitive).
	Search string
	// Max caps the number returned (0 = all pages).
	Max int
}

// NewRequest is a request filed by the signed-in user for themselves (userAdd) or to extend (userUpdate).
type NewRequest struct {
	PackageID string
	// PolicyID is the policy whose Requirements the user answered.
	PolicyID      string
	Justification string
	Answers       []Answer
	// Schedule is optional; give it only when the policy allows a custom schedule.
	Schedule Schedule
	// Extend files a userUpdate for an existing assignment (AssignmentID) instead of a userAdd.
	Extend       bool
	AssignmentID string
}

// Requester acts as the signed-in requestor (delegated token).
type Requester interface {
	// RequestablePackages lists the packages the user may request (following every page).
	RequestablePackages(ctx context.Context, q PackageQuery) ([]Package, error)
	// Requirements returns, per policy the user may request the package through, what they must supply.
	// ErrNotEligible when there is none.
	Requirements(ctx context.Context, packageID string) ([]Requirements, error)
	// SubmitRequest files the request. It validates the input against the policy requirements first
	// (InvalidInputError naming the field), refuses a duplicate (ErrAlreadyRequested) and never blindly
	// repeats a POST that failed in transit: it looks for the request it may have created first.
	SubmitRequest(ctx context.Context, in NewRequest) (Request, error)
	// MyRequests lists the user's requests (newest first).
	MyRequests(ctx context.Context) ([]Request, error)
	// MyAssignments lists the user's assignments.
	MyAssignments(ctx context.Context) ([]Assignment, error)
	// CancelRequest cancels one of the user's open requests.
	CancelRequest(ctx context.Context, requestID string) error
}

// Approver acts as the signed-in approver (delegated token).
type Approver interface {
	// PendingApprovals lists the requests waiting for the user's decision.
	PendingApprovals(ctx context.Context) ([]Request, error)
	// Approval returns the approval of a request (id = request id) with its stages as the user sees them.
	Approval(ctx context.Context, approvalID string) (Approval, error)
	// DecideStage records the user's decision on a stage. *AlreadyDecidedError when another approver
	// decided first; ErrNotApprover when the stage is not assigned to the user; InvalidInputError when the
	// policy requires a justification and none is given.
	DecideStage(ctx context.Context, approvalID, stageID string, d Decision) error
}
