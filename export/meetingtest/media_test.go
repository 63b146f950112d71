package meetingtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMediaTokens(t *testing.T) {
	clock := newFakeClock()
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: clock.Now, LinkLifetime: time.Hour})
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
	s := Start(t, Config{Dataset: ds, Seed: 42})
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
	other := Start(t, Config{Dataset: ds, Seed: 42})
	reseeded := Start(t, Config{Dataset: ds, Seed: 43})
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

func TestContentStartsAtAnyByte(t *testing.T) {
	const size = 4099
	whole, _ := io.ReadAll(Content(3, "u", "Hd", "0_0.mp4", size))
	for off := range int64(size) {
		got := make([]byte, min(37, size-off))
		_, _ = contentAt(3, "u", "Hd", "0_0.mp4", off).Read(got)
		if !bytes.Equal(got, whole[off:off+int64(len(got))]) {
			t.Fatalf("content from byte %d differs from the whole file's", off)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestMediaRate(t *testing.T) {
	ds := Dataset{Conferences: []Conference{{ConfUUID: "00000000000000000000000000000001", StartTime: "2024-01-01 00:00",
		IsDecodeFinish: true, Available: true, Files: []File{{FileType: "Hd", Name: "0_0.mp4", Size: 128 << 10}, {FileType: "Sd", Name: "0_0.mp4", Size: 4 << 20}}}}}
	s := Start(t, Config{Dataset: ds, MediaRate: 256 << 10})
	tok := login(t, s, "")
	ls := links(t, s, tok, ds.Conferences[0].ConfUUID)

	t.Run("paced", func(t *testing.T) {
		t0 := time.Now()
		r := call(t, "GET", ls[0].URL, "", "Authorization", ls[0].Token)
		el := time.Since(t0)
		if r.status != 200 || len(r.body) != 128<<10 {
			t.Fatalf("status %d, %d bytes", r.status, len(r.body))
		}
		if el < 350*time.Millisecond {
			t.Errorf("128 KiB at 256 KiB/s took %v, want at least 0.4-0.5 s", el)
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
		deadline := time.Now().Add(time.Minute) // a safety net: the whole file takes 16 s
		for s.Counters().MediaInFlight != 0 {
			if time.Now().After(deadline) {
				t.Fatal("media response still running a minute after the client cancelled")
			}
			time.Sleep(10 * time.Millisecond)
		}
		// The stream stopped when the client went, not at the file's end.
		if sent, whole := s.MediaBytesServed(), int64(128<<10+4<<20); sent >= whole {
			t.Errorf("the server sent %d bytes, the whole of both files: the cancelled stream ran on", sent)
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
		if el := time.Since(t0); el > time.Minute { // a safety net: the stream would take 256 s
			t.Errorf("Close took %v with a slow stream in flight", el)
		}
	})
}

// TestMediaThroughput streams a 200 MiB file without the server holding the
// file in memory. Its speed is logged; make bench measures the media host's
// speed as part of the machine's limit (a busy machine would break a bound
// on it here).
func TestMediaThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const size = 200 << 20
	ds := Dataset{Conferences: []Conference{{ConfUUID: "00000000000000000000000000000002", StartTime: "2024-01-01 00:00",
		IsDecodeFinish: true, Available: true, Files: []File{{FileType: "Hd", Name: "0_0.mp4", Size: size}}}}}
	s := Start(t, Config{Dataset: ds})
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
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("allocated %d MiB streaming a 200 MiB file, want < 32 MiB", alloc>>20)
	}
}

// rangeDataset is one conference with one 100,000-byte file.
func rangeDataset() Dataset {
	return Dataset{Conferences: []Conference{{ConfUUID: "00000000000000000000000000000003", StartTime: "2024-01-01 00:00",
		IsDecodeFinish: true, Available: true, Files: []File{{FileType: "Hd", Name: "0_0.mp4", Size: 100_000}}}}}
}

func TestMediaRange(t *testing.T) {
	const size = 100_000
	ds := rangeDataset()
	c := ds.Conferences[0]
	whole, _ := io.ReadAll(Content(7, c.ConfUUID, "Hd", "0_0.mp4", size))
	tests := []struct {
		name        string
		ignore      bool // Config.IgnoreRange
		rng         string
		wantStatus  int
		wantFrom    int64 // first byte of the body (206)
		wantTo      int64 // last byte of the body (206)
		wantCR      string
		wantAccept  string
		wantServedN int // entries in Served
	}{
		{name: "open-ended", rng: "bytes=40000-", wantStatus: 206, wantFrom: 40000, wantTo: size - 1, wantCR: "bytes 40000-99999/100000", wantAccept: "bytes", wantServedN: 1},
		{name: "closed", rng: "bytes=10-19", wantStatus: 206, wantFrom: 10, wantTo: 19, wantCR: "bytes 10-19/100000", wantAccept: "bytes", wantServedN: 1},
		{name: "end beyond the file is clamped", rng: "bytes=99990-200000", wantStatus: 206, wantFrom: 99990, wantTo: size - 1, wantCR: "bytes 99990-99999/100000", wantAccept: "bytes", wantServedN: 1},
		{name: "last byte", rng: "bytes=99999-", wantStatus: 206, wantFrom: 99999, wantTo: size - 1, wantCR: "bytes 99999-99999/100000", wantAccept: "bytes", wantServedN: 1},
		{name: "suffix", rng: "bytes=-500", wantStatus: 206, wantFrom: size - 500, wantTo: size - 1, wantCR: "bytes 99500-99999/100000", wantAccept: "bytes", wantServedN: 1},
		{name: "from the start", rng: "bytes=0-", wantStatus: 206, wantFrom: 0, wantTo: size - 1, wantCR: "bytes 0-99999/100000", wantAccept: "bytes", wantServedN: 1},
		{name: "no range", wantStatus: 200, wantAccept: "bytes", wantServedN: 1},
		{name: "unsatisfiable", rng: "bytes=100000-", wantStatus: 416, wantCR: "bytes */100000"},
		{name: "empty suffix unsatisfiable", rng: "bytes=-0", wantStatus: 416, wantCR: "bytes */100000"},
		{name: "several ranges: whole file", rng: "bytes=0-9,20-29", wantStatus: 200, wantAccept: "bytes", wantServedN: 1},
		{name: "bad syntax: whole file", rng: "bytes=abc-", wantStatus: 200, wantAccept: "bytes", wantServedN: 1},
		{name: "reversed: whole file", rng: "bytes=20-10", wantStatus: 200, wantAccept: "bytes", wantServedN: 1},
		{name: "other unit: whole file", rng: "items=0-9", wantStatus: 200, wantAccept: "bytes", wantServedN: 1},
		{name: "ignored by a host without ranges", ignore: true, rng: "bytes=40000-", wantStatus: 200, wantServedN: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, Seed: 7, IgnoreRange: tt.ignore})
			u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
			hdr := []string{"Authorization", u.Token}
			if tt.rng != "" {
				hdr = append(hdr, "Range", tt.rng)
			}
			r := call(t, "GET", u.URL, "", hdr...)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %.200s)", r.status, tt.wantStatus, r.body)
			}
			if got := r.header.Get("Content-Range"); got != tt.wantCR {
				t.Errorf("Content-Range = %q, want %q", got, tt.wantCR)
			}
			if got := r.header.Get("Accept-Ranges"); got != tt.wantAccept {
				t.Errorf("Accept-Ranges = %q, want %q", got, tt.wantAccept)
			}
			var want []byte
			switch tt.wantStatus {
			case 200:
				want = whole
			case 206:
				want = whole[tt.wantFrom : tt.wantTo+1]
			}
			if want != nil {
				if !bytes.Equal(r.body, want) {
					t.Errorf("body: %d bytes (sha %s), want %d bytes (sha %s)", len(r.body), sha(r.body)[:8], len(want), sha(want)[:8])
				}
				if got := r.header.Get("Content-Length"); got != itoa(int64(len(want))) {
					t.Errorf("Content-Length = %s, want %d", got, len(want))
				}
			}
			served := s.Served()
			if len(served) != tt.wantServedN {
				t.Fatalf("Served = %+v, want %d entries", served, tt.wantServedN)
			}
			if len(served) == 1 {
				wantServed := Served{ConfUUID: c.ConfUUID, FileType: "Hd", Name: "0_0.mp4", Bytes: int64(len(want)), SHA256: sha(want), Offset: tt.wantFrom}
				if served[0] != wantServed {
					t.Errorf("Served[0] = %+v, want %+v", served[0], wantServed)
				}
			}
			if got := s.MediaBytesServed(); got != int64(len(want)) {
				t.Errorf("MediaBytesServed = %d, want %d", got, len(want))
			}
		})
	}
	t.Run("a used token is refused for a range too", func(t *testing.T) {
		s := Start(t, Config{Dataset: ds, Seed: 7})
		u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
		if r := call(t, "GET", u.URL, "", "Authorization", u.Token, "Range", "bytes=0-9"); r.status != 206 {
			t.Fatalf("first use: status %d", r.status)
		}
		wantError(t, call(t, "GET", u.URL, "", "Authorization", u.Token, "Range", "bytes=10-"), 403, CodeVerifyFailed)
	})
}

// get fetches a media link and reads what arrives before the connection
// ends: the body so far and the read error.
func get(t *testing.T, u dlURL, rng string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", u.URL, nil)
	req.Header.Set("Authorization", u.Token)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestMediaTruncateAt(t *testing.T) {
	const size = 100_000
	ds := rangeDataset()
	c := ds.Conferences[0]
	whole, _ := io.ReadAll(Content(7, c.ConfUUID, "Hd", "0_0.mp4", size))
	tests := []struct {
		name    string
		fault   Fault
		rng     string
		wantLen int64 // bytes sent; -1: random in [1, body)
		from    int64
		body    int64 // the body's full length
	}{
		{"default half", Fault{Kind: FaultTruncate}, "", size / 2, 0, size},
		{"at an offset", Fault{Kind: FaultTruncate, Offset: 12345}, "", 12345, 0, size},
		{"at an offset of a range", Fault{Kind: FaultTruncate, Offset: 1000}, "bytes=50000-", 1000, 50000, size - 50000},
		{"offset beyond the body breaks before its end", Fault{Kind: FaultTruncate, Offset: 1 << 40}, "bytes=99000-", 999, 99000, 1000},
		{"random", Fault{Kind: FaultTruncate, RandomOffset: true}, "", -1, 0, size},
		{"random in a range", Fault{Kind: FaultTruncate, RandomOffset: true}, "bytes=90000-", -1, 90000, size - 90000},
		{"reset at an offset", Fault{Kind: FaultReset, Offset: 12345}, "", 12345, 0, size},
		{"reset at random in a range", Fault{Kind: FaultReset, RandomOffset: true}, "bytes=50000-", -1, 50000, size - 50000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fault
			f.Endpoint, f.Times = EndpointMedia, 1
			s := Start(t, Config{Dataset: ds, Seed: 7, Faults: []Fault{f}})
			u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
			resp, b, err := get(t, u, tt.rng)
			if err == nil {
				t.Fatalf("read %d bytes without an error, want the connection cut", len(b))
			}
			if got := resp.ContentLength; got != tt.body {
				t.Errorf("Content-Length = %d, want %d", got, tt.body)
			}
			n, sent := int64(len(b)), s.MediaBytesServed()
			if tt.wantLen >= 0 && sent != tt.wantLen {
				t.Errorf("%d bytes sent, want %d", sent, tt.wantLen)
			}
			if tt.wantLen < 0 && (sent < 1 || sent >= tt.body) {
				t.Errorf("%d bytes sent, want within [1, %d)", sent, tt.body)
			}
			// A close delivers every byte sent; a reset may lose some.
			if n != sent && (tt.fault.Kind != FaultReset || n > sent) {
				t.Errorf("%d bytes arrived of %d sent", n, sent)
			}
			if !bytes.Equal(b, whole[tt.from:tt.from+n]) {
				t.Error("the bytes that arrived are not the file's")
			}
			if got := s.Counters().TokenRefused; got != 0 {
				t.Errorf("TokenRefused = %d, want 0", got)
			}
			if len(s.Served()) != 0 {
				t.Errorf("Served = %+v, want none", s.Served())
			}
		})
	}
	t.Run("random offsets differ and are seeded", func(t *testing.T) {
		draws := func(seed int64) []int {
			s := Start(t, Config{Dataset: ds, Seed: seed, Faults: []Fault{{Endpoint: EndpointMedia, Kind: FaultTruncate, RandomOffset: true}}})
			tok := login(t, s, "")
			var out []int
			for range 3 {
				_, b, _ := get(t, links(t, s, tok, c.ConfUUID)[0], "")
				out = append(out, len(b))
			}
			return out
		}
		a, b := draws(7), draws(7)
		if !slices.Equal(a, b) {
			t.Errorf("same seed: offsets %v then %v", a, b)
		}
		if a[0] == a[1] && a[1] == a[2] {
			t.Errorf("offsets %v: not random", a)
		}
	})
}

func TestFaultOffsetSpec(t *testing.T) {
	tests := []struct {
		spec    string
		want    Fault
		wantErr bool
	}{
		{spec: "media:truncate:at=1048576:times=3", want: Fault{Endpoint: EndpointMedia, Kind: FaultTruncate, Offset: 1 << 20, Times: 3}},
		{spec: "media:truncate:at=random:times=3", want: Fault{Endpoint: EndpointMedia, Kind: FaultTruncate, RandomOffset: true, Times: 3}},
		{spec: "media:truncate:at=-1", wantErr: true},
		{spec: "media:truncate:at=x", wantErr: true},
		{spec: "media:reset:at=10", want: Fault{Endpoint: EndpointMedia, Kind: FaultReset, Offset: 10}},
		{spec: "details:reset:at=10", wantErr: true},
		{spec: "details:truncate:at=10", wantErr: true},
		{spec: "media:flip:at=random", wantErr: true},
		{spec: "media:stall:at=10", want: Fault{Endpoint: EndpointMedia, Kind: FaultStall, Offset: 10}},
		{spec: "media:stall:at=10:latency=500ms", want: Fault{Endpoint: EndpointMedia, Kind: FaultStall, Offset: 10, Latency: 500 * time.Millisecond}},
		{spec: "media:chunked", want: Fault{Endpoint: EndpointMedia, Kind: FaultChunked}},
		{spec: "media:chunked:at=1000", want: Fault{Endpoint: EndpointMedia, Kind: FaultChunked, Offset: 1000}},
		{spec: "media:close:at=random", want: Fault{Endpoint: EndpointMedia, Kind: FaultClose, RandomOffset: true}},
		{spec: "details:stall", wantErr: true},
		{spec: "downloadurls:chunked", wantErr: true},
		{spec: "recordinfo:close", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFault(tt.spec)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseFault = %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFault = %+v, %v; want %+v", got, err, tt.want)
			}
			back, err := ParseFault(got.String())
			if err != nil || back != got {
				t.Errorf("round trip of %q = %+v, %v; want %+v", got.String(), back, err, got)
			}
		})
	}
}

// TestMediaFraming: the "chunked" and "close" faults send the body without
// a Content-Length, whole or cut; a cut chunked body lacks its terminating
// chunk (the client sees an unexpected EOF), a cut close-delimited one ends
// like a whole one (the client cannot tell).
func TestMediaFraming(t *testing.T) {
	const size = 100_000
	ds := rangeDataset()
	c := ds.Conferences[0]
	whole, _ := io.ReadAll(Content(7, c.ConfUUID, "Hd", "0_0.mp4", size))
	tests := []struct {
		name        string
		fault       Fault
		rng         string
		wantTE      []string
		wantFrom    int64
		wantLen     int
		wantErr     error // of reading the body
		wantServedN int
	}{
		{"chunked whole", Fault{Kind: FaultChunked}, "", []string{"chunked"}, 0, size, nil, 1},
		{"chunked range", Fault{Kind: FaultChunked}, "bytes=90000-", []string{"chunked"}, 90000, size - 90000, nil, 1},
		{"chunked cut", Fault{Kind: FaultChunked, Offset: 12345}, "", []string{"chunked"}, 0, 12345, io.ErrUnexpectedEOF, 0},
		{"close whole", Fault{Kind: FaultClose}, "", nil, 0, size, nil, 1},
		{"close cut", Fault{Kind: FaultClose, Offset: 12345}, "", nil, 0, 12345, nil, 0},
		{"close cut in a range", Fault{Kind: FaultClose, Offset: 100}, "bytes=50000-", nil, 50000, 100, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fault
			f.Endpoint = EndpointMedia
			s := Start(t, Config{Dataset: ds, Seed: 7, Faults: []Fault{f}})
			u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
			resp, b, err := get(t, u, tt.rng)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("reading the body: %v, want %v", err, tt.wantErr)
			}
			if resp.ContentLength != -1 {
				t.Errorf("ContentLength = %d, want -1 (none)", resp.ContentLength)
			}
			if !slices.Equal(resp.TransferEncoding, tt.wantTE) {
				t.Errorf("TransferEncoding = %q, want %q", resp.TransferEncoding, tt.wantTE)
			}
			if len(b) != tt.wantLen || !bytes.Equal(b, whole[tt.wantFrom:tt.wantFrom+int64(len(b))]) {
				t.Errorf("got %d bytes (the file's: %v), want %d of the file from byte %d", len(b),
					bytes.Equal(b, whole[tt.wantFrom:min(size, tt.wantFrom+int64(len(b)))]), tt.wantLen, tt.wantFrom)
			}
			if got := len(s.Served()); got != tt.wantServedN {
				t.Errorf("Served has %d entries, want %d", got, tt.wantServedN)
			}
		})
	}
}

// TestMediaStall: a "stall" fault sends its bytes and then nothing, with
// the connection open, until the client gives up; with a latency, the rest
// trickles one byte at a time and the body completes.
func TestMediaStall(t *testing.T) {
	const size = 100_000
	ds := rangeDataset()
	c := ds.Conferences[0]
	whole, _ := io.ReadAll(Content(7, c.ConfUUID, "Hd", "0_0.mp4", size))

	t.Run("silent", func(t *testing.T) {
		s := Start(t, Config{Dataset: ds, Seed: 7, Faults: []Fault{{Endpoint: EndpointMedia, Kind: FaultStall, Offset: 10}}})
		u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", u.URL, nil)
		req.Header.Set("Authorization", u.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		defer resp.Body.Close()
		if resp.ContentLength != size {
			t.Errorf("ContentLength = %d, want %d", resp.ContentLength, size)
		}
		first := make([]byte, 10)
		if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, whole[:10]) {
			t.Fatalf("first 10 bytes: %v (the file's: %v)", err, bytes.Equal(first, whole[:10]))
		}
		done := make(chan error, 1)
		go func() {
			_, err := resp.Body.Read(make([]byte, 100))
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("the read after the stall returned (%v), want it to block", err)
		case <-time.After(200 * time.Millisecond):
		}
		cancel()
		select {
		case err := <-done:
			if err == nil {
				t.Error("the read after cancel succeeded, want an error")
			}
		case <-time.After(30 * time.Second): // safety net
			t.Fatal("the read did not end after cancel")
		}
		if got := s.MediaBytesServed(); got != 10 {
			t.Errorf("MediaBytesServed = %d, want 10", got)
		}
	})
	t.Run("trickle completes", func(t *testing.T) {
		s := Start(t, Config{Dataset: ds, Seed: 7, Faults: []Fault{{Endpoint: EndpointMedia, Kind: FaultStall, Offset: 5, Latency: time.Millisecond}}})
		u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
		_, b, err := get(t, u, "bytes=99980-")
		if err != nil || !bytes.Equal(b, whole[99980:]) {
			t.Fatalf("body: %d bytes, %v; want the last 20 bytes of the file", len(b), err)
		}
		if got := len(s.Served()); got != 1 {
			t.Errorf("Served has %d entries, want 1", got)
		}
	})
}
