package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testConfUUID2 is a second well-formed conference UUID (testConfUUID is the first).
const testConfUUID2 = "fedcba9876543210fedcba9876543210"

// testConfN is the n-th well-formed conference UUID of a test.
func testConfN(n int) string { return fmt.Sprintf("%032x", n) }

func TestLinksDownloadURLs(t *testing.T) {
	var calls atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != pathDownloadURLs {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("confUUID") != testConfUUID || q.Get("limit") == "" {
			t.Errorf("query = %s", r.URL.RawQuery)
		}
		if q.Get("offset") != "0" { // the page after a short first one: empty
			fmt.Fprintf(w, `{"recordUrls":[{"confUuid":%q,"urls":[]}]}`, testConfUUID)
			return
		}
		n := calls.Load()
		tok := func(s string) string { return fmt.Sprintf("tok-%s-%d", s, n) }
		fmt.Fprintf(w, `{"recordUrls":[
			{"confUuid":%q,"urls":[
				{"token":%q,"fileType":"Hd","url":"https://m/videoHD/0_10.mp4?sig=1"},
				{"token":%q,"fileType":"Sd","url":"https://m/videoSD/0_0.mp4"},
				{"token":%q,"fileType":"Hd","url":"https://m/videoHD/0_2.mp4"},
				{"token":%q,"fileType":"Aux","url":"https://m/aux/0_0.mp4"},
				{"token":"","fileType":"Hd","url":""}
			],"extra":true}]}`, strings.ToUpper(testConfUUID), tok("a"), tok("b"), tok("c"), tok("d"))
	})
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
	files, err := c.Links(ctxT(t), strings.ToUpper(testConfUUID))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, fmt.Sprintf("%d %s %s %d", f.Index, f.ID(), f.Token, f.Size))
		if f.ConfUUID != testConfUUID || f.SHA256 != "" {
			t.Errorf("file %v: ConfUUID %q SHA256 %q", f, f.ConfUUID, f.SHA256)
		}
	}
	want := []string{"0 Aux/0_0.mp4 tok-d-1 -1", "1 Hd/0_2.mp4 tok-c-1 -1", "2 Hd/0_10.mp4 tok-a-1 -1", "3 Sd/0_0.mp4 tok-b-1 -1"}
	if !slices.Equal(got, want) {
		t.Errorf("files =\n%q\nwant\n%q", got, want)
	}
	// Fresh links every call.
	again, err := c.Links(ctxT(t), testConfUUID)
	if err != nil || len(again) != 4 || again[0].Token == files[0].Token {
		t.Errorf("second Links = %v, %v: want fresh tokens", again, err)
	}

	// Filter (case-insensitive), Index from the unfiltered order.
	c = NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.FileTypes = []string{"hd"} })
	files, err = c.Links(ctxT(t), testConfUUID)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, f := range files {
		got = append(got, fmt.Sprintf("%d %s", f.Index, f.ID()))
	}
	if want := []string{"1 Hd/0_2.mp4", "2 Hd/0_10.mp4"}; !slices.Equal(got, want) {
		t.Errorf("filtered files = %q, want %q", got, want)
	}
}

func TestLinksDownloadURLsPaging(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		type u struct {
			Token, FileType, URL string
		}
		var urls []u
		for i := off; i < min(off+lim, 130); i++ {
			urls = append(urls, u{"t" + strconv.Itoa(i), "Hd", fmt.Sprintf("https://m/0_%d.mp4", i)})
		}
		b, _ := json.Marshal(map[string]any{"recordUrls": []any{map[string]any{"confUuid": testConfUUID, "urls": urls}}})
		w.Write(b)
	})
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
	files, err := c.Links(ctxT(t), testConfUUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 130 || files[129].Name != "0_129.mp4" || c.Stats().Requests != 2 {
		t.Errorf("got %d files (last %v) in %d requests; want 130 in 2", len(files), files[len(files)-1], c.Stats().Requests)
	}
}

const sha64 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"

func recordInfoHandler(t *testing.T, calls *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != pathRecordInfo || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		n := calls.Add(1)
		var req recordInfoRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.ConfUUID != testConfUUID || req.SegmentLimit <= 0 {
			t.Errorf("record info request %+v: %v", req, err)
		}
		// Two segments, one per page.
		seg := req.SegmentOffset
		if seg > 1 {
			fmt.Fprint(w, `{"code":"0","data":{"segmentCount":2,"segmentList":[]}}`)
			return
		}
		fmt.Fprintf(w, `{"code":0,"message":"success","data":{"subject":"s","segmentOffset":%d,"segmentLimit":1,"segmentCount":"2",
			"segmentList":[{"manualOrder":0,"segmentOrder":%d,"segmentSize":"300","fileList":[
			{"recordType":"SPEAKER_VIDEO","fileSize":100,"sha256":%q,"downloadUrl":"https://m/sp/0_%d.mp4?token=T%d"},
			{"recordType":"AUDIO","fileSize":"200","sha256":"","downloadUrl":"https://m/au/0_%d.m4a?token=U%d"}]}]}}`,
			seg, seg, sha64, seg, n, seg, n)
	}
}

func TestLinksRecordInfo(t *testing.T) {
	var calls atomic.Int64
	srv := server(t, recordInfoHandler(t, &calls))
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Links = LinksRecordInfo })
	files, err := c.Links(ctxT(t), testConfUUID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, fmt.Sprintf("%d %s %d %s tok=%q", f.Index, f.ID(), f.Size, f.SHA256, f.Token))
		if !strings.Contains(f.URL, "token=") {
			t.Errorf("URL %v lost its token", f)
		}
	}
	want := []string{
		`0 AUDIO/0_0.m4a 200  tok=""`,
		`1 AUDIO/0_1.m4a 200  tok=""`,
		`2 SPEAKER_VIDEO/0_0.mp4 100 ` + strings.ToLower(sha64) + ` tok=""`,
		`3 SPEAKER_VIDEO/0_1.mp4 100 ` + strings.ToLower(sha64) + ` tok=""`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("files =\n%q\nwant\n%q", got, want)
	}
}

func TestLinksAutoFallback(t *testing.T) {
	var ri, du atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathRecordInfo:
			ri.Add(1)
			writeAPIError(w, http.StatusNotFound, "APIG.0101", "the API does not exist")
		case pathDownloadURLs:
			du.Add(1)
			fmt.Fprintf(w, `{"recordUrls":[{"confUuid":%q,"urls":[{"token":"t","fileType":"Hd","url":"https://m/0_0.mp4"}]}]}`, testConfUUID)
		}
	})
	logs := &logBuffer{}
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Links = LinksAuto; c.Logger = logs.logger() })
	for range 3 {
		files, err := c.Links(ctxT(t), testConfUUID)
		if err != nil || len(files) != 1 {
			t.Fatalf("Links = %v, %v", files, err)
		}
	}
	// Three Links calls, and one more page after the first short one (it
	// repeats the link: that short page was the last, and later ones of
	// its length are taken as last without asking).
	if ri.Load() != 1 || du.Load() != 4 {
		t.Errorf("record info calls %d, downloadurls calls %d; want 1 and 4", ri.Load(), du.Load())
	}
	if n := strings.Count(logs.String(), "falling back"); n > 1 {
		t.Errorf("fallback logged %d times", n)
	}

	// A per-conference error does not make auto fall back.
	var ri2 atomic.Int64
	srv2 := server(t, func(w http.ResponseWriter, r *http.Request) {
		ri2.Add(1)
		writeAPIError(w, http.StatusBadRequest, CodeMeetingMissing, "meeting does not exist")
	})
	c = NewTestClient(t, srv2.URL, tokenCreds, func(c *Config) { c.Links = LinksAuto })
	if _, err := c.Links(ctxT(t), testConfUUID); ErrorCode(err) != CodeMeetingMissing || !errors.Is(err, ErrNotFound) {
		t.Errorf("Links err = %v, want %s and ErrNotFound", err, CodeMeetingMissing)
	}
	if c.linksFallback.Load() {
		t.Error("fell back on a per-conference error")
	}
}

// listServer serves n recordings in pages; mode "rows", "page0" or "page1";
// cap caps the page size; noCount hides count.
func listServer(t *testing.T, n int, mode string, capLimit int, noCount bool, calls *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		if q.Get("startDate") != "1704067200000" || q.Get("endDate") != "1735689599000" || q.Get("sortType") != "ASC_StartTIME" || q.Get("queryAll") != "true" {
			t.Errorf("list query %s", r.URL.RawQuery)
		}
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, _ := strconv.Atoi(q.Get("limit"))
		lim = min(lim, capLimit)
		skip := off
		switch mode {
		case "page0":
			skip = off * lim
		case "page1":
			skip = max(0, off-1) * lim
		}
		var data []map[string]any
		for i := skip; i < min(n, skip+lim); i++ {
			data = append(data, listRow(i))
		}
		resp := map[string]any{"offset": off, "limit": lim, "data": data}
		if !noCount {
			resp["count"] = n
		}
		writeJSON(w, 200, resp)
	}
}

func TestListPaging(t *testing.T) {
	tests := []struct {
		mode    string
		n, cap  int
		noCount bool
	}{
		{"rows", 250, 100, false},
		{"page0", 250, 100, false},
		{"page1", 250, 100, false},
		{"rows", 250, 40, false},
		{"page0", 250, 40, false},
		{"page1", 250, 40, false},
		{"rows", 250, 100, true},
		{"page0", 250, 100, true},
		{"page1", 250, 100, true},
		{"rows", 100, 100, false},
		{"rows", 100, 100, true},
		{"page0", 0, 100, false},
		{"page0", 101, 100, false},
		{"page1", 101, 100, false},
		{"rows", 101, 100, false},
		// No count, and a server that caps the page and says so in limit:
		// a page of that limit is not a short one.
		{"rows", 250, 40, true},
		{"page0", 250, 40, true},
		{"page1", 250, 40, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/n=%d/cap=%d/nocount=%v", tt.mode, tt.n, tt.cap, tt.noCount), func(t *testing.T) {
			var calls atomic.Int64
			srv := server(t, listServer(t, tt.n, tt.mode, tt.cap, tt.noCount, &calls))
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			var got []string
			err := c.List(ctxT(t), ListQuery{
				From:     time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
				To:       time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
				AllUsers: true,
			}, func(r Recording) error {
				got = append(got, r.ConfUUID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.n {
				t.Fatalf("got %d recordings, want %d", len(got), tt.n)
			}
			for i, u := range got {
				if want := testConfN(i); u != want {
					t.Fatalf("recording %d = %s, want %s (order or duplicates)", i, u, want)
				}
			}
			pageSize := tt.cap
			maxCalls := int64((tt.n+pageSize-1)/pageSize + 2) // + probe + final empty page
			if calls.Load() > maxCalls {
				t.Errorf("list calls = %d, want <= %d", calls.Load(), maxCalls)
			}
		})
	}
}

// listRow is the i-th recording of a list test server, in upper case (the
// client hands it on normalised).
func listRow(i int) map[string]any {
	return map[string]any{"confUUID": strings.ToUpper(testConfN(i)), "subject": "s", "available": true, "isDecodeFinish": true}
}

func TestListStopsOnLoop(t *testing.T) {
	tests := []struct {
		name    string
		count   int // the answers' count
		wantErr error
	}{
		// The same full page again and again while count claims more: the
		// paging does not advance, and a silent stop would lose 990.
		{"count says more", 1000, ErrTooManyPages},
		// Without a count, a page that brings nothing new ends the list.
		{"no count", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				var data []map[string]any
				for i := range 10 {
					data = append(data, listRow(i))
				}
				resp := map[string]any{"data": data}
				if tt.count > 0 {
					resp["count"] = tt.count
				}
				writeJSON(w, 200, resp)
			})
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			n := 0
			err := c.List(ctxT(t), ListQuery{From: time.Unix(0, 0), To: time.Now(), PageSize: 10}, func(Recording) error { n++; return nil })
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("List = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && ErrorCode(err) != "too-many-pages" {
				t.Errorf("ErrorCode = %q, want too-many-pages", ErrorCode(err))
			}
			if n != 10 || calls.Load() > 3 {
				t.Errorf("got %d recordings in %d calls; want 10 in <= 3", n, calls.Load())
			}
		})
	}
}

func TestListCallbackError(t *testing.T) {
	var calls atomic.Int64
	srv := server(t, listServer(t, 50, "rows", 100, false, &calls))
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
	stop := errors.New("stop")
	n := 0
	err := c.List(ctxT(t), ListQuery{From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC), AllUsers: true},
		func(Recording) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("List = %v after %d calls, want the callback's error after 1", err, n)
	}
	if err := c.List(ctxT(t), ListQuery{}, func(Recording) error { return nil }); err == nil {
		t.Error("List without dates: no error")
	}
}

func TestNaturalLess(t *testing.T) {
	in := []string{"0_10.mp4", "0_2.mp4", "1_0.mp4", "0_1.mp4", "0_02.mp4", "a", "0_1.m4a"}
	slices.SortFunc(in, func(a, b string) int {
		if naturalLess(a, b) {
			return -1
		}
		if naturalLess(b, a) {
			return 1
		}
		return 0
	})
	want := []string{"0_1.m4a", "0_1.mp4", "0_2.mp4", "0_02.mp4", "0_10.mp4", "1_0.mp4", "a"}
	if !slices.Equal(in, want) {
		t.Errorf("sorted = %q, want %q", in, want)
	}
}

var _ = io.EOF
