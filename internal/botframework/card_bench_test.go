package botframework

import (
	"fmt"
	"net/http"
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
