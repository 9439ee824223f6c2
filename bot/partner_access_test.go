package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
)

// TestPartnerAccessShowsWhatHeHas: a partner's "access" lists what he has and until when, like an
// employee's, not his requests; the card offers no "My access" button that would answer with itself (issue 13
// item 1).
func TestPartnerAccessShowsWhatHeHas(t *testing.T) {
	e := newPtEnv(t, true)
	if got := e.say(ptUGus, "access"); !strings.Contains(got, "Your access in Contoso") || !strings.Contains(got, "no access packages yet") {
		t.Fatalf("before any request: %s", got)
	}
	key, pattiCard := e.pendingPartnerRequest(ptPatti)
	data := map[string]any{cards.KeyRequestID: key, cards.KeyStageID: "stage-1"}
	if c := e.click(ptUPatti, pattiCard, cards.VerbApprovalApprove, data); !strings.Contains(c, "You approved this request") {
		t.Fatalf("Patti's approval: %s", c)
	}
	e.drain(0)
	e.port.deliver(t, "gus@fabrikam.example")
	e.drain(2 * time.Second)

	got := e.say(ptUGus, "access")
	for _, want := range []string{"Your access in Contoso", "Falcon Partner Collaboration", "Ends {{DATE("} {
		if !strings.Contains(got, want) {
			t.Errorf("partner access lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"Your requests", "no access packages yet"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("partner access shows %q:\n%s", unwanted, got)
		}
	}
	if got := e.say(ptUGus, "status"); !strings.Contains(got, "Your requests") {
		t.Errorf("status still lists requests: %s", got)
	}
}

// TestPartnerFormNamesApprovers: the partner request form names who will decide (the sponsors), as the status
// card later does, instead of "the organization's internal sponsors or the partner organization's sponsors"
// (issue 13 item 6).
func TestPartnerFormNamesApprovers(t *testing.T) {
	e := newPtEnv(t, true)
	e.hello(ptUGus)
	got := e.click(ptUGus, "list-1", cards.VerbRequestOpen, map[string]any{cards.KeyPackageID: ptPkgPart})
	for _, want := range []string{"Request Falcon Partner Collaboration", "Patti Fernandez", "Fiona Partner"} {
		if !strings.Contains(got, want) {
			t.Errorf("partner form lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sponsors") {
		t.Errorf("partner form names roles instead of people:\n%s", got)
	}
}
