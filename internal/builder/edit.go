package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Editing an existing package: which of its roles the admin keeps or removes, whether the package's name and
// the edited policy changed at all (Create saves only what changed), and the calls a Save (or a Finish after a
// failure) still has to make, so the admin sees exactly what will change and, after a failure, what did not.

// EditableScope reports whether the wizard can show and keep who may request under a policy of scope s: nobody
// (admins assign; also when Graph gives none), all member users, specific connected organizations or all of them. Any other scope
// (specific users or groups, all directory users, service principals, …) has no wizard step: FromPackage
// would read it as "nobody" and a Save would replace it, so such a policy is not edited here.
func EditableScope(s entitlement.TargetScope) bool {
	switch s {
	case "", entitlement.ScopeNotSpecified, entitlement.ScopeAllMemberUsers, entitlement.ScopeSpecificConnectedOrganizationUsers,
		entitlement.ScopeAllConfiguredConnectedOrganizationUsers:
		return true
	}
	return false
}

// EditableStages reports whether the wizard can show and keep a policy's n approval stages: Graph allows three,
// the wizard offers up to MaxStages, and its approval step would drop the others on Save.
func EditableStages(n int) bool { return n <= MaxStages }

// ExistingRoles are the roles the package granted when editing began (none for a new package).
func (d *Draft) ExistingRoles() []RoleDraft {
	src := d.Roles
	if d.Before != nil {
		src = d.Before.Roles
	}
	var out []RoleDraft
	for _, r := range src {
		if r.Existing {
			out = append(out, r)
		}
	}
	return out
}

// RemovedRoles are the existing roles the admin unticked.
func (d *Draft) RemovedRoles() []RoleDraft {
	var out []RoleDraft
	for _, r := range d.ExistingRoles() {
		if !slices.ContainsFunc(d.Roles, func(k RoleDraft) bool { return k.Key() == r.Key() }) {
			out = append(out, r)
		}
	}
	return out
}

// packageChanged reports whether an edit changed the package's name or description.
func (d *Draft) packageChanged() bool {
	return d.Before == nil || d.Before.Name != d.Name || d.Before.Description != d.Description
}

// policyChanged reports whether an edit changed anything the policy holds (approver names aside: they are
// only descriptions).
func (d *Draft) policyChanged() bool {
	if d.Before == nil {
		return true
	}
	return !reflect.DeepEqual(policyShape(d.Policy("")), policyShape(d.Before.Policy("")))
}

// policyShape is a policy without the texts that only describe its approvers.
func policyShape(p entitlement.Policy) entitlement.Policy {
	clear := func(sets []entitlement.SubjectSet) []entitlement.SubjectSet {
		out := slices.Clone(sets)
		for i := range out {
			out[i].Description = ""
		}
		return out
	}
	p.Stages = slices.Clone(p.Stages)
	for i, s := range p.Stages {
		s.PrimaryApprovers, s.FallbackPrimaryApprovers = clear(s.PrimaryApprovers), clear(s.FallbackPrimaryApprovers)
		s.EscalationApprovers, s.FallbackEscalationApprovers = clear(s.EscalationApprovers), clear(s.FallbackEscalationApprovers)
		p.Stages[i] = s
	}
	return p
}

// Remaining lists, in order, the Graph calls Create would still make for the draft: everything for a new
// draft, only the differences for an edit, and after a failure what is still to do. It changes nothing.
func Remaining(d Draft) ([]Message, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("copy draft: %w", err)
	}
	var dry Draft
	if err := json.Unmarshal(raw, &dry); err != nil {
		return nil, fmt.Errorf("copy draft: %w", err)
	}
	noSave := func(context.Context, *Draft) error { return nil }
	if err := Create(context.Background(), planner{d: &dry}, &dry, noSave); err != nil {
		return nil, fmt.Errorf("plan the changes: %w", err)
	}
	out := make([]Message, 0, len(dry.Made.Log))
	for _, p := range dry.Made.Log {
		out = append(out, p.What)
	}
	return out, nil
}

// planner is an entitlement.Builder that answers every write as if it succeeded, for Remaining.
type planner struct{ d *Draft }

const plannedID = "planned"

func (planner) CreateCatalog(context.Context, entitlement.NewCatalog) (entitlement.Catalog, error) {
	return entitlement.Catalog{ID: plannedID}, nil
}
func (planner) DeleteCatalog(context.Context, string) error { return nil }
func (planner) CatalogResources(context.Context, string) ([]entitlement.CatalogResource, error) {
	return nil, nil
}
func (planner) FindResources(context.Context, string) ([]entitlement.DirectoryResource, error) {
	return nil, nil
}
func (p planner) AddCatalogResource(_ context.Context, _ string, r entitlement.DirectoryResource) (entitlement.CatalogResource, error) {
	res := entitlement.CatalogResource{ID: plannedID, OriginID: r.OriginID}
	for _, role := range p.d.Roles {
		if role.ResourceOriginID == r.OriginID {
			res.Roles = append(res.Roles, entitlement.CatalogResourceRole{Name: role.RoleName, OriginID: plannedID})
		}
	}
	return res, nil
}
func (planner) CreatePackage(context.Context, entitlement.NewPackage) (entitlement.Package, error) {
	return entitlement.Package{ID: plannedID}, nil
}
func (planner) UpdatePackage(context.Context, string, entitlement.NewPackage) error { return nil }
func (planner) DeletePackage(context.Context, string) error                         { return nil }
func (planner) AddResourceRole(context.Context, string, entitlement.CatalogResourceRole) (string, error) {
	return plannedID, nil
}
func (planner) RemoveResourceRole(context.Context, string, string) error { return nil }
func (planner) CreatePolicy(_ context.Context, p entitlement.Policy) (entitlement.Policy, error) {
	p.ID = plannedID
	return p, nil
}
func (planner) UpdatePolicy(_ context.Context, _, p entitlement.Policy) (entitlement.Policy, error) {
	return p, nil
}
func (planner) DeletePolicy(context.Context, string) error { return nil }
func (planner) Incompatibilities(context.Context, string) (entitlement.Incompatibilities, error) {
	return entitlement.Incompatibilities{}, nil
}
func (planner) SetIncompatible(context.Context, string, entitlement.IncompatibleRef, bool) error {
	return nil
}
