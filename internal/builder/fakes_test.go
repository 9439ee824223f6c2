package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// fakeGraph is an in-memory entitlement.Builder + Resolver + SoDReader that can fail one named call.
type fakeGraph struct {
	failOn  string // a call name ("CreatePolicy", …) that fails once with failErr
	failErr error
	calls   []string
	n       int

	users       map[string]entitlement.User // by UPN
	groups      []entitlement.DirectoryResource
	packages    []entitlement.Package
	incompat    map[string]entitlement.Incompatibilities
	assignments []entitlement.Assignment
	// incompatReads and assignmentReads count the reads the separation-of-duties checks make.
	incompatReads, assignmentReads int
	members                        map[string][]string // group id -> user ids
	deleted                        []string
	// updates are the policies UpdatePolicy was given: before and after.
	updates [][2]entitlement.Policy
}

func (f *fakeGraph) call(name string) error {
	f.calls = append(f.calls, name)
	if f.failOn == name {
		f.failOn = ""
		return f.failErr
	}
	return nil
}

func (f *fakeGraph) id(prefix string) string { f.n++; return fmt.Sprintf("%s-%d", prefix, f.n) }

func (f *fakeGraph) CreateCatalog(_ context.Context, in entitlement.NewCatalog) (entitlement.Catalog, error) {
	if err := f.call("CreateCatalog"); err != nil {
		return entitlement.Catalog{}, err
	}
	return entitlement.Catalog{ID: f.id("cat"), Name: in.Name}, nil
}
func (f *fakeGraph) DeleteCatalog(_ context.Context, id string) error {
	f.deleted = append(f.deleted, id)
	return f.call("DeleteCatalog")
}
func (f *fakeGraph) CatalogResources(context.Context, string) ([]entitlement.CatalogResource, error) {
	return nil, f.call("CatalogResources")
}
func (f *fakeGraph) FindResources(_ context.Context, s string) ([]entitlement.DirectoryResource, error) {
	var out []entitlement.DirectoryResource
	for _, g := range f.groups {
		if strings.HasPrefix(strings.ToLower(g.Name), strings.ToLower(s)) || g.OriginID == s {
			out = append(out, g)
		}
	}
	return out, nil
}
func (f *fakeGraph) AddCatalogResource(_ context.Context, catalogID string, r entitlement.DirectoryResource) (entitlement.CatalogResource, error) {
	if err := f.call("AddCatalogResource"); err != nil {
		return entitlement.CatalogResource{}, err
	}
	id := f.id("res")
	return entitlement.CatalogResource{ID: id, Name: r.Name, OriginID: r.OriginID, OriginSystem: r.OriginSystem,
		Roles: []entitlement.CatalogResourceRole{{Name: "Member", OriginID: "Member_" + r.OriginID, ResourceID: id}, {Name: "Owner", OriginID: "Owner_" + r.OriginID, ResourceID: id}}}, nil
}
func (f *fakeGraph) CreatePackage(_ context.Context, in entitlement.NewPackage) (entitlement.Package, error) {
	if err := f.call("CreatePackage"); err != nil {
		return entitlement.Package{}, err
	}
	return entitlement.Package{ID: f.id("pkg"), Name: in.Name, CatalogID: in.CatalogID}, nil
}
func (f *fakeGraph) UpdatePackage(context.Context, string, entitlement.NewPackage) error {
	return f.call("UpdatePackage")
}
func (f *fakeGraph) DeletePackage(_ context.Context, id string) error {
	f.deleted = append(f.deleted, id)
	return f.call("DeletePackage")
}
func (f *fakeGraph) AddResourceRole(_ context.Context, _ string, r entitlement.CatalogResourceRole) (string, error) {
	if r.OriginID == "" || r.ResourceID == "" {
		return "", entitlement.Invalid("role", "incomplete")
	}
	return f.id("scope"), f.call("AddResourceRole")
}
func (f *fakeGraph) RemoveResourceRole(_ context.Context, _ string, id string) error {
	return f.call("RemoveResourceRole:" + id)
}
func (f *fakeGraph) CreatePolicy(_ context.Context, p entitlement.Policy) (entitlement.Policy, error) {
	if err := f.call("CreatePolicy"); err != nil {
		return entitlement.Policy{}, err
	}
	p.ID = f.id("pol")
	return p, nil
}
func (f *fakeGraph) UpdatePolicy(_ context.Context, before, p entitlement.Policy) (entitlement.Policy, error) {
	f.updates = append(f.updates, [2]entitlement.Policy{before, p})
	return p, f.call("UpdatePolicy")
}
func (f *fakeGraph) DeletePolicy(_ context.Context, id string) error {
	f.deleted = append(f.deleted, id)
	return f.call("DeletePolicy")
}
func (f *fakeGraph) Incompatibilities(_ context.Context, id string) (entitlement.Incompatibilities, error) {
	f.incompatReads++
	inc := f.incompat[id]
	inc.NamedBy = nil
	for other, o := range f.incompat { // as Graph's accessPackagesIncompatibleWith
		if slices.ContainsFunc(o.Packages, func(p entitlement.Package) bool { return p.ID == id }) {
			inc.NamedBy = append(inc.NamedBy, entitlement.Package{ID: other})
		}
	}
	return inc, nil
}
func (f *fakeGraph) SetIncompatible(_ context.Context, _ string, ref entitlement.IncompatibleRef, add bool) error {
	verb := "Remove"
	if add {
		verb = "Add"
	}
	return f.call(verb + "Incompatible:" + ref.ID)
}
func (f *fakeGraph) User(_ context.Context, upn string) (entitlement.User, error) {
	if u, ok := f.users[strings.ToLower(upn)]; ok {
		return u, nil
	}
	return entitlement.User{}, fmt.Errorf("user %s: %w", upn, entitlement.ErrNotFound)
}
func (f *fakeGraph) Assignments(_ context.Context, flt entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	f.assignmentReads++
	var out []entitlement.Assignment
	for _, a := range f.assignments {
		if (flt.TargetID == "" || a.Target.ID == flt.TargetID) && (flt.PackageID == "" || a.PackageID == flt.PackageID) {
			out = append(out, a)
		}
	}
	return out, nil
}
func (f *fakeGraph) IsMemberOf(_ context.Context, userID, groupID string) (bool, error) {
	return slices.Contains(f.members[groupID], userID), nil
}
func (f *fakeGraph) Packages(context.Context) ([]entitlement.Package, error) { return f.packages, nil }

var _ entitlement.Builder = (*fakeGraph)(nil)
var _ SoDReader = (*fakeGraph)(nil)
var _ Resolver = (*fakeGraph)(nil)
