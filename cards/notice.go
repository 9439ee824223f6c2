package cards

import "github.com/accessbot/accessbot/internal/i18n"

// NoticeKind is the tone of a Notice.
type NoticeKind string

// The notice kinds.
const (
	NoticeInfo    NoticeKind = "info"
	NoticeSuccess NoticeKind = "success"
	NoticeWarning NoticeKind = "warning"
	NoticeError   NoticeKind = "error"
)

// Suggestion is a button that runs a chat command ("Did you mean packages?").
type Suggestion struct {
	// Title is the button text; Command the command it runs (default: Title).
	Title   string
	Command string
}

// NoticeView is a short message.
type NoticeView struct {
	Kind  NoticeKind
	Title string
	Text  string
	// Details are extra lines under the text (e.g. which argument was wrong and what was expected).
	Details []string
	// Suggestions become command buttons (at most five).
	Suggestions []Suggestion
	// Link, when its URL is set, becomes an Action.OpenUrl button before the suggestions.
	Link Link
}

// Link is a button that opens a URL.
type Link struct {
	Title string
	URL   string
}

// Notice is a short info / success / warning / error card with optional suggestion buttons.
func Notice(l *i18n.Localizer, v NoticeView) *Card {
	t := safe(v.Title, maxShort)
	body := safe(v.Text, maxLong)
	c := newCard(l, orDefault(t, body))
	style, label := StyleEmphasis, l.T("notice.info")
	switch v.Kind {
	case NoticeSuccess:
		style, label = StyleGood, l.T("notice.success")
	case NoticeWarning:
		style, label = StyleWarning, l.T("notice.warning")
	case NoticeError:
		style, label = StyleAttention, l.T("notice.error")
	}
	items := []Element{TextBlock{Text: orDefault(t, label), Wrap: true, Weight: WeightBolder, Size: SizeMedium}}
	if body != "" {
		items = append(items, TextBlock{Text: body, Wrap: true, Spacing: SpacingSmall})
	}
	for i, d := range v.Details {
		if i == maxFacts {
			items = append(items, moreLine(l.N("notice.moreDetails", len(v.Details)-i)))
			break
		}
		items = append(items, TextBlock{Text: safe(d, maxShort), Wrap: true, Size: SizeSmall, Spacing: SpacingSmall})
	}
	c.add(Container{Style: style, Items: items})
	if v.Link.URL != "" {
		c.Actions = append(c.Actions, ActionOpenURL{Title: safe(orDefault(v.Link.Title, l.T("common.open")), maxShort), URL: v.Link.URL})
	}
	for i, s := range v.Suggestions {
		if i == maxSuggestions {
			break
		}
		cmd := orDefault(s.Command, s.Title)
		c.Actions = append(c.Actions, commandButton(orDefault(s.Title, cmd), cmd))
	}
	return c
}
