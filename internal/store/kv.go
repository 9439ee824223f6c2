package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"go.etcd.io/bbolt"
)

// ---- card references ----

// CardRef records the activity id of a card sent for a request to one recipient, so it can be updated later.
type CardRef struct {
	Key            string    `json:"key"`  // e.g. the request id
	Kind           string    `json:"kind"` // "status", "approval", …
	TenantID       string    `json:"tenantId,omitempty"`
	AADObjectID    string    `json:"aadObjectId,omitempty"`
	ConversationID string    `json:"conversationId"`
	ServiceURL     string    `json:"serviceUrl"`
	ActivityID     string    `json:"activityId"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// PutCard upserts the card reference identified by Key + Kind + TenantID + AADObjectID. Key, Kind,
// ConversationID, ActivityID and an absolute http(s) ServiceURL are required. A zero UpdatedAt is set to now.
func (s *Store) PutCard(ctx context.Context, ref CardRef) error {
	const op = "put card"
	if err := ValidateCard(ref); err != nil {
		return err
	}
	if ref.UpdatedAt.IsZero() {
		ref.UpdatedAt = s.now().UTC()
	}
	return s.putEncoded(ctx, op, bucketCards, joinKey(ref.Key, ref.Kind, ref.TenantID, ref.AADObjectID), ref)
}

// Cards returns every card reference stored under key (all kinds and recipients), ordered by kind, tenant, user.
func (s *Store) Cards(ctx context.Context, key string) ([]CardRef, error) {
	const op = "list cards"
	if err := checkKey(op, "key", key); err != nil {
		return nil, err
	}
	return listPrefix[CardRef](ctx, s, op, bucketCards, joinKey(key, ""))
}

// ---- dialogs ----

// DefaultDialogTTL is how long an untouched dialog (an open form, a pending confirmation or sign-in) is kept
// before RunMaintenance prunes it. Every dialog the bot keeps expires much sooner in its own terms.
const DefaultDialogTTL = 7 * 24 * time.Hour

// PutDialog stores v (JSON-encoded) as the pending dialog under key, replacing any previous one, and records
// when it was written (see PruneDialogs).
func (s *Store) PutDialog(ctx context.Context, key string, v any) error {
	const op = "put dialog"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	now := s.now().UTC()
	return s.batch(ctx, op, func(tx *bbolt.Tx) error {
		return putDialogs(tx, []DialogWrite{{Key: key, Value: raw}}, now, true)
	})
}

// putDialogs writes dialogs in tx, each with its write time at (the dialog-times index PruneDialogs reads); a
// dialog whose key is stored is replaced only when replace is set (else it keeps the stored one).
func putDialogs(tx *bbolt.Tx, dialogs []DialogWrite, at time.Time, replace bool) error {
	if len(dialogs) == 0 {
		return nil
	}
	values, times, err := dialogBuckets(tx)
	if err != nil {
		return err
	}
	stamp := []byte(at.Format(time.RFC3339Nano))
	for _, d := range dialogs {
		key := []byte(d.Key)
		if !replace && values.Get(key) != nil {
			continue
		}
		if err := values.Put(key, d.Value); err != nil {
			return fmt.Errorf("put dialog %s: %w", d.Key, err)
		}
		if err := times.Put(key, stamp); err != nil {
			return fmt.Errorf("put dialog %s write time: %w", d.Key, err)
		}
	}
	return nil
}

// Dialog decodes the pending dialog under key into out; a missing dialog is an error matching ErrNotFound.
func (s *Store) Dialog(ctx context.Context, key string, out any) error {
	if s.wal != nil {
		if raw, ok := s.wal.dialog(key); ok {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s: decode: %w", key, err)
			}
			return nil
		}
	}
	return s.getJSON(ctx, "get dialog", bucketDialogs, key, out)
}

// DeleteDialog removes the dialog under key; deleting a missing dialog is not an error.
func (s *Store) DeleteDialog(ctx context.Context, key string) error {
	const op = "delete dialog"
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.batch(ctx, op, func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketDialogs, bucketDialogTimes} {
			if b := tx.Bucket(name); b != nil {
				if err := b.Delete([]byte(key)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// putJSON stores v as JSON under a validated single-part key of bucket name.
func (s *Store) putJSON(ctx context.Context, op string, name []byte, key string, v any) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.putEncoded(ctx, op, name, []byte(key), v)
}

// putEncoded stores v as JSON under key (already validated) in bucket name, creating the bucket if needed,
// and returns once the write is committed.
func (s *Store) putEncoded(ctx context.Context, op string, name, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", op, err)
	}
	return s.batch(ctx, op, func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
		return b.Put(key, raw)
	})
}

func (s *Store) getJSON(ctx context.Context, op string, name []byte, key string, out any) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.view(ctx, op, func(tx *bbolt.Tx) error {
		var raw []byte
		if b := tx.Bucket(name); b != nil {
			raw = b.Get([]byte(key))
		}
		if raw == nil {
			return fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s: decode: %w", key, err)
		}
		return nil
	})
}

func (s *Store) deleteKey(ctx context.Context, op string, name []byte, key string) error {
	if err := checkKey(op, "key", key); err != nil {
		return err
	}
	return s.batch(ctx, op, func(tx *bbolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
}

// ---- generic JSON records ----

var bucketNameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,62}$`)

// validBucketName reports whether name matches bucketNameRE, checked by hand: every record operation asks, and
// the regular expression cost more than the rest of a read but the transaction.
func validBucketName(name string) bool {
	if len(name) == 0 || len(name) > 63 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func kvBucket(op, name string) ([]byte, error) {
	if !validBucketName(name) {
		return nil, invalid(op, "bucket", fmt.Sprintf("must match %s, got %q", bucketNameRE, name))
	}
	return []byte(kvPrefix + name), nil
}

// Put stores v (JSON-encoded) under bucket/key, creating the bucket on first use. Bucket names are lower-case
// letters, digits, '_', '.', '-' (starting with a letter, at most 63 bytes).
func (s *Store) Put(ctx context.Context, bucket, key string, v any) error {
	const op = "put record"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	return s.putJSON(ctx, op+" "+bucket, name, key, v)
}

// Get decodes the record bucket/key into out; a missing record is an error matching ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string, out any) error {
	const op = "get record"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	return s.getJSON(ctx, op+" "+bucket, name, key, out)
}

// Delete removes the record bucket/key; deleting a missing record is not an error.
func (s *Store) Delete(ctx context.Context, bucket, key string) error {
	const op = "delete record"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	return s.deleteKey(ctx, op+" "+bucket, name, key)
}

// List calls fn for every record of bucket whose key starts with prefix ("" for all), in key order. The
// records are read in one consistent snapshot; fn runs outside the transaction, so it may call the Store.
// An error from fn stops the listing and is returned wrapped.
func (s *Store) List(ctx context.Context, bucket, prefix string, fn func(key string, raw []byte) error) error {
	const op = "list records"
	name, err := kvBucket(op, bucket)
	if err != nil {
		return err
	}
	if fn == nil {
		return invalid(op, "fn", "is required")
	}
	var recs []Record
	err = s.view(ctx, op+" "+bucket, func(tx *bbolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return nil
		}
		return scanPrefix(b, []byte(prefix), func(k, v []byte) error {
			recs = append(recs, Record{string(k), bytes.Clone(v)})
			return nil
		})
	})
	if err != nil {
		return err
	}
	return EachRecord(ctx, op, bucket, recs, fn)
}
