package meetingtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	pathHistory    = "/v1/mmc/management/conferences/history"
	pathHisDetail  = "/v1/mmc/management/conferences/history/confDetail"
	pathAttendees  = "/v1/mmc/management/conferences/history/confAttendeeRecord"
	pathCtlRecords = "/v1/mmc/management/conferences/history/confCtlRecord"
)

// sampleClock is a clock a month after the sample's meetings: the
// history's default six months keep them all.
func sampleClock() func() time.Time {
	return func() time.Time { return time.Date(2024, 4, 1, 12, 0, 0, 0, time.UTC) }
}

type page[T any] struct {
	Offset int64 `json:"offset"`
	Limit  int64 `json:"limit"`
	Count  int64 `json:"count"`
	Data   []T   `json:"data"`
}

// getJSON GETs path?query with the token and decodes a 200 answer.
func getJSON(t *testing.T, s *Server, tok, pathQuery string, out any, hdr ...string) reply {
	t.Helper()
	r := call(t, "GET", s.URL+pathQuery, "", append([]string{"X-Access-Token", tok}, hdr...)...)
	if r.status != 200 {
		t.Fatalf("GET %s: status %d body %s", pathQuery, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		t.Fatalf("GET %s: %v (body %s)", pathQuery, err, r.body)
	}
	return r
}

func confsOf(rows []hisConference) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ConfUUID)
	}
	return out
}

// allWindow is every date, queryAll=true.
const allWindow = "startDate=0&endDate=4102444800000&queryAll=true" // to 2100-01-01

func TestHistoryList(t *testing.T) {
	ds := SampleDataset()
	ds.Conferences[1].UserID = "bob" // bob's: hidden from the admin without queryAll
	c, m := ds.Conferences, ds.Meetings
	// By start time: m0 02-29, c0 03-04, c1 03-05, c2 03-06 08:15, m1 03-06 15:00, c3..c6.
	asc := []string{m[0].ConfUUID, c[0].ConfUUID, c[1].ConfUUID, c[2].ConfUUID, m[1].ConfUUID, c[3].ConfUUID, c[4].ConfUUID, c[5].ConfUUID, c[6].ConfUUID}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	recAsc := []string{c[0].ConfUUID, c[1].ConfUUID, c[2].ConfUUID, c[3].ConfUUID, c[4].ConfUUID, c[5].ConfUUID, c[6].ConfUUID, m[0].ConfUUID, m[1].ConfUUID}
	recDesc := []string{c[6].ConfUUID, c[5].ConfUUID, c[4].ConfUUID, c[3].ConfUUID, c[2].ConfUUID, c[1].ConfUUID, c[0].ConfUUID, m[1].ConfUUID, m[0].ConfUUID}
	ms := func(s string) string {
		tm, err := time.Parse(StartTimeLayout, s)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(tm.UnixMilli())
	}
	tests := []struct {
		name      string
		cfg       Config
		query     string
		wantCount int64
		wantLimit int64
		want      []string
	}{
		{"all ascending", Config{}, allWindow, 9, 20, asc},
		{"descending", Config{}, allWindow + "&sortType=DSC_StartTIME", 9, 20, desc},
		{"recordings first, ascending", Config{}, allWindow + "&sortType=ASC_RecordTYPE", 9, 20, recAsc},
		{"recordings first, descending", Config{}, allWindow + "&sortType=dsc_recordtype", 9, 20, recDesc},
		{"row offset", Config{}, allWindow + "&offset=3&limit=2", 9, 2, asc[3:5]},
		{"offset past the end", Config{}, allWindow + "&offset=9&limit=2", 9, 2, nil},
		{"page index mode", Config{ListOffsetIsPage: true}, allWindow + "&offset=2&limit=4", 9, 4, asc[8:]},
		{"limit capped", Config{HistoryMaxLimit: 3}, allWindow + "&limit=500", 9, 3, asc[:3]},
		{"window inclusive", Config{}, "startDate=" + ms("2024-03-05 14:00") + "&endDate=" + ms("2024-03-06 15:00") + "&queryAll=true", 3, 20, asc[2:5]},
		{"search meeting ID: both runs of a recurring meeting", Config{}, allWindow + "&searchKey=960123454", 2, 20, []string{m[0].ConfUUID, c[3].ConfUUID}},
		{"search scheduler", Config{}, allWindow + "&searchKey=%E7%8E%8B%E8%8A%B3", 2, 20, []string{m[1].ConfUUID, c[4].ConfUUID}},
		{"own meetings only", Config{}, "startDate=0&endDate=4102444800000", 8, 20, slices.DeleteFunc(slices.Clone(asc), func(s string) bool { return s == c[1].ConfUUID })},
		{"count larger than the rows", Config{HistoryCountDelta: 2}, allWindow, 11, 20, asc},
		{"count smaller than the rows", Config{HistoryCountDelta: -3}, allWindow, 6, 20, asc},
		{"omit fault", Config{Faults: []Fault{{Endpoint: EndpointHistory, Kind: FaultOmit, ConfUUID: c[2].ConfUUID}}}, allWindow, 8, 20,
			slices.DeleteFunc(slices.Clone(asc), func(s string) bool { return s == c[2].ConfUUID })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Dataset, cfg.Now = ds, sampleClock()
			s := Start(t, cfg)
			var p page[hisConference]
			r := getJSON(t, s, login(t, s, ""), pathHistory+"?"+tt.query, &p)
			if got := confsOf(p.Data); p.Count != tt.wantCount || p.Limit != tt.wantLimit || !slices.Equal(got, tt.want) {
				t.Errorf("count %d limit %d data %v; want %d %d %v", p.Count, p.Limit, got, tt.wantCount, tt.wantLimit, tt.want)
			}
			if h := r.header.Get("X-APIG-Ratelimit-Api"); !strings.HasPrefix(h, "remain:") {
				t.Errorf("X-APIG-Ratelimit-Api = %q", h)
			}
			for _, row := range p.Data {
				_, recorded := ds.Conference(row.ConfUUID)
				if row.IsHasRecordFile != recorded {
					t.Errorf("%s: isHasRecordFile %v, want %v", row.ConfUUID, row.IsHasRecordFile, recorded)
				}
			}
		})
	}

	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	bad := []struct{ name, query string }{
		{"no dates", "offset=0"},
		{"no startDate", "endDate=1"},
		{"date not a number", "startDate=x&endDate=1"},
		{"negative offset", "startDate=0&endDate=1&offset=-1"},
		{"limit not a number", "startDate=0&endDate=1&limit=ten"},
		{"bad sortType", "startDate=0&endDate=1&sortType=NEWEST"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, call(t, "GET", s.URL+pathHistory+"?"+tt.query, "", "X-Access-Token", tok), 400, CodeRequestError)
		})
	}
	t.Run("no token", func(t *testing.T) {
		wantError(t, call(t, "GET", s.URL+pathHistory+"?"+allWindow, ""), 401, CodeTokenInvalid)
	})
}

// TestHistoryDefaultAndMaxLimit: 20 without limit, at most 500.
func TestHistoryDefaultAndMaxLimit(t *testing.T) {
	ds := Generate(GenerateConfig{Conferences: 400, Meetings: 150, Seed: 4, Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Interval: 10 * time.Minute})
	s := Start(t, Config{Dataset: ds, Now: func() time.Time { return time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC) }})
	tok := login(t, s, "")
	for _, tt := range []struct {
		name            string
		query           string
		wantRows, limit int
	}{
		{"no limit", "", 20, 20},
		{"limit 0", "&limit=0", 20, 20},
		{"limit 500", "&limit=500", 500, 500},
		{"limit above 500", "&limit=1000", 500, 500},
		{"last page", "&limit=500&offset=500", 50, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p page[hisConference]
			getJSON(t, s, tok, pathHistory+"?"+allWindow+tt.query, &p)
			if len(p.Data) != tt.wantRows || p.Limit != int64(tt.limit) || p.Count != 550 {
				t.Errorf("%d rows, limit %d, count %d; want %d, %d, 550", len(p.Data), p.Limit, p.Count, tt.wantRows, tt.limit)
			}
		})
	}
}

func TestHistoryRetention(t *testing.T) {
	ds := SampleDataset()
	everything := len(ds.Conferences) + len(ds.Meetings)
	tests := []struct {
		name      string
		now       time.Time
		retention time.Duration
		want      int
	}{
		// Six months before 2024-09-06 12:00 is 2024-03-06 12:00: kept are
		// the meeting of 03-06 15:00 and the conferences from 03-07.
		{"six months by default", time.Date(2024, 9, 6, 12, 0, 0, 0, time.UTC), 0, 5},
		{"all kept a month later", time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), 0, everything},
		{"all gone a year later", time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC), 0, 0},
		{"configured 48 hours", time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC), 48 * time.Hour, 3}, // 03-08, 03-09, 03-10
		{"kept for ever", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), -1, everything},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, HistoryRetention: tt.retention, Now: func() time.Time { return tt.now }})
			tok := login(t, s, "")
			var p page[hisConference]
			getJSON(t, s, tok, pathHistory+"?"+allWindow, &p)
			if int(p.Count) != tt.want || len(p.Data) != tt.want {
				t.Fatalf("count %d, %d rows; want %d", p.Count, len(p.Data), tt.want)
			}
			// A forgotten meeting is unknown to the other history APIs too;
			// its recording is still there.
			kept := map[string]bool{}
			for _, r := range p.Data {
				kept[r.ConfUUID] = true
			}
			for _, id := range []string{ds.Conferences[0].ConfUUID, ds.Meetings[0].ConfUUID} {
				for _, path := range []string{pathHisDetail, pathAttendees, pathCtlRecords} {
					r := call(t, "GET", s.URL+path+"?confUUID="+id, "", "X-Access-Token", tok)
					if kept[id] != (r.status == 200) {
						t.Errorf("%s %s: status %d, kept in history %v", path, id, r.status, kept[id])
					}
					if !kept[id] {
						wantError(t, r, 400, CodeMeetingNotExist)
					}
				}
			}
			if r := call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+ds.Conferences[0].ConfUUID, "", "X-Access-Token", tok); r.status != 200 {
				t.Errorf("recording detail: status %d, want 200 (the recording outlives its history)", r.status)
			}
		})
	}
}

type participantRow struct {
	ParticipantID string `json:"participantID"`
	Name          string `json:"name"`
	Role          *int   `json:"role"`
	AttendeeType  string `json:"attendeeType"`
	AccountID     string `json:"accountId"`
	Email         string `json:"email"`
	SMS           string `json:"sms"`
	DeptName      string `json:"deptName"`
	UserUUID      string `json:"userUUID"`
	AppID         string `json:"appId"`
	IsAutoInvite  *int   `json:"isAutoInvite"`
}

type detailDoc struct {
	ConferenceData hisConference        `json:"conferenceData"`
	Data           page[participantRow] `json:"data"`
}

func TestHistoryDetail(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	conf, _ := s.Conference(ds.Conferences[0].ConfUUID)
	meet, _ := s.Meeting(ds.Meetings[1].ConfUUID)
	tests := []struct {
		name         string
		confUUID     string
		query        string
		hist         *History
		wantRecorded bool
		wantFrom     int
		wantLimit    int64
	}{
		{"conference", conf.ConfUUID, "", conf.History, true, 0, 20},
		{"conference, second page of one", conf.ConfUUID, "&offset=1&limit=1", conf.History, true, 1, 1},
		{"meeting without a recording", meet.ConfUUID, "&limit=2", meet.History, false, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d detailDoc
			getJSON(t, s, tok, pathHisDetail+"?confUUID="+tt.confUUID+tt.query, &d)
			cd := d.ConferenceData
			if cd.ConfUUID != tt.confUUID || cd.ConferenceID != tt.hist.ConferenceID || cd.EndTime != tt.hist.EndTime ||
				cd.IsHasRecordFile != tt.wantRecorded || cd.ConferenceState != ConferenceStateEnded ||
				cd.UserUUID != tt.hist.UserUUID || cd.TimeZoneID == "" || cd.ConfMode == "" || cd.ConfType == "" || cd.MediaTypes == "" {
				t.Errorf("conferenceData %+v; want the history %+v, isHasRecordFile %v", cd, tt.hist, tt.wantRecorded)
			}
			if tt.wantRecorded != (cd.RecordType == 2 || cd.RecordType == 3) {
				t.Errorf("recordType %d with recording %v", cd.RecordType, tt.wantRecorded)
			}
			parts := tt.hist.Participants
			want := parts[tt.wantFrom:min(len(parts), tt.wantFrom+int(tt.wantLimit))]
			if d.Data.Count != int64(len(parts)) || d.Data.Limit != tt.wantLimit || len(d.Data.Data) != len(want) {
				t.Fatalf("participants: count %d limit %d rows %d; want %d %d %d", d.Data.Count, d.Data.Limit, len(d.Data.Data), len(parts), tt.wantLimit, len(want))
			}
			for i, p := range d.Data.Data {
				w := want[i]
				if p.ParticipantID != w.ParticipantID || p.Name != w.Name || p.Role == nil || *p.Role != w.Role || p.AttendeeType != w.AttendeeType || p.IsAutoInvite == nil {
					t.Errorf("participant %d = %+v, want %+v", i, p, w)
				}
			}
		})
	}
	t.Run("host first", func(t *testing.T) {
		if p := conf.History.Participants; len(p) < 2 || p[0].Role != 1 || p[0].Name != conf.ScheduserName {
			t.Errorf("participants %+v: want the scheduler as host first, and others", p)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		wantError(t, call(t, "GET", s.URL+pathHisDetail+"?confUUID="+SampleUnknownConfUUID, "", "X-Access-Token", tok), 400, CodeMeetingNotExist)
	})
	t.Run("missing confUUID", func(t *testing.T) {
		wantError(t, call(t, "GET", s.URL+pathHisDetail, "", "X-Access-Token", tok), 400, CodeRequestError)
	})
	t.Run("the recording APIs do not know a meeting without a recording", func(t *testing.T) {
		wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+meet.ConfUUID, "", "X-Access-Token", tok), 400, CodeMeetingNotExist)
	})
	t.Run("recurring meeting", func(t *testing.T) {
		weekly, _ := s.Conference(ds.Conferences[3].ConfUUID)
		earlier, _ := s.Meeting(ds.Meetings[0].ConfUUID)
		if weekly.History.ConfType != "CYCLE" || earlier.History.ConfType != "CYCLE" || weekly.History.ConferenceID != earlier.History.ConferenceID {
			t.Errorf("runs of 960123454: confType %q and %q, conferenceID %q and %q; want CYCLE and one ID",
				weekly.History.ConfType, earlier.History.ConfType, weekly.History.ConferenceID, earlier.History.ConferenceID)
		}
	})
}

type attendeeRow struct {
	DisplayName string `json:"displayName"`
	CallNumber  string `json:"callNumber"`
	DeviceType  string `json:"deviceType"`
	JoinTime    *int64 `json:"joinTime"`
	LeftTime    *int64 `json:"leftTime"`
	MediaType   string `json:"mediaType"`
	DeptName    string `json:"deptName"`
}

type ctlRow struct {
	OperateTime     *int64  `json:"operateTime"`
	OperateSource   string  `json:"operateSource"`
	Operator        string  `json:"operator"`
	OperateCode     string  `json:"operateCode"`
	OperationObject string  `json:"operationObject"`
	OperateResult   string  `json:"operateResult"`
	Detail          *string `json:"detail"`
}

func TestAttendeeRecords(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	conf, _ := s.Conference(ds.Conferences[2].ConfUUID)
	recs := conf.History.Attendees
	st, _ := time.Parse(StartTimeLayout, conf.StartTime)
	end, _ := time.Parse(StartTimeLayout, conf.History.EndTime)
	if len(recs) < 1 {
		t.Fatalf("no attendee records in %+v", conf.History)
	}
	tests := []struct {
		name, lang, query string
		wantDevice        func(string) string
		wantFrom, limit   int
	}{
		{"English", "en-US", "", func(s string) string { return s }, 0, 20},
		{"Chinese", "zh-CN", "", func(s string) string { return localize(s, true) }, 0, 20},
		{"Chinese by default", "", "", func(s string) string { return localize(s, true) }, 0, 20},
		{"English with weights", "en-US,en;q=0.9", "", func(s string) string { return s }, 0, 20},
		{"paged", "en-US", "&offset=1&limit=1", func(s string) string { return s }, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.lang != "" {
				hdr = []string{"Accept-Language", tt.lang}
			}
			var p page[attendeeRow]
			getJSON(t, s, tok, pathAttendees+"?confUUID="+conf.ConfUUID+tt.query, &p, hdr...)
			want := recs[min(len(recs), tt.wantFrom):min(len(recs), tt.wantFrom+tt.limit)]
			if p.Count != int64(len(recs)) || p.Limit != int64(tt.limit) || len(p.Data) != len(want) {
				t.Fatalf("count %d limit %d rows %d; want %d %d %d", p.Count, p.Limit, len(p.Data), len(recs), tt.limit, len(want))
			}
			for i, a := range p.Data {
				w := want[i]
				if a.DisplayName != w.DisplayName || a.CallNumber != w.CallNumber || a.DeviceType != tt.wantDevice(w.DeviceType) ||
					a.MediaType != tt.wantDevice(w.MediaType) || a.JoinTime == nil || *a.JoinTime != w.JoinTime || a.LeftTime == nil || *a.LeftTime != w.LeftTime {
					t.Errorf("record %d = %+v, want %+v (device %q)", i, a, w, tt.wantDevice(w.DeviceType))
				}
				if *a.JoinTime < st.UnixMilli() || *a.LeftTime > end.UnixMilli() || *a.LeftTime < *a.JoinTime {
					t.Errorf("record %d: joined %d left %d, outside the meeting %s to %s", i, *a.JoinTime, *a.LeftTime, conf.StartTime, conf.History.EndTime)
				}
			}
		})
	}
	t.Run("Chinese differs", func(t *testing.T) {
		if localize("Room terminal", true) == "Room terminal" || localize(OperateStartRecording, true) == OperateStartRecording {
			t.Error("no zh-CN translations")
		}
	})
}

func TestCtlRecords(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	for _, tt := range []struct {
		name      string
		confUUID  string
		rcdTime   int
		recording bool
	}{
		{"recorded", ds.Conferences[4].ConfUUID, ds.Conferences[4].RcdTime, true},
		{"another recorded", ds.Conferences[0].ConfUUID, ds.Conferences[0].RcdTime, true},
		{"not recorded", ds.Meetings[1].ConfUUID, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []string{"en-US", "zh-CN"} {
				zh := lang == "zh-CN"
				var p page[ctlRow]
				getJSON(t, s, tok, pathCtlRecords+"?confUUID="+tt.confUUID+"&limit=500", &p, "Accept-Language", lang)
				var startAt, stopAt int64
				for _, r := range p.Data {
					if r.OperateTime == nil || r.Detail == nil || r.Operator == "" || r.OperateResult != localize("Success", zh) {
						t.Errorf("%s record %+v: want operateTime, detail, operator, a result", lang, r)
						continue
					}
					switch r.OperateCode {
					case localize(OperateStartRecording, zh):
						startAt = *r.OperateTime
					case localize(OperateStopRecording, zh):
						stopAt = *r.OperateTime
					}
				}
				if int(p.Count) != len(p.Data) || len(p.Data) < 2 {
					t.Errorf("%s: count %d, %d rows", lang, p.Count, len(p.Data))
				}
				if tt.recording && (startAt == 0 || stopAt-startAt != int64(tt.rcdTime)*1000) {
					t.Errorf("%s: recording started %d stopped %d, want %d s apart", lang, startAt, stopAt, tt.rcdTime)
				}
				if !tt.recording && (startAt != 0 || stopAt != 0) {
					t.Errorf("%s: a meeting without recording has start/stop recording records", lang)
				}
			}
		})
	}
}

// TestHistoryDeterministic: the same seed gives the same history, another
// seed another one; a history given in the dataset is served as given.
func TestHistoryDeterministic(t *testing.T) {
	ds := SampleDataset()
	given := History{ConferenceID: "42", EndTime: "2024-03-05 15:00", RecordType: 2, ConfMode: "RTC", ConfType: "FUTURE",
		Attendees: []AttendeeRecord{{DisplayName: "Only one", JoinTime: 1, LeftTime: 2, DeviceType: "PC"}}}
	ds.Conferences[1].History = &given
	body := func(seed int64, path, confUUID string) string {
		s := Start(t, Config{Dataset: ds, Seed: seed, Now: sampleClock()})
		r := call(t, "GET", s.URL+path+"?confUUID="+confUUID, "", "X-Access-Token", login(t, s, ""), "Accept-Language", "en-US")
		if r.status != 200 {
			t.Fatalf("status %d body %s", r.status, r.body)
		}
		return string(r.body)
	}
	id := ds.Conferences[0].ConfUUID
	for _, path := range []string{pathHisDetail, pathAttendees, pathCtlRecords} {
		if a, b := body(7, path, id), body(7, path, id); a != b {
			t.Errorf("%s: seed 7 twice differs:\n%s\n%s", path, a, b)
		}
	}
	if a, b := body(7, pathAttendees, id), body(8, pathAttendees, id); a == b {
		t.Errorf("attendees: seeds 7 and 8 give the same answer %s", a)
	}
	var p page[attendeeRow]
	if err := json.Unmarshal([]byte(body(7, pathAttendees, ds.Conferences[1].ConfUUID)), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 1 || p.Data[0].DisplayName != "Only one" {
		t.Errorf("given history: attendees %+v, want the one given", p.Data)
	}
	var d detailDoc
	if err := json.Unmarshal([]byte(body(7, pathHisDetail, ds.Conferences[1].ConfUUID)), &d); err != nil {
		t.Fatal(err)
	}
	if d.ConferenceData.ConferenceID != "42" || d.ConferenceData.EndTime != "2024-03-05 15:00" || d.Data.Count != 0 {
		t.Errorf("given history: conferenceData %+v, %d participants; want the one given", d.ConferenceData, d.Data.Count)
	}
}

// TestHistoryPerConferenceErrors: the per-conference APIs' parameters.
func TestHistoryPerConferenceErrors(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	id := ds.Conferences[0].ConfUUID
	for _, path := range []string{pathHisDetail, pathAttendees, pathCtlRecords} {
		for _, tt := range []struct {
			name, query string
			status      int
			code        string
		}{
			{"missing confUUID", "", 400, CodeRequestError},
			{"empty confUUID", "?confUUID", 400, CodeRequestError},
			{"unknown", "?confUUID=" + SampleUnknownConfUUID, 400, CodeMeetingNotExist},
			{"negative offset", "?confUUID=" + id + "&offset=-2", 400, CodeRequestError},
			{"bad limit", "?confUUID=" + id + "&limit=x", 400, CodeRequestError},
		} {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				wantError(t, call(t, "GET", s.URL+path+tt.query, "", "X-Access-Token", tok), tt.status, tt.code)
			})
		}
		t.Run(path+"/no token", func(t *testing.T) {
			wantError(t, call(t, "GET", s.URL+path+"?confUUID="+id, ""), 401, CodeTokenInvalid)
		})
	}
}

// TestHistoryFaults: the generic faults reach the history APIs, per
// conference where they name one, and NotDeployed removes an API.
func TestHistoryFaults(t *testing.T) {
	ds := SampleDataset()
	a, b := ds.Conferences[0].ConfUUID, ds.Conferences[1].ConfUUID
	tests := []struct {
		name       string
		cfg        Config
		path, conf string
		status     int
		code       string
	}{
		{"attendees 403", Config{Faults: []Fault{{Endpoint: EndpointAttendees, Kind: FaultStatus, Status: 403}}}, pathAttendees, a, 403, CodeNoPermission},
		{"control 403", Config{Faults: []Fault{{Endpoint: EndpointCtlRecords, Kind: FaultStatus, Status: 403}}}, pathCtlRecords, a, 403, CodeNoPermission},
		{"control 404", Config{Faults: []Fault{{Endpoint: EndpointCtlRecords, Kind: FaultStatus, Status: 404}}}, pathCtlRecords, a, 404, CodeNoAPI},
		{"detail 500", Config{Faults: []Fault{{Endpoint: EndpointHistoryDetail, Kind: FaultStatus, Status: 503}}}, pathHisDetail, a, 503, CodeServerError},
		{"history throttled", Config{Faults: []Fault{{Endpoint: EndpointHistory, Kind: FaultThrottle}}}, pathHistory, "", 429, CodeThrottled},
		{"403 for one conference: hit", Config{Faults: []Fault{{Endpoint: EndpointAttendees, Kind: FaultStatus, Status: 403, ConfUUID: a}}}, pathAttendees, a, 403, CodeNoPermission},
		{"403 for one conference: another", Config{Faults: []Fault{{Endpoint: EndpointAttendees, Kind: FaultStatus, Status: 403, ConfUUID: a}}}, pathAttendees, b, 200, ""},
		{"attendees not deployed", Config{NotDeployed: []string{EndpointAttendees, EndpointCtlRecords}}, pathAttendees, a, 404, CodeNoAPI},
		{"control not deployed", Config{NotDeployed: []string{EndpointAttendees, EndpointCtlRecords}}, pathCtlRecords, a, 404, CodeNoAPI},
		{"detail still deployed", Config{NotDeployed: []string{EndpointAttendees, EndpointCtlRecords}}, pathHisDetail, a, 200, ""},
		{"history not deployed", Config{NotDeployed: []string{EndpointHistory}}, pathHistory, "", 404, CodeNoAPI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Dataset, cfg.Now = ds, sampleClock()
			s := Start(t, cfg)
			q := "?confUUID=" + tt.conf
			if tt.path == pathHistory {
				q = "?" + allWindow
			}
			r := call(t, "GET", s.URL+tt.path+q, "", "X-Access-Token", login(t, s, ""))
			if tt.code == "" {
				if r.status != tt.status {
					t.Fatalf("status %d, want %d (body %s)", r.status, tt.status, r.body)
				}
				return
			}
			wantError(t, r, tt.status, tt.code)
		})
	}
}

// TestHistoryQuotaPerAPI: each history API has a quota of its own.
func TestHistoryQuotaPerAPI(t *testing.T) {
	ds := SampleDataset()
	clk := newFakeClock()
	s := Start(t, Config{Dataset: ds, QuotaPerAPI: 2, Now: clk.Now, HistoryRetention: -1})
	tok := login(t, s, "")
	id := ds.Conferences[0].ConfUUID
	paths := []string{pathHistory + "?" + allWindow, pathHisDetail + "?confUUID=" + id, pathAttendees + "?confUUID=" + id, pathCtlRecords + "?confUUID=" + id}
	for _, p := range paths {
		for i := range 2 {
			r := call(t, "GET", s.URL+p, "", "X-Access-Token", tok)
			if want := fmt.Sprintf("remain:%d,limit:2,time:1 minute", 1-i); r.status != 200 || r.header.Get("X-APIG-Ratelimit-Api") != want {
				t.Errorf("%s call %d: status %d header %q; want 200 %q", p, i+1, r.status, r.header.Get("X-APIG-Ratelimit-Api"), want)
			}
		}
	}
	for _, p := range paths {
		r := call(t, "GET", s.URL+p, "", "X-Access-Token", tok)
		wantError(t, r, 429, CodeThrottled)
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without Retry-After", p)
		}
	}
	if got := s.Counters().Requests; got[EndpointHistory] != 3 || got[EndpointAttendees] != 3 || got[EndpointCtlRecords] != 3 || got[EndpointHistoryDetail] != 3 {
		t.Errorf("Requests = %v, want 3 for each history API", got)
	}
}

// TestListOmissionsAndCounts: the recording list's faults for
// reconciliation: a recording left out (HiddenFromList, an omit fault) and
// a count that disagrees with the rows.
func TestListOmissionsAndCounts(t *testing.T) {
	base := SampleDataset()
	hidden := base.Conferences[2].ConfUUID
	all := base.UUIDs()
	without := slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == hidden })
	tests := []struct {
		name      string
		cfg       Config
		hide      bool
		calls     int // list calls
		wantCount int64
		want      []string // on every call
		wantLast  []string // on the last call, if different
	}{
		{"plain", Config{}, false, 1, 7, all, nil},
		{"HiddenFromList", Config{}, true, 1, 6, without, nil},
		{"omit fault", Config{Faults: []Fault{{Endpoint: EndpointList, Kind: FaultOmit, ConfUUID: hidden}}}, false, 2, 6, without, nil},
		{"omit fault once", Config{Faults: []Fault{{Endpoint: EndpointList, Kind: FaultOmit, ConfUUID: hidden, Times: 1}}}, false, 2, 6, without, all},
		{"count larger", Config{ListCountDelta: 3}, false, 1, 10, all, nil},
		{"count smaller", Config{ListCountDelta: -2}, false, 1, 5, all, nil},
		{"count never negative", Config{ListCountDelta: -20}, false, 1, 0, all, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := SampleDataset()
			ds.Conferences[2].HiddenFromList = tt.hide
			cfg := tt.cfg
			cfg.Dataset, cfg.Now = ds, sampleClock()
			s := Start(t, cfg)
			tok := login(t, s, "")
			for i := range tt.calls {
				var p page[hisConference]
				getJSON(t, s, tok, "/v1/mmc/management/record/files?"+allWindow, &p)
				want, wantCount := tt.want, tt.wantCount
				if i == tt.calls-1 && tt.wantLast != nil {
					want, wantCount = tt.wantLast, int64(len(tt.wantLast))
				}
				if got := confsOf(p.Data); p.Count != wantCount || !slices.Equal(got, want) {
					t.Errorf("call %d: count %d rows %v; want %d %v", i+1, p.Count, got, wantCount, want)
				}
			}
			// The history still says the hidden one has recordings, and
			// the other recording APIs know it.
			var h page[hisConference]
			getJSON(t, s, tok, pathHistory+"?"+allWindow+"&limit=100", &h)
			for _, r := range h.Data {
				if r.ConfUUID == hidden && !r.IsHasRecordFile {
					t.Errorf("history: %s isHasRecordFile %v, want true", hidden, r.IsHasRecordFile)
				}
			}
			if r := call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+hidden, "", "X-Access-Token", tok); r.status != 200 {
				t.Errorf("detail of the hidden recording: status %d, want 200", r.status)
			}
		})
	}
}

// TestDeleteConference: a recording deleted after it was archived leaves
// the list and the recording APIs, and stays in the history without
// recording files.
func TestDeleteConference(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	gone := ds.Conferences[1].ConfUUID
	if err := s.DeleteConference(gone); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, id string }{{"again", gone}, {"unknown", SampleUnknownConfUUID}, {"a meeting", ds.Meetings[0].ConfUUID}} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if err := s.DeleteConference(tt.id); err == nil {
				t.Errorf("DeleteConference(%s): no error", tt.id)
			}
		})
	}
	if !s.Deleted(gone) || s.Counters().Deleted != 0 {
		t.Errorf("Deleted = %v, Counters.Deleted = %d; want true and 0 (not through the API)", s.Deleted(gone), s.Counters().Deleted)
	}
	var l page[hisConference]
	getJSON(t, s, tok, "/v1/mmc/management/record/files?"+allWindow, &l)
	if slices.Contains(confsOf(l.Data), gone) || l.Count != 6 {
		t.Errorf("list: count %d rows %v; want 6 without %s", l.Count, confsOf(l.Data), gone)
	}
	wantError(t, call(t, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID="+gone, "", "X-Access-Token", tok), 400, CodeMeetingNotExist)
	var d detailDoc
	getJSON(t, s, tok, pathHisDetail+"?confUUID="+gone, &d)
	if d.ConferenceData.IsHasRecordFile {
		t.Errorf("history detail: isHasRecordFile %v, want false after the deletion", d.ConferenceData.IsHasRecordFile)
	}
	var h page[hisConference]
	getJSON(t, s, tok, pathHistory+"?"+allWindow, &h)
	if !slices.Contains(confsOf(h.Data), gone) {
		t.Errorf("history lost %s", gone)
	}
}

// TestAddFile: a file added to a conference after it was archived is
// listed and served; AddFile is safe while clients are served.
func TestAddFile(t *testing.T) {
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: sampleClock()})
	tok := login(t, s, "")
	id := ds.Conferences[1].ConfUUID // one file: Hd 0_0.mp4
	done := make(chan struct{})
	go func() { // concurrent readers for the race detector
		defer close(done)
		for range 20 {
			r := call(t, "GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+id, "", "X-Access-Token", tok)
			if r.status != 200 {
				t.Errorf("downloadurls: status %d", r.status)
				return
			}
		}
	}()
	added := File{FileType: FileTypeHd, Name: "0_1.mp4", Size: 1000}
	if err := s.AddFile(id, added); err != nil {
		t.Fatal(err)
	}
	<-done
	for _, tt := range []struct {
		name string
		conf string
		f    File
	}{
		{"again", id, added},
		{"unknown conference", SampleUnknownConfUUID, File{FileType: FileTypeHd, Name: "x.mp4"}},
		{"bad type", id, File{FileType: "Vid", Name: "x.mp4"}},
		{"bad name", id, File{FileType: FileTypeHd, Name: "a/b"}},
		{"negative size", id, File{FileType: FileTypeHd, Name: "y.mp4", Size: -1}},
	} {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			if err := s.AddFile(tt.conf, tt.f); err == nil {
				t.Errorf("AddFile(%s, %+v): no error", tt.conf, tt.f)
			}
		})
	}
	ls := links(t, s, tok, id)
	if len(ls) != 2 || !strings.HasSuffix(ls[1].URL, "/0_1.mp4") {
		t.Fatalf("links %+v, want the old file and 0_1.mp4", ls)
	}
	r := call(t, "GET", ls[1].URL, "", "Authorization", ls[1].Token)
	if r.status != 200 || len(r.body) != 1000 || sha(r.body) != s.FileSHA256(id, FileTypeHd, "0_1.mp4") {
		t.Errorf("media of the added file: status %d, %d bytes", r.status, len(r.body))
	}
	if err := s.DeleteConference(id); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile(id, File{FileType: FileTypeHd, Name: "0_2.mp4"}); err == nil {
		t.Error("AddFile to a deleted conference: no error")
	}
}

// TestHistoryAnswerFaults: answer faults on the history APIs.
func TestHistoryAnswerFaults(t *testing.T) {
	ds := SampleDataset()
	id := ds.Conferences[0].ConfUUID
	tests := []struct {
		kind, endpoint string
		check          func(t *testing.T, row map[string]any)
	}{
		{FaultNoConf, EndpointHistory, func(t *testing.T, row map[string]any) { wantAbsent(t, row, "confUUID") }},
		{FaultNoHasRecord, EndpointHistory, func(t *testing.T, row map[string]any) { wantAbsent(t, row, "isHasRecordFile") }},
		{FaultUpperConf, EndpointHistory, func(t *testing.T, row map[string]any) {
			if s, _ := row["confUUID"].(string); s != strings.ToUpper(s) || s == "" {
				t.Errorf("confUUID %q, want upper case", s)
			}
		}},
		{FaultOtherConf, EndpointHistoryDetail, func(t *testing.T, row map[string]any) {
			if s, _ := row["confUUID"].(string); strings.EqualFold(s, id) || s == "" {
				t.Errorf("confUUID %q, want another conference's", s)
			}
		}},
		{FaultNoHasRecord, EndpointHistoryDetail, func(t *testing.T, row map[string]any) { wantAbsent(t, row, "isHasRecordFile") }},
		{FaultNoConf, EndpointHistoryDetail, func(t *testing.T, row map[string]any) { wantAbsent(t, row, "confUUID") }},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint+"/"+tt.kind, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, Now: sampleClock(), Faults: []Fault{{Endpoint: tt.endpoint, Kind: tt.kind}}})
			tok := login(t, s, "")
			if tt.endpoint == EndpointHistory {
				var p page[map[string]any]
				getJSON(t, s, tok, pathHistory+"?"+allWindow, &p)
				if len(p.Data) == 0 {
					t.Fatal("no rows")
				}
				for _, row := range p.Data {
					tt.check(t, row)
				}
				return
			}
			var d struct {
				ConferenceData map[string]any `json:"conferenceData"`
			}
			getJSON(t, s, tok, pathHisDetail+"?confUUID="+id, &d)
			tt.check(t, d.ConferenceData)
		})
	}
	for _, bad := range []Fault{
		{Endpoint: EndpointAttendees, Kind: FaultNoConf},
		{Endpoint: EndpointHistory, Kind: FaultOtherConf},
		{Endpoint: EndpointDetails, Kind: FaultNoHasRecord},
		{Endpoint: EndpointDetails, Kind: FaultOmit, ConfUUID: id},
		{Endpoint: EndpointList, Kind: FaultOmit},
	} {
		t.Run("refused "+bad.String(), func(t *testing.T) {
			if err := (Config{Faults: []Fault{bad}}).Validate(); err == nil {
				t.Errorf("Validate(%s): no error", bad)
			}
		})
	}
	t.Run("refused NotDeployed name", func(t *testing.T) {
		if err := (Config{NotDeployed: []string{"attendee"}}).Validate(); err == nil {
			t.Error("Validate(NotDeployed attendee): no error")
		}
	})
	t.Run("parse omit", func(t *testing.T) {
		f, err := ParseFault("list:omit:conf=" + id + ":times=2")
		if err != nil || f.Kind != FaultOmit || f.ConfUUID != id || f.Times != 2 {
			t.Fatalf("ParseFault = %+v, %v", f, err)
		}
		if g, err := ParseFault(f.String()); err != nil || g != f {
			t.Errorf("round trip %q = %+v, %v", f.String(), g, err)
		}
	})
}

func wantAbsent(t *testing.T, m map[string]any, key string) {
	t.Helper()
	if _, ok := m[key]; ok {
		t.Errorf("%s present in %v, want it left out", key, m)
	}
}
