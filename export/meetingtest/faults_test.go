package meetingtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAPIFaults(t *testing.T) {
	ds := SampleDataset()
	a, b := ds.Conferences[0].ConfUUID, ds.Conferences[1].ConfUUID
	detailsURL := func(s *Server, c string) string {
		return s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + c
	}
	normal := func(t *testing.T, c string) []byte { // the unfaulted body, from a clean server
		t.Helper()
		s2 := Start(t, Config{Dataset: ds})
		return call(t, "GET", detailsURL(s2, c), "", "X-Access-Token", login(t, s2, "")).body
	}
	tests := []struct {
		name  string
		fault Fault
		conf  string
		check func(t *testing.T, s *Server, r reply, err error, el time.Duration, tok string)
	}{
		{"status 503", Fault{Endpoint: "details", Kind: "status", Status: 503}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			wantError(t, r, 503, CodeServerError)
		}},
		{"status with code", Fault{Endpoint: "details", Kind: "status", Status: 403, Code: "MMC.111070010", Message: "no permission to view"}, a,
			func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
				if e := wantError(t, r, 403, "MMC.111070010"); e.ErrorMsg != "no permission to view" {
					t.Errorf("error_msg = %q", e.ErrorMsg)
				}
			}},
		{"throttle", Fault{Endpoint: "details", Kind: "throttle", RetryAfter: 7 * time.Second}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			wantError(t, r, 429, CodeThrottled)
			if got := r.header.Get("Retry-After"); got != "7" {
				t.Errorf("Retry-After = %q, want 7", got)
			}
			if s.Counters().Throttled != 0 {
				t.Errorf("a throttle fault counted in Throttled")
			}
		}},
		{"latency", Fault{Endpoint: "details", Kind: "latency", Latency: 300 * time.Millisecond}, a, func(t *testing.T, s *Server, r reply, err error, el time.Duration, _ string) {
			if r.status != 200 || el < 300*time.Millisecond {
				t.Errorf("status %d after %v, want 200 after >= 300ms", r.status, el)
			}
		}},
		{"truncate", Fault{Endpoint: "details", Kind: "truncate"}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, tok string) {
			full := normal(t, a)
			if r.status != 200 || json.Valid(r.body) || len(r.body) != len(full)/2 {
				t.Errorf("status %d, %d bytes valid=%v; want 200, %d bytes of broken JSON", r.status, len(r.body), json.Valid(r.body), len(full)/2)
			}
			if prefix := `{"confUUID":"` + a + `"`; !bytes.HasPrefix(r.body, []byte(prefix)) {
				t.Errorf("truncated body %.60q does not start like the real one", r.body)
			}
		}},
		{"html", Fault{Endpoint: "details", Kind: "html"}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !bytes.HasPrefix(r.body, []byte("<!DOCTYPE html>")) {
				t.Errorf("status %d type %q body %.40q; want 200 text/html page", r.status, r.header.Get("Content-Type"), r.body)
			}
		}},
		{"badjson", Fault{Endpoint: "details", Kind: "badjson"}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			var m map[string]any
			if e := json.Unmarshal(r.body, &m); r.status != 200 || e != nil {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if m["rcdSize"] != "abc" || m["isDecodeFinish"] != "abc" {
				t.Errorf("rcdSize %v isDecodeFinish %v, want \"abc\"", m["rcdSize"], m["isDecodeFinish"])
			}
			var typed struct {
				RcdSize int `json:"rcdSize"`
			}
			if json.Unmarshal(r.body, &typed) == nil {
				t.Errorf("a typed decode of the bad JSON succeeded")
			}
		}},
		{"reset", Fault{Endpoint: "details", Kind: "reset"}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			if err == nil {
				t.Errorf("got status %d, want a connection error", r.status)
			}
		}},
		{"other conference unaffected", Fault{Endpoint: "details", Kind: "status", ConfUUID: b}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			if r.status != 200 || s.Counters().Faults != 0 {
				t.Errorf("status %d, faults %d; want 200, 0", r.status, s.Counters().Faults)
			}
		}},
		{"matching conference hit", Fault{Endpoint: "details", Kind: "status", Status: 500, ConfUUID: a}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			wantError(t, r, 500, CodeServerError)
		}},
		{"other endpoint unaffected", Fault{Endpoint: "list", Kind: "status"}, a, func(t *testing.T, s *Server, r reply, err error, _ time.Duration, _ string) {
			if r.status != 200 {
				t.Errorf("status %d, want 200", r.status)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, Faults: []Fault{tt.fault}})
			tok := login(t, s, "")
			req, _ := http.NewRequest("GET", detailsURL(s, tt.conf), nil)
			req.Header.Set("X-Access-Token", tok)
			t0 := time.Now()
			var r reply
			resp, err := freshClient().Do(req)
			if err == nil {
				r.status, r.header = resp.StatusCode, resp.Header
				r.body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if r.header.Get("X-Request-Id") == "" {
					t.Errorf("no X-Request-Id")
				}
			}
			tt.check(t, s, r, err, time.Since(t0), tok)
			if tt.fault.ConfUUID == "" || tt.fault.ConfUUID == tt.conf {
				if tt.fault.Endpoint == "details" {
					key := "details/" + tt.fault.Kind
					if c := s.Counters(); c.Faults != 1 || c.FaultHits[key] != 1 {
						t.Errorf("Faults = %d, FaultHits[%s] = %d; want 1, 1", c.Faults, key, c.FaultHits[key])
					}
				}
			}
		})
	}
}

func TestFaultTimesAndAuth(t *testing.T) {
	s := Start(t, Config{Faults: []Fault{
		{Endpoint: "auth", Kind: "status", Status: 423, Times: 2},
	}})
	body, authz := appAuthRequest(DefaultAppID, DefaultAppKey, "", 0, testNonce)
	want := []int{423, 423, 200}
	for i, w := range want {
		r := call(t, "POST", s.URL+"/v2/usg/acs/auth/appauth", body, "Authorization", authz)
		if w != 200 {
			wantError(t, r, w, CodeAuthBadRequest)
		} else if r.status != 200 {
			t.Errorf("call %d: status %d, want 200 once Times is used up", i, r.status)
		}
	}
	if c := s.Counters(); c.Faults != 2 || c.Auth != 3 {
		t.Errorf("Faults %d Auth %d, want 2, 3", c.Faults, c.Auth)
	}
	if err := s.SetFaults([]Fault{{Endpoint: "details", Kind: "flip"}}); err == nil {
		t.Errorf("SetFaults accepted flip on an API endpoint")
	}
}

func TestFaultProbabilityDeterministic(t *testing.T) {
	pattern := func(seed int64) string {
		s := Start(t, Config{Seed: seed, Faults: []Fault{{Endpoint: "validate", Kind: "status", Probability: 0.5}}})
		var b strings.Builder
		for range 24 {
			r := call(t, "POST", s.URL+"/v1/usg/acs/token/validate", `{"token":"x"}`)
			if r.status == 500 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	p1, p2, p3 := pattern(7), pattern(7), pattern(8)
	if p1 != p2 {
		t.Errorf("same seed, different fault patterns: %s vs %s", p1, p2)
	}
	if !strings.Contains(p1, "x") || !strings.Contains(p1, ".") {
		t.Errorf("pattern %s: want both hits and misses at probability 0.5", p1)
	}
	if p1 == p3 {
		t.Errorf("seeds 7 and 8 gave the same pattern %s", p1)
	}
}

func TestMediaFaults(t *testing.T) {
	ds := SampleDataset()
	c := ds.Conferences[2] // Sd 0_0 2 MiB, Sd 0_1 300 KiB
	f := c.Files[0]
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error)
	}{
		{"status", Fault{Endpoint: "media", Kind: "status", Status: 502}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			wantError(t, reply{resp.StatusCode, resp.Header, body}, 502, CodeServerError)
		}},
		{"throttle", Fault{Endpoint: "media", Kind: "throttle", RetryAfter: 2 * time.Second}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			wantError(t, reply{resp.StatusCode, resp.Header, body}, 429, CodeThrottled)
			if resp.Header.Get("Retry-After") != "2" {
				t.Errorf("Retry-After = %q, want 2", resp.Header.Get("Retry-After"))
			}
		}},
		{"html", Fault{Endpoint: "media", Kind: "html"}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("status %d type %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}},
		{"truncate", Fault{Endpoint: "media", Kind: "truncate"}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			if resp.ContentLength != f.Size {
				t.Errorf("Content-Length %d, want the full %d", resp.ContentLength, f.Size)
			}
			if !errors.Is(readErr, io.ErrUnexpectedEOF) || int64(len(body)) != f.Size/2 {
				t.Errorf("read %d bytes, err %v; want %d then unexpected EOF", len(body), readErr, f.Size/2)
			}
			if len(s.Served()) != 0 {
				t.Errorf("a truncated response is in Served")
			}
			// The token was spent: a retry needs a fresh link.
			wantError(t, call(t, "GET", u.URL, "", "Authorization", u.Token), 403, CodeVerifyFailed)
		}},
		{"flip", Fault{Endpoint: "media", Kind: "flip"}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			if readErr != nil || int64(len(body)) != f.Size || resp.ContentLength != f.Size {
				t.Fatalf("read %d of %d bytes, err %v", len(body), resp.ContentLength, readErr)
			}
			truth, _ := io.ReadAll(Content(s.Config().Seed, c.ConfUUID, f.FileType, f.Name, f.Size))
			var diff []int
			for i := range truth {
				if truth[i] != body[i] {
					diff = append(diff, i)
				}
			}
			if len(diff) != 1 || int64(diff[0]) != f.Size/2 {
				t.Errorf("differing bytes at %v, want exactly one at %d", diff, f.Size/2)
			}
			sv := s.Served()
			if len(sv) != 1 || sv[0].SHA256 != sha(body) || sv[0].SHA256 == s.FileSHA256(c.ConfUUID, f.FileType, f.Name) {
				t.Errorf("Served = %+v: want the flipped bytes' sha, not the file's", sv)
			}
		}},
		{"reset", Fault{Endpoint: "media", Kind: "reset"}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			if err == nil {
				t.Errorf("status %d, want a connection error", resp.StatusCode)
			}
		}},
		{"latency", Fault{Endpoint: "media", Kind: "latency", Latency: 200 * time.Millisecond}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			if resp.StatusCode != 200 || sha(body) != s.FileSHA256(c.ConfUUID, f.FileType, f.Name) {
				t.Errorf("status %d sha %s, want the intact file", resp.StatusCode, sha(body))
			}
		}},
		{"other file of the conference filtered out", Fault{Endpoint: "media", Kind: "status", ConfUUID: ds.Conferences[0].ConfUUID}, func(t *testing.T, s *Server, u dlURL, resp *http.Response, body []byte, readErr, err error) {
			if resp.StatusCode != 200 || len(s.Served()) != 1 {
				t.Errorf("status %d, want 200", resp.StatusCode)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Start(t, Config{Dataset: ds, Faults: []Fault{tt.fault}, Seed: 5})
			u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
			req, _ := http.NewRequest("GET", u.URL, nil)
			req.Header.Set("Authorization", u.Token)
			resp, err := freshClient().Do(req)
			var body []byte
			var readErr error
			if err == nil {
				body, readErr = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			tt.check(t, s, u, resp, body, readErr, err)
		})
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	s := Start(t, Config{Dataset: SampleDataset(), Faults: []Fault{{Endpoint: "details", Kind: "latency", Latency: time.Hour}}})
	tok := login(t, s, "")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/v1/mmc/management/conferences/record/files?confUUID=x", nil)
	req.Header.Set("X-Access-Token", tok)
	t0 := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want a timeout error")
	}
	s.Close()                                   // waits for handlers: returns quickly only if the sleep honoured cancellation
	if el := time.Since(t0); el > time.Minute { // a safety net: the latency is an hour
		t.Errorf("request + Close took %v under a 1-hour latency fault", el)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Faults: []Fault{{Endpoint: "media", Kind: "flip"}}}, ""},
		{"unknown endpoint", Config{Faults: []Fault{{Endpoint: "nope", Kind: "status"}}}, "endpoint"},
		{"unknown kind", Config{Faults: []Fault{{Endpoint: "details", Kind: "nope"}}}, "kind"},
		{"flip on API", Config{Faults: []Fault{{Endpoint: "details", Kind: "flip"}}}, "flip"},
		{"badjson on media", Config{Faults: []Fault{{Endpoint: "media", Kind: "badjson"}}}, "badjson"},
		{"bad status", Config{Faults: []Fault{{Endpoint: "details", Kind: "status", Status: 99}}}, "status"},
		{"duplicate uuid", Config{Dataset: Dataset{Conferences: []Conference{{ConfUUID: "a"}, {ConfUUID: "a"}}}}, "duplicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("NewUnstarted accepted an invalid config")
		}
	}()
	NewUnstarted(Config{Faults: []Fault{{Endpoint: "x", Kind: "status"}}})
}

// freshClient never reuses a connection: Go's Transport silently retries an
// idempotent request once when a reused connection is reset, which would
// hide a single "reset" fault.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestResetKeepsMediaToken(t *testing.T) {
	ds := SampleDataset()
	c := ds.Conferences[1]
	s := Start(t, Config{Dataset: ds, Faults: []Fault{{Endpoint: "media", Kind: "reset", Times: 1}}})
	u := links(t, s, login(t, s, ""), c.ConfUUID)[0]
	req, _ := http.NewRequest("GET", u.URL, nil)
	req.Header.Set("Authorization", u.Token)
	if _, err := freshClient().Do(req); err == nil {
		t.Fatal("want a connection error")
	}
	r := call(t, "GET", u.URL, "", "Authorization", u.Token)
	if r.status != 200 || sha(r.body) != s.FileSHA256(c.ConfUUID, c.Files[0].FileType, c.Files[0].Name) {
		t.Errorf("after a reset the same token: status %d, want 200 with the file (a reset request never reached the media server)", r.status)
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		spec string
		want Fault
		err  string
	}{
		{"details:status:status=503:times=2", Fault{Endpoint: "details", Kind: "status", Status: 503, Times: 2}, ""},
		{"media:latency:latency=1.5", Fault{Endpoint: "media", Kind: "latency", Latency: 1500 * time.Millisecond}, ""},
		{"downloadurls:throttle:retry-after=3s:p=0.25", Fault{Endpoint: "downloadurls", Kind: "throttle", RetryAfter: 3 * time.Second, Probability: 0.25}, ""},
		{"Media:Flip:conf=abc", Fault{Endpoint: "media", Kind: "flip", ConfUUID: "abc"}, ""},
		{"details:status:code=MMC.111070010:status=403", Fault{Endpoint: "details", Kind: "status", Status: 403, Code: "MMC.111070010"}, ""},
		{"details", Fault{}, "endpoint:kind"},
		{"details:boom", Fault{}, "kind"},
		{"details:status:status", Fault{}, "key=value"},
		{"details:status:colour=red", Fault{}, "unknown option"},
		{"details:latency:latency=soon", Fault{}, "latency"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFault(tt.spec)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParseFault = %+v, %v; want an error mentioning %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFault = %+v, %v; want %+v", got, err, tt.want)
			}
			back, err := ParseFault(got.String())
			if err != nil || back != got {
				t.Errorf("ParseFault(%q) = %+v, %v; want the round trip %+v", got.String(), back, err, got)
			}
		})
	}
	fs, err := ParseFaults("details:reset:times=1, media:truncate,")
	if err != nil || len(fs) != 2 || fs[1].Kind != "truncate" {
		t.Errorf("ParseFaults = %+v, %v; want 2 faults", fs, err)
	}
}

// TestConcurrentClients hammers every endpoint from many goroutines (run
// with -race) and checks the counters add up.
func TestConcurrentClients(t *testing.T) {
	ds := Generate(GenerateConfig{Conferences: 8, FilesPerConference: 3, FileSize: 64 << 10, Seed: 2})
	s := Start(t, Config{Dataset: ds, RecordInfo: true})
	tok := login(t, s, "")
	const workers, rounds = 8, 5
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range rounds {
				c := ds.Conferences[(w+i)%len(ds.Conferences)]
				for _, u := range linksNoT(s, tok, c.ConfUUID) {
					req, _ := http.NewRequest("GET", u.URL, nil)
					req.Header.Set("Authorization", u.Token)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						errs <- err
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if sha(b) != s.FileSHA256(c.ConfUUID, u.FileType, u.URL[strings.LastIndex(u.URL, "/")+1:]) {
						errs <- errors.New("media sha mismatch under concurrency")
						return
					}
				}
				req, _ := http.NewRequest("POST", s.URL+"/v1/mmc/rlm/record/info", strings.NewReader(`{"confUUID":"`+c.ConfUUID+`"}`))
				req.Header.Set("X-Access-Token", tok)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	c := s.Counters()
	if c.DownloadURLs != workers*rounds || c.RecordInfo != workers*rounds || c.Media != workers*rounds*3 ||
		c.MediaComplete != c.Media || int64(len(s.Served())) != c.Media || c.MediaBytes != c.Media*(64<<10) {
		t.Errorf("counters %+v do not add up for %d workers x %d rounds", c, workers, rounds)
	}
	if c.LinksIssued != 2*workers*rounds*3 {
		t.Errorf("LinksIssued = %d, want %d", c.LinksIssued, 2*workers*rounds*3)
	}
}

func linksNoT(s *Server, tok, confUUID string) []dlURL {
	req, _ := http.NewRequest("GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+confUUID, nil)
	req.Header.Set("X-Access-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var doc struct {
		RecordURLs []struct {
			URLs []struct {
				Token    string `json:"token"`
				FileType string `json:"fileType"`
				URL      string `json:"url"`
			} `json:"urls"`
		} `json:"recordUrls"`
	}
	if json.NewDecoder(resp.Body).Decode(&doc) != nil || len(doc.RecordURLs) != 1 {
		return nil
	}
	var out []dlURL
	for _, u := range doc.RecordURLs[0].URLs {
		out = append(out, dlURL{u.Token, u.FileType, u.URL})
	}
	return out
}

func TestTLS(t *testing.T) {
	ds := SampleDataset()
	s := NewTLSServer(Config{Dataset: ds})
	defer s.Close()
	if s.Certificate() == nil || !strings.HasPrefix(s.URL, "https://") {
		t.Fatalf("URL %s, certificate %v: want an https server", s.URL, s.Certificate())
	}
	body, authz := appAuthRequest(DefaultAppID, DefaultAppKey, "", 0, testNonce)
	req, _ := http.NewRequest("POST", s.URL+"/v2/usg/acs/auth/appauth", strings.NewReader(body))
	req.Header.Set("Authorization", authz)
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		AccessToken string `json:"accessToken"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	req, _ = http.NewRequest("GET", s.URL+"/v1/mmc/management/record/downloadurls?confUUID="+ds.Conferences[1].ConfUUID, nil)
	req.Header.Set("X-Access-Token", doc.AccessToken)
	resp, err = s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"url":"https://`) {
		t.Errorf("links from a TLS server are not https: %s", b)
	}
	if _, err := http.DefaultClient.Get(s.URL + "/v1/usg/acs/token/validate"); err == nil {
		t.Errorf("a client without the CA trusted the self-signed certificate")
	}
}
