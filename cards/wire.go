package cards

// The wire form of a card: the tree re-expressed with each element's "type" as a field, so that encoding/json
// writes a whole card in one pass. Each element type keeps a MarshalJSON of its own (so it encodes alone), but
// inside a card they are never called: a nested MarshalJSON would make the encoder re-scan and compact the
// element's output at every level of nesting (most of a card's encoding cost, measured by BenchmarkCardJSON).
//
// Field order is the element's declared order after "type", as the golden files record it.

import (
	"bytes"
	"encoding/json"
	"slices"
)

type (
	plainTextBlock      TextBlock
	plainFactSet        FactSet
	plainInputText      InputText
	plainInputChoiceSet InputChoiceSet
	plainInputDate      InputDate
	plainInputToggle    InputToggle
	plainActionExecute  ActionExecute
	plainActionSubmit   ActionSubmit
	plainActionOpenURL  ActionOpenURL
)

// The leaf elements and actions (none holds another element) with their "type".
type (
	wireTextBlock struct {
		Type string `json:"type"`
		plainTextBlock
	}
	wireFactSet struct {
		Type string `json:"type"`
		plainFactSet
	}
	wireInputText struct {
		Type string `json:"type"`
		plainInputText
	}
	wireInputChoiceSet struct {
		Type string `json:"type"`
		plainInputChoiceSet
	}
	wireInputDate struct {
		Type string `json:"type"`
		plainInputDate
	}
	wireInputToggle struct {
		Type string `json:"type"`
		plainInputToggle
	}
	wireActionExecute struct {
		Type string `json:"type"`
		plainActionExecute
	}
	wireActionSubmit struct {
		Type string `json:"type"`
		plainActionSubmit
	}
	wireActionOpenURL struct {
		Type string `json:"type"`
		plainActionOpenURL
	}
)

type wireCard struct {
	Schema       string       `json:"$schema,omitempty"`
	Type         string       `json:"type"`
	Version      string       `json:"version,omitempty"`
	Refresh      *wireRefresh `json:"refresh,omitempty"`
	Body         []any        `json:"body,omitempty"`
	Actions      []any        `json:"actions,omitempty"`
	Lang         string       `json:"lang,omitempty"`
	FallbackText string       `json:"fallbackText,omitempty"`
	Speak        string       `json:"speak,omitempty"`
}

type wireRefresh struct {
	Action  any      `json:"action"`
	UserIDs []string `json:"userIds,omitempty"`
}

type wireColumn struct {
	Type                     string `json:"type"`
	ID                       string `json:"id,omitempty"`
	Items                    []any  `json:"items,omitempty"`
	Width                    string `json:"width,omitempty"`
	VerticalContentAlignment string `json:"verticalContentAlignment,omitempty"`
	Style                    string `json:"style,omitempty"`
	Spacing                  string `json:"spacing,omitempty"`
	Separator                bool   `json:"separator,omitempty"`
}

type wireColumnSet struct {
	Type      string       `json:"type"`
	ID        string       `json:"id,omitempty"`
	Columns   []wireColumn `json:"columns,omitempty"`
	Style     string       `json:"style,omitempty"`
	Spacing   string       `json:"spacing,omitempty"`
	Separator bool         `json:"separator,omitempty"`
}

type wireContainer struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	Items     []any  `json:"items"`
	Style     string `json:"style,omitempty"`
	Bleed     bool   `json:"bleed,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
}

type wireActionSet struct {
	Type      string `json:"type"`
	ID        string `json:"id,omitempty"`
	Actions   []any  `json:"actions"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
}

type wireShowCard struct {
	Type    string   `json:"type"`
	ID      string   `json:"id,omitempty"`
	Title   string   `json:"title,omitempty"`
	Tooltip string   `json:"tooltip,omitempty"`
	Mode    string   `json:"mode,omitempty"`
	Card    wireCard `json:"card"`
}

// wireOf returns the wire form of a card's element or action.
func wireOf(v any) any {
	switch e := v.(type) {
	case TextBlock:
		return wireTextBlock{"TextBlock", plainTextBlock(e)}
	case FactSet:
		return wireFactSet{"FactSet", plainFactSet(e)}
	case InputText:
		return wireInputText{"Input.Text", plainInputText(e)}
	case InputChoiceSet:
		return wireInputChoiceSet{"Input.ChoiceSet", plainInputChoiceSet(e)}
	case InputDate:
		return wireInputDate{"Input.Date", plainInputDate(e)}
	case InputToggle:
		return wireInputToggle{"Input.Toggle", plainInputToggle(e)}
	case ActionExecute:
		return wireActionExecute{"Action.Execute", plainActionExecute(e)}
	case ActionSubmit:
		return wireActionSubmit{"Action.Submit", plainActionSubmit(e)}
	case ActionOpenURL:
		return wireActionOpenURL{"Action.OpenUrl", plainActionOpenURL(e)}
	case Column:
		return wireColumnOf(e)
	case ColumnSet:
		cols := make([]wireColumn, len(e.Columns))
		for i, c := range e.Columns {
			cols[i] = wireColumnOf(c)
		}
		return wireColumnSet{"ColumnSet", e.ID, cols, e.Style, e.Spacing, e.Separator}
	case Container:
		return wireContainer{"Container", e.ID, wireAll(e.Items), e.Style, e.Bleed, e.Spacing, e.Separator}
	case ActionSet:
		return wireActionSet{"ActionSet", e.ID, wireAll(e.Actions), e.Spacing, e.Separator}
	case ActionShowCard:
		inline := wireCard{Type: "AdaptiveCard", Body: wireAll(e.Card.Body), Actions: wireAll(e.Card.Actions)}
		return wireShowCard{"Action.ShowCard", e.ID, e.Title, e.Tooltip, e.Mode, inline}
	}
	return v // nil, or a type without a wire form: encoded by its own MarshalJSON
}

func wireColumnOf(c Column) wireColumn {
	return wireColumn{"Column", c.ID, wireAll(c.Items), c.Width, c.VerticalContentAlignment, c.Style, c.Spacing, c.Separator}
}

// wireAll converts a list of elements or actions; nil stays nil (so omitempty still omits it) and an empty
// list stays empty (so a required list is still written as []).
func wireAll[T any](list []T) []any {
	if list == nil {
		return nil
	}
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = wireOf(v)
	}
	return out
}

// wireCardOf is the top-level card's wire form, with its fixed "$schema", "type" and "version".
func wireCardOf(c Card) wireCard {
	w := wireCard{Schema: SchemaURL, Type: "AdaptiveCard", Version: Version, Body: wireAll(c.Body), Actions: wireAll(c.Actions),
		Lang: c.Lang, FallbackText: c.FallbackText, Speak: c.Speak}
	if c.Refresh != nil {
		w.Refresh = &wireRefresh{Action: wireOf(c.Refresh.Action), UserIDs: c.Refresh.UserIDs}
	}
	return w
}

// AppendWireJSON appends the card's JSON to dst exactly as json.Marshal writes the card inside another value
// (an activity's attachment, an invoke response): MarshalJSON's compact JSON with "<", ">", "&", U+2028 and
// U+2029 escaped. json.Marshal re-scans and compacts every Marshaler's output, which costs about as much as
// writing the card; a caller that knows this method (botframework's outgoing encoders) splices the card in
// instead.
func (c Card) AppendWireJSON(dst []byte) ([]byte, error) {
	raw, err := c.MarshalJSON()
	if err != nil {
		return dst, err
	}
	// Room for the card and a few closing bytes of the caller's: one allocation, not append's doublings.
	return appendHTMLEscaped(slices.Grow(dst, len(raw)+16), raw), nil
}

// appendHTMLEscaped appends src with the escapes json.Marshal writes into a Marshaler's output
// (json.HTMLEscape): "<", ">" and "&" as \u003c, \u003e, \u0026, and U+2028, U+2029 as \u2028, \u2029.
func appendHTMLEscaped(dst, src []byte) []byte {
	buf := bytes.NewBuffer(dst) // writes after dst's bytes, into its spare capacity
	json.HTMLEscape(buf, src)
	return buf.Bytes()
}
