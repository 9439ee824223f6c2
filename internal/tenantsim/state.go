package tenantsim

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The simulator keeps its whole world in memory and writes it as one JSON
// document to bbolt after every change. The world is small (a few dozen
// objects), so this is simple and fast enough, and it survives a restart.

var (
	stateBucket = []byte("tenantsim")
	stateKey    = []byte("world")
)

const worldVersion = 1

type world struct {
	Version       int                      `json:"version"`
	BotSecret     string                   `json:"botSecret"`
	Keys          map[string]string        `json:"keys"` // tenant id -> PEM RSA private key
	ClockOffset   time.Duration            `json:"clockOffset"`
	Ord           int64                    `json:"ord"`
	Tenants       []*tenant                `json:"tenants"`
	Users         map[string]*user         `json:"users"`
	Groups        map[string]*group        `json:"groups"`
	ConnectedOrgs map[string]*connectedOrg `json:"connectedOrgs"`
	Catalogs      map[string]*catalog      `json:"catalogs"`
	Resources     map[string]*resource     `json:"resources"`
	Packages      map[string]*accessPkg    `json:"packages"`
	Policies      map[string]*policy       `json:"policies"`
	Requests      map[string]*request      `json:"requests"`
	Assignments   map[string]*assignment   `json:"assignments"`
	Subjects      map[string]*subject      `json:"subjects"`
	Invitations   map[string]*invitation   `json:"invitations"`
	Settings      emSettings               `json:"settings"`
	NoConsent     map[string]bool          `json:"noConsent"` // "tid/oid" -> true when the user has not consented
	TeamsApps     map[string]*teamsApp     `json:"teamsApps"` // Contoso's Teams app catalog, by catalog id
	// RoleAssignments are directory (Microsoft Entra) role assignments, by id (roleManagement/directory).
	RoleAssignments map[string]*roleAssignment `json:"roleAssignments"`
	// RoleEligibilities are PIM eligible directory role assignments, by id (roleEligibilityScheduleInstances);
	// ActivateRole turns one into an active assignment (AssignmentType Activated).
	RoleEligibilities map[string]*roleAssignment `json:"roleEligibilities,omitempty"`
	// Reviews are access review schedule definitions with their instances and decisions (reviews_state.go).
	Reviews map[string]*reviewDef `json:"reviews,omitempty"`
	// EMRoleAssignments are entitlement management role assignments (catalog owner, access package
	// manager, …), by id (roleManagement/entitlementManagement).
	EMRoleAssignments map[string]*roleAssignment `json:"emRoleAssignments,omitempty"`
	// Sites are Contoso's SharePoint sites and ServicePrincipals its applications, by id (graph_sites.go).
	Sites             map[string]*site             `json:"sites,omitempty"`
	ServicePrincipals map[string]*servicePrincipal `json:"servicePrincipals,omitempty"`
	// LastSignIns is each user's last interactive sign-in (object id -> time); reviews recommend from it.
	LastSignIns map[string]time.Time `json:"lastSignIns,omitempty"`
}

type tenant struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Domains []string `json:"domains"`
}

// teamsApp is an app of the tenant's Teams app catalog (appCatalogs/teamsApps). Like Teams, an app published
// to the organization's catalog gets a generated id; the manifest's id is its externalId.
type teamsApp struct {
	Ord                int64  `json:"ord"`
	ID                 string `json:"id"`
	ExternalID         string `json:"externalId"`
	DisplayName        string `json:"displayName"`
	DistributionMethod string `json:"distributionMethod"`
}

type installedApp struct {
	ID         string    `json:"id"`
	TeamsAppID string    `json:"teamsAppId"`
	Installed  time.Time `json:"installed"`
}

type user struct {
	Ord               int64          `json:"ord"`
	ID                string         `json:"id"`
	TenantID          string         `json:"tenantId"`
	DisplayName       string         `json:"displayName"`
	GivenName         string         `json:"givenName"`
	Surname           string         `json:"surname"`
	UPN               string         `json:"upn"`
	Mail              string         `json:"mail"`
	JobTitle          string         `json:"jobTitle"`
	UserType          string         `json:"userType"`
	ExternalUserState string         `json:"externalUserState,omitempty"`
	ExternalStateAt   *time.Time     `json:"externalStateAt,omitempty"`
	CreationType      string         `json:"creationType,omitempty"`
	AccountEnabled    bool           `json:"accountEnabled"`
	ManagerID         string         `json:"managerId,omitempty"`
	TeamsID           string         `json:"teamsId,omitempty"`
	Created           time.Time      `json:"created"`
	HomeTenantID      string         `json:"homeTenantId,omitempty"` // guests: the home tenant
	HomeUserID        string         `json:"homeUserId,omitempty"`   // guests: the object id at home
	ByEntitlement     bool           `json:"byEntitlement,omitempty"`
	BlockedAt         *time.Time     `json:"blockedAt,omitempty"`
	InstalledApps     []installedApp `json:"installedApps,omitempty"`
}

// roleAssignment is a directory role assignment (unifiedRoleAssignment): a principal holds a role definition
// (for a built-in role, its template id) at a directory scope ("/" = the whole tenant).
type roleAssignment struct {
	Ord              int64  `json:"ord"`
	ID               string `json:"id"`
	TenantID         string `json:"tenantId"`
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	DirectoryScopeID string `json:"directoryScopeId"`
	// AppScopeID scopes an entitlement management role ("/AccessPackageCatalog/{id}" or "/").
	AppScopeID string `json:"appScopeId,omitempty"`
	// AssignmentType is "Activated" for an assignment made by a PIM activation ("" = Assigned).
	AssignmentType string `json:"assignmentType,omitempty"`
}

type group struct {
	Ord         int64    `json:"ord"`
	ID          string   `json:"id"`
	TenantID    string   `json:"tenantId"`
	DisplayName string   `json:"displayName"`
	Description string   `json:"description"`
	MailNick    string   `json:"mailNickname"`
	IsTeam      bool     `json:"isTeam"`
	Members     []string `json:"members"`
	// IsAssignableToRole marks a role-assignable group (it can hold Microsoft Entra roles).
	IsAssignableToRole bool `json:"isAssignableToRole,omitempty"`
}

type connectedOrg struct {
	Ord              int64     `json:"ord"`
	ID               string    `json:"id"`
	DisplayName      string    `json:"displayName"`
	Description      string    `json:"description"`
	State            string    `json:"state"`
	SourceType       string    `json:"sourceType"` // azureActiveDirectoryTenant | domainIdentitySource
	SourceTenantID   string    `json:"sourceTenantId,omitempty"`
	SourceName       string    `json:"sourceName"`
	SourceDomain     string    `json:"sourceDomain,omitempty"`
	InternalSponsors []string  `json:"internalSponsors"`
	ExternalSponsors []string  `json:"externalSponsors"`
	Created          time.Time `json:"created"`
	Modified         time.Time `json:"modified"`
}

type catalog struct {
	Ord                 int64     `json:"ord"`
	ID                  string    `json:"id"`
	DisplayName         string    `json:"displayName"`
	Description         string    `json:"description"`
	CatalogType         string    `json:"catalogType"`
	State               string    `json:"state"`
	IsExternallyVisible bool      `json:"isExternallyVisible"`
	Created             time.Time `json:"created"`
}

type resourceRole struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Description string `json:"description"`
	OriginID    string `json:"originId"`
}

type resource struct {
	Ord          int64          `json:"ord"`
	ID           string         `json:"id"`
	CatalogID    string         `json:"catalogId"`
	DisplayName  string         `json:"displayName"`
	Description  string         `json:"description"`
	OriginID     string         `json:"originId"`
	OriginSystem string         `json:"originSystem"` // AadGroup | SharePointOnline | AadApplication
	ScopeID      string         `json:"scopeId"`
	Roles        []resourceRole `json:"roles"`
	// Grants records who holds which role (user object id -> role origin id).
	Grants  map[string]string `json:"grants,omitempty"`
	Created time.Time         `json:"created"`
}

type roleScope struct {
	ID         string `json:"id"`
	ResourceID string `json:"resourceId"`
	RoleID     string `json:"roleId"`
}

type accessPkg struct {
	Ord          int64       `json:"ord"`
	ID           string      `json:"id"`
	CatalogID    string      `json:"catalogId"`
	DisplayName  string      `json:"displayName"`
	Description  string      `json:"description"`
	IsHidden     bool        `json:"isHidden"`
	RoleScopes   []roleScope `json:"roleScopes"`
	Incompatible []string    `json:"incompatible,omitempty"`
	// IncompatibleGroups are groups whose members may not get the package (incompatibleGroups).
	IncompatibleGroups []string  `json:"incompatibleGroups,omitempty"`
	Created            time.Time `json:"created"`
	Modified           time.Time `json:"modified"`
}

type subjectSet struct {
	Type         string `json:"type"` // singleUser groupMembers requestorManager internalSponsors externalSponsors connectedOrganizationMembers
	UserID       string `json:"userId,omitempty"`
	GroupID      string `json:"groupId,omitempty"`
	ConnectedOrg string `json:"connectedOrganizationId,omitempty"`
	Description  string `json:"description,omitempty"`
	ManagerLevel int    `json:"managerLevel,omitempty"`
}

type stageDef struct {
	DurationBeforeAutomaticDenial   string       `json:"durationBeforeAutomaticDenial"`
	IsApproverJustificationRequired bool         `json:"isApproverJustificationRequired"`
	IsEscalationEnabled             bool         `json:"isEscalationEnabled"`
	DurationBeforeEscalation        string       `json:"durationBeforeEscalation"`
	Primary                         []subjectSet `json:"primary"`
	FallbackPrimary                 []subjectSet `json:"fallbackPrimary"`
	Escalation                      []subjectSet `json:"escalation"`
	FallbackEscalation              []subjectSet `json:"fallbackEscalation"`
	// Extra holds the stage's properties the simulator does not model, returned as written.
	Extra map[string]any `json:"extra,omitempty"`
}

type choice struct {
	ActualValue string `json:"actualValue"`
	Text        string `json:"text"`
	// Extra holds the choice's properties the simulator does not model (localizations), returned as written.
	Extra map[string]any `json:"extra,omitempty"`
}

type question struct {
	ID              string   `json:"id"`
	Kind            string   `json:"kind"` // text | multipleChoice
	Text            string   `json:"text"`
	IsRequired      bool     `json:"isRequired"`
	Sequence        int      `json:"sequence"`
	IsAnswerEdit    bool     `json:"isAnswerEditable"`
	Regex           string   `json:"regexPattern,omitempty"`
	IsSingleLine    bool     `json:"isSingleLineQuestion,omitempty"`
	Choices         []choice `json:"choices,omitempty"`
	MultipleAllowed bool     `json:"isMultipleSelectionAllowed,omitempty"`
	// Extra holds the question's properties the simulator does not model (localizations, …), returned as
	// written.
	Extra map[string]any `json:"extra,omitempty"`
}

type expirationPattern struct {
	Type        string     `json:"type"` // afterDuration | afterDateTime | noExpiration | notSpecified
	Duration    string     `json:"duration,omitempty"`
	EndDateTime *time.Time `json:"endDateTime,omitempty"`
}

type policy struct {
	Ord                 int64             `json:"ord"`
	ID                  string            `json:"id"`
	PackageID           string            `json:"packageId"`
	DisplayName         string            `json:"displayName"`
	Description         string            `json:"description"`
	AllowedTargetScope  string            `json:"allowedTargetScope"`
	SpecificTargets     []subjectSet      `json:"specificTargets,omitempty"`
	Expiration          expirationPattern `json:"expiration"`
	SelfAdd             bool              `json:"selfAdd"`
	SelfRemove          bool              `json:"selfRemove"`
	AllowCustomSchedule bool              `json:"allowCustomSchedule"`
	// SelfUpdate lets holders ask to extend (requestorSettings.enableTargetsToSelfUpdateAccess).
	SelfUpdate bool `json:"selfUpdate,omitempty"`
	// ApprovalForUpdate runs the approval stages for extensions too (isApprovalRequiredForUpdate).
	ApprovalForUpdate     bool       `json:"approvalForUpdate,omitempty"`
	ApprovalRequired      bool       `json:"approvalRequired"`
	JustificationRequired bool       `json:"justificationRequired"`
	Stages                []stageDef `json:"stages"`
	Questions             []question `json:"questions"`
	Created               time.Time  `json:"created"`
	Modified              time.Time  `json:"modified"`
	// Extra, RequestorExtra and ApprovalExtra are the properties of the policy, its requestorSettings and its
	// requestApprovalSettings the simulator does not model (reviewSettings, customExtensionStageSettings,
	// onBehalfRequestors, …): kept as written and returned on GET, as Graph does.
	Extra          map[string]any `json:"extra,omitempty"`
	RequestorExtra map[string]any `json:"requestorExtra,omitempty"`
	ApprovalExtra  map[string]any `json:"approvalExtra,omitempty"`
}

type identityRef struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

type approvalStage struct {
	ID            string       `json:"id"`
	DisplayName   string       `json:"displayName"`
	Index         int          `json:"index"`
	Status        string       `json:"status"` // NotStarted | InProgress | Completed | Expired
	ReviewResult  string       `json:"reviewResult"`
	ReviewedBy    *identityRef `json:"reviewedBy,omitempty"`
	ReviewedAt    *time.Time   `json:"reviewedAt,omitempty"`
	Justification string       `json:"justification,omitempty"`
	StartedAt     *time.Time   `json:"startedAt,omitempty"`
	Escalated     bool         `json:"escalated,omitempty"`
	Approvers     []string     `json:"approvers,omitempty"`
}

type answer struct {
	QuestionID   string `json:"questionId"`
	QuestionType string `json:"questionType"`
	Value        string `json:"value"`
	DisplayValue string `json:"displayValue"`
}

type request struct {
	Ord           int64             `json:"ord"`
	ID            string            `json:"id"`
	RequestType   string            `json:"requestType"`
	State         string            `json:"state"`
	Status        string            `json:"status"`
	Created       time.Time         `json:"created"`
	Completed     *time.Time        `json:"completed,omitempty"`
	Justification string            `json:"justification,omitempty"`
	Answers       []answer          `json:"answers,omitempty"`
	Start         *time.Time        `json:"start,omitempty"`
	Expiration    expirationPattern `json:"expiration"`
	RequestorID   string            `json:"requestorId"` // subject id
	TargetID      string            `json:"targetId"`    // subject id
	CreatedByOID  string            `json:"createdByOid,omitempty"`
	PackageID     string            `json:"packageId"`
	PolicyID      string            `json:"policyId"`
	AssignmentID  string            `json:"assignmentId,omitempty"`
	Stages        []approvalStage   `json:"stages,omitempty"`
	DeliverAt     *time.Time        `json:"deliverAt,omitempty"`
}

type assignment struct {
	Ord       int64      `json:"ord"`
	ID        string     `json:"id"`
	PackageID string     `json:"packageId"`
	PolicyID  string     `json:"policyId"`
	TargetID  string     `json:"targetId"` // subject id
	State     string     `json:"state"`    // delivering | delivered | expired
	Status    string     `json:"status"`
	Start     time.Time  `json:"start"`
	End       *time.Time `json:"end,omitempty"`
	ExpType   string     `json:"expType"`
	Duration  string     `json:"duration,omitempty"`
	Expired   *time.Time `json:"expired,omitempty"`
	RequestID string     `json:"requestId"`
}

// subject is an accessPackageSubject: a user known to entitlement management,
// possibly not yet in the directory (objectId empty until delivery).
type subject struct {
	ID             string `json:"id"`
	ObjectID       string `json:"objectId,omitempty"` // object id in the resource tenant
	DisplayName    string `json:"displayName"`
	Email          string `json:"email"`
	PrincipalName  string `json:"principalName"`
	SubjectType    string `json:"subjectType"`
	ConnectedOrgID string `json:"connectedOrganizationId,omitempty"`
	HomeTenantID   string `json:"homeTenantId,omitempty"`
	HomeUserID     string `json:"homeUserId,omitempty"`
}

type invitation struct {
	Ord         int64  `json:"ord"`
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	UserID      string `json:"userId"`
	RedirectURL string `json:"redirectUrl"`
	UserType    string `json:"userType"`
	Status      string `json:"status"`
}

type emSettings struct {
	DurationUntilExternalUserDeletedAfterBlocked string `json:"durationUntilExternalUserDeletedAfterBlocked"`
	ExternalUserLifecycleAction                  string `json:"externalUserLifecycleAction"`
}

func newWorld() *world {
	return &world{
		Version:         worldVersion,
		Keys:            map[string]string{},
		Users:           map[string]*user{},
		Groups:          map[string]*group{},
		ConnectedOrgs:   map[string]*connectedOrg{},
		Catalogs:        map[string]*catalog{},
		Resources:       map[string]*resource{},
		Packages:        map[string]*accessPkg{},
		Policies:        map[string]*policy{},
		Requests:        map[string]*request{},
		Assignments:     map[string]*assignment{},
		Subjects:        map[string]*subject{},
		Invitations:     map[string]*invitation{},
		NoConsent:       map[string]bool{},
		TeamsApps:       map[string]*teamsApp{},
		RoleAssignments: map[string]*roleAssignment{},
		Reviews:         map[string]*reviewDef{},
		LastSignIns:     map[string]time.Time{},
	}
}

func (w *world) nextOrd() int64 {
	w.Ord++
	return w.Ord
}

func loadWorld(db *bolt.DB) (*world, error) {
	var w *world
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(stateBucket)
		if b == nil {
			return nil
		}
		data := b.Get(stateKey)
		if data == nil {
			return nil
		}
		w = newWorld()
		if err := json.Unmarshal(data, w); err != nil {
			return fmt.Errorf("decode simulator state: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load simulator state: %w", err)
	}
	return w, nil
}

func saveWorld(db *bolt.DB, w *world) error {
	data, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("encode simulator state: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(stateBucket)
		if err != nil {
			return err
		}
		return b.Put(stateKey, data)
	})
	if err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	return nil
}

// newID returns a random RFC 4122 version 4 UUID string.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("tenantsim: crypto/rand failed: %v", err))
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// sortedBy returns the map's values ordered by creation order.
func sortedBy[T any](m map[string]*T, ord func(*T) int64) []*T {
	out := make([]*T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return ord(out[i]) < ord(out[j]) })
	return out
}
