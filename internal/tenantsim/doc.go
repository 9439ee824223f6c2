// Package tenantsim simulates Microsoft Entra tenants for demos and tests: a
// Microsoft Graph v1.0 compatible HTTP surface for entitlement management and
// the directory (Graph's paths, property names, @odata annotations, paging and
// error envelope), and a token issuer per tenant (OpenID metadata, JWKS, client
// credentials and on-behalf-of), seeded with the fixed demo data of
// docs/ARCHITECTURE.md. State is kept in bbolt and survives a restart.
//
// It shares no code with the production Graph or identity packages on purpose:
// a wrong property name or envelope must not be able to hide in a shared type.
//
// # Endpoints (relative to Options.BaseURL)
//
// Entra, per tenant (id or domain):
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	GET  /{tenant}/discovery/v2.0/keys
//	POST /{tenant}/oauth2/v2.0/token   client_credentials (Graph or Bot Framework scope),
//	                                   urn:ietf:params:oauth:grant-type:jwt-bearer (on-behalf-of)
//
// Graph, under /v1.0 (bearer token required; app-only tokens are refused where
// Graph refuses them):
//
//	identityGovernance/entitlementManagement/
//	  accessPackages[/{id}] ($filter, $expand, $select, $search, $top/$skiptoken, $count)
//	  accessPackages/filterByCurrentUser(on='allowedRequestor')
//	  accessPackages/{id}/getApplicablePolicyRequirements (POST)
//	  accessPackages/{id}/{assignmentPolicies,resourceRoleScopes,incompatibleAccessPackages,incompatibleGroups,accessPackagesIncompatibleWith}
//	  accessPackages (POST), accessPackages/{id} (PATCH; DELETE refused while it has assignments),
//	  accessPackages/{id}/resourceRoleScopes (POST, DELETE /{id}), …/{incompatibleAccessPackages,incompatibleGroups}/$ref (POST),
//	  …/{id}/$ref (DELETE)
//	  assignmentPolicies[/{id}[/questions]], assignmentPolicies (POST), assignmentPolicies/{id} (PUT, DELETE),
//	    with Graph's validation (targets, expiration, stages with approvers, questions)
//	  resourceRequests (POST adminAdd: a group, SharePoint site or app into a catalog)
//	  assignmentRequests (GET, POST userAdd|userUpdate|userRemove|adminAdd|adminUpdate|adminRemove)
//	  assignmentRequests/filterByCurrentUser(on='target'|'createdBy'|'approver')
//	  assignmentRequests/{id} (GET, DELETE), assignmentRequests/{id}/cancel (POST)
//	  assignments[/{id}], assignments/filterByCurrentUser(on='target')
//	  accessPackageAssignmentApprovals/{id}[/stages[/{stageId}]] (GET, PATCH a stage),
//	  accessPackageAssignmentApprovals/filterByCurrentUser(on='approver')
//	    (also served as assignmentApprovals/...)
//	  catalogs[/{id}[/resources|resourceRoles|resourceScopes|accessPackages]], catalogs (POST),
//	  catalogs/{id} (DELETE, refused while it has access packages)
//	  connectedOrganizations[/{id}] (CRUD), …/{internal,external}Sponsors[/$ref|/{id}/$ref]
//	  settings (GET, PATCH)
//	users[/{id or UPN}], users/{id}/manager, users/{id}/{memberOf,transitiveMemberOf},
//	users/{id}/teamwork/installedApps (GET, POST 201, 409 when installed), me
//	teams/{id} (GET: a group that is a Team, with its webUrl "Get link to team"; 404 otherwise)
//	groups[/{id}[/members|transitiveMembers]], invitations (POST), organization
//	tenantRelationships/findTenantInformationByDomainName(domainName='…')
//	roleManagement/directory/roleAssignments[/{id}] ($filter, e.g. principalId eq '{id}' or principalId in (…))
//	roleManagement/directory/{roleAssignmentScheduleInstances,roleEligibilityScheduleInstances} ($filter)
//	roleManagement/entitlementManagement/roleAssignments[/{id}] ($filter)
//
// Simulator administration (never under /v1.0):
//
//	GET|POST /_sim/clock        {"advance":"PT1H"} moves the simulated clock and runs due rules
//	POST     /_sim/throttle     {"requests":3,"retryAfterSeconds":2} or {"enabled":true|false}
//	POST     /_sim/fault        {"requests":-1,"kind":"status|cut|slow","status":503,"retryAfterSeconds":2,
//	                            "noRetryAfter":true,"delayMillis":3000,"entra":true}; {"requests":0} is off
//	POST     /_sim/consent      {"tenantId","oid","consented":false} makes OBO fail with AADSTS65001
//	POST     /_sim/dev/assertion {"tenantId","oid"} → {"token": user token for api://botid-{botAppId}}
//	GET      /_sim/redeem/{invitationId}  HTML page; flips the guest to externalUserState Accepted
//	POST     /_sim/reset        reseeds (keeps the bot secret and the signing key)
//
// Token lifetimes follow the real (base) clock; business rules (approval
// escalation and automatic denial, delivery, expiry, guest blocking and
// deletion) follow the simulated clock. Rules run before every Graph request,
// on Advance and on Tick.
package tenantsim
