package cards

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestApprovalRefreshAndDecisionActions(t *testing.T) {
	var many []string
	for i := range 75 {
		many = append(many, fmt.Sprintf("29:approver-%02d", i))
	}
	tests := []struct {
		name    string
		ids     []string
		wantIDs []string
	}{
		{"one approver", []string{"29:aaron"}, []string{"29:aaron"}},
		{"duplicates and blanks dropped", []string{"29:isaiah", "", "29:lynne", "29:isaiah", "  "}, []string{"29:isaiah", "29:lynne"}},
		{"capped at 60", many, many[:MaxRefreshUserIDs]},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, Approval(en, ApprovalView{RequestID: "r1", ApprovalID: "a1", StageID: "s1", PackageName: "Falcon Team Member",
				Requester: PersonView{Name: "Rita Requester"}, ApproverIDs: tt.ids, JustificationRequired: true}))
			ref, ok := d["refresh"].(map[string]any)
			if !ok {
				t.Fatal("approval card has no refresh")
			}
			var got []string
			if ids, ok := ref["userIds"].([]any); ok {
				for _, id := range ids {
					got = append(got, id.(string))
				}
			}
			if !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("userIds = %v, want %v", got, tt.wantIDs)
			}
			act := ref["action"].(map[string]any)
			if act["verb"] != VerbApprovalRefresh || act["type"] != "Action.Execute" {
				t.Errorf("refresh action = %v", act)
			}
			wantData := map[string]any{KeyRequestID: "r1", KeyApprovalID: "a1", KeyStageID: "s1"}
			for _, verb := range []string{VerbApprovalApprove, VerbApprovalDeny, VerbApprovalRefresh} {
				as := d.executes(verb)
				if len(as) == 0 {
					t.Fatalf("no %s button", verb)
				}
				if !reflect.DeepEqual(as[len(as)-1]["data"], wantData) {
					t.Errorf("%s data = %v, want %v", verb, as[len(as)-1]["data"], wantData)
				}
			}
			// The manual Refresh button stays for everyone beyond the 60 (and clients without automatic refresh).
			if n := len(d.executes(VerbApprovalRefresh)); n != 2 {
				t.Errorf("refresh actions = %d, want the automatic one and a manual button", n)
			}
			j := d.input("Input.Text", InputJustification)
			if j == nil || j["isRequired"] != true || j["errorMessage"] == nil || j["label"] == nil {
				t.Errorf("justification input = %v, want required with label and error message", j)
			}
		})
	}
}

func TestApprovalJustificationOptionalAndNotes(t *testing.T) {
	now := t0
	tests := []struct {
		name     string
		v        ApprovalView
		want     []string
		required bool
	}{
		{"delegated, optional, days left", ApprovalView{Mode: ModeDelegated, OrgName: "Contoso", Deadline: now.Add(50 * time.Hour), Now: now},
			[]string{"Decide within 2 days 2 hours", "delegated"}, false},
		{"brokered note", ApprovalView{Mode: ModeBrokered, OrgName: "Contoso", JustificationRequired: true},
			[]string{"AccessBot ran this approval on behalf of Contoso (brokered)"}, true},
		{"time is up", ApprovalView{Deadline: now.Add(-time.Minute), Now: now}, []string{"time to decide has run out"}, false},
		{"external requester", ApprovalView{Requester: PersonView{Name: "Gus Guest", OrgName: "Fabrikam", External: true}},
			[]string{"Gus Guest (Fabrikam, partner organization)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, Approval(en, tt.v))
			txt := d.texts()
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("card text lacks %q:\n%s", w, txt)
				}
			}
			j := d.input("Input.Text", InputJustification)
			if got := j["isRequired"] == true; got != tt.required {
				t.Errorf("justification required = %v, want %v", got, tt.required)
			}
		})
	}
}

func TestApprovalDecidedHeadlines(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 42, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    ApprovalDecidedView
		want string
	}{
		{"already approved", ApprovalDecidedView{Outcome: DecisionApprove, DecidedBy: "Aaron Approver", DecidedAt: at, AlreadyDecided: true},
			"Already approved by Aaron at {{TIME(2026-11-26T10:42:00Z)}}"},
		{"already denied", ApprovalDecidedView{Outcome: DecisionDeny, DecidedBy: "Lynne Robbins", AlreadyDecided: true}, "Already denied by Lynne"},
		{"by you", ApprovalDecidedView{Outcome: DecisionDeny, DecidedBy: "Aaron Approver", ByYou: true}, "You denied this request"},
		{"someone else", ApprovalDecidedView{Outcome: DecisionApprove, DecidedBy: "Patti Fernandez"}, "Approved by Patti Fernandez"},
		{"timed out", ApprovalDecidedView{Closed: ClosureExpired, Outcome: DecisionDeny}, "Expired: nobody decided in time"},
		{"not approver", ApprovalDecidedView{Outcome: DecisionNotReviewed, NotApprover: true}, "You are not an approver of this stage"},
		{"pending", ApprovalDecidedView{Outcome: DecisionNotReviewed}, "Not decided yet"},
		{"canceled by the requester", ApprovalDecidedView{Closed: ClosureCanceledByRequester, Outcome: DecisionNotReviewed}, "Canceled by the requester"},
		{"canceled elsewhere", ApprovalDecidedView{Closed: ClosureCanceled}, "This request was canceled"},
		{"late click on a canceled request", ApprovalDecidedView{Closed: ClosureCanceledByRequester, AlreadyDecided: true},
			"Nothing is left to decide. Your click changed nothing."},
		{"denied automatically with a reason", ApprovalDecidedView{Closed: ClosureAutoDenied, Outcome: DecisionDeny,
			Reason: "Nobody can approve the next stage."}, "Denied automatically"},
		// A closure wins over a stale outcome and a not-approver flag: the request is over for everyone.
		{"closure over outcome", ApprovalDecidedView{Closed: ClosureCanceled, Outcome: DecisionApprove, DecidedBy: "Aaron Approver", NotApprover: true},
			"This request was canceled"},
	}
	// Lines a card must not carry for a closed request: the "still waiting" headline and the decision facts.
	closedMustNot := []string{"Not decided yet", "Decided by", "You are not an approver", "a stage takes one decision"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, ApprovalDecided(en, tt.v))
			txt := d.texts()
			if !strings.Contains(txt, tt.want) {
				t.Errorf("text lacks %q:\n%s", tt.want, txt)
			}
			if tt.v.Closed != ClosureNone {
				for _, bad := range closedMustNot {
					if strings.Contains(txt, bad) {
						t.Errorf("closed request's card says %q:\n%s", bad, txt)
					}
				}
				if !strings.Contains(txt, "Nothing is left to decide.") {
					t.Errorf("closed request's card does not say nothing is left to decide:\n%s", txt)
				}
				if tt.v.Reason != "" && !strings.Contains(txt, tt.v.Reason) {
					t.Errorf("reason %q not shown:\n%s", tt.v.Reason, txt)
				}
			}
			if n := len(d.executes(VerbApprovalRefresh)); n != 1 {
				t.Errorf("read-only card has %d Refresh buttons, want 1", n)
			}
			if len(d.executes(VerbApprovalApprove))+len(d.executes(VerbApprovalDeny)) != 0 {
				t.Error("read-only card has decision buttons")
			}
			if len(d.objects("Input.Text")) != 0 {
				t.Error("read-only card has inputs")
			}
		})
	}
}
