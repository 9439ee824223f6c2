package tenantsim

import (
	"reflect"
	"testing"
)

// TestPolicyKeepsUnmodelledProperties: like Graph, the simulator returns what a policy write carried that
// it does not model (reviewSettings, customExtensionStageSettings, on-behalf requestors, a stage's and a
// question's and a choice's other fields); a PUT that names a question's id keeps that id.
func TestPolicyKeepsUnmodelledProperties(t *testing.T) {
	e := newEnv(t)
	app := e.appToken()
	review := map[string]any{"isEnabled": true, "expirationBehavior": "keepAccess",
		"schedule": map[string]any{"recurrence": map[string]any{"pattern": map[string]any{"type": "absoluteMonthly", "interval": float64(3)}}}}
	ext := []any{map[string]any{"stage": "assignmentRequestGranted", "customExtension": map[string]any{"id": "ext-1"}}}
	onBehalf := []any{map[string]any{"@odata.type": "#microsoft.graph.singleUser", "userId": UserPatti}}
	loc := []any{map[string]any{"languageCode": "de", "text": "Warum?"}}
	choiceLoc := []any{map[string]any{"languageCode": "de", "text": "Standort A"}}
	body := func(qid string) map[string]any {
		q := map[string]any{"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "text": "Why?", "localizations": loc}
		if qid != "" {
			q["id"] = qid
		}
		return map[string]any{"displayName": "Employees", "accessPackage": map[string]any{"id": PkgWikiReader},
			"allowedTargetScope": "allMemberUsers", "expiration": map[string]any{"type": "noExpiration"},
			"requestorSettings": map[string]any{"enableTargetsToSelfAddAccess": true, "onBehalfRequestors": onBehalf},
			"requestApprovalSettings": map[string]any{"isApprovalRequiredForAdd": true, "stages": []any{map[string]any{
				"escalationHint":   "keep me",
				"primaryApprovers": []any{map[string]any{"@odata.type": "#microsoft.graph.singleUser", "userId": UserPatti}}}}},
			"reviewSettings": review, "customExtensionStageSettings": ext,
			"questions": []any{q, map[string]any{"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "text": "Site?",
				"choices": []any{map[string]any{"actualValue": "a", "text": "A", "localizations": choiceLoc}, map[string]any{"actualValue": "b", "text": "B"}}}}}
	}
	r := e.do("POST", em+"assignmentPolicies", app, body(""))
	wantStatus(t, r, 201)
	id := str(r.body["id"])
	r = e.do("GET", em+"assignmentPolicies/"+id+"?$expand=questions", app, nil)
	wantStatus(t, r, 200)
	qid := str(r.body["questions"].([]any)[0].(map[string]any)["id"])
	wantStatus(t, e.do("PUT", em+"assignmentPolicies/"+id, app, body(qid)), 200)
	r = e.do("GET", em+"assignmentPolicies/"+id+"?$expand=questions", app, nil)
	wantStatus(t, r, 200)
	qs := r.body["questions"].([]any)
	q0, q1 := qs[0].(map[string]any), qs[1].(map[string]any)
	stage := r.body["requestApprovalSettings"].(map[string]any)["stages"].([]any)[0].(map[string]any)
	tests := []struct {
		name      string
		got, want any
	}{
		{"reviewSettings", r.body["reviewSettings"], review},
		{"customExtensionStageSettings", r.body["customExtensionStageSettings"], ext},
		{"onBehalfRequestors", r.body["requestorSettings"].(map[string]any)["onBehalfRequestors"], onBehalf},
		{"stage field", stage["escalationHint"], "keep me"},
		{"question localizations", q0["localizations"], loc},
		{"question id", q0["id"], qid},
		{"choice localizations", q1["choices"].([]any)[0].(map[string]any)["localizations"], choiceLoc},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}
