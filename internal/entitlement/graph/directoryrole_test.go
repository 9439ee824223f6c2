package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

const roleAssignmentsPath = "/roleManagement/directory/roleAssignments"

// TestHasDirectoryRole feeds HasDirectoryRole the docs' example response of "List unifiedRoleAssignments"
// (filter on principalId) and variations of it, and checks the answer and the request it sent.
func TestHasDirectoryRole(t *testing.T) {
	const (
		docUser      = "f1847572-48aa-47aa-96a3-2ec61904f41f" // the docs example's principal
		globalAdmin  = "62e90394-69f5-4237-9190-012177145e10"
		globalReader = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
		idGovAdmin   = "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"
	)
	page := func(items string) []byte {
		return []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments","value":[` + items + `]}`)
	}
	assignment := func(id, principal, scope, role string) string {
		return `{"id":"` + id + `","principalId":"` + principal + `","resourceScope":"` + scope + `","directoryScopeId":"` + scope + `","roleDefinitionId":"` + role + `"}`
	}
	tests := []struct {
		name  string
		user  string
		roles []string
		reply func(f *fakeGraph) http.HandlerFunc
		want  bool
		calls int
	}{
		{"docs example: holds the first role", docUser, []string{globalAdmin}, func(f *fakeGraph) http.HandlerFunc {
			return jsonReply(http.StatusOK, f.fixture("rbacapplication-list-roleassignments.json"))
		}, true, 1},
		{"docs example: holds one of several (case-insensitive id)", docUser, []string{idGovAdmin, strings.ToUpper(globalReader)}, func(f *fakeGraph) http.HandlerFunc {
			return jsonReply(http.StatusOK, f.fixture("rbacapplication-list-roleassignments.json"))
		}, true, 1},
		{"docs example: not the configured role", docUser, []string{idGovAdmin}, func(f *fakeGraph) http.HandlerFunc {
			return jsonReply(http.StatusOK, f.fixture("rbacapplication-list-roleassignments.json"))
		}, false, 1},
		{"no assignments", docUser, []string{idGovAdmin}, func(*fakeGraph) http.HandlerFunc {
			return jsonReply(http.StatusOK, page(""))
		}, false, 1},
		{"assignment scoped to an administrative unit does not count", docUser, []string{idGovAdmin}, func(*fakeGraph) http.HandlerFunc {
			return jsonReply(http.StatusOK, page(assignment("a-1", docUser, "/administrativeUnits/5d107bba-d8e2-4e13-b6ae-884be90e5d1a", idGovAdmin)))
		}, false, 1},
		{"another principal's assignment does not count", docUser, []string{idGovAdmin}, func(*fakeGraph) http.HandlerFunc {
			return jsonReply(http.StatusOK, page(assignment("a-1", "aaaaaaaa-0000-0000-0000-000000000001", "/", idGovAdmin)))
		}, false, 1},
		{"role on the second page", docUser, []string{idGovAdmin}, func(f *fakeGraph) http.HandlerFunc {
			first := []byte(`{"value":[` + assignment("a-1", docUser, "/", globalReader) + `],"@odata.nextLink":"` + f.base() + roleAssignmentsPath + `?$skiptoken=p2"}`)
			return sequence(jsonReply(http.StatusOK, first), jsonReply(http.StatusOK, page(assignment("a-2", docUser, "/", idGovAdmin))))
		}, true, 2},
		{"no roles configured: no call", docUser, nil, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			var mu sync.Mutex
			var filters []string
			if tt.reply != nil {
				h := tt.reply(f)
				f.on("GET", roleAssignmentsPath, func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					filters = append(filters, r.URL.Query().Get("$filter"))
					mu.Unlock()
					h(w, r)
				})
			}
			c := newTestClient(t, f)
			got, err := c.HasDirectoryRole(context.Background(), tt.user, tt.roles)
			if err != nil {
				t.Fatalf("HasDirectoryRole: %v", err)
			}
			if got != tt.want {
				t.Errorf("HasDirectoryRole = %v, want %v", got, tt.want)
			}
			if n := f.callsTo("GET " + roleAssignmentsPath); n != tt.calls {
				t.Errorf("calls = %d, want %d (all: %v)", n, tt.calls, f.calls)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(filters) > 0 && filters[0] != "principalId eq '"+tt.user+"'" {
				t.Errorf("$filter = %q, want principalId eq '%s'", filters[0], tt.user)
			}
		})
	}
}

// TestHasDirectoryRoleErrors: bad input is refused before any call; Graph's refusal comes back typed, with
// the operation named and no token in the text.
func TestHasDirectoryRoleErrors(t *testing.T) {
	const user = "aaaaaaaa-0000-0000-0000-000000000003"
	tests := []struct {
		name   string
		user   string
		roles  []string
		status int
		is     error
		want   []string
		calls  int
	}{
		{"empty user id", " ", []string{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"}, 0, entitlement.ErrInvalidInput, []string{"user id"}, 0},
		{"role id not a GUID", user, []string{"Identity Governance Administrator"}, 0, entitlement.ErrInvalidInput,
			[]string{"role template id", `"Identity Governance Administrator" is not a GUID`}, 0},
		{"permission missing (403)", user, []string{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"}, http.StatusForbidden, entitlement.ErrForbidden,
			[]string{"list directory role assignments of " + user, "status 403"}, 1},
		{"Graph unavailable (503)", user, []string{"45d8d3c5-c802-45c6-b32a-1d70b5e1e86e"}, http.StatusServiceUnavailable, entitlement.ErrUnavailable,
			[]string{"list directory role assignments of " + user}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", roleAssignmentsPath, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "0")
				jsonReply(tt.status, []byte(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`))(w, nil)
			})
			c := newTestClient(t, f)
			got, err := c.HasDirectoryRole(context.Background(), tt.user, tt.roles)
			if got || !errors.Is(err, tt.is) {
				t.Fatalf("HasDirectoryRole = %v, %v; want false, %v", got, err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err.Error(), w)
				}
			}
			if strings.Contains(err.Error(), "app-token") {
				t.Errorf("error leaks the token: %v", err)
			}
			if n := f.callsTo("GET " + roleAssignmentsPath); tt.calls >= 0 && n != tt.calls {
				t.Errorf("calls = %d, want %d", n, tt.calls)
			} else if tt.calls < 0 && n < 1 {
				t.Errorf("calls = %d, want at least 1", n)
			}
		})
	}
}
