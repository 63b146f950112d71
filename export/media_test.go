package export

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenMedia(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		token     string
		wantSize  int64
		wantOpen  string // ErrorCode of OpenMedia's error, "" = opens
		wantRead  error  // error Read must wrap, nil = clean EOF
		wantBytes int
	}{
		{
			name: "ok with bare token", token: "dl-token-1", wantSize: 10000, wantBytes: 10000,
			handler: func(w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("Authorization"); got != "dl-token-1" {
					t.Errorf("Authorization = %q, want the bare token", got)
				}
				w.Header().Set("Content-Length", "10000")
				w.Write(content)
			},
		},
		{
			name: "ok without token header", wantSize: 10000, wantBytes: 10000,
			handler: func(w http.ResponseWriter, r *http.Request) {
				if _, ok := r.Header["Authorization"]; ok {
					t.Error("Authorization sent without a token")
				}
				w.Header().Set("Content-Length", "10000")
				w.Write(content)
			},
		},
		{
			name: "truncated", token: "dl-token-2", wantSize: 10000, wantRead: ErrTruncated, wantBytes: 5000,
			handler: func(w http.ResponseWriter, r *http.Request) {
				hijackClose(t, w, "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n"+string(content[:5000]))
			},
		},
		{
			name: "chunked, unknown size", token: "dl-token-2", wantSize: -1, wantBytes: 10000,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(content[:10])
				w.(http.Flusher).Flush()
				w.Write(content[10:])
			},
		},
		{
			name: "token refused", token: "used-token-xyz", wantOpen: "MMC.111070004",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeAPIError(w, http.StatusForbidden, "MMC.111070004", "download token used-token-xyz invalid or already used")
			},
		},
		{
			name: "server error not retried", token: "dl-token-2", wantOpen: "http-503",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
		},
		{
			name: "reset", token: "dl-token-2", wantOpen: "connection",
			handler: func(w http.ResponseWriter, r *http.Request) { hijackClose(t, w, "") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); tt.handler(w, r) })
			c := newTestClient(t, srv.URL, nil)
			f := File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/media/0_0.mp4?token=QSECRET", Token: tt.token, Size: -1}
			m, err := c.OpenMedia(ctxT(t), f)
			if hits.Load() != 1 {
				t.Errorf("media requests = %d, want 1 (OpenMedia never retries)", hits.Load())
			}
			if tt.wantOpen != "" {
				if err == nil {
					m.Body.Close()
					t.Fatal("OpenMedia: no error")
				}
				if got := ErrorCode(err); got != tt.wantOpen {
					t.Errorf("ErrorCode = %q, want %q (%v)", got, tt.wantOpen, err)
				}
				var ae *APIError
				if errors.As(err, &ae) && ae.Op != "media" {
					t.Errorf("APIError.Op = %q, want media", ae.Op)
				}
				mustNotContain(t, "error", err.Error(), "QSECRET", tt.token)
				return
			}
			if err != nil {
				t.Fatalf("OpenMedia: %v", err)
			}
			defer m.Body.Close()
			if m.Size != tt.wantSize {
				t.Errorf("Size = %d, want %d", m.Size, tt.wantSize)
			}
			n, err := io.Copy(io.Discard, m.Body)
			if int(n) != tt.wantBytes {
				t.Errorf("read %d bytes, want %d", n, tt.wantBytes)
			}
			switch {
			case tt.wantRead == nil && err != nil:
				t.Errorf("read error %v, want none", err)
			case tt.wantRead != nil && !errors.Is(err, tt.wantRead):
				t.Errorf("read error %v, want %v", err, tt.wantRead)
			case tt.wantRead != nil:
				if !ShouldRetry(err) || ErrorCode(err) != "truncated" {
					t.Errorf("truncation: ShouldRetry %v, ErrorCode %q", ShouldRetry(err), ErrorCode(err))
				}
				mustNotContain(t, "error", err.Error(), "QSECRET", tt.token)
			}
		})
	}
}

func TestOpenMediaHeaderTimeoutOnly(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slowheaders" {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		// Headers at once, then a body slower than RequestTimeout in total.
		w.Header().Set("Content-Length", "6")
		w.WriteHeader(200)
		for i := range 6 {
			w.Write([]byte{byte('a' + i)})
			w.(http.Flusher).Flush()
			time.Sleep(60 * time.Millisecond)
		}
	})
	c := newTestClient(t, srv.URL, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond })
	m, err := c.OpenMedia(ctxT(t), File{FileType: "Hd", Name: "x", URL: srv.URL + "/slowbody"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(m.Body)
	m.Body.Close()
	if err != nil || string(b) != "abcdef" {
		t.Errorf("slow body = %q, %v; want all of it (no total timeout)", b, err)
	}
	_, err = c.OpenMedia(ctxT(t), File{FileType: "Hd", Name: "x", URL: srv.URL + "/slowheaders"})
	if ErrorCode(err) != "timeout" {
		t.Errorf("slow headers: %v (code %s), want a timeout", err, ErrorCode(err))
	}
}

func TestOpenMediaCancelled(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.WriteHeader(200)
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := newTestClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := c.OpenMedia(ctx, File{FileType: "Hd", Name: "x", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Body.Close()
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(m.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, m.Body)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTruncated) {
		t.Errorf("read after cancel: %v, want context.Canceled and not ErrTruncated", err)
	}
}

// writeCA writes the test server's certificate as a PEM bundle.
func writeCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLS(t *testing.T) {
	api := quietTLSServer(t, http.HandlerFunc(okDetails))
	media := quietTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "media") }))
	apiCA := writeCA(t, api)
	mediaFile := File{FileType: "Hd", Name: "x", URL: media.URL + "/x"}

	t.Run("verification on by default", func(t *testing.T) {
		c := newTestClient(t, api.URL, nil)
		_, err := c.Details(ctxT(t), "x")
		if err == nil || ShouldRetry(err) || !strings.Contains(err.Error(), "CABundle") {
			t.Fatalf("Details against an unknown CA: %v (retry %v), want a permanent error naming CABundle", err, ShouldRetry(err))
		}
		if got := c.Stats().Requests; got != 1 {
			t.Errorf("requests = %d, want 1", got)
		}
		if _, err := c.OpenMedia(ctxT(t), mediaFile); err == nil {
			t.Error("media against an unknown CA: no error")
		}
	})
	t.Run("CA bundle", func(t *testing.T) {
		c := newTestClient(t, api.URL, func(c *Config) { c.CABundle = apiCA })
		if _, err := c.Details(ctxT(t), "x"); err != nil {
			t.Fatalf("Details with CABundle: %v", err)
		}
	})
	t.Run("insecure media only", func(t *testing.T) {
		logs := &logBuffer{}
		c := newTestClient(t, api.URL, func(c *Config) { c.InsecureMediaTLS = true; c.Logger = logs.logger() })
		for range 2 {
			m, err := c.OpenMedia(ctxT(t), mediaFile)
			if err != nil {
				t.Fatalf("OpenMedia with InsecureMediaTLS: %v", err)
			}
			m.Body.Close()
		}
		if _, err := c.Details(ctxT(t), "x"); err == nil {
			t.Error("API call verified nothing with InsecureMediaTLS")
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
			t.Errorf("warnings = %d, want exactly 1:\n%s", n, logs.String())
		}
	})
	t.Run("bad bundle", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "bad.pem")
		os.WriteFile(p, []byte("not pem"), 0o600)
		_, err := NewClient(Config{BaseURL: api.URL, Credentials: Credentials{Token: "t"}, CABundle: p})
		if err == nil || !strings.Contains(err.Error(), "CABundle") {
			t.Errorf("NewClient with a bad bundle: %v", err)
		}
	})
}

// quietTLSServer is httptest.NewTLSServer without handshake-failure logs.
func quietTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}
