package botframework

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/i18n"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// packagesCard is a full page of the package list, the card the bot sends most.
func packagesCard() *cards.Card {
	v := cards.PackageListView{Page: 1, PageCount: 2, Total: 12, OrgName: "Contoso"}
	for i := range cards.MaxPackagesPerPage {
		v.Packages = append(v.Packages, cards.PackageView{ID: fmt.Sprintf("pkg-%02d", i), Name: fmt.Sprintf("Falcon <Production> & Staging %d", i),
			Description: "Operator access to the Falcon production environment.", CatalogName: "Project Falcon",
			Summary: "Manager approval · 180 days"})
	}
	return cards.PackageList(i18n.English(), v)
}

// BenchmarkEncodeCard encodes a package list card as the Connector gets it (an attachment of a reply) and
// as an invoke response carries it.
func BenchmarkEncodeCard(b *testing.B) {
	card := packagesCard()
	b.Run("outbound", func(b *testing.B) {
		act := &schema.Activity{Type: "message", Attachments: []schema.Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := outbound(act, teamsConvID, "act-1", ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("invoke", func(b *testing.B) {
		body := AdaptiveCardInvokeResponse{StatusCode: http.StatusOK, Type: ContentTypeAdaptiveCard, Value: card}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeBody(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestOutboundSplicesCards: a card (wireJSONAppender) spliced into an outgoing activity must decode to what
// json.Marshal writes for it, keep encoding/json's HTML escapes, and leave other contents, a nil card and
// attachments without content as json.Marshal writes them.
func TestOutboundSplicesCards(t *testing.T) {
	card := packagesCard()
	cardJSON, err := json.Marshal(card)
	if err != nil {
		t.Fatal(err)
	}
	var nilCard *cards.Card
	tests := []struct {
		name     string
		contents []any
	}{
		{"one card", []any{card}},
		{"card value", []any{*card}},
		{"mixed", []any{map[string]any{"type": "AdaptiveCard", "body": []any{}}, card, nil, nilCard, "text"}},
		{"no content", []any{nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			act := &schema.Activity{Type: "message", Text: "hi"}
			want := &schema.Activity{Type: "message", Text: "hi"}
			for i, c := range tc.contents {
				att := schema.Attachment{ContentType: ContentTypeAdaptiveCard, Name: fmt.Sprint("a", i), Content: c}
				act.Attachments = append(act.Attachments, att)
				if _, isValue := c.(cards.Card); isValue || c == any(card) {
					att.Content = json.RawMessage(cardJSON) // encoded by json.Marshal, not spliced
				}
				want.Attachments = append(want.Attachments, att)
			}
			got, err := outbound(act, teamsConvID, "act-1", "")
			if err != nil {
				t.Fatal(err)
			}
			ref, err := outbound(want, teamsConvID, "act-1", "")
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("outbound wrote invalid JSON: %v\n%s", err, got)
			}
			_ = json.Unmarshal(ref, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("outbound wrote\n%s\nwant (decoded equal)\n%s", got, ref)
			}
			if escaped := []byte(`Falcon \u003cProduction\u003e \u0026 Staging`); bytes.Contains(ref, escaped) && !bytes.Contains(got, escaped) {
				t.Errorf("the card's HTML escapes differ from json.Marshal's:\n%s", got)
			}
		})
	}
	p := schema.ConversationParameters{Activity: schema.Activity{Attachments: []schema.Attachment{{ContentType: ContentTypeAdaptiveCard, Content: card}}}}
	b, err := outboundConversationParameters(p)
	if err != nil {
		t.Fatal(err)
	}
	var params struct {
		Activity struct {
			Attachments []struct {
				Content json.RawMessage `json:"content"`
			} `json:"attachments"`
		} `json:"activity"`
	}
	if err := json.Unmarshal(b, &params); err != nil || len(params.Activity.Attachments) != 1 || !bytes.Equal(params.Activity.Attachments[0].Content, cardJSON) {
		t.Errorf("conversation parameters lost the card (%v):\n%s", err, b)
	}
}

// TestEncodeBodySplicesCard: an invoke response with a card is byte for byte what json.Marshal writes.
func TestEncodeBodySplicesCard(t *testing.T) {
	card := packagesCard()
	var nilCard *cards.Card
	for _, value := range []any{card, *card, nil, nilCard, "Done.", map[string]any{"k": "<v>"}} {
		body := AdaptiveCardInvokeResponse{StatusCode: http.StatusOK, Type: ContentTypeAdaptiveCard, Value: value}
		want, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := EncodeBody(body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("EncodeBody(%T) =\n%s\nwant\n%s", value, got, want)
		}
	}
}
