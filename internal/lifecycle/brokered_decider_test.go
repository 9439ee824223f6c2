package lifecycle

import (
	"context"
	"errors"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// Only an approver of the current stage who is not the requester may decide it; Graph failing to say who
// approves is no verdict about a stranger, but the requester is refused either way.
func TestMayDecideBrokered(t *testing.T) {
	single := func(ids ...string) []entitlement.SubjectSet {
		var out []entitlement.SubjectSet
		for _, id := range ids {
			out = append(out, entitlement.SubjectSet{Kind: entitlement.SetSingleUser, UserID: id})
		}
		return out
	}
	gus := Actor{TenantID: "fab", ID: "gus"}
	tests := []struct {
		name          string
		stage         entitlement.Stage
		escalated     bool
		by            Actor
		wantMay       bool
		wantRequester bool
		wantErr       error
	}{
		{name: "approver", stage: entitlement.Stage{PrimaryApprovers: single("patti")}, by: Actor{TenantID: "contoso", ID: "PATTI"}, wantMay: true},
		{name: "stranger", stage: entitlement.Stage{PrimaryApprovers: single("patti")}, by: Actor{TenantID: "contoso", ID: "mallory"}},
		{name: "requester named by the rules", stage: entitlement.Stage{PrimaryApprovers: single("patti", "gus")}, by: gus, wantRequester: true},
		{name: "escalation approver before escalation", stage: entitlement.Stage{PrimaryApprovers: single("patti"), EscalationApprovers: single("aaron")},
			by: Actor{TenantID: "contoso", ID: "aaron"}},
		{name: "escalation approver after escalation", stage: entitlement.Stage{PrimaryApprovers: single("patti"), EscalationApprovers: single("aaron")},
			escalated: true, by: Actor{TenantID: "contoso", ID: "aaron"}, wantMay: true},
		{name: "graph down, stranger", stage: entitlement.Stage{PrimaryApprovers: single("down")}, by: Actor{TenantID: "contoso", ID: "mallory"},
			wantErr: entitlement.ErrUnavailable},
		{name: "graph down, requester", stage: entitlement.Stage{PrimaryApprovers: single("down")}, by: gus, wantRequester: true},
	}
	port := &submitPort{users: map[string]entitlement.User{"patti": {ID: "patti", Name: "Patti"}, "gus": {ID: "gus", Name: "Gus"},
		"aaron": {ID: "aaron", Name: "Aaron"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newSubmitCore(t, backends[0].open(t), port)
			br := &Brokered{ID: BrokeredPrefix + "1", State: entitlement.StatePendingApproval, StageCount: 1,
				Requester: BrokeredRequester{TenantID: "fab", ID: "gus", OrgID: "org"},
				Stages:    []BrokeredStage{{Index: 1, Escalated: tc.escalated}}}
			may, requester, err := c.MayDecideBrokered(context.Background(), br, tc.stage, tc.by)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || may != tc.wantMay || requester != tc.wantRequester {
				t.Fatalf("may, requester, err = %v, %v, %v; want %v, %v", may, requester, err, tc.wantMay, tc.wantRequester)
			}
		})
	}
}
