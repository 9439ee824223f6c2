package cards

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestListsTruncateWithCount(t *testing.T) {
	var rows []AdminRow
	var items []InboxItemView
	var reqs []RequestSummaryView
	var assigns []AssignmentView
	for i := range 30 {
		rows = append(rows, AdminRow{Cells: []string{fmt.Sprint("row ", i), "x"}})
		items = append(items, InboxItemView{RequestID: fmt.Sprint(i), PackageName: "P"})
		reqs = append(reqs, RequestSummaryView{RequestID: fmt.Sprint(i), PackageName: "P", State: StateSubmitted})
		assigns = append(assigns, AssignmentView{AssignmentID: fmt.Sprint(i), PackageName: "P", CanExtend: true})
	}
	tests := []struct {
		name string
		card *Card
		want string
	}{
		{"admin table", AdminTable(en, AdminTableView{Title: "Audit", Columns: []string{"When", "What"}, Rows: rows, Total: 40, MoreCommand: "/audit rita"}),
			"and 28 more rows; narrow it down, e.g. /audit rita"},
		{"inbox", ApprovalInbox(en, ApprovalInboxView{Items: items}), "and 20 more requests"},
		{"my requests", MyRequests(en, MyRequestsView{Requests: reqs}), "and 20 older requests"},
		{"my access", MyAccess(en, MyAccessView{Assignments: assigns}), "and 20 more assignments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if txt := decode(t, tt.card).texts(); !strings.Contains(txt, tt.want) {
				t.Errorf("text lacks %q:\n%s", tt.want, txt)
			}
		})
	}
}

func TestMyAccessButtons(t *testing.T) {
	d := decode(t, MyAccess(en, MyAccessView{Now: t0, Assignments: []AssignmentView{
		{AssignmentID: "as1", PackageID: "p1", PackageName: "A", End: t0.Add(3 * 24 * time.Hour), CanExtend: true, CanRemove: true},
		{AssignmentID: "as2", PackageID: "p2", PackageName: "B", CanRemove: true},
		{AssignmentID: "as3", PackageID: "p3", PackageName: "C", End: t0.Add(-time.Hour)},
	}}))
	ext, rem := d.executes(VerbAccessExtend), d.executes(VerbAccessRemove)
	if len(ext) != 1 || !reflect.DeepEqual(ext[0]["data"], map[string]any{KeyAssignmentID: "as1", KeyPackageID: "p1"}) {
		t.Errorf("extend = %v", ext)
	}
	if len(rem) != 2 {
		t.Errorf("remove buttons = %d, want 2", len(rem))
	}
	txt := d.texts()
	for _, w := range []string{"(in 3 days)", "No end date", "Ended "} {
		if !strings.Contains(txt, w) {
			t.Errorf("text lacks %q:\n%s", w, txt)
		}
	}
}
