package cards

import "fmt"

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
	// Undone lists what stayed after an undo (resources added to an existing catalog); Undone is set after one.
	Undone bool
	Left   []string
}

// PackageBuilt reports what the package builder did.
func PackageBuilt(v PackageBuiltView) *Card {
	name := safe(v.PackageName, maxName)
	var head, style, line string
	switch {
	case v.Undone:
		head, style, line = "Undone: "+name, StyleAccent, "What the wizard had created was removed."
	case v.Failed:
		head, style, line = "Not finished: "+name, StyleAttention, "A step failed. What is listed as done exists now; finish from the failed step, or undo."
	case v.Edit:
		head, style, line = "Saved "+name, StyleGood, "Your changes are saved."
	default:
		head, style, line = "Created "+name, StyleGood, "The access package is ready to request."
	}
	c := newCard(head)
	c.add(title(head))
	c.add(banner(style, line, ""))
	for i, p := range v.Progress {
		if i == maxTimeline {
			c.add(moreLine(len(v.Progress)-i, "steps"))
			break
		}
		mark, color := "✔ ", ColorGood
		txt := safe(p.What, maxShort)
		if !p.OK {
			mark, color = "✘ ", ColorAttention
			txt += ": " + safe(p.Err, maxErrorMessage)
		}
		c.add(TextBlock{Text: mark + txt, Wrap: true, Color: color, Spacing: SpacingSmall})
	}
	if v.Undone && len(v.Left) > 0 {
		c.add(footnote("Still in their catalog (remove them in the portal if not needed): " + joinNames(v.Left) + "."))
	}
	data := []string{KeyDraftID, v.DraftID}
	switch {
	case v.Failed:
		c.Actions = []Action{noInputs(execute("Finish", VerbBuilderCreate, data...))}
		if v.CanUndo {
			c.Actions = append(c.Actions, noInputs(execute("Undo", VerbBuilderUndo, data...)))
		}
		c.Actions = append(c.Actions, noInputs(execute("Close", VerbBuilderCancel, data...)))
	case !v.Undone && v.MyAccessURL != "":
		c.add(heading("Share with requesters"))
		c.add(text(fmt.Sprintf("Partner and member users can request %s in My Access, or in Teams by opening AccessBot with the request typed in.", name)))
		c.add(TextBlock{Text: "My Access: " + v.MyAccessURL, Wrap: true, Size: SizeSmall, Spacing: SpacingSmall})
		if v.ChatURL != "" {
			c.add(TextBlock{Text: "Teams: " + v.ChatURL, Wrap: true, Size: SizeSmall, Spacing: SpacingSmall})
		}
		c.Actions = []Action{ActionOpenURL{Title: "Open in My Access", URL: v.MyAccessURL}}
		if v.ChatURL != "" {
			c.Actions = append(c.Actions, ActionOpenURL{Title: "Open in Teams", URL: v.ChatURL})
		}
		c.Actions = append(c.Actions, commandButton("Show package", "/package "+v.PackageName))
	}
	return c
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
func Incompatible(v IncompatibleView) *Card {
	name := safe(v.PackageName, maxName)
	head := "You can't request " + name + " yet"
	c := newCard(head)
	c.add(title(head))
	for i, k := range v.Conflicts {
		if i == maxListItems {
			c.add(moreLine(len(v.Conflicts)-i, "conflicts"))
			break
		}
		held := safe(k.Name, maxName)
		if k.Group {
			c.add(banner(StyleWarning, fmt.Sprintf("You can't request %s while you're a member of the group %s.", name, held),
				"Ask the group's owner to remove you first; then request again."))
			continue
		}
		c.add(banner(StyleWarning, fmt.Sprintf("You can't request %s while you hold %s.", name, held),
			"Ask to remove it first; then request again."))
		if k.AssignmentID != "" {
			c.add(ActionSet{Actions: []Action{noInputs(execute("Ask to remove "+clip(held, 40), VerbAccessRemove,
				KeyAssignmentID, k.AssignmentID, KeyPackageID, k.PackageID))}})
		}
	}
	c.add(footnote("Your organization keeps these accesses apart (separation of duties). Nothing was requested."))
	c.Actions = []Action{commandButton("My access", "access")}
	return c
}
