package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accessbot/accessbot/internal/store"
	"github.com/accessbot/accessbot/internal/tenantsim"
)

// preload fills the bot's bbolt file in dir with n conversation references and n completed activity ids
// (what n users who each wrote recently leave behind), through the store's own API with many concurrent
// writers (they share commits), so the row measures a restart and a load at that size. The embedded
// simulator's state is laid down too (seeded, its signing key made), as a demo that ran before leaves it: a
// first start spends ~90 ms making the key and seeding, which a restart never does.
func preload(ctx context.Context, dir string, n int) error {
	if err := preloadSimulator(dir); err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, "accessbot.db"), store.Options{})
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	defer st.Close()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				ref := store.ConversationRef{TenantID: contoso, AADObjectID: fmt.Sprintf("preload-%08d", i),
					UserID: fmt.Sprintf("29:preload-%d", i), UserName: fmt.Sprintf("User %d", i), ConversationID: fmt.Sprintf("a:preload-%d", i),
					ServiceURL: "https://smba.trafficmanager.net/emea/", ChannelID: "msteams", ConversationType: "personal",
					BotID: "28:b0770000-0000-4000-8000-000000000001", Locale: "en-US", UpdatedAt: time.Now().UTC()}
				if err := st.PutConversation(ctx, ref); err != nil {
					errs <- err
					return
				}
				if err := st.MarkProcessed(ctx, fmt.Sprintf("msteams|a:preload-%d|f:%d", i, i), nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	return nil
}

// preloadSimulator creates the simulator's state file in dir, as `accessbot demo` does on its first start.
func preloadSimulator(dir string) error {
	// The URL is only used to answer requests (links, token issuers), none of which this makes.
	sim, err := tenantsim.New(tenantsim.Options{Path: filepath.Join(dir, "tenantsim.db"), BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		return fmt.Errorf("preload the simulator: %w", err)
	}
	if err := sim.Close(); err != nil {
		return fmt.Errorf("preload the simulator: %w", err)
	}
	return nil
}
