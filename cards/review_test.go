package cards

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/i18n"
)

const reviewID, instID = "a7e70000-0000-4000-8000-000000000001", "b7e70000-0000-4000-8000-000000000001"

func reviewItems(n int) []ReviewItemView {
	var out []ReviewItemView
	for i := range n {
		out = append(out, ReviewItemView{DecisionID: fmt.Sprintf("d%03d", i), Name: fmt.Sprintf("Employee %03d", i),
			Detail: fmt.Sprintf("user%03d@contoso.example", i), Recommendation: "Approve", LastSignIn: t0.Add(-48 * time.Hour),
			Obtained: "Requested, approved", Since: t0.Add(-30 * 24 * time.Hour), AccessEnds: t0.Add(300 * 24 * time.Hour), Decision: "NotReviewed"})
	}
	return out
}

func reviewGoldenCases() []cardCase {
	items := []ReviewItemView{
		{DecisionID: "d1", Name: "Rita Requester", Detail: "rita@contoso.example", Recommendation: "Approve", LastSignIn: t0.Add(-24 * time.Hour),
			Obtained: "Requested, approved", Since: t0.Add(-20 * 24 * time.Hour), AccessEnds: t0.Add(70 * 24 * time.Hour), Decision: "NotReviewed"},
		{DecisionID: "d2", Name: "Megan Bowen", Detail: "megan@contoso.example", Recommendation: "Deny", LastSignIn: t0.Add(-60 * 24 * time.Hour),
			Obtained: "Requested, approved", Since: t0.Add(-40 * 24 * time.Hour), AccessEnds: t0.Add(50 * 24 * time.Hour), Decision: "Deny",
			DecidedBy: "Aaron Approver", Justification: "Accepted the recommendation"},
	}
	base := ReviewView{ReviewID: reviewID, InstanceID: instID, Name: "Falcon Production Access quarterly review",
		Resource: "Falcon Production Access", ResourceKind: "access package", Deadline: t0.Add(14 * 24 * time.Hour), Now: t0,
		Open: true, Status: "In progress", Items: items, Page: 1, PageCount: 1, Total: 2, Remaining: 1,
		JustificationRequired: true, Recommendations: true}
	paged := base
	paged.Items, paged.Page, paged.PageCount, paged.Total, paged.Remaining = reviewItems(10), 3, 50, 500, 480
	paged.Name, paged.Resource, paged.Note = "Falcon Wiki Reader yearly review", "Falcon Wiki Reader", "Reminder: this review ends in 2 days."
	paged.Deadline = t0.Add(40 * time.Hour)
	closed := base
	closed.Open, closed.Status, closed.Remaining = false, "Applied", 0
	staged := base
	staged.Name, staged.Resource, staged.JustificationRequired = "Falcon Team Member two-stage review", "Falcon Team Member", false
	staged.StageID, staged.Stage, staged.StageCount, staged.Total, staged.Remaining = "c7e70000-0000-4000-8000-000000000002", 2, 2, 1, 1
	staged.Items = []ReviewItemView{{DecisionID: "d3", Name: "Rita Requester", Detail: "rita@contoso.example", Recommendation: "Approve",
		LastSignIn: t0.Add(-24 * time.Hour), Obtained: "Requested, approved", Since: t0.Add(-30 * 24 * time.Hour), AccessEnds: t0.Add(150 * 24 * time.Hour),
		Decision: "NotReviewed", Earlier: []EarlierDecisionView{{Stage: 1, Decision: "Approve", DecidedBy: "Aaron Approver", Justification: "Still on the Falcon rollout"}}}}
	self := SelfReviewView{ReviewID: reviewID, InstanceID: instID, DecisionID: "d9", Resource: "Falcon Partner Collaboration", OrgName: "Contoso",
		Deadline: t0.Add(7 * 24 * time.Hour), Decision: "NotReviewed", Open: true, MyAccessURL: MyAccessReviewsURL("contoso.example")}
	link := self
	link.LinkOnly = true
	done := self
	done.Decision = "Approve"
	selfStage := self
	selfStage.Resource, selfStage.StageID, selfStage.Stage, selfStage.StageCount = "Falcon Team Member", "c7e70000-0000-4000-8000-000000000003", 2, 2
	return []cardCase{
		{"review", Review(en, base)},
		{"review-paged", Review(en, paged)},
		{"review-closed", Review(en, closed)},
		{"review-stage", Review(en, staged)},
		{"self-review", SelfReview(en, self)},
		{"self-review-link", SelfReview(en, link)},
		{"self-review-answered", SelfReview(en, done)},
		{"self-review-stage", SelfReview(en, selfStage)},
	}
}

func reviewLargeCases() []cardCase {
	items := reviewItems(MaxReviewItems + 2)
	for i := range items {
		items[i].Name, items[i].Detail, items[i].Obtained, items[i].Justification = long(500), long(500), long(900), long(2000)
	}
	return []cardCase{
		{"review", Review(en, ReviewView{ReviewID: reviewID, InstanceID: instID, Name: long(600), Resource: long(600), ResourceKind: long(100),
			Deadline: t0, Now: t0, Open: true, Status: long(100), Items: items, Page: 2, PageCount: 3, Total: 60, Remaining: 40,
			JustificationRequired: true, Recommendations: true, Note: long(900), Error: long(900)})},
		{"self-review", SelfReview(en, SelfReviewView{ReviewID: reviewID, InstanceID: instID, DecisionID: "d", Resource: long(600), OrgName: long(300),
			Deadline: t0, Open: true, LinkOnly: true, MyAccessURL: MyAccessReviewsURL("contoso.example"), Note: long(900), Error: long(900)})},
	}
}

func TestReviewCardButtons(t *testing.T) {
	cases := []struct {
		name string
		card *Card
		want []string
		not  []string
	}{
		{"open page", reviewGoldenCases()[0].card, []string{VerbReviewAccept, VerbReviewDecideAll, VerbReviewDecide}, []string{VerbReviewDecidePage}},
		{"paged", reviewGoldenCases()[1].card, []string{VerbReviewDecidePage, "Page 3 of 50"}, nil},
		{"closed", reviewGoldenCases()[2].card, []string{VerbReviewOpen}, []string{VerbReviewDecide, VerbReviewAccept}},
		{"stage", reviewGoldenCases()[3].card, []string{`"stageId":"c7e70000-0000-4000-8000-000000000002"`, "Stage 2 of 2", "Stage 1: Approved by Aaron Approver"}, nil},
		{"self link only", reviewGoldenCases()[5].card, []string{ReviewCheck, "myaccess.microsoft.com/@contoso.example"}, []string{`"Approve"`}},
		{"self-review stage", reviewGoldenCases()[7].card, []string{`"stageId":"c7e70000-0000-4000-8000-000000000003"`, "Stage 2 of 2", VerbReviewSelf}, nil},
	}
	for _, c := range cases {
		raw, err := c.card.JSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s: missing %q", c.name, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(raw), w) {
				t.Errorf("%s: unexpected %q", c.name, w)
			}
		}
	}
}

// TestReviewStageLocalized: "Stage N of M" and the earlier stage's decision speak the reviewer's language.
func TestReviewStageLocalized(t *testing.T) {
	v := ReviewView{ReviewID: reviewID, InstanceID: instID, StageID: "c7e70000-0000-4000-8000-000000000002", Stage: 2, StageCount: 3,
		Name: "Falcon Team Member", Open: true, Total: 1, Remaining: 1, Page: 1, PageCount: 1,
		Items: []ReviewItemView{{DecisionID: "d1", Name: "Rita Requester", Decision: ReviewNotReviewed,
			Earlier: []EarlierDecisionView{{Stage: 1, Decision: ReviewApprove, DecidedBy: "Aaron Approver"}}}}}
	cases := []struct {
		lang string
		want []string
	}{
		{"en", []string{"Stage 2 of 3", "Stage 1: Approved by Aaron Approver"}},
		{"de", []string{"Phase 2 von 3", "Phase 1: Genehmigt von Aaron Approver"}},
		{"fr", []string{"Étape 2 sur 3", "Étape 1 : Approuvé par Aaron Approver"}},
	}
	for _, c := range cases {
		raw, err := Review(i18n.For(c.lang), v).JSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s: missing %q in %s", c.lang, w, raw)
			}
		}
	}
}
