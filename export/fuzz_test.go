package export

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"meetarchive/redact"
)

// FuzzDecodeResponse feeds arbitrary bodies to every response decoder: the
// result is a value or a typed error (*BadResponseError wrapping
// ErrBadResponse, or *APIError), never a panic or a hang. Run it with
//
//	go test -run='^$' -fuzz=FuzzDecodeResponse -fuzztime=30s ./export/
func FuzzDecodeResponse(f *testing.F) {
	seeds := []string{
		`{"confUUID":"3f6c2a1e9b8d4c7fa0e5d2b1c4a7f9e3","confID":"960123451","url":["https://h/play?token=abc"],"rcdTime":3540,"rcdSize":12,"subject":"s","scheduserName":"n","startTime":"2024-03-04 09:30","isDecodeFinish":true,"decodeEndTime":1709546400000,"available":true,"recordAuthType":1}`,
		`{"offset":0,"limit":100,"count":2,"data":[{"confUUID":"a"},{"confUUID":"b"}]}`,
		`{"recordUrls":[{"confUuid":"a","urls":[{"token":"t","fileType":"Hd","url":"https://m/videoHD/0_1.mp4"}]}]}`,
		`{"code":"0","message":"success","data":{"segmentCount":"1","segmentList":[{"segmentSize":"10","fileList":[{"recordType":"AUDIO","fileSize":"10","sha256":"ab","downloadUrl":"https://m/a.m4a?token=x"}]}]}}`,
		`{"accessToken":"stb","validPeriod":43200,"expireTime":1700000000}`,
		`{"error_code":"MMC.111070005","error_msg":"meeting does not exist","request_id":"r1"}`,
		`{"code":404,"message":"not enabled","data":null}`,
		`<!DOCTYPE html><html><body>502</body></html>`,
		`{"confUUID":"a","rcd`,
		`{"rcdTime":"abc","isDecodeFinish":"abc"}`,
		`"abc"`,
		`{"count":1e400,"data":[]}`,
		`{"validPeriod":-1.5}`,
		`{"data":{"segmentList":[{"fileList":[{"fileSize":9223372036854775807}]}]}}`,
		``,
		`null`,
	}
	for i, s := range seeds {
		f.Add([]byte(s), 200+i%3*100, "application/json", "remain:99,limit:100,time:1 minute", "3")
	}
	f.Add([]byte("<html>"), 200, "text/html; charset=utf-8", "limit:x", "Wed, 21 Oct 2015 07:28:00 GMT")
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, body []byte, status int, ctype, rateHdr, retryAfter string) {
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var be *BadResponseError
			var ae *APIError
			switch {
			case errors.As(err, &be):
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("%s: bad response error does not wrap ErrBadResponse: %v", what, err)
				}
			case errors.As(err, &ae):
			default:
				t.Fatalf("%s: untyped error %T: %v", what, err, err)
			}
			_ = err.Error()
			_ = ShouldRetry(err)
			_ = ErrorCode(err)
		}
		var rec Recording
		check("details", decode("details", status, ctype, body, &rec))
		var list listResponse
		check("list", decode("list", status, ctype, body, &list))
		keys := make([]string, len(list.Data))
		for i, r := range list.Data {
			keys[i] = r.ConfUUID
		}
		_ = classifyPaging(keys, keys)
		var du downloadURLsResponse
		if err := decode("downloadurls", status, ctype, body, &du); err == nil {
			for _, f := range du.files("a") {
				_ = f.String()
			}
		} else {
			check("downloadurls", err)
		}
		var ri recordInfoResponse
		if err := decode("recordinfo", status, ctype, body, &ri); err == nil {
			files, _, _ := ri.files("a")
			for _, f := range files {
				if f.SHA256 != "" && len(f.SHA256) != 64 {
					t.Fatalf("sha256 %q kept", f.SHA256)
				}
			}
		} else {
			check("recordinfo", err)
		}
		var tok tokenResponse
		check("auth", decode("auth", status, ctype, body, &tok))
		check("delete", decode("delete", status, ctype, body, nil))

		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		h.Set("X-Request-Id", "rid")
		ae := parseAPIError("details", status, h, body, now)
		if ae.RetryAfter < 0 || ae.RetryAfter > 24*time.Hour {
			t.Fatalf("RetryAfter %v out of range", ae.RetryAfter)
		}
		if len(ae.Message) > 400 || len(ae.Code) > 80 {
			t.Fatalf("unbounded message or code: %d, %d bytes", len(ae.Message), len(ae.Code))
		}
		_ = ae.Error()

		if rl, ok := parseRateLimit(rateHdr); ok {
			if rl.Limit <= 0 || rl.Window <= 0 {
				t.Fatalf("parseRateLimit(%q) = %+v accepted", rateHdr, rl)
			}
			a := newAPILimit(10)
			a.observe(rateHdr, now)
			if l := a.Limit(); l <= 0 || l > 10 {
				t.Fatalf("limit %v after header %q, want (0, 10]", l, rateHdr)
			}
		}

		s := string(body)
		r1 := redact.String(s)
		if r2 := redact.String(r1); r2 != r1 {
			t.Fatalf("redact.String not idempotent: %q -> %q -> %q", s, r1, r2)
		}
		if i := strings.Index(asciiLower(r1), "token="); i >= 0 {
			rest := r1[i+len("token="):]
			if rest != "" && !strings.HasPrefix(rest, "REDACTED") && !strings.ContainsAny(rest[:1], "&#\"',;} \t\r\n\v\f") {
				t.Fatalf("redact.String left a token value: %q", r1)
			}
		}
	})
}

// asciiLower lower-cases ASCII letters only, keeping every byte offset.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
