package bot

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/entitlement"
	"github.com/accessbot/accessbot/internal/store"
)

// deliverNotifications runs the queued notification jobs (what the outbox worker does) and returns what the
// bot sent while doing so.
func (e *admEnv) deliverNotifications() []sentActivity {
	e.t.Helper()
	ctx := context.Background()
	n := e.conn.count()
	items, err := e.st.Pending(ctx)
	if err != nil {
		e.t.Fatalf("list outbox: %v", err)
	}
	for _, it := range items {
		if it.Kind != OutboxNotify {
			e.t.Fatalf("unexpected outbox item %s", it.Kind)
		}
		if err := e.bot.HandleOutbox(ctx, it); err != nil {
			e.t.Fatalf("deliver %s: %v", it.Kind, err)
		}
		if err := e.st.Complete(ctx, it.ID); err != nil {
			e.t.Fatalf("complete %s: %v", it.ID, err)
		}
	}
	return e.conn.since(n)
}

func (e *admEnv) putChat(tenantID, userID string) string {
	e.t.Helper()
	conv := "chat-" + userID
	if err := e.st.PutConversation(context.Background(), store.ConversationRef{TenantID: tenantID, AADObjectID: userID,
		ConversationID: conv, ServiceURL: "https://smba.example/", ConversationType: "personal"}); err != nil {
		e.t.Fatalf("store conversation: %v", err)
	}
	return conv
}

// putBrokered records a brokered request of a Fabrikam user: the link from their address (and guest
// account) to their chat in Fabrikam.
func (e *admEnv) putBrokered(homeID, email, guestID string) {
	e.t.Helper()
	br := brokeredRequest{ID: brokeredPrefix + homeID, PackageID: admPkgID(3), State: entitlement.StateDelivered, CreatedAt: e.clock(),
		Requester: brokeredRequester{TenantID: admFabrikam, ID: homeID, Email: email, OrgID: admOrgFab}, Guest: guestRecord{UserID: guestID}}
	if err := e.bot.core.SaveBrokered(context.Background(), &br); err != nil {
		e.t.Fatal(err)
	}
}

// An admin's confirmed /assign or /revoke is announced to the person whose access changed: in their chat
// (a new one for a member who never wrote), a partner user only in a chat the bot already has with them (in
// Contoso as a guest, else in Fabrikam through a brokered request of theirs), never to the admin themselves.
func TestAdminChangeNotifiesTheSubject(t *testing.T) {
	fiona := admFabUser(2) // her guest account in Contoso
	fionaHome := "bbbbbbbb-1111-0000-0000-000000000002"
	gusHome := admFabUser(1)
	tests := []struct {
		name  string
		setup func(e *admEnv)
		cmd   string
		// wantConv is the chat the notice lands in ("" = none is sent); wantCreated a new chat with that user.
		wantConv    string
		wantCreated string
		want        []string
		wantWrite   string
	}{
		{name: "revoke from a member with a chat", setup: func(e *admEnv) { e.putChat(admTenant, admUserID(1)) },
			cmd: "/revoke rita@contoso.example Falcon Team Member", wantConv: "chat-" + admUserID(1), wantWrite: "adminRemove asg-rita-1",
			want: []string{"Access removed", "Adele Vance (AccessBot admin) removed your access to Falcon Team Member.", "My access", "access"}},
		{name: "assign to a member who never wrote: a new chat", setup: func(e *admEnv) { e.conn.failCreate = nil },
			cmd: `/assign nestor@contoso.example "Falcon Wiki Reader"`, wantConv: "conv-" + admUserID(8), wantCreated: admUserID(8),
			wantWrite: "adminAdd " + admPkgID(4) + " policy=" + admPolID(4) + " to " + admUserID(8),
			want:      []string{"Access granted", "Adele Vance (AccessBot admin) gave you Falcon Wiki Reader. It is being set up now.", "My access", "My requests", "status"}},
		{name: "assign to a guest with a chat in Contoso", setup: func(e *admEnv) { e.putChat(admTenant, fiona) },
			cmd: "/assign fiona@fabrikam.example Falcon Partner", wantConv: "chat-" + fiona,
			wantWrite: "adminAdd " + admPkgID(3) + " policy=" + admPolID(3) + " to " + fiona,
			want:      []string{"Adele Vance (AccessBot admin) gave you Falcon Partner Collaboration in Contoso."}},
		{name: "assign to a guest reached in her home tenant", setup: func(e *admEnv) {
			e.putChat(admFabrikam, fionaHome)
			e.putBrokered(fionaHome, "fiona@fabrikam.example", "")
		}, cmd: "/assign fiona@fabrikam.example Falcon Partner", wantConv: "chat-" + fionaHome,
			wantWrite: "adminAdd " + admPkgID(3) + " policy=" + admPolID(3) + " to " + fiona,
			want:      []string{"gave you Falcon Partner Collaboration in Contoso"}},
		{name: "assign by mail to a partner user with a home chat", setup: func(e *admEnv) {
			e.putChat(admFabrikam, gusHome)
			e.putBrokered(gusHome, "GUS@fabrikam.example", "")
		}, cmd: "/assign gus@fabrikam.example Falcon Partner", wantConv: "chat-" + gusHome,
			wantWrite: "adminAdd " + admPkgID(3) + " policy=" + admPolID(3) + " to gus@fabrikam.example org=" + admOrgFab,
			want:      []string{"gave you Falcon Partner Collaboration in Contoso"}},
		{name: "assign by mail to a partner user the bot cannot reach: nothing sent, no chat created",
			setup:     func(e *admEnv) { e.putBrokered(gusHome, "gus@fabrikam.example", "") }, // no stored chat for him
			cmd:       "/assign gus@fabrikam.example Falcon Partner",
			wantWrite: "adminAdd " + admPkgID(3) + " policy=" + admPolID(3) + " to gus@fabrikam.example org=" + admOrgFab},
		{name: "revoke from a guest reached through her guest account's brokered request", setup: func(e *admEnv) {
			e.port.assignments = append(e.port.assignments, entitlement.Assignment{ID: "asg-fiona-3", State: entitlement.AssignmentDelivered,
				PackageID: admPkgID(3), PackageName: "Falcon Partner Collaboration",
				Target: entitlement.Subject{ID: fiona, Name: "Fiona Partner", Kind: entitlement.SubjectUser}})
			e.putChat(admFabrikam, fionaHome)
			e.putBrokered(fionaHome, "", fiona)
		}, cmd: "/revoke fiona@fabrikam.example Falcon Partner", wantConv: "chat-" + fionaHome, wantWrite: "adminRemove asg-fiona-3",
			want: []string{"Adele Vance (AccessBot admin) removed your access to Falcon Partner Collaboration."}},
		{name: "an admin assigning herself is not told again", setup: func(e *admEnv) { e.putChat(admTenant, admAdele.id) },
			cmd: `/assign adele@contoso.example "Falcon Wiki Reader"`, wantWrite: "adminAdd " + admPkgID(4) + " policy=" + admPolID(4) + " to " + admAdele.id},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			e.say(admAdele, tc.cmd)
			if sent := e.deliverNotifications(); len(sent) != 0 {
				t.Fatalf("asking told someone: %+v", sent)
			}
			got := e.click(admAdele, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: e.lastToken()})
			if w := e.port.Writes(); !slices.Equal(w, []string{tc.wantWrite}) {
				t.Fatalf("writes = %q, want [%q]; answer %s", w, tc.wantWrite, got)
			}
			sent := e.deliverNotifications()
			if tc.wantConv == "" {
				if len(sent) != 0 || len(e.conn.created) != 0 {
					t.Fatalf("sent %+v, created %+v; want nothing", sent, e.conn.created)
				}
			} else {
				if len(sent) != 1 || sent[0].Op != "send" || sent[0].Conversation != tc.wantConv {
					t.Fatalf("sent %+v, want one message in %s", sent, tc.wantConv)
				}
				admWantAll(t, "notice", admActivityText(t, sent[0].Act), tc.want...)
			}
			if tc.wantCreated != "" && (len(e.conn.created) != 1 || e.conn.created[0].Members[0].AadObjectID != tc.wantCreated) {
				t.Errorf("created chats %+v, want one with %s", e.conn.created, tc.wantCreated)
			}
			// Audited as before: the request and the confirmation, nothing about the notice.
			entries := e.audit(store.AuditQuery{})
			if len(entries) != 2 || entries[0].Outcome != "done" || entries[1].Outcome != "confirmation requested" {
				t.Errorf("audit = %+v", entries)
			}
		})
	}
}

// A notice an older build queued (its values under "args") is still sent with its values, in the reader's
// language, with its buttons.
func TestNotifyJobOfAnOlderBuild(t *testing.T) {
	e := newAdmEnv(t)
	conv := e.putChat(admTenant, admUserID(1))
	raw := `{"tenantId":"` + admTenant + `","userId":"` + admUserID(1) + `","text":"Adele removed your access.",` +
		`"msg":"adm.notify.removed","args":{"Admin":"Adele Vance","Package":"Falcon Team Member","Org":"Contoso"},` +
		`"buttons":[{"title":"My access","command":"access","msg":"button.myAccess"}],"title":"Access removed",` +
		`"titleMsg":"adm.notify.removedTitle","kind":"info"}`
	if _, err := e.st.Enqueue(context.Background(), OutboxNotify, json.RawMessage(raw), e.clock()); err != nil {
		t.Fatal(err)
	}
	sent := e.deliverNotifications()
	if len(sent) != 1 || sent[0].Conversation != conv {
		t.Fatalf("sent %+v, want one message in %s", sent, conv)
	}
	admWantAll(t, "notice", admActivityText(t, sent[0].Act), "Access removed",
		"Adele Vance (AccessBot admin) removed your access to Falcon Team Member.", "My access")
}

// The notice of an admin's change carries its values also under "args", where builds before NotifyJob embedded
// Message read them: an older replica delivering it during a rolling deploy still says them.
func TestAdminChangeNoticeReadByOlderBuilds(t *testing.T) {
	e := newAdmEnv(t)
	e.putChat(admTenant, admUserID(1))
	e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
	e.click(admAdele, cards.VerbAdminConfirm, map[string]any{cards.KeyToken: e.lastToken()})
	items, err := e.st.Pending(context.Background())
	if err != nil || len(items) != 1 {
		t.Fatalf("outbox = %+v (%v), want the notice", items, err)
	}
	var older struct { // the notice as builds before NotifyJob embedded Message read it
		Msg  string            `json:"msg"`
		Args map[string]string `json:"args"`
	}
	if err := json.Unmarshal(items[0].Payload, &older); err != nil || older.Msg != "adm.notify.removed" ||
		older.Args["Admin"] != "Adele Vance" || older.Args["Package"] != "Falcon Team Member" {
		t.Errorf("an older build reads %+v (%v) from %s", older, err, items[0].Payload)
	}
}

// Nothing is announced when the change does not happen: canceled, failed, refused, expired.
func TestAdminChangeNotNotifiedWhenNotMade(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *admEnv)
		who   admPerson
		verb  string
		wait  time.Duration
		want  string
	}{
		{name: "canceled", who: admAdele, verb: cards.VerbAdminCancel, want: "Nothing was changed"},
		{name: "the change fails", who: admAdele, verb: cards.VerbAdminConfirm, want: "You are not allowed to do this (missing permission or role).", setup: func(e *admEnv) {
			e.port.failAdminRm = &entitlement.ServiceError{Op: "remove assignment", Status: 403, Kind: entitlement.ErrForbidden}
		}},
		{name: "someone else confirms", who: admLynne, verb: cards.VerbAdminConfirm, want: "Only Adele Vance",
			setup: func(e *admEnv) { e.port.setMember(admLynne.id, true) }},
		{name: "confirmation expired", who: admAdele, verb: cards.VerbAdminConfirm, wait: adminConfirmTTL + time.Second, want: "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAdmEnv(t)
			e.putChat(admTenant, admUserID(1))
			if tc.setup != nil {
				tc.setup(e)
			}
			e.say(admAdele, "/revoke rita@contoso.example Falcon Team Member")
			e.advance(tc.wait)
			admWantAll(t, "answer", e.click(tc.who, tc.verb, map[string]any{cards.KeyToken: e.lastToken()}), tc.want)
			if w := e.port.Writes(); len(w) != 0 {
				t.Fatalf("writes = %q", w)
			}
			if sent := e.deliverNotifications(); len(sent) != 0 {
				t.Fatalf("Rita was told: %+v", sent)
			}
		})
	}
}
