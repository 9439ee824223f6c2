package netx

import "testing"

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
