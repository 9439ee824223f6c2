package lifecycle

import (
	"context"
	"sync"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// filingPort files adminAdd requests and counts them (the rest of the port is unused).
type filingPort struct {
	entitlement.Port
	mu    sync.Mutex
	filed int
}

func (p *filingPort) AdminAdd(_ context.Context, in entitlement.AdminAddInput) (entitlement.Request, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.filed++
	return entitlement.Request{ID: "graph-1", State: entitlement.StateDelivering, PackageID: in.PackageID}, nil
}

// The last stage approved: the decision and the filing are audited once each, adminAdd is filed once, the
// requester gets one notice and the record says delivering.
func TestDecideBrokeredLastStage(t *testing.T) {
	onEachBackend(t, func(t *testing.T, st store.Backend) {
		port := &filingPort{}
		var mu sync.Mutex
		var kinds []string
		var audits []store.AuditEntry
		c, err := New(Config{Store: st, Entitlement: port, Holder: "a", BotName: "AccessBot",
			Enqueue: func(_ context.Context, kind string, _ any) { mu.Lock(); kinds = append(kinds, kind); mu.Unlock() },
			Audit:   func(_ context.Context, e store.AuditEntry) { mu.Lock(); audits = append(audits, e); mu.Unlock() }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		br := &Brokered{ID: BrokeredPrefix + "1", PackageID: "pkg", PolicyID: "pol", State: entitlement.StatePendingApproval,
			Requester: BrokeredRequester{TenantID: "fab", ID: "gus", Email: "gus@fabrikam.example"}, StageCount: 1,
			Stages: []BrokeredStage{{Index: 1, Approvers: []Person{{ID: "patti"}}}}}
		pol := entitlement.Policy{ID: "pol", Stages: []entitlement.Stage{{}}}
		if err := c.DecideBrokered(ctx, br, pol, Actor{TenantID: "contoso", ID: "patti", Name: "Patti"}, entitlement.ReviewApprove, "ok", nil, nil); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetBrokered(ctx, br.ID)
		if err != nil || got.State != entitlement.StateDelivering || got.GraphRequestID != "graph-1" || port.filed != 1 {
			t.Fatalf("record = %+v (%v), filed %d", got, err, port.filed)
		}
		notices := 0
		for _, k := range kinds {
			if k == OutboxNotify {
				notices++
			}
		}
		if notices != 1 {
			t.Errorf("requester notices = %d (%v), want 1", notices, kinds)
		}
		if len(audits) != 2 || audits[0].Outcome != "approved" || audits[0].ActorID != "patti" || audits[1].Action != "assignment.adminAdd" || audits[1].Outcome != "filed" {
			t.Errorf("audit = %+v", audits)
		}
	})
}
