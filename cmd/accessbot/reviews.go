package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/accessbot/accessbot/internal/reviews"
)

// registerReviewFlags binds the access review and expiry notice settings.
func registerReviewFlags(fs *flag.FlagSet, c *config, getenv func(string) string) {
	c.ReviewRemindBefore = envDuration(getenv, "ACCESSBOT_REVIEW_REMINDER_BEFORE", 48*time.Hour)
	fs.DurationVar(&c.ReviewRemindBefore, "review-reminder-before", c.ReviewRemindBefore, "how long before an access review ends its reviewers with open decisions are reminded in Teams (env ACCESSBOT_REVIEW_REMINDER_BEFORE, e.g. 48h)")
	c.ReviewSweep = envDuration(getenv, "ACCESSBOT_REVIEW_SWEEP", 5*time.Minute)
	fs.DurationVar(&c.ReviewSweep, "review-sweep", c.ReviewSweep, "how often access reviews and expiring access are checked (env ACCESSBOT_REVIEW_SWEEP)")
	fs.StringVar(&c.ExpiryLeads, "expiry-leads", envDefault(getenv, "ACCESSBOT_EXPIRY_LEADS", ""), "how long before its end an assignment is announced, by its length: LENGTH:LEAD pairs such as 90d:7d,30d:3d,7d:1d,0:2h (env ACCESSBOT_EXPIRY_LEADS; empty: that default)")
}

func (c *config) validateReviews() []error {
	var errs []error
	if c.ReviewRemindBefore != 0 && c.ReviewRemindBefore < time.Minute {
		errs = append(errs, errors.New("ACCESSBOT_REVIEW_REMINDER_BEFORE: expected a Go duration of at least 1m, such as 48h"))
	}
	if c.ReviewSweep != 0 && c.ReviewSweep < time.Second {
		errs = append(errs, errors.New("ACCESSBOT_REVIEW_SWEEP: expected a Go duration of at least 1s, such as 5m"))
	}
	if _, err := reviews.ParseExpiryLeads(c.ExpiryLeads); err != nil {
		errs = append(errs, fmt.Errorf("ACCESSBOT_EXPIRY_LEADS: %w", err))
	}
	return errs
}
