package entitlement

import (
	"time"
)

// SubjectKind is the kind of principal a Subject stands for.
type SubjectKind string

// Subject kinds (Graph accessPackageSubjectType).
const (
	SubjectUser             SubjectKind = "user"
	SubjectServicePrincipal SubjectKind = "servicePrincipal"
	SubjectUnknown          SubjectKind = "notSpecified"
)

// Subject is a person (or service principal) that requests, holds or approves access.
type Subject struct {
	// ID is the directory object id in the resource tenant; empty for a connected-organization user who
	// has no account there yet.
	ID string
	// Name is the display name.
	Name string
	// Email is the mail address, when known.
	Email string
	// PrincipalName is the user principal name, when known.
	PrincipalName string
	// TenantID is the home tenant of the subject, when known (for connected-organization users).
	TenantID string
	// ConnectedOrgID is the connected organization the subject belongs to, when there is one.
	ConnectedOrgID string
	// Kind is user or servicePrincipal.
	Kind SubjectKind
}

// Catalog is a container of resources and access packages.
type Catalog struct {
	ID                  string
	Name                string
	Description         string
	State               string // published | unpublished
	Type                string // userManaged | serviceDefault | serviceManaged
	IsExternallyVisible bool
	CreatedAt           time.Time
	ModifiedAt          time.Time
}

// ResourceRole is one role of one catalog resource granted by an access package (for example Member of a
// Team, Visitor of a SharePoint site).
type ResourceRole struct {
	// ResourceID is the catalog resource id.
	ResourceID string
	// ResourceName is the resource display name.
	ResourceName string
	// ResourceType is Graph's resource type, for example "Security Group", "SharePoint Online Site",
	// "Application".
	ResourceType string
	// OriginSystem is AadGroup, SharePointOnline or AadApplication.
	OriginSystem string
	// OriginID is the id of the resource in its origin system (group id, site URL, app id).
	OriginID string
	// RoleName is the role display name.
	RoleName string
	// RoleOriginID is the id of the role in its origin system.
	RoleOriginID string
	// RoleScopeID is the access package's resourceRoleScope id (what Builder.RemoveResourceRole takes); set
	// when the package was read with its role scopes.
	RoleScopeID string
}

// Package is an access package.
type Package struct {
	ID          string
	Name        string
	Description string
	CatalogID   string
	CatalogName string
	IsHidden    bool
	CreatedAt   time.Time
	ModifiedAt  time.Time
	// Resources is filled when the resource role scopes were read (Admin.Package); it may be empty in lists.
	Resources []ResourceRole
}

// TargetScope says who may be assigned through a policy (Graph allowedTargetScope).
type TargetScope string

// Target scopes.
const (
	ScopeNotSpecified                            TargetScope = "notSpecified"
	ScopeSpecificDirectoryUsers                  TargetScope = "specificDirectoryUsers"
	ScopeSpecificConnectedOrganizationUsers      TargetScope = "specificConnectedOrganizationUsers"
	ScopeSpecificDirectoryServicePrincipals      TargetScope = "specificDirectoryServicePrincipals"
	ScopeAllMemberUsers                          TargetScope = "allMemberUsers"
	ScopeAllDirectoryUsers                       TargetScope = "allDirectoryUsers"
	ScopeAllDirectoryServicePrincipals           TargetScope = "allDirectoryServicePrincipals"
	ScopeAllConfiguredConnectedOrganizationUsers TargetScope = "allConfiguredConnectedOrganizationUsers"
	ScopeAllExternalUsers                        TargetScope = "allExternalUsers"
)

// External reports whether the scope admits users from outside the resource tenant.
func (s TargetScope) External() bool {
	switch s {
	case ScopeSpecificConnectedOrganizationUsers, ScopeAllConfiguredConnectedOrganizationUsers, ScopeAllExternalUsers:
		return true
	}
	return false
}

// ExpirationType says how an assignment ends.
type ExpirationType string

// Expiration types.
const (
	ExpireNotSpecified  ExpirationType = "notSpecified"
	ExpireNever         ExpirationType = "noExpiration"
	ExpireAfterDateTime ExpirationType = "afterDateTime"
	ExpireAfterDuration ExpirationType = "afterDuration"
)

// Expiration is when an assignment ends.
type Expiration struct {
	Type ExpirationType
	// EndDateTime is set for afterDateTime.
	EndDateTime time.Time
	// Duration is an ISO-8601 duration as Graph wrote it (for example "P180D", "PT8H"); set for afterDuration.
	Duration string
}

// SubjectSetKind is the kind of rule that selects approvers, sponsors or allowed targets.
type SubjectSetKind string

// Subject set kinds (Graph subjectSet subtypes).
const (
	SetSingleUser                   SubjectSetKind = "singleUser"
	SetGroupMembers                 SubjectSetKind = "groupMembers"
	SetRequestorManager             SubjectSetKind = "requestorManager"
	SetInternalSponsors             SubjectSetKind = "internalSponsors"
	SetExternalSponsors             SubjectSetKind = "externalSponsors"
	SetConnectedOrganizationMembers SubjectSetKind = "connectedOrganizationMembers"
	SetTargetUserSponsors           SubjectSetKind = "targetUserSponsors"
	SetAttributeRuleMembers         SubjectSetKind = "attributeRuleMembers"
	SetUnknown                      SubjectSetKind = "unknown"
)

// SubjectSet is one rule selecting people: an approver rule of a stage, or an allowed-target rule of a
// policy. Which fields are set depends on Kind.
type SubjectSet struct {
	Kind SubjectSetKind
	// UserID is set for singleUser.
	UserID string
	// GroupID is set for groupMembers.
	GroupID string
	// ConnectedOrgID is set for connectedOrganizationMembers.
	ConnectedOrgID string
	// Description is Graph's description of the user or group, when present.
	Description string
	// ManagerLevel is set for requestorManager (1 = direct manager).
	ManagerLevel int
	// IsBackup marks approvers who are only notified, not asked (singleUser, groupMembers).
	IsBackup bool
}

// Stage is one approval stage of a policy.
type Stage struct {
	// DurationBeforeAutomaticDenial is an ISO-8601 duration ("P14D").
	DurationBeforeAutomaticDenial string
	ApproverJustificationRequired bool
	EscalationEnabled             bool
	// DurationBeforeEscalation is an ISO-8601 duration ("PT4H"), set when EscalationEnabled.
	DurationBeforeEscalation    string
	PrimaryApprovers            []SubjectSet
	FallbackPrimaryApprovers    []SubjectSet
	EscalationApprovers         []SubjectSet
	FallbackEscalationApprovers []SubjectSet
}

// QuestionKind is text or multiple choice.
type QuestionKind string

// Question kinds.
const (
	QuestionText   QuestionKind = "text"
	QuestionChoice QuestionKind = "choice"
)

// Choice is one option of a multiple-choice question.
type Choice struct {
	// Value is what is sent back as the answer (Graph actualValue).
	Value string
	// Text is what the requestor sees, in the policy's default language.
	Text string
	// Localized is Text with its translations; use TextFor(locale) to show it.
	Localized LocalizedText
}

// Question is a question a requestor answers when requesting a package.
type Question struct {
	ID string
	// Text is the question in the policy's default language.
	Text string
	// Localized is Text with its translations; use TextFor(locale) to show it.
	Localized LocalizedText
	Required  bool
	Kind      QuestionKind
	Sequence  int
	// Regex is the pattern a text answer must match (text questions), empty when none.
	Regex string
	// MultiLine marks a text question that takes a long answer.
	MultiLine bool
	// Choices of a multiple-choice question.
	Choices []Choice
	// MultipleSelection allows several choices.
	MultipleSelection bool
}

// Policy is an access package assignment policy.
type Policy struct {
	ID          string
	PackageID   string
	Name        string
	Description string
	Scope       TargetScope
	// SpecificTargets lists who may request when Scope is specific… (for example the connected
	// organizations of specificConnectedOrganizationUsers).
	SpecificTargets []SubjectSet
	Expiration      Expiration
	// SelfAddAllowed: requestors may ask for an assignment themselves.
	SelfAddAllowed bool
	// SelfRemoveAllowed: holders may remove their own assignment.
	SelfRemoveAllowed bool
	// SelfUpdateAllowed: holders may ask to extend.
	SelfUpdateAllowed              bool
	CustomScheduleAllowed          bool
	RequestorJustificationRequired bool
	ApprovalRequired               bool
	ApprovalRequiredForUpdate      bool
	Stages                         []Stage
	Questions                      []Question
	CreatedAt                      time.Time
	ModifiedAt                     time.Time
}

// Requirements is what a signed-in requestor must supply for one policy of a package
// (Graph accessPackageAssignmentRequestRequirements).
type Requirements struct {
	PolicyID                       string
	PolicyName                     string
	PolicyDescription              string
	RequestorJustificationRequired bool
	ApprovalRequired               bool
	ApprovalRequiredForUpdate      bool
	CustomScheduleAllowed          bool
	Questions                      []Question
	// Schedule is the policy's default schedule (its expiration), when Graph returns one.
	Schedule Schedule
}

// Schedule is when an assignment starts and ends.
type Schedule struct {
	// Start is the start; zero means now.
	Start time.Time
	// Expiration says when it ends.
	Expiration Expiration
}

// Answer is a requestor's answer to a question.
type Answer struct {
	QuestionID string
	// QuestionText is the question as shown, when known.
	QuestionText string
	// Value is the answer (for choices: the choice Value).
	Value string
	// DisplayValue is the answer as shown to approvers, when known.
	DisplayValue string
}
