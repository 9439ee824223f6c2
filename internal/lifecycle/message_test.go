package lifecycle

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestEventJSON: a history line written by an older build (English text only) still reads as that text; a new
// line stores a message id with its data and no text, and round-trips.
func TestEventJSON(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		raw  string
		want Event
	}{
		{"old record", `{"at":"2026-12-01T09:00:00Z","text":"Stage 1 approved by Aaron Approver"}`,
			Event{At: at, Text: "Stage 1 approved by Aaron Approver"}},
		{"message with data and names", `{"at":"2026-12-01T09:00:00Z","msg":"event.stageWaiting","data":{"Stage":"2","Stages":"2"},"names":["Isaiah Langer","Lynne Robbins"]}`,
			Event{At: at, Message: Message{Msg: "event.stageWaiting", Data: map[string]string{"Stage": "2", "Stages": "2"},
				Names: []string{"Isaiah Langer", "Lynne Robbins"}}}},
		{"message without data", `{"at":"2026-12-01T09:00:00Z","msg":"event.submitted"}`,
			Event{At: at, Message: Message{Msg: "event.submitted"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got Event
			if err := json.Unmarshal([]byte(tc.raw), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("read %+v, want %+v", got, tc.want)
			}
			out, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.raw {
				t.Errorf("wrote %s, want %s", out, tc.raw)
			}
		})
	}
	// A whole record of an older build keeps its history.
	var tr Tracked
	if err := json.Unmarshal([]byte(`{"id":"r1","state":"delivered","timeline":[{"at":"2026-12-01T09:00:00Z","text":"Request submitted"},
		{"at":"2026-12-01T10:00:00Z","text":"Delivered"}]}`), &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Timeline) != 2 || tr.Timeline[0].Text != "Request submitted" || tr.Timeline[1].Msg != "" {
		t.Errorf("old timeline read as %+v", tr.Timeline)
	}
}

// TestAppendEvent: a line repeating the last one is dropped (same id, data and names); anything else is kept,
// and the history keeps the newest maxTimelineEvents lines.
func TestAppendEvent(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	aaron := []Person{{ID: "a", Name: "Aaron"}}
	cases := []struct {
		name  string
		start []Event
		add   Message
		want  int
	}{
		{"first line", nil, Say("event.submitted"), 1},
		{"same message again", []Event{{At: at, Message: Say("event.reminded")}}, Say("event.reminded"), 1},
		{"same id, other data", []Event{{At: at, Message: Say("event.denied", "By", "Aaron")}}, Say("event.denied", "By", "Bea"), 2},
		{"same id, other names", []Event{{At: at, Message: Say("event.waiting").Naming(aaron)}},
			Say("event.waiting").Naming([]Person{{ID: "b"}}), 2},
		{"after an old text line", []Event{{At: at, Text: "Approvers reminded"}}, Say("event.reminded"), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendEvent(tc.start, at.Add(time.Minute), tc.add)
			if len(got) != tc.want {
				t.Fatalf("%d lines, want %d: %+v", len(got), tc.want, got)
			}
			if last := got[len(got)-1]; !last.Message.Equal(tc.add) || last.Text != "" {
				t.Errorf("last line %+v, want %+v", last, tc.add)
			}
		})
	}
	var tl []Event
	for i := range maxTimelineEvents + 5 {
		tl = AppendEvent(tl, at, Say("event.stageDecided", "Stage", string(rune('a'+i))))
	}
	if len(tl) != maxTimelineEvents || tl[0].Data["Stage"] != string(rune('a'+5)) {
		t.Errorf("history of %d lines starting %+v, want the newest %d", len(tl), tl[0], maxTimelineEvents)
	}
}

// TestEventMessages: the core stores what happened as ids and data (no English), names as a list.
func TestEventMessages(t *testing.T) {
	aaron := Decision{Stage: 1, ApproverName: "Aaron Approver", Result: entitlement.ReviewApprove}
	isaiah := Decision{Stage: 2, ApproverName: "Isaiah Langer", Result: entitlement.ReviewDeny}
	cases := []struct {
		name string
		got  Message
		want Message
	}{
		{"single-stage approval", decisionEvent(&Tracked{StageCount: 1}, aaron), Say("event.approved", "By", "Aaron Approver")},
		{"stage approval", decisionEvent(&Tracked{StageCount: 2}, aaron), Say("event.stageApproved", "Stage", "1", "By", "Aaron Approver")},
		{"stage denial", decisionEvent(&Tracked{StageCount: 2}, isaiah), Say("event.stageDenied", "Stage", "2", "By", "Isaiah Langer")},
		{"decision without a result", decisionEvent(&Tracked{}, Decision{Stage: 3}), Say("event.stageDecided", "Stage", "3")},
		{"pending, two stages", stateEvent(&Tracked{State: entitlement.StatePendingApproval, Stage: 2, StageCount: 2}),
			Say("event.pendingStage", "Stage", "2", "Stages", "2")},
		{"approved and delivering", stateEvent(&Tracked{State: entitlement.StateDelivering, Decisions: []Decision{aaron}}),
			Say("event.approvedDelivering", "By", "Aaron Approver")},
		{"denied by nobody", stateEvent(&Tracked{State: entitlement.StateDenied}), Say("event.denied", "By", "")},
		{"another state by its word", stateEvent(&Tracked{State: entitlement.StateDelivered}), Say("event.state", DataState, "delivered")},
		{"people by name, ids for missing names", Say("event.escalated").Naming([]Person{{ID: "u1", Name: "Megan"}, {ID: "u2"}}),
			Message{Msg: "event.escalated", Names: []string{"Megan", "u2"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.got.Equal(tc.want) {
				t.Errorf("got %+v, want %+v", tc.got, tc.want)
			}
		})
	}
}

// TestNotifyJobJSON: a notice queued by an older build (its values under "args") decodes to the same job as
// one this build queues (its Message's "data"); a job round-trips under the Message's JSON names.
func TestNotifyJobJSON(t *testing.T) {
	reason := Say("reason.expired", DataDuration, "168h0m0s")
	want := NotifyJob{TenantID: "fab", UserID: "gus", Message: Message{Msg: "notice.brokered.stopped",
		Data: map[string]string{"Package": "Falcon Partner Collaboration"}, Names: []string{"Patti Fernandez"}}, Reason: &reason}
	cases := []struct{ name, raw string }{
		{"an older build's job", `{"tenantId":"fab","userId":"gus","text":"","msg":"notice.brokered.stopped",` +
			`"args":{"Package":"Falcon Partner Collaboration"},"names":["Patti Fernandez"],` +
			`"reason":{"msg":"reason.expired","data":{"Duration":"168h0m0s"}}}`},
		{"this build's job", `{"tenantId":"fab","userId":"gus","text":"","msg":"notice.brokered.stopped",` +
			`"data":{"Package":"Falcon Partner Collaboration"},"names":["Patti Fernandez"],` +
			`"reason":{"msg":"reason.expired","data":{"Duration":"168h0m0s"}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got NotifyJob
			if err := json.Unmarshal([]byte(tc.raw), &got); err != nil {
				t.Fatal(err)
			}
			if got = got.Upgraded(); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(raw); s != `{"tenantId":"fab","userId":"gus","text":"","msg":"notice.brokered.stopped",`+
		`"data":{"Package":"Falcon Partner Collaboration"},"names":["Patti Fernandez"],"reason":{"msg":"reason.expired","data":{"Duration":"168h0m0s"}}}` {
		t.Errorf("JSON = %s", s)
	}
}

// TestQueuedNoticesReadByOlderBuilds: a notice the core queues carries its values also under "args", where
// builds before NotifyJob embedded Message read them, so an older replica delivering it during a rolling
// deploy (or after a rollback) still says them; this build reads it back as it was queued.
func TestQueuedNoticesReadByOlderBuilds(t *testing.T) {
	var queued []any
	c, err := New(Config{Store: backends[0].open(t), Enqueue: func(_ context.Context, kind string, payload any) {
		if kind == OutboxNotify {
			queued = append(queued, payload)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := entitlement.Request{ID: "req-1", State: entitlement.StateDelivering, PolicyID: "pol", PackageID: "pkg",
		PackageName: "Falcon", Requestor: entitlement.Subject{ID: "rita", Name: "Rita"}, CreatedAt: time.Now()}
	if _, err := c.Observe(ctx, req); err != nil {
		t.Fatal(err)
	}
	req.State, req.Status = entitlement.StateDelivered, "Delivered"
	if _, err := c.Observe(ctx, req); err != nil {
		t.Fatal(err)
	}
	if len(queued) == 0 {
		t.Fatal("no notice queued for the delivered request")
	}
	raw, err := json.Marshal(queued[len(queued)-1])
	if err != nil {
		t.Fatal(err)
	}
	var older struct { // NotifyJob as builds before it embedded Message read it
		Msg  string            `json:"msg"`
		Args map[string]string `json:"args"`
	}
	if err := json.Unmarshal(raw, &older); err != nil || older.Msg == "" || older.Args["Package"] != "Falcon" {
		t.Errorf("an older build reads %+v (%v) from %s, want its message with Package Falcon", older, err, raw)
	}
	var now NotifyJob
	if err := json.Unmarshal(raw, &now); err != nil {
		t.Fatal(err)
	}
	if now = now.Upgraded(); now.Msg != older.Msg || now.Data["Package"] != "Falcon" || now.OlderArgs != nil {
		t.Errorf("this build reads %+v from %s", now, raw)
	}
}
