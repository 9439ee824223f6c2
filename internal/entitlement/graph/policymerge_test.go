package graph

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// policyWithUnmodelled is an assignment policy as Graph returns it, with properties the wizard does not
// model: its own access reviews, custom extension stage settings, on-behalf requestors, notification
// settings, a stage field, and questions and choices with translations.
const policyWithUnmodelled = `{
 "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identityGovernance/entitlementManagement/assignmentPolicies/$entity",
 "id": "pol-1", "displayName": "Employees", "description": "Contoso's own",
 "createdDateTime": "2026-01-01T00:00:00Z", "modifiedDateTime": "2026-01-02T00:00:00Z",
 "allowedTargetScope": "allMemberUsers", "specificAllowedTargets": [],
 "expiration": {"type": "afterDuration", "duration": "P180D", "endDateTime": null},
 "requestorSettings": {"enableTargetsToSelfAddAccess": true, "enableTargetsToSelfUpdateAccess": false,
  "enableTargetsToSelfRemoveAccess": true, "allowCustomAssignmentSchedule": false,
  "enableOnBehalfRequestorsToAddAccess": true, "enableOnBehalfRequestorsToUpdateAccess": false,
  "enableOnBehalfRequestorsToRemoveAccess": false,
  "onBehalfRequestors": [{"@odata.type": "#microsoft.graph.singleUser", "userId": "u-adele", "description": "Adele"}]},
 "requestApprovalSettings": {"isApprovalRequiredForAdd": true, "isApprovalRequiredForUpdate": false,
  "isRequestorJustificationRequired": true,
  "stages": [{"durationBeforeAutomaticDenial": "P7D", "isApproverJustificationRequired": true, "isEscalationEnabled": false,
   "durationBeforeEscalation": null, "escalationHint": "keep me",
   "primaryApprovers": [{"@odata.type": "#microsoft.graph.singleUser", "userId": "u-patti", "description": "Patti"}],
   "fallbackPrimaryApprovers": [], "escalationApprovers": [], "fallbackEscalationApprovers": []}]},
 "reviewSettings": {"isEnabled": true, "expirationBehavior": "keepAccess", "isRecommendationEnabled": true,
  "isReviewerJustificationRequired": true, "isSelfReview": false,
  "schedule": {"startDateTime": "2026-02-01T00:00:00Z", "expiration": {"type": "afterDuration", "duration": "P25D"},
   "recurrence": {"pattern": {"type": "absoluteMonthly", "interval": 3}, "range": {"type": "noEnd"}}},
  "primaryReviewers": [{"@odata.type": "#microsoft.graph.groupMembers", "groupId": "g-rev"}], "fallbackReviewers": []},
 "customExtensionStageSettings": [{"stage": "assignmentRequestGranted",
  "customExtension": {"@odata.type": "#microsoft.graph.accessPackageAssignmentWorkflowExtension", "id": "ext-1"}}],
 "notificationSettings": {"isAssignmentNotificationDisabled": true},
 "automaticRequestSettings": null,
 "questions@odata.context": "https://graph.microsoft.com/v1.0/$metadata#questions",
 "questions": [
  {"@odata.type": "#microsoft.graph.accessPackageTextInputQuestion", "id": "q-why", "sequence": 1, "isRequired": true,
   "isAnswerEditable": true, "text": "Why?", "isSingleLineQuestion": true, "regexPattern": null,
   "localizations": [{"languageCode": "de", "text": "Warum?"}, {"languageCode": "fr", "text": "Pourquoi ?"}]},
  {"@odata.type": "#microsoft.graph.accessPackageMultipleChoiceQuestion", "id": "q-site", "sequence": 2, "isRequired": false,
   "isAnswerEditable": false, "text": "Which site?", "isMultipleSelectionAllowed": false,
   "localizations": [{"languageCode": "de", "text": "Welche Site?"}],
   "choices": [{"actualValue": "a", "text": "Site A", "localizations": [{"languageCode": "de", "text": "Standort A"}]},
    {"actualValue": "b", "text": "Site B", "localizations": []}]}
 ]
}`

// TestUpdatePolicyKeepsUnmodelled: an edit reads the policy through the client, changes it as the wizard
// does, and the PUT body is Graph's own policy with only that change: everything the model does not hold
// (reviewSettings, customExtensionStageSettings, on-behalf requestors, a stage's extra field, question and
// choice translations, …) is sent back as Graph returned it.
func TestUpdatePolicyKeepsUnmodelled(t *testing.T) {
	ctx := context.Background()
	q := func(p map[string]any, i int) map[string]any { return p["questions"].([]any)[i].(map[string]any) }
	tests := []struct {
		name string
		edit func(p *entitlement.Policy)
		want func(body map[string]any) // the change in Graph's JSON
	}{
		{"expiry only", func(p *entitlement.Policy) {
			p.Expiration = entitlement.Expiration{Type: entitlement.ExpireAfterDuration, Duration: "P60D"}
		},
			func(b map[string]any) { b["expiration"].(map[string]any)["duration"] = "P60D" }},
		{"extension allowed", func(p *entitlement.Policy) { p.SelfUpdateAllowed = true },
			func(b map[string]any) {
				b["requestorSettings"].(map[string]any)["enableTargetsToSelfUpdateAccess"] = true
			}},
		{"question text and stage deadline", func(p *entitlement.Policy) {
			p.Questions[0].Text = "Why do you need it?"
			p.Questions[1].Required = true
			p.Stages[0].DurationBeforeAutomaticDenial = "P3D"
		}, func(b map[string]any) {
			q(b, 0)["text"] = "Why do you need it?"
			q(b, 1)["isRequired"] = true
			b["requestApprovalSettings"].(map[string]any)["stages"].([]any)[0].(map[string]any)["durationBeforeAutomaticDenial"] = "P3D"
		}},
		{"first question removed", func(p *entitlement.Policy) { p.Questions = p.Questions[1:] },
			func(b map[string]any) {
				b["questions"] = b["questions"].([]any)[1:]
				q(b, 0)["sequence"] = float64(1)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t)
			f.on("GET", em+"/assignmentPolicies/pol-1", jsonReply(http.StatusOK, []byte(policyWithUnmodelled)))
			f.on("PUT", em+"/assignmentPolicies/pol-1", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.Copy(w, r.Body)
			})
			c := newTestClient(t, f)
			before, err := c.Policy(ctx, "pol-1")
			if err != nil {
				t.Fatalf("read policy: %v", err)
			}
			after := before
			after.Questions = append([]entitlement.Question(nil), before.Questions...)
			after.Stages = append([]entitlement.Stage(nil), before.Stages...)
			tc.edit(&after)
			if _, err := c.UpdatePolicy(ctx, before, after); err != nil {
				t.Fatalf("update policy: %v", err)
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(policyWithUnmodelled), &want); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"@odata.context", "questions@odata.context", "createdDateTime", "modifiedDateTime"} {
				delete(want, k)
			}
			tc.want(want)
			got := f.lastBody("PUT " + em + "/assignmentPolicies/pol-1")
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("PUT body:\n%s\nwant:\n%s", gj, wj)
			}
		})
	}
}
