package cards

import "github.com/accessbot/accessbot/internal/i18n"

// ProgressLine is one Graph call the package builder made (or failed).
type ProgressLine struct {
	What string
	OK   bool
	Err  string
}

// PackageBuiltView is the outcome of the wizard's Create (or Save): each step, and for a new package what
// the admin shares with partner users.
type PackageBuiltView struct {
	DraftID     string
	PackageName string
	Edit        bool
	// Failed is true when a step failed: the card offers to finish (retry from there) or undo.
	Failed   bool
	CanUndo  bool
	Progress []ProgressLine
	// MyAccessURL is the tenant-scoped My Access link; ChatURL opens AccessBot with "request <package>".
	MyAccessURL string
	ChatURL     string
	// Undone is set after an undo; Left lists what stayed (resources added to an existing catalog).
	Undone bool
	Left   []string
	// NotDone are the calls a failed Create did not make yet (what Finish would do): for an edit, what was
	// not changed.
	NotDone []string
}

// PackageBuilt reports what the package builder did.
func PackageBuilt(l *i18n.Localizer, v PackageBuiltView) *Card {
	name := safe(v.PackageName, maxName)
	var head, style, line string
	switch {
	case v.Undone:
		head, style, line = l.T("builder.undoneTitle", "Name", name), StyleAccent, l.T("builder.undoneText")
	case v.Failed && v.Edit:
		head, style, line = l.T("builder.failedTitle", "Name", name), StyleAttention, l.T("builder.failedEditText")
	case v.Failed:
		head, style, line = l.T("builder.failedTitle", "Name", name), StyleAttention, l.T("builder.failedText")
	case v.Edit:
		head, style, line = l.T("builder.savedTitle", "Name", name), StyleGood, l.T("builder.savedText")
	default:
		head, style, line = l.T("builder.createdTitle", "Name", name), StyleGood, l.T("builder.createdText")
	}
	c := newCard(l, head)
	c.add(title(head))
	c.add(banner(style, line, ""))
	for i, p := range v.Progress {
		if i == maxTimeline {
			c.add(moreLine(l.N("common.andMore", len(v.Progress)-i)))
			break
		}
		mark, color := "✔ ", ColorGood
		txt := safe(p.What, maxShort)
		if !p.OK {
			mark, color = "✘ ", ColorAttention
			txt = l.T("builder.stepFailed", "What", txt, "Why", safe(p.Err, maxErrorMessage))
		}
		c.add(TextBlock{Text: mark + txt, Wrap: true, Color: color, Spacing: SpacingSmall})
	}
	if v.Failed && len(v.NotDone) > 0 {
		id := "builder.notDone"
		if v.Edit {
			id = "builder.notChanged"
		}
		c.add(TextBlock{Text: l.T(id), Wrap: true, Weight: WeightBolder, Spacing: SpacingMedium})
		addMarked(l, c, "○ ", v.NotDone)
	}
	if v.Undone && len(v.Left) > 0 {
		c.add(footnote(l.T("builder.undoneLeft", "Names", joinNames(l, v.Left))))
	}
	data := []string{KeyDraftID, v.DraftID}
	switch {
	case v.Failed:
		c.Actions = []Action{noInputs(execute(l.T("builder.finish"), VerbBuilderCreate, data...))}
		if v.CanUndo {
			c.Actions = append(c.Actions, noInputs(execute(l.T("builder.undo"), VerbBuilderUndo, data...)))
		}
		c.Actions = append(c.Actions, noInputs(execute(l.T("builder.close"), VerbBuilderCancel, data...)))
	case !v.Undone && v.MyAccessURL != "":
		c.add(heading(l.T("builder.share")))
		c.add(text(l.T("builder.shareText", "Name", name)))
		c.add(TextBlock{Text: l.T("builder.myAccessLink", "URL", v.MyAccessURL), Wrap: true, Size: SizeSmall, Spacing: SpacingSmall})
		if v.ChatURL != "" {
			c.add(TextBlock{Text: l.T("builder.teamsLink", "URL", v.ChatURL), Wrap: true, Size: SizeSmall, Spacing: SpacingSmall})
		}
		c.Actions = []Action{ActionOpenURL{Title: l.T("button.openInMyAccess"), URL: v.MyAccessURL}}
		if v.ChatURL != "" {
			c.Actions = append(c.Actions, ActionOpenURL{Title: l.T("builder.openInTeams"), URL: v.ChatURL})
		}
		c.Actions = append(c.Actions, commandButton(l.T("builder.showPackage"), "/package "+v.PackageName))
	}
	return c
}

// addMarked adds one line per item, each led by mark, at most maxListItems of them and then "…and 3 more".
func addMarked(l *i18n.Localizer, c *Card, mark string, items []string) {
	for i, it := range items {
		if i == maxListItems {
			c.add(moreLine(l.N("common.andMore", len(items)-i)))
			return
		}
		c.add(TextBlock{Text: mark + safe(it, maxShort), Wrap: true, Spacing: SpacingSmall})
	}
}

// IncompatibleView explains why a package can't be requested: the requester holds access it is
// incompatible with.
type IncompatibleView struct {
	PackageName string
	Conflicts   []IncompatibleConflict
}

// IncompatibleConflict is one held package (with its assignment, which the user can ask to remove) or group.
type IncompatibleConflict struct {
	// Group is true for a group membership.
	Group        bool
	Name         string
	PackageID    string
	AssignmentID string
}

// Incompatible tells a requester they can't request a package while they hold incompatible access.
func Incompatible(l *i18n.Localizer, v IncompatibleView) *Card {
	name := safe(v.PackageName, maxName)
	head := l.T("sod.title", "Name", name)
	c := newCard(l, head)
	c.add(title(head))
	for i, k := range v.Conflicts {
		if i == maxListItems {
			c.add(moreLine(l.N("common.andMore", len(v.Conflicts)-i)))
			break
		}
		held := safe(k.Name, maxName)
		if k.Group {
			c.add(banner(StyleWarning, l.T("sod.group", "Name", name, "Held", held), l.T("sod.groupHint")))
			continue
		}
		c.add(banner(StyleWarning, l.T("sod.package", "Name", name, "Held", held), l.T("sod.packageHint")))
		if k.AssignmentID != "" {
			c.add(ActionSet{Actions: []Action{noInputs(execute(l.T("sod.askRemove", "Held", clip(held, 40)), VerbAccessRemove,
				KeyAssignmentID, k.AssignmentID, KeyPackageID, k.PackageID))}})
		}
	}
	c.add(footnote(l.T("sod.footnote")))
	c.Actions = []Action{commandButton(l.T("button.myAccess"), "access")}
	return c
}
