package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Dump is the whole content of a store, for moving an installation to another backend (accessbot migrate).
type Dump struct {
	Conversations []ConversationRef
	Processed     []ProcessedEntry
	Cards         []CardRef
	Dialogs       []DialogEntry
	Records       []RecordEntry
	Outbox        []OutboxEntry
	DeadLetters   []OutboxItem
	Audit         []AuditEntry
	Requests      []Request
}

// ProcessedEntry is one processed activity id (the file holds no claims: they are kept in memory).
type ProcessedEntry struct {
	Key      string
	At       time.Time
	Response []byte
}

// DialogEntry is one pending dialog and when it was last written.
type DialogEntry struct {
	Key       string
	Value     json.RawMessage
	UpdatedAt time.Time
}

// RecordEntry is one generic JSON record.
type RecordEntry struct {
	Bucket, Key string
	Value       json.RawMessage
}

// OutboxEntry is one queued outbox item; LeasedUntil is when its current lease ends (zero: not leased).
type OutboxEntry struct {
	Item        OutboxItem
	LeasedUntil time.Time
}

// Counts returns the number of entries per table, in a fixed order, for dry runs and reports.
func (d *Dump) Counts() []TableCount {
	return []TableCount{
		{"conversations", len(d.Conversations)}, {"processed", len(d.Processed)}, {"cards", len(d.Cards)},
		{"dialogs", len(d.Dialogs)}, {"kv", len(d.Records)}, {"outbox", len(d.Outbox)},
		{"dead_letters", len(d.DeadLetters)}, {"audit", len(d.Audit)}, {"requests", len(d.Requests)},
	}
}

// TableCount is a table name and its number of rows.
type TableCount struct {
	Table string
	Rows  int
}

// Dump reads the whole store in one consistent snapshot. Leases are not copied (they expire anyway).
func (s *Store) Dump(ctx context.Context) (*Dump, error) {
	if s.wal != nil {
		if err := s.checkpointWAL(ctx); err != nil { // the completions still in the log only
			return nil, fmt.Errorf("dump store: %w", err)
		}
	}
	d := &Dump{}
	err := s.view(ctx, "dump store", func(tx *bbolt.Tx) error {
		steps := []struct {
			name []byte
			fn   func(k, v []byte) error
		}{
			{bucketConversations, decodeInto(&d.Conversations)},
			{bucketProcessedLog, func(k, v []byte) error {
				at, _, _ := splitLogKey(k)
				key, resp, err := decodeProcessed(v)
				if err != nil {
					return fmt.Errorf("processed %x: %w", k, err)
				}
				d.Processed = append(d.Processed, ProcessedEntry{Key: string(key), At: time.Unix(int64(at), 0).UTC(),
					Response: bytes.Clone(resp)})
				return nil
			}},
			{bucketCards, decodeInto(&d.Cards)},
			{bucketDialogs, func(k, v []byte) error {
				at, _ := time.Parse(time.RFC3339Nano, string(tx.Bucket(bucketDialogTimes).Get(k)))
				if at.IsZero() {
					at = s.now().UTC()
				}
				d.Dialogs = append(d.Dialogs, DialogEntry{Key: string(k), Value: bytes.Clone(v), UpdatedAt: at})
				return nil
			}},
			{bucketOutbox, func(_, v []byte) error {
				var rec outboxRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return err
				}
				d.Outbox = append(d.Outbox, OutboxEntry{Item: rec.Item, LeasedUntil: rec.LeasedUntil})
				return nil
			}},
			{bucketDeadLetters, decodeInto(&d.DeadLetters)},
			{bucketAudit, decodeInto(&d.Audit)},
			{bucketRequests, decodeInto(&d.Requests)},
		}
		for _, st := range steps {
			b, err := bucket(tx, st.name)
			if err != nil {
				return err
			}
			if err := b.ForEach(func(k, v []byte) error {
				if err := st.fn(k, v); err != nil {
					return fmt.Errorf("bucket %s key %q: %w", st.name, k, err)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			kv, ok := strings.CutPrefix(string(name), kvPrefix)
			if !ok {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				d.Records = append(d.Records, RecordEntry{Bucket: kv, Key: string(k), Value: bytes.Clone(v)})
				return nil
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func decodeInto[T any](out *[]T) func(k, v []byte) error {
	return func(_, v []byte) error {
		var rec T
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		*out = append(*out, rec)
		return nil
	}
}
