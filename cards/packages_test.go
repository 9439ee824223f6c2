package cards

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPackageListPaging(t *testing.T) {
	tests := []struct {
		name             string
		page, pages      int
		wantPrev, wantNx string
	}{
		{"first of three", 1, 3, "", "2"},
		{"middle", 2, 3, "1", "3"},
		{"last", 3, 3, "2", ""},
		{"single", 1, 1, "", ""},
		{"page out of range is clamped", 9, 3, "2", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, PackageList(en, PackageListView{Query: "falcon", Page: tt.page, PageCount: tt.pages, Total: 25, Packages: falconPackages}))
			var prev, next string
			for _, a := range d.executes(VerbPackagesPage) {
				data := a["data"].(map[string]any)
				if data[KeyQuery] != "falcon" {
					t.Errorf("paging lost the query: %v", data)
				}
				switch a["title"] {
				case "Previous":
					prev = data[KeyPage].(string)
				case "Next":
					next = data[KeyPage].(string)
				}
			}
			if prev != tt.wantPrev || next != tt.wantNx {
				t.Errorf("previous/next = %q/%q, want %q/%q", prev, next, tt.wantPrev, tt.wantNx)
			}
			reqs := d.executes(VerbRequestOpen)
			if len(reqs) != len(falconPackages) {
				t.Fatalf("request buttons = %d", len(reqs))
			}
			for i, r := range reqs {
				if !reflect.DeepEqual(r["data"], map[string]any{KeyPackageID: falconPackages[i].ID}) {
					t.Errorf("request %d data = %v", i, r["data"])
				}
			}
		})
	}
	var many []PackageView
	for i := range MaxPackagesPerPage + 7 {
		many = append(many, PackageView{ID: fmt.Sprint(i), Name: fmt.Sprint("Package ", i)})
	}
	d := decode(t, PackageList(en, PackageListView{Packages: many, Page: 1, PageCount: 1}))
	if n := len(d.executes(VerbRequestOpen)); n != MaxPackagesPerPage {
		t.Errorf("request buttons = %d, want %d", n, MaxPackagesPerPage)
	}
	if !strings.Contains(d.texts(), "and 7 more") {
		t.Errorf("no 'and 7 more' line:\n%s", d.texts())
	}
	empty := decode(t, PackageList(en, PackageListView{Query: "payroll"}))
	if !strings.Contains(empty.texts(), "Nothing you can request matches \"payroll\"") || len(empty.executes(VerbRequestOpen)) != 0 {
		t.Errorf("empty state:\n%s", empty.texts())
	}
}
