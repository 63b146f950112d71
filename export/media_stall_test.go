package export

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// stallHost answers a Content-Length of size, sends first bytes, then
// sends one byte every trickle (never, when 0) until the request ends.
func stallHost(t *testing.T, size, first int, trickle time.Duration) string {
	t.Helper()
	content := bytes.Repeat([]byte("x"), size)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(content[:first])
		w.(http.Flusher).Flush()
		if trickle <= 0 {
			<-r.Context().Done()
			return
		}
		tick := time.NewTicker(trickle)
		defer tick.Stop()
		for i := first; i < size; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			w.Write(content[i : i+1])
			w.(http.Flusher).Flush()
		}
	})
	return srv.URL
}

// TestMediaStallTimeout: a body that stops moving, or trickles under
// StallMinRate, fails with ErrStalled (a timeout, retryable, errorCode
// "stalled") after StallTimeout of waiting for it, with the bytes that
// came before it delivered.
func TestMediaStallTimeout(t *testing.T) {
	tests := []struct {
		name      string
		first     int
		trickle   time.Duration
		wantMsg   string
		wantAtMin int // bytes read before the error, at least
	}{
		{"silent after 10 bytes", 10, 0, "10 bytes in 200ms, under 1024 bytes a second, after 10 bytes", 10},
		{"silent from the start", 0, 0, "no byte in 200ms, after 0 bytes", 0},
		{"a byte every 20ms", 10, 20 * time.Millisecond, "bytes a second", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := stallHost(t, 1<<20, tt.first, tt.trickle)
			c := NewTestClient(t, base, tokenCreds, func(c *Config) { c.StallTimeout = 200 * time.Millisecond })
			m, err := c.OpenMedia(ctxT(t), File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: base + "/m", Size: -1})
			if err != nil {
				t.Fatalf("OpenMedia: %v", err)
			}
			defer m.Body.Close()
			b, err := io.ReadAll(m.Body) // ctxT's 30 s is the safety net
			if !errors.Is(err, ErrStalled) || !errors.Is(err, ErrTimeout) || errors.Is(err, ErrTruncated) {
				t.Fatalf("read %d bytes, then %v; want ErrStalled (a timeout, not a truncation)", len(b), err)
			}
			if !ShouldRetry(err) {
				t.Errorf("ShouldRetry(%v) = false, want true", err)
			}
			if got := ErrorCode(err); got != CodeStalled {
				t.Errorf("ErrorCode = %q, want %q", got, CodeStalled)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if len(b) < tt.wantAtMin || len(b) >= 1<<20 {
				t.Errorf("read %d bytes before the stall, want at least %d", len(b), tt.wantAtMin)
			}
			if _, again := m.Body.Read(make([]byte, 8)); !errors.Is(again, ErrStalled) {
				t.Errorf("Read after the stall: %v, want the same ErrStalled", again)
			}
		})
	}
}

// TestMediaStallCountsOnlyWaiting: time the reader spends elsewhere (a slow
// upload) is not a stall: the bytes were there when it came back.
func TestMediaStallCountsOnlyWaiting(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content)
	})
	// A stall timeout a busy machine's scheduling does not reach, and more
	// than it spent outside Read between reads.
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.StallTimeout = 500 * time.Millisecond })
	m, err := c.OpenMedia(ctxT(t), File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/m", Size: -1})
	if err != nil {
		t.Fatalf("OpenMedia: %v", err)
	}
	defer m.Body.Close()
	var got []byte
	buf := make([]byte, 4000)
	for {
		n, err := m.Body.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", len(got), err)
		}
		time.Sleep(600 * time.Millisecond) // more than the stall timeout, spent outside Read
	}
	if !bytes.Equal(got, content) {
		t.Errorf("got %d bytes, want the %d of the file", len(got), len(content))
	}
}

// TestMediaCloseDelimited: Media.CloseDelimited is true only for an
// HTTP/1 body with neither a Content-Length nor chunks.
func TestMediaCloseDelimited(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    bool
		size    int64
	}{
		{"content-length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			w.Write(content)
		}, false, int64(len(content))},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Transfer-Encoding", "chunked")
			w.Write(content)
		}, false, -1},
		{"close-delimited", func(w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"+string(content))
		}, true, -1},
		{"206 close-delimited has its length from Content-Range", func(w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-9999/10000\r\nConnection: close\r\n\r\n"+string(content[10:]))
		}, false, 9990},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, tt.handler)
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			off := int64(0)
			if tt.size == 9990 {
				off = 10
			}
			m, err := c.OpenMediaAt(ctxT(t), File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/m", Size: -1}, off)
			if err != nil {
				t.Fatalf("OpenMedia: %v", err)
			}
			defer m.Body.Close()
			if m.CloseDelimited != tt.want || m.Size != tt.size {
				t.Errorf("CloseDelimited %v, Size %d; want %v, %d", m.CloseDelimited, m.Size, tt.want, tt.size)
			}
			b, err := io.ReadAll(m.Body)
			if err != nil || !bytes.Equal(b, content[off:]) {
				t.Errorf("body: %d bytes, %v; want the %d bytes from %d", len(b), err, len(content)-int(off), off)
			}
		})
	}
}

// BenchmarkMediaBody reads a 64 MiB body from a local host with and
// without the stall watchdog (a timer reset and stopped per Read, no
// goroutine): the watchdog must not cost throughput.
func BenchmarkMediaBody(b *testing.B) {
	const size = 64 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	for _, bc := range []struct {
		name  string
		stall time.Duration
	}{{"no watchdog", -1}, {"stall watchdog", time.Minute}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := Config{BaseURL: srv.URL, Credentials: Credentials{Token: testToken}, StallTimeout: bc.stall}
			if bc.stall < 0 {
				cfg.StallTimeout = 0
			}
			c, err := NewClient(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if bc.stall < 0 {
				c.cfg.StallTimeout = 0 // NewClient's default would turn it on
			}
			buf := make([]byte, 32<<10)
			b.SetBytes(size)
			for b.Loop() {
				m, err := c.OpenMedia(context.Background(), File{ConfUUID: "c", FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/m", Size: -1})
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{m.Body}, buf)
				m.Body.Close()
				if err != nil || n != size {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}

// zeroes is an endless body.
type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// BenchmarkMediaBodyRead is the watchdog's cost per Read, without a
// network: one mediaBody Read of 4 KiB and of 32 KiB from memory.
func BenchmarkMediaBodyRead(b *testing.B) {
	for _, size := range []int{4 << 10, 32 << 10} {
		for _, stall := range []time.Duration{0, time.Minute} {
			name := strconv.Itoa(size>>10) + "KiB/no watchdog"
			if stall > 0 {
				name = strconv.Itoa(size>>10) + "KiB/stall watchdog"
			}
			b.Run(name, func(b *testing.B) {
				_, cancel := context.WithCancel(context.Background())
				m := &mediaBody{rc: io.NopCloser(zeroes{}), want: -1, cancel: cancel}
				if stall > 0 {
					m.stall = stall
					m.timer = time.AfterFunc(time.Hour, m.fire)
					m.timer.Stop()
				}
				defer m.Close()
				p := make([]byte, size)
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := m.Read(p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
