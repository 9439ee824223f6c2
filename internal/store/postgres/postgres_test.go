package postgres_test

import (
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/store/postgres"
	"github.com/accessbot/accessbot/internal/store/postgres/pgtest"
	"github.com/accessbot/accessbot/internal/store/storetest"
)

func open(t *testing.T) store.Backend {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestContract runs the storage contract suite against PostgreSQL, each test in its own schema.
func TestContract(t *testing.T) {
	storetest.Run(t, open)
}

// TestContractFaults runs the contract's failure cases against PostgreSQL: a trigger refuses completions
// (Break) until it is dropped (Mend); claims and renewals still go through.
func TestContractFaults(t *testing.T) {
	storetest.RunFaults(t, func(t *testing.T) storetest.Faults {
		url := pgtest.URL(t)
		s := openReplicas(t, url, 1)[0]
		return storetest.Faults{Backend: s,
			Break: func(t *testing.T) { refuseCompletions(t, url) },
			Mend:  func(t *testing.T) { allowCompletions(t, url) },
		}
	})
}

// TestOpenConcurrently: replicas starting together on an empty schema migrate once and all open.
func TestOpenConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 2})
			if err == nil {
				err = s.Ping(context.Background())
				_ = s.Close()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	s, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	files, err := fs.Glob(postgres.Migrations(), "*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("embedded migrations = %v, %v", files, err)
	}
	if v, err := s.SchemaVersion(context.Background()); err != nil || v != int64(len(files)) {
		t.Fatalf("SchemaVersion = %d, %v; want %d (every embedded migration)", v, err, len(files))
	}
}

// TestOpenErrorsHidePassword: a failed connection names the server but never the password.
func TestOpenErrorsHidePassword(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"refused", "postgres://bob:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"},
		{"bad url", "postgres://bob:s3cr3t-pw@127.0.0.1:notaport/db"},
	} {
		_, err := postgres.Open(context.Background(), tc.url, postgres.Options{})
		if err == nil {
			t.Fatalf("%s: Open succeeded", tc.name)
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("%s: error leaks the password: %v", tc.name, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://bot:pw1@db:5432/a?sslmode=require", "postgres://bot:xxxxx@db:5432/a?sslmode=require"},
		{"postgres://bot@db/a?password=pw2&sslmode=require", "postgres://bot@db/a?password=xxxxx&sslmode=require"},
		{"not a url", "(unparseable database URL)"},
	} {
		if got := postgres.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestStatementTimeoutAndPoolSize: Options reach the server (statement_timeout) and the pool.
func TestStatementTimeoutAndPoolSize(t *testing.T) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.URL(t), postgres.Options{StatementTimeout: 200 * time.Millisecond, MaxConns: 3})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = s.Close() }()
	if got := s.Pool().Config().MaxConns; got != 3 {
		t.Errorf("pool size %d, want 3", got)
	}
	if _, err := s.Pool().Exec(ctx, "SELECT pg_sleep(2)"); err == nil || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("a 2 s statement with a 200 ms timeout: %v, want a statement timeout", err)
	}
}
