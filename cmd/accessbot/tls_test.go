package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/accessbot/accessbot/internal/botframework"
)

// TestSystemCertPoolHonoursSSLCertFile checks that outbound HTTPS (here the Bot Framework token request) trusts
// the certificates named by SSL_CERT_FILE, as operators behind a TLS-inspecting proxy need. Go reads
// SSL_CERT_FILE once per process, so each case runs in a child process.
func TestSystemCertPoolHonoursSSLCertFile(t *testing.T) {
	if os.Getenv("ACCESSBOT_TLS_CHILD") != "" {
		tlsChild()
		return
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "tok"})
	}))
	defer srv.Close()
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(certFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		sslFile string
		wantOK  bool
	}{
		{"trusted through SSL_CERT_FILE", certFile, true},
		{"untrusted without it", filepath.Join(t.TempDir(), "missing.pem"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSystemCertPoolHonoursSSLCertFile$")
			cmd.Env = append(os.Environ(), "ACCESSBOT_TLS_CHILD=1", "ACCESSBOT_TLS_URL="+srv.URL, "SSL_CERT_FILE="+tc.sslFile, "SSL_CERT_DIR=/nonexistent")
			out, err := cmd.CombinedOutput()
			ok := err == nil && strings.Contains(string(out), "TOKEN-OK")
			if ok != tc.wantOK {
				t.Fatalf("token over TLS ok=%v, want %v; child said:\n%s", ok, tc.wantOK, out)
			}
			if !tc.wantOK && !strings.Contains(string(out), "certificate") {
				t.Fatalf("untrusted server failed for another reason:\n%s", out)
			}
		})
	}
}

// tlsChild fetches a Bot Framework token from ACCESSBOT_TLS_URL with the production token source.
func tlsChild() {
	src := botframework.NewClientCredentials(botframework.ClientCredentialsConfig{
		AuthorityHost: os.Getenv("ACCESSBOT_TLS_URL") + "/", TenantID: "tenant", ClientID: "app", ClientSecret: "secret",
	})
	if _, err := src.Token(context.Background()); err != nil {
		fmt.Println("TOKEN-FAILED:", err)
		os.Exit(1)
	}
	fmt.Println("TOKEN-OK")
}
