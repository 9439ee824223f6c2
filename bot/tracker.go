package bot

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/accessbot/accessbot/internal/lifecycle"
)

// The bridge to the request lifecycle core (internal/lifecycle): the record types under the names the flows
// use, building the core from the bot's Config, and the tracker entry points cmd and tests call. The records,
// their state machine, approver resolution, decisions and the polling loop live in the core.

// The lifecycle records under the names the conversation layer uses.
type (
	trackedRequest = lifecycle.Tracked
	personRef      = lifecycle.Person
	decisionRecord = lifecycle.Decision
	timelineEvent  = lifecycle.Event
	trackOptions   = lifecycle.TrackOptions

	brokeredRequest   = lifecycle.Brokered
	brokeredRequester = lifecycle.BrokeredRequester
	brokeredStage     = lifecycle.BrokeredStage
	guestRecord       = lifecycle.GuestRecord
)

// flowState is the in-process state of the flows: the outbox handlers and the worker's kicker (wiring, not
// state of any request: record writes and check-then-act sections go through the store). Its zero value is
// ready to use.
type flowState struct {
	mu         sync.Mutex
	outboxKick func()
	outbox     map[string]func(ctx context.Context, payload json.RawMessage) error
}

// newCore builds the lifecycle core from the bot's configuration: its outbox jobs go through enqueue and a
// changed record re-renders every stored card of it.
func (b *Bot) newCore() (*lifecycle.Core, error) {
	return lifecycle.New(lifecycle.Config{
		Store:         b.cfg.Store,
		Entitlement:   b.cfg.Entitlement,
		Logger:        b.log,
		Now:           b.now,
		TenantID:      b.cfg.Tenant.ID,
		TenantName:    b.cfg.Tenant.Name,
		BotName:       b.cfg.BotName,
		KickOutbox:    b.kickOutbox,
		Audit:         b.appendAudit,
		PollInterval:  b.cfg.PollInterval,
		PollMax:       b.cfg.PollMax,
		ReminderAfter: b.cfg.ReminderAfter,
		Enqueue:       b.enqueue,
		Changed:       func(ctx context.Context, id string) { b.updateCards(ctx, id, "") },
	})
}

// Kick wakes the request tracker so it polls the requests that are due now. It never blocks.
func (b *Bot) Kick() { b.core.Kick() }

// RunTracker polls the open requests the bot tracks until ctx ends (lifecycle.Core.RunTracker).
func (b *Bot) RunTracker(ctx context.Context) error { return b.core.RunTracker(ctx) }

// PollDue polls every open tracked request whose next poll is due and returns when the next one is due
// (zero when none is open). Tests call it directly.
func (b *Bot) PollDue(ctx context.Context) time.Time { return b.core.PollDue(ctx) }

// Lifecycle is the request lifecycle core the bot drives (for features built on it).
func (b *Bot) Lifecycle() *lifecycle.Core { return b.core }
