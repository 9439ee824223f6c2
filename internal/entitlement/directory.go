package entitlement

import (
	"time"
)

// Connected organizations, their sponsors, and the directory: users, tenants, invitations.

// ConnectedOrgState is configured or proposed.
type ConnectedOrgState string

// Connected organization states.
const (
	OrgConfigured ConnectedOrgState = "configured"
	OrgProposed   ConnectedOrgState = "proposed"
)

// IdentitySourceKind is the kind of identity source of a connected organization.
type IdentitySourceKind string

// Identity source kinds.
const (
	SourceTenant     IdentitySourceKind = "azureActiveDirectoryTenant"
	SourceDomain     IdentitySourceKind = "domainIdentitySource"
	SourceFederation IdentitySourceKind = "externalDomainFederation"
	SourceOther      IdentitySourceKind = "other"
)

// IdentitySource is where a connected organization's users come from.
type IdentitySource struct {
	Kind        IdentitySourceKind
	TenantID    string // azureActiveDirectoryTenant
	DomainName  string // domainIdentitySource, externalDomainFederation
	DisplayName string
	IssuerURI   string // externalDomainFederation
}

// ConnectedOrg is a connected organization.
type ConnectedOrg struct {
	ID          string
	Name        string
	Description string
	State       ConnectedOrgState
	Sources     []IdentitySource
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

// TenantID returns the Entra tenant id of the organization's first tenant identity source, if any.
func (o ConnectedOrg) TenantID() string {
	for _, s := range o.Sources {
		if s.Kind == SourceTenant && s.TenantID != "" {
			return s.TenantID
		}
	}
	return ""
}

// NewConnectedOrg is the input of Admin.CreateConnectedOrg. Give TenantID (an Entra tenant) or Domain
// (a domain of a tenant or of a federated/other organization).
type NewConnectedOrg struct {
	Name        string
	Description string
	State       ConnectedOrgState // default configured
	TenantID    string
	Domain      string
	// TenantName is the display name of the tenant identity source; defaults to Name.
	TenantName string
}

// SponsorKind says whether a sponsor is internal (in the resource tenant) or external.
type SponsorKind string

// Sponsor kinds.
const (
	SponsorInternal SponsorKind = "internal"
	SponsorExternal SponsorKind = "external"
)

// Sponsors are the sponsors of a connected organization.
type Sponsors struct {
	Internal []User
	External []User
}

// User is a directory user of the resource tenant.
type User struct {
	ID   string
	Name string
	Mail string
	UPN  string
	// UserType is "Member" or "Guest".
	UserType string
	// ExternalUserState is "PendingAcceptance" or "Accepted" for guests; empty for members.
	ExternalUserState string
	AccountEnabled    bool
	// TenantID is the tenant the user was read from.
	TenantID string
	JobTitle string
}

// IsGuest reports whether the user is a guest.
func (u User) IsGuest() bool { return u.UserType == "Guest" }

// PendingAcceptance reports whether the user is a guest who has not yet accepted the invitation.
func (u User) PendingAcceptance() bool { return u.ExternalUserState == "PendingAcceptance" }

// TenantInfo is what is known about a tenant found by one of its domains.
type TenantInfo struct {
	TenantID      string
	DisplayName   string
	DefaultDomain string
}

// NewInvitation is the input of Directory.Invite.
type NewInvitation struct {
	Email       string
	DisplayName string
	// RedirectURL is where the guest lands after redeeming (required by Graph).
	RedirectURL string
	// SendEmail asks Entra to mail the invitation; otherwise the bot shows RedeemURL.
	SendEmail bool
	Message   string
}

// Invitation is the result of Directory.Invite.
type Invitation struct {
	ID            string
	RedeemURL     string
	Status        string // PendingAcceptance, Completed, ...
	InvitedUserID string
	Email         string
}
