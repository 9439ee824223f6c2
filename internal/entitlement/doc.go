// Package entitlement is AccessBot's domain model of Microsoft Entra ID entitlement management (access
// packages, assignment policies, requests, assignments, approvals, connected organizations) and the port
// through which the conversation code (bot/) uses it. It has no dependency on Microsoft Graph: the Graph
// implementation lives in internal/entitlement/graph.
//
// # Who acts
//
// The port is split by who acts, because Graph enforces it:
//
//   - Directory and Admin act as the application (app-only token, application permissions). Use them for
//     lookups, admin commands and the brokered request mode. AdminAdd with an application permission assigns
//     directly and bypasses approval: use it only for admin commands and for brokered requests whose approval
//     stages the bot ran itself — never to skip a policy silently.
//   - Requester and Approver act as a signed-in user (delegated token, obtained by Teams SSO exchanged
//     on-behalf-of). Obtain them with Port.ForUser, passing a TokenSource that yields that user's Graph token.
//
// # Delegated-only calls
//
// The following Graph calls do not accept an app-only token, which is why they are on Requester/Approver
// only:
//
//   - accessPackages/filterByCurrentUser(on='allowedRequestor')          → Requester.RequestablePackages
//   - accessPackages/{id}/getApplicablePolicyRequirements               → Requester.Requirements
//   - assignmentRequests (POST, requestType userAdd — the requestor is the signed-in user)
//     → Requester.SubmitRequest
//   - assignmentRequests/filterByCurrentUser(on='target')                → Requester.MyRequests
//   - assignments/filterByCurrentUser(on='target')                       → Requester.MyAssignments
//   - assignmentRequests/filterByCurrentUser(on='approver')              → Approver.PendingApprovals
//   - accessPackageAssignmentApprovals/{id} and its stages (GET, PATCH)  → Approver.Approval, Approver.DecideStage
//
// Cancelling a request (assignmentRequests/{id}/cancel) is done by the requestor, so it is on Requester too.
//
// # Errors
//
// Every method returns errors that match, with errors.Is, one of the sentinel errors in this package
// (ErrNotEligible, ErrAlreadyRequested, ErrAlreadyAssigned, ErrAlreadyDecided, ErrNotApprover, ErrNotFound,
// ErrConsentRequired, ErrSignInRequired, ErrForbidden, ErrThrottled, ErrInvalidInput, ErrConflict,
// ErrUnavailable) when
// the cause is known; *ThrottledError, *AlreadyDecidedError and *ServiceError carry details and match with
// errors.As. The sentinel messages are written for the person in the chat; the ServiceError details (HTTP
// status, service error code, request id) are for logs.
package entitlement
