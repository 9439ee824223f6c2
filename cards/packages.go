package cards

import (
	"strconv"
	"strings"

	"github.com/accessbot/accessbot/internal/i18n"
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
func PackageList(l *i18n.Localizer, v PackageListView) *Card {
	c := newCard(l, l.T("packages.fallback"))
	q := safe(v.Query, 80)
	if q != "" {
		c.add(title(l.T("packages.titleMatching", "Query", q)))
	} else {
		c.add(title(l.T("packages.title")))
	}
	pages := max(v.PageCount, 1)
	page := min(max(v.Page, 1), pages)
	total := max(v.Total, len(v.Packages))
	if total == 0 {
		org := safe(orDefault(v.OrgName, l.T("common.yourOrganization")), maxName)
		if q != "" {
			c.add(text(l.T("packages.noMatch", "Query", q)))
			c.Actions = []Action{commandButton(l.T("button.listAllPackages"), cmdPackages)}
		} else {
			c.add(text(l.T("packages.none", "Org", org)))
		}
		c.Actions = append(c.Actions, commandButton(l.T("button.help"), cmdHelp))
		return c
	}
	c.add(subtitle(l.N("packages.count", total, "Page", page, "Pages", pages)))
	shown := v.Packages
	if len(shown) > MaxPackagesPerPage {
		shown = shown[:MaxPackagesPerPage]
	}
	for i, p := range shown {
		c.add(packageRow(l, p, i == 0))
	}
	if rest := len(v.Packages) - len(shown); rest > 0 {
		c.add(moreLine(l.N("packages.moreOnPage", rest)))
	}
	var nav []Action
	if page > 1 {
		nav = append(nav, execute(l.T("button.previous"), VerbPackagesPage, KeyQuery, v.Query, KeyPage, strconv.Itoa(page-1)))
	}
	if page < pages {
		nav = append(nav, execute(l.T("button.next"), VerbPackagesPage, KeyQuery, v.Query, KeyPage, strconv.Itoa(page+1)))
	}
	c.Actions = nav
	return c
}

func packageRow(l *i18n.Localizer, p PackageView, first bool) Container {
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
			{Width: WidthAuto, VerticalContentAlignment: alignCenter, Items: []Element{
				ActionSet{Actions: []Action{execute(l.T("button.request"), VerbRequestOpen, KeyPackageID, p.ID)}},
			}},
		}},
	}}
}
