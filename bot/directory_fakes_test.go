package bot

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// fakeDirectory is what the entitlement fakes of the request/approve, partner and admin tests share: users
// with managers and groups, packages, connected organizations, requests and assignments, read the way Graph
// answers. The nil
// entitlement.Port it embeds makes a call the flows must not make panic.
type fakeDirectory struct {
	entitlement.Port

	mu          sync.Mutex
	now         func() time.Time
	users       map[string]entitlement.User
	managers    map[string]string   // user → manager
	groups      map[string][]string // group → members
	packages    []entitlement.Package
	orgs        []entitlement.ConnectedOrg
	requests    map[string]*entitlement.Request
	assignments []entitlement.Assignment
}

func newFakeDirectory(now func() time.Time) fakeDirectory {
	return fakeDirectory{now: now, users: map[string]entitlement.User{}, managers: map[string]string{},
		groups: map[string][]string{}, requests: map[string]*entitlement.Request{}}
}

func (p *fakeDirectory) User(ctx context.Context, id string) (entitlement.User, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.users[id]; ok {
		return u, nil
	}
	return entitlement.User{}, entitlement.ErrNotFound
}

func (p *fakeDirectory) Manager(ctx context.Context, id string) (entitlement.User, error) {
	p.mu.Lock()
	m := p.managers[id]
	p.mu.Unlock()
	if m == "" {
		return entitlement.User{}, entitlement.ErrNotFound
	}
	return p.User(ctx, m)
}

func (p *fakeDirectory) GroupMembers(ctx context.Context, id string) ([]entitlement.User, error) {
	var out []entitlement.User
	for _, m := range p.groups[id] {
		u, _ := p.User(ctx, m)
		out = append(out, u)
	}
	return out, nil
}

func (p *fakeDirectory) Package(ctx context.Context, id string) (entitlement.Package, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pk := range p.packages {
		if pk.ID == id {
			return pk, nil
		}
	}
	return entitlement.Package{}, fmt.Errorf("get package %s: %w", id, entitlement.ErrNotFound)
}

func (p *fakeDirectory) ConnectedOrg(ctx context.Context, id string) (entitlement.ConnectedOrg, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.orgs {
		if o.ID == id {
			return o, nil
		}
	}
	return entitlement.ConnectedOrg{}, entitlement.ErrNotFound
}

func (p *fakeDirectory) Request(ctx context.Context, id string) (entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.requests[id]
	if !ok {
		return entitlement.Request{}, entitlement.ErrNotFound
	}
	return *r, nil
}

func (p *fakeDirectory) Assignments(ctx context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []entitlement.Assignment
	for _, a := range p.assignments {
		if (f.PackageID == "" || f.PackageID == a.PackageID) && (f.TargetID == "" || f.TargetID == a.Target.ID) &&
			(len(f.States) == 0 || slices.Contains(f.States, a.State)) &&
			(f.ExpiringBefore.IsZero() || (!a.EndsAt().IsZero() && a.EndsAt().Before(f.ExpiringBefore))) {
			out = append(out, a)
		}
	}
	return out, nil
}

// packagePolicies holds the assignment policies of each package (by package id) for the partner and admin
// fakes; it does not change once built.
type packagePolicies map[string][]entitlement.Policy

func (m packagePolicies) Policies(ctx context.Context, packageID string) ([]entitlement.Policy, error) {
	return slices.Clone(m[packageID]), nil
}

func (m packagePolicies) Policy(ctx context.Context, id string) (entitlement.Policy, error) {
	for _, ps := range m {
		for _, pol := range ps {
			if pol.ID == id {
				return pol, nil
			}
		}
	}
	return entitlement.Policy{}, entitlement.ErrNotFound
}
