package e2e

import (
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// A two-stage access review end to end (simulator, Graph client, sweeps, bot, fake Teams): Aaron decides stage 1
// on his card, Adele gets her stage-2 card only once stage 1 has ended, with Aaron's decisions as evidence, and
// decides; the review is applied and what stage 1 denied is removed.

// stageDecisions reads a multi-stage instance's final (instance-level) decisions: principal id → decision.
func (e *flowEnv) stagedDecisions() map[string]entitlement.ReviewDecision {
	e.t.Helper()
	_, ds := e.decisions(tenantsim.ReviewStagedID)
	return ds
}

func TestReviewTwoStagesStage2ReviewerDecidesAfterStage1(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedStagedReview)
	adm := &adminEnv{botEnv: e.botEnv}
	adm.say(admAdele, "help", "help")
	const name = "Falcon Team Member two-stage review"

	a := aaron
	card := e.sentTo(0, &a, name)
	for _, want := range []string{"Stage 1 of 2", "Rita Requester", "Megan Bowen", "Recommended: deny", "0 of 2 decided"} {
		if !strings.Contains(card.CardText(), want) {
			t.Errorf("Aaron's stage 1 card lacks %q:\n%s", want, card.CardText())
		}
	}
	// Adele reviews stage 2 only: nothing reaches her while stage 1 runs.
	e.sweep()
	if n := e.countSent(admAdele.ConversationID, name); n != 0 {
		t.Fatalf("Adele got %d review cards before stage 2 started", n)
	}
	accept := actionData(t, card.Card(), cards.VerbReviewAccept)
	if accept[cards.KeyStageID] == nil {
		t.Fatalf("the stage 1 card's buttons do not name the stage: %v", accept)
	}
	// A stranger's click on Aaron's buttons changes nothing.
	if got, _ := e.click(megan, "forwarded-card", cards.VerbReviewAccept, accept); !strings.Contains(got, "not recorded") {
		t.Fatalf("Megan's click: %s", got)
	}
	got, _ := e.click(a, card.ID, cards.VerbReviewAccept, accept)
	if !strings.Contains(got, "Approved by Aaron Approver") || !strings.Contains(got, "Denied by Aaron Approver") || !strings.Contains(got, "2 of 2 decided") {
		t.Fatalf("Aaron's card after accepting the recommendations:\n%s", got)
	}

	// The admin ends stage 1: what Aaron approved moves on to stage 2, Megan's Deny stays.
	ask := adm.say(admAdele, "/review Falcon Team Member stop", "Stop stage 1")
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Stage 1 stopped")
	from := e.conn.Len()
	e.sweep()
	ad := admAdele
	card2 := e.sentTo(from, &ad, name)
	text := card2.CardText()
	for _, want := range []string{"Stage 2 of 2", "Rita Requester", "Stage 1: Approved by Aaron Approver", "0 of 1 decided"} {
		if !strings.Contains(text, want) {
			t.Errorf("Adele's stage 2 card lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Megan Bowen") {
		t.Errorf("Megan (denied in stage 1) is on the stage 2 card:\n%s", text)
	}
	e.conn.WaitFor(t, from, wait, "Aaron's stage 1 card shows the stage ended", func(x teamsfake.Activity) bool {
		return x.Op == "update" && x.ID == card.ID && strings.Contains(x.CardText(), "Stage 1 completed")
	})

	// Aaron is not a stage 2 reviewer: his click on Adele's buttons records nothing.
	approve := actionTitled(t, card2.Card(), cards.VerbReviewDecide, "Approve")
	approve["justification"] = "still on the Falcon team"
	if got, _ := e.click(a, "forwarded-card", cards.VerbReviewDecide, approve); !strings.Contains(got, "not recorded") {
		t.Fatalf("Aaron's click on the stage 2 card: %s", got)
	}
	if d := e.stagedDecisions()[tenantsim.UserRita]; d.Decided() {
		t.Fatalf("a stage 1 reviewer's click decided stage 2: %+v", d)
	}
	got, _ = e.click(ad, card2.ID, cards.VerbReviewDecide, approve)
	if !strings.Contains(got, "Approved by Adele Vance") || !strings.Contains(got, "1 of 1 decided") {
		t.Fatalf("Adele's card after approving Rita:\n%s", got)
	}
	ds := e.stagedDecisions()
	if ds[tenantsim.UserRita].Decision != entitlement.ReviewApprove || ds[tenantsim.UserRita].ReviewedBy.ID != tenantsim.UserAdele ||
		ds[tenantsim.UserMegan].Decision != entitlement.ReviewDeny {
		t.Fatalf("final decisions: Rita %+v, Megan %+v", ds[tenantsim.UserRita], ds[tenantsim.UserMegan])
	}
	adm.say(admAdele, "/reviews", "stage 1: 2 of 2 decided; stage 2: 1 of 1 decided")

	// Stage 2 is the last: stop ends the review; apply removes Megan's access and tells her.
	e.stopApplyMeganLoses(adm, "Falcon Team Member", tenantsim.PkgTeamMember, "Falcon Team Member")
}
