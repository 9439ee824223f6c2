package manifest

// Bot scopes, as spelled in the manifest.
const (
	ScopePersonal  = "personal"
	ScopeTeam      = "team"
	ScopeGroupChat = "groupChat"
)

// Command limits of the v1.22 schema: at most 3 command lists, 10 commands per list, titles of at most 128 and
// descriptions of at most 4000 characters. Teams shows a scope's menu from one list, so each scope appears in
// exactly one list.
const (
	MaxCommandLists       = 3
	MaxCommandsPerList    = 10
	MaxCommandTitle       = 128
	MaxCommandDescription = 4000
)

// Command is one entry of the bot's command menu.
type Command struct {
	// Title is what Teams inserts into the compose box, e.g. "packages" or "/orgs".
	Title string
	// Description is the hint shown next to the title, including the argument syntax.
	Description string
}

// CommandList is the command menu of one scope.
type CommandList struct {
	// Scope is ScopePersonal, ScopeTeam or ScopeGroupChat.
	Scope string
	// Commands in menu order.
	Commands []Command
}

// RequesterCommands are the conversational commands every user has in the 1:1 chat (bot flows, issue 5).
var RequesterCommands = []Command{
	{"help", "Show what I can do, with buttons for the common actions"},
	{"packages", "packages [words] — access packages you may request, searchable"},
	{"request", "request <package name or id> — open the request form"},
	{"status", "Your open and recent requests and where they stand"},
	{"access", "What you have access to now, and until when"},
	{"approvals", "Requests waiting for your decision"},
	{"cancel", "cancel <request> — withdraw an open request"},
	{"extend", "extend <assignment> — ask to keep access longer, where the policy allows"},
}

// AdminCommands are the slash-style admin commands (issue 6). They are answered in the 1:1 chat and only for
// members of the configured admin group or role.
var AdminCommands = []Command{
	{"/help", "Admin: list every admin command (/orgs, /connect, /disconnect, /sponsors, /catalogs, /packages, /package [new|edit|delete], /sod, /assign, /revoke, /pending, /expiring, /audit)"},
	{"/orgs", "Admin: connected organizations"},
	{"/connect", "Admin: /connect <domain or tenant id> [name] — add a connected organization"},
	{"/disconnect", "Admin: /disconnect <org> — remove a connected organization"},
	{"/sponsors", "Admin: /sponsors <org> add|remove <user> — manage sponsors"},
	{"/catalogs", "Admin: catalogs"},
	{"/packages", "Admin: /packages [catalog] — access packages"},
	{"/package", "Admin: /package <name or id> [edit|delete] — details; /package new — build a package with its policy"},
	{"/assign", "Admin: /assign <user> <package> — assign directly"},
	{"/revoke", "Admin: /revoke <user> <package> — remove an assignment"},
	{"/pending", "Admin: /pending [package] — requests waiting for approval"},
	{"/expiring", "Admin: /expiring [days] — assignments ending soon"},
	{"/audit", "Admin: /audit [user|package] — the audit log"},
}

// personalAdminTitles are the admin commands that fit in the personal menu after the requester commands (10 per
// list): /help lists all the others, /pending is the one an admin needs daily. The rest work when typed.
var personalAdminTitles = []string{"/help", "/pending"}

// groupTitles are offered in team channels and group chats, where the bot answers publicly: only what reveals
// nothing about a person's requests.
var groupTitles = []string{"help", "packages"}

// commandLists is the bot's command menu per scope, in manifest order.
var commandLists = []CommandList{
	{Scope: ScopePersonal, Commands: append(append([]Command(nil), RequesterCommands...), pick(AdminCommands, personalAdminTitles)...)},
	{Scope: ScopeTeam, Commands: pick(RequesterCommands, groupTitles)},
	{Scope: ScopeGroupChat, Commands: pick(RequesterCommands, groupTitles)},
}

// CommandLists returns a copy of the command menus the manifest declares, per scope.
func CommandLists() []CommandList {
	out := make([]CommandList, len(commandLists))
	for i, cl := range commandLists {
		out[i] = CommandList{Scope: cl.Scope, Commands: append([]Command(nil), cl.Commands...)}
	}
	return out
}

func pick(from []Command, titles []string) []Command {
	var out []Command
	for _, t := range titles {
		for _, c := range from {
			if c.Title == t {
				out = append(out, c)
			}
		}
	}
	return out
}
