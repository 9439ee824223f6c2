package botframework

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

func loadFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "activities", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeActivityFixtures(t *testing.T) {
	cases := []struct {
		file         string
		wantType     string
		wantName     string
		wantTenant   string
		wantPersonal bool
		wantText     string
		wantFromAAD  string
	}{
		{file: "message_personal.json", wantType: "message", wantTenant: "11111111-1111-1111-1111-111111111111", wantPersonal: true, wantText: "hello", wantFromAAD: "aaaaaaaa-0000-0000-0000-000000000001"},
		{file: "message_action_submit.json", wantType: "message", wantTenant: "11111111-1111-1111-1111-111111111111", wantPersonal: true, wantFromAAD: "aaaaaaaa-0000-0000-0000-000000000001"},
		{file: "invoke_adaptiveCard_action.json", wantType: "invoke", wantName: "adaptiveCard/action", wantTenant: "11111111-1111-1111-1111-111111111111", wantPersonal: true, wantFromAAD: "aaaaaaaa-0000-0000-0000-000000000002"},
		{file: "message_groupchat_mention.json", wantType: "message", wantTenant: "00000000-0000-0000-0000-0000000000001", wantText: "<at>Test Bot</at> members", wantFromAAD: "00000000-0000-0000-0000-0000000000020"},
		{file: "message_channel_mention.json", wantType: "message", wantTenant: "00000000-0000-0000-0000-0000000000001", wantText: "<at>Test Bot</at> team", wantFromAAD: "00000000-0000-0000-0000-0000000000020"},
		{file: "conversationUpdate.json", wantType: "conversationUpdate", wantTenant: "11111111-1111-1111-1111-111111111111", wantPersonal: true, wantFromAAD: "aaaaaaaa-0000-0000-0000-000000000001"},
		{file: "installationUpdate.json", wantType: "installationUpdate", wantTenant: "11111111-1111-1111-1111-111111111111", wantPersonal: true, wantFromAAD: "aaaaaaaa-0000-0000-0000-000000000001"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			act, err := DecodeActivity(loadFixture(t, tc.file))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if string(act.Type) != tc.wantType || act.Name != tc.wantName {
				t.Errorf("type/name = %q/%q, want %q/%q", act.Type, act.Name, tc.wantType, tc.wantName)
			}
			if got := TenantID(act); got != tc.wantTenant {
				t.Errorf("TenantID = %q, want %q", got, tc.wantTenant)
			}
			if got := IsPersonal(act); got != tc.wantPersonal {
				t.Errorf("IsPersonal = %v, want %v", got, tc.wantPersonal)
			}
			if act.Text != tc.wantText {
				t.Errorf("text = %q, want %q", act.Text, tc.wantText)
			}
			if act.From.AadObjectID != tc.wantFromAAD {
				t.Errorf("from.aadObjectId = %q, want %q", act.From.AadObjectID, tc.wantFromAAD)
			}
			if act.ChannelID != "msteams" {
				t.Errorf("channelId = %q", act.ChannelID)
			}
		})
	}
}

func TestDecodeActivityLenientAndStrict(t *testing.T) {
	base := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(loadFixture(t, "message_personal.json"), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name      string
		body      []byte
		wantErr   string // substring; empty = must decode
		checkText string
	}{
		{name: "unknown fields ignored", body: base(func(m map[string]any) { m["futureField"] = map[string]any{"x": 1}; m["localTimezone"] = "UTC" }), checkText: "hello"},
		{name: "bad timestamp dropped", body: base(func(m map[string]any) { m["timestamp"] = "yesterday" }), checkText: "hello"},
		{name: "non-object value dropped", body: base(func(m map[string]any) { m["value"] = "a string" }), checkText: "hello"},
		{name: "non-object channelData dropped", body: base(func(m map[string]any) { m["channelData"] = []int{1} }), checkText: "hello"},
		{name: "entities of the wrong shape dropped", body: base(func(m map[string]any) { m["entities"] = "nope" }), checkText: "hello"},
		{name: "text of the wrong type dropped", body: base(func(m map[string]any) { m["text"] = 12 }), checkText: ""},
		{name: "missing type", body: base(func(m map[string]any) { delete(m, "type") }), wantErr: `"type"`},
		{name: "empty type", body: base(func(m map[string]any) { m["type"] = " " }), wantErr: `"type"`},
		{name: "type of the wrong kind", body: base(func(m map[string]any) { m["type"] = 3 }), wantErr: `"type"`},
		{name: "missing serviceUrl", body: base(func(m map[string]any) { delete(m, "serviceUrl") }), wantErr: `"serviceUrl"`},
		{name: "relative serviceUrl", body: base(func(m map[string]any) { m["serviceUrl"] = "/connector" }), wantErr: `"serviceUrl"`},
		{name: "serviceUrl with another scheme", body: base(func(m map[string]any) { m["serviceUrl"] = "file:///etc/passwd" }), wantErr: `"serviceUrl"`},
		{name: "missing conversation", body: base(func(m map[string]any) { delete(m, "conversation") }), wantErr: `"conversation.id"`},
		{name: "conversation without id", body: base(func(m map[string]any) { m["conversation"] = map[string]any{"tenantId": "t"} }), wantErr: `"conversation.id"`},
		{name: "conversation of the wrong kind", body: base(func(m map[string]any) { m["conversation"] = "c" }), wantErr: `"conversation.id"`},
		{name: "array body", body: []byte(`[1,2]`), wantErr: "not a JSON object"},
		{name: "null body", body: []byte(`null`), wantErr: `"type"`},
		{name: "empty body", body: nil, wantErr: "not a JSON object"},
		{name: "truncated JSON", body: []byte(`{"type":"message"`), wantErr: "not a JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			act, err := DecodeActivity(tc.body)
			if tc.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidActivity) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidActivity mentioning %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if act.Text != tc.checkText {
				t.Errorf("text = %q, want %q", act.Text, tc.checkText)
			}
			if act.Conversation.ID != "a:pc-requester" || act.From.ID != "29:req-1" {
				t.Errorf("other fields lost: conversation %q from %q", act.Conversation.ID, act.From.ID)
			}
		})
	}
}

func TestTenantIDAndIsPersonal(t *testing.T) {
	cases := []struct {
		name         string
		act          *schema.Activity
		wantTenant   string
		wantPersonal bool
	}{
		{name: "nil", act: nil},
		{name: "conversation tenant wins", act: &schema.Activity{Conversation: schema.ConversationAccount{TenantID: "a", ConversationType: "personal"},
			ChannelData: map[string]any{"tenant": map[string]any{"id": "b"}}}, wantTenant: "a", wantPersonal: true},
		{name: "channelData tenant fallback", act: &schema.Activity{Conversation: schema.ConversationAccount{ConversationType: "groupChat", IsGroup: true},
			ChannelData: map[string]any{"tenant": map[string]any{"id": "b"}}}, wantTenant: "b"},
		{name: "malformed channelData tenant", act: &schema.Activity{ChannelData: map[string]any{"tenant": "b"}}, wantPersonal: true},
		{name: "channel", act: &schema.Activity{Conversation: schema.ConversationAccount{ConversationType: "channel"}}},
		{name: "no type, group", act: &schema.Activity{Conversation: schema.ConversationAccount{IsGroup: true}}},
	}
	for _, tc := range cases {
		if got := TenantID(tc.act); got != tc.wantTenant {
			t.Errorf("%s: TenantID = %q, want %q", tc.name, got, tc.wantTenant)
		}
		if got := IsPersonal(tc.act); got != tc.wantPersonal {
			t.Errorf("%s: IsPersonal = %v, want %v", tc.name, got, tc.wantPersonal)
		}
	}
}

func TestStripMentions(t *testing.T) {
	cases := []struct{ in, want string }{
		{"<at>Test Bot</at> team", "team"},
		{"  <at>Test Bot</at>   request falcon  ", "request falcon"},
		{"please <at>Bot</at> help", "please help"},
		{"<AT id=\"0\">Bot</AT>help", "help"},
		{"<at>A</at> <at>B</at> status R-1", "status R-1"},
		{"no mention", "no mention"},
		{"line one\nline two", "line one\nline two"},
		{"<at>unclosed help", "<at>unclosed help"},
		{"", ""},
		{"<at>Bot</at>", ""},
	}
	for _, tc := range cases {
		if got := StripMentions(tc.in); got != tc.want {
			t.Errorf("StripMentions(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestInvokeAction(t *testing.T) {
	fixture, err := DecodeActivity(loadFixture(t, "invoke_adaptiveCard_action.json"))
	if err != nil {
		t.Fatal(err)
	}
	withValue := func(v map[string]any) *schema.Activity {
		return &schema.Activity{Type: "invoke", Name: "adaptiveCard/action", Value: v}
	}
	cases := []struct {
		name      string
		act       *schema.Activity
		wantVerb  string
		wantData  map[string]any
		wantToken string
		wantErr   string
	}{
		{name: "fixture", act: fixture, wantVerb: "approve", wantData: map[string]any{"requestId": "R-1"}},
		{name: "sso retry carries token", act: withValue(map[string]any{
			"action":         map[string]any{"type": "Action.Execute", "verb": "deny", "data": map[string]any{"a": "b"}},
			"authentication": map[string]any{"id": "x", "connectionName": "c", "token": "user-token"},
			"trigger":        "manual",
		}), wantVerb: "deny", wantData: map[string]any{"a": "b"}, wantToken: "user-token"},
		{name: "no data", act: withValue(map[string]any{"action": map[string]any{"verb": "refresh"}}), wantVerb: "refresh", wantData: map[string]any{}},
		{name: "nil activity", act: nil, wantErr: "no activity"},
		{name: "message", act: &schema.Activity{Type: "message"}, wantErr: "not an adaptiveCard/action invoke"},
		{name: "other invoke", act: &schema.Activity{Type: "invoke", Name: "signin/tokenExchange"}, wantErr: "not an adaptiveCard/action invoke"},
		{name: "no action", act: withValue(map[string]any{}), wantErr: "value.action"},
		{name: "action not an object", act: withValue(map[string]any{"action": "x"}), wantErr: "value.action"},
		{name: "no verb", act: withValue(map[string]any{"action": map[string]any{"data": map[string]any{}}}), wantErr: "verb"},
		{name: "verb not a string", act: withValue(map[string]any{"action": map[string]any{"verb": 3}}), wantErr: "verb"},
		{name: "submit type", act: withValue(map[string]any{"action": map[string]any{"type": "Action.Submit", "verb": "x"}}), wantErr: "Action.Execute"},
		{name: "data not an object", act: withValue(map[string]any{"action": map[string]any{"verb": "x", "data": "s"}}), wantErr: "data must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			verb, data, tok, err := InvokeAction(tc.act)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrInvalidActivity) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidActivity containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if verb != tc.wantVerb || tok != tc.wantToken || !reflect.DeepEqual(data, tc.wantData) {
				t.Errorf("got %q %v %q, want %q %v %q", verb, data, tok, tc.wantVerb, tc.wantData, tc.wantToken)
			}
		})
	}
}

func TestSubmitValueAndReference(t *testing.T) {
	submit, err := DecodeActivity(loadFixture(t, "message_action_submit.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := SubmitValue(submit); !reflect.DeepEqual(got, map[string]any{"action": "submit", "comment": "pls"}) {
		t.Errorf("SubmitValue = %v", got)
	}
	plain, err := DecodeActivity(loadFixture(t, "message_personal.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := SubmitValue(plain); got != nil {
		t.Errorf("SubmitValue(plain message) = %v, want nil", got)
	}
	invoke, err := DecodeActivity(loadFixture(t, "invoke_adaptiveCard_action.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := SubmitValue(invoke); got != nil {
		t.Errorf("SubmitValue(invoke) = %v, want nil", got)
	}
	if SubmitValue(nil) != nil {
		t.Error("SubmitValue(nil) != nil")
	}

	ref := Reference(plain)
	want := schema.ConversationReference{
		ActivityID:   "9549c1ee-51a2-40f8-bd11-7a69306628fd",
		User:         schema.ChannelAccount{ID: "29:req-1", Name: "Rita Requester", AadObjectID: "aaaaaaaa-0000-0000-0000-000000000001"},
		Bot:          schema.ChannelAccount{ID: "28:bot-app-id", Name: "Approvals Bot"},
		Conversation: schema.ConversationAccount{ConversationType: "personal", TenantID: "11111111-1111-1111-1111-111111111111", ID: "a:pc-requester"},
		ChannelID:    "msteams",
		ServiceURL:   "http://localhost:56171/_connector",
	}
	if !reflect.DeepEqual(ref, want) {
		t.Errorf("Reference = %+v\nwant %+v", ref, want)
	}
}

// FuzzDecodeActivity checks that decoding never panics, that an accepted activity always has the
// required fields, and that the accessors and the outbound encoder accept whatever decodes.
func FuzzDecodeActivity(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "activities", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed activities: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"message","serviceUrl":"http://x","conversation":{"id":"c"},"timestamp":"bad","value":"v"}`))
	f.Add([]byte(`{"type":"invoke","name":"adaptiveCard/action","serviceUrl":"https://s","conversation":{"id":"c"},"value":{"action":{"verb":1,"data":[]}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		act, err := DecodeActivity(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidActivity) {
				t.Fatalf("error does not match ErrInvalidActivity: %v", err)
			}
			return
		}
		if act.Type == "" || act.ServiceURL == "" || act.Conversation.ID == "" {
			t.Fatalf("accepted activity lacks required fields: %+v", act)
		}
		_ = TenantID(act)
		_ = IsPersonal(act)
		_ = StripMentions(act.Text)
		_, _, _, _ = InvokeAction(act)
		_ = SubmitValue(act)
		if _, err := outbound(act, "conv", "", ""); err != nil {
			t.Fatalf("decoded activity does not re-encode: %v", err)
		}
	})
}
