package tenantsim

import (
	"slices"
	"strings"
	"time"
)

func guestUPN(email string) string {
	return strings.ReplaceAll(strings.ToLower(email), "@", "_") + "#EXT#@contoso.onmicrosoft.com"
}

// newGuest adds an invited guest (PendingAcceptance) to tenant tid, with the names and Teams id of its home
// user when the simulator knows it.
func (s *Sim) newGuest(tid, display, email, homeTID, homeOID string, now time.Time) *user {
	t := now
	g := &user{Ord: s.w.nextOrd(), ID: newID(), TenantID: tid, DisplayName: display, UPN: guestUPN(email), Mail: email,
		UserType: "Guest", ExternalUserState: "PendingAcceptance", ExternalStateAt: &t, CreationType: "Invitation",
		AccountEnabled: true, Created: now, HomeTenantID: homeTID, HomeUserID: homeOID}
	if home := s.w.Users[homeOID]; home != nil {
		g.GivenName, g.Surname, g.TeamsID = home.GivenName, home.Surname, home.TeamsID
	}
	s.w.Users[g.ID] = g
	return g
}

// createGuest adds a guest user for an external subject to the resource tenant.
func (s *Sim) createGuest(sub *subject, now time.Time) *user {
	display := sub.DisplayName
	if display == "" {
		display = sub.Email
	}
	g := s.newGuest(ContosoTenantID, display, sub.Email, sub.HomeTenantID, sub.HomeUserID, now)
	g.ByEntitlement = true
	inv := &invitation{Ord: s.w.nextOrd(), ID: newID(), Email: sub.Email, DisplayName: display, UserID: g.ID,
		RedirectURL: "https://myapplications.microsoft.com/?tenantid=" + ContosoTenantID, UserType: "Guest", Status: "PendingAcceptance"}
	s.w.Invitations[inv.ID] = inv
	s.log.Info("guest created", "user", g.ID, "homeTenant", sub.HomeTenantID)
	return g
}

// guestLifecycle blocks guests created by entitlement management once their
// last assignment ended, and deletes them after the configured duration.
func (s *Sim) guestLifecycle(now time.Time) bool {
	action := s.w.Settings.ExternalUserLifecycleAction
	if action == "" || action == "none" {
		return false
	}
	changed := false
	for _, u := range sortedBy(s.w.Users, func(u *user) int64 { return u.Ord }) {
		if !u.ByEntitlement || u.UserType != "Guest" {
			continue
		}
		active, ended := false, time.Time{}
		for _, a := range s.w.Assignments {
			sub := s.w.Subjects[a.TargetID]
			if sub == nil || sub.ObjectID != u.ID {
				continue
			}
			if isActiveAssignment(a) {
				active = true
			} else if a.Expired != nil && a.Expired.After(ended) {
				ended = *a.Expired
			}
		}
		if active || ended.IsZero() {
			continue
		}
		if u.BlockedAt == nil {
			t := ended
			u.AccountEnabled, u.BlockedAt = false, &t
			s.log.Info("guest blocked", "user", u.ID)
			changed = true
		}
		if action == "blockSignInAndDelete" && u.BlockedAt != nil {
			d, err := parseISODuration(s.w.Settings.DurationUntilExternalUserDeletedAfterBlocked)
			if err == nil && !now.Before(u.BlockedAt.Add(d)) {
				s.deleteUser(u)
				changed = true
			}
		}
	}
	return changed
}

func (s *Sim) deleteUser(u *user) {
	delete(s.w.Users, u.ID)
	for _, g := range s.w.Groups {
		g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == u.ID })
	}
	for _, sub := range s.w.Subjects {
		if sub.ObjectID == u.ID {
			sub.ObjectID = ""
		}
	}
	s.log.Info("guest deleted", "user", u.ID)
}
