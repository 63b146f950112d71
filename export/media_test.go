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
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestOpenMedia(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	tests := []struct {
		name        string
		handler     http.HandlerFunc
		token       string
		wantSize    int64
		wantOpen    string // ErrorCode of OpenMedia's error, "" = opens
		wantExpired bool   // OpenMedia's error wraps ErrLinkExpired
		wantRead    error  // error Read must wrap, nil = clean EOF
		wantBytes   int
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
			name: "token refused", token: "used-token-xyz", wantOpen: "MMC.111070004", wantExpired: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeAPIError(w, http.StatusForbidden, "MMC.111070004", "download token used-token-xyz invalid or already used")
			},
		},
		{
			name: "token missing", wantOpen: "MMC.111070004", wantExpired: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeAPIError(w, http.StatusUnauthorized, "MMC.111070004", "download token missing")
			},
		},
		{
			name: "bare 403", token: "dl-token-3", wantOpen: "http-403", wantExpired: true,
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(403) },
		},
		{
			name: "not found is not an expired link", token: "dl-token-3", wantOpen: "http-404",
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(404) },
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
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
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
				if got, want := errors.Is(err, ErrLinkExpired), tt.wantExpired; got != want {
					t.Errorf("errors.Is(err, ErrLinkExpired) = %v, want %v", got, want)
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
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.RequestTimeout = 200 * time.Millisecond })
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
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
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
		c := NewTestClient(t, api.URL, tokenCreds, nil)
		_, err := c.Details(ctxT(t), testConfUUID)
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
		c := NewTestClient(t, api.URL, tokenCreds, func(c *Config) { c.CABundle = apiCA })
		if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
			t.Fatalf("Details with CABundle: %v", err)
		}
	})
	t.Run("insecure media only", func(t *testing.T) {
		logs := &logBuffer{}
		c := NewTestClient(t, api.URL, tokenCreds, func(c *Config) { c.InsecureMediaTLS = true; c.Logger = logs.logger() })
		for range 2 {
			m, err := c.OpenMedia(ctxT(t), mediaFile)
			if err != nil {
				t.Fatalf("OpenMedia with InsecureMediaTLS: %v", err)
			}
			m.Body.Close()
		}
		if _, err := c.Details(ctxT(t), testConfUUID); err == nil {
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

// redirectLab is a set of media hosts that redirect along a chain given in
// the URL (/go?to=<next URL>) and record what reaches /target.
type redirectLab struct {
	mu   sync.Mutex
	hits []redirectHit
}

type redirectHit struct {
	host, auth, referer, query, rng string
}

func (l *redirectLab) handler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/go":
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	case "/target":
		l.mu.Lock()
		l.hits = append(l.hits, redirectHit{host: r.Host, auth: r.Header.Get("Authorization"), referer: r.Header.Get("Referer"),
			query: r.URL.RawQuery, rng: r.Header.Get("Range")})
		l.mu.Unlock()
		io.WriteString(w, "media")
	default:
		http.NotFound(w, r)
	}
}

func (l *redirectLab) take() []redirectHit {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hits
	l.hits = nil
	return h
}

// via is a link to from's /go that redirects to next.
func via(from, next string) string { return from + "/go?to=" + url.QueryEscape(next) }

func TestMediaRedirects(t *testing.T) {
	const (
		tok  = "dl-token-redirect-0123"
		qtok = "QTOKEN-redirect-4567"
	)
	lab := &redirectLab{}
	tlsA := quietTLSServer(t, http.HandlerFunc(lab.handler))
	tlsB := quietTLSServer(t, http.HandlerFunc(lab.handler))
	plainC := server(t, lab.handler)
	plainD := server(t, lab.handler)
	localhost := func(s *httptest.Server) string { return strings.Replace(s.URL, "127.0.0.1", "localhost", 1) }
	hostOf := func(u string) string { p, _ := url.Parse(u); return p.Host }
	logs := &logBuffer{}
	c := NewTestClient(t, plainC.URL, tokenCreds, func(c *Config) { c.InsecureMediaTLS = true; c.Logger = logs.logger() })

	tests := []struct {
		name     string
		link     string
		wantHost string // the host /target is reached at; "" = refused
		wantAuth bool   // the target sees the download token
	}{
		{"https same origin keeps the token", via(tlsA.URL, tlsA.URL+"/target"), hostOf(tlsA.URL), true},
		{"https to another port drops the token", via(tlsA.URL, tlsB.URL+"/target"), hostOf(tlsB.URL), false},
		{"https to another host drops the token", via(tlsA.URL, localhost(tlsA)+"/target"), hostOf(localhost(tlsA)), false},
		{"back to the first origin after leaving it", via(tlsA.URL, via(tlsB.URL, tlsA.URL+"/target")), hostOf(tlsA.URL), false},
		{"http same origin keeps the token", via(plainC.URL, plainC.URL+"/target"), hostOf(plainC.URL), true},
		{"http to another port drops the token", via(plainC.URL, plainD.URL+"/target"), hostOf(plainD.URL), false},
		{"http to https drops the token", via(plainC.URL, tlsA.URL+"/target"), hostOf(tlsA.URL), false},
		{"three hops followed", via(tlsA.URL, via(tlsA.URL, via(tlsA.URL, tlsA.URL+"/target"))), hostOf(tlsA.URL), true},
		{"four hops refused", via(tlsA.URL, via(tlsA.URL, via(tlsA.URL, via(tlsA.URL, tlsA.URL+"/target")))), "", false},
		{"https to http refused", via(tlsA.URL, plainC.URL+"/target"), "", false},
		{"https to http on the same host refused", via(tlsA.URL, "http://"+hostOf(tlsA.URL)+"/target"), "", false},
		{"https to http after a hop refused", via(tlsA.URL, via(tlsB.URL, plainC.URL+"/target")), "", false},
		{"another scheme refused", via(tlsA.URL, "ftp://"+hostOf(tlsB.URL)+"/target"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, inQuery := range []bool{false, true} {
				f := File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: tt.link, Token: tok, Size: -1}
				if inQuery {
					// A record-info link: the token rides in the query.
					f.URL += "&token=" + qtok + "&onceToken=" + qtok
					f.Token = ""
				}
				m, err := c.OpenMedia(ctxT(t), f)
				hits := lab.take()
				if tt.wantHost == "" {
					if err == nil {
						m.Body.Close()
						t.Fatalf("query token %v: redirect followed, want it refused", inQuery)
					}
					if !errors.Is(err, ErrBadRedirect) || ErrorCode(err) != "bad-redirect" || ShouldRetry(err) {
						t.Errorf("err = %v (code %q, retry %v), want ErrBadRedirect, bad-redirect, no retry", err, ErrorCode(err), ShouldRetry(err))
					}
					if len(hits) != 0 {
						t.Errorf("target reached %d times, want never", len(hits))
					}
					mustNotContain(t, "error", err.Error(), tok, qtok, "/target", "127.0.0.1")
					return
				}
				if err != nil {
					t.Fatalf("query token %v: OpenMedia: %v", inQuery, err)
				}
				b, err := io.ReadAll(m.Body)
				m.Body.Close()
				if err != nil || string(b) != "media" {
					t.Errorf("body %q, %v; want media", b, err)
				}
				if len(hits) != 1 {
					t.Fatalf("target reached %d times, want 1", len(hits))
				}
				h := hits[0]
				if h.host != tt.wantHost {
					t.Errorf("target reached at %s, want %s", h.host, tt.wantHost)
				}
				wantAuth := ""
				if tt.wantAuth && !inQuery {
					wantAuth = tok
				}
				if h.auth != wantAuth {
					t.Errorf("query token %v: target saw Authorization %q, want %q", inQuery, h.auth, wantAuth)
				}
				if h.referer != "" {
					t.Errorf("target saw Referer %q, want none", h.referer)
				}
				if tt.wantHost != hostOf(f.URL) || !tt.wantAuth {
					// Another origin: no form of the token arrives (the
					// Locations here carry none).
					mustNotContain(t, "target request", h.auth+" "+h.referer+" "+h.query, tok, qtok)
				}
			}
		})
	}
}

// TestMediaRedirectsOwnHTTPClient: a client given its own http.Client
// (Config.HTTPClient) keeps the media redirect policy.
func TestMediaRedirectsOwnHTTPClient(t *testing.T) {
	lab := &redirectLab{}
	a, b := server(t, lab.handler), server(t, lab.handler)
	own := &http.Client{Transport: http.DefaultTransport}
	c := NewTestClient(t, a.URL, tokenCreds, func(c *Config) { c.HTTPClient = own })
	f := File{FileType: "Hd", Name: "0_0.mp4", URL: via(a.URL, b.URL+"/target"), Token: "tok-own-client", Size: -1}
	m, err := c.OpenMedia(ctxT(t), f)
	if err != nil {
		t.Fatalf("OpenMedia: %v", err)
	}
	m.Body.Close()
	if hits := lab.take(); len(hits) != 1 || hits[0].auth != "" || hits[0].referer != "" {
		t.Errorf("target saw %+v, want one request without token or Referer", hits)
	}
	f.URL = via(a.URL, via(a.URL, via(a.URL, via(a.URL, a.URL+"/target"))))
	if _, err := c.OpenMedia(ctxT(t), f); !errors.Is(err, ErrBadRedirect) {
		t.Errorf("four hops: %v, want ErrBadRedirect", err)
	}
	if own.CheckRedirect != nil {
		t.Error("the caller's http.Client was changed")
	}
}

// TestMediaRedirectKeepsRange: a resumed download asks the redirect target
// for the same range.
func TestMediaRedirectKeepsRange(t *testing.T) {
	lab := &redirectLab{}
	a, b := server(t, lab.handler), server(t, lab.handler)
	c := NewTestClient(t, a.URL, tokenCreds, nil)
	m, err := c.OpenMediaAt(ctxT(t), File{FileType: "Hd", Name: "0_0.mp4", URL: via(a.URL, b.URL+"/target"), Token: "tok-range", Size: -1}, 2)
	if err != nil {
		t.Fatalf("OpenMediaAt: %v", err)
	}
	m.Body.Close()
	if m.Offset != 0 {
		t.Errorf("Offset = %d, want 0 (the target ignores ranges)", m.Offset)
	}
	hits := lab.take()
	if len(hits) != 1 || hits[0].rng != "bytes=2-" || hits[0].auth != "" {
		t.Errorf("target saw %+v, want one request with Range bytes=2- and no token", hits)
	}
}

// TestAPIRefusesRedirects: the API client follows no redirect at all (the
// access token must not travel).
func TestAPIRefusesRedirects(t *testing.T) {
	var targetHits atomic.Int64
	target := server(t, func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1); okDetails(w, r) })
	var apiHits atomic.Int64
	api := server(t, func(w http.ResponseWriter, r *http.Request) {
		apiHits.Add(1)
		http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})
	c := NewTestClient(t, api.URL, tokenCreds, nil)
	if _, err := c.Details(ctxT(t), testConfUUID); err == nil {
		t.Error("Details through a redirect: no error")
	}
	if n := apiHits.Load(); n == 0 {
		t.Error("the API was never asked")
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("redirect target reached %d times, want 0", n)
	}
}

func TestOpenMediaAt(t *testing.T) {
	content := bytes.Repeat([]byte("abcdefghij"), 1000) // 10000 bytes
	serve := func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "x.mp4", time.Time{}, bytes.NewReader(content))
	}
	partial := func(contentRange string, body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", contentRange)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body)
		}
	}
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		offset     int64
		size       int64 // File.Size
		wantRange  string
		wantOpen   string // ErrorCode; "" = opens
		wantIs     error
		wantOffset int64
		wantTotal  int64
		wantBody   []byte
		wantRead   error
	}{
		{name: "from the start", handler: serve, size: -1, wantTotal: 10000, wantBody: content},
		{name: "ranged", handler: serve, offset: 4000, size: -1, wantRange: "bytes=4000-", wantOffset: 4000, wantTotal: 10000, wantBody: content[4000:]},
		{name: "ranged with known size", handler: serve, offset: 9999, size: 10000, wantRange: "bytes=9999-", wantOffset: 9999, wantTotal: 10000, wantBody: content[9999:]},
		{name: "range ignored: whole file", offset: 4000, size: 10000, wantRange: "bytes=4000-", wantTotal: 10000, wantBody: content,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "10000")
				w.Write(content)
			}},
		{name: "206 at another start", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes 3000-9999/10000", content[3000:])},
		{name: "206 with another total", offset: 4000, size: 10000, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes 4000-19999/20000", bytes.Repeat(content, 2)[4000:])},
		{name: "206 short of the end", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes 4000-4999/10000", content[4000:5000])},
		{name: "206 of unknown total", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes 4000-9999/*", content[4000:])},
		{name: "206 without Content-Range", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("", content[4000:])},
		{name: "206 with a signed start", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes +4000-9999/10000", content[4000:])},
		{name: "206 whose length disagrees", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes 4000-9999/10000", content[4000:5000])},
		{name: "206 to no range but whole", size: 10000, wantTotal: 10000, wantBody: content,
			handler: partial("bytes 0-9999/10000", content)},
		{name: "206 to no range, part", size: -1, wantOpen: "bad-response", wantIs: ErrBadResponse,
			handler: partial("bytes 0-99/10000", content[:100])},
		{name: "unsatisfiable", offset: 10000, size: -1, wantRange: "bytes=10000-", wantOpen: "http-416", handler: serve},
		{name: "spent token", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOpen: "MMC.111070004", wantIs: ErrLinkExpired,
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeAPIError(w, http.StatusForbidden, "MMC.111070004", "download token invalid or already used")
			}},
		{name: "ranged body cut short", offset: 4000, size: -1, wantRange: "bytes=4000-", wantOffset: 4000, wantTotal: 10000,
			wantBody: content[4000:5000], wantRead: ErrTruncated,
			handler: func(w http.ResponseWriter, r *http.Request) {
				hijackClose(t, w, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4000-9999/10000\r\nContent-Length: 6000\r\n\r\n"+string(content[4000:5000]))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotRange, gotEncoding string
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				gotRange, gotEncoding = r.Header.Get("Range"), r.Header.Get("Accept-Encoding")
				tt.handler(w, r)
			})
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			f := File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/m", Token: "dl-token-at", Size: tt.size}
			m, err := c.OpenMediaAt(ctxT(t), f, tt.offset)
			if gotRange != tt.wantRange {
				t.Errorf("Range = %q, want %q", gotRange, tt.wantRange)
			}
			if gotEncoding != "identity" {
				t.Errorf("Accept-Encoding = %q, want identity", gotEncoding)
			}
			if tt.wantOpen != "" {
				if err == nil {
					m.Body.Close()
					t.Fatal("OpenMediaAt: no error")
				}
				if got := ErrorCode(err); got != tt.wantOpen {
					t.Errorf("ErrorCode = %q, want %q (%v)", got, tt.wantOpen, err)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error %v, want one wrapping %v", err, tt.wantIs)
				}
				if ShouldRetry(err) {
					t.Errorf("ShouldRetry(%v) = true, want false", err)
				}
				mustNotContain(t, "error", err.Error(), "dl-token-at")
				return
			}
			if err != nil {
				t.Fatalf("OpenMediaAt: %v", err)
			}
			defer m.Body.Close()
			if m.Offset != tt.wantOffset || m.Total != tt.wantTotal || m.Size != tt.wantTotal-tt.wantOffset {
				t.Errorf("Offset, Total, Size = %d, %d, %d; want %d, %d, %d", m.Offset, m.Total, m.Size, tt.wantOffset, tt.wantTotal, tt.wantTotal-tt.wantOffset)
			}
			got, err := io.ReadAll(m.Body)
			if !bytes.Equal(got, tt.wantBody) {
				t.Errorf("body: %d bytes, want %d", len(got), len(tt.wantBody))
			}
			if (tt.wantRead == nil) != (err == nil) || (tt.wantRead != nil && !errors.Is(err, tt.wantRead)) {
				t.Errorf("read error %v, want %v", err, tt.wantRead)
			}
			if tt.wantRead != nil && !strings.Contains(err.Error(), "from byte 4000") {
				t.Errorf("read error %q does not say where the range started", err)
			}
		})
	}
	t.Run("offset outside the file", func(t *testing.T) {
		var hits atomic.Int64
		srv := server(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); serve(w, r) })
		c := NewTestClient(t, srv.URL, tokenCreds, nil)
		for _, tc := range []struct{ offset, size int64 }{{-1, -1}, {-1, 100}, {100, 100}, {101, 100}} {
			f := File{FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/m", Size: tc.size}
			if m, err := c.OpenMediaAt(ctxT(t), f, tc.offset); err == nil {
				m.Body.Close()
				t.Errorf("offset %d of size %d: no error", tc.offset, tc.size)
			}
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("requests = %d, want 0", n)
		}
	})
}
