package cards

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestRequestFormFields(t *testing.T) {
	v := RequestFormView{PackageID: pkgProd, PackageName: "Falcon Production Access", FormID: "form-1",
		Policies: []PolicyOption{{ID: "p1", Name: "Employees"}, {ID: "p2", Name: "Contractors"}}, PolicyID: "p2",
		Questions: prodQuestions(), JustificationRequired: true, CustomSchedule: true,
		Values: map[string]string{QuestionInputID("ticket"): "CHG-1"},
		Errors: map[string]string{QuestionInputID("ticket"): "expected INC and digits", InputEndDate: "end before start"},
		Mode:   ModeBrokered, OrgName: "Contoso"}
	d := decode(t, RequestForm(en, v))

	sub := d.executes(VerbRequestSubmit)
	if len(sub) != 1 {
		t.Fatalf("submit buttons = %d", len(sub))
	}
	want := map[string]any{KeyPackageID: pkgProd, KeyPolicyID: "p2", KeyFormID: "form-1"}
	if !reflect.DeepEqual(sub[0]["data"], want) {
		t.Errorf("submit data = %v, want %v", sub[0]["data"], want)
	}
	// The other policy is offered as a switch that reopens the form.
	sw := d.executes(VerbRequestOpen)
	if len(sw) != 1 || !reflect.DeepEqual(sw[0]["data"], map[string]any{KeyPackageID: pkgProd, KeyPolicyID: "p1"}) {
		t.Errorf("policy switch = %v", sw)
	}
	ticket := d.input("Input.Text", QuestionInputID("ticket"))
	if ticket == nil || ticket["regex"] != `^INC\d{4,}$` || ticket["isRequired"] != true || ticket["value"] != "CHG-1" ||
		!strings.Contains(fmt.Sprint(ticket["errorMessage"]), "INC followed by at least 4 digits") || ticket["label"] == nil {
		t.Errorf("ticket input = %v", ticket)
	}
	env := d.input("Input.ChoiceSet", QuestionInputID("env"))
	if env == nil || env["isRequired"] != true || len(env["choices"].([]any)) != 2 || env["label"] != "Environment" {
		t.Errorf("environment input = %v", env)
	}
	just := d.input("Input.Text", InputJustification)
	if just == nil || just["isRequired"] != true {
		t.Errorf("justification = %v, want required", just)
	}
	if d.input("Input.Date", InputStartDate) == nil || d.input("Input.Date", InputEndDate) == nil {
		t.Error("custom schedule: start/end dates missing")
	}
	if !strings.Contains(d.texts(), "brokered") {
		t.Error("the mode footnote is missing")
	}

	// Each error sits right under its own field.
	body := d["body"].([]any)
	for i, e := range body {
		m := e.(map[string]any)
		if m["id"] == QuestionInputID("ticket") {
			next := body[i+1].(map[string]any)
			if next["type"] != "TextBlock" || next["text"] != "expected INC and digits" || next["color"] != ColorAttention {
				t.Errorf("element after the ticket input = %v, want its error", next)
			}
		}
	}
	cols := d.objects("Column")
	endCol := fmt.Sprint(cols[len(cols)-1]["items"])
	if !strings.Contains(endCol, "end before start") {
		t.Errorf("end-date error is not under the end date: %s", endCol)
	}

	// Without a custom schedule and with an optional justification.
	d2 := decode(t, RequestForm(en, RequestFormView{PackageID: pkgTeam, PackageName: "Falcon Team Member"}))
	if d2.input("Input.Date", InputStartDate) != nil {
		t.Error("dates shown although the policy has no custom schedule")
	}
	if j := d2.input("Input.Text", InputJustification); j == nil || j["isRequired"] == true || !strings.Contains(j["label"].(string), "optional") {
		t.Errorf("optional justification = %v", j)
	}
	if len(d2.executes(VerbRequestOpen)) != 0 {
		t.Error("a policy switch on a single-policy form")
	}
}
