package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// TurnWrites is what CompleteTurn writes in the transaction of a turn's completion, besides the answer, so
// that a turn costs one durable write.
type TurnWrites struct {
	// Ref is the conversation reference of the turn's user; nil for none. It is stored unless the stored one
	// equals it in everything but UpdatedAt; an empty UserName or Locale keeps the stored one; a zero
	// UpdatedAt is the time of CompleteTurn. When the completion cannot be written, the reference waits with
	// the pending answer and is written with it (unless a newer one was stored meanwhile, see KeepNewerRef).
	Ref *ConversationRef
	// Dialogs are the dialogs the turn's answer points at (a request form handed out in an invoke answer),
	// written as PutDialog writes them, together with the completion: the answer and its dialogs become
	// durable at once. When the completion finds the activity completed already (the first completion wins),
	// a dialog whose key is stored keeps the stored value and only new keys are written. When the completion
	// cannot be written, the dialogs wait with the pending answer and are written with it; meanwhile a
	// redelivery waits (as on a running turn) instead of replaying an answer whose dialog is not stored.
	Dialogs []DialogWrite
	// KeepNewerRef leaves a stored reference whose UpdatedAt is later than Ref's (a later turn of the user
	// wrote it). PendingAnswers.Flush sets it: the reference of an answer whose completion waited is written
	// after its turn, maybe after the user's next turn wrote a newer one.
	KeepNewerRef bool
}

// Stamped returns w with a copy of its reference whose zero UpdatedAt is now (the caller's is not changed),
// so the time a reference was seen travels with it, also when its completion is written later.
func (w TurnWrites) Stamped(now time.Time) TurnWrites {
	if w.Ref != nil && w.Ref.UpdatedAt.IsZero() {
		r := *w.Ref
		r.UpdatedAt = now
		w.Ref = &r
	}
	return w
}

// DialogWrite is one dialog of TurnWrites: Value (JSON) under Key, as PutDialog stores it.
type DialogWrite struct {
	Key   string
	Value json.RawMessage
}

// NewDialogWrite encodes v as the dialog under key (the key is checked by CompleteTurn).
func NewDialogWrite(key string, v any) (DialogWrite, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return DialogWrite{}, fmt.Errorf("encode dialog %s: %w", key, err)
	}
	return DialogWrite{Key: key, Value: raw}, nil
}

// CheckTurnWrites refuses what CompleteTurn must not write: a reference PutConversation would refuse, a dialog
// key PutDialog would refuse, a key given twice, or a value that is not JSON. Backends share it, so they
// refuse the same (with nothing written).
func CheckTurnWrites(op string, w TurnWrites) error {
	if w.Ref != nil {
		if err := ValidateConversation(*w.Ref); err != nil {
			return err
		}
	}
	for i, d := range w.Dialogs {
		if err := checkKey(op, "dialog key", d.Key); err != nil {
			return err
		}
		if slices.ContainsFunc(w.Dialogs[:i], func(o DialogWrite) bool { return o.Key == d.Key }) {
			return invalid(op, "dialog key", fmt.Sprintf("%q is given twice", d.Key))
		}
		if len(d.Value) == 0 || !json.Valid(d.Value) {
			return invalid(op, "dialog value", fmt.Sprintf("of %q must be valid JSON", d.Key))
		}
	}
	return nil
}

// clone copies w (its reference, and its dialogs' keys and values), so a pending answer does not alias the
// caller's reference or buffers.
func (w TurnWrites) clone() TurnWrites {
	if w.Ref != nil {
		r := *w.Ref
		w.Ref = &r
	}
	if len(w.Dialogs) == 0 {
		w.Dialogs = nil
		return w
	}
	dialogs := make([]DialogWrite, len(w.Dialogs))
	for i, d := range w.Dialogs {
		dialogs[i] = DialogWrite{Key: d.Key, Value: slices.Clone(d.Value)}
	}
	w.Dialogs = dialogs
	return w
}

// dialogsSize is the bytes of dialogs' keys and values.
func dialogsSize(dialogs []DialogWrite) int {
	n := 0
	for _, d := range dialogs {
		n += len(d.Key) + len(d.Value)
	}
	return n
}
