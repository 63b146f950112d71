package export

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestNetworkFailuresToldApart: a host name that does not resolve, a
// refused connection, an untrusted TLS certificate and a server that never
// answers each get their own errorCode and words, through the real HTTP
// client; only the certificate is not retried.
func TestNetworkFailuresToldApart(t *testing.T) {
	refused := func() string { // a loopback port nobody listens on
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr
	}()
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(tlsSrv.Close)
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	noSuchHost := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}}
		},
	}}

	tests := []struct {
		name     string
		base     string
		client   *http.Client
		code     string
		words    string
		attempts int
	}{
		{"dns", "http://api.example.invalid", noSuchHost, CodeDNS, "host name does not resolve", 2},
		{"refused", refused, nil, CodeRefused, "connection refused", 2},
		{"tls", tlsSrv.URL, nil, CodeTLS, "tls certificate not trusted", 1},
		{"timeout", "http://" + silent.Addr().String(), nil, CodeTimeout, "timeout", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewTestClient(t, tt.base, tokenCreds, func(cfg *Config) {
				cfg.MaxAttempts = 2
				cfg.RequestTimeout = 300 * time.Millisecond
				cfg.HTTPClient = tt.client
			})
			_, err := c.Details(context.Background(), "0123456789abcdef0123456789abcdef")
			if err == nil {
				t.Fatal("no error")
			}
			if got := ErrorCode(err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q (%v)", got, tt.code, err)
			}
			if !strings.Contains(err.Error(), tt.words) {
				t.Errorf("error %q does not say %q", err, tt.words)
			}
			if errors.Is(err, ErrAuth) {
				t.Errorf("a network failure reads as refused authentication: %v", err)
			}
			if got := Attempts(err); got != tt.attempts {
				t.Errorf("attempts %d, want %d", got, tt.attempts)
			}
		})
	}
}
