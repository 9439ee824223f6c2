package builder

import (
	"context"
	"fmt"
	"slices"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// SoDReader is what the separation-of-duties checks read with the application's identity.
type SoDReader interface {
	Incompatibilities(ctx context.Context, packageID string) (entitlement.Incompatibilities, error)
	Assignments(ctx context.Context, f entitlement.AssignmentFilter) ([]entitlement.Assignment, error)
	IsMemberOf(ctx context.Context, userID, groupID string) (bool, error)
	Packages(ctx context.Context) ([]entitlement.Package, error)
}

// Conflict is access a user holds that a package is incompatible with.
type Conflict struct {
	Kind entitlement.IncompatibleKind
	// ID and Name are the held package's or the group's.
	ID, Name string
	// AssignmentID is the held package's assignment (what the user can ask to remove).
	AssignmentID string
}

// Check lists the access userID holds that packageID is incompatible with, in either direction for
// packages (Graph refuses a package incompatible with a held one, and one a held package names). A user
// without an account in the directory (empty userID) holds nothing. A package without incompatibilities
// either way (the usual case) costs only the read of its incompatibilities, which the Graph client caches:
// the user's assignments are read only when some package could conflict.
func Check(ctx context.Context, r SoDReader, userID, packageID string) ([]Conflict, error) {
	if userID == "" {
		return nil, nil
	}
	inc, err := r.Incompatibilities(ctx, packageID)
	if err != nil {
		return nil, fmt.Errorf("read incompatibilities of %s: %w", packageID, err)
	}
	out, err := heldConflicts(ctx, r, userID, packageID, inc)
	if err != nil {
		return nil, err
	}
	for _, g := range inc.Groups {
		in, err := r.IsMemberOf(ctx, userID, g.ID)
		if err != nil {
			return nil, fmt.Errorf("check membership of %s in %s: %w", userID, g.ID, err)
		}
		if in {
			out = append(out, Conflict{Kind: entitlement.IncompatibleGroup, ID: g.ID, Name: orDefault(g.Name, g.ID)})
		}
	}
	return out, nil
}

// heldConflicts lists the packages userID holds that packageID names or that name packageID.
func heldConflicts(ctx context.Context, r SoDReader, userID, packageID string, inc entitlement.Incompatibilities) ([]Conflict, error) {
	if len(inc.Packages) == 0 && len(inc.NamedBy) == 0 {
		return nil, nil
	}
	held, err := r.Assignments(ctx, entitlement.AssignmentFilter{TargetID: userID, States: entitlement.GrantingAssignmentStates()})
	if err != nil {
		return nil, fmt.Errorf("read assignments of %s: %w", userID, err)
	}
	var out []Conflict
	for _, a := range held {
		if a.PackageID == packageID || slices.ContainsFunc(out, func(c Conflict) bool { return c.ID == a.PackageID }) {
			continue
		}
		isHeld := func(p entitlement.Package) bool { return p.ID == a.PackageID }
		if slices.ContainsFunc(inc.Packages, isHeld) || slices.ContainsFunc(inc.NamedBy, isHeld) {
			out = append(out, Conflict{Kind: entitlement.IncompatiblePackage, ID: a.PackageID, Name: orDefault(a.PackageName, a.PackageID), AssignmentID: a.ID})
		}
	}
	return out, nil
}

// Holding is one user who holds a package and access it is incompatible with today.
type Holding struct {
	UserID, UserName string
	PackageID        string
	PackageName      string
	Conflicts        []Conflict
}

// Report lists who holds incompatible access today: for every package with incompatibilities, each holder
// of it who also holds an incompatible package or is in an incompatible group (each pair once).
func Report(ctx context.Context, r SoDReader) ([]Holding, error) {
	pkgs, err := r.Packages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list access packages: %w", err)
	}
	seen := map[string]bool{}
	var out []Holding
	for _, p := range pkgs {
		inc, err := r.Incompatibilities(ctx, p.ID)
		if err != nil {
			return nil, fmt.Errorf("read incompatibilities of %s: %w", p.ID, err)
		}
		if len(inc.Packages) == 0 && len(inc.Groups) == 0 {
			continue
		}
		holders, err := r.Assignments(ctx, entitlement.AssignmentFilter{PackageID: p.ID, States: entitlement.GrantingAssignmentStates()})
		if err != nil {
			return nil, fmt.Errorf("list assignments of %s: %w", p.ID, err)
		}
		for _, a := range holders {
			uid := a.Target.ID
			if uid == "" {
				continue
			}
			cs, err := Check(ctx, r, uid, p.ID)
			if err != nil {
				return nil, err
			}
			var keep []Conflict
			for _, c := range cs {
				key := uid + "|" + pairKey(p.ID, c.ID)
				if !seen[key] {
					seen[key] = true
					keep = append(keep, c)
				}
			}
			if len(keep) > 0 {
				out = append(out, Holding{UserID: uid, UserName: orDefault(a.Target.Name, uid), PackageID: p.ID, PackageName: p.Name, Conflicts: keep})
			}
		}
	}
	return out, nil
}

func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "|" + b
}
