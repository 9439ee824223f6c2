// Package cards builds every Adaptive Card AccessBot sends.
//
// The package has two layers. The first is a small set of typed Go structs for the Adaptive Cards 1.5
// elements and actions AccessBot uses (Card, TextBlock, FactSet, ColumnSet, Container, ActionSet, the
// inputs and the actions); they marshal to clean JSON with a "type" property and no empty fields. The
// second is one constructor per card (Welcome, Help, PackageList, RequestForm, RequestStatus, Approval, …),
// each taking a small view struct that the bot fills from domain data. The package imports nothing of
// AccessBot's: the views are its whole contract.
//
// Every constructor bounds its output: long texts are clipped and long lists are cut with an "and N more"
// line, so that a card stays under MaxCardBytes whatever the view holds.
package cards

import (
	"bytes"
	"encoding/json"
	"fmt"
)

const (
	// SchemaURL is the value of the card's "$schema" property.
	SchemaURL = "http://adaptivecards.io/schemas/adaptive-card.json"
	// Version is the Adaptive Card schema version every card declares; Teams supports at most 1.5.
	Version = "1.5"
	// ContentType is the attachment content type for an Adaptive Card.
	ContentType = "application/vnd.microsoft.card.adaptive"
	// MaxCardBytes is the size budget of one card's compact JSON. Teams messages are limited to about
	// 40 KB including the activity envelope; cards stay well below that.
	MaxCardBytes = 28 * 1024
)

// Card is a top-level Adaptive Card. Its JSON always carries "$schema", "type": "AdaptiveCard" and
// "version": "1.5".
type Card struct {
	// Refresh makes Teams re-fetch the card for the listed users (Universal Actions).
	Refresh *Refresh `json:"refresh,omitempty"`
	// Body holds the card's elements, top to bottom.
	Body []Element `json:"body,omitempty"`
	// Actions are the buttons of the card's action bar.
	Actions []Action `json:"actions,omitempty"`
	// Lang is the card's language (ISO 639-1); clients format its DATE()/TIME() functions in it.
	Lang string `json:"lang,omitempty"`
	// FallbackText is shown by clients that cannot render the card.
	FallbackText string `json:"fallbackText,omitempty"`
	// Speak is what a voice client reads out.
	Speak string `json:"speak,omitempty"`
}

// MarshalJSON writes the card with its fixed "$schema", "type" and "version" properties first, with every
// invisible or direction-changing character removed from its strings (cleanJSON).
func (c Card) MarshalJSON() ([]byte, error) {
	raw, err := marshal(wireCardOf(c))
	if err != nil {
		return nil, err
	}
	return cleanJSON(raw), nil
}

// JSON returns the card's compact JSON, without HTML escaping (so "<", ">" and "&" stay readable).
func (c *Card) JSON() ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("marshal card: card is nil")
	}
	raw, err := c.MarshalJSON() // not through an encoder, which would re-scan and compact the card's output
	if err != nil {
		return nil, fmt.Errorf("marshal card: %w", err)
	}
	return raw, nil
}

// marshal is json.Marshal without HTML escaping: element MarshalJSON methods use it so that the nested
// output keeps "<", ">" and "&" readable (the outer encoder cannot undo an inner escape).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Element is a card body element: TextBlock, FactSet, ColumnSet, Container, ActionSet or an input.
type Element interface {
	isElement()
}

// Action is a button: ActionExecute, ActionSubmit, ActionOpenURL or ActionShowCard.
type Action interface {
	isAction()
}

// Spacing values (Adaptive Cards "Spacing").
const (
	SpacingNone       = "none"
	SpacingSmall      = "small"
	SpacingDefault    = "default"
	SpacingMedium     = "medium"
	SpacingLarge      = "large"
	SpacingExtraLarge = "extraLarge"
)

// Text colors (Adaptive Cards "Colors").
const (
	ColorDefault   = "default"
	ColorAccent    = "accent"
	ColorGood      = "good"
	ColorWarning   = "warning"
	ColorAttention = "attention"
)

// Font sizes and weights.
const (
	SizeSmall      = "small"
	SizeMedium     = "medium"
	SizeLarge      = "large"
	WeightBolder   = "bolder"
	WeightLighter  = "lighter"
	StyleHeading   = "heading"
	StyleEmphasis  = "emphasis"
	StyleGood      = "good"
	StyleAttention = "attention"
	StyleWarning   = "warning"
	StyleAccent    = "accent"
)

// Column widths.
const (
	WidthAuto    = "auto"
	WidthStretch = "stretch"
)

// TextBlock shows text. Wrap should almost always be true.
type TextBlock struct {
	ID        string `json:"id,omitempty"`
	Text      string `json:"text"`
	Wrap      bool   `json:"wrap,omitempty"`
	Size      string `json:"size,omitempty"`
	Weight    string `json:"weight,omitempty"`
	Color     string `json:"color,omitempty"`
	IsSubtle  bool   `json:"isSubtle,omitempty"`
	MaxLines  int    `json:"maxLines,omitempty"`
	Style     string `json:"style,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
	// HorizontalAlignment is left, center or right.
	HorizontalAlignment string `json:"horizontalAlignment,omitempty"`
}

// MarshalJSON writes the element with its "type".
func (e TextBlock) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (TextBlock) isElement() {}

// Fact is one title/value row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// FactSet shows a list of title/value pairs.
type FactSet struct {
	ID        string `json:"id,omitempty"`
	Facts     []Fact `json:"facts"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
}

// MarshalJSON writes the element with its "type".
func (e FactSet) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (FactSet) isElement() {}

// Column is one column of a ColumnSet.
type Column struct {
	ID    string    `json:"id,omitempty"`
	Items []Element `json:"items,omitempty"`
	// Width is "auto", "stretch", a weight ("2") or pixels ("50px").
	Width string `json:"width,omitempty"`
	// VerticalContentAlignment is top, center or bottom.
	VerticalContentAlignment string `json:"verticalContentAlignment,omitempty"`
	Style                    string `json:"style,omitempty"`
	Spacing                  string `json:"spacing,omitempty"`
	Separator                bool   `json:"separator,omitempty"`
}

// MarshalJSON writes the column with its "type".
func (e Column) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

// ColumnSet lays columns out side by side.
type ColumnSet struct {
	ID        string   `json:"id,omitempty"`
	Columns   []Column `json:"columns,omitempty"`
	Style     string   `json:"style,omitempty"`
	Spacing   string   `json:"spacing,omitempty"`
	Separator bool     `json:"separator,omitempty"`
}

// MarshalJSON writes the element with its "type".
func (e ColumnSet) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (ColumnSet) isElement() {}

// Container groups elements, optionally with a style (emphasis, good, attention, warning, accent).
type Container struct {
	ID        string    `json:"id,omitempty"`
	Items     []Element `json:"items"`
	Style     string    `json:"style,omitempty"`
	Bleed     bool      `json:"bleed,omitempty"`
	Spacing   string    `json:"spacing,omitempty"`
	Separator bool      `json:"separator,omitempty"`
}

// MarshalJSON writes the element with its "type".
func (e Container) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (Container) isElement() {}

// ActionSet shows buttons inside the body.
type ActionSet struct {
	ID        string   `json:"id,omitempty"`
	Actions   []Action `json:"actions"`
	Spacing   string   `json:"spacing,omitempty"`
	Separator bool     `json:"separator,omitempty"`
}

// MarshalJSON writes the element with its "type".
func (e ActionSet) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (ActionSet) isElement() {}

// InputText is a text field. Regex and IsRequired are checked by the client before the action is sent;
// the bot checks again.
type InputText struct {
	ID           string `json:"id"`
	Label        string `json:"label,omitempty"`
	Placeholder  string `json:"placeholder,omitempty"`
	Value        string `json:"value,omitempty"`
	IsMultiline  bool   `json:"isMultiline,omitempty"`
	MaxLength    int    `json:"maxLength,omitempty"`
	Regex        string `json:"regex,omitempty"`
	IsRequired   bool   `json:"isRequired,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Spacing      string `json:"spacing,omitempty"`
	Separator    bool   `json:"separator,omitempty"`
}

// MarshalJSON writes the input with its "type".
func (e InputText) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (InputText) isElement() {}

// Choice is one option of an InputChoiceSet.
type Choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// InputChoiceSet is a drop-down (style compact) or a radio/check list (style expanded).
type InputChoiceSet struct {
	ID            string   `json:"id"`
	Label         string   `json:"label,omitempty"`
	Choices       []Choice `json:"choices"`
	Value         string   `json:"value,omitempty"`
	Placeholder   string   `json:"placeholder,omitempty"`
	Style         string   `json:"style,omitempty"`
	IsMultiSelect bool     `json:"isMultiSelect,omitempty"`
	Wrap          bool     `json:"wrap,omitempty"`
	IsRequired    bool     `json:"isRequired,omitempty"`
	ErrorMessage  string   `json:"errorMessage,omitempty"`
	Spacing       string   `json:"spacing,omitempty"`
	Separator     bool     `json:"separator,omitempty"`
}

// MarshalJSON writes the input with its "type".
func (e InputChoiceSet) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (InputChoiceSet) isElement() {}

// InputDate is a date picker; Value, Min and Max are YYYY-MM-DD.
type InputDate struct {
	ID           string `json:"id"`
	Label        string `json:"label,omitempty"`
	Value        string `json:"value,omitempty"`
	Min          string `json:"min,omitempty"`
	Max          string `json:"max,omitempty"`
	Placeholder  string `json:"placeholder,omitempty"`
	IsRequired   bool   `json:"isRequired,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Spacing      string `json:"spacing,omitempty"`
	Separator    bool   `json:"separator,omitempty"`
}

// MarshalJSON writes the input with its "type".
func (e InputDate) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(e))
}

func (InputDate) isElement() {}

// ActionExecute is a Universal Action: Teams sends an adaptiveCard/action invoke with Verb and Data (plus the
// card's input values) and shows the card the bot answers with.
type ActionExecute struct {
	ID    string         `json:"id,omitempty"`
	Title string         `json:"title,omitempty"`
	Verb  string         `json:"verb"`
	Data  map[string]any `json:"data,omitempty"`
	// AssociatedInputs is "none" for buttons that must not validate or send the inputs (Cancel, Refresh).
	AssociatedInputs string `json:"associatedInputs,omitempty"`
	Style            string `json:"style,omitempty"`
	Tooltip          string `json:"tooltip,omitempty"`
	// Mode "secondary" moves the button to the overflow menu.
	Mode string `json:"mode,omitempty"`
}

// MarshalJSON writes the action with its "type".
func (a ActionExecute) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(a))
}

func (ActionExecute) isAction() {}

// ActionSubmit sends a message activity whose value is Data plus the card's input values.
type ActionSubmit struct {
	ID               string         `json:"id,omitempty"`
	Title            string         `json:"title,omitempty"`
	Data             map[string]any `json:"data,omitempty"`
	AssociatedInputs string         `json:"associatedInputs,omitempty"`
	Style            string         `json:"style,omitempty"`
	Tooltip          string         `json:"tooltip,omitempty"`
	Mode             string         `json:"mode,omitempty"`
}

// MarshalJSON writes the action with its "type".
func (a ActionSubmit) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(a))
}

func (ActionSubmit) isAction() {}

// ActionOpenURL opens a link.
type ActionOpenURL struct {
	ID      string `json:"id,omitempty"`
	Title   string `json:"title,omitempty"`
	URL     string `json:"url"`
	Style   string `json:"style,omitempty"`
	Tooltip string `json:"tooltip,omitempty"`
	Mode    string `json:"mode,omitempty"`
}

// MarshalJSON writes the action with its "type".
func (a ActionOpenURL) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(a))
}

func (ActionOpenURL) isAction() {}

// ActionShowCard reveals an inline card below the action bar.
type ActionShowCard struct {
	ID      string `json:"id,omitempty"`
	Title   string `json:"title,omitempty"`
	Card    Card   `json:"-"`
	Tooltip string `json:"tooltip,omitempty"`
	Mode    string `json:"mode,omitempty"`
}

// MarshalJSON writes the action with its "type" and its inline card (which carries no "$schema" or
// "version": they belong to the top-level card only).
func (a ActionShowCard) MarshalJSON() ([]byte, error) {
	return marshal(wireOf(a))
}

func (ActionShowCard) isAction() {}

// Refresh asks Teams to run Action for each of UserIDs (at most MaxRefreshUserIDs) when they view the card,
// so that each of them sees their own version of it.
type Refresh struct {
	Action  ActionExecute `json:"action"`
	UserIDs []string      `json:"userIds,omitempty"`
}

// MaxRefreshUserIDs is the most user ids Teams accepts in refresh.userIds.
const MaxRefreshUserIDs = 60
