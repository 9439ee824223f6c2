package builder

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Input is what one wizard card submitted: every field as the card sent it (empty when the card had no such
// input). The bot fills it from the card's data.
type Input struct {
	Name, Description string
	// Catalog is a catalog id or "new" (then NewCatalogName).
	Catalog, NewCatalogName string

	// Roles are the chosen role options (see RoleOption), comma-separated.
	Roles string

	Who  string
	Orgs string // comma-separated connected organization ids

	// StageCount is "0", "1" or "2".
	StageCount             string
	Stages                 [MaxStages]StageInput
	RequestorJustification string // "true" / "false"
	Questions              [MaxQuestions]QuestionInput

	Expiry, ExpiryDays, ExpiryDate, Extension string

	// IncompatiblePackages are package ids, comma-separated; IncompatibleGroups are group names or ids,
	// comma-separated.
	IncompatiblePackages, IncompatibleGroups string
}

// StageInput is one stage's inputs.
type StageInput struct {
	// Kind is an ApproverKind; Names are sign-in names/mail addresses (users) or a group name or id.
	Kind, Names, Fallback, Justification, AutoDenyDays, EscalateHours, EscalateTo string
}

// QuestionInput is one question's inputs. Choices (comma-separated) make it multiple choice; Format is a
// regular expression for a text answer.
type QuestionInput struct {
	Text, Format, Choices, Required string
}

// Limits of the wizard.
const (
	MaxStages    = 2
	MaxQuestions = 3
	maxNameLen   = 256
	maxDescLen   = 1000
)

// Resolver finds the people and groups an admin names.
type Resolver interface {
	// User finds a user of the resource tenant by object id, sign-in name or mail address.
	User(ctx context.Context, idOrUPN string) (entitlement.User, error)
	// FindResources finds groups by the start of their name.
	FindResources(ctx context.Context, search string) ([]entitlement.DirectoryResource, error)
}

// RoleOption is the value a role choice carries: "<resource origin id>|<role name>".
func RoleOption(r RoleDraft) string { return r.Key() }

// problems collects field errors.
type problems map[string]Message

func (p problems) add(field, id string, kv ...any) {
	if _, dup := p[field]; !dup {
		p[field] = Msg(id, kv...)
	}
}

func truthy(s string) bool { return s == "true" || s == "on" || s == "1" }

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		if part = strings.TrimSpace(part); part != "" && !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	return out
}

// Apply validates one step's input and, when it is valid, stores it in d (nothing changes otherwise).
// catalogs, roles and orgs are the options the step's card offered, to check that a choice is one of them.
// It returns the problems by field (nil when the step was accepted).
func Apply(ctx context.Context, d *Draft, step Step, in Input, opts Options, r Resolver) (map[string]Message, error) {
	next := *d
	p := problems{}
	var err error
	switch step {
	case StepBasics:
		applyBasics(&next, in, opts, p)
	case StepResources:
		applyRoles(&next, in, opts, p)
	case StepWho:
		applyWho(&next, in, opts, p)
	case StepApproval:
		err = applyApproval(ctx, &next, in, r, p)
	case StepLifetime:
		applyLifetime(&next, in, opts.Now, p)
	case StepSoD:
		err = applySoD(ctx, &next, in, opts, r, p)
	default:
		return nil, fmt.Errorf("apply wizard step %q: unknown step", step)
	}
	if err != nil {
		return nil, err
	}
	if len(p) > 0 {
		return p, nil
	}
	next.Errors = nil
	*d = next
	return nil, nil
}

// Options are the choices the cards offered (from Graph) and the clock.
type Options struct {
	Catalogs []entitlement.Catalog
	// Roles are the catalog's resource roles plus the last search's results (Pending).
	Roles    []RoleDraft
	Orgs     []entitlement.ConnectedOrg
	Packages []entitlement.Package
	Now      time.Time
}

func applyBasics(d *Draft, in Input, opts Options, p problems) {
	d.Name, d.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	switch n := len([]rune(d.Name)); {
	case n == 0:
		p.add("name", "builder.problem.name")
	case n > maxNameLen:
		p.add("name", "builder.problem.nameLong", "Max", maxNameLen, "Got", n)
	}
	if len([]rune(d.Description)) > maxDescLen {
		p.add("description", "builder.problem.descriptionLong", "Max", maxDescLen)
	}
	if d.Edit {
		return // the catalog of an existing package cannot change
	}
	switch in.Catalog {
	case "":
		p.add("catalog", "builder.problem.catalog")
	case "new":
		name := strings.TrimSpace(in.NewCatalogName)
		if name == "" {
			p.add("catalog", "builder.problem.catalogName")
			return
		}
		for _, c := range opts.Catalogs {
			if strings.EqualFold(c.Name, name) {
				p.add("catalog", "builder.problem.catalogExists", "Name", c.Name)
				return
			}
		}
		if !d.NewCatalog || d.CatalogName != name {
			d.Roles = nil
		}
		d.NewCatalog, d.CatalogID, d.CatalogName = true, "", name
	default:
		i := slices.IndexFunc(opts.Catalogs, func(c entitlement.Catalog) bool { return c.ID == in.Catalog })
		if i < 0 {
			p.add("catalog", "builder.problem.catalogUnknown", "Name", in.Catalog)
			return
		}
		if d.CatalogID != in.Catalog {
			d.Roles = nil
		}
		d.NewCatalog, d.CatalogID, d.CatalogName = false, opts.Catalogs[i].ID, opts.Catalogs[i].Name
	}
}

func applyRoles(d *Draft, in Input, opts Options, p problems) {
	var roles []RoleDraft
	had := d.ExistingRoles()
	for _, key := range splitList(in.Roles) {
		is := func(r RoleDraft) bool { return r.Key() == key }
		if slices.ContainsFunc(roles, is) {
			continue
		}
		if j := slices.IndexFunc(had, is); j >= 0 {
			roles = append(roles, had[j]) // still granted; an existing role left unticked is removed
		} else if i := slices.IndexFunc(opts.Roles, is); i >= 0 {
			roles = append(roles, opts.Roles[i])
		} else {
			p.add("roles", "builder.problem.roleUnknown", "Name", key)
		}
	}
	if len(roles) == 0 {
		p.add("roles", "builder.problem.roles")
	}
	d.Roles = roles
}

func applyWho(d *Draft, in Input, opts Options, p problems) {
	d.Who, d.OrgIDs, d.OrgNames = Who(in.Who), nil, nil
	switch d.Who {
	case WhoMembers, WhoAllOrgs, WhoNobody:
	case WhoOrgs:
		for _, id := range splitList(in.Orgs) {
			i := slices.IndexFunc(opts.Orgs, func(o entitlement.ConnectedOrg) bool { return o.ID == id })
			if i < 0 {
				p.add("orgs", "builder.problem.orgUnknown", "Name", id)
				continue
			}
			d.OrgIDs, d.OrgNames = append(d.OrgIDs, id), append(d.OrgNames, opts.Orgs[i].Name)
		}
		if len(d.OrgIDs) == 0 {
			p.add("orgs", "builder.problem.orgs")
		}
	default:
		p.add("who", "builder.problem.who")
	}
	// A catalog that is not externally visible keeps its packages from users outside the directory.
	if d.External() && !d.NewCatalog {
		for _, c := range opts.Catalogs {
			if c.ID == d.CatalogID && !c.IsExternallyVisible {
				p.add("who", "builder.problem.catalogInternal", "Name", c.Name)
			}
		}
	}
}

// External reports whether the draft admits users from outside the directory.
func (d *Draft) External() bool { return d.Who == WhoOrgs || d.Who == WhoAllOrgs }

func applyApproval(ctx context.Context, d *Draft, in Input, r Resolver, p problems) error {
	n, err := strconv.Atoi(strings.TrimSpace(in.StageCount))
	if err != nil || n < 0 || n > MaxStages {
		p.add("stages", "builder.problem.stages")
		return nil
	}
	d.Stages = nil
	for i := 0; i < n; i++ {
		st, err := stageFrom(ctx, in.Stages[i], i+1, d.External(), r, p)
		if err != nil {
			return err
		}
		d.Stages = append(d.Stages, st)
	}
	d.RequestorJustification = truthy(in.RequestorJustification)
	kept := d.Questions
	d.Questions = nil
	for i, q := range in.Questions {
		text := strings.TrimSpace(q.Text)
		if text == "" {
			continue
		}
		qd := QuestionDraft{Text: text, Required: truthy(q.Required), Regex: strings.TrimSpace(q.Format), Choices: splitList(q.Choices)}
		field := fmt.Sprintf("question%d", i+1)
		if qd.Regex != "" && len(qd.Choices) > 0 {
			p.add(field, "builder.problem.formatOrChoices", "N", i+1)
		}
		if qd.Regex != "" {
			if _, err := regexp.Compile(qd.Regex); err != nil {
				p.add(field, "builder.problem.badFormat", "N", i+1, "Format", qd.Regex)
			}
		}
		if len(qd.Choices) == 1 {
			p.add(field, "builder.problem.twoChoices", "N", i+1)
		}
		if i < len(kept) {
			qd.ID = kept[i].ID // the card showed that question in this place
		}
		d.Questions = append(d.Questions, qd)
	}
	if len(kept) > MaxQuestions {
		// Questions the card has no place for (a policy made elsewhere) were not shown, so not removed.
		d.Questions = append(d.Questions, kept[MaxQuestions:]...)
	}
	return nil
}

func stageFrom(ctx context.Context, in StageInput, n int, external bool, r Resolver, p problems) (StageDraft, error) {
	field := fmt.Sprintf("stage%d", n)
	st := StageDraft{JustificationRequired: truthy(in.Justification), AutoDenyDays: 14}
	if s := strings.TrimSpace(in.AutoDenyDays); s != "" {
		days, err := strconv.Atoi(s)
		if err != nil || days < 1 || days > 14 {
			p.add(field+".autoDeny", "builder.problem.autoDeny", "N", n, "Got", s)
		}
		st.AutoDenyDays = days
	}
	var err error
	if st.Approvers, err = approversFrom(ctx, ApproverKind(in.Kind), in.Names, field, n, r, p); err != nil {
		return st, err
	}
	if len(st.Approvers) == 0 {
		p.add(field, "builder.problem.approvers", "N", n)
	}
	if st.Fallback, err = approversFrom(ctx, ApproverUser, in.Fallback, field+".fallback", n, r, p); err != nil {
		return st, err
	}
	if external && len(st.Approvers) == 1 && st.Approvers[0].Kind == ApproverManager && len(st.Fallback) == 0 {
		p.add(field+".fallback", "builder.problem.noManager", "N", n)
	}
	if s := strings.TrimSpace(in.EscalateHours); s != "" && s != "0" {
		h, err := strconv.Atoi(s)
		if err != nil || h < 1 || h >= st.AutoDenyDays*24 {
			p.add(field+".escalate", "builder.problem.escalate", "N", n, "Days", st.AutoDenyDays, "Got", s)
		}
		st.EscalateAfterHours = h
		if st.EscalateTo, err = approversFrom(ctx, ApproverUser, in.EscalateTo, field+".escalateTo", n, r, p); err != nil {
			return st, err
		}
		if len(st.EscalateTo) == 0 {
			p.add(field+".escalateTo", "builder.problem.escalateTo", "N", n)
		}
	}
	return st, nil
}

// approversFrom resolves an approver rule: a kind without names, users by sign-in name, or one group.
func approversFrom(ctx context.Context, kind ApproverKind, names, field string, stage int, r Resolver, p problems) ([]Approver, error) {
	switch kind {
	case ApproverManager, ApproverInternalSponsors, ApproverExternalSponsors:
		return []Approver{{Kind: kind}}, nil
	case ApproverGroup:
		g, err := resolveGroup(ctx, strings.TrimSpace(names), r)
		if err != nil {
			if errors.Is(err, entitlement.ErrNotFound) {
				p.add(field, "builder.problem.noGroup", "N", stage, "Name", names)
				return nil, nil
			}
			return nil, err
		}
		return []Approver{{Kind: ApproverGroup, ID: g.OriginID, Name: g.Name}}, nil
	case ApproverUser:
		var out []Approver
		for _, n := range splitList(names) {
			u, err := r.User(ctx, n)
			if errors.Is(err, entitlement.ErrNotFound) || errors.Is(err, entitlement.ErrInvalidInput) {
				p.add(field, "builder.problem.noUser", "N", stage, "Name", n)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("resolve approver %s: %w", n, err)
			}
			out = append(out, Approver{Kind: ApproverUser, ID: u.ID, Name: u.Name})
		}
		return out, nil
	case "":
		return nil, nil
	}
	p.add(field, "builder.problem.approverKind", "N", stage, "Name", string(kind))
	return nil, nil
}

// resolveGroup finds a group by id or exact name.
func resolveGroup(ctx context.Context, nameOrID string, r Resolver) (entitlement.DirectoryResource, error) {
	if nameOrID == "" {
		return entitlement.DirectoryResource{}, fmt.Errorf("group name: %w", entitlement.ErrNotFound)
	}
	found, err := r.FindResources(ctx, nameOrID)
	if err != nil && !errors.Is(err, entitlement.ErrInvalidInput) {
		return entitlement.DirectoryResource{}, fmt.Errorf("find group %s: %w", nameOrID, err)
	}
	for _, g := range found {
		if g.OriginSystem != entitlement.OriginGroup {
			continue // sites and applications are found too
		}
		if strings.EqualFold(g.Name, nameOrID) || strings.EqualFold(g.OriginID, nameOrID) {
			return g, nil
		}
	}
	return entitlement.DirectoryResource{}, fmt.Errorf("group %s: %w", nameOrID, entitlement.ErrNotFound)
}

func applyLifetime(d *Draft, in Input, now time.Time, p problems) {
	d.Expiry, d.ExpiryDays, d.ExpiryDate = in.Expiry, 0, time.Time{}
	d.ExtensionAllowed = truthy(in.Extension)
	switch in.Expiry {
	case ExpireDays:
		days, err := strconv.Atoi(strings.TrimSpace(in.ExpiryDays))
		if err != nil || days < 1 || days > 3650 {
			p.add("expiryDays", "builder.problem.expiryDays", "Got", in.ExpiryDays)
		}
		d.ExpiryDays = days
	case ExpireDate:
		t, err := time.Parse("2006-01-02", strings.TrimSpace(in.ExpiryDate))
		if err != nil {
			p.add("expiryDate", "builder.problem.expiryDate", "Got", in.ExpiryDate)
			return
		}
		if !t.After(now) {
			p.add("expiryDate", "builder.problem.expiryPast", "Got", in.ExpiryDate)
		}
		d.ExpiryDate = t.UTC()
	case ExpireNever:
	default:
		p.add("expiry", "builder.problem.expiry")
	}
}

func applySoD(ctx context.Context, d *Draft, in Input, opts Options, r Resolver, p problems) error {
	d.Incompatible = nil
	for _, id := range splitList(in.IncompatiblePackages) {
		i := slices.IndexFunc(opts.Packages, func(pk entitlement.Package) bool { return pk.ID == id })
		if i < 0 || id == d.Made.PackageID {
			p.add("incompatiblePackages", "builder.problem.packageUnknown", "Name", id)
			continue
		}
		d.Incompatible = append(d.Incompatible, Incompatible{IncompatibleRef: entitlement.IncompatibleRef{Kind: entitlement.IncompatiblePackage, ID: id}, Name: opts.Packages[i].Name})
	}
	for _, name := range splitList(in.IncompatibleGroups) {
		g, err := resolveGroup(ctx, name, r)
		if errors.Is(err, entitlement.ErrNotFound) {
			p.add("incompatibleGroups", "builder.problem.incompatibleGroup", "Name", name)
			continue
		}
		if err != nil {
			return err
		}
		d.Incompatible = append(d.Incompatible, Incompatible{IncompatibleRef: entitlement.IncompatibleRef{Kind: entitlement.IncompatibleGroup, ID: g.OriginID}, Name: g.Name})
	}
	return nil
}
