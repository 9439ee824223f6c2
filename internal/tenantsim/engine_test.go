package tenantsim

import "testing"

func TestEligibilityByScope(t *testing.T) {
	e := newEnv(t)
	s := e.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.ConnectedOrgs["proposed"] = &connectedOrg{ID: "proposed", State: "proposed", SourceType: "azureActiveDirectoryTenant", SourceTenantID: NorthwindTenantID}
	member := s.identityOfUser(s.w.Users[UserRita])
	gus := identity{HomeTenantID: FabrikamTenantID, HomeUserID: UserGus, Email: "gus@fabrikam.example", ConnectedOrgID: FabrikamConnectedOrgID}
	nina := identity{HomeTenantID: NorthwindTenantID, HomeUserID: UserNina, Email: "nina@northwind.example", ConnectedOrgID: "proposed"}
	stranger := identity{HomeTenantID: "external:example.org", Email: "someone@example.org"}
	tests := []struct {
		scope   string
		targets []subjectSet
		id      identity
		want    bool
	}{
		{"allMemberUsers", nil, member, true},
		{"allMemberUsers", nil, gus, false},
		{"allDirectoryUsers", nil, member, true},
		{"allDirectoryUsers", nil, gus, false},
		{"specificDirectoryUsers", []subjectSet{{Type: "singleUser", UserID: UserRita}}, member, true},
		{"specificDirectoryUsers", []subjectSet{{Type: "groupMembers", GroupID: ReviewersGroupID}}, member, false},
		{"specificConnectedOrganizationUsers", []subjectSet{{Type: "connectedOrganizationMembers", ConnectedOrg: FabrikamConnectedOrgID}}, gus, true},
		{"specificConnectedOrganizationUsers", []subjectSet{{Type: "connectedOrganizationMembers", ConnectedOrg: FabrikamConnectedOrgID}}, nina, false},
		{"specificConnectedOrganizationUsers", []subjectSet{{Type: "connectedOrganizationMembers", ConnectedOrg: FabrikamConnectedOrgID}}, member, false},
		{"allConfiguredConnectedOrganizationUsers", nil, gus, true},
		{"allConfiguredConnectedOrganizationUsers", nil, nina, false},
		{"allConfiguredConnectedOrganizationUsers", nil, stranger, false},
		{"allExternalUsers", nil, stranger, true},
		{"allExternalUsers", nil, member, false},
		{"notSpecified", nil, member, false},
	}
	for _, tc := range tests {
		p := &policy{AllowedTargetScope: tc.scope, SpecificTargets: tc.targets}
		if got := s.eligible(p, tc.id); got != tc.want {
			t.Errorf("%s %v for %s/%s = %v, want %v", tc.scope, tc.targets, tc.id.HomeTenantID, tc.id.HomeUserID, got, tc.want)
		}
	}
}

func TestApproverResolution(t *testing.T) {
	e := newEnv(t)
	s := e.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	rita := s.subjectFor(s.identityOfUser(s.w.Users[UserRita]))
	isaiah := s.subjectFor(s.identityOfUser(s.w.Users[UserIsaiah]))
	gus := s.subjectFor(identity{HomeTenantID: FabrikamTenantID, HomeUserID: UserGus, Email: "gus@fabrikam.example", ConnectedOrgID: FabrikamConnectedOrgID})
	tests := []struct {
		name   string
		target *subject
		sets   []subjectSet
		want   []string
	}{
		{"manager", rita, []subjectSet{{Type: "requestorManager"}}, []string{UserAaron}},
		{"no manager for an external user", gus, []subjectSet{{Type: "requestorManager"}}, nil},
		{"group", rita, []subjectSet{{Type: "groupMembers", GroupID: ReviewersGroupID}}, []string{UserIsaiah, UserLynne}},
		{"sponsors", gus, []subjectSet{{Type: "internalSponsors"}, {Type: "externalSponsors"}}, []string{UserPatti, UserFiona}},
		{"sponsors need a connected org", rita, []subjectSet{{Type: "internalSponsors"}}, nil},
		{"single user", rita, []subjectSet{{Type: "singleUser", UserID: UserPatti}}, []string{UserPatti}},
		{"self is resolved (and removed at stage start)", isaiah, []subjectSet{{Type: "groupMembers", GroupID: ReviewersGroupID}}, []string{UserIsaiah, UserLynne}},
	}
	for _, tc := range tests {
		rq := &request{TargetID: tc.target.ID, RequestorID: tc.target.ID}
		got := s.resolveSets(tc.sets, rq)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	// Stage start drops the requestor from the approvers (no self-approval).
	rq := &request{ID: "r", TargetID: isaiah.ID, RequestorID: isaiah.ID, PolicyID: PolicyProduction,
		Stages: []approvalStage{{ID: "s1"}, {ID: "s2"}}}
	s.startStage(rq, 1, baseTime)
	if len(rq.Stages[1].Approvers) != 1 || rq.Stages[1].Approvers[0] != UserLynne {
		t.Fatalf("stage 2 approvers for Isaiah's own request: %v", rq.Stages[1].Approvers)
	}
	// Nestor has no manager: the fallback (Patti) approves.
	nestor := s.subjectFor(s.identityOfUser(s.w.Users[UserNestor]))
	rq = &request{ID: "r2", TargetID: nestor.ID, RequestorID: nestor.ID, PolicyID: PolicyTeamMember, Stages: []approvalStage{{ID: "s1"}}}
	s.startStage(rq, 0, baseTime)
	if len(rq.Stages[0].Approvers) != 1 || rq.Stages[0].Approvers[0] != UserPatti {
		t.Fatalf("fallback approvers %v", rq.Stages[0].Approvers)
	}
}

func TestIsActiveAssignment(t *testing.T) {
	for state, want := range map[string]bool{"delivering": true, "partiallyDelivered": true, "delivered": true,
		"expired": false, "deliveryFailed": false, "delivering ": false, "": false} {
		if got := isActiveAssignment(&assignment{State: state}); got != want {
			t.Errorf("isActiveAssignment(%q) = %v, want %v", state, got, want)
		}
	}
}
