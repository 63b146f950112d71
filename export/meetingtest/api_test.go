package meetingtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDetails(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds})
	tok := login(t, s, "")
	get := func(confUUID string) reply {
		return call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+url.QueryEscape(confUUID), "", "X-Access-Token", tok)
	}
	ready, pending := ds.Conferences[0], ds.Conferences[5]
	tests := []struct {
		name       string
		conf       Conference
		wantURLs   int
		wantSize   int
		wantDecode bool
	}{
		{"ready", ready, 1, 2, true}, // 1 MiB + 512 KiB + 768 KiB = 2.25 MiB -> 2
		{"pending", pending, 0, 1, false},
		{"small", ds.Conferences[1], 1, 0, true}, // 256 KiB -> 0 MB
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(tt.conf.ConfUUID)
			if r.status != 200 {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var got recording
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			c := tt.conf
			if got.ConfUUID != c.ConfUUID || got.ConfID != c.ConfID || got.Subject != c.Subject || got.StartTime != c.StartTime ||
				got.ScheduserName != c.ScheduserName || got.RcdTime != c.RcdTime || got.DecodeEndTime != c.DecodeEndTime ||
				got.Available != c.Available || got.RecordAuthType != c.RecordAuthType {
				t.Errorf("detail = %+v, want the dataset's %+v", got, c)
			}
			if got.IsDecodeFinish != tt.wantDecode || got.RcdSize != tt.wantSize || len(got.URL) != tt.wantURLs {
				t.Errorf("isDecodeFinish %v rcdSize %d urls %d; want %v %d %d", got.IsDecodeFinish, got.RcdSize, len(got.URL), tt.wantDecode, tt.wantSize, tt.wantURLs)
			}
			for _, u := range got.URL {
				if !strings.Contains(u, "token=") {
					t.Errorf("playback url %q lacks token=", u)
				}
				p := call(t, "GET", u, "")
				if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
					t.Errorf("playback page: status %d type %q, want 200 text/html", p.status, p.header.Get("Content-Type"))
				}
			}
		})
	}
	t.Run("unknown", func(t *testing.T) { wantError(t, get(SampleUnknownConfUUID), 400, CodeMeetingNotExist) })
	t.Run("missing confUUID", func(t *testing.T) { wantError(t, get(""), 400, CodeRequestError) })
	t.Run("unknown api", func(t *testing.T) {
		wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/nope", "", "X-Access-Token", tok), 404, CodeNoAPI)
	})
	if got := s.Counters().Details; got != 5 {
		t.Errorf("Details = %d, want 5", got)
	}
}

type listPage struct {
	Offset int64 `json:"offset"`
	Limit  int64 `json:"limit"`
	Count  int64 `json:"count"`
	Data   []struct {
		ConfUUID  string `json:"confUUID"`
		Subject   string `json:"subject"`
		StartTime string `json:"startTime"`
	} `json:"data"`
}

func TestList(t *testing.T) {
	start0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	ds := Generate(GenerateConfig{Conferences: 45, Seed: 3, Start: start0, Interval: time.Hour})
	ds.Conferences[7].UserID = "bob" // owned by bob: hidden from others without queryAll
	ds.Conferences[8].Subject = "Needle in a haystack"
	ds.Conferences[30].Subject = "another NEEDLE"
	ms := func(h int) string { return fmt.Sprint(start0.Add(time.Duration(h) * time.Hour).UnixMilli()) }
	all := "&queryAll=true"
	uuids := func(from, to int) []string { return ds.UUIDs()[from:to] }
	tests := []struct {
		name      string
		cfg       Config
		query     string
		wantCount int64
		wantLimit int64
		want      []string
	}{
		{"default limit 20", Config{}, "startDate=" + ms(0) + "&endDate=" + ms(100) + all, 45, 20, uuids(0, 20)},
		{"row offset", Config{}, "startDate=" + ms(0) + "&endDate=" + ms(100) + "&offset=40&limit=10" + all, 45, 10, uuids(40, 45)},
		{"offset past end", Config{}, "startDate=" + ms(0) + "&endDate=" + ms(100) + "&offset=45&limit=10" + all, 45, 10, nil},
		{"page index mode", Config{ListOffsetIsPage: true}, "startDate=" + ms(0) + "&endDate=" + ms(100) + "&offset=2&limit=10" + all, 45, 10, uuids(20, 30)},
		{"limit capped", Config{ListMaxLimit: 15}, "startDate=" + ms(0) + "&endDate=" + ms(100) + "&limit=500" + all, 45, 15, uuids(0, 15)},
		{"range inclusive", Config{}, "startDate=" + ms(10) + "&endDate=" + ms(12) + all, 3, 20, uuids(10, 13)},
		{"search subject", Config{}, "startDate=" + ms(0) + "&endDate=" + ms(100) + "&searchKey=needle" + all, 2, 20,
			[]string{ds.Conferences[8].ConfUUID, ds.Conferences[30].ConfUUID}},
		{"descending", Config{}, "startDate=" + ms(0) + "&endDate=" + ms(100) + "&sortType=DSC_StartTIME&limit=2" + all, 45, 2,
			[]string{ds.Conferences[44].ConfUUID, ds.Conferences[43].ConfUUID}},
		{"own recordings only", Config{}, "startDate=" + ms(7) + "&endDate=" + ms(8), 1, 20, []string{ds.Conferences[8].ConfUUID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Dataset = ds
			s := Start(t, cfg)
			r := call(t, "GET", s.URL+"/v1/mmc/management/record/files?"+tt.query, "", "X-Access-Token", login(t, s, ""))
			if r.status != 200 {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			var p listPage
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range p.Data {
				got = append(got, d.ConfUUID)
			}
			if p.Count != tt.wantCount || p.Limit != tt.wantLimit || !slices.Equal(got, tt.want) {
				t.Errorf("count %d limit %d data %v; want %d %d %v", p.Count, p.Limit, got, tt.wantCount, tt.wantLimit, tt.want)
			}
		})
	}

	s := Start(t, Config{Dataset: ds})
	tok := login(t, s, "")
	bad := []struct{ name, query string }{
		{"no dates", "offset=0"},
		{"no endDate", "startDate=" + ms(0)},
		{"date not a number", "startDate=x&endDate=" + ms(1)},
		{"negative offset", "startDate=" + ms(0) + "&endDate=" + ms(1) + "&offset=-1"},
		{"bad sortType", "startDate=" + ms(0) + "&endDate=" + ms(1) + "&sortType=NEWEST"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/record/files?"+tt.query, "", "X-Access-Token", tok), 400, CodeRequestError)
		})
	}
}

// TestListPagingVisitsAll pages the way a client should (until count rows
// are seen) in both offset modes and checks every recording comes back once.
func TestListPagingVisitsAll(t *testing.T) {
	ds := Generate(GenerateConfig{Conferences: 57, Seed: 9})
	for _, pageMode := range []bool{false, true} {
		t.Run(fmt.Sprintf("page-index=%v", pageMode), func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, ListOffsetIsPage: pageMode})
			tok := login(t, s, "")
			seen := map[string]int{}
			for page := 0; page < 20; page++ {
				off := page * 10
				if pageMode {
					off = page
				}
				r := call(t, "GET", fmt.Sprintf("%s/v1/mmc/management/record/files?startDate=0&endDate=%d&offset=%d&limit=10&queryAll=true",
					s.URL, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), off), "", "X-Access-Token", tok)
				var p listPage
				if err := json.Unmarshal(r.body, &p); err != nil {
					t.Fatal(err)
				}
				for _, d := range p.Data {
					seen[d.ConfUUID]++
				}
				if len(p.Data) < 10 {
					break
				}
			}
			if len(seen) != 57 {
				t.Errorf("saw %d distinct recordings, want 57", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("%s seen %d times", id, n)
				}
			}
		})
	}
}

func TestDownloadURLs(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds})
	tok := login(t, s, "")
	t.Run("shape", func(t *testing.T) {
		c := ds.Conferences[0]
		r := call(t, "GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+c.ConfUUID, "", "X-Access-Token", tok)
		var raw map[string][]map[string]json.RawMessage
		if err := json.Unmarshal(r.body, &raw); err != nil {
			t.Fatalf("body %s: %v", r.body, err)
		}
		entry := raw["recordUrls"][0]
		if _, ok := entry["confUuid"]; !ok {
			t.Errorf("entry keys %v: want lower-case confUuid", slices.Collect(mapsKeys(entry)))
		}
		got := links(t, s, tok, c.ConfUUID)
		if len(got) != len(c.Files) {
			t.Fatalf("%d urls, want %d", len(got), len(c.Files))
		}
		for i, u := range got {
			f := c.Files[i]
			if u.FileType != f.FileType || !strings.HasSuffix(u.URL, "/media/"+c.ConfUUID+"/"+f.FileType+"/"+f.Name) || len(u.Token) < 32 {
				t.Errorf("url %d = %+v, want type %s and path ending %s/%s", i, u, f.FileType, f.FileType, f.Name)
			}
			if !strings.HasPrefix(u.URL, s.URL) {
				t.Errorf("url %q does not point at the simulator %s", u.URL, s.URL)
			}
		}
	})
	t.Run("paging files", func(t *testing.T) {
		c := ds.Conferences[0]
		r := call(t, "GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+c.ConfUUID+"&offset=1&limit=1", "", "X-Access-Token", tok)
		if n := strings.Count(string(r.body), `"token"`); n != 1 || !strings.Contains(string(r.body), `"fileType":"Sd"`) {
			t.Errorf("offset=1&limit=1 gave %d urls: %s; want just the Sd file", n, r.body)
		}
	})
	for _, tt := range []struct {
		name string
		conf Conference
	}{{"pending", ds.Conferences[5]}, {"unavailable", ds.Conferences[6]}} {
		t.Run(tt.name, func(t *testing.T) {
			if got := links(t, s, tok, tt.conf.ConfUUID); len(got) != 0 {
				t.Errorf("%d urls for a %s recording, want none", len(got), tt.name)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+SampleUnknownConfUUID, "", "X-Access-Token", tok), 400, CodeMeetingNotExist)
	})
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type recordInfoDoc struct {
	Code string `json:"code"`
	Data struct {
		Subject      string `json:"subject"`
		SegmentCount int    `json:"segmentCount"`
		SegmentList  []struct {
			SegmentOrder int    `json:"segmentOrder"`
			SegmentSize  string `json:"segmentSize"`
			FileList     []struct {
				RecordType  string `json:"recordType"`
				BeginTime   int64  `json:"beginTime"`
				EndTime     int64  `json:"endTime"`
				Duration    int64  `json:"duration"`
				FileSize    int64  `json:"fileSize"`
				SHA256      string `json:"sha256"`
				PlayURL     string `json:"playUrl"`
				DownloadURL string `json:"downloadUrl"`
			} `json:"fileList"`
		} `json:"segmentList"`
	} `json:"data"`
}

func TestRecordInfo(t *testing.T) {
	ds := SampleDataset()
	t.Run("disabled", func(t *testing.T) {
		s := Start(t, Config{Dataset: ds})
		r := call(t, "POST", s.URL+"/v1/mmc/rlm/record/info", `{"confUUID":"`+ds.Conferences[0].ConfUUID+`"}`, "X-Access-Token", login(t, s, ""))
		wantError(t, r, 404, CodeNoAPI)
		if r.header.Get("X-APIG-Ratelimit-Api") == "" {
			t.Errorf("404 lacks the gateway header")
		}
	})
	s := Start(t, Config{Dataset: ds, RecordInfo: true, Seed: 11})
	tok := login(t, s, "")
	info := func(body string) reply {
		return call(t, "POST", s.URL+"/v1/mmc/rlm/record/info", body, "X-Access-Token", tok)
	}
	c := ds.Conferences[4] // Hd 0_0, Hd 0_1, Aux 0_0
	r := info(fmt.Sprintf(`{"confUUID":%q,"segmentOffset":0,"segmentLimit":10}`, c.ConfUUID))
	var doc recordInfoDoc
	if err := json.Unmarshal(r.body, &doc); r.status != 200 || err != nil {
		t.Fatalf("status %d body %s: %v", r.status, r.body, err)
	}
	if doc.Data.SegmentCount != 2 || len(doc.Data.SegmentList) != 2 {
		t.Fatalf("segments %d (%d listed), want 2: %s", doc.Data.SegmentCount, len(doc.Data.SegmentList), r.body)
	}
	type key struct{ recordType, name string }
	want := map[key]File{
		{"SPEAKER_VIDEO", "0_0.mp4"}: c.Files[0],
		{"SPEAKER_VIDEO", "0_1.mp4"}: c.Files[1],
		{"SHARE_VIDEO", "0_0.mp4"}:   c.Files[2],
	}
	for si, seg := range doc.Data.SegmentList {
		var segSize int64
		for _, f := range seg.FileList {
			name := f.DownloadURL[strings.LastIndex(f.DownloadURL, "/")+1 : strings.Index(f.DownloadURL, "?")]
			wf, ok := want[key{f.RecordType, name}]
			if !ok {
				t.Errorf("segment %d: unexpected file %s %s", si, f.RecordType, name)
				continue
			}
			delete(want, key{f.RecordType, name})
			segSize += f.FileSize
			t.Run(f.RecordType+"/"+name, func(t *testing.T) {
				if f.FileSize != wf.Size {
					t.Errorf("fileSize = %d, want %d", f.FileSize, wf.Size)
				}
				if len(f.SHA256) != 64 || f.SHA256 != s.FileSHA256(c.ConfUUID, wf.FileType, wf.Name) {
					t.Errorf("sha256 = %q, want the file's", f.SHA256)
				}
				if !strings.Contains(f.DownloadURL, "?token=") || f.EndTime <= f.BeginTime || f.Duration <= 0 || f.PlayURL == "" {
					t.Errorf("file = %+v: want ?token=, endTime > beginTime, duration > 0, playUrl", f)
				}
				// The media behind downloadUrl hashes to sha256, and is its fileSize.
				m := call(t, "GET", f.DownloadURL, "")
				if m.status != 200 || int64(len(m.body)) != f.FileSize || sha(m.body) != f.SHA256 {
					t.Errorf("media: status %d, %d bytes sha %s; want 200, %d bytes, sha %s", m.status, len(m.body), sha(m.body), f.FileSize, f.SHA256)
				}
				// One use only.
				wantError(t, call(t, "GET", f.DownloadURL, ""), 403, CodeVerifyFailed)
			})
		}
		if seg.SegmentSize != fmt.Sprint(segSize) {
			t.Errorf("segment %d: segmentSize %q, want %d", si, seg.SegmentSize, segSize)
		}
	}
	if len(want) != 0 {
		t.Errorf("files missing from record info: %v", want)
	}
	t.Run("segment paging", func(t *testing.T) {
		var d recordInfoDoc
		_ = json.Unmarshal(info(fmt.Sprintf(`{"confUUID":%q,"segmentOffset":1,"segmentLimit":1}`, c.ConfUUID)).body, &d)
		if d.Data.SegmentCount != 2 || len(d.Data.SegmentList) != 1 || d.Data.SegmentList[0].SegmentOrder != 1 {
			t.Errorf("segmentOffset 1 limit 1: count %d list %+v; want the second segment only", d.Data.SegmentCount, d.Data.SegmentList)
		}
	})
	t.Run("type mapping", func(t *testing.T) {
		for ft, want := range map[string]string{"Hd": "SPEAKER_VIDEO", "Aux": "SHARE_VIDEO", "Sd": "SPEAKER_SHARE_VIDEO"} {
			if got := RecordType(ft); got != want {
				t.Errorf("RecordType(%s) = %s, want %s", ft, got, want)
			}
		}
	})
	t.Run("pending has no segments", func(t *testing.T) {
		var d recordInfoDoc
		r := info(fmt.Sprintf(`{"confUUID":%q}`, ds.Conferences[5].ConfUUID))
		if err := json.Unmarshal(r.body, &d); r.status != 200 || err != nil || len(d.Data.SegmentList) != 0 {
			t.Errorf("status %d body %s; want 200 with no segments", r.status, r.body)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		wantError(t, info(`{"confUUID":"`+SampleUnknownConfUUID+`"}`), 400, CodeMeetingNotExist)
	})
	t.Run("bad body", func(t *testing.T) { wantError(t, info(`{`), 400, CodeRequestError) })
}

func TestDelete(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds})
	tok := login(t, s, "")
	a, b, c := ds.Conferences[0].ConfUUID, ds.Conferences[1].ConfUUID, ds.Conferences[2].ConfUUID
	old := links(t, s, tok, a) // issued before the delete
	del := func(q string) reply {
		return call(t, "DELETE", s.URL+"/v1/mmc/management/record/files?confUUIDs="+q, "", "X-Access-Token", tok)
	}
	steps := []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"unknown among them deletes none", a + "," + SampleUnknownConfUUID, 400, CodeMeetingNotExist},
		{"two at once", a + "," + b, 200, ""},
		{"again", a, 400, CodeMeetingNotExist},
		{"missing param", "", 400, CodeRequestError},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := del(st.query)
			if st.status == 200 {
				if r.status != 200 {
					t.Fatalf("status %d body %s", r.status, r.body)
				}
				return
			}
			wantError(t, r, st.status, st.code)
		})
	}
	for _, tt := range []struct {
		conf string
		want bool
	}{{a, true}, {b, true}, {c, false}} {
		if got := s.Deleted(tt.conf); got != tt.want {
			t.Errorf("Deleted(%s) = %v, want %v", tt.conf, got, tt.want)
		}
	}
	wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+a, "", "X-Access-Token", tok), 400, CodeMeetingNotExist)
	wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+b, "", "X-Access-Token", tok), 400, CodeMeetingNotExist)
	wantError(t, call(t, "GET", old[0].URL, "", "Authorization", old[0].Token), 404, CodeMeetingNotExist)
	r := call(t, "GET", s.URL+"/v1/mmc/management/record/files?startDate=0&endDate=9999999999999&queryAll=true", "", "X-Access-Token", tok)
	var p listPage
	_ = json.Unmarshal(r.body, &p)
	if p.Count != int64(len(ds.Conferences)-2) {
		t.Errorf("list count after deleting 2 = %d, want %d", p.Count, len(ds.Conferences)-2)
	}
	if got := s.Counters(); got.Delete != 4 || got.Deleted != 2 {
		t.Errorf("Delete = %d, Deleted = %d; want 4, 2", got.Delete, got.Deleted)
	}
}

func TestServeListener(t *testing.T) {
	ctx, cancel := contextWithCancel(t)
	ln := listen(t)
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, ln, Config{Dataset: SampleDataset()}) }()
	base := "http://" + ln.Addr().String()
	body, authz := appAuthRequest(DefaultAppID, DefaultAppKey, "", 0, testNonce)
	var r reply
	for i := 0; i < 50; i++ { // the server goroutine may not be serving yet
		req, _ := http.NewRequest("POST", base+"/v2/usg/acs/auth/appauth", strings.NewReader(body))
		req.Header.Set("Authorization", authz)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r = reply{status: resp.StatusCode, body: b}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.status != 200 {
		t.Fatalf("login through ServeListener: status %d body %s", r.status, r.body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ServeListener = %v, want nil after cancel", err)
		}
	case <-time.After(time.Minute): // a safety net
		t.Fatal("ServeListener did not return after cancel")
	}
	t.Run("Serve bad addr", func(t *testing.T) {
		if err := Serve(t.Context(), "256.0.0.1:bad", Config{}); err == nil {
			t.Error("Serve on a bad address: nil error")
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		err := ServeListener(t.Context(), listen(t), Config{Faults: []Fault{{Endpoint: "details", Kind: "explode"}}})
		if err == nil || !strings.Contains(err.Error(), "explode") {
			t.Errorf("err = %v, want one naming the bad kind", err)
		}
	})
}
