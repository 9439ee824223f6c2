package netx

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIsLoopbackHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"localhost.", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"[::1]", true},
		{"::ffff:127.0.0.1", true}, // IPv4-mapped 127.0.0.1 is the same socket on a dual-stack host
		{"0:0:0:0:0:0:0:1", true},
		{"127.evil.example", false},
		{"127.0.0.1.nip.io", false},
		{"localhost.evil.example", false},
		{"evil-localhost", false},
		{"localhost..", false},
		{"[localhost]", false}, // brackets hold IP literals only
		{"[127.evil.example]", false},
		{"[::1", false},
		{"[]", false},
		{"[127.0.0.1]", true},
		{"::ffff:10.0.0.1", false},
		{"10.0.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"128.0.0.1", false},
		{"", false},
		{".", false},
	}
	for _, tt := range tests {
		if got := IsLoopbackHost(tt.host); got != tt.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

// TestTransportKeepsConcurrentConnections: 8 concurrent requesters, 20 rounds each, through one Transport reuse
// their connections: 8 are needed, a few more may be dialled while a finished request's connection is on its
// way back to the pool. With Go's default transport (2 idle per host) about 6 new ones are opened every round.
func TestTransportKeepsConcurrentConnections(t *testing.T) {
	tests := []struct {
		name    string
		rt      *http.Transport
		atMost  int
		atLeast int
	}{
		{"netx.Transport", Transport(), 16, 8},
		{"Go's default, for comparison", http.DefaultTransport.(*http.Transport).Clone(), 1 << 30, 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const workers, rounds = 8, 20
			var opened atomic.Int64
			var gate atomic.Pointer[chan struct{}]
			arrived := make(chan struct{}, workers)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				open := *gate.Load() // this round's gate: it opens once all its requests have arrived
				arrived <- struct{}{}
				<-open // so each round holds 8 connections at once
				_, _ = io.WriteString(w, "ok")
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					opened.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			defer tc.rt.CloseIdleConnections()
			client := &http.Client{Transport: tc.rt}
			for range rounds {
				var wg sync.WaitGroup
				open := make(chan struct{})
				gate.Store(&open)
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						resp, err := client.Get(srv.URL)
						if err != nil {
							t.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}()
				}
				for range workers {
					select {
					case <-arrived:
					case <-time.After(10 * time.Second):
						t.Fatal("the round's requests never all arrived")
					}
				}
				close(open)
				wg.Wait()
			}
			t.Logf("opened %d connections for %d requests", opened.Load(), workers*rounds)
			if n := int(opened.Load()); n > tc.atMost || n < tc.atLeast {
				t.Fatalf("opened %d connections for %d requests, want %d..%d", n, workers*rounds, tc.atLeast, tc.atMost)
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportHasGoDefaults: Transport keeps Go's timeouts and limits whether or not a program replaced
// http.DefaultTransport (then it cannot be cloned, and the defaults are built anew).
func TestTransportHasGoDefaults(t *testing.T) {
	goDefault := http.DefaultTransport.(*http.Transport)
	tests := []struct {
		name    string
		replace bool
	}{{"Go's default transport cloned", false}, {"http.DefaultTransport replaced", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.replace {
				http.DefaultTransport = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
				defer func() { http.DefaultTransport = goDefault }()
			}
			got := Transport()
			if got.Proxy == nil || got.DialContext == nil {
				t.Errorf("Proxy or DialContext unset")
			}
			type limits struct {
				ForceAttemptHTTP2                                           bool
				MaxIdleConns, MaxIdleConnsPerHost                           int
				IdleConnTimeout, TLSHandshakeTimeout, ExpectContinueTimeout time.Duration
			}
			want := limits{goDefault.ForceAttemptHTTP2, goDefault.MaxIdleConns, MaxIdleConnsPerHost,
				goDefault.IdleConnTimeout, goDefault.TLSHandshakeTimeout, goDefault.ExpectContinueTimeout}
			if have := (limits{got.ForceAttemptHTTP2, got.MaxIdleConns, got.MaxIdleConnsPerHost,
				got.IdleConnTimeout, got.TLSHandshakeTimeout, got.ExpectContinueTimeout}); have != want {
				t.Errorf("Transport() = %+v, want %+v", have, want)
			}
		})
	}
}
