package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// freeLoopbackAddr is a free 127.0.0.1 port for the bot's --debug-addr (pprof).
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a port for the profiler: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// profileRow starts the CPU profile of a row's measured window (nothing when debugAddr is ""); the returned func
// waits for it and then saves the heap profile, both at prefix-cpu.pprof and prefix-heap.pprof.
func profileRow(ctx context.Context, debugAddr string, d time.Duration, prefix string) func() error {
	if debugAddr == "" {
		return func() error { return nil }
	}
	cpuDone := startCPUProfile(ctx, debugAddr, d, prefix+"-cpu.pprof")
	return func() error {
		if err := cpuDone(); err != nil {
			return err
		}
		return fetchProfile(ctx, "http://"+debugAddr+"/debug/pprof/heap", 0, prefix+"-heap.pprof")
	}
}

// startCPUProfile fetches a CPU profile of the bot over d into path; the returned func waits for it.
func startCPUProfile(ctx context.Context, debugAddr string, d time.Duration, path string) func() error {
	done := make(chan error, 1)
	go func() {
		secs := max(int(d/time.Second), 1)
		done <- fetchProfile(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debugAddr, secs), time.Duration(secs)*time.Second, path)
	}()
	return func() error { return <-done }
}

// profileGrace is how much longer than the profile it asks for fetchProfile waits for the bot to answer.
const profileGrace = 30 * time.Second

// fetchProfile saves what url answers (a pprof profile covering span, 0 for a snapshot) at path; a bot that
// does not answer within span plus profileGrace is an error, not a hung benchmark.
func fetchProfile(ctx context.Context, url string, span time.Duration, path string) error {
	ctx, cancel := context.WithTimeout(ctx, span+profileGrace)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch profile %s: %s", url, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("save profile %s: %w", path, err)
	}
	return f.Close()
}
