package meetingtest

import (
	"net/http"
	"strings"
	"testing"
)

func TestParseEchoFault(t *testing.T) {
	for _, spec := range []string{"auth:echo", "details:echo", "list:echo:times=1", "downloadurls:echo", "recordinfo:echo", "delete:echo:status=403", "media:echo"} {
		t.Run(spec, func(t *testing.T) {
			f, err := ParseFault(spec)
			if err != nil {
				t.Fatalf("ParseFault(%q): %v", spec, err)
			}
			if f.Kind != FaultEcho {
				t.Errorf("kind = %q, want %q", f.Kind, FaultEcho)
			}
			if got := f.String(); got != spec {
				t.Errorf("String() = %q, want %q", got, spec)
			}
		})
	}
	if err := (Config{Faults: EchoFaults()}).Validate(); err != nil {
		t.Errorf("EchoFaults: %v", err)
	}
}

// TestEchoFault: every endpoint answers an echo fault with an error whose
// message holds the request's credentials, query and body.
func TestEchoFault(t *testing.T) {
	ds := SampleDataset()
	conf := ds.Conferences[0].ConfUUID
	s := Start(t, Config{Dataset: ds, RecordInfo: true})
	tok := login(t, s, "")
	media := links(t, s, tok, conf)[0]
	appBody, appAuthz := appAuthRequest(DefaultAppID, DefaultAppKey, "", 0, testNonce)
	tests := []struct {
		endpoint, method, path, body string
		hdr                          []string
		want                         []string // in error_msg
	}{
		{EndpointAuth, "POST", "/v2/usg/acs/auth/appauth", appBody, []string{"Authorization", appAuthz}, []string{"Authorization: " + appAuthz, "credentials seen: " + appAuthz, `"nonce":"` + testNonce}},
		{EndpointDetails, "GET", "/v1/mmc/management/conferences/record/files?confUUID=" + conf, "", []string{"X-Access-Token", tok}, []string{"X-Access-Token: " + tok, "query confUUID = " + conf}},
		{EndpointList, "GET", "/v1/mmc/management/record/files?startDate=0&endDate=1", "", []string{"X-Access-Token", tok}, []string{"X-Access-Token: " + tok}},
		{EndpointDownloadURLs, "GET", "/v1/mmc/management/record/downloadurls?confUUID=" + conf, "", []string{"X-Access-Token", tok}, []string{tok}},
		{EndpointRecordInfo, "POST", "/v1/mmc/rlm/record/info", `{"confUUID":"` + conf + `"}`, []string{"X-Access-Token", tok}, []string{tok, conf}},
		{EndpointDelete, "DELETE", "/v1/mmc/management/record/files?confUUIDs=" + conf, "", []string{"X-Access-Token", tok}, []string{tok}},
		{EndpointMedia, "GET", strings.TrimPrefix(media.URL, s.URL), "", []string{"Authorization", media.Token}, []string{"Authorization: " + media.Token}},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			if err := s.SetFaults([]Fault{{Endpoint: tt.endpoint, Kind: FaultEcho}}); err != nil {
				t.Fatal(err)
			}
			r := call(t, tt.method, s.URL+tt.path, tt.body, tt.hdr...)
			code := CodeRequestError
			if tt.endpoint == EndpointAuth {
				code = CodeAuthBadRequest
			}
			e := wantError(t, r, http.StatusBadRequest, code)
			for _, w := range append(tt.want, "Set-Cookie: gwsession="+s.EchoCookie()) {
				if !strings.Contains(e.ErrorMsg, w) {
					t.Errorf("error_msg %q: want %q in it", e.ErrorMsg, w)
				}
			}
			if s.Deleted(conf) {
				t.Errorf("an echoed delete deleted the conference")
			}
		})
	}
}
