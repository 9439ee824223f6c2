package graph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// TestInstallAppResolvesTheCatalogID: Graph installs an app by its app catalog id, which for an app published
// to the organization's catalog differs from the manifest id the bot is configured with (the manifest id is
// the catalog app's externalId). The client looks the id up once, then installs by the catalog id; a store
// app (no catalog entry with that externalId) is installed by the id it was given.
func TestInstallAppResolvesTheCatalogID(t *testing.T) {
	ctx := context.Background()
	const lookup = "GET /appCatalogs/teamsApps"
	const install = "POST /users/u-1/teamwork/installedApps"
	created := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }
	tests := []struct {
		name      string
		catalog   http.HandlerFunc
		wantBind  string // catalog id bound; "" = no POST
		wantErr   error
		wantCalls int // lookups over two installs
	}{
		{"organization app: installed by its catalog id, looked up once",
			jsonReply(http.StatusOK, []byte(`{"value":[{"id":"catalog-1","externalId":"manifest-1","displayName":"AccessBot","distributionMethod":"organization"}]}`)),
			"catalog-1", nil, 1},
		{"no catalog entry (store app, or already a catalog id): installed by the given id",
			jsonReply(http.StatusOK, []byte(`{"value":[]}`)), "manifest-1", nil, 1},
		{"catalog not readable (AppCatalog.Read.All not granted): installed by the given id",
			jsonReply(http.StatusForbidden, []byte(`{"error":{"code":"Forbidden","message":"Insufficient privileges"}}`)), "manifest-1", nil, 2},
		{"catalog read fails: no install attempted",
			jsonReply(http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"boom"}}`)), "", entitlement.ErrUnavailable, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			var filters []string
			f.on("GET", "/appCatalogs/teamsApps", func(w http.ResponseWriter, r *http.Request) {
				filters = append(filters, r.URL.Query().Get("$filter"))
				tt.catalog(w, r)
			})
			f.on("POST", "/users/u-1/teamwork/installedApps", created)
			c := newTestClient(t, f)
			for i := range 2 {
				err := c.InstallAppForUser(ctx, "u-1", "manifest-1")
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("install %d: err = %v, want %v", i, err, tt.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("install %d: %v", i, err)
				}
				if got := f.lastBody(install)["teamsApp@odata.bind"]; got != f.base()+"/appCatalogs/teamsApps/"+tt.wantBind {
					t.Fatalf("install %d bound %v, want catalog id %s", i, got, tt.wantBind)
				}
			}
			if tt.wantBind == "" && f.callsTo(install) != 0 {
				t.Errorf("installed although the catalog could not be read")
			}
			if got := f.callsTo(lookup); got != tt.wantCalls {
				t.Errorf("catalog lookups = %d, want %d", got, tt.wantCalls)
			}
			for _, fl := range filters {
				if fl != "externalId eq 'manifest-1'" {
					t.Errorf("lookup $filter = %q", fl)
				}
			}
		})
	}
}
