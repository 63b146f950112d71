package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestNormalizeConfUUID(t *testing.T) {
	const want = "3f6c2a1e9b8d4c7fa0e5d2b1c4a7f9e3"
	tests := []struct {
		in, want string
	}{
		{want, want},
		{strings.ToUpper(want), want},
		{"3F6c2A1e9b8d4c7fa0e5d2b1c4a7f9e3", want},
		{"3f6c2a1e-9b8d-4c7f-a0e5-d2b1c4a7f9e3", want},
		{"3F6C2A1E-9B8D-4C7F-A0E5-D2B1C4A7F9E3", want},
		{"  " + want + "\t\n", want},
		{"", ""},
		{"x", ""},
		{want[:31], ""},
		{want + "0", ""},
		{"3f6c2a1e9b8d4c7fa0e5d2b1c4a7f9eg", ""},
		{"3f6c2a1e-9b8d4c7f-a0e5-d2b1c4a7f9e3-", ""},
		{"3f6c2a1e_9b8d_4c7f_a0e5_d2b1c4a7f9e3", ""},
		{"{3f6c2a1e-9b8d-4c7f-a0e5-d2b1c4a7f9e3}", ""},
		{"3f6c2a1e 9b8d4c7fa0e5d2b1c4a7f9e3", ""},
		{"３f6c2a1e9b8d4c7fa0e5d2b1c4a7f9e", ""}, // a full-width digit
		{"../../" + want[6:], ""},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.in), func(t *testing.T) {
			got, err := NormalizeConfUUID(tt.in)
			if tt.want == "" {
				if err == nil || !errors.Is(err, ErrInvalidConfUUID) || ErrorCode(err) != "invalid-input" {
					t.Fatalf("NormalizeConfUUID = %q, %v (%s); want ErrInvalidConfUUID, invalid-input", got, err, ErrorCode(err))
				}
				if !strings.Contains(err.Error(), strconv.Quote(tt.in)) {
					t.Errorf("error %q does not quote the input", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeConfUUID = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRecordingMissingFields(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantMissing Field
		wantJSON    string // re-encoded
	}{
		{"all there", `{"confUUID":"a","confID":"1","url":["https://h/p?token=S"],"rcdTime":1,"rcdSize":0,"subject":"s","scheduserName":"n","startTime":"t","isDecodeFinish":false,"decodeEndTime":0,"available":false,"recordAuthType":0}`,
			0, `{"confUUID":"a","confID":"1","url":["https://h/p?token=S"],"rcdTime":1,"rcdSize":0,"subject":"s","scheduserName":"n","startTime":"t","isDecodeFinish":false,"decodeEndTime":0,"available":false,"recordAuthType":0}`},
		{"empty", `{}`, FieldConfUUID | FieldConfID | FieldURL | FieldRcdTime | FieldRcdSize | FieldSubject | FieldScheduserName |
			FieldStartTime | FieldIsDecodeFinish | FieldDecodeEndTime | FieldAvailable | FieldRecordAuthType, `{}`},
		{"nulls are missing", `{"confUUID":"a","available":null,"isDecodeFinish":true,"recordAuthType":null}`,
			FieldConfID | FieldURL | FieldRcdTime | FieldRcdSize | FieldSubject | FieldScheduserName | FieldStartTime | FieldDecodeEndTime | FieldAvailable | FieldRecordAuthType,
			`{"confUUID":"a","isDecodeFinish":true}`},
		{"unknown fields ignored", `{"confUUID":"a","available":true,"isDecodeFinish":true,"extra":{"x":1},"url":[],"confID":"","subject":"","scheduserName":"","startTime":"","rcdTime":0,"rcdSize":0,"decodeEndTime":5,"recordAuthType":2}`,
			0, `{"confUUID":"a","confID":"","url":[],"rcdTime":0,"rcdSize":0,"subject":"","scheduserName":"","startTime":"","isDecodeFinish":true,"decodeEndTime":5,"available":true,"recordAuthType":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec Recording
			if err := json.Unmarshal([]byte(tt.body), &rec); err != nil {
				t.Fatal(err)
			}
			if rec.Missing != tt.wantMissing {
				t.Errorf("Missing = %s, want %s", rec.Missing, tt.wantMissing)
			}
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.wantJSON {
				t.Errorf("json = %s\nwant   %s", b, tt.wantJSON)
			}
			var back Recording
			if err := json.Unmarshal(b, &back); err != nil || back.Missing != rec.Missing {
				t.Errorf("round trip: Missing %s, %v; want %s", back.Missing, err, rec.Missing)
			}
		})
	}
}

func TestRecordingKnown(t *testing.T) {
	var rec Recording
	if err := json.Unmarshal([]byte(`{"available":false,"url":["https://h/play?id=1&token=SECRET","https://h/p2?token=T2"]}`), &rec); err != nil {
		t.Fatal(err)
	}
	if p := rec.AvailableKnown(); p == nil || *p {
		t.Errorf("AvailableKnown = %v, want false (said)", p)
	}
	if p := rec.DecodeFinishKnown(); p != nil {
		t.Errorf("DecodeFinishKnown = %v, want nil (not said)", *p)
	}
	if got, want := rec.PlaybackURL(), "https://h/play https://h/p2"; got != want {
		t.Errorf("PlaybackURL = %q, want %q", got, want)
	}
	built := Recording{ConfUUID: "a", IsDecodeFinish: true}
	if p := built.DecodeFinishKnown(); p == nil || !*p || !built.Has(FieldAvailable) {
		t.Errorf("a Recording built in Go: DecodeFinishKnown %v Has(available) %v, want true, true", p, built.Has(FieldAvailable))
	}
	if got := (FieldAvailable | FieldRcdSize).String(); got != "rcdSize,available" {
		t.Errorf("Field.String = %q", got)
	}
	if got := (Recording{}).PlaybackURL(); got != "" {
		t.Errorf("PlaybackURL of none = %q", got)
	}
}

func TestCheckRecording(t *testing.T) {
	const asked = "0123456789abcdef0123456789abcdef"
	full := func(mod func(m map[string]any)) string {
		m := map[string]any{"confUUID": asked, "available": true, "isDecodeFinish": false, "rcdSize": 3}
		if mod != nil {
			mod(m)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name   string
		body   string
		asked  string // "" = a list row
		is     error
		field  string
		wantID string
	}{
		{"ok", full(nil), asked, nil, "", asked},
		{"upper case answer", full(func(m map[string]any) { m["confUUID"] = strings.ToUpper(asked) }), asked, nil, "", asked},
		{"dashed answer", full(func(m map[string]any) { m["confUUID"] = "01234567-89ab-cdef-0123-456789abcdef" }), asked, nil, "", asked},
		{"other conference", full(func(m map[string]any) { m["confUUID"] = testConfUUID2 }), asked, ErrResponseMismatch, "confUUID", ""},
		{"garbage confUUID", full(func(m map[string]any) { m["confUUID"] = "zz" }), asked, ErrResponseMismatch, "confUUID", ""},
		{"empty confUUID", full(func(m map[string]any) { m["confUUID"] = "" }), asked, ErrBadResponse, "confUUID", ""},
		{"no confUUID", full(func(m map[string]any) { delete(m, "confUUID") }), asked, ErrBadResponse, "confUUID", ""},
		{"null available", full(func(m map[string]any) { m["available"] = nil }), asked, ErrBadResponse, "available", ""},
		{"no isDecodeFinish", full(func(m map[string]any) { delete(m, "isDecodeFinish") }), asked, ErrBadResponse, "isDecodeFinish", ""},
		{"negative rcdSize", full(func(m map[string]any) { m["rcdSize"] = -1 }), asked, ErrBadResponse, "rcdSize", ""},
		{"absurd rcdSize", full(func(m map[string]any) { m["rcdSize"] = int64(1) << 40 }), asked, ErrBadResponse, "rcdSize", ""},
		{"no rcdSize is fine", full(func(m map[string]any) { delete(m, "rcdSize") }), asked, nil, "", asked},
		{"list row upper case", full(func(m map[string]any) { m["confUUID"] = strings.ToUpper(asked) }), "", nil, "", asked},
		{"list row garbage", full(func(m map[string]any) { m["confUUID"] = "u0001" }), "", ErrBadResponse, "data[7].confUUID", ""},
		{"list row no available", full(func(m map[string]any) { delete(m, "available") }), "", ErrBadResponse, "data[7].available", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec Recording
			if err := json.Unmarshal([]byte(tt.body), &rec); err != nil {
				t.Fatal(err)
			}
			prefix := ""
			if tt.asked == "" {
				prefix = "data[7]."
			}
			err := checkRecording("details", prefix, tt.asked, &rec)
			if tt.is == nil {
				if err != nil || rec.ConfUUID != tt.wantID {
					t.Errorf("check = %v, ConfUUID %q; want nil, %q", err, rec.ConfUUID, tt.wantID)
				}
				return
			}
			var ve *ValidationError
			if !errors.Is(err, tt.is) || !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("check = %v, want %v naming %s", err, tt.is, tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name %s", err, tt.field)
			}
			if tt.is == ErrResponseMismatch && !(strings.Contains(err.Error(), asked) && strings.Contains(err.Error(), strconv.Quote(rec.ConfUUID))) {
				t.Errorf("message %q does not give both values (asked %s, answered %q)", err, asked, rec.ConfUUID)
			}
		})
	}
}

func TestValidationErrorCodes(t *testing.T) {
	tests := []struct {
		err  error
		code string
	}{
		{mismatch("details", "confUUID", "a", "b"), "response-mismatch"},
		{badField("recordinfo", "sha256", "x"), "bad-response"},
		{tooManyPages("downloadurls", "x"), "too-many-pages"},
		{fmt.Errorf("wrapped: %w", &callError{err: tooManyPages("list", "x"), attempts: 1}), "too-many-pages"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.code)
			}
			if ShouldRetry(tt.err) {
				t.Errorf("ShouldRetry(%v) = true", tt.err)
			}
		})
	}
}

// A server that ignores offset: the same full page every time. Links must
// not stop there as if it were the end.
func TestLinksPagingDoesNotAdvance(t *testing.T) {
	var calls atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var urls []map[string]string
		for i := range linksPageSize {
			urls = append(urls, map[string]string{"token": "t", "fileType": "Hd", "url": fmt.Sprintf("https://m/0_%d.mp4", i)})
		}
		writeJSON(w, 200, map[string]any{"recordUrls": []any{map[string]any{"confUuid": testConfUUID, "urls": urls}}})
	})
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
	_, err := c.Links(ctxT(t), testConfUUID)
	if !errors.Is(err, ErrTooManyPages) || !strings.Contains(err.Error(), "does not advance") {
		t.Fatalf("Links = %v, want ErrTooManyPages (paging does not advance)", err)
	}
	if calls.Load() != 2 {
		t.Errorf("calls = %d, want 2", calls.Load())
	}
}

func TestRecordInfoPaging(t *testing.T) {
	seg := func(i int, size any, sha string) string {
		return fmt.Sprintf(`{"segmentOrder":%d,"fileList":[{"recordType":"AUDIO","fileSize":%v,"sha256":%q,"downloadUrl":"https://m/0_%d.m4a?token=T"}]}`, i, size, sha, i)
	}
	tests := []struct {
		name  string
		page  func(off int) string // the answer to segmentOffset off
		is    error
		field string
		files int
	}{
		{"repeats", func(int) string {
			return `{"code":"0","data":{"segmentCount":10,"segmentList":[` + seg(0, 1, "") + `]}}`
		}, ErrTooManyPages, "", 0},
		{"empty page ends", func(off int) string {
			if off > 0 {
				return `{"code":"0","data":{"segmentCount":10,"segmentList":[]}}`
			}
			return `{"code":"0","data":{"segmentCount":10,"segmentList":[` + seg(0, 1, "") + `]}}`
		}, nil, "", 1},
		{"segments without links move on", func(off int) string {
			if off == 0 {
				return `{"code":"0","data":{"segmentCount":2,"segmentList":[{"segmentOrder":0,"fileList":[{"recordType":"AUDIO"}]}]}}`
			}
			return `{"code":"0","data":{"segmentCount":2,"segmentList":[` + seg(1, 1, "") + `]}}`
		}, nil, "", 1},
		{"bad sha256", func(int) string {
			return `{"code":"0","data":{"segmentCount":1,"segmentList":[` + seg(0, 1, "XYZ") + `]}}`
		}, ErrBadResponse, "data.segmentList[0].fileList[0].sha256", 0},
		{"upper-case sha256 is fine", func(int) string {
			return `{"code":"0","data":{"segmentCount":1,"segmentList":[` + seg(0, 1, strings.Repeat("AB", 32)) + `]}}`
		}, nil, "", 1},
		{"absurd fileSize", func(int) string {
			return `{"code":"0","data":{"segmentCount":1,"segmentList":[` + seg(0, "\"99999999999999999\"", "") + `]}}`
		}, ErrBadResponse, "data.segmentList[0].fileList[0].fileSize", 0},
		{"no data", func(int) string { return `{"code":"0","message":"success"}` }, ErrBadResponse, "data", 0},
		{"other conference", func(int) string {
			return `{"code":"0","data":{"confUUID":"` + testConfUUID2 + `","segmentCount":1,"segmentList":[` + seg(0, 1, "") + `]}}`
		}, ErrResponseMismatch, "data.confUUID", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				var req recordInfoRequest
				_ = json.NewDecoder(r.Body).Decode(&req)
				fmt.Fprint(w, tt.page(req.SegmentOffset))
			})
			c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Links = LinksRecordInfo; c.RequestTimeout = 5 * time.Second })
			files, err := c.Links(ctxT(t), testConfUUID)
			if tt.is == nil {
				if err != nil || len(files) != tt.files {
					t.Fatalf("Links = %d files, %v; want %d", len(files), err, tt.files)
				}
				return
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Links = %v, want %v naming %q", err, tt.is, tt.field)
			}
		})
	}
}

func TestDownloadURLsEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries string
		is      error
		field   string
	}{
		{"no confUuid", `[{"urls":[]}]`, ErrBadResponse, "recordUrls[0].confUuid"},
		{"null confUuid", `[{"confUuid":null,"urls":[]}]`, ErrBadResponse, "recordUrls[0].confUuid"},
		{"another conference beside ours", `[{"confUuid":"` + testConfUUID + `","urls":[]},{"confUuid":"` + testConfUUID2 + `","urls":[]}]`, ErrResponseMismatch, "recordUrls[1].confUuid"},
		{"confUUID spelling accepted", `[{"confUUID":"` + strings.ToUpper(testConfUUID) + `","urls":[]}]`, nil, ""},
		{"no entries: no files", `[]`, nil, ""},
		{"no list at all", `null`, ErrBadResponse, "recordUrls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"recordUrls":%s}`, tt.entries)
			})
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			files, err := c.Links(ctxT(t), testConfUUID)
			if tt.is == nil {
				if err != nil || len(files) != 0 {
					t.Fatalf("Links = %v, %v; want no files, no error", files, err)
				}
				return
			}
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Links = %v, want %v naming %q", err, tt.is, tt.field)
			}
		})
	}
}

func TestListPageCap(t *testing.T) {
	// Every page brings new rows and count keeps growing: the cap ends it.
	var calls atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		var data []map[string]any
		for i := range 10 {
			data = append(data, listRow(off*1000+i+int(n)*100000))
		}
		writeJSON(w, 200, map[string]any{"count": 100 * n, "data": data})
	})
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
	err := c.List(ctxT(t), ListQuery{From: time.Unix(0, 0), To: time.Now(), PageSize: 10}, func(Recording) error { return nil })
	if !errors.Is(err, ErrTooManyPages) || ErrorCode(err) != "too-many-pages" {
		t.Fatalf("List = %v, want ErrTooManyPages", err)
	}
	if calls.Load() > 1000 {
		t.Errorf("%d calls before giving up", calls.Load())
	}
}
