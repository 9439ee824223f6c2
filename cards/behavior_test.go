package cards

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decoded is a card as the client sees it: generic JSON.
type decoded map[string]any

func decode(t *testing.T, c *Card) decoded {
	t.Helper()
	raw, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m decoded
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// objects returns every JSON object in the card with the given "type", in document order.
func (d decoded) objects(typ string) []map[string]any {
	var out []map[string]any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == typ {
				out = append(out, x)
			}
			for _, k := range []string{"refresh", "body", "items", "columns", "actions", "action", "card"} {
				if c, ok := x[k]; ok {
					walk(c)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(map[string]any(d))
	return out
}

// texts is all TextBlock texts and fact titles/values joined by newlines.
func (d decoded) texts() string {
	var sb strings.Builder
	for _, tb := range d.objects("TextBlock") {
		sb.WriteString(tb["text"].(string) + "\n")
	}
	for _, fs := range d.objects("FactSet") {
		for _, f := range fs["facts"].([]any) {
			fm := f.(map[string]any)
			sb.WriteString(fm["title"].(string) + ": " + fm["value"].(string) + "\n")
		}
	}
	return sb.String()
}

// executes returns the Action.Execute objects with the given verb.
func (d decoded) executes(verb string) []map[string]any {
	var out []map[string]any
	for _, a := range d.objects("Action.Execute") {
		if a["verb"] == verb {
			out = append(out, a)
		}
	}
	return out
}

func (d decoded) input(typ, id string) map[string]any {
	for _, in := range d.objects(typ) {
		if in["id"] == id {
			return in
		}
	}
	return nil
}

func TestApprovalRefreshAndDecisionActions(t *testing.T) {
	var many []string
	for i := range 75 {
		many = append(many, fmt.Sprintf("29:approver-%02d", i))
	}
	tests := []struct {
		name    string
		ids     []string
		wantIDs []string
	}{
		{"one approver", []string{"29:aaron"}, []string{"29:aaron"}},
		{"duplicates and blanks dropped", []string{"29:isaiah", "", "29:lynne", "29:isaiah", "  "}, []string{"29:isaiah", "29:lynne"}},
		{"capped at 60", many, many[:MaxRefreshUserIDs]},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, Approval(en, ApprovalView{RequestID: "r1", ApprovalID: "a1", StageID: "s1", PackageName: "Falcon Team Member",
				Requester: PersonView{Name: "Rita Requester"}, ApproverIDs: tt.ids, JustificationRequired: true}))
			ref, ok := d["refresh"].(map[string]any)
			if !ok {
				t.Fatal("approval card has no refresh")
			}
			var got []string
			if ids, ok := ref["userIds"].([]any); ok {
				for _, id := range ids {
					got = append(got, id.(string))
				}
			}
			if !reflect.DeepEqual(got, tt.wantIDs) {
				t.Errorf("userIds = %v, want %v", got, tt.wantIDs)
			}
			act := ref["action"].(map[string]any)
			if act["verb"] != VerbApprovalRefresh || act["type"] != "Action.Execute" {
				t.Errorf("refresh action = %v", act)
			}
			wantData := map[string]any{KeyRequestID: "r1", KeyApprovalID: "a1", KeyStageID: "s1"}
			for _, verb := range []string{VerbApprovalApprove, VerbApprovalDeny, VerbApprovalRefresh} {
				as := d.executes(verb)
				if len(as) == 0 {
					t.Fatalf("no %s button", verb)
				}
				if !reflect.DeepEqual(as[len(as)-1]["data"], wantData) {
					t.Errorf("%s data = %v, want %v", verb, as[len(as)-1]["data"], wantData)
				}
			}
			// The manual Refresh button stays for everyone beyond the 60 (and clients without automatic refresh).
			if n := len(d.executes(VerbApprovalRefresh)); n != 2 {
				t.Errorf("refresh actions = %d, want the automatic one and a manual button", n)
			}
			j := d.input("Input.Text", InputJustification)
			if j == nil || j["isRequired"] != true || j["errorMessage"] == nil || j["label"] == nil {
				t.Errorf("justification input = %v, want required with label and error message", j)
			}
		})
	}
}

func TestApprovalJustificationOptionalAndNotes(t *testing.T) {
	now := t0
	tests := []struct {
		name     string
		v        ApprovalView
		want     []string
		required bool
	}{
		{"delegated, optional, days left", ApprovalView{Mode: ModeDelegated, OrgName: "Contoso", Deadline: now.Add(50 * time.Hour), Now: now},
			[]string{"Decide within 2 days 2 hours", "delegated"}, false},
		{"brokered note", ApprovalView{Mode: ModeBrokered, OrgName: "Contoso", JustificationRequired: true},
			[]string{"AccessBot ran this approval on behalf of Contoso (brokered)"}, true},
		{"time is up", ApprovalView{Deadline: now.Add(-time.Minute), Now: now}, []string{"time to decide has run out"}, false},
		{"external requester", ApprovalView{Requester: PersonView{Name: "Gus Guest", OrgName: "Fabrikam", External: true}},
			[]string{"Gus Guest (Fabrikam, partner organization)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, Approval(en, tt.v))
			txt := d.texts()
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("card text lacks %q:\n%s", w, txt)
				}
			}
			j := d.input("Input.Text", InputJustification)
			if got := j["isRequired"] == true; got != tt.required {
				t.Errorf("justification required = %v, want %v", got, tt.required)
			}
		})
	}
}

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

func TestStatusStatesHaveDistinctLabels(t *testing.T) {
	states := []RequestState{StateSubmitted, StatePendingApproval, StateApproved, StateDenied, StateDelivering, StateDelivered,
		StatePartiallyDelivered, StateScheduled, StateCanceled, StateExpired, StateDeliveryFailed}
	seen := map[string]RequestState{}
	for _, s := range states {
		l := StateLabel(en, s)
		if strings.HasPrefix(l, "Unknown") {
			t.Errorf("state %s has no label", s)
		}
		if other, dup := seen[l]; dup {
			t.Errorf("states %s and %s share the label %q", s, other, l)
		}
		seen[l] = s
		d := decode(t, RequestStatus(en, RequestStatusView{RequestID: "r", PackageName: "P", State: s}))
		if !strings.Contains(d.texts(), l) {
			t.Errorf("status card for %s does not show %q", s, l)
		}
	}
	// A state Graph added later is kept and shown humanised.
	for raw, want := range map[RequestState]string{"weird": "Unknown (weird)", "awaitingCallback": "Unknown (awaiting callback)",
		"PendingCustomExtension": "Unknown (pending custom extension)", "on_hold": "Unknown (on hold)"} {
		if l := StateLabel(en, raw); l != want {
			t.Errorf("unknown state %q label = %q, want %q", raw, l, want)
		}
	}
}

func TestStatusDetails(t *testing.T) {
	tests := []struct {
		name       string
		v          RequestStatusView
		want       []string
		wantCancel bool
		wantURL    string
	}{
		{"pending stage 2 of 2", RequestStatusView{State: StatePendingApproval, StageIndex: 2, StageCount: 2,
			Asked: []string{"Isaiah Langer", "Lynne Robbins"}, Cancelable: true},
			[]string{"stage 2 of 2", "Waiting for Isaiah Langer or Lynne Robbins."}, true, ""},
		{"denied with reason", RequestStatusView{State: StateDenied, DecidedBy: "Isaiah Langer", DecidedAt: t0, DecisionJustification: "Not yet"},
			[]string{"Denied by Isaiah Langer on {{DATE(2026-11-26T09:15:00Z, SHORT)}}", "\"Not yet\""}, false, ""},
		{"guest waiting for invitation", RequestStatusView{State: StateDelivering, WaitingForInvitation: true, InviteRedeemURL: "https://invitations.example/r"},
			[]string{"Delivering — waiting for you to accept the invitation"}, false, "https://invitations.example/r"},
		{"delivered until", RequestStatusView{State: StateDelivered, Granted: []string{"Falcon Team — Member"}, Until: t0},
			[]string{"• Falcon Team — Member", "Until: {{DATE(2026-11-26T09:15:00Z, SHORT)}} {{TIME(2026-11-26T09:15:00Z)}}"}, false, ""},
		{"brokered note", RequestStatusView{State: StateSubmitted, Mode: ModeBrokered, OrgName: "Contoso"},
			[]string{"Approval run by AccessBot on behalf of Contoso (brokered)"}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.v.RequestID = "r9"
			d := decode(t, RequestStatus(en, tt.v))
			txt := d.texts()
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("text lacks %q:\n%s", w, txt)
				}
			}
			if got := len(d.executes(VerbRequestCancel)) == 1; got != tt.wantCancel {
				t.Errorf("cancel button = %v, want %v", got, tt.wantCancel)
			}
			ref := d.executes(VerbRequestRefresh)
			if len(ref) != 1 || !reflect.DeepEqual(ref[0]["data"], map[string]any{KeyRequestID: "r9"}) {
				t.Errorf("refresh = %v", ref)
			}
			var urls []string
			for _, u := range d.objects("Action.OpenUrl") {
				urls = append(urls, u["url"].(string))
			}
			if tt.wantURL != "" && (len(urls) != 1 || urls[0] != tt.wantURL) {
				t.Errorf("open-url actions = %v, want %s", urls, tt.wantURL)
			}
		})
	}
	// The timeline keeps the latest events.
	var ev []EventView
	for i := range 20 {
		ev = append(ev, EventView{At: t0.Add(time.Duration(i) * time.Minute), Text: fmt.Sprint("event ", i)})
	}
	txt := decode(t, RequestStatus(en, RequestStatusView{State: StateSubmitted, Timeline: ev})).texts()
	if !strings.Contains(txt, "event 19") || strings.Contains(txt, "event 7\n") || !strings.Contains(txt, "8 earlier events not shown") {
		t.Errorf("timeline:\n%s", txt)
	}
}

func TestApprovalDecidedHeadlines(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 42, 0, 0, time.UTC)
	tests := []struct {
		name string
		v    ApprovalDecidedView
		want string
	}{
		{"already approved", ApprovalDecidedView{Outcome: DecisionApprove, DecidedBy: "Aaron Approver", DecidedAt: at, AlreadyDecided: true},
			"Already approved by Aaron at {{TIME(2026-11-26T10:42:00Z)}}"},
		{"already denied", ApprovalDecidedView{Outcome: DecisionDeny, DecidedBy: "Lynne Robbins", AlreadyDecided: true}, "Already denied by Lynne"},
		{"by you", ApprovalDecidedView{Outcome: DecisionDeny, DecidedBy: "Aaron Approver", ByYou: true}, "You denied this request"},
		{"someone else", ApprovalDecidedView{Outcome: DecisionApprove, DecidedBy: "Patti Fernandez"}, "Approved by Patti Fernandez"},
		{"timed out", ApprovalDecidedView{Closed: ClosureExpired, Outcome: DecisionDeny}, "Expired: nobody decided in time"},
		{"not approver", ApprovalDecidedView{Outcome: DecisionNotReviewed, NotApprover: true}, "You are not an approver of this stage"},
		{"pending", ApprovalDecidedView{Outcome: DecisionNotReviewed}, "Not decided yet"},
		{"canceled by the requester", ApprovalDecidedView{Closed: ClosureCanceledByRequester, Outcome: DecisionNotReviewed}, "Canceled by the requester"},
		{"canceled elsewhere", ApprovalDecidedView{Closed: ClosureCanceled}, "This request was canceled"},
		{"late click on a canceled request", ApprovalDecidedView{Closed: ClosureCanceledByRequester, AlreadyDecided: true},
			"Nothing is left to decide. Your click changed nothing."},
		{"denied automatically with a reason", ApprovalDecidedView{Closed: ClosureAutoDenied, Outcome: DecisionDeny,
			Reason: "Nobody can approve the next stage."}, "Denied automatically"},
		// A closure wins over a stale outcome and a not-approver flag: the request is over for everyone.
		{"closure over outcome", ApprovalDecidedView{Closed: ClosureCanceled, Outcome: DecisionApprove, DecidedBy: "Aaron Approver", NotApprover: true},
			"This request was canceled"},
	}
	// Lines a card must not carry for a closed request: the "still waiting" headline and the decision facts.
	closedMustNot := []string{"Not decided yet", "Decided by", "You are not an approver", "a stage takes one decision"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decode(t, ApprovalDecided(en, tt.v))
			txt := d.texts()
			if !strings.Contains(txt, tt.want) {
				t.Errorf("text lacks %q:\n%s", tt.want, txt)
			}
			if tt.v.Closed != ClosureNone {
				for _, bad := range closedMustNot {
					if strings.Contains(txt, bad) {
						t.Errorf("closed request's card says %q:\n%s", bad, txt)
					}
				}
				if !strings.Contains(txt, "Nothing is left to decide.") {
					t.Errorf("closed request's card does not say nothing is left to decide:\n%s", txt)
				}
				if tt.v.Reason != "" && !strings.Contains(txt, tt.v.Reason) {
					t.Errorf("reason %q not shown:\n%s", tt.v.Reason, txt)
				}
			}
			if n := len(d.executes(VerbApprovalRefresh)); n != 1 {
				t.Errorf("read-only card has %d Refresh buttons, want 1", n)
			}
			if len(d.executes(VerbApprovalApprove))+len(d.executes(VerbApprovalDeny)) != 0 {
				t.Error("read-only card has decision buttons")
			}
			if len(d.objects("Input.Text")) != 0 {
				t.Error("read-only card has inputs")
			}
		})
	}
}

func TestGuestGuidanceVariants(t *testing.T) {
	base := GuestGuidanceView{OrgName: "Contoso", TenantID: contosoID, HomeOrgName: "Fabrikam", PackageName: "Falcon Partner Collaboration",
		InviteRedeemURL: "https://invitations.example/redeem?x=1&y=2", TeamName: "Falcon Team", TeamURL: "https://teams.example/team",
		AccessEnds: t0.Add(5 * 24 * time.Hour), Now: t0}
	tests := []struct {
		step     GuestStep
		want     []string
		wantURLs []string
	}{
		{GuestInvited, []string{"Contoso added you as a guest", "Read your name, email address and photo", "Accounts and orgs", "Contoso (Guest)"},
			[]string{"https://invitations.example/redeem?x=1&y=2", "https://teams.microsoft.com/?tenantId=" + contosoID, "https://teams.example/team"}},
		{GuestAccepted, []string{"You're in", "Find Falcon Team"}, []string{"https://teams.microsoft.com/?tenantId=" + contosoID, "https://teams.example/team"}},
		{GuestEnding, []string{"ends on", "(in 5 days)", "blocked", "deleted"}, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.step), func(t *testing.T) {
			v := base
			v.Step = tt.step
			d := decode(t, GuestGuidance(en, v))
			txt := d.texts()
			for _, w := range tt.want {
				if !strings.Contains(txt, w) {
					t.Errorf("text lacks %q:\n%s", w, txt)
				}
			}
			var urls []string
			for _, u := range d.objects("Action.OpenUrl") {
				urls = append(urls, u["url"].(string))
			}
			if !reflect.DeepEqual(urls, tt.wantURLs) {
				t.Errorf("urls = %v, want %v", urls, tt.wantURLs)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	tests := []struct{ got, want string }{
		{MyAccessURL("contoso.onmicrosoft.com", pkgTeam), "https://myaccess.microsoft.com/@contoso.onmicrosoft.com#/access-packages/" + pkgTeam},
		{MyAccessURL("contoso.example", ""), "https://myaccess.microsoft.com/@contoso.example#/access-packages"},
		{MyAccessURL("evil.example/x?y", "a b"), "https://myaccess.microsoft.com/@evil.example%2Fx%3Fy#/access-packages/a%20b"},
		{TeamsTenantURL(contosoID), "https://teams.microsoft.com/?tenantId=" + contosoID},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
	d := decode(t, LinkOut(en, LinkOutView{PackageID: pkgPartner, TenantDomain: "contoso.onmicrosoft.com", OrgName: "Contoso"}))
	if u := d.objects("Action.OpenUrl"); len(u) != 1 || u[0]["url"] != MyAccessURL("contoso.onmicrosoft.com", pkgPartner) {
		t.Errorf("link-out actions = %v", u)
	}
}

func TestUserTextIsDefused(t *testing.T) {
	evil := "Please approve [here](https://evil.example/approve) {{DATE(2026-01-01T00:00:00Z)}}"
	d := decode(t, Approval(en, ApprovalView{Justification: evil, Requester: PersonView{Name: "[Aaron](https://evil.example)"}}))
	txt := d.texts()
	if strings.Contains(txt, "[here](") || strings.Contains(txt, "[Aaron](") {
		t.Errorf("a markdown link survived:\n%s", txt)
	}
	if strings.Contains(txt, "{{DATE(2026-01-01") {
		t.Errorf("a template function survived:\n%s", txt)
	}
	if !strings.Contains(txt, `\[here\](https://evil.example/approve)`) {
		t.Errorf("the justification text is not shown escaped:\n%s", txt)
	}
}

func TestClipAndDurations(t *testing.T) {
	clips := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"  padded  ", 10, "padded"},
		{"Falcon Production Access", 10, "Falcon Pr…"},
		{"äöüäöüäöüäöü", 5, "äöüä…"},
	}
	for _, c := range clips {
		if got := clip(c.in, c.n); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	durs := []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "less than a minute"},
		{time.Minute, "1 minute"},
		{90 * time.Minute, "1 hour 30 minutes"},
		{7 * time.Hour, "7 hours"},
		{24 * time.Hour, "1 day"},
		{50 * time.Hour, "2 days 2 hours"},
	}
	for _, c := range durs {
		if got := en.Duration(c.d); got != c.want {
			t.Errorf("humanDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	names := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"Aaron"}, "Aaron"},
		{[]string{"Isaiah", "Lynne"}, "Isaiah and Lynne"},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, "a, b, c, d, e and 2 others"},
	}
	for _, c := range names {
		if got := joinNames(en, c.in); got != c.want {
			t.Errorf("joinNames(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestListsTruncateWithCount(t *testing.T) {
	var rows []AdminRow
	var items []InboxItemView
	var reqs []RequestSummaryView
	var assigns []AssignmentView
	for i := range 30 {
		rows = append(rows, AdminRow{Cells: []string{fmt.Sprint("row ", i), "x"}})
		items = append(items, InboxItemView{RequestID: fmt.Sprint(i), PackageName: "P"})
		reqs = append(reqs, RequestSummaryView{RequestID: fmt.Sprint(i), PackageName: "P", State: StateSubmitted})
		assigns = append(assigns, AssignmentView{AssignmentID: fmt.Sprint(i), PackageName: "P", CanExtend: true})
	}
	tests := []struct {
		name string
		card *Card
		want string
	}{
		{"admin table", AdminTable(en, AdminTableView{Title: "Audit", Columns: []string{"When", "What"}, Rows: rows, Total: 40, MoreCommand: "/audit rita"}),
			"and 28 more rows; narrow it down, e.g. /audit rita"},
		{"inbox", ApprovalInbox(en, ApprovalInboxView{Items: items}), "and 20 more requests"},
		{"my requests", MyRequests(en, MyRequestsView{Requests: reqs}), "and 20 older requests"},
		{"my access", MyAccess(en, MyAccessView{Assignments: assigns}), "and 20 more assignments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if txt := decode(t, tt.card).texts(); !strings.Contains(txt, tt.want) {
				t.Errorf("text lacks %q:\n%s", tt.want, txt)
			}
		})
	}
}

func TestCommandButtonsAndAdminConfirm(t *testing.T) {
	d := decode(t, Notice(en, NoticeView{Kind: NoticeError, Title: "Unknown command", Suggestions: []Suggestion{
		{Title: "packages"}, {Title: "Show status", Command: "status"}, {Title: "3"}, {Title: "4"}, {Title: "5"}, {Title: "6"}}}))
	subs := d.objects("Action.Submit")
	if len(subs) != maxSuggestions {
		t.Fatalf("suggestion buttons = %d, want %d", len(subs), maxSuggestions)
	}
	if !reflect.DeepEqual(subs[1]["data"], map[string]any{KeyVerb: VerbCommand, KeyText: "status"}) || subs[1]["title"] != "Show status" {
		t.Errorf("suggestion = %v", subs[1])
	}
	c := decode(t, AdminConfirm(en, AdminConfirmView{Title: "Revoke?", Token: "tok-1", ConfirmLabel: "Revoke"}))
	conf, canc := c.executes(VerbAdminConfirm), c.executes(VerbAdminCancel)
	if len(conf) != 1 || len(canc) != 1 || conf[0]["title"] != "Revoke" {
		t.Fatalf("confirm/cancel = %v / %v", conf, canc)
	}
	for _, a := range []map[string]any{conf[0], canc[0]} {
		if !reflect.DeepEqual(a["data"], map[string]any{KeyToken: "tok-1"}) {
			t.Errorf("data = %v", a["data"])
		}
	}
}

func TestMyAccessButtons(t *testing.T) {
	d := decode(t, MyAccess(en, MyAccessView{Now: t0, Assignments: []AssignmentView{
		{AssignmentID: "as1", PackageID: "p1", PackageName: "A", End: t0.Add(3 * 24 * time.Hour), CanExtend: true, CanRemove: true},
		{AssignmentID: "as2", PackageID: "p2", PackageName: "B", CanRemove: true},
		{AssignmentID: "as3", PackageID: "p3", PackageName: "C", End: t0.Add(-time.Hour)},
	}}))
	ext, rem := d.executes(VerbAccessExtend), d.executes(VerbAccessRemove)
	if len(ext) != 1 || !reflect.DeepEqual(ext[0]["data"], map[string]any{KeyAssignmentID: "as1", KeyPackageID: "p1"}) {
		t.Errorf("extend = %v", ext)
	}
	if len(rem) != 2 {
		t.Errorf("remove buttons = %d, want 2", len(rem))
	}
	txt := d.texts()
	for _, w := range []string{"(in 3 days)", "No end date", "Ended "} {
		if !strings.Contains(txt, w) {
			t.Errorf("text lacks %q:\n%s", w, txt)
		}
	}
}
