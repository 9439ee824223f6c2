package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestCards(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	base := CardRef{Key: "req-1", Kind: "approval", TenantID: "t", AADObjectID: "u1", ConversationID: "c1",
		ServiceURL: "https://smba.example/", ActivityID: "act-1"}

	bad := []struct {
		name   string
		mutate func(*CardRef)
		field  string
	}{
		{"no key", func(c *CardRef) { c.Key = "" }, "key"},
		{"no kind", func(c *CardRef) { c.Kind = "" }, "kind"},
		{"no conversation", func(c *CardRef) { c.ConversationID = "" }, "conversationId"},
		{"no activity", func(c *CardRef) { c.ActivityID = "" }, "activityId"},
		{"bad service url", func(c *CardRef) { c.ServiceURL = "smba" }, "serviceUrl"},
		{"nul in aad", func(c *CardRef) { c.AADObjectID = "\x00" }, "aadObjectId"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mutate(&c)
			var ve *ValidationError
			if err := s.PutCard(ctx, c); !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("PutCard = %v, want validation error on %s", err, tc.field)
			}
		})
	}

	upd := base
	upd.ActivityID = "act-1b" // same key+kind+recipient: upsert
	status := base
	status.Kind, status.ActivityID = "status", "act-2"
	u2 := base
	u2.AADObjectID, u2.ActivityID = "u2", "act-3"
	otherReq := base
	otherReq.Key = "req-10" // shares the "req-1" prefix but not the separator
	for _, c := range []CardRef{base, upd, status, u2, otherReq} {
		if err := s.PutCard(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Cards(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.Kind+"/"+c.AADObjectID+"="+c.ActivityID)
	}
	if want := "approval/u1=act-1b,approval/u2=act-3,status/u1=act-2"; strings.Join(ids, ",") != want {
		t.Errorf("Cards(req-1) = %s, want %s", strings.Join(ids, ","), want)
	}
	if got, err := s.Cards(ctx, "req-unknown"); err != nil || len(got) != 0 {
		t.Errorf("Cards(unknown) = %v, %v; want empty", got, err)
	}
}

func TestDialogs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	type dialog struct {
		Step    string `json:"step"`
		Package string `json:"package"`
	}
	var out dialog
	if err := s.Dialog(ctx, "conv-1", &out); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Dialog(missing) = %v, want ErrNotFound", err)
	}
	in := dialog{Step: "justification", Package: "eeeeeeee-0000-0000-0000-000000000002"}
	if err := s.PutDialog(ctx, "conv-1", in); err != nil {
		t.Fatal(err)
	}
	if err := s.Dialog(ctx, "conv-1", &out); err != nil || out != in {
		t.Fatalf("Dialog = %+v, %v; want %+v", out, err, in)
	}
	if err := s.PutDialog(ctx, "conv-1", make(chan int)); err == nil {
		t.Error("PutDialog accepted a value JSON cannot encode")
	}
	if err := s.DeleteDialog(ctx, "conv-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Dialog(ctx, "conv-1", &out); !errors.Is(err, ErrNotFound) {
		t.Errorf("Dialog after delete = %v, want ErrNotFound", err)
	}
	if err := s.DeleteDialog(ctx, "conv-1"); err != nil {
		t.Errorf("DeleteDialog(missing) = %v, want nil", err)
	}
}

func TestRecords(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t, Options{})
	type rec struct{ N int }

	for _, name := range []string{"", "Requests", "1abc", "a/b", "kv/x", strings.Repeat("a", 64), "a b"} {
		var ve *ValidationError
		if err := s.Put(ctx, name, "k", rec{1}); !errors.As(err, &ve) || ve.Field != "bucket" {
			t.Errorf("Put(bucket %q) = %v, want validation error on bucket", name, err)
		}
	}
	// A user bucket named like a core bucket is separate from it.
	if err := s.Put(ctx, "audit", "k", rec{1}); err != nil {
		t.Fatalf("Put(audit bucket): %v", err)
	}
	if entries, err := s.Audit(ctx, AuditQuery{}); err != nil || len(entries) != 0 {
		t.Fatalf("user bucket \"audit\" leaked into the audit log: %v %v", entries, err)
	}

	var out rec
	if err := s.Get(ctx, "requests", "r1", &out); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get from missing bucket = %v, want ErrNotFound", err)
	}
	for i, k := range []string{"user1/r2", "user1/r1", "user2/r3", "user10/r4"} {
		if err := s.Put(ctx, "requests", k, rec{i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Get(ctx, "requests", "user1/r1", &out); err != nil || out.N != 1 {
		t.Fatalf("Get = %+v, %v; want N=1", out, err)
	}
	var keys []string
	err := s.List(ctx, "requests", "user1/", func(key string, raw []byte) error {
		var r rec
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		keys = append(keys, fmt.Sprintf("%s=%d", key, r.N))
		// fn runs outside the transaction, so writing from it must not deadlock.
		return s.Put(ctx, "seen", key, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "user1/r1=1,user1/r2=0" {
		t.Errorf("List(user1/) = %s", got)
	}
	stop := errors.New("stop")
	calls := 0
	err = s.List(ctx, "requests", "", func(string, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with failing fn = %v after %d calls, want stop after 1", err, calls)
	}
	if err := s.List(ctx, "nothing-here", "", func(string, []byte) error { return stop }); err != nil {
		t.Errorf("List(missing bucket) = %v, want nil", err)
	}
	if err := s.Delete(ctx, "requests", "user1/r1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Get(ctx, "requests", "user1/r1", &out); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
}

func TestValidBucketNameIsTheRegexp(t *testing.T) {
	names := []string{"", "a", "service_urls", "a.b-c_d9", "A", "9a", "_a", "a b", "ab/", "aé", "a\n", "z" + strings.Repeat("x", 62),
		"z" + strings.Repeat("x", 63), "a-", "a.", "abc\x00", "\u00e9"}
	for _, n := range names {
		if got, want := validBucketName(n), bucketNameRE.MatchString(n); got != want {
			t.Errorf("validBucketName(%q) = %v, the regexp says %v", n, got, want)
		}
	}
}
