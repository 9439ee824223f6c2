// Package bot is AccessBot's conversation: it routes authenticated Teams activities to flows (request, approve,
// guest, admin, notify) and answers with Adaptive Cards. It never speaks HTTP or Graph JSON itself: replies go
// through a Connector, state through a Store, entitlement management through the entitlement port, and the
// request lifecycle (records, decisions, approvers, tracker) through internal/lifecycle.
//
// Where things live (DESIGN.md §5 names the flows):
//
// Core
//   - bot.go: Config, the ports (Connector, Store, UserTokens), New and OnActivity (deduplicated delivery).
//   - router.go: the turn, dispatch by activity type, remembering a user's chat.
//   - command.go: ParseCommand and Suggest (typed text to a Command).
//   - commands.go: the command and verb registry, help, welcome, unknown-command suggestions.
//   - replies.go: sending activities and cards into the turn's conversation.
//   - helpers.go: helpers the flows share (acting as the user, answering a verb, card data, ids, audit).
//   - views.go: tracked records mapped to the cards' view structs (status, approval, decided); error cards.
//   - views_policy.go: packages and policies mapped to view structs (resources, expiry, approval, questions).
//   - signin.go: Teams SSO for typed commands (OAuthCard, token exchange, re-running the command).
//
// Request (the requester)
//   - request.go: the requester's commands and verbs, package list and search, "request <name>", free text.
//   - requestform.go: the request form: build, validate field by field, submit.
//   - myrequests.go: the requester's own requests and access: status, refresh, cancel, access, extend.
//
// Approve
//   - approve.go: approval cards, decisions with the approver's token.
//   - inbox.go: the approver's inbox (approvals command).
//
// Tracking and notify
//   - tracker.go: the bridge to the lifecycle core (internal/lifecycle), which owns the request records, their
//     state machine, approver resolution, escalation, reminders, decisions and the polling loop.
//   - notify.go: outbox kinds and delivery: notifications, approval cards, card updates, chat creation and
//     app install, service URLs.
//
// Partners and guests
//   - partner.go: the partner user's commands and verbs (cancel, extend, approvals, access, requests).
//   - partner_mode.go: the request mode per user (delegated, brokered, link-out, refused) and partner routing.
//   - brokered.go: brokered requests for connected-organization users: submit, who may decide, answers and
//     cards (their record and state machine are the lifecycle core's).
//   - guest.go: guest guidance after a brokered delivery (invitation, tenant switch, ending access).
//
// Admin
//   - admin.go: who is an admin (group, directory roles; cached), admin command registration, dispatch, audit.
//   - admin_read.go: read-only directory commands (/orgs, /catalogs, /packages, /package) and /connect.
//   - admin_activity.go: read-only activity commands (/pending, /expiring, /audit).
//   - admin_confirm.go: the confirmation card behind destructive admin commands (pending operations, confirm,
//     cancel, run, notice to the user).
//   - admin_orgchange.go: /disconnect and /sponsors.
//   - admin_assign.go: /assign and /revoke.
//   - admin_resolve.go: resolving organizations, catalogs, packages and users by id or name.
//   - admin_error.go: adminError, a refusal people can fix, said in the reader's language (argument errors,
//     catalog refusals with values; also the everyday flows' own refusals, userErr).
package bot
