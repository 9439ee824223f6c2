package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/i18n"
)

// verbHandler answers a card action (Action.Execute, or Action.Submit with a verb). data holds the action's
// data merged with the card's inputs. For Action.Execute the answer replaces the card; for Action.Submit
// it is sent as a new message.
type verbHandler func(ctx context.Context, t *turn, data map[string]any) (*botframework.InvokeResponse, error)

// commandSpec is one chat command.
type commandSpec struct {
	// Name is the command word; Aliases are other words (and phrases' first words) that run it.
	Name    string
	Aliases []string
	// Admin commands are typed with a slash and only run for admins.
	Admin bool
	// Run executes the command.
	Run func(ctx context.Context, t *turn, cmd Command) error
}

// handle registers a chat command.
func (b *Bot) handle(spec *commandSpec) {
	b.commands = append(b.commands, spec)
	for _, n := range append([]string{spec.Name}, spec.Aliases...) {
		key := commandKey(n, spec.Admin)
		if _, dup := b.byName[key]; dup {
			panic(fmt.Sprintf("bot: command %q registered twice", key))
		}
		b.byName[key] = spec
	}
}

// onVerb registers a card action verb.
func (b *Bot) onVerb(verb string, h verbHandler) {
	if _, dup := b.verbs[verb]; dup {
		panic(fmt.Sprintf("bot: verb %q registered twice", verb))
	}
	b.verbs[verb] = h
}

func commandKey(name string, admin bool) string {
	if admin {
		return "/" + name
	}
	return name
}

// registerCore registers the commands every user has, then each flow's commands and verbs.
func (b *Bot) registerCore() {
	b.handle(&commandSpec{Name: "help", Aliases: []string{"hi", "hello", "hey", "start", "?", "menu"}, Run: func(ctx context.Context, t *turn, cmd Command) error {
		return b.sendHelp(ctx, t, "")
	}})
	// Each flow registers its commands and card verbs (request.go, approve.go, partner.go, admin.go).
	b.registerRequester()
	b.registerApprover()
	b.registerPartner()
	b.registerAdmin()
	b.registerReviews()
	b.registerBuilder()
}

// runCommand dispatches a parsed command. Unknown words get suggestions, or are treated as a package search.
func (b *Bot) runCommand(ctx context.Context, t *turn, cmd Command) error {
	if !t.personal && !b.sharedChatCommand(cmd) {
		return b.sendPrivateOnly(ctx, t, cmd)
	}
	if spec, ok := b.byName[commandKey(cmd.Name, cmd.Slash)]; ok {
		return spec.Run(ctx, t, cmd)
	}
	if cmd.Slash {
		// "/packages" typed by a non-admin: run the requester command of that name if there is one.
		if spec, ok := b.byName[cmd.Name]; ok {
			return spec.Run(ctx, t, cmd)
		}
		if cmd.Name == "help" {
			return b.sendHelp(ctx, t, "")
		}
	}
	if !cmd.Slash {
		// "I need access to Falcon": look for a package named in the text.
		handled, err := b.matchFreeText(ctx, t, cmd)
		if err != nil || handled {
			return err
		}
	}
	return b.sendUnknown(ctx, t, cmd)
}

// sharedChatCommand reports whether a command may be answered in a group chat or channel: only help.
// Everything else shows someone's requests, access, approvals or admin data, which belong in the 1:1 chat.
func (b *Bot) sharedChatCommand(cmd Command) bool {
	spec, ok := b.byName[commandKey(cmd.Name, false)]
	return ok && spec.Name == "help"
}

// sendPrivateOnly answers a personal command typed in a group chat or channel with a link to the user's 1:1
// chat with the bot, and does nothing else.
func (b *Bot) sendPrivateOnly(ctx context.Context, t *turn, cmd Command) error {
	typed := cmd.Name
	if cmd.Slash {
		typed = "/" + typed
	}
	l := t.loc
	text := l.T("private.textChat", "Typed", typed)
	if t.act.Conversation.ConversationType == "channel" {
		text = l.T("private.textChannel", "Typed", typed)
	}
	_, err := b.sendCard(ctx, t, cards.Notice(l, cards.NoticeView{Kind: noticeInfo, Title: l.T("private.title"),
		Text:        text,
		Link:        cards.Link{Title: l.T("private.openChat", "Bot", b.cfg.BotName), URL: cards.BotChatURL(t.act.Recipient.ID)},
		Suggestions: []cards.Suggestion{{Title: "help"}}}))
	return err
}

// sendUnknown answers input the bot does not understand with the closest commands.
func (b *Bot) sendUnknown(ctx context.Context, t *turn, cmd Command) error {
	// Admin command names are only offered to admins.
	admin := false
	if cmd.Slash {
		b.checkAdmin(ctx, t)
		admin = t.admin
	}
	names := b.commandNames(admin)
	word := cmd.Name
	sugg := Suggest(word, names, 3)
	var buttons []cards.Suggestion
	for _, s := range sugg {
		text := s
		if admin {
			text = "/" + s
		}
		buttons = append(buttons, cards.Suggestion{Title: text, Command: text})
	}
	typed := word
	if cmd.Slash {
		typed = "/" + word
	}
	l := t.loc
	msg := l.T("unknown.dontKnow", "Typed", typed)
	help := "help"
	if admin {
		help = "/help" // an admin's slash command gets the admin help, as a slash command
	}
	if len(sugg) > 0 {
		msg += " " + l.T("unknown.didYouMean")
	} else {
		msg += " " + l.T("unknown.typeHelp", "Help", help)
		buttons = append(buttons, cards.Suggestion{Title: help, Command: help})
	}
	return b.sendNotice(ctx, t, noticeInfo, l.T("unknown.title"), msg, buttons)
}

// commandNames lists the command words of one style (slash/admin or plain), sorted.
func (b *Bot) commandNames(admin bool) []string {
	var names []string
	for _, c := range b.commands {
		if c.Admin == admin {
			names = append(names, c.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Notice severities.
const (
	noticeInfo    = cards.NoticeInfo
	noticeSuccess = cards.NoticeSuccess
	noticeWarning = cards.NoticeWarning
	noticeError   = cards.NoticeError
)

// sendNotice sends a short message card with optional suggestion buttons.
func (b *Bot) sendNotice(ctx context.Context, t *turn, kind cards.NoticeKind, title, text string, sugg []cards.Suggestion) error {
	_, err := b.sendCard(ctx, t, cards.Notice(t.loc, cards.NoticeView{Kind: kind, Title: title, Text: text, Suggestions: sugg}))
	return err
}

// noticeCard is the same notice as an invoke answer (it replaces the clicked card).
func noticeCard(l *i18n.Localizer, kind cards.NoticeKind, title, text string) *botframework.InvokeResponse {
	return botframework.CardResponse(cards.Notice(l, cards.NoticeView{Kind: kind, Title: title, Text: text}))
}

// sendHelp sends the help card; lead is an optional first sentence ("That button is no longer supported").
func (b *Bot) sendHelp(ctx context.Context, t *turn, lead string) error {
	b.checkAdmin(ctx, t)
	_, err := b.sendCard(ctx, t, b.helpCard(t, lead))
	return err
}

// helpCard is the help card, or, when lead explains why help is shown, a notice with the main commands.
func (b *Bot) helpCard(t *turn, lead string) *cards.Card {
	if lead != "" {
		return cards.Notice(t.loc, cards.NoticeView{Kind: cards.NoticeInfo, Title: t.loc.T("help.leadTitle"), Text: lead,
			Suggestions: []cards.Suggestion{{Title: "help"}, {Title: "packages"}, {Title: "status"}}})
	}
	return cards.Help(t.loc, cards.HelpView{IsGuest: b.isForeign(t), IsAdmin: t.admin})
}

// sendWelcome greets a user who opened the chat or installed the app.
// Teams (and the Agents Playground) announce a personal install twice — installationUpdate and a
// conversationUpdate adding the bot — so a conversation is greeted at most once per welcomeWindow.
const (
	welcomeWindow  = 10 * time.Minute
	bucketWelcomed = "welcomed"
)

// welcomed records when a conversation was last greeted.
type welcomed struct {
	At time.Time `json:"at"`
}

func (b *Bot) sendWelcome(ctx context.Context, t *turn) error {
	key := t.tenantID + "/" + t.act.Conversation.ID
	unlock, err := b.core.Lock(ctx, "welcome:"+key) // the two install events Teams sends greet once
	if err != nil {
		return err
	}
	defer unlock()
	var last welcomed
	if err := b.cfg.Store.Get(ctx, bucketWelcomed, key, &last); err == nil && b.now().Sub(last.At) < welcomeWindow {
		t.log.DebugContext(ctx, "already welcomed", "conversation", t.act.Conversation.ID)
		return nil
	}
	if err := b.greet(ctx, t); err != nil {
		return err
	}
	if err := b.cfg.Store.Put(ctx, bucketWelcomed, key, welcomed{At: b.now()}); err != nil {
		t.log.WarnContext(ctx, "remember welcome", "err", err)
	}
	return nil
}

// greet sends the welcome card.
func (b *Bot) greet(ctx context.Context, t *turn) error {
	b.checkAdmin(ctx, t)
	v := cards.WelcomeView{UserName: t.userName, OrgName: b.cfg.Tenant.Name, IsGuest: b.isForeign(t), IsAdmin: t.admin}
	if v.IsGuest {
		v.HomeOrgName = b.partnerOrgName(ctx, t.tenantID)
	}
	_, err := b.sendCard(ctx, t, cards.Welcome(t.loc, v))
	return err
}

// isForeign reports whether the user chats from a tenant other than the resource tenant (a partner user).
func (b *Bot) isForeign(t *turn) bool {
	return b.cfg.Tenant.ID != "" && t.tenantID != "" && !strings.EqualFold(t.tenantID, b.cfg.Tenant.ID)
}
