package cards

import (
	"fmt"
	"strconv"
	"strings"
)

// PackageView is one access package in a list.
type PackageView struct {
	ID          string
	Name        string
	Description string
	// CatalogName is the catalog the package belongs to ("Project Falcon").
	CatalogName string
	// Summary is an optional one-liner such as "Manager approval · 180 days".
	Summary string
}

// PackageListView is one page of a package search.
type PackageListView struct {
	// Query is what the user searched for; empty for "everything you can request".
	Query string
	// Page is the 1-based page shown; PageCount the number of pages; Total the number of matches.
	Page, PageCount, Total int
	// Packages are this page's packages. The card shows at most MaxPackagesPerPage of them.
	Packages []PackageView
	// OrgName is the resource organization ("Contoso").
	OrgName string
}

// MaxPackagesPerPage is the most packages one PackageList card shows; the bot pages by this size.
const MaxPackagesPerPage = maxListItems

// PackageList is a page of packages the user may request, each with a Request button, and Previous/Next.
func PackageList(v PackageListView) *Card {
	c := newCard("Access packages you can request.")
	q := safe(v.Query, 80)
	if q != "" {
		c.add(title(fmt.Sprintf("Packages matching \"%s\"", q)))
	} else {
		c.add(title("Packages you can request"))
	}
	pages := max(v.PageCount, 1)
	page := min(max(v.Page, 1), pages)
	total := max(v.Total, len(v.Packages))
	if total == 0 {
		org := safe(orDefault(v.OrgName, "your organization"), maxName)
		if q != "" {
			c.add(text(fmt.Sprintf("Nothing you can request matches \"%s\". Try fewer or other words, or list everything.", q)))
			c.Actions = []Action{commandButton("List all packages", "packages")}
		} else {
			c.add(text(fmt.Sprintf("There's nothing in %s you can request right now. Packages appear here when an "+
				"admin makes one available to you; ask your %s contact if you expected one.", org, org)))
		}
		c.Actions = append(c.Actions, commandButton("Help", "help"))
		return c
	}
	c.add(subtitle(fmt.Sprintf("%s · page %d of %d", plural(total, "package"), page, pages)))
	shown := v.Packages
	if len(shown) > MaxPackagesPerPage {
		shown = shown[:MaxPackagesPerPage]
	}
	for i, p := range shown {
		c.add(packageRow(p, i == 0))
	}
	if rest := len(v.Packages) - len(shown); rest > 0 {
		c.add(moreLine(rest, "on this page; narrow the search to see them"))
	}
	var nav []Action
	if page > 1 {
		nav = append(nav, execute("Previous", VerbPackagesPage, KeyQuery, v.Query, KeyPage, strconv.Itoa(page-1)))
	}
	if page < pages {
		nav = append(nav, execute("Next", VerbPackagesPage, KeyQuery, v.Query, KeyPage, strconv.Itoa(page+1)))
	}
	c.Actions = nav
	return c
}

func packageRow(p PackageView, first bool) Container {
	meta := safe(p.CatalogName, maxName)
	if p.Summary != "" {
		meta = strings.TrimPrefix(meta+" · "+safe(p.Summary, maxShort), " · ")
	}
	left := []Element{TextBlock{Text: safe(orDefault(p.Name, p.ID), maxName), Wrap: true, Weight: WeightBolder}}
	if meta != "" {
		left = append(left, TextBlock{Text: meta, Wrap: true, IsSubtle: true, Size: SizeSmall, Spacing: SpacingNone})
	}
	if d := safe(p.Description, maxDescription); d != "" {
		left = append(left, TextBlock{Text: d, Wrap: true, Spacing: SpacingSmall, MaxLines: 3})
	}
	return Container{Separator: !first, Spacing: SpacingMedium, Items: []Element{
		ColumnSet{Columns: []Column{
			{Width: WidthStretch, Items: left},
			{Width: WidthAuto, VerticalContentAlignment: "center", Items: []Element{
				ActionSet{Actions: []Action{execute("Request", VerbRequestOpen, KeyPackageID, p.ID)}},
			}},
		}},
	}}
}
