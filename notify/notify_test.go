package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"meetarchive/report"
)

// receiver is a webhook that answers each request with answer(n), n
// counting from 1, and keeps the messages it could decode.
type receiver struct {
	*httptest.Server
	calls atomic.Int32
	texts chan string
}

func newReceiver(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	rc := &receiver{texts: make(chan string, 16)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(rc.calls.Add(1))
		var m Message
		if r.Header.Get("Content-Type") == "application/json" && json.NewDecoder(r.Body).Decode(&m) == nil {
			rc.texts <- m.Text
		}
		answer(w, r, n)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func TestSend(t *testing.T) {
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	tests := []struct {
		name      string
		answer    func(w http.ResponseWriter, r *http.Request, n int)
		timeout   time.Duration
		wantCalls int
		wantErr   string // "" for delivered
	}{
		{name: "delivered", answer: func(w http.ResponseWriter, r *http.Request, n int) { io.WriteString(w, "ok") }, wantCalls: 1},
		{name: "500 is tried three times", answer: func(w http.ResponseWriter, r *http.Request, n int) {
			http.Error(w, "upstream down", http.StatusInternalServerError)
		}, wantCalls: 3, wantErr: "answered 500 Internal Server Error: upstream down (tries: 3)"},
		{name: "500 then 200", answer: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.WriteHeader(http.StatusBadGateway)
			}
		}, wantCalls: 2},
		{name: "429 honours Retry-After", answer: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
			}
		}, wantCalls: 2},
		{name: "400 is final", answer: func(w http.ResponseWriter, r *http.Request, n int) {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
		}, wantCalls: 1, wantErr: "answered 400 Bad Request: invalid_payload (tries: 1)"},
		{name: "a redirect is not followed", answer: func(w http.ResponseWriter, r *http.Request, n int) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		}, wantCalls: 1, wantErr: "answered 302 Found"},
		{name: "a hanging receiver is given up", answer: func(w http.ResponseWriter, r *http.Request, n int) {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}, timeout: 600 * time.Millisecond, wantErr: "no answer before the time allowed for one try"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, tc.answer)
			url := rc.URL + "/hooks/T0/B0/secret-path-0123456789"
			s := Sender{URLs: []string{url}, Backoff: time.Millisecond, Timeout: tc.timeout}
			err := s.Send(context.Background(), Message{Text: "hello"})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Send: %v, want delivered", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Send: %v, want an error with %q", err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret-path") {
				t.Errorf("the error shows the webhook's path: %v", err)
			}
			if err != nil && !strings.Contains(err.Error(), Host(url)) {
				t.Errorf("the error %q does not name the host %s", err, Host(url))
			}
			if got := int(rc.calls.Load()); tc.wantCalls > 0 && got != tc.wantCalls {
				t.Errorf("the receiver got %d requests, want %d", got, tc.wantCalls)
			}
			if rc.calls.Load() > 0 {
				if got := <-rc.texts; got != "hello" {
					t.Errorf("text %q, want hello", got)
				}
			}
		})
	}
}

// TestSendToSeveral: one URL failing does not keep the message from the
// others, and the error names only the one that failed.
func TestSendToSeveral(t *testing.T) {
	good := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) {})
	bad := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(http.StatusNotFound) })
	s := Sender{URLs: []string{good.URL + "/a", bad.URL + "/b"}, Backoff: time.Millisecond}
	err := s.Send(context.Background(), Message{Text: "x"})
	if err == nil || !strings.Contains(err.Error(), Host(bad.URL)) || strings.Contains(err.Error(), Host(good.URL)) {
		t.Fatalf("Send: %v, want an error naming %s only", err, Host(bad.URL))
	}
	if got := good.calls.Load(); got != 1 {
		t.Errorf("the good receiver got %d requests, want 1", got)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"https://hooks.slack.com/services/T0/B0/XXXX", false},
		{"http://127.0.0.1:8065/hooks/abc", false},
		{"ftp://example.com/x", true},
		{"https:///nohost", true},
		{"https://user:secret-pass@example.com/x", true},
		{"not a url at all", true},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			err := CheckURL(tc.url)
			if (err != nil) != tc.wantErr {
				t.Fatalf("CheckURL: %v, want error %v", err, tc.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "secret-pass") || strings.Contains(err.Error(), "/x")) {
				t.Errorf("the error shows the URL: %v", err)
			}
		})
	}
}

func summary(counts map[report.Status]int, code int) *report.Summary {
	s := &report.Summary{RunInfo: report.RunInfo{RunID: "20261207T023000Z-abcdef", Shard: "1/4"}, Counts: counts, ExitCode: code, Files: 3, BytesArchived: 3 << 20}
	for _, n := range counts {
		s.Conferences += n
	}
	return s
}

func TestText(t *testing.T) {
	failed := report.Row{ConfUUID: "0123456789abcdef0123456789abcdef", Status: report.Failed, ErrorCode: "http-404",
		ErrorMessage: "media: GET https://media.example/x?token=abc123secret answered 404 <html>"}
	tests := []struct {
		name string
		run  Run
		want []string // in this order
		not  []string
	}{
		{name: "ok", run: Run{ExitCode: 0, Summary: summary(map[report.Status]int{report.Archived: 3}, 0), Out: "/reports/r1", Host: "pod-1"},
			want: []string{"meetarchive run 20261207T023000Z-abcdef (shard 1/4, on pod-1): 3 of 3 conferences archived or accounted for (3 archived); nothing to do (exit 0: every conference archived or accounted for",
				"Conferences: archived 3. Files: 3, 3.0 MiB archived.", "Report: /reports/r1"},
			not: []string{"Needing attention", "failures.csv"}},
		{name: "failures", run: Run{ExitCode: 1, Summary: summary(map[report.Status]int{report.Archived: 2, report.Failed: 1, report.NotFound: 6}, 1), Out: "/r",
			Failures: []report.Row{failed}},
			want: []string{"Action needed: 7 of 9 conferences not archived (6 not-found, 1 failed); rerun with --input failures.csv and check the not-found confUUIDs (exit 1: some conference failed",
				"archived 2", "not-found 6", "failed 1",
				"Needing attention (the first 1 of 7 conferences):",
				"- 0123456789abcdef0123456789abcdef failed http-404: media: GET https://media.example/x?token=REDACTED answered 404 &lt;html&gt; (hint: rerun with --input failures.csv",
				"Report: /r (failures.csv is the --input of a rerun)"},
			not: []string{"abc123secret", "<html>"}},
		{name: "fatal", run: Run{ExitCode: 3, Summary: func() *report.Summary {
			s := summary(map[report.Status]int{report.Cancelled: 4}, 3)
			s.Fatal = "authentication failed: the API refused the app key"
			return s
		}()}, want: []string{"Stopped by a fatal error (authentication failed: the API refused the app key): 0 of 4 conferences archived or accounted for; fix the error, then rerun with --input failures.csv (exit 3: a fatal error stopped the run"}},
		{name: "interrupted", run: Run{ExitCode: 130, Summary: summary(map[report.Status]int{report.Archived: 1, report.Cancelled: 2}, 130)},
			want: []string{"Interrupted by a signal before the end: 1 of 3 conferences archived or accounted for, 2 cancelled; rerun with --input failures.csv to finish (exit 130"}},
		{name: "did not start", run: Run{ExitCode: 2, Err: errString("run: destination check failed: bucket b: access denied")},
			want: []string{"meetarchive run: did not start: run: destination check failed: bucket b: access denied (exit 2: usage or configuration error; nothing was done)."},
			not:  []string{"Report:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Text(tc.run)
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("text lacks %q (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("text has %q:\n%s", n, got)
				}
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }
