package e2e

import (
	"strings"
	"testing"
	"time"

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
	adm.say(admAdele, "/reviews", "stage 1: 2 of 2 decided; stage 2: 1 of 1 decided", "decided) and ")

	// Stage 2 is the last: stop ends the review; apply removes Megan's access and tells her.
	e.stopApplyMeganLoses(adm, "Falcon Team Member", tenantsim.PkgTeamMember, "Falcon Team Member")
}

// TestReviewThreeStagesCreatedFromChat: Adele creates a three-stage review from chat — Aaron by name, then each
// person's manager (Aaron again), then each person about their own access. Aaron gets one card per stage,
// also for stage 2 although Graph asked him first in stage 1 (its contactedReviewers list dates him by stage
// 1); Rita, approved twice, answers her stage 3 self-review on her card, recorded on the stage; Megan, denied in
// stage 1, is not asked again.
func TestReviewThreeStagesCreatedFromChat(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedTeamHolders)
	adm := &adminEnv{botEnv: e.botEnv}
	adm.say(admAdele, "/review new Falcon Team Member once stages manager (maybe) then self", "stage 1", `"maybe" is not a decision`)
	adm.say(admAdele, "/review new Falcon Team Member stages", "2 or 3 stages")
	adm.say(admAdele, "/review new Falcon Team Member monthly stages group Falcon Security Reviewers 20d then self 10d", "the stages last 30 days together")
	adm.say(admAdele, "/review new Falcon Team Member monthly stages group Falcon Security Reviewers (approved) then self",
		"Stage 1", "the members of Falcon Security Reviewers · 7 days · moves on: approved", "Stage 2")
	ask := adm.say(admAdele, "/review new Falcon Team Member once stages aaron@contoso.example 3d (approved) then manager 3d (approved) then self 3d",
		"Create an access review of Falcon Team Member", "in 3 stages", "Aaron Approver · 3 days · moves on: approved", "each person's manager", "each person, about their own access")
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Review created")
	defs, err := e.client.ReviewDefinitions(e.ctx())
	if err != nil || len(defs) != 1 || len(defs[0].Stages) != 3 || defs[0].SelfReview || defs[0].Stages[1].DependsOn[0] != "1" {
		t.Fatalf("created definition: %+v %v", defs, err)
	}
	const name = "Falcon Team Member access review"
	e.sweep()
	a := aaron
	card1 := e.sentTo(0, &a, "Stage 1 of 3")
	got, _ := e.click(a, card1.ID, cards.VerbReviewAccept, actionData(t, card1.Card(), cards.VerbReviewAccept))
	if !strings.Contains(got, "2 of 2 decided") {
		t.Fatalf("Aaron's stage 1 card after accepting the recommendations:\n%s", got)
	}

	// Stage 2's reviewer is Rita's manager: Aaron again, whom Graph contacted in stage 1 already (an hour
	// before stage 2 starts, so contactedReviewers dates him before it).
	e.sim.Advance(time.Hour)
	ask = adm.say(admAdele, "/review "+name+" stop", "Stop stage 1")
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Stage 1 stopped")
	from := e.conn.Len()
	e.sweep()
	card2 := e.sentTo(from, &a, "Stage 2 of 3")
	if text := card2.CardText(); !strings.Contains(text, "Stage 1: Approved by Aaron Approver") || strings.Contains(text, "Megan Bowen") {
		t.Fatalf("Aaron's stage 2 card:\n%s", text)
	}
	e.sweep()
	if n := e.countSent(a.ConversationID, "Stage 2 of 3"); n != 1 {
		t.Fatalf("Aaron got %d stage 2 cards, want 1", n)
	}
	approve := actionTitled(t, card2.Card(), cards.VerbReviewDecide, "Approve")
	approve["justification"] = "still on the Falcon team"
	if got, _ := e.click(a, card2.ID, cards.VerbReviewDecide, approve); !strings.Contains(got, "1 of 1 decided") {
		t.Fatalf("Aaron's stage 2 card after approving Rita:\n%s", got)
	}

	// Stage 3 is a self-review: Rita answers for herself; Megan (denied in stage 1) is not asked.
	ask = adm.say(admAdele, "/review "+name+" stop", "Stop stage 2")
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Stage 2 stopped")
	from = e.conn.Len()
	e.sweep()
	r := rita
	self := e.sentTo(from, &r, "Do you still need access to Falcon Team Member?")
	if !strings.Contains(self.CardText(), "Stage 3 of 3") {
		t.Fatalf("Rita's self-review card:\n%s", self.CardText())
	}
	yes := actionTitled(t, self.Card(), cards.VerbReviewSelf, "Yes")
	if yes[cards.KeyStageID] == nil {
		t.Fatalf("the self-review button does not name the stage: %v", yes)
	}
	yes["justification"] = "I still build Falcon"
	if got, _ := e.click(r, self.ID, cards.VerbReviewSelf, yes); !strings.Contains(got, "You said you still need it") {
		t.Fatalf("Rita's card after answering:\n%s", got)
	}
	_, ds := e.decisions(defs[0].ID)
	if d := ds[tenantsim.UserRita]; d.Decision != entitlement.ReviewApprove || d.ReviewedBy.ID != tenantsim.UserRita {
		t.Fatalf("Rita's final decision: %+v", d)
	}
	if d := ds[tenantsim.UserMegan]; d.Decision != entitlement.ReviewDeny {
		t.Fatalf("Megan's final decision: %+v", d)
	}
	e.sweep()
	if n := e.countSent(r.ConversationID, "Falcon Team Member"); n != 1 {
		t.Fatalf("Rita got %d cards about the review, want her one self-review card", n)
	}
	if n := e.countSent(megan.ConversationID, "Stage 3 of 3"); n != 0 {
		t.Fatalf("Megan got %d stage 3 cards", n)
	}
	adm.say(admAdele, "/reviews", "stage 1: 2 of 2 decided; stage 2: 1 of 1 decided; stage 3: 1 of 1 decided")
}
