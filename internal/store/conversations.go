package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// ---- conversation references ----

// ConversationRef is what the bot needs to message a user proactively, keyed by tenant + AAD object id.
type ConversationRef struct {
	TenantID         string `json:"tenantId"`
	AADObjectID      string `json:"aadObjectId"`
	UserID           string `json:"userId,omitempty"` // Teams id, 29:…
	UserName         string `json:"userName,omitempty"`
	ConversationID   string `json:"conversationId"`
	ServiceURL       string `json:"serviceUrl"`
	ChannelID        string `json:"channelId,omitempty"`
	BotID            string `json:"botId,omitempty"`
	BotName          string `json:"botName,omitempty"`
	ConversationType string `json:"conversationType,omitempty"`
	// Locale is the user's Teams locale ("de-DE") from their last activity: proactive cards use it.
	Locale    string    `json:"locale,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// PutConversation stores (replaces) the reference for ref.TenantID + ref.AADObjectID. TenantID, AADObjectID,
// ConversationID and an absolute http(s) ServiceURL are required. A zero UpdatedAt is set to now. A reference
// equal to the stored one in everything but UpdatedAt is not rewritten (the bot remembers it on every turn).
func (s *Store) PutConversation(ctx context.Context, ref ConversationRef) error {
	const op = "put conversation"
	if err := ValidateConversation(ref); err != nil {
		return err
	}
	if ref.UpdatedAt.IsZero() {
		ref.UpdatedAt = s.now().UTC()
	}
	key := joinKey(ref.TenantID, ref.AADObjectID)
	if s.sameConversation(ctx, key, ref) {
		return nil // every turn remembers the reference; an unchanged one is not rewritten
	}
	return s.putEncoded(ctx, op, bucketConversations, key, ref)
}

// sameConversation reports whether the reference stored under key equals ref in everything but UpdatedAt.
// A read costs no lock and no fsync; it races harmlessly with a concurrent write (that write wins either way).
func (s *Store) sameConversation(ctx context.Context, key []byte, ref ConversationRef) bool {
	var old ConversationRef
	found, err := s.getRecord(ctx, "get conversation", bucketConversations, key, &old)
	return err == nil && found && SameConversation(old, ref)
}

// Conversation returns the reference stored for tenantID + aadObjectID, or an error matching ErrNotFound.
func (s *Store) Conversation(ctx context.Context, tenantID, aadObjectID string) (ConversationRef, error) {
	const op = "get conversation"
	var ref ConversationRef
	if err := checkKey(op, "tenantId", tenantID); err != nil {
		return ref, err
	}
	if err := checkKey(op, "aadObjectId", aadObjectID); err != nil {
		return ref, err
	}
	found, err := s.getRecord(ctx, op, bucketConversations, joinKey(tenantID, aadObjectID), &ref)
	if err == nil && !found {
		err = fmt.Errorf("%s: tenant %s user %s: %w", op, tenantID, aadObjectID, ErrNotFound)
	}
	return ref, err
}

// Conversations lists every reference stored for tenantID, ordered by AAD object id.
func (s *Store) Conversations(ctx context.Context, tenantID string) ([]ConversationRef, error) {
	const op = "list conversations"
	if err := checkKey(op, "tenantId", tenantID); err != nil {
		return nil, err
	}
	return listPrefix[ConversationRef](ctx, s, op, bucketConversations, joinKey(tenantID, ""))
}

// getRecord decodes the record under key of core bucket name into out in one read transaction; found is
// false, and out untouched, when there is none.
func (s *Store) getRecord(ctx context.Context, op string, name, key []byte, out any) (found bool, err error) {
	err = s.view(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, name)
		if err != nil {
			return err
		}
		raw := b.Get(key)
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, out)
	})
	return found, err
}

// listPrefix decodes every record of core bucket name whose key starts with prefix, in key order.
func listPrefix[T any](ctx context.Context, s *Store, op string, name, prefix []byte) ([]T, error) {
	var out []T
	err := s.view(ctx, op, func(tx *bbolt.Tx) error {
		b, err := bucket(tx, name)
		if err != nil {
			return err
		}
		return scanPrefix(b, prefix, func(_, v []byte) error {
			var rec T
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rec)
			return nil
		})
	})
	return out, err
}

func scanPrefix(b *bbolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return fmt.Errorf("key %q: %w", k, err)
		}
	}
	return nil
}
