package builder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Create files the Graph calls the draft needs, in order: the catalog (when new), resources found by search
// (resourceRequests), the package (or, editing, its new name and description if they changed), the resource
// roles it adds, then those it removes (editing), the policy (editing: only if it changed), then the
// incompatibilities. Each call that succeeds is recorded in d.Made and saved before the next,
// so a retry continues where it stopped and never makes anything twice; each is also logged in d.Made.Log
// for the admin. On failure d.State is StateFailed and the error is returned (d says what exists).
func Create(ctx context.Context, g entitlement.Builder, d *Draft, save func(ctx context.Context, d *Draft) error) error {
	d.Made.Log = nil
	steps := []func(context.Context, entitlement.Builder, *Draft) (Message, bool, error){
		makeCatalog, makeResources, makePackage, makeRoles, removeRoles, makePolicy, makeIncompatible,
	}
	for _, step := range steps {
		if err := runStep(ctx, g, d, step, save); err != nil {
			return err
		}
	}
	d.State = StateDone
	return save(ctx, d)
}

// runStep calls step until it has nothing more to do (it makes one thing per call), recording each call.
func runStep(ctx context.Context, g entitlement.Builder, d *Draft, step func(context.Context, entitlement.Builder, *Draft) (Message, bool, error),
	save func(ctx context.Context, d *Draft) error) error {
	for {
		what, did, err := step(ctx, g, d)
		if !did && err == nil {
			return nil
		}
		if err != nil {
			d.State = StateFailed
			d.Made.Log = append(d.Made.Log, Progress{What: what, Err: entitlement.UserMessage(err)})
			if serr := save(ctx, d); serr != nil {
				return fmt.Errorf("%s: %w (and recording the progress failed: %v)", what, err, serr)
			}
			return fmt.Errorf("%s: %w", what, err)
		}
		d.Made.Log = append(d.Made.Log, Progress{What: what, OK: true})
		if err := save(ctx, d); err != nil {
			return fmt.Errorf("record progress after %s: %w", what, err)
		}
	}
}

func makeCatalog(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	if !d.NewCatalog || d.Made.CatalogID != "" {
		if d.Made.CatalogID != "" {
			d.CatalogID = d.Made.CatalogID
		}
		return Message{}, false, nil
	}
	what := Msg("builder.progress.catalog", "Name", d.CatalogName)
	c, err := g.CreateCatalog(ctx, entitlement.NewCatalog{Name: d.CatalogName,
		Description: fmt.Sprintf(catalogDescription, d.Name), ExternallyVisible: true})
	if err != nil {
		return what, true, err
	}
	d.Made.CatalogID, d.CatalogID = c.ID, c.ID
	return what, true, nil
}

// makeResources adds each resource found by search to the catalog (one call per resource) and fills in the
// catalog's ids for its roles.
func makeResources(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	for i := range d.Roles {
		r := &d.Roles[i]
		if !r.Pending {
			continue
		}
		what := Msg("builder.progress.resource", "Name", r.ResourceName, "Catalog", d.CatalogName)
		if d.Made.Resources == nil {
			d.Made.Resources = map[string]string{}
		}
		res, err := g.AddCatalogResource(ctx, d.CatalogID, entitlement.DirectoryResource{OriginSystem: r.OriginSystem, OriginID: r.ResourceOriginID, Name: r.ResourceName})
		if err != nil {
			return what, true, err
		}
		d.Made.Resources[r.ResourceOriginID] = res.ID
		for j := range d.Roles {
			o := &d.Roles[j]
			if o.ResourceOriginID != r.ResourceOriginID {
				continue
			}
			k := slices.IndexFunc(res.Roles, func(rr entitlement.CatalogResourceRole) bool { return strings.EqualFold(rr.Name, o.RoleName) })
			if k < 0 {
				return what, true, fmt.Errorf("the catalog has no role %s for %s: %w", o.RoleName, o.ResourceName, entitlement.ErrNotFound)
			}
			o.ResourceID, o.RoleOriginID, o.Pending = res.ID, res.Roles[k].OriginID, false
		}
		return what, true, nil
	}
	return Message{}, false, nil
}

func makePackage(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	in := entitlement.NewPackage{Name: d.Name, Description: d.Description, CatalogID: d.CatalogID}
	if d.Edit {
		if d.Made.PackageUpdated || !d.packageChanged() {
			return Message{}, false, nil
		}
		what := Msg("builder.progress.packageSaved", "Name", d.Name)
		if err := g.UpdatePackage(ctx, d.Made.PackageID, in); err != nil {
			return what, true, err
		}
		d.Made.PackageUpdated = true
		return what, true, nil
	}
	if d.Made.PackageID != "" {
		return Message{}, false, nil
	}
	what := Msg("builder.progress.package", "Name", d.Name, "Catalog", d.CatalogName)
	p, err := g.CreatePackage(ctx, in)
	if err != nil {
		return what, true, err
	}
	d.Made.PackageID = p.ID
	return what, true, nil
}

func makeRoles(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	for _, r := range d.Roles {
		if r.Existing || slices.Contains(d.Made.Roles, r.Key()) {
			continue
		}
		what := Msg("builder.progress.role", "Role", r.RoleName, "Name", r.ResourceName)
		_, err := g.AddResourceRole(ctx, d.Made.PackageID, entitlement.CatalogResourceRole{Name: r.RoleName, OriginID: r.RoleOriginID,
			OriginSystem: r.OriginSystem, ResourceID: r.ResourceID, ResourceOriginID: r.ResourceOriginID, ResourceName: r.ResourceName})
		if err != nil {
			return what, true, err
		}
		d.Made.Roles = append(d.Made.Roles, r.Key())
		return what, true, nil
	}
	return Message{}, false, nil
}

// removeRoles removes the existing roles the admin unticked (one call each), after the new ones were added.
func removeRoles(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	for _, r := range d.RemovedRoles() {
		if slices.Contains(d.Made.RemovedRoles, r.Key()) {
			continue
		}
		what := Msg("builder.progress.roleRemoved", "Role", r.RoleName, "Name", r.ResourceName)
		if r.RoleScopeID == "" {
			return what, true, fmt.Errorf("remove role %s of %s: %w", r.RoleName, r.ResourceName,
				entitlement.Invalid("role", "was read without its role scope id; open the package again with /package … edit"))
		}
		if err := g.RemoveResourceRole(ctx, d.Made.PackageID, r.RoleScopeID); err != nil && !errors.Is(err, entitlement.ErrNotFound) {
			return what, true, err
		}
		d.Made.RemovedRoles = append(d.Made.RemovedRoles, r.Key())
		return what, true, nil
	}
	return Message{}, false, nil
}

func makePolicy(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	if d.Made.PolicySaved || (d.Edit && d.Made.PolicyID != "" && !d.policyChanged()) {
		return Message{}, false, nil
	}
	pol := d.Policy(d.Made.PackageID)
	what := Msg("builder.progress.policy", "Name", pol.Name)
	var saved entitlement.Policy
	var err error
	if d.Edit && d.Made.PolicyID != "" {
		what = Msg("builder.progress.policySaved", "Name", pol.Name)
		pol.ID = d.Made.PolicyID
		var before entitlement.Policy // none kept (a draft saved by an older build): the whole policy is written
		if d.Before != nil {
			before = d.Before.Policy(d.Made.PackageID)
		}
		before.ID = pol.ID
		saved, err = g.UpdatePolicy(ctx, before, pol)
	} else {
		saved, err = g.CreatePolicy(ctx, pol)
	}
	if err != nil {
		return what, true, err
	}
	d.Made.PolicyID, d.Made.PolicySaved = saved.ID, true
	return what, true, nil
}

func incKey(r entitlement.IncompatibleRef) string { return string(r.Kind) + ":" + r.ID }

func makeIncompatible(ctx context.Context, g entitlement.Builder, d *Draft) (Message, bool, error) {
	was := func(r entitlement.IncompatibleRef) bool {
		return slices.ContainsFunc(d.WasIncompatible, func(i Incompatible) bool { return i.IncompatibleRef == r })
	}
	is := func(r entitlement.IncompatibleRef) bool {
		return slices.ContainsFunc(d.Incompatible, func(i Incompatible) bool { return i.IncompatibleRef == r })
	}
	for _, list := range []struct {
		items []Incompatible
		add   bool
	}{{d.Incompatible, true}, {d.WasIncompatible, false}} {
		for _, i := range list.items {
			if slices.Contains(d.Made.Incompatible, incKey(i.IncompatibleRef)) || (list.add && was(i.IncompatibleRef)) || (!list.add && is(i.IncompatibleRef)) {
				continue
			}
			what := Msg("builder.progress.incompatible."+string(i.Kind), "Name", i.Name)
			if !list.add {
				what = Msg("builder.progress.compatible."+string(i.Kind), "Name", i.Name)
			}
			if err := g.SetIncompatible(ctx, d.Made.PackageID, i.IncompatibleRef, list.add); err != nil {
				return what, true, err
			}
			d.Made.Incompatible = append(d.Made.Incompatible, incKey(i.IncompatibleRef))
			return what, true, nil
		}
	}
	return Message{}, false, nil
}

// Undo removes what a failed Create of a new package made: the policy, the package and a catalog it created
// (resources it added to an existing catalog stay there; Left names them). Editing cannot be undone this way.
func Undo(ctx context.Context, g entitlement.Builder, d *Draft) (left []string, err error) {
	if d.Edit {
		return nil, fmt.Errorf("undo changes to %s: %w", d.Name, entitlement.Invalid("undo", "is only for a package the wizard created; edit it again instead"))
	}
	if d.Made.PolicyID != "" {
		if err := g.DeletePolicy(ctx, d.Made.PolicyID); err != nil {
			return nil, fmt.Errorf("delete policy %s: %w", d.Made.PolicyID, err)
		}
		d.Made.PolicyID, d.Made.PolicySaved = "", false
	}
	if d.Made.PackageID != "" {
		if err := g.DeletePackage(ctx, d.Made.PackageID); err != nil {
			return nil, fmt.Errorf("delete access package %s: %w", d.Made.PackageID, err)
		}
		d.Made.PackageID, d.Made.Roles, d.Made.Incompatible = "", nil, nil
	}
	if d.Made.CatalogID != "" {
		if err := g.DeleteCatalog(ctx, d.Made.CatalogID); err != nil {
			return nil, fmt.Errorf("delete catalog %s: %w", d.Made.CatalogID, err)
		}
		d.Made.CatalogID, d.Made.Resources = "", nil
	}
	for origin := range d.Made.Resources {
		for _, r := range d.Roles {
			if r.ResourceOriginID == origin && !slices.Contains(left, r.ResourceName) {
				left = append(left, r.ResourceName)
			}
		}
	}
	d.State = StateUndone
	return left, nil
}
