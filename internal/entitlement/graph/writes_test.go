package graph

import (
	"context"
	"net/http"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestWriteShapes checks request bodies against the docs' request examples: @odata.type with its '#',
// @odata.bind / @odata.id references on the configured base.
func TestWriteShapes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		route  [2]string
		reply  http.HandlerFunc
		call   func(c *Client) error
		verify func(t *testing.T, f *fakeGraph, body map[string]any)
	}{
		{"connected org by tenant", [2]string{"POST", em + "/connectedOrganizations"},
			jsonReply(http.StatusCreated, []byte(`{"id":"new-org","displayName":"Fabrikam","state":"configured","identitySources":[{"@odata.type":"#microsoft.graph.azureActiveDirectoryTenant","tenantId":"22222222-2222-2222-2222-222222222222","displayName":"Fabrikam"}]}`)),
			func(c *Client) error {
				_, err := c.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{Name: "Fabrikam", TenantID: "22222222-2222-2222-2222-222222222222"})
				return err
			},
			func(t *testing.T, _ *fakeGraph, body map[string]any) {
				srcs, _ := body["identitySources"].([]any)
				src, _ := srcs[0].(map[string]any)
				if body["displayName"] != "Fabrikam" || body["state"] != "configured" || src["@odata.type"] != "#microsoft.graph.azureActiveDirectoryTenant" || src["tenantId"] != "22222222-2222-2222-2222-222222222222" {
					t.Errorf("body = %v", body)
				}
			}},
		{"connected org by domain", [2]string{"POST", em + "/connectedOrganizations"},
			jsonReply(http.StatusCreated, []byte(`{"id":"new-org","displayName":"Example","state":"proposed","identitySources":[{"@odata.type":"#microsoft.graph.domainIdentitySource","domainName":"example.com","displayName":"example.com"}]}`)),
			func(c *Client) error {
				_, err := c.CreateConnectedOrg(ctx, entitlement.NewConnectedOrg{Name: "Example", Domain: "Example.com", State: entitlement.OrgProposed})
				return err
			},
			func(t *testing.T, _ *fakeGraph, body map[string]any) {
				srcs, _ := body["identitySources"].([]any)
				src, _ := srcs[0].(map[string]any)
				if body["state"] != "proposed" || src["@odata.type"] != "#microsoft.graph.domainIdentitySource" || src["domainName"] != "example.com" {
					t.Errorf("body = %v", body)
				}
			}},
		{"sponsor reference", [2]string{"POST", em + "/connectedOrganizations/org-1/externalSponsors/$ref"},
			func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
			func(c *Client) error { return c.AddSponsor(ctx, "org-1", entitlement.SponsorExternal, "u-1") },
			func(t *testing.T, f *fakeGraph, body map[string]any) {
				if body["@odata.id"] != f.base()+"/directoryObjects/u-1" {
					t.Errorf("body = %v", body)
				}
			}},
		{"install app (409 = already installed)", [2]string{"POST", "/users/u-1/teamwork/installedApps"},
			jsonReply(http.StatusConflict, []byte(`{"error":{"code":"Conflict"}}`)),
			func(c *Client) error { return c.InstallAppForUser(ctx, "u-1", "app-1") },
			func(t *testing.T, f *fakeGraph, body map[string]any) {
				if body["teamsApp@odata.bind"] != f.base()+"/appCatalogs/teamsApps/app-1" {
					t.Errorf("body = %v", body)
				}
			}},
		{"admin remove", [2]string{"POST", em + "/assignmentRequests"},
			jsonReply(http.StatusCreated, []byte(`{"id":"rm-1","requestType":"adminRemove","state":"submitted","status":"Accepted"}`)),
			func(c *Client) error {
				_, err := c.AdminRemove(ctx, "a6bb6942-3ae1-4259-9908-0133aaee9377", "")
				return err
			},
			func(t *testing.T, _ *fakeGraph, body map[string]any) {
				asg, _ := body["assignment"].(map[string]any)
				if body["requestType"] != "adminRemove" || asg["id"] != "a6bb6942-3ae1-4259-9908-0133aaee9377" {
					t.Errorf("body = %v", body)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on(tt.route[0], tt.route[1], tt.reply)
			c := newTestClient(t, f)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			tt.verify(t, f, f.lastBody(tt.route[0]+" "+tt.route[1]))
		})
	}
}
