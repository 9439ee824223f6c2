// Package netx holds the network helpers that the production packages share: deciding whether a host is
// this machine (plain http, the insecure development mode and the development identity are allowed only for
// such hosts, so the check must be the same everywhere), and the HTTP transport of the outbound clients.
// (internal/tenantsim keeps its own code: it shares nothing with the production packages.)
package netx

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// MaxIdleConnsPerHost is how many idle keep-alive connections an outbound client keeps per host. Go's default
// is 2: when more requests to one host run at once (concurrent turns calling Graph or the Connector), every
// connection beyond the second is closed after its request and the next request pays a new TCP and TLS
// handshake.
const MaxIdleConnsPerHost = 64

// Transport returns a new HTTP transport with Go's defaults (proxy from the environment, dial and TLS
// timeouts, idle connections closed after 90 s, HTTP/2) that keeps up to MaxIdleConnsPerHost idle connections
// per host.
func Transport() *http.Transport {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else { // replaced by a program or a test: Go's defaults, as net/http declares http.DefaultTransport
		t = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	t.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	return t
}

// IsLoopbackHost reports whether host (a URL's Hostname() or the host of net.SplitHostPort, without a
// port) names this machine: "localhost" (any case, with or without the trailing root dot) or a loopback
// IP literal (127.0.0.0/8, ::1, also IPv4-mapped ::ffff:127.x.y.z, and a bracketed IP literal such as
// "[::1]"). A DNS name is never loopback because of its spelling: "127.evil.example" and
// "localhost.evil.example" resolve wherever their owners want.
func IsLoopbackHost(host string) bool {
	if len(host) > 2 && host[0] == '[' && host[len(host)-1] == ']' {
		return isLoopbackIP(host[1 : len(host)-1])
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "localhost" || isLoopbackIP(host)
}

func isLoopbackIP(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.IsLoopback()
}
