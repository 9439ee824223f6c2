package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// An approval as the signed-in approver sees it, and their decision on a stage.

// Approval returns the approval (id = request id) with its stages as the user sees them.
func (u *userClient) Approval(ctx context.Context, approvalID string) (entitlement.Approval, error) {
	if err := needID("approval id", approvalID); err != nil {
		return entitlement.Approval{}, err
	}
	out := entitlement.Approval{ID: approvalID}
	err := u.call(ctx, "get approval "+approvalID, func(ctx context.Context) error {
		b := u.c.em.AccessPackageAssignmentApprovals().ByApprovalId(approvalID).Stages()
		items, err := collectAll[models.ApprovalStageable](ctx, b, nil)
		for _, it := range items {
			if it != nil {
				out.Stages = append(out.Stages, toStage(it))
			}
		}
		return err
	})
	var se *entitlement.ServiceError
	if errors.As(err, &se) && se.Status == http.StatusForbidden {
		se.Kind = entitlement.ErrNotApprover
	}
	return out, err
}

// DecideStage records the user's decision on a stage (GET stages, PATCH; on 409 GET again to say who
// decided).
func (u *userClient) DecideStage(ctx context.Context, approvalID, stageID string, d entitlement.Decision) error {
	if err := needID("approval id", approvalID); err != nil {
		return err
	}
	if err := needID("stage id", stageID); err != nil {
		return err
	}
	if d.Result != entitlement.ReviewApprove && d.Result != entitlement.ReviewDeny {
		return entitlement.Invalid("decision", fmt.Sprintf("must be Approve or Deny, not %q", d.Result))
	}
	if len(d.Justification) > 4000 {
		return entitlement.Invalid("justification", "must be at most 4000 characters")
	}
	decided := func(ap entitlement.Approval) (entitlement.ApprovalStage, error) {
		for _, s := range ap.Stages {
			if s.ID != stageID {
				continue
			}
			if (s.ReviewResult != "" && s.ReviewResult != entitlement.ReviewNotReviewed) || s.Status == entitlement.StageCompleted || s.Status == entitlement.StageExpired {
				return s, &entitlement.AlreadyDecidedError{By: firstNonEmpty(s.ReviewedBy.Name, s.ReviewedBy.ID), At: s.ReviewedAt, Result: s.ReviewResult}
			}
			return s, nil
		}
		return entitlement.ApprovalStage{}, fmt.Errorf("stage %s of approval %s: %w", stageID, approvalID, entitlement.ErrNotFound)
	}
	ap, err := u.Approval(ctx, approvalID)
	if err != nil {
		return err
	}
	st, err := decided(ap)
	if err != nil {
		return err
	}
	if !st.AssignedToMe {
		return fmt.Errorf("decide stage %s of approval %s: %w", stageID, approvalID, entitlement.ErrNotApprover)
	}
	body := models.NewApprovalStage()
	res := string(d.Result)
	body.SetReviewResult(&res)
	j := strings.TrimSpace(d.Justification)
	body.SetJustification(&j)
	err = u.call(ctx, fmt.Sprintf("decide stage %s of approval %s", stageID, approvalID), func(ctx context.Context) error {
		_, err := u.c.em.AccessPackageAssignmentApprovals().ByApprovalId(approvalID).Stages().ByApprovalStageId(stageID).Patch(ctx, body, nil)
		return err
	})
	var se *entitlement.ServiceError
	if !errors.As(err, &se) {
		return err
	}
	switch se.Status {
	case http.StatusConflict:
		ap, gerr := u.Approval(ctx, approvalID)
		if gerr == nil {
			if _, derr := decided(ap); derr != nil {
				var ad *entitlement.AlreadyDecidedError
				if errors.As(derr, &ad) {
					return ad
				}
			}
		}
		return &entitlement.AlreadyDecidedError{}
	case http.StatusForbidden:
		se.Kind = entitlement.ErrNotApprover
	case http.StatusBadRequest:
		if j == "" {
			return fmt.Errorf("%w (%v)", entitlement.Invalid("justification", "is required by this policy"), se)
		}
	}
	return err
}
