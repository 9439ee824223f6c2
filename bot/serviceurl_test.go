package bot

import (
	"context"
	"testing"
)

// TestServiceURLFor: a tenant's own service URL wins, then the resource tenant's, then the configured default.
func TestServiceURLFor(t *testing.T) {
	tests := []struct {
		name   string
		seen   map[string]string // tenant → service URL seen in an activity
		def    string
		tenant string
		want   string
	}{
		{"nothing known, no default", nil, "", "t-partner", ""},
		{"nothing known, default", nil, "https://smba.trafficmanager.net/teams/", "t-partner", "https://smba.trafficmanager.net/teams/"},
		{"resource tenant's", map[string]string{flTenant: "https://smba.example/emea/"}, "https://smba.trafficmanager.net/teams/", "t-partner", "https://smba.example/emea/"},
		{"own", map[string]string{flTenant: "https://smba.example/emea/", "t-partner": "https://smba.example/amer/"}, "", "t-partner", "https://smba.example/amer/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newFlEnv(t)
			e.bot.cfg.DefaultServiceURL = tc.def
			for tenant, u := range tc.seen {
				act := e.activity(flRita, "Rita Requester", "message")
				act.Conversation.TenantID, act.ServiceURL = tenant, u
				e.bot.noteServiceURL(context.Background(), e.bot.newTurn(context.Background(), act))
			}
			if got := e.bot.serviceURLFor(context.Background(), tc.tenant); got != tc.want {
				t.Fatalf("serviceURLFor(%s) = %q, want %q", tc.tenant, got, tc.want)
			}
		})
	}
}

// TestEveryActivityTeachesTheServiceURL: any authenticated activity (here a welcome), not only delegated
// commands, records its tenant's service URL for later proactive chats.
func TestEveryActivityTeachesTheServiceURL(t *testing.T) {
	e := newFlEnv(t)
	act := e.activity(flRita, "Rita Requester", "installationUpdate")
	act.Action = "add"
	if _, err := e.bot.OnActivity(context.Background(), act); err != nil {
		t.Fatal(err)
	}
	if got := e.bot.serviceURLFor(context.Background(), flTenant); got != act.ServiceURL {
		t.Fatalf("service URL after an install event = %q, want %q", got, act.ServiceURL)
	}
}
