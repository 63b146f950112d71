package meetingtest

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request; hdr pairs are header name, value.
func call(t *testing.T, method, url, body string, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

const testNonce = "0123456789abcdef0123456789abcdef"

// appAuthBody returns a login body and header for the given values.
func appAuthRequest(appID, appKey, userID string, expire int64, nonce string) (body string, authz string) {
	b, _ := json.Marshal(map[string]any{"appId": appID, "clientType": 72, "expireTime": expire, "nonce": nonce, "userId": userID})
	sig := Sign(appKey, appID, "", userID, expire, nonce)
	return string(b), "HMAC-SHA256 signature=" + sig + ",access=" + base64.StdEncoding.EncodeToString([]byte(appID))
}

// login obtains an access token for userID with the default app credentials.
func login(t *testing.T, s *Server, userID string) string {
	t.Helper()
	body, authz := appAuthRequest(DefaultAppID, DefaultAppKey, userID, 0, testNonce)
	r := call(t, "POST", s.URL+"/v2/usg/acs/auth/appauth", body, "Authorization", authz, "X-Token-Type", "LongTicket")
	if r.status != 200 {
		t.Fatalf("login: status %d body %s", r.status, r.body)
	}
	var doc struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.AccessToken == "" {
		t.Fatalf("login: body %s: %v", r.body, err)
	}
	return doc.AccessToken
}

// wantError checks an error answer: status, code, request id in body and header, JSON content type.
func wantError(t *testing.T, r reply, status int, code string) ErrorBody {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.status, status, r.body)
	}
	var e ErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if e.ErrorCode != code {
		t.Errorf("error_code = %q, want %q", e.ErrorCode, code)
	}
	if e.RequestID == "" || e.RequestID != r.header.Get("X-Request-Id") {
		t.Errorf("request_id = %q, X-Request-Id = %q: want equal and non-empty", e.RequestID, r.header.Get("X-Request-Id"))
	}
	if e.ErrorMsg == "" {
		t.Errorf("error_msg empty")
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return e
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

type dlURL struct {
	Token, FileType, URL string
}

// links calls downloadurls and returns its urls.
func links(t *testing.T, s *Server, tok, confUUID string) []dlURL {
	t.Helper()
	r := call(t, "GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+confUUID, "", "X-Access-Token", tok)
	if r.status != 200 {
		t.Fatalf("downloadurls %s: status %d body %s", confUUID, r.status, r.body)
	}
	var doc struct {
		RecordURLs []struct {
			ConfUUID string `json:"confUuid"`
			URLs     []struct {
				Token    string `json:"token"`
				FileType string `json:"fileType"`
				URL      string `json:"url"`
			} `json:"urls"`
		} `json:"recordUrls"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("downloadurls body %s: %v", r.body, err)
	}
	if len(doc.RecordURLs) != 1 || doc.RecordURLs[0].ConfUUID != confUUID {
		t.Fatalf("downloadurls: recordUrls = %+v, want one entry for %s", doc.RecordURLs, confUUID)
	}
	var out []dlURL
	for _, u := range doc.RecordURLs[0].URLs {
		out = append(out, dlURL{u.Token, u.FileType, u.URL})
	}
	return out
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
