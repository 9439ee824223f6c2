package botframework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("botframework: marshal %T: %v", v, err))
	}
	return b
}

// outbound encodes act for the Connector in one pass: zero timestamps and empty objects left out, type
// defaulted to "message", conversation.id filled in, then replyToId / id set when given.
func outbound(act *schema.Activity, conversationID, replyToID, activityID string) ([]byte, error) {
	if act == nil {
		return nil, errors.New("activity is nil")
	}
	w, err := newWireActivity(act, conversationID)
	if err != nil {
		return nil, err
	}
	if replyToID != "" {
		w.ReplyToID = replyToID
	}
	if activityID != "" {
		w.ID = activityID
	}
	return w.encode()
}

// wireActivity is an outbound activity as the Connector gets it. It embeds the activity and shadows the
// fields schema.Activity would write for unset values (zero timestamps, empty nested objects), so the
// activity, its cards included, is encoded once (attachments, value and channelData are written verbatim).
type wireActivity struct {
	*schema.Activity
	Type             schema.ActivityTypes `json:"type"`
	ID               string               `json:"id,omitempty"`
	ReplyToID        string               `json:"replyToId,omitempty"`
	Timestamp        time.Time            `json:"timestamp,omitzero"`
	LocalTimestamp   time.Time            `json:"localTimestamp,omitzero"`
	Expiration       time.Time            `json:"expiration,omitzero"`
	From             json.RawMessage      `json:"from,omitempty"`
	Recipient        json.RawMessage      `json:"recipient,omitempty"`
	Conversation     json.RawMessage      `json:"conversation,omitempty"`
	RelatesTo        json.RawMessage      `json:"relatesTo,omitempty"`
	SuggestedActions json.RawMessage      `json:"suggestedActions,omitempty"`
	SemanticAction   json.RawMessage      `json:"semanticAction,omitempty"`
	// Attachments is never set: it hides the activity's attachments from json.Marshal, and encode appends
	// them last (so a card among them is spliced in rather than re-scanned).
	Attachments json.RawMessage `json:"attachments,omitempty"`
}

// wireJSONAppender is content that appends its own JSON exactly as json.Marshal would write it (cards.Card).
// json.Marshal re-scans and compacts a Marshaler's output, which for a card costs about as much as writing
// it; the outgoing encoders splice such content in instead.
type wireJSONAppender interface {
	AppendWireJSON(dst []byte) ([]byte, error)
}

// encode writes the activity's JSON: every field json.Marshal writes, then "attachments", each attachment
// with its content last.
func (w *wireActivity) encode() ([]byte, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode activity: %w", err)
	}
	if len(w.Activity.Attachments) == 0 {
		return b, nil
	}
	out := append(openObject(b), `"attachments":[`...)
	for i, a := range w.Activity.Attachments {
		if i > 0 {
			out = append(out, ',')
		}
		if out, err = appendWithLast(out, a, "content", a.Content, func(a *schema.Attachment) { a.Content = nil }); err != nil {
			return nil, fmt.Errorf("encode activity: attachment %d: %w", i, err)
		}
	}
	return append(out, "]}"...), nil
}

// appendWithLast appends v's JSON with the property name = value written last: v is encoded by json.Marshal
// with value cleared by drop (its field must be omitempty), and value is appended as the last property,
// spliced in when it is a wireJSONAppender. A nil value is left out, as omitempty would.
func appendWithLast[T any](dst []byte, v T, name string, value any, drop func(*T)) ([]byte, error) {
	appender, ok := value.(wireJSONAppender)
	if rv := reflect.ValueOf(value); !ok || rv.Kind() == reflect.Pointer && rv.IsNil() { // a nil card: "null"
		b, err := json.Marshal(v)
		return append(dst, b...), err
	}
	drop(&v)
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	dst = append(append(append(dst, openObject(b)...), '"'), name...)
	if dst, err = appender.AppendWireJSON(append(dst, '"', ':')); err != nil {
		return dst, fmt.Errorf("encode %s: %w", name, err)
	}
	return append(dst, '}'), nil
}

// openObject returns the JSON object obj without its closing brace and ready for one more property: with a
// trailing comma unless the object is empty.
func openObject(obj []byte) []byte {
	open := obj[:len(obj)-1]
	if len(open) > 1 {
		return append(open, ',')
	}
	return open
}

// newWireActivity prepares act for encoding; a zero conversation becomes {"id": conversationID} when
// conversationID is not empty.
func newWireActivity(act *schema.Activity, conversationID string) (*wireActivity, error) {
	w := &wireActivity{Activity: act, Type: act.Type, ID: act.ID, ReplyToID: act.ReplyToID,
		Timestamp: act.Timestamp, LocalTimestamp: act.LocalTimestamp, Expiration: act.Expiration}
	if w.Type == "" {
		w.Type = TypeMessage
	}
	var err error
	for _, f := range []struct {
		name string
		dst  *json.RawMessage
		v    any
	}{
		{"from", &w.From, act.From}, {"recipient", &w.Recipient, act.Recipient}, {"conversation", &w.Conversation, act.Conversation},
		{"relatesTo", &w.RelatesTo, act.RelatesTo}, {"suggestedActions", &w.SuggestedActions, act.SuggestedActions},
		{"semanticAction", &w.SemanticAction, act.SemanticAction},
	} {
		if *f.dst, err = nested(f.v); err != nil {
			return nil, fmt.Errorf("clean %s: %w", f.name, err)
		}
	}
	if w.Conversation == nil && conversationID != "" {
		w.Conversation = mustJSON(map[string]string{"id": conversationID})
	}
	return w, nil
}

// nested encodes a small nested object without its empty parts; nil when nothing is left. The zero value
// (the common case: the bot sets none of these on a reply) costs no encoding at all.
func nested(v any) (json.RawMessage, error) {
	if reflect.ValueOf(v).IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	pruned, empty, err := pruneEmpty(b)
	if err != nil || empty {
		return nil, err
	}
	return pruned, nil
}

// pruneEmpty removes empty objects (recursively) from a JSON object; empty reports whether nothing is
// left. Non-object values are returned unchanged.
func pruneEmpty(raw json.RawMessage) (json.RawMessage, bool, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return raw, true, nil
	}
	if trimmed[0] != '{' {
		return raw, string(trimmed) == "null", nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, false, err
	}
	for k, v := range obj {
		p, empty, err := pruneEmpty(v)
		if err != nil {
			return nil, false, err
		}
		if empty {
			delete(obj, k)
		} else {
			obj[k] = p
		}
	}
	if len(obj) == 0 {
		return nil, true, nil
	}
	out, err := json.Marshal(obj)
	return out, false, err
}

// outboundConversationParameters encodes p without the empty bot object or the zero activity that
// schema.ConversationParameters would otherwise carry. The bot and the activity are encoded on their own (the
// activity's cards spliced in by its wireActivity), not also as part of p.
func outboundConversationParameters(p schema.ConversationParameters) ([]byte, error) {
	bot, act := p.Bot, p.Activity
	p.Bot, p.Activity = schema.ChannelAccount{}, schema.Activity{}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode conversation parameters: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("re-decode conversation parameters: %w", err)
	}
	delete(m, "bot")
	if cleaned, err := nested(bot); err != nil {
		return nil, fmt.Errorf("clean bot: %w", err)
	} else if cleaned != nil {
		m["bot"] = cleaned
	}
	delete(m, "activity")
	if !reflect.ValueOf(act).IsZero() {
		w, err := newWireActivity(&act, "")
		if err != nil {
			return nil, err
		}
		if m["activity"], err = w.encode(); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}
