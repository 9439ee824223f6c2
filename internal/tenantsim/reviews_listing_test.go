package tenantsim

import (
	"net/http"
	"testing"
)

// TestReviewerListings: instances, decisions and stages answer their listings alike (reviewerListing): the
// reviewer form needs on='reviewer' and a delegated token, the whole listing a review administrator, and
// only GET is served.
func TestReviewerListings(t *testing.T) {
	e := newEnv(t)
	e.sim.SeedReviews()
	e.sim.SeedStagedReview()
	app, aaron := e.appToken(), e.userToken(UserAaron)
	inst := prodInst + "/" + firstInstance(t, e, app, ReviewProductionID)
	staged := stagedInst + "/" + firstInstance(t, e, app, ReviewStagedID)
	for what, list := range map[string]string{"instances": prodInst, "decisions": inst + "/decisions", "stages": staged + "/stages"} {
		for _, tc := range []struct {
			name, method, path, tok string
			want                    int
		}{
			{"reviewer's own", http.MethodGet, list + "/filterByCurrentUser(on='reviewer')", aaron, http.StatusOK},
			{"wrong on", http.MethodGet, list + "/filterByCurrentUser(on='approver')", aaron, http.StatusBadRequest},
			{"reviewer form app-only", http.MethodGet, list + "/filterByCurrentUser(on='reviewer')", app, http.StatusForbidden},
			{"whole listing as admin app", http.MethodGet, list, app, http.StatusOK},
			{"whole listing as a reviewer", http.MethodGet, list, aaron, http.StatusForbidden},
			{"not a GET", http.MethodPost, list, app, http.StatusMethodNotAllowed},
		} {
			t.Run(what+"/"+tc.name, func(t *testing.T) {
				wantStatus(t, e.do(tc.method, tc.path, tc.tok, nil), tc.want)
			})
		}
	}
}
