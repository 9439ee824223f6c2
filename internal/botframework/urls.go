package botframework

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/accessbot/accessbot/internal/netx"
)

// parseHTTPURL parses raw as an absolute http or https URL with a host.
func parseHTTPURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q does not parse: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("url %q: scheme must be http or https, got %q", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("url %q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("url %q must not carry user information", u.Redacted())
	}
	return u, nil
}

// checkNoQuery rejects a serviceUrl with a query or fragment, which cannot be joined with API paths.
func checkNoQuery(raw string, u *url.URL) error {
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("serviceUrl %q must not have a query or fragment", raw)
	}
	return nil
}

// CheckServiceURL is the default outbound serviceUrl check: https for any host, plain http only for a
// loopback host (a local test connector). Bearer tokens are therefore never sent in clear text off the
// machine.
func CheckServiceURL(raw string) error {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return fmt.Errorf("serviceUrl: %w", err)
	}
	if u.Scheme == "http" && !netx.IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("serviceUrl %q: plain http is allowed only for loopback hosts", raw)
	}
	return checkNoQuery(raw, u)
}

// CheckLoopbackServiceURL accepts only http(s) URLs whose host is loopback (127.0.0.0/8, ::1,
// localhost). It is the serviceUrl check of the --insecure-dev mode.
func CheckLoopbackServiceURL(raw string) error {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return fmt.Errorf("serviceUrl: %w", err)
	}
	if !netx.IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("serviceUrl %q: host %q is not loopback (insecure dev mode accepts only 127.0.0.0/8, ::1 and localhost)", raw, u.Hostname())
	}
	return checkNoQuery(raw, u)
}

// checkMetadataURL accepts https URLs, and http only on loopback (a local OpenID server in tests).
func checkMetadataURL(raw string) error {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return err
	}
	if u.Scheme == "http" && !netx.IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("url %q: plain http is allowed only for loopback hosts", raw)
	}
	return nil
}

// sameServiceURL compares two serviceUrls case-insensitively, ignoring trailing slashes.
func sameServiceURL(a, b string) bool {
	a = strings.TrimRight(strings.TrimSpace(a), "/")
	b = strings.TrimRight(strings.TrimSpace(b), "/")
	return a != "" && strings.EqualFold(a, b)
}
