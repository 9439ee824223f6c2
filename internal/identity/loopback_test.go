package identity

import (
	"strings"
	"testing"
)

// TestLoopbackMeansAnIPOrLocalhost: plain http (which would carry the client secret and user assertions in
// clear text) and the development identity are allowed only for hosts that really are this machine. A DNS
// name that merely starts with "127." resolves wherever its owner wants. (The host check itself,
// netx.IsLoopbackHost, has its table in internal/netx.)
func TestLoopbackMeansAnIPOrLocalhost(t *testing.T) {
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
