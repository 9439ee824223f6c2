// Package builder is the package builder (issue 12): the wizard an admin walks through in Teams to create or
// edit an access package with its catalog, resources, policy and incompatibilities, kept per admin in the
// store (resumable, cancellable, changed only by compare-and-swap), the ordered Graph calls that create it
// with a record of what exists after a failure (finish or undo), and the separation-of-duties checks:
// whether a requester holds access a package is incompatible with, and who holds incompatible access today.
//
// It speaks entitlement's domain terms only; cards and chat live in cards/ and bot/.
package builder

import (
	"fmt"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Message is text for the admin: a message id of the builder catalog (internal/i18n) and its values; the bot
// renders it in the reader's language.
type Message struct {
	ID   string            `json:"id"`
	Args map[string]string `json:"args,omitempty"`
}

// Msg builds a Message from an id and name/value pairs (values are formatted with fmt.Sprint).
func Msg(id string, kv ...any) Message {
	m := Message{ID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			continue
		}
		if m.Args == nil {
			m.Args = map[string]string{}
		}
		m.Args[k] = fmt.Sprint(kv[i+1])
	}
	return m
}

// KV returns the message's values as name/value pairs (for i18n.Localizer.T).
func (m Message) KV() []any {
	out := make([]any, 0, 2*len(m.Args))
	for k, v := range m.Args {
		out = append(out, k, v)
	}
	return out
}

// String is the message id with its values, for logs.
func (m Message) String() string { return fmt.Sprintf("%s%v", m.ID, m.Args) }

// Step is one page of the wizard.
type Step string

// Steps, in order.
const (
	StepBasics    Step = "basics"    // name, description, catalog
	StepResources Step = "resources" // resource roles, resources added to the catalog by search
	StepWho       Step = "who"       // who may request
	StepApproval  Step = "approval"  // stages, approvers, justification, questions
	StepLifetime  Step = "lifetime"  // expiry and extension
	StepSoD       Step = "sod"       // incompatible packages and groups
	StepReview    Step = "review"    // everything, each part editable; Create
)

// Steps is the wizard's order.
var Steps = []Step{StepBasics, StepResources, StepWho, StepApproval, StepLifetime, StepSoD, StepReview}

// Index is the step's position (1-based) in Steps; 0 when unknown.
func (s Step) Index() int {
	for i, x := range Steps {
		if x == s {
			return i + 1
		}
	}
	return 0
}

// Who says who may request the package.
type Who string

// Who may request.
const (
	WhoMembers Who = "members" // members of this directory
	WhoOrgs    Who = "orgs"    // specific connected organizations
	WhoAllOrgs Who = "allOrgs" // all configured connected organizations
	WhoNobody  Who = "nobody"  // admin-assigned only
)

// ApproverKind is one kind of approver a stage can ask.
type ApproverKind string

// Approver kinds.
const (
	ApproverManager          ApproverKind = "manager"
	ApproverInternalSponsors ApproverKind = "internalSponsors"
	ApproverExternalSponsors ApproverKind = "externalSponsors"
	ApproverUser             ApproverKind = "user"
	ApproverGroup            ApproverKind = "group"
)

// Approver is a resolved approver rule.
type Approver struct {
	Kind ApproverKind `json:"kind"`
	ID   string       `json:"id,omitempty"`
	Name string       `json:"name,omitempty"`
}

// StageDraft is one approval stage.
type StageDraft struct {
	Approvers             []Approver `json:"approvers,omitempty"`
	Fallback              []Approver `json:"fallback,omitempty"`
	JustificationRequired bool       `json:"justificationRequired,omitempty"`
	// AutoDenyDays is how many days approvers have before the request is denied (1-14).
	AutoDenyDays int `json:"autoDenyDays,omitempty"`
	// EscalateAfterHours is when the stage escalates (0 = no escalation) to EscalateTo.
	EscalateAfterHours int        `json:"escalateAfterHours,omitempty"`
	EscalateTo         []Approver `json:"escalateTo,omitempty"`
}

// QuestionDraft is one question for requestors.
type QuestionDraft struct {
	// ID names the policy's question this one is (editing; empty for a new question): a Save changes that
	// question and keeps what the wizard does not show of it (its translations, …).
	ID       string `json:"id,omitempty"`
	Text     string `json:"text"`
	Required bool   `json:"required,omitempty"`
	// Regex is the format of a text answer (text questions).
	Regex string `json:"regex,omitempty"`
	// Choices makes it a multiple-choice question.
	Choices []string `json:"choices,omitempty"`
}

// RoleDraft is a resource role the package grants. Pending marks a resource that is not in the catalog yet
// (found by search): Create adds it to the catalog first.
type RoleDraft struct {
	ResourceID       string `json:"resourceId,omitempty"`
	ResourceName     string `json:"resourceName"`
	ResourceOriginID string `json:"resourceOriginId"`
	OriginSystem     string `json:"originSystem"`
	RoleName         string `json:"roleName"`
	RoleOriginID     string `json:"roleOriginId,omitempty"`
	Pending          bool   `json:"pending,omitempty"`
	// Existing marks a role the package already grants (edit mode): it is never added again; unticking it
	// removes it (RoleScopeID names it for Graph).
	Existing    bool   `json:"existing,omitempty"`
	RoleScopeID string `json:"roleScopeId,omitempty"`
}

// Key identifies the role within the draft ("<resource origin id>|<role name>").
func (r RoleDraft) Key() string { return r.ResourceOriginID + "|" + r.RoleName }

// Expiry kinds.
const (
	ExpireDays  = "days"
	ExpireDate  = "date"
	ExpireNever = "never"
)

// Incompatible is an incompatible package or group with its name.
type Incompatible struct {
	entitlement.IncompatibleRef
	Name string `json:"name"`
}

// Draft is one admin's wizard: what they chose so far, and what Create has made.
type Draft struct {
	// ID changes with every new wizard; cards carry it so a card of a closed wizard is recognised.
	ID        string    `json:"id"`
	TenantID  string    `json:"tenantId"`
	AdminID   string    `json:"adminId"`
	AdminName string    `json:"adminName,omitempty"`
	Started   time.Time `json:"started"`
	Updated   time.Time `json:"updated"`
	Step      Step      `json:"step"`
	// Edit is set when the wizard changes an existing package (PackageID, PolicyID).
	Edit bool `json:"edit,omitempty"`

	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	CatalogID   string `json:"catalogId,omitempty"`
	CatalogName string `json:"catalogName,omitempty"`
	// NewCatalog: Create makes a catalog named CatalogName.
	NewCatalog bool `json:"newCatalog,omitempty"`

	Roles []RoleDraft `json:"roles,omitempty"`
	// Found holds the last resource search's results (offered on the resources step).
	Found []entitlement.DirectoryResource `json:"found,omitempty"`

	Who      Who      `json:"who,omitempty"`
	OrgIDs   []string `json:"orgIds,omitempty"`
	OrgNames []string `json:"orgNames,omitempty"`

	Stages                 []StageDraft    `json:"stages,omitempty"`
	RequestorJustification bool            `json:"requestorJustification,omitempty"`
	Questions              []QuestionDraft `json:"questions,omitempty"`

	Expiry           string    `json:"expiry,omitempty"`
	ExpiryDays       int       `json:"expiryDays,omitempty"`
	ExpiryDate       time.Time `json:"expiryDate,omitzero"`
	ExtensionAllowed bool      `json:"extensionAllowed,omitempty"`

	Incompatible []Incompatible `json:"incompatible,omitempty"`
	// WasIncompatible is the package's incompatibilities when editing began (to add and remove the difference).
	WasIncompatible []Incompatible `json:"wasIncompatible,omitempty"`

	// Edit mode: PolicyLabel and PolicyDescription are the edited policy's name and description in Entra
	// (kept when it is saved); OtherPolicies names the package's policies this wizard leaves alone; Before is
	// the draft as it was read from Entra, to save only what changed and to show the difference.
	PolicyLabel       string `json:"policyLabel,omitempty"`
	PolicyDescription string `json:"policyDescription,omitempty"`
	// CustomSchedule keeps the edited policy's "requestors may pick their own dates" (no wizard step sets it).
	CustomSchedule bool     `json:"customSchedule,omitempty"`
	OtherPolicies  []string `json:"otherPolicies,omitempty"`
	Before         *Draft   `json:"before,omitempty"`

	// Errors are the last submitted step's problems, by field.
	Errors map[string]Message `json:"errors,omitempty"`

	// Made records what Create has done so far (nothing is made twice; Undo removes it).
	Made Made `json:"made"`
	// State is "" while editing, then creating, done, failed or undone.
	State string `json:"state,omitempty"`
}

// Draft states.
const (
	StateEditing  = ""
	StateCreating = "creating"
	StateDone     = "done"
	StateFailed   = "failed"
	StateUndone   = "undone"
)

// Made is what Create has made (or, editing, changed), so a retry continues and an undo knows what to remove.
type Made struct {
	CatalogID string `json:"catalogId,omitempty"`
	// Resources maps a resource origin id to the catalog resource id Create added.
	Resources map[string]string `json:"resources,omitempty"`
	PackageID string            `json:"packageId,omitempty"`
	// PackageUpdated is set when an edit's name/description change was saved.
	PackageUpdated bool `json:"packageUpdated,omitempty"`
	// Roles are the role keys added to the package; RemovedRoles those removed from it (editing).
	Roles        []string `json:"roles,omitempty"`
	RemovedRoles []string `json:"removedRoles,omitempty"`
	PolicyID     string   `json:"policyId,omitempty"`
	// PolicySaved is set when the policy was created or (editing) replaced.
	PolicySaved bool `json:"policySaved,omitempty"`
	// Incompatible are the incompatibility keys ("package:<id>", "group:<id>") set or removed.
	Incompatible []string `json:"incompatible,omitempty"`
	// Log is one line per Graph call, in order, for the progress card.
	Log []Progress `json:"log,omitempty"`
}

// Progress is one step of Create as the admin sees it.
type Progress struct {
	What Message `json:"what"`
	OK   bool    `json:"ok"`
	// Err is the reason it failed (for the person; no service internals).
	Err string `json:"err,omitempty"`
}
