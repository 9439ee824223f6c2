package builder

import (
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestRoleOptionsOfFoundResources(t *testing.T) {
	inCatalog := []entitlement.CatalogResource{{ID: "r-team", Name: "Falcon Team", OriginID: "g-team", OriginSystem: entitlement.OriginGroup,
		Roles: []entitlement.CatalogResourceRole{{Name: "Member", OriginID: "Member_g-team"}}}}
	site := "https://contoso.sharepoint.com/sites/nw"
	tests := []struct {
		name  string
		found []entitlement.DirectoryResource
		want  []string // keys of the pending options, after the catalog's
	}{
		{"group without roles offers Member and Owner", []entitlement.DirectoryResource{{OriginSystem: entitlement.OriginGroup, OriginID: "g-nw", Name: "NW"}},
			[]string{"g-nw|Member", "g-nw|Owner"}},
		{"site offers its SharePoint groups", []entitlement.DirectoryResource{{OriginSystem: entitlement.OriginSharePoint, OriginID: site, Name: "NW",
			Roles: []string{"NW Owners", "NW Members", "NW Visitors"}}}, []string{site + "|NW Owners", site + "|NW Members", site + "|NW Visitors"}},
		{"app offers Default Access and its app roles", []entitlement.DirectoryResource{{OriginSystem: entitlement.OriginApplication, OriginID: "sp-x", Name: "X",
			Roles: []string{"Default Access", "Partner"}}}, []string{"sp-x|Default Access", "sp-x|Partner"}},
		{"a resource already in the catalog is not offered twice", []entitlement.DirectoryResource{{OriginSystem: entitlement.OriginGroup, OriginID: "g-team", Name: "Falcon Team"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RoleOptions(inCatalog, tt.found)
			if len(got) != 1+len(tt.want) || got[0].Key() != "g-team|Member" || got[0].Pending {
				t.Fatalf("options %+v", got)
			}
			for i, w := range tt.want {
				if o := got[i+1]; o.Key() != w || !o.Pending || o.OriginSystem != tt.found[0].OriginSystem {
					t.Errorf("option %d = %+v, want pending %s", i+1, o, w)
				}
			}
		})
	}
}
