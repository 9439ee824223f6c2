package bot

import (
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/i18n"
)

// TestApprovalSummaryJoins: a stage's approvers are alternatives, joined as the reader's language writes
// "A, B or C" (the same join as the status card and the history), the stages in order.
func TestApprovalSummaryJoins(t *testing.T) {
	pol := entitlement.Policy{ApprovalRequired: true, Stages: []entitlement.Stage{
		{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetRequestorManager},
			{Kind: entitlement.SetSingleUser, Description: "Patti Fernandez"}, {Kind: entitlement.SetSingleUser, Description: "Adele Vance"},
			{Kind: entitlement.SetSingleUser, Description: "Nestor Wilke", IsBackup: true}}},
		{PrimaryApprovers: []entitlement.SubjectSet{{Kind: entitlement.SetGroupMembers, Description: "Falcon Security Reviewers"}}},
	}}
	want := map[string]string{
		"en": "Your manager, Patti Fernandez or Adele Vance, then Falcon Security Reviewers",
		"de": "Ihre Führungskraft, Patti Fernandez oder Adele Vance, dann Falcon Security Reviewers",
		"fr": "Votre responsable, Patti Fernandez ou Adele Vance, puis Falcon Security Reviewers",
	}
	for _, lang := range i18n.Languages {
		if got := approvalSummary(i18n.For(lang), pol); got != want[lang] {
			t.Errorf("%s: got %q, want %q", lang, got, want[lang])
		}
	}
}
