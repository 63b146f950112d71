package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordsServer serves n attendee records at /confAttendeeRecord: limit
// capped at capLimit (the answer's limit says so unless hideLimit), count
// unless noCount, offset ignored when ignoreOffset. It keeps every body it
// sent.
type recordsServer struct {
	recordsConfig
	calls  atomic.Int64
	mu     sync.Mutex
	bodies [][]byte
}

type recordsConfig struct {
	n, capLimit                      int
	noCount, hideLimit, ignoreOffset bool
}

func (rs *recordsServer) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rs.calls.Add(1)
		q := r.URL.Query()
		if q.Get("confUUID") != testConfUUID || r.Header.Get("Accept-Language") != LanguageEnglish {
			t.Errorf("query %s, Accept-Language %q", r.URL.RawQuery, r.Header.Get("Accept-Language"))
		}
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, _ := strconv.Atoi(q.Get("limit"))
		lim = min(lim, rs.capLimit)
		if rs.ignoreOffset {
			off = 0
		}
		data := []map[string]any{}
		for i := off; i < min(rs.n, off+lim); i++ {
			data = append(data, map[string]any{"displayName": fmt.Sprint("person ", i), "joinTime": 1000 + i, "leftTime": 2000 + i})
		}
		resp := map[string]any{"offset": off, "data": data}
		if !rs.hideLimit {
			resp["limit"] = lim
		}
		if !rs.noCount {
			resp["count"] = rs.n
		}
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(resp)
		rs.mu.Lock()
		rs.bodies = append(rs.bodies, bytes.TrimSpace(buf.Bytes()))
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(buf.Bytes())
	}
}

func TestEvidencePaging(t *testing.T) {
	tests := []struct {
		name     string
		rs       recordsConfig
		wantRows int
		calls    int64
		wantErr  error
	}{
		{"one page", recordsConfig{n: 7, capLimit: 500}, 7, 1, nil},
		{"empty", recordsConfig{n: 0, capLimit: 500}, 0, 1, nil},
		{"full pages of 500", recordsConfig{n: 1000, capLimit: 500}, 1000, 2, nil},
		{"full pages of 500, no count", recordsConfig{n: 1000, capLimit: 500, noCount: true}, 1000, 3, nil},
		{"capped at 20, said", recordsConfig{n: 45, capLimit: 20}, 45, 3, nil},
		{"capped at 20, said, no count", recordsConfig{n: 45, capLimit: 20, noCount: true}, 45, 3, nil},
		{"capped at 20, not said, count", recordsConfig{n: 45, capLimit: 20, hideLimit: true}, 45, 3, nil},
		// A server that ignores offset repeats its page: the paging does
		// not advance, and the rows after it would be lost.
		{"offset ignored", recordsConfig{n: 45, capLimit: 20, ignoreOffset: true}, 40, 2, ErrTooManyPages},
		{"offset ignored, no count", recordsConfig{n: 1000, capLimit: 500, ignoreOffset: true, noCount: true}, 1000, 2, ErrTooManyPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := &recordsServer{recordsConfig: tt.rs}
			srv := server(t, rs.handler(t))
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			got, err := c.AttendeeRecords(ctxT(t), testConfUUID)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("AttendeeRecords = %v, want %v", err, tt.wantErr)
			}
			if len(got.Rows) != tt.wantRows || rs.calls.Load() != tt.calls || len(got.Pages) != int(tt.calls) {
				t.Errorf("%d rows in %d calls (%d pages); want %d in %d", len(got.Rows), rs.calls.Load(), len(got.Pages), tt.wantRows, tt.calls)
			}
			if err != nil {
				return
			}
			for i, r := range got.Rows {
				if r.DisplayName != fmt.Sprint("person ", i) || r.JoinTime != int64(1000+i) {
					t.Fatalf("row %d = %+v", i, r)
				}
			}
			rs.mu.Lock()
			defer rs.mu.Unlock()
			for i, p := range got.Pages {
				if !bytes.Equal(p.Body, rs.bodies[i]) {
					t.Errorf("page %d body %s, want the answer as sent %s", i, p.Body, rs.bodies[i])
				}
			}
			if want := tt.rs.n; !tt.rs.noCount && (got.Count != want || got.CountDiff() != 0) {
				t.Errorf("Count %d CountDiff %d, want %d and 0", got.Count, got.CountDiff(), want)
			}
			if tt.rs.noCount && got.Count != -1 {
				t.Errorf("Count %d without a count, want -1", got.Count)
			}
		})
	}
}

// TestHistoryDetailChecks: conferenceData must be there and about the
// meeting asked for; the participants of every page are kept.
func TestHistoryDetailChecks(t *testing.T) {
	other := testConfN(2)
	tests := []struct {
		name     string
		confData func(offset int) any // nil: left out
		wantErr  error
	}{
		{"about the meeting", func(int) any { return map[string]any{"confUUID": testConfUUID, "isHasRecordFile": true} }, nil},
		{"about another", func(int) any { return map[string]any{"confUUID": other} }, ErrResponseMismatch},
		{"another on the second page", func(o int) any {
			if o > 0 {
				return map[string]any{"confUUID": other}
			}
			return map[string]any{"confUUID": testConfUUID}
		}, ErrResponseMismatch},
		{"without confUUID", func(int) any { return map[string]any{"subject": "x"} }, ErrBadResponse},
		{"without conferenceData", nil, ErrBadResponse},
		{"conferenceData on the first page only", func(o int) any {
			if o > 0 {
				return nil
			}
			return map[string]any{"confUUID": testConfUUID}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
				var parts []map[string]any
				for i := off; i < min(3, off+2); i++ { // 3 participants, 2 a page
					parts = append(parts, map[string]any{"participantID": fmt.Sprint(i), "role": fmt.Sprint(i % 2)})
				}
				resp := map[string]any{"data": map[string]any{"offset": off, "limit": 2, "count": 3, "data": parts}}
				if tt.confData != nil {
					if cd := tt.confData(off); cd != nil {
						resp["conferenceData"] = cd
					}
				}
				writeJSON(w, 200, resp)
			})
			c := NewTestClient(t, srv.URL, tokenCreds, nil)
			d, err := c.HistoryDetail(ctxT(t), testConfUUID)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("HistoryDetail = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if d.Meeting.ConfUUID != testConfUUID || len(d.Participants) != 3 || d.Participants[1].Role != 1 || len(d.Pages) != 2 {
				t.Errorf("detail %+v, want the meeting and 3 participants from 2 pages", d)
			}
		})
	}
}

// TestRefusalsTold: ErrNotPermitted, ErrNotDeployed and ErrNotFound by
// status, code and API.
func TestRefusalsTold(t *testing.T) {
	tests := []struct {
		name                      string
		e                         APIError
		permitted, deployed, none bool // errors.Is ErrNotPermitted, ErrNotDeployed, ErrNotFound
	}{
		{"403", APIError{Op: "attendees", StatusCode: 403, Code: CodeNoPermission}, true, false, false},
		{"403 without code", APIError{Op: "ctlrecords", StatusCode: 403}, true, false, false},
		{"no view right", APIError{Op: "historydetail", StatusCode: 400, Code: CodeNoViewRight}, true, false, false},
		{"404 APIG.0101", APIError{Op: "ctlrecords", StatusCode: 404, Code: CodeNoAPI}, false, true, false},
		{"404 without code", APIError{Op: "history", StatusCode: 404}, false, true, false},
		{"404 with another code", APIError{Op: "history", StatusCode: 404, Code: "MMC.111070001"}, false, false, false},
		{"unknown meeting", APIError{Op: "attendees", StatusCode: 400, Code: CodeMeetingMissing}, false, false, true},
		{"unknown meeting in history detail", APIError{Op: "historydetail", StatusCode: 400, Code: CodeConfNotFound}, false, false, true},
		{"media 403 is a spent link", APIError{Op: "media", StatusCode: 403}, false, false, false},
		{"login 403", APIError{Op: "auth", StatusCode: 403}, false, false, false},
		{"500", APIError{Op: "attendees", StatusCode: 500}, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error = &callError{err: &tt.e, attempts: 1}
			if got := errors.Is(err, ErrNotPermitted); got != tt.permitted {
				t.Errorf("Is ErrNotPermitted = %v, want %v", got, tt.permitted)
			}
			if got := errors.Is(err, ErrNotDeployed); got != tt.deployed {
				t.Errorf("Is ErrNotDeployed = %v, want %v", got, tt.deployed)
			}
			if got := errors.Is(err, ErrNotFound); got != tt.none {
				t.Errorf("Is ErrNotFound = %v, want %v", got, tt.none)
			}
		})
	}
}

func TestHistoryQueryAndLanguage(t *testing.T) {
	var seen atomic.Value
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.Path + "?" + r.URL.RawQuery + " " + r.Header.Get("Accept-Language"))
		writeJSON(w, 200, map[string]any{"offset": 0, "limit": 500, "count": 0, "data": []any{}})
	})
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Language = LanguageChinese })
	from, to := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 31, 23, 59, 59, 0, time.UTC)
	h, err := c.History(ctxT(t), HistoryQuery{From: from, To: to, AllUsers: true, Search: "weekly"})
	if err != nil || len(h.Meetings) != 0 || h.Count != 0 {
		t.Fatalf("History = %+v, %v", h, err)
	}
	want := pathHistory + "?endDate=1706745599000&limit=500&offset=0&queryAll=true&searchKey=weekly&sortType=ASC_StartTIME&startDate=1704067200000 "
	if got := seen.Load(); got != want {
		t.Errorf("request %q, want %q", got, want)
	}
	if _, err := c.ControlRecords(ctxT(t), testConfUUID); err != nil {
		t.Fatal(err)
	}
	if want := pathCtlRecords + "?confUUID=" + testConfUUID + "&limit=500&offset=0 zh-CN"; seen.Load() != want {
		t.Errorf("request %q, want %q", seen.Load(), want)
	}
	if _, err := c.History(ctxT(t), HistoryQuery{From: to, To: from}); err == nil {
		t.Error("History with From after To: no error")
	}
	if _, err := NewClient(Config{BaseURL: srv.URL, Credentials: Credentials{Token: testToken}, Language: "fr-FR"}); err == nil {
		t.Error("NewClient with Language fr-FR: no error")
	}
}
