// Package lifecycle is AccessBot's request lifecycle core: the records of the requests the bot follows and
// their state machine, approver resolution, decisions, and the background tracker that polls open requests
// (with escalation and reminders of approval stages).
//
// It speaks the entitlement port (internal/entitlement) and a small storage interface (Store, implemented by
// internal/store). It knows nothing of Teams, cards or HTTP: what it wants said or shown leaves it as outbox
// jobs (OutboxNotify, OutboxApprovalCard, rendered and delivered by bot/) and as the Changed hook (a record
// changed in a way its views show). bot/ is the conversation layer on top of it: parse, call the core, render.
//
// Every write of a record is a read-modify-write through the store's compare-and-swap, so two replicas on one
// database never lose each other's changes; nothing here relies on an in-process mutex for correctness.
//
// Where things live:
//   - record.go: the record (Tracked), its people, decisions and timeline; Merge and AppendEvent.
//   - message.go: Message, what the core wants a person to read later (history lines, reasons, notes), stored
//     as a catalog id with data and rendered in the reader's language by the conversation layer.
//   - core.go: Config, the Store interface, New, outbox job kinds and payloads.
//   - records.go: reading, listing and compare-and-swap updates of records.
//   - observe.go: Track/Observe (a fresh read of a request applied to its record) and the requester's news.
//   - approvers.go: who approves a stage, entering a stage, escalation and reminders.
//   - decisions.go: recording decisions, stage ids, the requester's own cancel (Cancel).
//   - tracker.go: the polling loop (RunTracker, PollDue) and PollSoon/Kick.
//   - brokered.go: the brokered request record (Brokered) and its storage; Get reads it as its Mirror.
//   - brokered_flow.go: the brokered state machine: approvers, stage clock, decisions, adminAdd filing, the
//     requester's news, the follow-up job's schedule, audit.
//   - brokered_submit.go: a new brokered request: its input checked against the policy, duplicates refused,
//     its first stage built (StartBrokered).
//   - brokered_decider.go: who may decide a brokered request's current stage (MayDecideBrokered).
//   - approvals.go: Follow, LearnDecisions, CatchUp (what an approver's read of an approval shows).
//   - guest.go: the guest a delivered brokered request led to (account, assignment window, last assignment).
//   - lock.go: Lock, a named lock across replicas (a store lease) for check-then-act sections.
//   - legacy.go: ImportLegacy, records of older builds moved into the requests table.
//   - duration.go: ISO-8601 durations (Graph's).
package lifecycle
