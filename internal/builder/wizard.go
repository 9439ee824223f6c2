package builder

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accessbot/accessbot/internal/store"
)

// Store keeps one draft per admin; every change is a compare-and-swap (internal/store's UpdateKV), so two
// clicks or two replicas never lose or double an update.
type Store interface {
	UpdateKV(ctx context.Context, bucket, key string, fn func(raw []byte) ([]byte, error)) error
}

// Bucket is the store bucket of drafts.
const Bucket = "builder.drafts"

// CreatingTimeout is how long a draft stays "creating" before another click may take it over (its holder
// died part-way; Create continues from what Made records).
const CreatingTimeout = 2 * time.Minute

var (
	// ErrStale: the card belongs to a wizard that was closed, finished or replaced by a newer one.
	ErrStale = errors.New("this package wizard was closed or replaced by a newer one; start again with /package new")
	// ErrBusy: Create is running for this draft right now.
	ErrBusy = errors.New("this package is being created right now; wait a moment")
)

// Key is the draft key of an admin.
func Key(tenantID, adminID string) string {
	return strings.ToLower(tenantID + "|" + adminID)
}

// NewID returns a random draft id.
func NewID() (string, error) {
	var raw [12]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate draft id: %w", err)
	}
	return hex.EncodeToString(raw[:]), nil
}

// Start stores d as the admin's draft, replacing any earlier one (whose cards become stale).
func Start(ctx context.Context, s Store, d Draft) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode draft: %w", err)
	}
	if err := s.UpdateKV(ctx, Bucket, Key(d.TenantID, d.AdminID), func([]byte) ([]byte, error) { return raw, nil }); err != nil {
		return fmt.Errorf("store draft: %w", err)
	}
	return nil
}

// Update changes the admin's draft id with fn (compare-and-swap; fn may run more than once and must only
// change d). ErrStale when the admin has no draft with that id. It returns the draft as stored.
func Update(ctx context.Context, s Store, tenantID, adminID, id string, fn func(d *Draft) error) (Draft, error) {
	var out Draft
	err := s.UpdateKV(ctx, Bucket, Key(tenantID, adminID), func(raw []byte) ([]byte, error) {
		if raw == nil {
			return nil, ErrStale
		}
		var d Draft
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, fmt.Errorf("decode draft: %w", err)
		}
		if id != "" && d.ID != id {
			return nil, ErrStale
		}
		if err := fn(&d); err != nil {
			if errors.Is(err, store.ErrNoChange) {
				out = d
			}
			return nil, err
		}
		out = d
		return json.Marshal(d)
	})
	if err != nil {
		return Draft{}, fmt.Errorf("update package draft: %w", err)
	}
	return out, nil
}

// Load returns the admin's draft (ErrStale when there is none or its id is not id; id "" takes any).
func Load(ctx context.Context, s Store, tenantID, adminID, id string) (Draft, error) {
	return Update(ctx, s, tenantID, adminID, id, func(*Draft) error { return store.ErrNoChange })
}

// Close deletes the admin's draft id (cancel, or after it was created). A missing draft is not an error.
func Close(ctx context.Context, s Store, tenantID, adminID, id string) error {
	err := s.UpdateKV(ctx, Bucket, Key(tenantID, adminID), func(raw []byte) ([]byte, error) {
		if raw == nil {
			return nil, store.ErrNoChange
		}
		var d Draft
		if err := json.Unmarshal(raw, &d); err == nil && id != "" && d.ID != id {
			return nil, ErrStale
		}
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("close package draft: %w", err)
	}
	return nil
}

// Claim marks the draft as being created (compare-and-swap): ErrBusy while another Create runs (unless it
// has been silent for CreatingTimeout), ErrStale for a finished or unknown draft.
func Claim(ctx context.Context, s Store, tenantID, adminID, id string, now time.Time) (Draft, error) {
	return Update(ctx, s, tenantID, adminID, id, func(d *Draft) error {
		switch d.State {
		case StateCreating:
			if now.Sub(d.Updated) < CreatingTimeout {
				return ErrBusy
			}
		case StateDone, StateUndone:
			return ErrStale
		}
		d.State, d.Updated = StateCreating, now
		return nil
	})
}
