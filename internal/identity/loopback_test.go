package identity

import (
	"strings"
	"testing"
)

// TestLoopbackMeansAnIPOrLocalhost: plain http (which would carry the client secret and user assertions in
// clear text) and the development identity are allowed only for hosts that really are this machine. A DNS
// name that merely starts with "127." resolves wherever its owner wants.
func TestLoopbackMeansAnIPOrLocalhost(t *testing.T) {
	hosts := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"127.evil.example", false},
		{"127.0.0.1.nip.io", false},
		{"localhost.evil.example", false},
		{"10.0.0.1", false},
		{"", false},
	}
	for _, h := range hosts {
		if got := isLoopback(h.host); got != h.want {
			t.Errorf("isLoopback(%q) = %v, want %v", h.host, got, h.want)
		}
	}

	configs := []struct {
		name string
		run  func() error
	}{
		{"app credential over http to a 127.-named host", func() error {
			_, err := NewAppCredential(AppConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: "http://127.evil.example:3979/"})
			return err
		}},
		{"on-behalf-of over http to a 127.-named host", func() error {
			_, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: "http://127.0.0.1.nip.io/"})
			return err
		}},
		{"dev identity against a 127.-named host", func() error {
			o, err := NewOBO(OBOConfig{TenantID: tenantA, ClientID: appID, ClientSecret: secret, AuthorityHost: "http://127.0.0.1:3979"})
			if err != nil {
				t.Fatalf("NewOBO on loopback: %v", err)
			}
			_, err = NewDevIdentity(DevConfig{InsecureDev: true, SimulatorURL: "http://127.evil.example:3979", OBO: o})
			return err
		}},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil || !(strings.Contains(err.Error(), "loopback") || strings.Contains(err.Error(), "https")) {
				t.Fatalf("err = %v, want a refusal naming loopback/https", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
}
