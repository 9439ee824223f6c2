package reviews

import (
	"context"
	"log/slog"
	"testing"

	"github.com/accessbot/accessbot/internal/entitlement"
)

// usersDir is a Directory that knows users by id and counts the reads.
type usersDir struct {
	Directory
	users map[string]entitlement.User
	reads int
}

func (d *usersDir) User(_ context.Context, id string) (entitlement.User, error) {
	d.reads++
	u, ok := d.users[id]
	if !ok {
		return u, entitlement.ErrNotFound
	}
	return u, nil
}

func TestGuestMatcher(t *testing.T) {
	dir := &usersDir{users: map[string]entitlement.User{
		"g1": {ID: "g1", Mail: "gus@fabrikam.example", UserType: "Guest"},
		"m1": {ID: "m1", Mail: "gus@fabrikam.example", UserType: "Member"},
		"g2": {ID: "g2", Mail: "nina@northwind.example", UserType: "Guest"},
	}}
	s := &Service{cfg: Config{Directory: dir}, log: slog.New(slog.DiscardHandler)}
	ext := func(id string) entitlement.Subject {
		return entitlement.Subject{ID: id, PrincipalName: id + "_x#EXT#@contoso.onmicrosoft.com"}
	}
	cases := []struct {
		name string
		who  GuestIdentity
		p    entitlement.Subject
		want bool
	}{
		{"brokered guest account", GuestIdentity{GuestIDs: []string{"G9"}}, entitlement.Subject{ID: "g9"}, true},
		{"guest whose mail is his address", GuestIdentity{Email: "Gus@Fabrikam.example"}, ext("g1"), true},
		{"another guest", GuestIdentity{Email: "gus@fabrikam.example"}, ext("g2"), false},
		{"a member with the same mail", GuestIdentity{Email: "gus@fabrikam.example"}, ext("m1"), false},
		{"not a #EXT# account: not read", GuestIdentity{Email: "gus@fabrikam.example"}, entitlement.Subject{ID: "g1", PrincipalName: "gus@contoso.example"}, false},
		{"unknown account", GuestIdentity{Email: "gus@fabrikam.example"}, ext("g404"), false},
		{"no address, no brokered account", GuestIdentity{}, ext("g1"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := guestMatcher{s: s, who: c.who, seen: map[string]bool{}}
			if got := m.match(context.Background(), c.p); got != c.want {
				t.Fatalf("match = %v, want %v", got, c.want)
			}
		})
	}
	// Each candidate account is read once, however many reviews name it.
	dir.reads = 0
	m := guestMatcher{s: s, who: GuestIdentity{Email: "gus@fabrikam.example"}, seen: map[string]bool{}}
	for range 3 {
		m.match(context.Background(), ext("g1"))
	}
	if dir.reads != 1 {
		t.Fatalf("read the account %d times, want once", dir.reads)
	}
}
