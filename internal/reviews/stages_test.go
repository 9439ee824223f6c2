package reviews

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/entitlement"
)

func TestCurrentStageAndNext(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	st := func(id string, n int, s entitlement.ReviewStatus) entitlement.ReviewStage {
		return entitlement.ReviewStage{ID: id, Number: n, Status: s, Start: t0.Add(time.Duration(n) * 24 * time.Hour)}
	}
	cases := []struct {
		name     string
		stages   []entitlement.ReviewStage
		wantID   string
		wantNext bool
		wantKey  string
	}{
		{"single stage review", nil, "", false, "review/i/u"},
		{"stage 1 of 2 running", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewInProgress), st("s2", 2, entitlement.ReviewNotStarted)}, "s1", true, "review/i/s1/u"},
		{"stage 2 of 2 running", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewCompleted), st("s2", 2, entitlement.ReviewInProgress)}, "s2", false, "review/i/s2/u"},
		{"all done: the last started", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewCompleted), st("s2", 2, entitlement.ReviewCompleted)}, "s2", false, "review/i/s2/u"},
		{"nothing moved on", []entitlement.ReviewStage{st("s1", 1, entitlement.ReviewCompleted), st("s2", 2, entitlement.ReviewNotStarted)}, "s1", false, "review/i/s1/u"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Active{Inst: entitlement.ReviewInstance{ID: "i"}, Stages: c.stages, Stage: currentStage(c.stages)}
			got := ""
			if a.Stage != nil {
				got = a.Stage.ID
			}
			if got != c.wantID {
				t.Errorf("current stage %q, want %q", got, c.wantID)
			}
			if _, _, ok := a.NextStage(); ok != c.wantNext {
				t.Errorf("NextStage ok = %v, want %v", ok, c.wantNext)
			}
			if k := sendKey("review", a, "u"); k != c.wantKey {
				t.Errorf("send key %q, want %q", k, c.wantKey)
			}
			if r := a.Ref(); r.StageID != c.wantID || r.InstanceID != "i" {
				t.Errorf("ref %+v", r)
			}
		})
	}
}

// stageReviews answers a stage's decisions from a list and counts the reads; the other Reviews methods are not
// used here.
type stageReviews struct {
	entitlement.Reviews
	items []entitlement.ReviewDecision
	reads int
}

func (f *stageReviews) StageDecisions(context.Context, entitlement.ReviewRef) ([]entitlement.ReviewDecision, error) {
	f.reads++
	return f.items, nil
}

// orgDir is a directory of managers and groups that counts the reads; a group member "group:<id>" is a nested
// group.
type orgDir struct {
	Directory
	managers map[string]string
	groups   map[string][]string
	reads    int
}

func (d *orgDir) User(_ context.Context, id string) (entitlement.User, error) {
	return entitlement.User{ID: id}, nil
}

func (d *orgDir) Manager(_ context.Context, id string) (entitlement.User, error) {
	d.reads++
	m, ok := d.managers[id]
	if !ok {
		return entitlement.User{}, entitlement.ErrNotFound
	}
	return entitlement.User{ID: m}, nil
}

func (d *orgDir) TransitiveGroupMembers(_ context.Context, id string) ([]entitlement.User, error) {
	d.reads++
	var out []entitlement.User
	var walk func(id string)
	walk = func(id string) {
		for _, m := range d.groups[id] {
			if nested, ok := strings.CutPrefix(m, "group:"); ok {
				walk(nested)
				continue
			}
			out = append(out, entitlement.User{ID: m})
		}
	}
	walk(id)
	return out, nil
}

// TestReviewersNowStage: a stage's reviewers are who Graph contacted at its start or later, plus those contacted
// for an earlier stage whom this stage's reviewer queries name (a user, the manager of someone under review in
// this stage — the fallback reviewers for someone without one — or a group member), and in a self-review stage
// the people under review. Without an earlier contact the directory is not read.
func TestReviewersNowStage(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	stage2 := entitlement.ReviewStage{ID: "s2", Number: 2, Status: entitlement.ReviewInProgress, Start: t0.Add(7 * 24 * time.Hour)}
	early := func(id string) entitlement.ContactedReviewer {
		return entitlement.ContactedReviewer{Subject: entitlement.Subject{ID: id}, Since: t0}
	}
	late := func(id string) entitlement.ContactedReviewer {
		// Graph's createdDateTime has sub-second digits the stage's start may lack.
		return entitlement.ContactedReviewer{Subject: entitlement.Subject{ID: id}, Since: stage2.Start.Add(300 * time.Millisecond)}
	}
	item := func(pid string) entitlement.ReviewDecision {
		return entitlement.ReviewDecision{ID: "d-" + pid, Principal: entitlement.Subject{ID: pid}}
	}
	dir := &orgDir{managers: map[string]string{"rita": "aaron", "megan": "aaron"}, groups: map[string][]string{"g1": {"adele", "nina", "group:g2"}, "g2": {"lynne"}}}
	cases := []struct {
		name      string
		stage2    entitlement.ReviewStageSetting
		contacted []entitlement.ContactedReviewer
		items     []entitlement.ReviewDecision
		want      []string
		wantReads bool // the directory or the stage's items were read
	}{
		{"named users, also when contacted for stage 1", entitlement.ReviewStageSetting{ReviewerQueries: []string{"/users/adele", "/users/patti"}},
			[]entitlement.ContactedReviewer{early("aaron"), early("adele")}, nil, []string{"adele", "patti"}, false},
		{"only new contacts: no directory read", entitlement.ReviewStageSetting{ReviewerQueries: []string{entitlement.ReviewerManager}},
			[]entitlement.ContactedReviewer{late("aaron")}, []entitlement.ReviewDecision{item("rita")}, []string{"aaron"}, false},
		{"stage 1's reviewer is a stage 2 manager", entitlement.ReviewStageSetting{ReviewerQueries: []string{entitlement.ReviewerManager}},
			[]entitlement.ContactedReviewer{early("aaron"), early("adele"), late("patti")}, []entitlement.ReviewDecision{item("rita")}, []string{"patti", "aaron"}, true},
		{"no manager: the fallback reviewer", entitlement.ReviewStageSetting{ReviewerQueries: []string{entitlement.ReviewerManager}, FallbackQueries: []string{"/users/patti"}},
			[]entitlement.ContactedReviewer{early("patti"), early("adele")}, []entitlement.ReviewDecision{item("gus")}, []string{"patti"}, true},
		{"stage 1's reviewer is in the stage 2 group", entitlement.ReviewStageSetting{ReviewerQueries: []string{entitlement.ReviewerGroupQuery("g1")}},
			[]entitlement.ContactedReviewer{early("aaron"), early("adele")}, nil, []string{"adele"}, true},
		{"stage 1's reviewer is in a group nested in the stage 2 group", entitlement.ReviewStageSetting{ReviewerQueries: []string{entitlement.ReviewerGroupQuery("g1")}},
			[]entitlement.ContactedReviewer{early("aaron"), early("lynne")}, nil, []string{"lynne"}, true},
		{"self-review stage", entitlement.ReviewStageSetting{},
			[]entitlement.ContactedReviewer{early("aaron")}, []entitlement.ReviewDecision{item("rita"), item("megan")}, []string{"rita", "megan"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir.reads = 0
			rv := &stageReviews{items: c.items}
			s := &Service{cfg: Config{Reviews: rv, Directory: dir}, log: slog.New(slog.DiscardHandler)}
			def := entitlement.ReviewDefinition{Stages: []entitlement.ReviewStageSetting{{StageID: "1", ReviewerQueries: []string{"/users/adele"}}, c.stage2}}
			a := Active{Def: def, Inst: entitlement.ReviewInstance{ID: "i"}, Stages: []entitlement.ReviewStage{{ID: "s1", Number: 1, Start: t0}, stage2}, Stage: &stage2}
			got, err := s.reviewersNow(context.Background(), a, c.contacted)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if strings.Join(ids, ",") != strings.Join(c.want, ",") {
				t.Fatalf("reviewers %v, want %v", ids, c.want)
			}
			if read := dir.reads+rv.reads > 0; read != c.wantReads {
				t.Errorf("read the directory or the stage (%d, %d): %v, want %v", dir.reads, rv.reads, read, c.wantReads)
			}
		})
	}
}

// contactCounter counts the reads of an instance's contacted reviewers (it has none).
type contactCounter struct {
	*stageReviews
	contacted int
}

func (c *contactCounter) ContactedReviewers(context.Context, string, string) ([]entitlement.ContactedReviewer, error) {
	c.contacted++
	return nil, nil
}

// TestReviewersNowReadsContactedOnlyWhenUsed: a self-review stage's reviewers are the people under review, so
// working them out does not read the instance's contacted reviewers; a stage with reviewers reads them once.
func TestReviewersNowReadsContactedOnlyWhenUsed(t *testing.T) {
	stage := entitlement.ReviewStage{ID: "s2", Number: 2, Status: entitlement.ReviewInProgress}
	items := []entitlement.ReviewDecision{{ID: "d-rita", Principal: entitlement.Subject{ID: "rita"}}}
	for _, c := range []struct {
		name          string
		stage2        entitlement.ReviewStageSetting
		want          string
		wantContacted int
	}{
		{"self-review stage", entitlement.ReviewStageSetting{}, "rita", 0},
		{"named user", entitlement.ReviewStageSetting{ReviewerQueries: []string{"/users/patti"}}, "patti", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rv := &contactCounter{stageReviews: &stageReviews{items: items}}
			s := &Service{cfg: Config{Reviews: rv, Directory: &orgDir{}}, log: slog.New(slog.DiscardHandler)}
			def := entitlement.ReviewDefinition{Stages: []entitlement.ReviewStageSetting{{StageID: "1", ReviewerQueries: []string{"/users/adele"}}, c.stage2}}
			a := Active{Def: def, Inst: entitlement.ReviewInstance{ID: "i"}, Stages: []entitlement.ReviewStage{{ID: "s1", Number: 1}, stage}, Stage: &stage}
			_, revs, err := s.readReviewersNow(context.Background(), a)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != 1 || revs[0].ID != c.want {
				t.Errorf("reviewers %+v, want %s", revs, c.want)
			}
			if rv.contacted != c.wantContacted {
				t.Errorf("contacted reviewers read %d times, want %d", rv.contacted, c.wantContacted)
			}
		})
	}
}

// TestSelfReviewPerStage: in a multi-stage review the stage in progress says whether people answer for
// themselves, and self-review notices are sent once per stage.
func TestSelfReviewPerStage(t *testing.T) {
	def := entitlement.ReviewDefinition{Stages: []entitlement.ReviewStageSetting{{StageID: "1", ReviewerQueries: []string{entitlement.ReviewerManager}}, {StageID: "2"}}}
	stages := []entitlement.ReviewStage{{ID: "s1", Number: 1}, {ID: "s2", Number: 2}}
	cases := []struct {
		name     string
		a        Active
		wantSelf bool
		wantKey  string
	}{
		{"self-review definition", Active{Def: entitlement.ReviewDefinition{SelfReview: true}, Inst: entitlement.ReviewInstance{ID: "i"}}, true, "self/i/p"},
		{"manager review", Active{Def: entitlement.ReviewDefinition{ReviewerQueries: []string{entitlement.ReviewerManager}}, Inst: entitlement.ReviewInstance{ID: "i"}}, false, "self/i/p"},
		{"manager stage", Active{Def: def, Inst: entitlement.ReviewInstance{ID: "i"}, Stages: stages, Stage: &stages[0]}, false, "self/i/s1/p"},
		{"self-review stage", Active{Def: def, Inst: entitlement.ReviewInstance{ID: "i"}, Stages: stages, Stage: &stages[1]}, true, "self/i/s2/p"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.a.SelfReview(); got != c.wantSelf {
				t.Errorf("SelfReview() = %v, want %v", got, c.wantSelf)
			}
			if got := selfKey("self", c.a.Ref(), "p"); got != c.wantKey {
				t.Errorf("selfKey = %q, want %q", got, c.wantKey)
			}
			if got, want := AnsweredKey(c.a.Ref(), "p"), "self-answered"+strings.TrimPrefix(c.wantKey, "self"); got != want {
				t.Errorf("AnsweredKey = %q, want %q", got, want)
			}
		})
	}
}

// noTokens holds no reviewer's token and counts the look-ups.
type noTokens struct{ asked int }

func (n *noTokens) ForUser(string, string) entitlement.TokenSource {
	n.asked++
	return entitlement.TokenFunc(func(context.Context) (string, error) { return "", entitlement.ErrNotFound })
}

// TestRefreshStagesSkipsSelfReviewStage: refreshing a multi-stage instance's cards looks at each started stage
// with reviewers, and not at a self-review stage (its people have no reviewer card).
func TestRefreshStagesSkipsSelfReviewStage(t *testing.T) {
	def := entitlement.ReviewDefinition{Stages: []entitlement.ReviewStageSetting{{StageID: "1", ReviewerQueries: []string{entitlement.ReviewerManager}}, {StageID: "2"}}}
	stages := []entitlement.ReviewStage{{ID: "s1", Number: 1, Status: entitlement.ReviewCompleted}, {ID: "s2", Number: 2, Status: entitlement.ReviewInProgress}}
	tok := &noTokens{}
	s := &Service{cfg: Config{Tokens: tok}, log: slog.New(slog.DiscardHandler)}
	a := Active{Def: def, Inst: entitlement.ReviewInstance{ID: "i"}, Stages: stages, Stage: &stages[1]}
	contacted := []entitlement.ContactedReviewer{{Subject: entitlement.Subject{ID: "aaron"}}, {Subject: entitlement.Subject{ID: "adele"}}}
	if err := s.refreshStages(context.Background(), &sentCards{}, a, contacted, "fp"); err != nil {
		t.Fatal(err)
	}
	if tok.asked != len(contacted) {
		t.Errorf("looked up %d reviewer tokens, want %d (stage 1's reviewers only)", tok.asked, len(contacted))
	}
}
