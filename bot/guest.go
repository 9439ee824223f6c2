package bot

// Guest guidance: after a brokered request is delivered, Entra has created the partner user as a guest of
// the resource tenant (PendingAcceptance). The bot sends them the invitation link and the Teams switch steps,
// watches externalUserState until they accept ("You're in"), and warns before their last assignment ends.
// All of it runs in the brokered follow-up job (an outbox item that re-enqueues itself with backoff).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/lifecycle"
	"github.com/accessbot/accessbot/internal/store"
)

// deliverBrokeredFollow runs one step of a brokered request's follow-up.
func (b *Bot) deliverBrokeredFollow(ctx context.Context, raw json.RawMessage) error {
	var job lifecycle.BrokeredFollowJob
	if err := json.Unmarshal(raw, &job); err != nil {
		return fmt.Errorf("decode brokered follow-up: %w", err)
	}
	unlock, err := b.core.Lock(ctx, "brk:"+job.RequestID)
	if err != nil {
		return err
	}
	defer unlock()
	br, err := b.core.GetBrokered(ctx, job.RequestID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	if br.Done || job.Gen != br.FollowGen {
		return nil // finished, or a stale job: a newer one follows this request
	}
	log := b.log.With("request", br.ID, "graph_request", br.GraphRequestID)
	changed, notify := false, false
	if br.State == entitlement.StatePendingApproval {
		return b.followStage(ctx, br)
	}
	if br.FilePending {
		b.core.FileBrokered(ctx, br, nil) // schedules the next step itself
		if err := b.core.SaveBrokered(ctx, br); err != nil {
			return err
		}
		if !br.FilePending {
			b.updateBrokeredCards(ctx, br.ID, "")
			if br.State == entitlement.StateDeliveryFailed {
				b.core.NotifyBrokeredRequester(ctx, br)
			}
		}
		return nil
	}
	if br.State != entitlement.StateDelivered && br.GraphRequestID != "" {
		if changed, notify, err = b.core.PollDelivery(ctx, br); err != nil {
			log.WarnContext(ctx, "poll brokered adminAdd request", "err", err)
			b.core.ScheduleFollow(ctx, br, b.core.NextDelay(br, false))
			return b.core.SaveBrokered(ctx, br)
		}
	}
	if br.State == entitlement.StateDelivered {
		c, err := b.followGuest(ctx, br)
		if err != nil {
			log.WarnContext(ctx, "follow guest", "err", err)
		}
		changed = changed || c
	}
	delay := b.core.NextDelay(br, changed)
	if br.State == entitlement.StateDelivered && !br.Guest.Waiting() && !br.Guest.EndsAt.IsZero() && !br.Guest.EndingWarned {
		// Accepted: nothing to poll until it is time to warn about the end of access.
		warnAt := br.Guest.EndsAt.Add(-lifecycle.EndingLead(br.Guest.StartsAt, br.Guest.EndsAt))
		delay = min(max(warnAt.Sub(b.now()), b.cfg.PollInterval), b.cfg.PollMax)
	}
	if br.State == entitlement.StateDelivered && !br.Guest.Waiting() && (br.Guest.EndsAt.IsZero() || br.Guest.EndingWarned) {
		br.Done = true
	}
	if !br.Done {
		b.core.ScheduleFollow(ctx, br, delay)
	}
	if err := b.core.SaveBrokered(ctx, br); err != nil {
		return err
	}
	if changed {
		b.updateBrokeredCards(ctx, br.ID, "")
	}
	if notify {
		b.core.NotifyBrokeredRequester(ctx, br)
	}
	return nil
}

// followStage runs the clock rules of a stage waiting for a decision and wakes again at its next deadline.
func (b *Bot) followStage(ctx context.Context, br *brokeredRequest) error {
	pol, err := b.cfg.Entitlement.Policy(ctx, br.PolicyID)
	if err != nil {
		b.log.WarnContext(ctx, "read policy of brokered request", "request", br.ID, "err", err)
		b.core.ScheduleFollow(ctx, br, b.core.NextDelay(br, false))
		return b.core.SaveBrokered(ctx, br)
	}
	changed := b.core.CheckBrokeredStage(ctx, br, pol)
	if !br.Done {
		b.core.ScheduleFollow(ctx, br, b.core.StageWake(br, pol))
	}
	if err := b.core.SaveBrokered(ctx, br); err != nil {
		return err
	}
	if changed {
		b.updateBrokeredCards(ctx, br.ID, "")
		b.core.NotifyBrokeredRequester(ctx, br)
	}
	return nil
}

// followGuest moves the guest through guidance → acceptance → end-of-access warning. It reports whether
// the request's state (as its cards show it) changed.
func (b *Bot) followGuest(ctx context.Context, br *brokeredRequest) (bool, error) {
	g := &br.Guest
	now := b.now()
	if g.AcceptedSent && !g.EndsAt.IsZero() && now.Before(g.EndsAt.Add(-lifecycle.EndingLead(g.StartsAt, g.EndsAt))) {
		return false, nil // accepted: nothing to read until it is time to warn
	}
	if !g.EndsAt.IsZero() && !now.Before(g.EndsAt) {
		br.Done = true // access ended (never accepted, or the warning could not be sent in time)
		return false, nil
	}
	if g.UserID == "" {
		id, err := b.core.FindGuest(ctx, br, cards.TeamsTenantURL(b.cfg.Tenant.ID))
		if err != nil {
			return false, err
		}
		g.UserID = id
	}
	u, err := b.cfg.Entitlement.User(ctx, g.UserID)
	if err != nil {
		return false, fmt.Errorf("read guest %s: %w", g.UserID, err)
	}
	changed := false
	state := u.ExternalUserState
	if !u.IsGuest() {
		state = lifecycle.GuestAccepted // already a member here: nothing to accept
	}
	if state == "" {
		state = lifecycle.GuestPendingAcceptance
	}
	if g.EndsAt.IsZero() {
		b.core.ReadAssignmentWindow(ctx, br)
	}
	if !g.GuidanceSent {
		if state != lifecycle.GuestAccepted {
			inv, err := b.cfg.Entitlement.Invite(ctx, entitlement.NewInvitation{Email: br.Requester.Email,
				DisplayName: br.Requester.Name, RedirectURL: cards.TeamsTenantURL(b.cfg.Tenant.ID)})
			if err != nil {
				return false, fmt.Errorf("invite %s for the redemption link: %w", g.UserID, err)
			}
			g.RedeemURL = inv.RedeemURL
			if err := b.sendGuidance(ctx, br, cards.GuestInvited); err != nil {
				return false, err
			}
			br.AddEvent(now, lifecycle.Say("event.guestWaiting"))
			changed = true
		}
		g.GuidanceSent = true
	}
	if state != g.State {
		g.State = state
		changed = true
	}
	if state == lifecycle.GuestAccepted && !g.AcceptedSent {
		if err := b.sendGuidance(ctx, br, cards.GuestAccepted); err != nil {
			return changed, err
		}
		g.AcceptedSent = true
		br.AddEvent(now, lifecycle.Say("event.guestAccepted"))
		b.core.AuditBrokered(ctx, br, "guest.accepted", "accepted", nil)
		changed = true
	}
	if state == lifecycle.GuestAccepted && !g.EndsAt.IsZero() && !g.EndingWarned &&
		!now.Before(g.EndsAt.Add(-lifecycle.EndingLead(g.StartsAt, g.EndsAt))) {
		if b.core.LastAssignmentEnds(ctx, br) {
			if err := b.sendGuidance(ctx, br, cards.GuestEnding); err != nil {
				return changed, err
			}
			br.AddEvent(now, lifecycle.Say("event.guestEnding", lifecycle.DataWhen, g.EndsAt.UTC().Format(time.RFC3339)))
			b.core.AuditBrokered(ctx, br, "guest.ending-notice", "sent", nil)
		}
		g.EndingWarned = true
	}
	return changed, nil
}

// sendGuidance sends one variant of the guest guidance card to the partner user's chat.
func (b *Bot) sendGuidance(ctx context.Context, br *brokeredRequest, step cards.GuestStep) error {
	v := cards.GuestGuidanceView{
		Step: step, GuestName: br.Requester.Name, OrgName: b.cfg.Tenant.Name, TenantID: b.cfg.Tenant.ID,
		TenantDomain: b.cfg.Tenant.Domain, HomeOrgName: br.Requester.OrgName, PackageName: br.PackageName,
		InviteRedeemURL: br.Guest.RedeemURL, AccessEnds: br.Guest.EndsAt, Now: b.now(),
	}
	if pkg, err := b.cfg.Entitlement.Package(ctx, br.PackageID); err == nil {
		v.TeamName = teamOf(pkg.Resources)
		v.TeamName, v.TeamURL, v.Links = b.resourceLinks(ctx, pkg.Resources, v.TeamName)
	}
	if _, _, err := b.deliverTo(ctx, br.Requester.TenantID, br.Requester.ID, cardActivity(cards.GuestGuidance(b.locFor(ctx, br.Requester.TenantID, br.Requester.ID), v))); err != nil {
		return fmt.Errorf("send %s guidance for %s: %w", step, br.ID, err)
	}
	return nil
}

// teamOf names the team a package grants: a resource known to be a Team, else its first Entra group (Graph
// does not say which groups are teams).
// teamLinker reads a Team's own deep link (Graph's team.webUrl); the Graph implementation of the port has it.
type teamLinker interface {
	TeamWebURL(ctx context.Context, teamID string) (string, error)
}

// resourceLinks finds the links that open what a package grants, so the guest's last step ends in the team
// itself, not only in the right tenant: the first Team (a group Graph knows as a team) becomes the team link,
// further Teams and every SharePoint site become links of their own. name is the team named so far.
func (b *Bot) resourceLinks(ctx context.Context, rs []entitlement.ResourceRole, name string) (string, string, []cards.Link) {
	tl, _ := b.cfg.Entitlement.(teamLinker)
	teamURL := ""
	var links []cards.Link
	for _, r := range rs {
		switch {
		case strings.EqualFold(r.OriginSystem, "SharePointOnline") && strings.HasPrefix(strings.ToLower(r.OriginID), "https://"):
			links = append(links, cards.Link{Title: orUnknown(r.ResourceName, r.OriginID), URL: r.OriginID})
		case strings.EqualFold(r.OriginSystem, "AadGroup") && tl != nil && r.OriginID != "":
			web, err := tl.TeamWebURL(ctx, r.OriginID)
			if err != nil || !strings.HasPrefix(web, "https://") {
				continue // not a Team (404), or no link: the tenant switch still gets them there
			}
			if teamURL == "" {
				name, teamURL = orUnknown(r.ResourceName, name), web
				continue
			}
			links = append(links, cards.Link{Title: orUnknown(r.ResourceName, r.OriginID), URL: web})
		}
	}
	return name, teamURL, links
}

func teamOf(rs []entitlement.ResourceRole) string {
	group := ""
	for _, r := range rs {
		if isTeamResource(r) {
			return orUnknown(r.ResourceName, r.OriginID)
		}
		if group == "" && strings.EqualFold(r.OriginSystem, "AadGroup") {
			group = orUnknown(r.ResourceName, r.OriginID)
		}
	}
	return group
}

// isTeamResource reports a catalog resource that Graph describes as a Team (a group whose type names a team).
func isTeamResource(r entitlement.ResourceRole) bool {
	return strings.EqualFold(r.OriginSystem, "AadGroup") && strings.Contains(strings.ToLower(r.ResourceType), "team")
}
