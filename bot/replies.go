package bot

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/accessbot/accessbot/cards"
	"github.com/accessbot/accessbot/internal/botframework"
)

// adaptiveCardContentType is the attachment content type of an Adaptive Card.
const adaptiveCardContentType = "application/vnd.microsoft.card.adaptive"

// cardActivity wraps an Adaptive Card in a message activity.
func cardActivity(card any) *schema.Activity {
	return &schema.Activity{
		Type:        schema.Message,
		Attachments: []schema.Attachment{{ContentType: adaptiveCardContentType, Content: card}},
	}
}

// textActivity is a plain text message.
func textActivity(text string) *schema.Activity {
	return &schema.Activity{Type: schema.Message, Text: cards.CleanText(text), TextFormat: "plain"}
}

// send posts an activity into the turn's conversation: threaded in channels, plain in chats. It returns the id
// of the new message (needed to update cards in place).
func (b *Bot) send(ctx context.Context, t *turn, act *schema.Activity) (string, error) {
	var (
		id  string
		err error
	)
	if t.act.Conversation.ConversationType == "channel" && t.act.ID != "" {
		id, err = b.cfg.Connector.Reply(ctx, t.act.ServiceURL, t.act.Conversation.ID, t.act.ID, act)
	} else {
		id, err = b.cfg.Connector.Send(ctx, t.act.ServiceURL, t.act.Conversation.ID, act)
	}
	if err != nil {
		return "", fmt.Errorf("send to conversation %s: %w", t.act.Conversation.ID, err)
	}
	return id, nil
}

// sendCard sends an Adaptive Card into the turn's conversation.
func (b *Bot) sendCard(ctx context.Context, t *turn, card any) (string, error) {
	return b.send(ctx, t, cardActivity(card))
}

// sendInvokeResult delivers what a verb handler answered when the action came as Action.Submit (a message):
// a card answer is sent as a new card, a message answer as text.
func (b *Bot) sendInvokeResult(ctx context.Context, t *turn, resp *botframework.InvokeResponse) error {
	if resp == nil || resp.Body == nil {
		return nil
	}
	raw, err := json.Marshal(resp.Body)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	var body struct {
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	switch body.Type {
	case adaptiveCardContentType:
		_, err = b.sendCard(ctx, t, body.Value)
	default:
		var text string
		if json.Unmarshal(body.Value, &text) != nil || text == "" {
			return nil
		}
		_, err = b.send(ctx, t, textActivity(text))
	}
	return err
}
