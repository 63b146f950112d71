package meetingtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// These tests replay, byte for byte, the requests the vendor's official Go
// SDK (github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.207,
// services/meeting/v1) sends, and decode the answers into mirrors of the
// SDK's model types (pointers, int32 where the SDK has int32, *string where
// it has *string), so that a type the SDK cannot decode fails here. The SDK
// itself is not imported. What the SDK does on the wire:
//   - every request has Content-Type: application/json (GET and DELETE too,
//     without a body) and User-Agent huaweicloud-usdk-go/3.0;
//   - JSON bodies end with a newline (json.Encoder);
//   - query parameters are sorted by name, spaces are %20, commas %2C, and
//     the "=" of an empty value is dropped ("?confUUID");
//   - account login: Authorization: Basic, Content-Type
//     "application/json; charset=UTF-8", {"account","clientType":72};
//   - X-Access-Token carries the account login's access token on every other
//     call, UpdateToken (refresh) included;
//   - an error answer decodes only when error_code and error_msg are both
//     non-empty strings; the request ID is read from X-Request-Id.

// sdkRequest sends a request shaped as the SDK shapes it.
func sdkRequest(t *testing.T, s *Server, method, pathQuery, token, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+pathQuery, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	if token != "" {
		req.Header.Set("X-Access-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, pathQuery, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// sdkLogin is the SDK's MeetingCredentials login (the only one it has).
func sdkLogin(t *testing.T, s *Server) (reply, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/usg/acs/auth/account",
		strings.NewReader(`{"account":"`+DefaultAccount+`","clientType":72}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(DefaultAccount+":"+DefaultPassword)))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, body: b}
	var tok sdkToken
	if r.status != 200 {
		t.Fatalf("SDK login: status %d body %s", r.status, r.body)
	}
	sdkDecode(t, r, &tok)
	if tok.AccessToken == nil || *tok.AccessToken == "" {
		t.Fatalf("SDK login: no accessToken in %s", r.body)
	}
	return r, *tok.AccessToken
}

// sdkDecode decodes a 2xx body as the SDK does (unknown fields ignored,
// wrong types fail).
func sdkDecode(t *testing.T, r reply, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("the SDK could not decode %s: %v", r.body, err)
	}
}

// sdkWantError checks an error answer as the SDK reads it.
func sdkWantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	gotCode, _ := m["error_code"].(string)
	gotMsg, _ := m["error_msg"].(string)
	if r.status != status || gotCode != code || gotMsg == "" || r.header.Get("X-Request-Id") == "" {
		t.Errorf("status %d error_code %q error_msg %q X-Request-Id %q; want %d %q, a message and a request id",
			r.status, gotCode, gotMsg, r.header.Get("X-Request-Id"), status, code)
	}
}

// Mirrors of the SDK's model types (services/meeting/v1/model).
type sdkUser struct {
	UserID         *string `json:"userId"`
	UcloginAccount string  `json:"ucloginAccount"`
	CompanyID      *string `json:"companyId"`
	UserType       *int32  `json:"userType"`
	AdminType      *int32  `json:"adminType"`
	Name           *string `json:"name"`
	Status         *int32  `json:"status"`
	AppID          *string `json:"appId"`
	CorpType       *int32  `json:"corpType"`
}

type sdkToken struct { // CheckTokenResponse, UpdateTokenResponse
	AccessToken        *string  `json:"accessToken"`
	TokenIP            *string  `json:"tokenIp"`
	ValidPeriod        *int64   `json:"validPeriod"`
	ExpireTime         *int64   `json:"expireTime"`
	CreateTime         *int64   `json:"createTime"`
	User               *sdkUser `json:"user"`
	ClientType         *int32   `json:"clientType"`
	ForceLoginInd      *int32   `json:"forceLoginInd"`
	FirstLogin         *bool    `json:"firstLogin"`
	PwdExpired         *bool    `json:"pwdExpired"`
	DaysPwdAvailable   *int32   `json:"daysPwdAvailable"`
	DelayDelete        *bool    `json:"delayDelete"`
	TokenType          *int32   `json:"tokenType"`
	RefreshToken       *string  `json:"refreshToken"`
	RefreshValidPeriod *int64   `json:"refreshValidPeriod"`
	RefreshExpireTime  *int64   `json:"refreshExpireTime"`
	RefreshCreateTime  *int64   `json:"refreshCreateTime"`
}

type sdkRecording struct { // ShowRecordingDetailResponse, RecordResultDo
	ConfUUID       *string   `json:"confUUID"`
	ConfID         *string   `json:"confID"`
	URL            *[]string `json:"url"`
	RcdTime        *int32    `json:"rcdTime"`
	RcdSize        *int32    `json:"rcdSize"`
	Subject        *string   `json:"subject"`
	ScheduserName  *string   `json:"scheduserName"`
	StartTime      *string   `json:"startTime"`
	IsDecodeFinish *bool     `json:"isDecodeFinish"`
	DecodeEndTime  *int64    `json:"decodeEndTime"`
	Available      *bool     `json:"available"`
	RecordAuthType *int32    `json:"recordAuthType"`
}

type sdkList struct { // SearchRecordingsResponse
	Offset *int32          `json:"offset"`
	Limit  *int32          `json:"limit"`
	Count  *int32          `json:"count"`
	Data   *[]sdkRecording `json:"data"`
}

type sdkDownloadURLs struct { // ShowRecordingFileDownloadUrlsResponse
	RecordUrls *[]struct {
		ConfUUID *string `json:"confUuid"`
		Urls     *[]struct {
			Token    *string `json:"token"`
			FileType *string `json:"fileType"`
			URL      *string `json:"url"`
		} `json:"urls"`
	} `json:"recordUrls"`
}

type sdkRecordInfo struct { // ShowRecordInfoResponse
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Data    *struct {
		Subject       *string `json:"subject"`
		BeginTime     *string `json:"beginTime"` // a string in the SDK (RecordInfoDo)
		SegmentOffset *int32  `json:"segmentOffset"`
		SegmentLimit  *int32  `json:"segmentLimit"`
		SegmentCount  *int64  `json:"segmentCount"`
		SegmentList   *[]struct {
			ManualOrder  *int32  `json:"manualOrder"`
			SegmentOrder *int32  `json:"segmentOrder"`
			SegmentSize  *string `json:"segmentSize"`
			FileList     *[]struct {
				RecordType  *string `json:"recordType"`
				BeginTime   *int64  `json:"beginTime"` // a number in the SDK (SegmentFileDo)
				EndTime     *int64  `json:"endTime"`
				Duration    *int64  `json:"duration"`
				FileSize    *int64  `json:"fileSize"`
				Sha256      *string `json:"sha256"`
				PlayURL     *string `json:"playUrl"`
				DownloadURL *string `json:"downloadUrl"`
			} `json:"fileList"`
		} `json:"segmentList"`
	} `json:"data"`
}

// sdkDataset is the sample plus a conference with 25 files (more than one
// downloadurls page at the default limit) and one with 501 (more than the
// largest page).
func sdkDataset() (ds Dataset, big, huge Conference) {
	ds = SampleDataset()
	mk := func(uuid, confID, start string, files int) Conference {
		c := Conference{
			ConfUUID: uuid, ConfID: confID, Subject: "Many files",
			ScheduserName: "Li Wei", StartTime: start, RcdTime: 3600, IsDecodeFinish: true, Available: true,
		}
		for i := range files {
			c.Files = append(c.Files, File{FileType: FileTypeHd, Name: fmt.Sprintf("0_%d.mp4", i), Size: 16})
		}
		return c
	}
	big = mk("b16b16b16b16b16b16b16b16b16b16b1", "960123498", "2024-03-11 09:00", 25)
	huge = mk("b16b16b16b16b16b16b16b16b16b16b2", "960123499", "2024-03-12 09:00", DownloadURLsMaxLimit+1)
	ds.Conferences = append(ds.Conferences, big, huge)
	return ds, big, huge
}

func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

func TestSDKWireShapes(t *testing.T) {
	ds, big, huge := sdkDataset()
	const listRange = "endDate=1735689600000&queryAll=true" // 2025-01-01; startDate follows (sorted keys)
	tests := []struct {
		name                    string
		method, pathQuery, body string
		check                   func(t *testing.T, s *Server, tok string, r reply)
		wantStatus              int
		wantCode                string // error answers
		noToken                 bool
	}{
		{
			name: "detail", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/conferences/record/files?confUUID=" + ds.Conferences[0].ConfUUID,
			check: func(t *testing.T, s *Server, tok string, r reply) {
				var got sdkRecording
				sdkDecode(t, r, &got)
				c := ds.Conferences[0]
				if deref(got.ConfUUID) != c.ConfUUID || deref(got.RcdTime) != int32(c.RcdTime) || deref(got.RcdSize) != 2 ||
					deref(got.StartTime) != c.StartTime || deref(got.DecodeEndTime) != c.DecodeEndTime || len(deref(got.URL)) != 1 ||
					deref(got.RecordAuthType) != int32(c.RecordAuthType) || got.IsDecodeFinish == nil || got.Available == nil {
					t.Errorf("got %s, want the dataset's %+v", r.body, c)
				}
			},
		},
		{
			// The SDK drops the "=" of an empty value.
			name: "detail empty confUUID", method: "GET", wantStatus: 400, wantCode: CodeRequestError,
			pathQuery: "/v1/mmc/management/conferences/record/files?confUUID",
		},
		{
			name: "detail unknown", method: "GET", wantStatus: 400, wantCode: CodeMeetingNotExist,
			pathQuery: "/v1/mmc/management/conferences/record/files?confUUID=" + SampleUnknownConfUUID,
		},
		{
			name: "list all", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/files?" + listRange + "&limit=100&offset=0&startDate=1704067200000",
			check: func(t *testing.T, s *Server, tok string, r reply) {
				var got sdkList
				sdkDecode(t, r, &got)
				if deref(got.Count) != int32(len(ds.Conferences)) || len(deref(got.Data)) != len(ds.Conferences) || deref(got.Limit) != 100 || got.Offset == nil {
					t.Errorf("count %d, %d rows, limit %d; want %d, %d, 100", deref(got.Count), len(deref(got.Data)), deref(got.Limit), len(ds.Conferences), len(ds.Conferences))
				}
			},
		},
		{
			// Regression: searchKey matched the subject only; the vendor and
			// the SDK document subject, scheduler and meeting ID.
			name: "list searchKey scheduler", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/files?" + listRange + "&searchKey=alice%20martin&startDate=1704067200000",
			check:     wantListed(ds.Conferences[1].ConfUUID, ds.Conferences[6].ConfUUID),
		},
		{
			name: "list searchKey meeting ID", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/files?" + listRange + "&searchKey=960123453&startDate=1704067200000",
			check:     wantListed(ds.Conferences[2].ConfUUID),
		},
		{
			name: "list searchKey subject", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/files?" + listRange + "&searchKey=%E5%AD%A3%E5%BA%A6%E8%AF%84%E5%AE%A1&startDate=1704067200000",
			check:     wantListed(ds.Conferences[0].ConfUUID),
		},
		{
			// Regression: without limit the simulator listed every file; the
			// vendor and the SDK document a default of 20.
			name: "downloadurls default limit", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/downloadurls?confUUID=" + big.ConfUUID,
			check:     wantLinks(big, 0, 20),
		},
		{
			name: "downloadurls second page", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/downloadurls?confUUID=" + big.ConfUUID + "&limit=20&offset=20",
			check:     wantLinks(big, 20, 5),
		},
		{
			name: "downloadurls limit above 500 capped", method: "GET", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/downloadurls?confUUID=" + huge.ConfUUID + "&limit=1000&offset=0",
			check:     wantLinks(huge, 0, DownloadURLsMaxLimit),
		},
		{
			// Regression: data.beginTime was a number; the SDK's
			// RecordInfoDo.BeginTime is *string and failed to decode it.
			name: "record info", method: "POST", wantStatus: 200,
			pathQuery: "/v1/mmc/rlm/record/info",
			body:      `{"confUUID":"` + ds.Conferences[4].ConfUUID + `","segmentOffset":0,"segmentLimit":10}` + "\n",
			check: func(t *testing.T, s *Server, tok string, r reply) {
				var got sdkRecordInfo
				sdkDecode(t, r, &got)
				if got.Data == nil || deref(got.Data.BeginTime) != "1709916300000" || deref(got.Data.SegmentCount) != 2 {
					t.Fatalf("got %s; want data.beginTime \"1709916300000\" (2024-03-08 16:45 UTC) and 2 segments", r.body)
				}
				for _, seg := range deref(got.Data.SegmentList) {
					for _, f := range deref(seg.FileList) {
						if deref(f.BeginTime) < 1709916300000 || deref(f.EndTime) <= deref(f.BeginTime) || len(deref(f.Sha256)) != 64 || deref(f.FileSize) <= 0 {
							t.Errorf("file %+v: want numeric beginTime/endTime, sha256 and fileSize", f)
						}
					}
				}
			},
		},
		{
			name: "record info unknown", method: "POST", wantStatus: 400, wantCode: CodeMeetingNotExist,
			pathQuery: "/v1/mmc/rlm/record/info", body: `{"confUUID":"` + SampleUnknownConfUUID + `"}` + "\n",
		},
		{
			name: "validate", method: "POST", wantStatus: 200, pathQuery: "/v1/usg/acs/token/validate",
			body: `{"token":"{TOKEN}","needGenNewToken":false,"needAccountInfo":true}` + "\n",
			check: func(t *testing.T, s *Server, tok string, r reply) {
				var got sdkToken
				sdkDecode(t, r, &got)
				if deref(got.AccessToken) != tok || deref(got.ClientType) != ClientTypeAPI || got.User == nil || deref(got.RefreshToken) == "" {
					t.Errorf("got %s; want the same token, clientType 72, user and refreshToken", r.body)
				}
			},
		},
		{
			name: "refresh", method: "PUT", wantStatus: 200, pathQuery: "/v1/usg/acs/token",
			check: func(t *testing.T, s *Server, tok string, r reply) {
				var got sdkToken
				sdkDecode(t, r, &got)
				if deref(got.AccessToken) == "" || deref(got.ValidPeriod) <= 0 || deref(got.ExpireTime) <= 0 {
					t.Errorf("got %s; want a live access token", r.body)
				}
			},
		},
		{
			// The SDK encodes the comma of a list as %2C.
			name: "delete two", method: "DELETE", wantStatus: 200,
			pathQuery: "/v1/mmc/management/record/files?confUUIDs=" + ds.Conferences[2].ConfUUID + "%2C" + ds.Conferences[3].ConfUUID,
			check: func(t *testing.T, s *Server, tok string, r reply) {
				if !s.Deleted(ds.Conferences[2].ConfUUID) || !s.Deleted(ds.Conferences[3].ConfUUID) {
					t.Errorf("deleted %v %v, want both", s.Deleted(ds.Conferences[2].ConfUUID), s.Deleted(ds.Conferences[3].ConfUUID))
				}
			},
		},
		{
			// Regression: DELETE /v1/usg/acs/token (the SDK's DeleteToken)
			// answered 404 APIG.0101.
			name: "logout", method: "DELETE", wantStatus: 200, pathQuery: "/v1/usg/acs/token",
			check: func(t *testing.T, s *Server, tok string, r reply) {
				sdkWantError(t, sdkRequest(t, s, "GET", "/v1/mmc/management/conferences/record/files?confUUID="+ds.Conferences[0].ConfUUID, tok, ""), 401, CodeTokenInvalid)
				sdkWantError(t, sdkRequest(t, s, "DELETE", "/v1/usg/acs/token", tok, ""), 401, CodeTokenInvalid)
				if got := s.Counters().Requests[EndpointLogout]; got != 2 {
					t.Errorf("Requests[logout] = %d, want 2", got)
				}
			},
		},
		{
			name: "logout without token", method: "DELETE", wantStatus: 401, wantCode: CodeTokenInvalid,
			pathQuery: "/v1/usg/acs/token", noToken: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, RecordInfo: true})
			_, tok := sdkLogin(t, s)
			body := strings.ReplaceAll(tt.body, "{TOKEN}", tok)
			sendTok := tok
			if tt.noToken {
				sendTok = ""
			}
			r := sdkRequest(t, s, tt.method, tt.pathQuery, sendTok, body)
			if tt.wantCode != "" {
				sdkWantError(t, r, tt.wantStatus, tt.wantCode)
				return
			}
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if tt.check != nil {
				tt.check(t, s, tok, r)
			}
		})
	}
}

// wantListed checks a list answer holds exactly these recordings.
func wantListed(confUUIDs ...string) func(t *testing.T, s *Server, tok string, r reply) {
	return func(t *testing.T, s *Server, tok string, r reply) {
		t.Helper()
		var got sdkList
		sdkDecode(t, r, &got)
		var ids []string
		for _, d := range deref(got.Data) {
			ids = append(ids, deref(d.ConfUUID))
		}
		if deref(got.Count) != int32(len(confUUIDs)) || strings.Join(ids, ",") != strings.Join(confUUIDs, ",") {
			t.Errorf("count %d data %v, want %d %v", deref(got.Count), ids, len(confUUIDs), confUUIDs)
		}
	}
}

// wantLinks checks a downloadurls answer lists n links of c from file from.
func wantLinks(c Conference, from, n int) func(t *testing.T, s *Server, tok string, r reply) {
	return func(t *testing.T, s *Server, tok string, r reply) {
		t.Helper()
		var got sdkDownloadURLs
		sdkDecode(t, r, &got)
		recs := deref(got.RecordUrls)
		if len(recs) != 1 || deref(recs[0].ConfUUID) != c.ConfUUID {
			t.Fatalf("recordUrls %s, want one entry for %s", r.body, c.ConfUUID)
		}
		urls := deref(recs[0].Urls)
		if len(urls) != n {
			t.Fatalf("%d links, want %d", len(urls), n)
		}
		for i, u := range urls {
			if want := "/" + c.Files[from+i].Name; !strings.HasSuffix(deref(u.URL), want) || deref(u.Token) == "" || deref(u.FileType) != c.Files[from+i].FileType {
				t.Errorf("link %d: url suffix ok %v, token set %v, type %q; want %s", i, strings.HasSuffix(deref(u.URL), want), deref(u.Token) != "", deref(u.FileType), want)
			}
		}
	}
}

// TestSDKErrorBodies checks that injected failures still give the SDK an
// error it can read (error_code and error_msg both set, X-Request-Id).
func TestSDKErrorBodies(t *testing.T) {
	ds := SampleDataset()
	tests := []struct {
		name   string
		fault  Fault
		status int
		code   string
	}{
		{"throttle", Fault{Endpoint: EndpointDetails, Kind: FaultThrottle}, 429, CodeThrottled},
		{"server error", Fault{Endpoint: EndpointDetails, Kind: FaultStatus, Status: 503}, 503, CodeServerError},
		{"forbidden", Fault{Endpoint: EndpointDetails, Kind: FaultStatus, Status: 403}, 403, CodeNoPermission},
		{"logout fault", Fault{Endpoint: EndpointLogout, Kind: FaultStatus, Status: 400}, 400, CodeAuthBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, Faults: []Fault{tt.fault}})
			_, tok := sdkLogin(t, s)
			path := "/v1/mmc/management/conferences/record/files?confUUID=" + ds.Conferences[0].ConfUUID
			method := "GET"
			if tt.fault.Endpoint == EndpointLogout {
				method, path = "DELETE", "/v1/usg/acs/token"
			}
			r := sdkRequest(t, s, method, path, tok, "")
			sdkWantError(t, r, tt.status, tt.code)
			if !bytes.Contains(r.body, []byte(`"request_id"`)) {
				t.Errorf("body %s lacks request_id", r.body)
			}
		})
	}
}

// Mirrors of the SDK's history models (SearchHisMeetingsResponse,
// ShowHisMeetingDetailResponse, SearchAttendanceRecordsOfHisMeetingResponse,
// SearchCtlRecordsOfHisMeetingResponse), for the fields the simulator sends.
type sdkConferenceInfo struct { // ConferenceInfo
	ConferenceID    *string `json:"conferenceID"`
	Subject         *string `json:"subject"`
	TimeZoneID      *string `json:"timeZoneID"`
	StartTime       *string `json:"startTime"`
	EndTime         *string `json:"endTime"`
	MediaTypes      *string `json:"mediaTypes"`
	ConferenceState *string `json:"conferenceState"`
	UserUUID        *string `json:"userUUID"`
	ScheduserName   *string `json:"scheduserName"`
	ConfType        *string `json:"confType"`
	IsAutoRecord    *int32  `json:"isAutoRecord"`
	RecordType      *int32  `json:"recordType"`
	RecordAuxStream *int32  `json:"recordAuxStream"`
	RecordAuthType  *int32  `json:"recordAuthType"`
	IsHasRecordFile *bool   `json:"isHasRecordFile"`
	ConfUUID        *string `json:"confUUID"`
	ConfMode        *string `json:"confMode"` // ConferenceInfoConfMode, an enum read from a JSON string
}

type sdkHisList struct { // SearchHisMeetingsResponse
	Offset *int32               `json:"offset"`
	Limit  *int32               `json:"limit"`
	Count  *int32               `json:"count"`
	Data   *[]sdkConferenceInfo `json:"data"`
}

type sdkParticipantInfo struct { // ParticipantInfo
	ParticipantID *string `json:"participantID"`
	Name          *string `json:"name"`
	Role          *int32  `json:"role"`
	AttendeeType  *string `json:"attendeeType"`
	AccountID     *string `json:"accountId"`
	Email         *string `json:"email"`
	SMS           *string `json:"sms"`
	DeptName      *string `json:"deptName"`
	UserUUID      *string `json:"userUUID"`
	AppID         *string `json:"appId"`
	IsAutoInvite  *int32  `json:"isAutoInvite"`
}

type sdkHisDetail struct { // ShowHisMeetingDetailResponse
	ConferenceData *sdkConferenceInfo `json:"conferenceData"`
	Data           *struct {          // PageParticipant
		Data   *[]sdkParticipantInfo `json:"data"`
		Offset *int32                `json:"offset"`
		Limit  *int32                `json:"limit"`
		Count  *int32                `json:"count"`
	} `json:"data"`
}

type sdkAttendance struct { // SearchAttendanceRecordsOfHisMeetingResponse
	Offset *int32      `json:"offset"`
	Limit  *int32      `json:"limit"`
	Count  *int32      `json:"count"`
	Data   *[]struct { // ConfAttendeeRecordInfo
		DisplayName *string `json:"displayName"`
		CallNumber  *string `json:"callNumber"`
		DeviceType  *string `json:"deviceType"`
		JoinTime    *int64  `json:"joinTime"`
		LeftTime    *int64  `json:"leftTime"`
		MediaType   *string `json:"mediaType"`
		DeptName    *string `json:"deptName"`
	} `json:"data"`
}

type sdkCtlRecords struct { // SearchCtlRecordsOfHisMeetingResponse
	Offset *int32      `json:"offset"`
	Limit  *int32      `json:"limit"`
	Count  *int32      `json:"count"`
	Data   *[]struct { // ConfCtlRecordInfo
		OperateTime     *int64  `json:"operateTime"`
		OperateSource   *string `json:"operateSource"`
		Operator        *string `json:"operator"`
		OperateCode     *string `json:"operateCode"`
		OperationObject *string `json:"operationObject"`
		OperateResult   *string `json:"operateResult"`
		Detail          *string `json:"detail"`
	} `json:"data"`
}

// sdkRequestLang is sdkRequest with the SDK's Accept-Language header (the
// attendee and control records requests carry it).
func sdkRequestLang(t *testing.T, s *Server, pathQuery, token, lang string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0")
	req.Header.Set("X-Access-Token", token)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", pathQuery, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// TestSDKHistoryWireShapes: the SDK's SearchHisMeetings,
// ShowHisMeetingDetail, SearchAttendanceRecordsOfHisMeeting and
// SearchCtlRecordsOfHisMeeting requests (query keys sorted, an empty value
// without "=") and models against the simulator.
func TestSDKHistoryWireShapes(t *testing.T) {
	ds := SampleDataset()
	conf, meet := ds.Conferences[0], ds.Meetings[1]
	const window = "endDate=1735689600000&limit=500&offset=0&queryAll=true&sortType=ASC_RecordTYPE&startDate=1704067200000" // 2024
	tests := []struct {
		name, pathQuery, lang string
		wantStatus            int
		wantCode              string
		check                 func(t *testing.T, s *Server, r reply)
	}{
		{
			name: "history list", pathQuery: "/v1/mmc/management/conferences/history?" + window, wantStatus: 200,
			check: func(t *testing.T, s *Server, r reply) {
				var got sdkHisList
				sdkDecode(t, r, &got)
				rows := deref(got.Data)
				if deref(got.Count) != 9 || len(rows) != 9 || deref(got.Limit) != 500 || got.Offset == nil {
					t.Fatalf("count %d, %d rows, limit %d; want 9, 9, 500", deref(got.Count), len(rows), deref(got.Limit))
				}
				for i, row := range rows {
					recorded := i < len(ds.Conferences) // ASC_RecordTYPE: meetings with recordings first
					if row.IsHasRecordFile == nil || *row.IsHasRecordFile != recorded || deref(row.ConfUUID) == "" || deref(row.ConferenceID) == "" ||
						deref(row.EndTime) <= deref(row.StartTime) || row.RecordType == nil || deref(row.ConfMode) == "" || deref(row.ConferenceState) != ConferenceStateEnded {
						t.Errorf("row %d: %s; want isHasRecordFile %v and every field", i, mustJSON(row), recorded)
					}
				}
			},
		},
		{
			name: "history list searchKey", pathQuery: "/v1/mmc/management/conferences/history?endDate=1735689600000&queryAll=true&searchKey=town%20hall&startDate=1704067200000", wantStatus: 200,
			check: func(t *testing.T, s *Server, r reply) {
				var got sdkHisList
				sdkDecode(t, r, &got)
				if rows := deref(got.Data); len(rows) != 1 || deref(rows[0].ConfUUID) != meet.ConfUUID || deref(got.Limit) != HistoryDefaultLimit {
					t.Errorf("got %s; want the town hall only, limit 20", r.body)
				}
			},
		},
		{name: "history list without dates", pathQuery: "/v1/mmc/management/conferences/history?limit=20&offset=0", wantStatus: 400, wantCode: CodeRequestError},
		{
			name: "history detail", pathQuery: "/v1/mmc/management/conferences/history/confDetail?confUUID=" + conf.ConfUUID + "&limit=500&offset=0", wantStatus: 200,
			check: func(t *testing.T, s *Server, r reply) {
				var got sdkHisDetail
				sdkDecode(t, r, &got)
				c, _ := s.Conference(conf.ConfUUID)
				if got.ConferenceData == nil || deref(got.ConferenceData.ConfUUID) != conf.ConfUUID || !deref(got.ConferenceData.IsHasRecordFile) ||
					got.Data == nil || int(deref(got.Data.Count)) != len(c.History.Participants) || len(deref(got.Data.Data)) != len(c.History.Participants) {
					t.Fatalf("got %s; want conferenceData of %s and its %d participants", r.body, conf.ConfUUID, len(c.History.Participants))
				}
				if p := deref(got.Data.Data)[0]; deref(p.Role) != 1 || deref(p.Name) != conf.ScheduserName || p.IsAutoInvite == nil {
					t.Errorf("first participant %s, want the host", mustJSON(p))
				}
			},
		},
		{name: "history detail empty confUUID", pathQuery: "/v1/mmc/management/conferences/history/confDetail?confUUID", wantStatus: 400, wantCode: CodeRequestError},
		{
			name: "attendance records", lang: "en-US", wantStatus: 200,
			pathQuery: "/v1/mmc/management/conferences/history/confAttendeeRecord?confUUID=" + conf.ConfUUID + "&limit=500&offset=0",
			check: func(t *testing.T, s *Server, r reply) {
				var got sdkAttendance
				sdkDecode(t, r, &got)
				rows := deref(got.Data)
				if len(rows) == 0 || int(deref(got.Count)) != len(rows) {
					t.Fatalf("got %s; want attendee records", r.body)
				}
				for _, a := range rows {
					if deref(a.JoinTime) <= 0 || deref(a.LeftTime) < deref(a.JoinTime) || deref(a.DisplayName) == "" || deref(a.DeviceType) == "" {
						t.Errorf("record %s: want names and UTC epoch ms", mustJSON(a))
					}
				}
			},
		},
		{
			name: "control records", lang: "zh-CN", wantStatus: 200,
			pathQuery: "/v1/mmc/management/conferences/history/confCtlRecord?confUUID=" + conf.ConfUUID + "&limit=500&offset=0",
			check: func(t *testing.T, s *Server, r reply) {
				var got sdkCtlRecords
				sdkDecode(t, r, &got)
				codes := map[string]bool{}
				for _, c := range deref(got.Data) {
					codes[deref(c.OperateCode)] = true
					if deref(c.OperateTime) <= 0 {
						t.Errorf("record %s: want operateTime", mustJSON(c))
					}
				}
				if !codes["开始录制"] || !codes["停止录制"] {
					t.Errorf("operateCodes %v, want the recording's start and stop in zh-CN", codes)
				}
			},
		},
		{name: "control records unknown", lang: "en-US", pathQuery: "/v1/mmc/management/conferences/history/confCtlRecord?confUUID=" + SampleUnknownConfUUID, wantStatus: 400, wantCode: CodeMeetingNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, HistoryRetention: -1})
			_, tok := sdkLogin(t, s)
			r := sdkRequestLang(t, s, tt.pathQuery, tok, tt.lang)
			if tt.wantCode != "" {
				sdkWantError(t, r, tt.wantStatus, tt.wantCode)
				return
			}
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			tt.check(t, s, r)
		})
	}
	t.Run("refused", func(t *testing.T) {
		s := Start(t, Config{Dataset: ds, HistoryRetention: -1, NotDeployed: []string{EndpointCtlRecords},
			Faults: []Fault{{Endpoint: EndpointAttendees, Kind: FaultStatus, Status: 403}}})
		_, tok := sdkLogin(t, s)
		sdkWantError(t, sdkRequestLang(t, s, "/v1/mmc/management/conferences/history/confAttendeeRecord?confUUID="+conf.ConfUUID, tok, "en-US"), 403, CodeNoPermission)
		sdkWantError(t, sdkRequestLang(t, s, "/v1/mmc/management/conferences/history/confCtlRecord?confUUID="+conf.ConfUUID, tok, "en-US"), 404, CodeNoAPI)
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
