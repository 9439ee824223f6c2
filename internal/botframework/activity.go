package botframework

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// Activity types and invoke names used by AccessBot.
const (
	TypeMessage            = "message"
	TypeInvoke             = "invoke"
	TypeConversationUpdate = "conversationUpdate"
	TypeInstallationUpdate = "installationUpdate"

	InvokeAdaptiveCardAction  = "adaptiveCard/action"
	InvokeSigninTokenExchange = "signin/tokenExchange"
	InvokeSigninVerifyState   = "signin/verifyState"
)

// DecodeActivity decodes an inbound activity leniently: unknown fields are ignored, and a known field
// whose JSON does not fit its type (a bad timestamp, a non-object value, …) is dropped instead of
// failing the whole activity. The result must have type, serviceUrl (an absolute http(s) URL) and
// conversation.id; otherwise the error (matching ErrInvalidActivity) names the missing field.
//
// A well-formed activity is decoded once, straight into schema.Activity; only when that fails is the body read
// as an object of raw fields (to tell a non-object from a misfit field, and to decode field by field).
func DecodeActivity(data []byte) (*schema.Activity, error) {
	act := &schema.Activity{}
	if err := json.Unmarshal(data, act); err != nil {
		// Unmarshal fails on any body that is not an object (or null) before a field does, so the raw
		// decode below fails exactly where the struct decode failed for that reason.
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return nil, fmt.Errorf("%w: body is not a JSON object: %v", ErrInvalidActivity, err)
		}
		act, err = decodeFieldByField(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidActivity, err)
		}
	}
	if err := validateActivity(act); err != nil {
		return nil, err
	}
	return act, nil
}

// decodeFieldByField drops every top-level field that does not decode into schema.Activity and decodes
// the rest.
func decodeFieldByField(raw map[string]json.RawMessage) (*schema.Activity, error) {
	keep := make(map[string]json.RawMessage, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		one, err := json.Marshal(map[string]json.RawMessage{k: raw[k]})
		if err != nil {
			continue
		}
		if err := json.Unmarshal(one, &schema.Activity{}); err != nil {
			continue
		}
		keep[k] = raw[k]
	}
	clean, err := json.Marshal(keep)
	if err != nil {
		return nil, fmt.Errorf("re-encode activity: %w", err)
	}
	act := &schema.Activity{}
	if err := json.Unmarshal(clean, act); err != nil {
		// Case-insensitive duplicates of a key can still collide; give up with the decoder's message.
		return nil, fmt.Errorf("decode activity: %w", err)
	}
	return act, nil
}

func validateActivity(act *schema.Activity) error {
	if strings.TrimSpace(string(act.Type)) == "" {
		return fmt.Errorf("%w: field \"type\" is missing or empty", ErrInvalidActivity)
	}
	if act.ServiceURL == "" {
		return fmt.Errorf("%w: field \"serviceUrl\" is missing or empty", ErrInvalidActivity)
	}
	if _, err := parseHTTPURL(act.ServiceURL); err != nil {
		return fmt.Errorf("%w: field \"serviceUrl\": %v", ErrInvalidActivity, err)
	}
	if strings.TrimSpace(act.Conversation.ID) == "" {
		return fmt.Errorf("%w: field \"conversation.id\" is missing or empty", ErrInvalidActivity)
	}
	return nil
}

// TenantID returns the activity's tenant: conversation.tenantId, else channelData.tenant.id.
func TenantID(act *schema.Activity) string {
	if act == nil {
		return ""
	}
	if act.Conversation.TenantID != "" {
		return act.Conversation.TenantID
	}
	if tenant, ok := act.ChannelData["tenant"].(map[string]any); ok {
		if id, ok := tenant["id"].(string); ok {
			return id
		}
	}
	return ""
}

// IsPersonal reports whether the activity comes from a 1:1 chat with the bot: conversationType
// "personal", or no conversationType and not a group.
func IsPersonal(act *schema.Activity) bool {
	if act == nil {
		return false
	}
	switch act.Conversation.ConversationType {
	case "personal":
		return true
	case "":
		return !act.Conversation.IsGroup
	default:
		return false
	}
}

var mentionRE = regexp.MustCompile(`(?is)\s*<at\b[^>]*>.*?</at>\s*`)

// StripMentions removes every <at>…</at> mention from text, joins the remaining words with a single
// space where a mention was, and trims the result.
func StripMentions(text string) string {
	return strings.TrimSpace(mentionRE.ReplaceAllString(text, " "))
}

// InvokeAction extracts an Action.Execute from an adaptiveCard/action invoke: the verb, the action's
// data (an empty map when absent) and, when Teams retried the invoke after an SSO login request, the
// user token from value.authentication.token.
func InvokeAction(act *schema.Activity) (verb string, data map[string]any, authToken string, err error) {
	if act == nil {
		return "", nil, "", fmt.Errorf("%w: no activity", ErrInvalidActivity)
	}
	if act.Type != TypeInvoke || act.Name != InvokeAdaptiveCardAction {
		return "", nil, "", fmt.Errorf("%w: not an %s invoke (type %q, name %q)", ErrInvalidActivity, InvokeAdaptiveCardAction, act.Type, act.Name)
	}
	action, ok := act.Value["action"].(map[string]any)
	if !ok {
		return "", nil, "", fmt.Errorf("%w: value.action is missing or not an object", ErrInvalidActivity)
	}
	if t, ok := action["type"].(string); ok && t != "" && t != "Action.Execute" {
		return "", nil, "", fmt.Errorf("%w: value.action.type is %q, expected Action.Execute", ErrInvalidActivity, t)
	}
	verb, _ = action["verb"].(string)
	if strings.TrimSpace(verb) == "" {
		return "", nil, "", fmt.Errorf("%w: value.action.verb is missing or not a string", ErrInvalidActivity)
	}
	switch d := action["data"].(type) {
	case nil:
		data = map[string]any{}
	case map[string]any:
		data = d
	default:
		return "", nil, "", fmt.Errorf("%w: value.action.data must be an object, got %T", ErrInvalidActivity, d)
	}
	if auth, ok := act.Value["authentication"].(map[string]any); ok {
		authToken, _ = auth["token"].(string)
	}
	return verb, data, authToken, nil
}

// SubmitValue returns the Action.Submit payload of a message activity (its value), or nil when the
// activity is not a message or carries no value.
func SubmitValue(act *schema.Activity) map[string]any {
	if act == nil || act.Type != TypeMessage || len(act.Value) == 0 {
		return nil
	}
	return act.Value
}

// Reference returns the conversation reference of an inbound activity, to store for proactive
// messages: the user is the sender, the bot the recipient.
func Reference(act *schema.Activity) schema.ConversationReference {
	if act == nil {
		return schema.ConversationReference{}
	}
	return schema.ConversationReference{
		ActivityID:   act.ID,
		User:         act.From,
		Bot:          act.Recipient,
		Conversation: act.Conversation,
		ChannelID:    act.ChannelID,
		ServiceURL:   act.ServiceURL,
	}
}
