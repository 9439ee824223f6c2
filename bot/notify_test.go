package bot

import (
	"context"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/cards"
)

// Tests of proactive delivery (notify.go).

// An approver who never opened the bot, and for whom the app is not installed, is reached after the bot
// installs the app for them through Graph.
func TestApproverReachedAfterAppInstall(t *testing.T) {
	e := newFlEnv(t)
	e.conn.notInstalled = map[string]bool{flAaron: true}
	e.conn.installed = func(u string) bool {
		e.port.mu.Lock()
		defer e.port.mu.Unlock()
		for _, i := range e.port.installs {
			if strings.HasPrefix(i, u+"/") {
				return true
			}
		}
		return false
	}
	data := e.openForm(flRita, "Rita Requester", "request Falcon Team Member")
	_, resp := e.execute(flRita, "Rita Requester", "form", cards.VerbRequestSubmit, data)
	respCard(t, resp)
	e.drain()
	if got := e.port.installs; len(got) != 1 || got[0] != flAaron+"/app" {
		t.Fatalf("installs = %v, want the app installed for Aaron", got)
	}
	if got := e.cardsTo("conv-" + flAaron); len(got) != 1 || !strings.Contains(got[0].text(), "Approval needed") {
		t.Fatalf("approval card after install: %+v", got)
	}
	ref, err := e.store.Conversation(context.Background(), flTenant, flAaron)
	if err != nil || ref.ConversationID != "conv-"+flAaron {
		t.Fatalf("stored conversation = %+v, %v", ref, err)
	}
}
