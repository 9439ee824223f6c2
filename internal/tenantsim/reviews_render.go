package tenantsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// Rendering of access review objects (Graph v1.0 property names) and Graph JSON batching ($batch).

func (s *Sim) userIdentity(ref *identityRef) map[string]any {
	if ref == nil {
		return map[string]any{"id": "00000000-0000-0000-0000-000000000000", "displayName": "", "userPrincipalName": ""}
	}
	upn := ""
	if u := s.w.Users[ref.ID]; u != nil {
		upn = u.UPN
	}
	return map[string]any{"id": ref.ID, "displayName": ref.DisplayName, "userPrincipalName": upn}
}

func reviewScope(d *reviewDef) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.accessReviewQueryScope",
		"query":     "/identityGovernance/entitlementManagement/accessPackageAssignments?$filter=(accessPackageId eq '" + d.PackageID + "')",
		"queryType": "MicrosoftGraph", "queryRoot": nil}
}

func renderReviewerScopes(scopes []reviewerScope) []any {
	out := []any{}
	for _, sc := range scopes {
		out = append(out, map[string]any{"query": sc.Query, "queryType": sc.QueryType, "queryRoot": nilIfEmpty(sc.QueryRoot)})
	}
	return out
}

func defStatus(d *reviewDef) string {
	st := "NotStarted"
	for _, in := range d.Instances {
		if in.Status == "InProgress" {
			return "InProgress"
		}
		if in.Status != "NotStarted" {
			st = "Completed"
		}
	}
	return st
}

func (s *Sim) renderReviewDef(d *reviewDef) map[string]any {
	var rec any
	if d.Recurrence != "" {
		rec = map[string]any{"pattern": map[string]any{"type": d.Recurrence, "interval": max(d.Interval, 1)},
			"range": map[string]any{"type": "noEnd", "startDate": d.Start.Format("2006-01-02"), "endDate": nil}}
	}
	return map[string]any{
		"@odata.type":              "#microsoft.graph.accessReviewScheduleDefinition",
		"id":                       d.ID,
		"displayName":              d.DisplayName,
		"createdDateTime":          ts(d.Created),
		"lastModifiedDateTime":     ts(d.Created),
		"status":                   defStatus(d),
		"descriptionForAdmins":     d.Description,
		"descriptionForReviewers":  d.Description,
		"createdBy":                s.userIdentity(&d.CreatedBy),
		"scope":                    reviewScope(d),
		"instanceEnumerationScope": nil,
		"reviewers":                renderReviewerScopes(d.Reviewers),
		"fallbackReviewers":        renderReviewerScopes(d.Fallback),
		"stageSettings":            renderStageSettings(d),
		"settings": map[string]any{
			"mailNotificationsEnabled":        true,
			"reminderNotificationsEnabled":    true,
			"justificationRequiredOnApproval": d.JustificationRequired,
			"defaultDecisionEnabled":          d.DefaultDecisionEnabled,
			"defaultDecision":                 orNone(d.DefaultDecision),
			"instanceDurationInDays":          d.DurationDays,
			"autoApplyDecisionsEnabled":       d.AutoApply,
			"recommendationsEnabled":          d.Recommendations,
			"recurrence":                      rec,
		},
	}
}

func orNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

func (s *Sim) renderInstance(d *reviewDef, in *reviewInst) map[string]any {
	return map[string]any{
		"@odata.type":       "#microsoft.graph.accessReviewInstance",
		"id":                in.ID,
		"startDateTime":     ts(in.Start),
		"endDateTime":       ts(in.End),
		"status":            in.Status,
		"scope":             reviewScope(d),
		"reviewers":         renderReviewerScopes(d.Reviewers),
		"fallbackReviewers": renderReviewerScopes(d.Fallback),
	}
}

func (s *Sim) renderDecision(d *reviewDef, in *reviewInst, dc *reviewDecision, insights bool) map[string]any {
	principal := map[string]any{"@odata.type": "#microsoft.graph.userIdentity", "id": dc.PrincipalID}
	if u := s.w.Users[dc.PrincipalID]; u != nil {
		principal["displayName"], principal["userPrincipalName"] = u.DisplayName, u.UPN
	}
	pkgName := ""
	if p := s.w.Packages[d.PackageID]; p != nil {
		pkgName = p.DisplayName
	}
	m := map[string]any{
		"@odata.type":      "#microsoft.graph.accessReviewInstanceDecisionItem",
		"id":               dc.ID,
		"accessReviewId":   in.ID,
		"decision":         dc.Decision,
		"recommendation":   dc.Recommendation,
		"justification":    dc.Justification,
		"reviewedDateTime": tsPtr(dc.ReviewedAt),
		"reviewedBy":       s.userIdentity(dc.ReviewedBy),
		"appliedDateTime":  tsPtr(dc.AppliedAt),
		"appliedBy":        s.userIdentity(dc.AppliedBy),
		"applyResult":      dc.ApplyResult,
		"principalLink":    s.graphBase() + "/users/" + dc.PrincipalID,
		"resourceLink":     nil,
		"principal":        principal,
		"resource": map[string]any{"@odata.type": "#microsoft.graph.accessReviewInstanceDecisionItemResource",
			"id": d.PackageID, "displayName": pkgName, "type": "accessPackage"},
	}
	if insights {
		ins := []any{}
		if dc.LastSignIn != nil {
			ins = append(ins, map[string]any{"@odata.type": "#microsoft.graph.userSignInInsight", "id": dc.ID + "-signin",
				"insightCreatedDateTime": ts(in.Start), "lastSignInDateTime": ts(*dc.LastSignIn)})
		}
		m["insights"] = ins
	}
	return m
}

// serveBatch answers POST /$batch (JSON batching): each of at most 20 requests is dispatched as the same caller
// and answered in "responses" with its own status, headers and body.
func (s *Sim) serveBatch(g *gctx) *graphErr {
	if g.r.Method != http.MethodPost {
		return methodNotAllowed(g.r)
	}
	body, gerr := readJSONObject(g.r)
	if gerr != nil {
		return gerr
	}
	reqs := jarr(body, "requests")
	if len(reqs) == 0 || len(reqs) > 20 {
		return errBadRequest("A batch must contain between 1 and 20 requests (it has %d).", len(reqs))
	}
	var out []any
	for i, raw := range reqs {
		o, _ := raw.(map[string]any)
		id := jstr(o, "id")
		if id == "" {
			id = strconv.Itoa(i + 1)
		}
		out = append(out, s.batchStep(g, id, jstr(o, "method"), jstr(o, "url"), o["body"]))
	}
	writeJSON(g.w, http.StatusOK, map[string]any{"responses": out})
	return nil
}

func (s *Sim) batchStep(g *gctx, id, method, rawURL string, body any) map[string]any {
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	rel := "/v1.0/" + strings.TrimLeft(rawURL, "/")
	r := httptest.NewRequestWithContext(g.r.Context(), strings.ToUpper(method), rel, &buf)
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	step := func() *graphErr {
		q, gerr := parseQuery(r)
		if gerr != nil {
			return gerr
		}
		path := strings.Trim(strings.TrimPrefix(r.URL.Path, "/v1.0"), "/")
		sub := &gctx{w: rec, r: r, c: g.c, q: q, seg: splitPath(path)}
		if len(sub.seg) > 0 && sub.seg[0] == "$batch" {
			return errBadRequest("A batch cannot contain another batch.")
		}
		gerr = s.dispatch(sub)
		g.mutated = g.mutated || sub.mutated
		return gerr
	}
	if gerr := step(); gerr != nil {
		writeGraphError(rec, r, s.now(), gerr)
	}
	resp := map[string]any{"id": id, "status": rec.Code, "headers": map[string]any{"Content-Type": rec.Header().Get("Content-Type")}}
	if rec.Body.Len() > 0 {
		var v any
		if json.Unmarshal(rec.Body.Bytes(), &v) == nil {
			resp["body"] = v
		}
	}
	return resp
}
