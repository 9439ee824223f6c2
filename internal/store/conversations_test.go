package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/testkit"
)

func TestPutConversationValidation(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	tests := []struct {
		name   string
		mutate func(*ConversationRef)
		field  string
	}{
		{"missing tenant", func(r *ConversationRef) { r.TenantID = "" }, "tenantId"},
		{"missing aad id", func(r *ConversationRef) { r.AADObjectID = "" }, "aadObjectId"},
		{"missing conversation", func(r *ConversationRef) { r.ConversationID = "" }, "conversationId"},
		{"missing service url", func(r *ConversationRef) { r.ServiceURL = "" }, "serviceUrl"},
		{"relative service url", func(r *ConversationRef) { r.ServiceURL = "/v3/conversations" }, "serviceUrl"},
		{"ftp service url", func(r *ConversationRef) { r.ServiceURL = "ftp://example.com/" }, "serviceUrl"},
		{"nul in tenant", func(r *ConversationRef) { r.TenantID = "a\x00b" }, "tenantId"},
		{"oversized aad id", func(r *ConversationRef) { r.AADObjectID = strings.Repeat("x", maxKeyLen+1) }, "aadObjectId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ref := validRef()
			tc.mutate(&ref)
			err := s.PutConversation(ctx, ref)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("PutConversation error = %v, want a *ValidationError matching ErrInvalid", err)
			}
			if ve.Field != tc.field {
				t.Errorf("field = %q, want %q (error %q)", ve.Field, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name the field %q", err, tc.field)
			}
		})
	}
	// Nothing was written by the rejected calls.
	refs, err := s.Conversations(ctx, validRef().TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 0 {
		t.Errorf("rejected writes stored %d references", len(refs))
	}
}

func TestConversations(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock()
	s, _ := openTest(t, Options{Now: clock.Now})

	if _, err := s.Conversation(ctx, "t1", "u1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Conversation on empty store = %v, want ErrNotFound", err)
	}
	a := validRef()
	b := validRef()
	b.AADObjectID, b.UserID, b.ConversationID = "aaaaaaaa-0000-0000-0000-000000000002", "29:aaron", "a:2"
	other := validRef()
	other.TenantID = "22222222-2222-2222-2222-222222222222"
	// A tenant id that is a prefix of another must not leak into its listing.
	prefixTenant := validRef()
	prefixTenant.TenantID = a.TenantID + "9"
	for _, r := range []ConversationRef{b, a, other, prefixTenant} {
		if err := s.PutConversation(ctx, r); err != nil {
			t.Fatalf("PutConversation %s/%s: %v", r.TenantID, r.AADObjectID, err)
		}
	}
	got, err := s.Conversation(ctx, a.TenantID, a.AADObjectID)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.UpdatedAt = clock.Now()
	if got != want {
		t.Errorf("Conversation = %+v\nwant %+v", got, want)
	}

	// Replace: a new conversation id wins.
	a2 := a
	a2.ConversationID = "a:new"
	if err := s.PutConversation(ctx, a2); err != nil {
		t.Fatal(err)
	}
	list, err := s.Conversations(ctx, a.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].AADObjectID != a.AADObjectID || list[0].ConversationID != "a:new" ||
		list[1].AADObjectID != b.AADObjectID {
		t.Errorf("Conversations(%s) = %+v, want a (a:new) then b", a.TenantID, list)
	}
	if _, err := s.Conversation(ctx, other.TenantID, b.AADObjectID); !errors.Is(err, ErrNotFound) {
		t.Errorf("cross-tenant lookup = %v, want ErrNotFound", err)
	}
	if _, err := s.Conversations(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("Conversations(\"\") = %v, want ErrInvalid", err)
	}
}

func BenchmarkPutConversation(b *testing.B) {
	s, _ := openTest(b, Options{})
	ctx := context.Background()
	ref := validRef()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ref.AADObjectID = fmt.Sprintf("user-%d", i%1000)
		i++
		if err := s.PutConversation(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}
