package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// MaxJustificationLen is the longest justification (in characters) a request or a decision may carry.
const MaxJustificationLen = 1000

// ValidateBrokeredInput checks a brokered request's input against its policy (the form validated it
// already; the bot runs this policy itself, so it checks again) and fills in question texts. Bad input is an
// *entitlement.InvalidInputError naming the field.
func ValidateBrokeredInput(pol entitlement.Policy, in *entitlement.NewRequest) error {
	if pol.RequestorJustificationRequired && strings.TrimSpace(in.Justification) == "" {
		return entitlement.Invalid("justification", "is required by this policy")
	}
	if len([]rune(in.Justification)) > MaxJustificationLen {
		return entitlement.Invalid("justification", fmt.Sprintf("is too long (at most %d characters)", MaxJustificationLen))
	}
	if (!in.Schedule.Start.IsZero() || in.Schedule.Expiration.Type != "") && !pol.CustomScheduleAllowed {
		return entitlement.Invalid("schedule", "cannot be chosen: this policy sets the dates itself")
	}
	for _, q := range pol.Questions {
		if err := validateBrokeredAnswer(q, in.Answers); err != nil {
			return err
		}
	}
	for _, a := range in.Answers {
		if !slices.ContainsFunc(pol.Questions, func(q entitlement.Question) bool { return q.ID == a.QuestionID }) {
			return entitlement.Invalid("answers["+a.QuestionID+"]", "answers a question this policy does not ask")
		}
	}
	return nil
}

// validateBrokeredAnswer checks the answer to question q among answers (required, pattern, choices) and
// fills in its question text.
func validateBrokeredAnswer(q entitlement.Question, answers []entitlement.Answer) error {
	i := slices.IndexFunc(answers, func(a entitlement.Answer) bool { return a.QuestionID == q.ID })
	val := ""
	if i >= 0 {
		val = strings.TrimSpace(answers[i].Value)
		if answers[i].QuestionText == "" {
			answers[i].QuestionText = q.Text
		}
	}
	field := "answers[" + q.Text + "]"
	if val == "" {
		if q.Required {
			return entitlement.Invalid(field, "is required")
		}
		return nil
	}
	if q.Regex != "" {
		re, err := regexp.Compile(q.Regex)
		if err == nil && !re.MatchString(val) {
			return entitlement.Invalid(field, "must match "+q.Regex)
		}
	}
	if len(q.Choices) > 0 {
		for _, v := range strings.Split(val, ",") {
			if !slices.ContainsFunc(q.Choices, func(c entitlement.Choice) bool { return c.Value == strings.TrimSpace(v) }) {
				return entitlement.Invalid(field, fmt.Sprintf("%q is not one of the choices", v))
			}
		}
	}
	return nil
}

// CheckBrokeredDuplicate refuses a second request for the same email and package: an open brokered request
// (entitlement.ErrAlreadyRequested), or an assignment the address already holds (ErrAlreadyAssigned). The
// caller holds the lock that serializes new requests for the pair.
func (c *Core) CheckBrokeredDuplicate(ctx context.Context, email, packageID string) error {
	all, err := c.OpenBrokered(ctx)
	if err != nil {
		return fmt.Errorf("look for open brokered requests: %w", err)
	}
	if slices.ContainsFunc(all, func(br *Brokered) bool {
		return br.PackageID == packageID && strings.EqualFold(br.Requester.Email, email) && br.Open()
	}) {
		return fmt.Errorf("brokered request for %s: %w", packageID, entitlement.ErrAlreadyRequested)
	}
	as, err := c.cfg.Entitlement.Assignments(ctx, entitlement.AssignmentFilter{PackageID: packageID,
		States: entitlement.GrantingAssignmentStates()})
	if err != nil {
		return fmt.Errorf("look for assignments of package %s: %w", packageID, err)
	}
	for _, a := range as {
		if strings.EqualFold(a.Target.Email, email) || strings.EqualFold(a.Target.PrincipalName, email) {
			return fmt.Errorf("assignment %s of package %s: %w", a.ID, packageID, entitlement.ErrAlreadyAssigned)
		}
	}
	return nil
}

// StartBrokered sets up a new brokered request's stages under its policy: none when the policy needs no
// approval, else stage 1 with its approvers, and the history's first events (at br.CreatedAt). Nothing is
// stored.
func (c *Core) StartBrokered(ctx context.Context, br *Brokered, pol entitlement.Policy) error {
	now := br.CreatedAt
	br.StageCount = len(pol.Stages)
	if !pol.ApprovalRequired || len(pol.Stages) == 0 {
		br.StageCount = 0
	}
	br.AddEvent(now, Say("event.submittedBrokered"))
	if br.StageCount == 0 {
		return nil
	}
	first, err := c.FirstBrokeredStage(ctx, br, pol)
	if err != nil {
		return err
	}
	br.Stages = []BrokeredStage{first}
	br.AddEvent(now, Say("event.waiting").Naming(first.Approvers))
	return nil
}

// FirstBrokeredStage is stage 1 of a new brokered request with its approvers. When the rules name only the
// requester, the stage's escalation approvers are asked at once (nobody else could act before). Graph failing
// to say who approves is ErrUnavailable (nothing is filed); nobody at all is a clear invalid-input error for
// the requester.
func (c *Core) FirstBrokeredStage(ctx context.Context, br *Brokered, pol entitlement.Policy) (BrokeredStage, error) {
	st := BrokeredStage{Index: 1, StartedAt: c.now()}
	approvers, err := c.BrokeredApprovers(ctx, br, pol.Stages[0], false)
	if errors.Is(err, ErrOnlyRequester) {
		var eerr error
		if approvers, eerr = c.BrokeredApprovers(ctx, br, pol.Stages[0], true); len(approvers) > 0 {
			st.Escalated = true
			for i := range approvers {
				approvers[i].Escalation = true
			}
		} else if errors.Is(eerr, entitlement.ErrUnavailable) {
			err = eerr
		}
	}
	st.Approvers = approvers
	switch {
	case len(approvers) > 0:
		return st, nil
	case errors.Is(err, entitlement.ErrUnavailable):
		return st, fmt.Errorf("find the approvers of policy %s: %w", pol.ID, err)
	case errors.Is(err, ErrOnlyRequester):
		return st, entitlement.Invalid("approvers", "of this policy are only you, and nobody can approve their own request; ask your contact to add another approver")
	}
	c.log.ErrorContext(ctx, "brokered request has no approver", "package", br.PackageID, "policy", pol.ID)
	return st, entitlement.Invalid("approvers", "could not be found for this policy (no sponsor or approver is set); ask your contact to check the connected organization's sponsors")
}
