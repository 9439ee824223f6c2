// Package netx holds the one network helper that the production packages share: deciding whether a host
// is this machine. Plain http, the insecure development mode and the development identity are allowed
// only for such hosts, so the check must be the same everywhere. (internal/tenantsim keeps its own code:
// it shares nothing with the production packages.)
package netx

import (
	"net"
	"strings"
)

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
