package meetingtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMediaTokens(t *testing.T) {
	clock := newFakeClock()
	ds := SampleDataset()
	s := start(t, Config{Dataset: ds, Now: clock.Now, LinkLifetime: time.Hour})
	tok := login(t, s, "")
	c := ds.Conferences[0]
	fetch := func(u dlURL, hdr ...string) reply { return call(t, "GET", u.URL, "", hdr...) }

	t.Run("first use then refused", func(t *testing.T) {
		u := links(t, s, tok, c.ConfUUID)[0]
		r := fetch(u, "Authorization", u.Token)
		if r.status != 200 || sha(r.body) != s.FileSHA256(c.ConfUUID, u.FileType, "0_0.mp4") {
			t.Fatalf("first use: status %d, sha %s; want 200 and the file's sha", r.status, sha(r.body))
		}
		e := wantError(t, fetch(u, "Authorization", u.Token), 403, CodeVerifyFailed)
		if strings.Contains(e.ErrorMsg, u.Token) {
			t.Errorf("error_msg reveals the token")
		}
	})
	tests := []struct {
		name    string
		advance time.Duration
		hdr     func(u, other dlURL) []string
		status  int
		code    string
	}{
		{"valid just before expiry", time.Hour - time.Second, func(u, _ dlURL) []string { return []string{"Authorization", u.Token} }, 200, ""},
		{"expired after LinkLifetime", time.Hour, func(u, _ dlURL) []string { return []string{"Authorization", u.Token} }, 403, CodeVerifyFailed},
		{"missing", 0, func(dlURL, dlURL) []string { return nil }, 401, CodeVerifyFailed},
		{"bearer scheme", 0, func(u, _ dlURL) []string { return []string{"Authorization", "Bearer " + u.Token} }, 403, CodeVerifyFailed},
		{"another file's token", 0, func(_, o dlURL) []string { return []string{"Authorization", o.Token} }, 403, CodeVerifyFailed},
	}
	refused := int64(1)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := links(t, s, tok, c.ConfUUID)
			clock.Add(tt.advance)
			r := fetch(ls[0], tt.hdr(ls[0], ls[1])...)
			if tt.status == 200 {
				if r.status != 200 {
					t.Fatalf("status %d body %s", r.status, r.body)
				}
				return
			}
			refused++
			wantError(t, r, tt.status, tt.code)
		})
	}
	t.Run("header token as query", func(t *testing.T) {
		u := links(t, s, tok, c.ConfUUID)[0]
		wantError(t, call(t, "GET", u.URL+"?token="+u.Token, ""), 403, CodeVerifyFailed)
		refused++
	})
	if got := s.Counters().TokenRefused; got != refused {
		t.Errorf("TokenRefused = %d, want %d", got, refused)
	}
}

func TestMediaContent(t *testing.T) {
	ds := SampleDataset()
	s := start(t, Config{Dataset: ds, Seed: 42})
	tok := login(t, s, "")
	var want []Served
	for _, c := range ds.Conferences[:5] {
		for i, u := range links(t, s, tok, c.ConfUUID) {
			f := c.Files[i]
			t.Run(c.ConfUUID[:8]+"/"+f.FileType+"/"+f.Name, func(t *testing.T) {
				r := call(t, "GET", u.URL, "", "Authorization", u.Token)
				if r.status != 200 {
					t.Fatalf("status %d body %s", r.status, r.body)
				}
				if got := r.header.Get("Content-Length"); got != itoa(f.Size) {
					t.Errorf("Content-Length = %s, want %d", got, f.Size)
				}
				if got := r.header.Get("Content-Type"); got != "video/mp4" {
					t.Errorf("Content-Type = %q, want video/mp4", got)
				}
				if int64(len(r.body)) != f.Size || sha(r.body) != s.FileSHA256(c.ConfUUID, f.FileType, f.Name) {
					t.Errorf("got %d bytes sha %s, want %d bytes sha %s", len(r.body), sha(r.body), f.Size, s.FileSHA256(c.ConfUUID, f.FileType, f.Name))
				}
				want = append(want, Served{ConfUUID: c.ConfUUID, FileType: f.FileType, Name: f.Name, Bytes: f.Size, SHA256: sha(r.body)})
			})
		}
	}
	got := s.Served()
	if len(got) != len(want) {
		t.Fatalf("Served has %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Served[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}

	c := ds.Conferences[0]
	other := start(t, Config{Dataset: ds, Seed: 42})
	reseeded := start(t, Config{Dataset: ds, Seed: 43})
	checks := []struct {
		name string
		a, b string
		same bool
	}{
		{"same seed same content", s.FileSHA256(c.ConfUUID, "Hd", "0_0.mp4"), other.FileSHA256(c.ConfUUID, "Hd", "0_0.mp4"), true},
		{"other seed other content", s.FileSHA256(c.ConfUUID, "Hd", "0_0.mp4"), reseeded.FileSHA256(c.ConfUUID, "Hd", "0_0.mp4"), false},
		{"other type other content", s.FileSHA256(c.ConfUUID, "Hd", "0_0.mp4"), s.FileSHA256(c.ConfUUID, "Sd", "0_0.mp4"), false},
		{"unknown file", s.FileSHA256(c.ConfUUID, "Hd", "9_9.mp4"), "", true},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if (ck.a == ck.b) != ck.same {
				t.Errorf("%q vs %q: same = %v, want %v", ck.a, ck.b, ck.a == ck.b, ck.same)
			}
		})
	}
	t.Run("chunking does not change content", func(t *testing.T) {
		whole, _ := io.ReadAll(Content(1, "u", "Hd", "0_0.mp4", 100_003))
		var pieces bytes.Buffer
		r := Content(1, "u", "Hd", "0_0.mp4", 100_003)
		buf := make([]byte, 997)
		for {
			n, err := r.Read(buf)
			pieces.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if !bytes.Equal(whole, pieces.Bytes()) || len(whole) != 100_003 {
			t.Errorf("chunked read differs from whole read (%d vs %d bytes)", pieces.Len(), len(whole))
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestMediaRate(t *testing.T) {
	ds := Dataset{Conferences: []Conference{{ConfUUID: "00000000000000000000000000000001", StartTime: "2024-01-01 00:00",
		IsDecodeFinish: true, Available: true, Files: []File{{FileType: "Hd", Name: "0_0.mp4", Size: 128 << 10}, {FileType: "Sd", Name: "0_0.mp4", Size: 4 << 20}}}}}
	s := start(t, Config{Dataset: ds, MediaRate: 256 << 10})
	tok := login(t, s, "")
	ls := links(t, s, tok, ds.Conferences[0].ConfUUID)

	t.Run("paced", func(t *testing.T) {
		t0 := time.Now()
		r := call(t, "GET", ls[0].URL, "", "Authorization", ls[0].Token)
		el := time.Since(t0)
		if r.status != 200 || len(r.body) != 128<<10 {
			t.Fatalf("status %d, %d bytes", r.status, len(r.body))
		}
		if el < 350*time.Millisecond || el > 5*time.Second {
			t.Errorf("128 KiB at 256 KiB/s took %v, want about 0.4-0.5 s", el)
		}
	})
	t.Run("cancel stops the stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, "GET", ls[1].URL, nil)
		req.Header.Set("Authorization", ls[1].Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadFull(resp.Body, make([]byte, 64<<10))
		cancel()
		resp.Body.Close()
		deadline := time.Now().Add(3 * time.Second)
		for s.Counters().MediaInFlight != 0 {
			if time.Now().After(deadline) {
				t.Fatal("media response still running 3 s after the client cancelled")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n := len(s.Served()); n != 1 {
			t.Errorf("Served has %d entries, want 1 (the cancelled response is not complete)", n)
		}
	})
	t.Run("close cuts slow media", func(t *testing.T) {
		s2 := NewServer(Config{Dataset: ds, MediaRate: 16 << 10})
		tok := login(t, s2, "")
		u := links(t, s2, tok, ds.Conferences[0].ConfUUID)[1]
		req, _ := http.NewRequest("GET", u.URL, nil)
		req.Header.Set("Authorization", u.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		t0 := time.Now()
		s2.Close()
		if el := time.Since(t0); el > 3*time.Second {
			t.Errorf("Close took %v with a slow stream in flight", el)
		}
	})
}

// TestMediaThroughput streams a 200 MiB file: it must go at hundreds of MB/s
// and without the server holding the file in memory.
func TestMediaThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const size = 200 << 20
	ds := Dataset{Conferences: []Conference{{ConfUUID: "00000000000000000000000000000002", StartTime: "2024-01-01 00:00",
		IsDecodeFinish: true, Available: true, Files: []File{{FileType: "Hd", Name: "0_0.mp4", Size: size}}}}}
	s := start(t, Config{Dataset: ds})
	tok := login(t, s, "")
	u := links(t, s, tok, ds.Conferences[0].ConfUUID)[0]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	req, _ := http.NewRequest("GET", u.URL, nil)
	req.Header.Set("Authorization", u.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, resp.Body, make([]byte, 256<<10))
	resp.Body.Close()
	el := time.Since(t0)
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("read %d bytes, err %v; want %d", n, err, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.Served()[0].SHA256 {
		t.Errorf("client sha %s != Served sha %s", got, s.Served()[0].SHA256)
	}
	mbps := float64(size) / el.Seconds() / 1e6
	t.Logf("200 MiB in %v: %.0f MB/s, %d MiB allocated", el, mbps, (after.TotalAlloc-before.TotalAlloc)>>20)
	floor := 100.0
	if raceEnabled {
		floor = 20 // the race detector slows the copy loops
	}
	if mbps < floor {
		t.Errorf("throughput %.0f MB/s, want >= %.0f", mbps, floor)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("allocated %d MiB streaming a 200 MiB file, want < 32 MiB", alloc>>20)
	}
}
