package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestAPIErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{"full", &APIError{Op: "details", StatusCode: 400, Code: "MMC.111070005", Message: "meeting does not exist", RequestID: "1234"},
			"export: details 400 MMC.111070005: meeting does not exist (request 1234)"},
		{"no code no message", &APIError{Op: "media", StatusCode: 503},
			"export: media 503: service unavailable"},
		{"no request id", &APIError{Op: "list", StatusCode: 429, Code: "APIG.0308", Message: "throttled"},
			"export: list 429 APIG.0308: throttled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrNotFound(t *testing.T) {
	tests := []struct {
		op, code string
		want     bool
	}{
		{"details", CodeMeetingMissing, true},
		{"details", CodeConfNotFound, true},
		{"details", "MMC.111070001", false},
		{"downloadurls", CodeMeetingMissing, true},
		{"recordinfo", CodeConfNotFound, true},
		{"delete", CodeMeetingMissing, true},
		{"list", CodeMeetingMissing, false},
		{"auth", CodeMeetingMissing, false},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.code, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &callError{err: &APIError{Op: tt.op, StatusCode: 400, Code: tt.code}, attempts: 1})
			if got := errors.Is(err, ErrNotFound); got != tt.want {
				t.Errorf("errors.Is(ErrNotFound) = %v, want %v", got, tt.want)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestShouldRetryAndErrorCode(t *testing.T) {
	api := func(status int, code string) error { return &APIError{Op: "details", StatusCode: status, Code: code} }
	tests := []struct {
		name      string
		err       error
		wantRetry bool
		wantCode  string
	}{
		{"nil", nil, false, ""},
		{"429", api(429, ""), true, "http-429"},
		{"APIG.0308", api(429, CodeThrottled), true, CodeThrottled},
		{"APIG.0308 on 403", api(403, CodeThrottled), true, CodeThrottled},
		{"500", api(500, "MMC.111070000"), true, "MMC.111070000"},
		{"502", api(502, ""), true, "http-502"},
		{"503", api(503, ""), true, "http-503"},
		{"504", api(504, ""), true, "http-504"},
		{"501", api(501, ""), false, "http-501"},
		{"400", api(400, "MMC.111070001"), false, "MMC.111070001"},
		{"401", api(401, CodeTokenInvalid), false, CodeTokenInvalid},
		{"403", api(403, ""), false, "http-403"},
		{"404", api(404, ""), false, "http-404"},
		{"canceled", context.Canceled, false, "cancelled"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false, "cancelled"},
		{"truncated", fmt.Errorf("media: %w", ErrTruncated), true, "truncated"},
		{"api body cut short", &BadResponseError{Op: "list", Reason: "x", truncated: true}, true, "truncated"},
		{"bad json", &BadResponseError{Op: "list", Reason: "x"}, false, "bad-response"},
		{"timeout", &netError{op: "details", kind: CodeTimeout}, true, "timeout"},
		{"reset", &netError{op: "details", cause: syscall.ECONNRESET}, true, "connection"},
		{"tls untrusted", &netError{op: "details", kind: CodeTLS}, false, "tls"},
		{"dns", &netError{op: "details", kind: CodeDNS}, true, "dns"},
		{"refused", &netError{op: "details", kind: CodeRefused, cause: syscall.ECONNREFUSED}, true, "connection-refused"},
		{"raw reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true, "connection"},
		{"unexpected EOF", io.ErrUnexpectedEOF, true, "connection"},
		{"net timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, true, "timeout"},
		{"auth", &authError{cause: api(401, "USG.000000005")}, false, "USG.000000005"},
		{"auth without api error", &authError{hint: "x"}, false, "auth"},
		{"other", errors.New("boom"), false, "error"},
		{"attempts wrapper", &callError{err: api(503, ""), attempts: 5}, true, "http-503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ShouldRetry(tt.err); got != tt.wantRetry {
				t.Errorf("ShouldRetry(%v) = %v, want %v", tt.err, got, tt.wantRetry)
			}
			if got := ErrorCode(tt.err); got != tt.wantCode {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.wantCode)
			}
		})
	}
}

func TestAttempts(t *testing.T) {
	if got := Attempts(nil); got != 0 {
		t.Errorf("Attempts(nil) = %d, want 0", got)
	}
	if got := Attempts(errors.New("x")); got != 1 {
		t.Errorf("Attempts(plain) = %d, want 1", got)
	}
	err := fmt.Errorf("pipeline: %w", &callError{err: errors.New("x"), attempts: 4})
	if got := Attempts(err); got != 4 {
		t.Errorf("Attempts(wrapped) = %d, want 4", got)
	}
}

func TestRecordingRedacted(t *testing.T) {
	rec := Recording{ConfUUID: "a", URL: []string{"https://h/p?token=SECRET1"}}
	red := rec.Redacted()
	if strings.Contains(red.URL[0], "SECRET1") || !strings.Contains(rec.URL[0], "SECRET1") {
		t.Errorf("Redacted: got %q (original now %q)", red.URL[0], rec.URL[0])
	}
}

func TestSecretsNotPrinted(t *testing.T) {
	f := File{ConfUUID: "c1", FileType: "Hd", Name: "0_1.mp4", URL: "https://m/x?token=URLSECRET", Token: "TOKSECRET", Size: -1}
	cr := Credentials{AppID: "app", AppKey: "APPKEYSECRET", Account: "acc", Password: "PWSECRET", Token: "PRETOKSECRET"}
	cfg := Config{BaseURL: "https://x", Credentials: cr}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{f, &f, cr, cfg, []File{f}} {
			s := fmt.Sprintf(format, v)
			mustNotContain(t, format, s, "URLSECRET", "TOKSECRET", "APPKEYSECRET", "PWSECRET", "PRETOKSECRET")
		}
	}
	if got, want := f.String(), "Hd/0_1.mp4"; got != want {
		t.Errorf("File.String() = %q, want %q", got, want)
	}
	if got, want := f.ID(), "Hd/0_1.mp4"; got != want {
		t.Errorf("File.ID() = %q, want %q", got, want)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt := 1; attempt <= 8; attempt++ {
		cap := min(time.Second, 100*time.Millisecond<<(attempt-1))
		for range 200 {
			d := b.Delay(attempt, errors.New("x"))
			if d < 0 || d > cap {
				t.Fatalf("Delay(%d) = %v, want within [0, %v]", attempt, d, cap)
			}
		}
	}
	// Full jitter: not always the cap.
	var distinct = map[time.Duration]bool{}
	for range 50 {
		distinct[b.Delay(3, nil)] = true
	}
	if len(distinct) < 10 {
		t.Errorf("Delay shows no jitter: %d distinct values of 50", len(distinct))
	}
	ra := &APIError{StatusCode: 429, RetryAfter: 3 * time.Second}
	if got := b.Delay(1, fmt.Errorf("w: %w", ra)); got != 3*time.Second {
		t.Errorf("Delay with Retry-After 3s = %v, want 3s", got)
	}
	if got := (Backoff{}).Delay(1000, nil); got > DefaultRetryMax || got < 0 {
		t.Errorf("zero Backoff Delay(1000) = %v", got)
	}
}

func TestBackoffNext(t *testing.T) {
	b := Backoff{Base: time.Millisecond, Max: time.Millisecond, MaxAttempts: 3, MaxElapsed: time.Second}
	retryable := &APIError{StatusCode: 503}
	tests := []struct {
		name    string
		attempt int
		elapsed time.Duration
		err     error
		want    bool
	}{
		{"retryable", 1, 0, retryable, true},
		{"last attempt", 3, 0, retryable, false},
		{"permanent", 1, 0, &APIError{StatusCode: 400}, false},
		{"time is up", 1, 2 * time.Second, retryable, false},
		{"retry-after beyond budget", 1, 0, &APIError{StatusCode: 429, RetryAfter: 5 * time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := b.Next(tt.attempt, tt.elapsed, tt.err); got != tt.want {
				t.Errorf("Next = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"-1", 0},
		{"abc", 0},
		{now.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{now.Add(-7 * time.Second).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// scripted answers the i-th request with steps[i] (the last one repeats).
func scripted(t *testing.T, steps ...func(w http.ResponseWriter, r *http.Request)) (*atomic.Int64, string) {
	var n atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	})
	return &n, srv.URL
}

func okDetails(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{"confUUID": r.URL.Query().Get("confUUID"), "rcdTime": 5, "available": true, "isDecodeFinish": true, "unknownField": []int{1}})
}

func status(code int, ec string, hdr ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("X-Request-Id", "hdr-req-id")
		writeJSON(w, code, map[string]string{"error_code": ec, "error_msg": "msg " + ec})
	}
}

func raw(code int, ctype, body string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("X-Request-Id", "rid-42")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func TestRetryLoop(t *testing.T) {
	tests := []struct {
		name         string
		steps        []func(w http.ResponseWriter, r *http.Request)
		mod          func(*Config)
		wantErr      bool
		wantCode     string
		wantRequests int64
		wantAttempts int
		is           error
	}{
		{name: "ok", steps: fns(okDetails), wantRequests: 1},
		{name: "500 twice then ok", steps: fns(status(500, "MMC.1"), status(502, ""), okDetails), wantRequests: 3},
		{name: "503 forever", steps: fns(status(503, "")), wantErr: true, wantCode: "http-503", wantRequests: 5, wantAttempts: 5},
		{name: "max attempts 2", steps: fns(status(504, "")), mod: func(c *Config) { c.MaxAttempts = 2 },
			wantErr: true, wantCode: "http-504", wantRequests: 2, wantAttempts: 2},
		{name: "400 permanent", steps: fns(status(400, "MMC.111070001")), wantErr: true, wantCode: "MMC.111070001", wantRequests: 1, wantAttempts: 1},
		{name: "not found", steps: fns(status(400, CodeMeetingMissing)), wantErr: true, wantCode: CodeMeetingMissing, wantRequests: 1, wantAttempts: 1, is: ErrNotFound},
		{name: "html 200", steps: fns(raw(200, "text/html", "<html>portal</html>")), wantErr: true, wantCode: "bad-response", wantRequests: 1, wantAttempts: 1, is: ErrBadResponse},
		{name: "html 502 retried", steps: fns(raw(502, "text/html", "<html>bad gateway</html>"), okDetails), wantRequests: 2},
		{name: "not json", steps: fns(raw(200, "application/json", "hello")), wantErr: true, wantCode: "bad-response", wantRequests: 1, is: ErrBadResponse},
		{name: "json array", steps: fns(raw(200, "application/json", "[1,2]")), wantErr: true, wantCode: "bad-response", wantRequests: 1, is: ErrBadResponse},
		{name: "wrong types", steps: fns(raw(200, "application/json", `{"confUUID":"a","rcdTime":"abc"}`)), wantErr: true, wantCode: "bad-response", wantRequests: 1, is: ErrBadResponse},
		{name: "truncated json retried", steps: fns(raw(200, "application/json", `{"confUUID":"a","rcd`), okDetails), wantRequests: 2},
		{name: "truncated json forever", steps: fns(raw(200, "application/json", `{"confUUID":"a","rcd`)), wantErr: true, wantCode: "truncated", wantRequests: 5, wantAttempts: 5, is: ErrBadResponse},
		{name: "empty body", steps: fns(raw(200, "application/json", "")), wantErr: true, wantCode: "bad-response", wantRequests: 1},
		{name: "error body with 200", steps: fns(status(200, "MMC.111070010")), wantErr: true, wantCode: "MMC.111070010", wantRequests: 1},
		{name: "oversized", steps: fns(raw(200, "application/json", `{"subject":"`+strings.Repeat("x", 5000)+`"}`)),
			mod: func(c *Config) { c.MaxBodyBytes = 1000 }, wantErr: true, wantCode: "bad-response", wantRequests: 1, is: ErrBadResponse},
		{name: "body shorter than content-length", steps: fns(func(w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"confUUID\":")
		}, okDetails), wantRequests: 2},
		{name: "reset then ok", steps: fns(func(w http.ResponseWriter, r *http.Request) { hijackClose(t, w, "") }, okDetails), wantRequests: 2},
		{name: "reset forever", steps: fns(func(w http.ResponseWriter, r *http.Request) { hijackClose(t, w, "") }),
			wantErr: true, wantCode: "connection", wantRequests: 5, wantAttempts: 5, is: ErrConnection},
		{name: "timeout then ok", steps: fns(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
		}, okDetails), mod: func(c *Config) { c.RequestTimeout = 100 * time.Millisecond }, wantRequests: 2},
		{name: "max elapsed", steps: fns(status(503, "", "Retry-After", "1")), mod: func(c *Config) { c.MaxElapsed = 500 * time.Millisecond },
			wantErr: true, wantCode: "http-503", wantRequests: 1, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, url := scripted(t, tt.steps...)
			c := NewTestClient(t, url, tokenCreds, tt.mod)
			rec, err := c.Details(ctxT(t), testConfUUID)
			if got := n.Load(); got != tt.wantRequests {
				t.Errorf("requests = %d, want %d", got, tt.wantRequests)
			}
			if got := c.Stats().Requests; got != tt.wantRequests {
				t.Errorf("Stats().Requests = %d, want %d", got, tt.wantRequests)
			}
			if got := c.Stats().Retries; got != tt.wantRequests-1 {
				t.Errorf("Stats().Retries = %d, want %d", got, tt.wantRequests-1)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Details: %v", err)
				}
				if rec.ConfUUID != testConfUUID || rec.RcdTime != 5 {
					t.Errorf("Details = %+v", rec)
				}
				return
			}
			if err == nil {
				t.Fatalf("Details = %+v, want an error", rec)
			}
			if got := ErrorCode(err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if got := Attempts(err); tt.wantAttempts > 0 && got != tt.wantAttempts {
				t.Errorf("Attempts = %d, want %d", got, tt.wantAttempts)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), "export: details") {
				t.Errorf("error %q does not name the op", err)
			}
			var be *BadResponseError
			if errors.As(err, &be) && be.RequestID == "" && tt.name != "body shorter than content-length" {
				t.Errorf("bad response without request id: %v", err)
			}
		})
	}
}

func fns(f ...func(w http.ResponseWriter, r *http.Request)) []func(w http.ResponseWriter, r *http.Request) {
	return f
}

func TestRetryAfterHonoured(t *testing.T) {
	n, url := scripted(t, status(429, CodeThrottled, "Retry-After", "1"), okDetails)
	c := NewTestClient(t, url, tokenCreds, nil)
	start := time.Now()
	if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %v, want >= Retry-After 1s", el)
	}
	if n.Load() != 2 || c.Stats().Throttled != 1 {
		t.Errorf("requests = %d, throttled = %d; want 2, 1", n.Load(), c.Stats().Throttled)
	}
}

func TestCancelledNotRetried(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n, url := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		cancel()
		<-r.Context().Done()
	})
	c := NewTestClient(t, url, tokenCreds, nil)
	_, err := c.Details(ctx, testConfUUID)
	if !errors.Is(err, context.Canceled) || ShouldRetry(err) || ErrorCode(err) != "cancelled" {
		t.Fatalf("err = %v (code %s), want context.Canceled, not retried", err, ErrorCode(err))
	}
	if got := n.Load(); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestServerMessageRedacted(t *testing.T) {
	_, url := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, 400, "MMC.111070001", "bad url https://x/y?token=LEAKED1 with header "+r.Header.Get("X-Access-Token"))
	})
	c := NewTestClient(t, url, tokenCreds, nil)
	_, err := c.Details(ctxT(t), testConfUUID)
	if err == nil {
		t.Fatal("no error")
	}
	mustNotContain(t, "error", err.Error(), "LEAKED1", testToken)
	if !strings.Contains(err.Error(), "token=REDACTED") {
		t.Errorf("error %q: want token=REDACTED", err)
	}
}

func TestDelete(t *testing.T) {
	var got string
	_, url := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery
		writeJSON(w, 200, map[string]any{})
	})
	c := NewTestClient(t, url, tokenCreds, nil)
	if err := c.Delete(ctxT(t), testConfUUID); err != nil {
		t.Fatal(err)
	}
	if want := "DELETE /v1/mmc/management/record/files?confUUIDs=" + testConfUUID; got != want {
		t.Errorf("request = %q, want %q", got, want)
	}
	_, url = scripted(t, raw(200, "", ""))
	c = NewTestClient(t, url, tokenCreds, nil)
	if err := c.Delete(ctxT(t), testConfUUID); err != nil {
		t.Errorf("Delete with an empty 200 body: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{BaseURL: "https://api.example", Credentials: Credentials{Token: "t"}}
	tests := []struct {
		name  string
		mod   func(*Config)
		field string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no base", func(c *Config) { c.BaseURL = "" }, "BaseURL"},
		{"bad base", func(c *Config) { c.BaseURL = "ftp://x" }, "BaseURL"},
		{"no credentials", func(c *Config) { c.Credentials = Credentials{} }, "Credentials"},
		{"app id without key", func(c *Config) { c.Credentials = Credentials{AppID: "a"} }, "MEETARCHIVE_APP_KEY"},
		{"account without password", func(c *Config) { c.Credentials = Credentials{Account: "a"} }, "MEETARCHIVE_PASSWORD"},
		{"negative rate", func(c *Config) { c.Rate = -1 }, "Rate"},
		{"negative attempts", func(c *Config) { c.MaxAttempts = -1 }, "MaxAttempts"},
		{"bad links", func(c *Config) { c.Links = "ftp" }, "Links"},
		{"empty file type", func(c *Config) { c.FileTypes = []string{"Hd", " "} }, "FileTypes"},
		{"missing CA bundle", func(c *Config) { c.CABundle = "/nonexistent/ca.pem" }, "CABundle"},
		{"negative body cap", func(c *Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			err := cfg.Validate()
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tt.field != "" && (err == nil || !strings.Contains(err.Error(), tt.field)):
				t.Errorf("Validate: %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{
		"MEETARCHIVE_APP_ID": " app ", "MEETARCHIVE_APP_KEY": "key\n", "MEETARCHIVE_USER_ID": "u",
		"MEETARCHIVE_CORP_ID": "c", "MEETARCHIVE_ACCOUNT": "acc", "MEETARCHIVE_PASSWORD": "pw", "MEETARCHIVE_TOKEN": "tok",
	}
	got := CredentialsFromEnv(func(k string) string { return env[k] })
	want := Credentials{AppID: "app", AppKey: "key", UserID: "u", CorpID: "c", Account: "acc", Password: "pw", Token: "tok"}
	if got != want {
		t.Errorf("CredentialsFromEnv = %#v, want %#v", got, want) // GoString: no secrets printed
	}
	if got.Method() != "appid" {
		t.Errorf("Method = %q, want appid", got.Method())
	}
}

func TestRequestShape(t *testing.T) {
	var gotReq *http.Request
	_, url := scripted(t, func(w http.ResponseWriter, r *http.Request) {
		gotReq = r.Clone(context.Background())
		okDetails(w, r)
	})
	c := NewTestClient(t, url+"/prefix/", tokenCreds, nil)
	if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
		t.Fatal(err)
	}
	if got, want := gotReq.URL.Path, "/prefix"+pathDetails; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
	if got := gotReq.URL.RawQuery; got != "confUUID="+testConfUUID {
		t.Errorf("query = %q: deprecated parameters must not be sent", got)
	}
	if got := gotReq.Header.Get("X-Access-Token"); got != testToken {
		t.Errorf("X-Access-Token = %q", got)
	}
	for _, h := range []string{"X-Authorization-Type", "X-Site-Id", "Authorization"} {
		if gotReq.Header.Get(h) != "" {
			t.Errorf("header %s sent", h)
		}
	}
	_ = strconv.Itoa
}
