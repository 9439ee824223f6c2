package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// Access reviews and expiry notices end to end: the simulator's accessReviews surface, the Graph client, the
// review sweeps and the bot's verbs, with the fake Teams connector.

func newReviewEnv(t *testing.T, seed func(*tenantsim.Sim)) *flowEnv {
	t.Helper()
	e := newFlowEnv(t, envOptions{AdminGroup: tenantsim.AdminsGroupID, Reviews: true})
	seed(e.sim)
	// Megan's message stores her chat and tells the bot Contoso's service URL (for the chats it creates).
	e.say(megan, "help", "help")
	e.sweep()
	return e
}

// decideInMyAccess records userID's decision on review reviewID through the simulator's stand-in for My
// Access (not through the bot).
func (e *botEnv) decideInMyAccess(reviewID, userID, decision, justification string) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"reviewId": reviewID, "userId": userID, "decision": decision, "justification": justification})
	resp, err := http.Post(e.url+"/_sim/myaccess/decide", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("my access decide: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("my access decide: status %d", resp.StatusCode)
	}
}

// sweep runs one review sweep and one expiry sweep, as the background job does every few minutes.
func (e *botEnv) sweep() {
	e.t.Helper()
	if err := e.bot.SweepReviews(context.Background()); err != nil {
		e.t.Fatalf("sweep: %v", err)
	}
}

// sentTo waits for a card sent (not updated) into the chat the bot has with a Contoso user (created by the
// bot when needed) whose text contains want; it fills in u's conversation.
func (e *flowEnv) sentTo(from int, u *teamsfake.User, want string) teamsfake.Activity {
	e.t.Helper()
	a := e.conn.WaitFor(e.t, from, wait, u.Name+" gets a card containing "+want, func(a teamsfake.Activity) bool {
		conv := e.conversationOf(u.AADObjectID)
		return a.Op == "send" && conv != "" && a.ConversationID == conv && strings.Contains(a.CardText(), want)
	})
	u.ConversationID = a.ConversationID
	return a
}

// countSent counts cards sent into conversation whose text contains want.
func (e *flowEnv) countSent(conversation, want string) int {
	n := 0
	for _, a := range e.conn.Activities() {
		if a.Op == "send" && a.ConversationID == conversation && strings.Contains(a.CardText(), want) {
			n++
		}
	}
	return n
}

// actionTitled finds the data of the Action.Execute with verb whose title starts with title.
func actionTitled(t *testing.T, card map[string]any, verb, title string) map[string]any {
	t.Helper()
	var found map[string]any
	walkCard(card, func(x map[string]any) {
		if ti, _ := x["title"].(string); x["type"] == "Action.Execute" && x["verb"] == verb && strings.HasPrefix(ti, title) && found == nil {
			found = map[string]any{}
			d, _ := x["data"].(map[string]any)
			for k, v := range d {
				found[k] = v
			}
		}
	})
	if found == nil {
		t.Fatalf("card has no %s %q action: %s", verb, title, mustJSON(card))
	}
	return found
}

func mustJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

// decisions reads an instance's decisions with the app's identity: principal id → decision.
func (e *flowEnv) decisions(defID string) (string, map[string]entitlement.ReviewDecision) {
	e.t.Helper()
	insts, err := e.client.ReviewInstances(e.ctx(), defID)
	if err != nil || len(insts) == 0 {
		e.t.Fatalf("instances of %s: %v %v", defID, insts, err)
	}
	ds, err := e.client.InstanceDecisions(e.ctx(), defID, insts[0].ID)
	if err != nil {
		e.t.Fatalf("decisions of %s: %v", defID, err)
	}
	out := map[string]entitlement.ReviewDecision{}
	for _, d := range ds {
		out[d.Principal.ID] = d
	}
	return insts[0].ID, out
}

// stopApplyMeganLoses has the admin stop the review of package pkgID (named review in commands) and apply its
// decisions, each after a confirmation card; then Rita keeps her access, Megan's has expired and she is told
// her access to pkgName ended.
func (e *flowEnv) stopApplyMeganLoses(adm *adminEnv, review, pkgID, pkgName string) {
	t := e.t
	t.Helper()
	ask := adm.say(admAdele, "/review "+review+" stop", "Stop the review")
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Review stopped")
	ask = adm.say(admAdele, "/review "+review+" apply", "Apply the decisions")
	from := e.conn.Len()
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Decisions applied")
	e.sweep()
	states := e.assignmentStates(pkgID)
	if states[tenantsim.UserRita] != entitlement.AssignmentDelivered || states[tenantsim.UserMegan] != entitlement.AssignmentExpired {
		t.Fatalf("assignments after apply: %v", states)
	}
	e.conn.WaitFor(t, from, wait, "Megan is told her access ended", func(x teamsfake.Activity) bool {
		return x.ConversationID == megan.ConversationID && strings.Contains(x.CardText(), "Your access to "+pkgName+" has ended")
	})
}

// assignmentStates reads a package's assignments with the app's identity: target id → state.
func (e *flowEnv) assignmentStates(pkgID string) map[string]entitlement.AssignmentState {
	e.t.Helper()
	as, err := e.client.Assignments(e.ctx(), entitlement.AssignmentFilter{PackageID: pkgID})
	if err != nil {
		e.t.Fatalf("assignments of %s: %v", pkgID, err)
	}
	states := map[string]entitlement.AssignmentState{}
	for _, x := range as {
		states[x.Target.ID] = x.State
	}
	return states
}

func TestReviewManagerAcceptsRecommendationsThenApplied(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedReviews)
	adm := &adminEnv{botEnv: e.botEnv}
	a := aaron
	card := e.sentTo(0, &a, "Falcon Production Access quarterly review")
	for _, want := range []string{"Rita Requester", "Megan Bowen", "Recommended: deny", "Recommended: approve", "0 of 2 decided"} {
		if !strings.Contains(card.CardText(), want) {
			t.Errorf("review card lacks %q:\n%s", want, card.CardText())
		}
	}
	accept := actionData(t, card.Card(), cards.VerbReviewAccept)

	// Megan is not a reviewer: her click with the same data changes nothing.
	got, _ := e.click(megan, "forwarded-card", cards.VerbReviewAccept, accept)
	if !strings.Contains(got, "not recorded") {
		t.Fatalf("Megan's click: %s", got)
	}
	if _, ds := e.decisions(tenantsim.ReviewProductionID); ds[tenantsim.UserRita].Decided() || ds[tenantsim.UserMegan].Decided() {
		t.Fatalf("a non-reviewer's click recorded decisions: %+v", ds)
	}

	// This review requires a justification to approve: a bare Approve is refused on the card, nothing recorded.
	approve := actionTitled(t, card.Card(), cards.VerbReviewDecide, "Approve")
	if got, _ := e.click(a, card.ID, cards.VerbReviewDecide, approve); !strings.Contains(got, "Justification is required by this review") {
		t.Fatalf("Approve without a justification: %s", got)
	}
	if _, ds := e.decisions(tenantsim.ReviewProductionID); ds[tenantsim.UserRita].Decided() || ds[tenantsim.UserMegan].Decided() {
		t.Fatalf("a refused Approve recorded a decision: %+v", ds)
	}

	got, _ = e.click(a, card.ID, cards.VerbReviewAccept, accept)
	if !strings.Contains(got, "Approved by Aaron Approver") || !strings.Contains(got, "Denied by Aaron Approver") || !strings.Contains(got, "2 of 2 decided") {
		t.Fatalf("card after accepting the recommendations:\n%s", got)
	}
	_, ds := e.decisions(tenantsim.ReviewProductionID)
	if ds[tenantsim.UserRita].Decision != entitlement.ReviewApprove || ds[tenantsim.UserMegan].Decision != entitlement.ReviewDeny {
		t.Fatalf("decisions: Rita %s, Megan %s", ds[tenantsim.UserRita].Decision, ds[tenantsim.UserMegan].Decision)
	}
	if ds[tenantsim.UserMegan].ReviewedBy.ID != tenantsim.UserAaron {
		t.Fatalf("Megan's decision was recorded by %+v, want Aaron's own account", ds[tenantsim.UserMegan].ReviewedBy)
	}

	// The admin stops the review and applies it, each after a confirmation card.
	e.stopApplyMeganLoses(adm, "Falcon Production", tenantsim.PkgProduction, "Falcon Production Access")
	entries, err := e.store.Audit(e.ctx(), store.AuditQuery{ActorID: tenantsim.UserAaron})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, en := range entries {
		found = found || en.Action == "review.accept-recommendations" && en.Outcome == "recorded"
	}
	if !found {
		t.Fatalf("no audit entry for Aaron's decision: %+v", entries)
	}
	sys, err := e.store.Audit(e.ctx(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	notices := map[string]int{}
	for _, en := range sys {
		if en.Mode == store.ModeSystem && strings.HasPrefix(en.Action, "review.notice.") {
			notices[en.Action]++
		}
	}
	if notices["review.notice.review"] == 0 || notices["review.notice.removed"] != 1 {
		t.Fatalf("system audit entries of the notices: %v", notices)
	}
}

// guestOf finds Gus's guest account in Contoso (the holder of Falcon Partner Collaboration).
func (e *flowEnv) guestOf() teamsfake.User {
	e.t.Helper()
	as, err := e.client.Assignments(e.ctx(), entitlement.AssignmentFilter{PackageID: tenantsim.PkgPartner})
	if err != nil || len(as) != 1 {
		e.t.Fatalf("partner assignments: %+v %v", as, err)
	}
	return teamsfake.User{ID: "29:gus", Name: "Gus Guest", AADObjectID: as[0].Target.ID, TenantID: tenantsim.ContosoTenantID}
}

func TestReviewGuestConfirmsHeStillNeedsAccess(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedReviews)
	gus := e.guestOf()
	card := e.sentTo(0, &gus, "Do you still need access to Falcon Partner Collaboration?")
	yes := actionTitled(t, card.Card(), cards.VerbReviewSelf, "Yes")
	got, _ := e.click(gus, card.ID, cards.VerbReviewSelf, yes)
	if !strings.Contains(got, "Please say why") {
		t.Fatalf("Yes without a reason: %s", got)
	}
	yes["justification"] = "Still on the Falcon rollout"
	got, _ = e.click(gus, card.ID, cards.VerbReviewSelf, yes)
	if !strings.Contains(got, "You said you still need it") {
		t.Fatalf("Gus's answer: %s", got)
	}
	_, ds := e.decisions(tenantsim.ReviewPartnerID)
	if d := ds[gus.AADObjectID]; d.Decision != entitlement.ReviewApprove || d.ReviewedBy.ID != gus.AADObjectID {
		t.Fatalf("Gus's decision: %+v", d)
	}
	// The sweep does not confirm it again: the chat showed it.
	e.sweep()
	if n := e.countSent(gus.ConversationID, "Your answer is recorded"); n != 0 {
		t.Fatalf("confirmation sent %d times after an answer given in the chat", n)
	}
}

func TestReviewGuestAnswerInMyAccessIsConfirmedOnce(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedReviews)
	gus := e.guestOf()
	e.sentTo(0, &gus, "Do you still need access to Falcon Partner Collaboration?")
	// Gus answers in My Access (the simulator's stand-in for it), not in the chat.
	e.decideInMyAccess(tenantsim.ReviewPartnerID, tenantsim.UserGus, "Approve", "answered in My Access")
	e.sweep()
	e.sentTo(0, &gus, "Your answer is recorded")
	// More sweeps (a restart or another replica runs the same) do not send it again.
	for range 3 {
		e.sweep()
	}
	if n := e.countSent(gus.ConversationID, "Your answer is recorded"); n != 1 {
		t.Fatalf("confirmation sent %d times", n)
	}
}

func TestReview500DecisionsPagedOneBatchPerPage(t *testing.T) {
	e := newReviewEnv(t, func(s *tenantsim.Sim) { s.SeedLargeReview(500) })
	a := aaron
	card := e.sentTo(0, &a, "Falcon Wiki Reader yearly review")
	raw, _ := json.Marshal(card.Card())
	if len(raw) > cards.MaxCardBytes {
		t.Fatalf("review card is %d bytes, over %d", len(raw), cards.MaxCardBytes)
	}
	if !strings.Contains(card.CardText(), "Page 1 of 50") {
		t.Fatalf("first page: %s", card.CardText())
	}
	got, page2 := e.click(a, card.ID, cards.VerbReviewOpen, actionTitled(t, card.Card(), cards.VerbReviewOpen, "Next"))
	if !strings.Contains(got, "Page 2 of 50") {
		t.Fatalf("second page: %s", got)
	}
	batches, patches := e.batches.Load(), e.reviewPatches.Load()
	approve := actionTitled(t, page2, cards.VerbReviewDecidePage, "Approve page (10)")
	got, _ = e.click(a, card.ID, cards.VerbReviewDecidePage, approve)
	if n := e.batches.Load() - batches; n != 1 {
		t.Fatalf("deciding a page took %d batch requests, want 1", n)
	}
	if n := e.reviewPatches.Load() - patches; n != 0 {
		t.Fatalf("deciding a page sent %d single PATCHes besides the batch", n)
	}
	if !strings.Contains(got, "10 of 500 decided") {
		t.Fatalf("card after deciding page 2: %s", got)
	}
	ids := map[string]bool{}
	for _, id := range strings.Split(approve[cards.KeyItems].(string), ",") {
		ids[id] = true
	}
	_, ds := e.decisions(tenantsim.ReviewLargeID)
	decided := 0
	for _, d := range ds {
		if d.Decided() {
			decided++
			if !ids[d.ID] || d.Decision != entitlement.ReviewApprove {
				t.Errorf("unexpected decision %s on %s", d.Decision, d.Principal.Name)
			}
		}
	}
	if decided != 10 {
		t.Fatalf("%d decisions recorded, want 10", decided)
	}
	got, _ = e.click(a, card.ID, cards.VerbReviewDecideAll, actionTitled(t, page2, cards.VerbReviewDecideAll, "Deny rest"))
	if !strings.Contains(got, "500 of 500 decided") {
		t.Fatalf("card after denying the rest: %s", got)
	}
}

func TestExpiryWarnsRitaWhoExtendsAndAaronApproves(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedReviews)
	r := rita
	e.say(r, "help", "help")
	listRita := func() ([]entitlement.Assignment, error) {
		return e.client.Assignments(context.Background(), entitlement.AssignmentFilter{PackageID: tenantsim.PkgTeamMember, TargetID: tenantsim.UserRita})
	}
	as, err := listRita()
	if err != nil || len(as) != 1 {
		t.Fatalf("Rita's Falcon Team Member: %+v %v", as, err)
	}
	oldEnd := as[0].EndsAt()
	// Ten days before the end nothing is sent (a 180-day assignment is announced 7 days ahead).
	e.sweep()
	if n := e.countSent(r.ConversationID, "Falcon Team Member ends on"); n != 0 {
		t.Fatalf("warned %d times 10 days ahead", n)
	}
	from := e.conn.Len()
	e.sim.Advance(4 * 24 * time.Hour)
	e.sweep()
	notice := e.conn.WaitFor(t, from, wait, "Rita is warned", func(x teamsfake.Activity) bool {
		return x.ConversationID == r.ConversationID && strings.Contains(x.CardText(), "Your access to Falcon Team Member ends on")
	})
	form, formCard := e.click(r, notice.ID, cards.VerbAccessExtend, actionData(t, notice.Card(), cards.VerbAccessExtend))
	if !strings.Contains(form, "Falcon Team Member") {
		t.Fatalf("extension form: %s", form)
	}
	submit := actionData(t, formCard, "request.submit")
	submit["justification"] = "project extended to next year"
	start := e.conn.Len()
	if got, _ := e.click(r, notice.ID, "request.submit", submit); !strings.Contains(got, "Submitted") && !strings.Contains(got, "Pending approval") {
		t.Fatalf("after submitting the extension: %s", got)
	}
	a := aaron
	card := e.approvalCardFor(start, &a, "Rita Requester")
	approve := actionData(t, card.Card(), "approval.approve")
	approve["justification"] = "still needed"
	if got, _ := e.click(a, card.ID, "approval.approve", approve); !strings.Contains(got, "You approved this request") {
		t.Fatalf("Aaron's approval: %s", got)
	}
	e.waitAssignment(t, wait, "Rita's extended assignment", listRita, func(x entitlement.Assignment) bool {
		return x.State == entitlement.AssignmentDelivered && x.EndsAt().After(oldEnd)
	})
	e.sweep()
	e.sweep()
	if n := e.countSent(r.ConversationID, "Your access to Falcon Team Member ends on"); n != 1 {
		t.Fatalf("Rita was warned %d times, want once", n)
	}
}

func TestReviewCardUpdatesInPlaceWhenDecidedElsewhere(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedReviews)
	a := aaron
	card := e.sentTo(0, &a, "Falcon Production Access quarterly review")
	// Aaron decides in My Access (the simulator's stand-in), not on the card.
	e.decideInMyAccess(tenantsim.ReviewProductionID, tenantsim.UserAaron, "Deny", "decided in My Access")
	from := e.conn.Len()
	e.sweep()
	up := e.conn.WaitFor(t, from, wait, "Aaron's card updated in place", func(x teamsfake.Activity) bool {
		return x.Op == "update" && x.ConversationID == a.ConversationID && strings.Contains(x.CardText(), "2 of 2 decided")
	})
	if up.ID != card.ID {
		t.Fatalf("updated activity %q, want the review card %q", up.ID, card.ID)
	}
	// Nothing changed since: the next sweeps leave the card alone.
	n := e.conn.Len()
	e.sweep()
	e.sweep()
	for _, x := range e.conn.Activities()[n:] {
		if x.ConversationID == a.ConversationID {
			t.Fatalf("unexpected %s in Aaron's chat: %s", x.Op, x.CardText())
		}
	}
}

func TestReviewReminderAndEndOfAccess(t *testing.T) {
	e := newReviewEnv(t, (*tenantsim.Sim).SeedReviews)
	a := aaron
	e.sentTo(0, &a, "Falcon Production Access quarterly review")
	e.say(rita, "help", "help")
	// 13 days later the review ends within the reminder window (48 h): Aaron is reminded once.
	from := e.conn.Len()
	e.sim.Advance(13 * 24 * time.Hour)
	e.sweep()
	e.conn.WaitFor(t, from, wait, "Aaron's reminder", func(x teamsfake.Activity) bool {
		return x.Op == "send" && x.ConversationID == a.ConversationID && strings.Contains(x.CardText(), "Reminder: this review ends on")
	})
	e.sweep()
	if n := e.countSent(a.ConversationID, "Reminder: this review ends on"); n != 1 {
		t.Fatalf("Aaron was reminded %d times, want once", n)
	}
	// Rita's Falcon Team Member (ten days left at the seed) has ended by now: she is told, with Request again.
	e.sim.Tick()
	e.sweep()
	ended := e.conn.WaitFor(t, from, wait, "Rita is told her access ended", func(x teamsfake.Activity) bool {
		return x.ConversationID == rita.ConversationID && strings.Contains(x.CardText(), "Your access to Falcon Team Member has ended")
	})
	if !strings.Contains(rawCard(ended), "request Falcon Team Member") {
		t.Fatalf("no Request again button: %s", rawCard(ended))
	}
	e.sweep()
	if n := e.countSent(rita.ConversationID, "Your access to Falcon Team Member has ended"); n != 1 {
		t.Fatalf("Rita was told %d times, want once", n)
	}
}

func TestReviewCreatedFromConfirmationCard(t *testing.T) {
	e := newReviewEnv(t, func(*tenantsim.Sim) {})
	adm := &adminEnv{botEnv: e.botEnv}
	ask := adm.say(admAdele, "/review new Falcon Wiki Reader self monthly", "Create an access review of Falcon Wiki Reader", "every month")
	adm.clickToken(admAdele, ask.ID, "admin.confirm", confirmToken(t, ask), "Review created")
	defs, err := e.client.ReviewDefinitions(e.ctx())
	if err != nil || len(defs) != 1 {
		t.Fatalf("definitions: %+v %v", defs, err)
	}
	d := defs[0]
	if d.ResourceID != tenantsim.PkgWikiReader || !d.SelfReview || d.Recurrence != "absoluteMonthly" || d.DurationDays != 14 || !d.JustificationRequired {
		t.Fatalf("created definition: %+v", d)
	}
	// A non-admin's "/review new …" is the everyday `reviews` list: nothing is created.
	adm.say(rita, "/review new Falcon Wiki Reader", "Access reviews waiting for you")
	if defs, err := e.client.ReviewDefinitions(e.ctx()); err != nil || len(defs) != 1 {
		t.Fatalf("definitions after Rita's command: %d %v", len(defs), err)
	}
}
