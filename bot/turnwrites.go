package bot

import (
	"context"
	"slices"
	"sync"

	"github.com/accessbot/accessbot/internal/store"
)

// turnWrites collects the dialogs a turn writes with its completion (store.TurnWrites.Dialogs): those its
// invoke answer points at. A turn that ends in a completion (OnActivity claimed its activity) has one; it is
// safe for concurrent use.
type turnWrites struct {
	mu      sync.Mutex
	pending []store.DialogWrite
}

// put adds d, replacing a dialog the turn gave under the same key before.
func (w *turnWrites) put(d store.DialogWrite) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.IndexFunc(w.pending, func(o store.DialogWrite) bool { return o.Key == d.Key }); i >= 0 {
		w.pending[i] = d
		return
	}
	w.pending = append(w.pending, d)
}

// dialogs returns the dialogs to write with the completion (nil for none).
func (w *turnWrites) dialogs() []store.DialogWrite {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.pending)
}

// putAnswerDialog stores the dialog under key that a card the turn answers with points at (a request form).
// answered says the card is the turn's answer (its verb's InvokeResponse), not a message sent during the turn.
// In an invoke turn that ends in a completion such a card goes back in the invoke's HTTP response, which is
// sent only after the completion is durable; so the dialog is written in the completion's transaction (one
// durable write for the turn), and nobody can click the card before its dialog is stored. Otherwise (a
// message turn, whose answer is sent through the Connector during the turn; a card sent mid-turn; a turn
// without completion) the dialog is written now.
func (b *Bot) putAnswerDialog(ctx context.Context, t *turn, answered bool, key string, v any) error {
	if !answered || t.writes == nil || t.act.Type != activityInvoke {
		return b.cfg.Store.PutDialog(ctx, key, v)
	}
	d, err := store.NewDialogWrite(key, v)
	if err != nil {
		return err
	}
	t.writes.put(d)
	return nil
}
