package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
)

func TestFileName(t *testing.T) {
	cases := []struct{ url, want string }{
		{"https://h/videoHD/0_1.mp4?token=abc", "0_1.mp4"},
		{"https://h/download?file=0_2.mp4&token=abc", "0_2.mp4"},
		{"https://h/download?token=x.mp4&name=dir%2F0_3.m4a", "0_3.m4a"},
		{"https://h/get?response-content-disposition=attachment%3B%20filename%3D%22rec.mp4%22", "rec.mp4"},
		{"https://h/download?id=Zm9v", "download"},
		{"https://h/", "file"},
		{"https://h/download?sign=a.b&t=1.2", "download"},
	}
	for _, tc := range cases {
		if got := fileName(tc.url); got != tc.want {
			t.Errorf("fileName(%q) = %q, want %q", tc.url, got, tc.want)
		}
	}
}

func TestFileListKeepsEveryDistinctFile(t *testing.T) {
	sha := func(c byte) string {
		b := make([]byte, 64)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	f := func(url, sum string, size int64) File {
		return File{FileType: "Hd", Name: fileName(url), URL: url, SHA256: sum, Size: size}
	}
	cases := []struct {
		name      string
		files     []File
		wantFiles int
		wantErr   error
	}{
		{"same full URL twice (overlapping pages)", []File{f("https://h/a/0_1.mp4", "", -1), f("https://h/a/0_1.mp4", "", -1)}, 1, nil},
		{"query-only differences", []File{f("https://h/d?file=0_0.mp4", "", -1), f("https://h/d?file=0_1.mp4", "", -1), f("https://h/d?file=0_2.mp4", "", -1)}, 3, nil},
		{"one name, two URLs, no hash", []File{f("https://h/a/0_1.mp4?token=1", "", -1), f("https://h/b/0_1.mp4?token=2", "", -1)}, 0, ErrAmbiguousFiles},
		{"one name, two tokens, same hash and size", []File{f("https://h/a/0_1.mp4?token=1", sha('a'), 10), f("https://h/a/0_1.mp4?token=2", sha('a'), 10)}, 1, nil},
		{"one name, different hashes", []File{f("https://h/a/0_1.mp4?token=1", sha('a'), 10), f("https://h/b/0_1.mp4?token=2", sha('b'), 10)}, 0, ErrAmbiguousFiles},
		{"names differing by case are two files", []File{f("https://h/a.mp4", "", -1), f("https://h/A.mp4", "", -1)}, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newFileList("downloadurls")
			var err error
			for _, x := range tc.files {
				if _, err = l.add(x); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			if err == nil && len(l.files) != tc.wantFiles {
				t.Errorf("%d files, want %d", len(l.files), tc.wantFiles)
			}
			if err != nil && ErrorCode(err) != CodeAmbiguousFiles {
				t.Errorf("code %q, want %q", ErrorCode(err), CodeAmbiguousFiles)
			}
		})
	}
}

// TestLinksDownloadURLsGateways: hosts that page differently from the
// documentation lose no file silently: a gateway that serves 20 links a
// page whatever it is asked for is paged to the end; a host that ignores
// offset and lists everything at once is read once more and stops; one
// that ignores offset and caps its page fails the conference.
func TestLinksDownloadURLsGateways(t *testing.T) {
	cases := []struct {
		name           string
		files          int
		page           func(off, lim int) (from, to int)
		wantFiles      int
		wantRequests   int64 // link requests
		wantErrTooMany bool
	}{
		{"honours limit, 30 files", 30, func(off, lim int) (int, int) { return off, off + lim }, 30, 2, false},
		{"honours limit, 5 files", 5, func(off, lim int) (int, int) { return off, off + lim }, 5, 2, false},
		{"caps at 5", 12, func(off, lim int) (int, int) { return off, off + min(lim, 5) }, 12, 3, false},
		{"caps at 3, 3 files", 3, func(off, lim int) (int, int) { return off, off + min(lim, 3) }, 3, 2, false},
		{"caps at 20", 45, func(off, lim int) (int, int) { return off, off + min(lim, 20) }, 45, 3, false},
		{"ignores offset, lists all 25", 25, func(off, lim int) (int, int) { return 0, 1 << 30 }, 25, 2, false},
		{"ignores offset, caps at 20", 25, func(off, lim int) (int, int) { return 0, 20 }, 0, 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
				from, to := tc.page(off, lim)
				urls := []map[string]string{}
				for i := from; i < min(to, tc.files); i++ {
					urls = append(urls, map[string]string{"token": "t" + strconv.Itoa(i), "fileType": "Hd", "url": fmt.Sprintf("https://m/0_%d.mp4", i)})
				}
				b, _ := json.Marshal(map[string]any{"recordUrls": []any{map[string]any{"confUuid": testConfUUID, "urls": urls}}})
				w.Write(b)
			})
			c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Links = LinksDownloadURLs })
			files, err := c.Links(ctxT(t), testConfUUID)
			if tc.wantErrTooMany {
				if !errors.Is(err, ErrTooManyPages) {
					t.Fatalf("err %v, want ErrTooManyPages", err)
				}
			} else if err != nil || len(files) != tc.wantFiles {
				t.Fatalf("%d files, err %v; want %d", len(files), err, tc.wantFiles)
			}
			if got := calls.Load(); got != tc.wantRequests {
				t.Errorf("%d link requests, want %d", got, tc.wantRequests)
			}
			if tc.wantErrTooMany || tc.files >= linksDefaultPage || tc.wantRequests != 2 {
				return // only a single short page is learnt
			}
			// The same host again: a page no longer than the short page it
			// proved to be the last needs no second request.
			calls.Store(0)
			if files, err := c.Links(ctxT(t), testConfUUID); err != nil || len(files) != tc.wantFiles {
				t.Fatalf("again: %d files, err %v", len(files), err)
			}
			if got, want := calls.Load(), tc.wantRequests-1; got != want {
				t.Errorf("again: %d link requests, want %d", got, want)
			}
		})
	}
}
