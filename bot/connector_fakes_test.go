package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/internal/botframework"
	"github.com/accessbot/accessbot/internal/entitlement"
)

// flTokens yields "token-for-<oid>"; users in signedOut have no token.
type flTokens struct {
	signedOut map[string]bool
}

func (f *flTokens) ForUser(tenantID, userID string) entitlement.TokenSource {
	return entitlement.TokenFunc(func(ctx context.Context) (string, error) {
		if f.signedOut[userID] {
			return "", entitlement.ErrSignInRequired
		}
		return "token-for-" + userID, nil
	})
}

func (f *flTokens) ExchangeSSO(ctx context.Context, tenantID, userID, ssoToken string) error {
	return nil
}

// fakeConnector is the bot's Connector in every unit test: it records what the bot sends and updates,
// creates conversations, answers member lookups by Teams id, and fails on demand.
type fakeConnector struct {
	mu      sync.Mutex
	seq     int
	sent    []sentActivity
	created []schema.ConversationParameters
	// notInstalled makes CreateConversation answer 403 for these users until the app is installed for them.
	notInstalled map[string]bool
	installed    func(userID string) bool
	// members answers GetMember by Teams id (an unknown id is an error); lookups counts the calls.
	members map[string]botframework.Member
	lookups int
	// failSend, failUpdate and failCreate, when set, are what Send (and Reply), Update and CreateConversation
	// return; nothing is recorded then.
	failSend, failUpdate, failCreate error
}

// sentActivity is one activity the bot sent ("send") or updated ("update") in a conversation.
type sentActivity struct {
	Op, Conversation, ID string
	Act                  *schema.Activity
}

func (c *fakeConnector) Send(ctx context.Context, serviceURL, conv string, act *schema.Activity) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSend != nil {
		return "", c.failSend
	}
	c.seq++
	id := fmt.Sprintf("msg-%d", c.seq)
	c.sent = append(c.sent, sentActivity{"send", conv, id, act})
	return id, nil
}

func (c *fakeConnector) Reply(ctx context.Context, serviceURL, conv, replyTo string, act *schema.Activity) (string, error) {
	return c.Send(ctx, serviceURL, conv, act)
}

func (c *fakeConnector) Update(ctx context.Context, serviceURL, conv, id string, act *schema.Activity) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failUpdate != nil {
		return c.failUpdate
	}
	c.sent = append(c.sent, sentActivity{"update", conv, id, act})
	return nil
}

func (c *fakeConnector) CreateConversation(ctx context.Context, serviceURL string, p schema.ConversationParameters) (botframework.ConversationResource, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failCreate != nil {
		return botframework.ConversationResource{}, c.failCreate
	}
	who := p.Members[0].AadObjectID
	if c.notInstalled[who] && (c.installed == nil || !c.installed(who)) {
		return botframework.ConversationResource{}, &botframework.APIError{Status: 403, Code: "Forbidden", Message: "bot not installed"}
	}
	c.created = append(c.created, p)
	return botframework.ConversationResource{ID: "conv-" + who}, nil
}

func (c *fakeConnector) GetMember(ctx context.Context, serviceURL, conv, memberID string) (botframework.Member, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	m, ok := c.members[memberID]
	if !ok {
		return botframework.Member{}, errors.New("member not found")
	}
	return m, nil
}

// all returns everything sent or updated so far.
func (c *fakeConnector) all() []sentActivity { return c.since(0) }

// since returns what was sent or updated after the first n.
func (c *fakeConnector) since(n int) []sentActivity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentActivity(nil), c.sent[n:]...)
}

// count is the number of activities sent or updated so far.
func (c *fakeConnector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sent)
}

// text is everything readable in an activity (text and card strings).
func (s sentActivity) text() string {
	if len(s.Act.Attachments) == 0 {
		return s.Act.Text
	}
	raw, _ := json.Marshal(s.Act.Attachments[0].Content)
	return string(raw)
}
