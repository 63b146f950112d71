package export

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "pre-issued-token-0123456789"

// tokenCreds are the credentials of a client of a test server that checks
// no login: a pre-issued token.
var tokenCreds = Credentials{Token: testToken}

// NewTestClient builds a client for a test server at base (a handler of the
// test's own or the simulator) with creds, fast retries and downloadurls
// links; mod, if not nil, changes the config first. Exported for the
// export_test package's tests.
func NewTestClient(t testing.TB, base string, creds Credentials, mod func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:        base,
		Credentials:    creds,
		Rate:           1000,
		RequestTimeout: 5 * time.Second,
		RetryBase:      time.Millisecond,
		RetryMax:       20 * time.Millisecond,
		Links:          LinksDownloadURLs,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// server starts an httptest server with h and closes it at the end.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeAPIError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error_code": code, "error_msg": msg, "request_id": "req-" + code})
}

// hijackClose sends raw bytes and closes the connection.
func hijackClose(t *testing.T, w http.ResponseWriter, raw string) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("no hijacker")
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = buf.WriteString(raw)
	_ = buf.Flush()
	_ = conn.Close()
}

// logBuffer is a concurrency-safe slog sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustNotContain(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Errorf("%s reveals a secret %q: %s", what, sec, s)
		}
	}
}
