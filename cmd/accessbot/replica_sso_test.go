package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/teamsfake"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// Teams SSO as Teams does it silently: an OAuthCard in a chat is answered with a signin/tokenExchange invoke,
// and an Action.Execute answered with a loginRequest is sent again with value.authentication.token. The
// user's SSO token comes from the simulator (/_sim/dev/assertion). Each replica keeps its own token cache,
// so a user's turn on another replica signs in again, as it would in Teams.

var (
	replicaRita  = teamsfake.User{ID: "29:rita", Name: "Rita Requester", AADObjectID: tenantsim.UserRita, TenantID: tenantsim.ContosoTenantID, ConversationID: "a:rita"}
	replicaAaron = teamsfake.User{ID: "29:aaron", Name: "Aaron Approver", AADObjectID: tenantsim.UserAaron, TenantID: tenantsim.ContosoTenantID}
)

// ssoToken is u's Teams SSO token (audience api://botid-{bot app id}) minted by the simulator.
func (e *replicaEnv) ssoToken(u teamsfake.User) string {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"tenantId": u.TenantID, "oid": u.AADObjectID})
	resp, err := http.Post(e.simURL+"/_sim/dev/assertion", "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatalf("SSO token for %s: %v", u.Name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		e.t.Fatalf("SSO token for %s: status %d, %v", u.Name, resp.StatusCode, err)
	}
	e.signIns.Add(1)
	return out.Token
}

// sayAsTeams sends text as u and waits for an activity in u's chat containing want, answering OAuthCards
// with the token exchange on the way.
func (e *replicaEnv) sayAsTeams(u teamsfake.User, text, want string) teamsfake.Activity {
	e.t.Helper()
	from := e.conn.Len()
	if resp, err := e.teams.Message(context.Background(), u, text); err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("%s says %q: status %d, %v", u.Name, text, resp.Status, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		acts := e.conn.Activities()
		for i := from; i < len(acts); i++ {
			a := acts[i]
			if a.ConversationID != u.ConversationID {
				continue
			}
			if strings.Contains(a.CardText()+a.Text()+cardJSON(a.Card()), want) {
				return a
			}
			if oauth := oauthCard(a); oauth != nil {
				e.exchange(u, oauth)
			}
			from = i + 1
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("%s says %q: no answer containing %q within 30s", u.Name, text, want)
	return teamsfake.Activity{}
}

// oauthCard returns the content of an activity's OAuthCard attachment, or nil.
func oauthCard(a teamsfake.Activity) map[string]any {
	atts, _ := a.Body["attachments"].([]any)
	for _, x := range atts {
		att, _ := x.(map[string]any)
		if att["contentType"] == "application/vnd.microsoft.card.oauth" {
			c, _ := att["content"].(map[string]any)
			return c
		}
	}
	return nil
}

// exchange answers an OAuthCard with a signin/tokenExchange invoke carrying u's SSO token.
func (e *replicaEnv) exchange(u teamsfake.User, oauth map[string]any) {
	e.t.Helper()
	ter, _ := oauth["tokenExchangeResource"].(map[string]any)
	act := e.activity(u, "invoke")
	act["name"] = "signin/tokenExchange"
	act["value"] = map[string]any{"id": ter["id"], "connectionName": oauth["connectionName"], "token": e.ssoToken(u)}
	if resp, err := e.teams.Post(context.Background(), act); err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("token exchange for %s: status %d %v, %v", u.Name, resp.Status, resp.Body, err)
	}
}

// activity is a bare activity from u (teamsfake.Client builds the same for its own helpers).
func (e *replicaEnv) activity(u teamsfake.User, typ string) map[string]any {
	return map[string]any{
		"type": typ, "id": e.teams.NextID(), "channelId": "msteams", "serviceUrl": e.teams.ServiceURL,
		"timestamp":    time.Now().UTC().Format(time.RFC3339Nano),
		"from":         map[string]any{"id": u.ID, "name": u.Name, "aadObjectId": u.AADObjectID},
		"recipient":    map[string]any{"id": e.teams.BotID, "name": e.teams.BotName},
		"conversation": map[string]any{"conversationType": "personal", "tenantId": u.TenantID, "id": u.ConversationID},
		"channelData":  map[string]any{"tenant": map[string]any{"id": u.TenantID}},
		"locale":       "en-US",
	}
}

// clickAsTeams sends an Action.Execute as u; a loginRequest answer is retried with u's SSO token, as Teams
// does for Adaptive Card SSO. It returns the answer as JSON text.
func (e *replicaEnv) clickAsTeams(u teamsfake.User, replyTo, verb string, data map[string]any) string {
	e.t.Helper()
	act := e.activity(u, "invoke")
	act["name"] = "adaptiveCard/action"
	act["replyToId"] = replyTo
	value := map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	act["value"] = value
	for range 2 {
		resp, err := e.teams.Post(context.Background(), act)
		if err != nil || resp.Status != http.StatusOK {
			e.t.Fatalf("%s clicks %s: status %d %v, %v", u.Name, verb, resp.Status, resp.Body, err)
		}
		if resp.Body["type"] != "application/vnd.microsoft.activity.loginRequest" {
			raw, _ := json.Marshal(resp.Body)
			return string(raw)
		}
		lr, _ := resp.Body["value"].(map[string]any)
		ter, _ := lr["tokenExchangeResource"].(map[string]any)
		value["authentication"] = map[string]any{"id": ter["id"], "connectionName": lr["connectionName"], "token": e.ssoToken(u)}
		act["id"] = e.teams.NextID()
	}
	e.t.Fatalf("%s clicks %s: still asked to sign in after sending the token", u.Name, verb)
	return ""
}

// runDelegatedStory: Rita requests Falcon Team Member, Aaron (her manager) approves in his chat, the
// simulator delivers and Rita's status card says Delivered. kill, when set, is called right after the
// request is filed.
func runDelegatedStory(t *testing.T, e *replicaEnv, kill func()) {
	filed := e.filings.Load()
	start := e.conn.Len()
	form := e.sayAsTeams(replicaRita, "request Falcon Team Member", "request.submit")
	data, _ := findAction(form.Card(), "request.submit")
	if data == nil {
		t.Fatalf("request form has no submit action: %s", cardJSON(form.Card()))
	}
	data["justification"] = "joining the project"
	if status := e.clickAsTeams(replicaRita, form.ID, "request.submit", data); !strings.Contains(status, "Pending approval") && !strings.Contains(status, "Submitted") {
		t.Fatalf("status after submit: %s", status)
	}
	approval := e.conn.WaitFor(t, start, 30*time.Second, "approval card for Aaron", func(a teamsfake.Activity) bool {
		return a.Op == "send" && strings.Contains(a.CardText(), "Approval needed") && strings.Contains(a.CardText(), "Rita Requester")
	})
	if kill != nil {
		kill()
	}
	aaron := replicaAaron
	aaron.ConversationID = approval.ConversationID
	approve, _ := findAction(approval.Card(), "approval.approve")
	approve["justification"] = "welcome aboard"
	for range 2 { // a double click is one decision
		if answer := e.clickAsTeams(aaron, approval.ID, "approval.approve", approve); !strings.Contains(answer, "You approved this request") {
			t.Fatalf("Aaron's approval: %s", answer)
		}
	}
	e.sim.Advance(5 * time.Second)
	e.conn.WaitFor(t, start, 60*time.Second, "Rita's status card delivered", func(a teamsfake.Activity) bool {
		return a.Op == "update" && a.ID == form.ID && strings.Contains(a.CardText(), "Delivered")
	})
	e.conn.WaitFor(t, start, 60*time.Second, "access notice to Rita", func(a teamsfake.Activity) bool {
		return a.ConversationID == replicaRita.ConversationID && strings.Contains(a.Text(), "You now have access")
	})
	if n := e.filings.Load() - filed; n != 1 {
		t.Errorf("Rita's request filed %d times at the simulator, want 1", n)
	}
	if e.signIns.Load() == 0 {
		t.Error("the delegated story never signed in through Teams SSO")
	}
	t.Logf("Teams SSO sign-ins during the delegated story: %d", e.signIns.Load())
	acts := e.conn.Activities()[start:]
	for what, pred := range map[string]func(teamsfake.Activity) bool{
		"approval card to Aaron": func(a teamsfake.Activity) bool {
			return a.Op == "send" && a.ConversationID == aaron.ConversationID && strings.Contains(a.CardText(), "Approval needed")
		},
		"access notice to Rita": func(a teamsfake.Activity) bool {
			return a.ConversationID == replicaRita.ConversationID && strings.Contains(a.Text(), "You now have access")
		},
	} {
		n := 0
		for _, a := range acts {
			if pred(a) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s sent %d times, want 1", what, n)
		}
	}
}
