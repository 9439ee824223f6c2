package cards

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatusStatesHaveDistinctLabels(t *testing.T) {
	states := []RequestState{StateSubmitted, StatePendingApproval, StateApproved, StateDenied, StateDelivering, StateDelivered,
		StatePartiallyDelivered, StateScheduled, StateCanceled, StateExpired, StateDeliveryFailed}
	seen := map[string]RequestState{}
	for _, s := range states {
		l := StateLabel(en, s)
		if strings.HasPrefix(l, "Unknown") {
			t.Errorf("state %s has no label", s)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("states %s and %s share the label %q", s, other, l)
		}
		seen[l] = s
		d := decode(t, RequestStatus(en, RequestStatusView{RequestID: "r", PackageName: "P", State: s}))
		if !strings.Contains(d.texts(), l) {
			t.Errorf("status card for %s does not show %q", s, l)
		}
	}
	// A state Graph added later is kept and shown humanised.
	for raw, want := range map[RequestState]string{"weird": "Unknown (weird)", "awaitingCallback": "Unknown (awaiting callback)",
		"PendingCustomExtension": "Unknown (pending custom extension)", "on_hold": "Unknown (on hold)"} {
		if l := StateLabel(en, raw); l != want {
			t.Errorf("unknown state %q label = %q, want %q", raw, l, want)
		}
	}
}

func TestStatusDetails(t *testing.T) {
	tests := []struct {
		name       string
		v          RequestStatusView
		want       []string
		wantCancel bool
		wantURL    string
	}{
		{"pending stage 2 of 2", RequestStatusView{State: StatePendingApproval, StageIndex: 2, StageCount: 2,
			Asked: []string{"Isaiah Langer", "Lynne Robbins"}, Cancelable: true},
			[]string{"stage 2 of 2", "Waiting for Isaiah Langer or Lynne Robbins."}, true, ""},
		{"denied with reason", RequestStatusView{State: StateDenied, DecidedBy: "Isaiah Langer", DecidedAt: t0, DecisionJustification: "Not yet"},
			[]string{"Denied by Isaiah Langer on {{DATE(2026-11-26T09:15:00Z, SHORT)}}", "\"Not yet\""}, false, ""},
		{"guest waiting for invitation", RequestStatusView{State: StateDelivering, WaitingForInvitation: true, InviteRedeemURL: "https://invitations.example/r"},
			[]string{"Delivering — waiting for you to accept the invitation"}, false, "https://invitations.example/r"},
		{"delivered until", RequestStatusView{State: StateDelivered, Granted: []string{"Falcon Team — Member"}, Until: t0},
			[]string{"• Falcon Team — Member", "Until: {{DATE(2026-11-26T09:15:00Z, SHORT)}} {{TIME(2026-11-26T09:15:00Z)}}"}, false, ""},
		{"brokered note", RequestStatusView{State: StateSubmitted, Mode: ModeBrokered, OrgName: "Contoso"},
			[]string{"Approval run by AccessBot on behalf of Contoso (brokered)"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.RequestID = "r9"
			d := decode(t, RequestStatus(en, tt.v))
			txt := d.texts()
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("text lacks %q:\n%s", w, txt)
				}
			}
			if got := len(d.executes(VerbRequestCancel)) == 1; got != tt.wantCancel {
				t.Errorf("cancel button = %v, want %v", got, tt.wantCancel)
			}
			ref := d.executes(VerbRequestRefresh)
			if len(ref) != 1 || !reflect.DeepEqual(ref[0]["data"], map[string]any{KeyRequestID: "r9"}) {
				t.Errorf("refresh = %v", ref)
			}
			var urls []string
			for _, u := range d.objects("Action.OpenUrl") {
				urls = append(urls, u["url"].(string))
			}
			if tt.wantURL != "" && (len(urls) != 1 || urls[0] != tt.wantURL) {
				t.Errorf("open-url actions = %v, want %s", urls, tt.wantURL)
			}
		})
	}
	// The timeline keeps the latest events.
	var ev []EventView
	for i := range 20 {
		ev = append(ev, EventView{At: t0.Add(time.Duration(i) * time.Minute), Text: fmt.Sprint("event ", i)})
	}
	txt := decode(t, RequestStatus(en, RequestStatusView{State: StateSubmitted, Timeline: ev})).texts()
	if !strings.Contains(txt, "event 19") || strings.Contains(txt, "event 7\n") || !strings.Contains(txt, "8 earlier events not shown") {
		t.Errorf("timeline:\n%s", txt)
	}
}
