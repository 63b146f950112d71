package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// webhook is a local chat webhook: it records every request's JSON text and
// answers with answer.
type webhook struct {
	srv    *httptest.Server
	mu     sync.Mutex
	texts  []string
	closed chan struct{} // closed when the test ends: releases hanging handlers
}

func newWebhook(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, hook *webhook)) *webhook {
	t.Helper()
	h := &webhook{closed: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Text *string `json:"text"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &m); err != nil || m.Text == nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %q (%s), want JSON with a text member", body, r.Header.Get("Content-Type"))
		} else {
			h.mu.Lock()
			h.texts = append(h.texts, *m.Text)
			h.mu.Unlock()
		}
		answer(w, r, h)
	}))
	t.Cleanup(func() { close(h.closed); h.srv.Close() })
	return h
}

func (h *webhook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.texts...)
}

// webhookSecret is the part of a webhook URL that must never be shown.
const webhookSecret = "T0123/B0456/whsecret0123456789abcdef"

// TestNotify runs the binary with --notify against local receivers: one
// that takes the message, one that hangs, one that answers 500. The message
// carries the verdict, the failure with its hint and the report; a receiver
// that hangs or fails leaves the exit code as it was, and the run ends (the
// hanging one within --notify-timeout: without it the run would wait for
// the receiver, which answers only when the test ends).
// verdictMark in a want list stands for summary.json's verdict sentence.
const verdictMark = "\x00verdict"

func TestNotify(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 1, FileSize: 8 << 10, Seed: 11,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	u := ds.UUIDs()
	fault404 := []meetingtest.Fault{{Endpoint: "media", Kind: "status", Status: 404, ConfUUID: u[1]}}
	ok := func(w http.ResponseWriter, r *http.Request, h *webhook) { io.WriteString(w, "ok") }
	tests := []struct {
		name     string
		faults   []meetingtest.Fault
		env      map[string]string
		args     []string
		answer   func(w http.ResponseWriter, r *http.Request, h *webhook)
		wantExit int
		// wantTexts is how many messages the receiver gets; want are in the
		// first, in order.
		wantTexts int
		want      []string
		// wantWarning: the notification fails; its warning names this.
		wantWarning string
	}{
		{name: "failure delivered", faults: fault404, answer: ok, wantExit: 1, wantTexts: 1,
			want: []string{verdictMark, "(exit 1: some conference failed",
				"Conferences: archived 2, failed 1.",
				u[1] + " failed APIG.0101: export: media 404", "(hint: rerun with --input failures.csv", "Report: "}},
		{name: "success is quiet by default", answer: ok, wantExit: 0, wantTexts: 0},
		{name: "success with --notify-on always", args: []string{"--notify-on", "always"}, answer: ok, wantExit: 0, wantTexts: 1,
			want: []string{verdictMark, "(exit 0"}},
		{name: "fatal from the environment twins", env: map[string]string{"MEETARCHIVE_APP_KEY": "wrong-key-0123456789"}, answer: ok, wantExit: 3, wantTexts: 1,
			want: []string{verdictMark, "(exit 3: a fatal error"}},
		{name: "a run that does not start", args: []string{"--dest", "/dev/null/archive"}, answer: ok, wantExit: 2, wantTexts: 1,
			want: []string{"meetarchive run (on ", "did not start: run: ", "(exit 2: usage or configuration error; nothing was done)."}},
		{name: "receiver hangs", faults: fault404, args: []string{"--notify-timeout", "1s"}, wantExit: 1,
			answer: func(w http.ResponseWriter, r *http.Request, h *webhook) {
				select {
				case <-h.closed:
				case <-r.Context().Done():
				}
			}, wantTexts: -1, wantWarning: "no answer before the time allowed for one try"},
		{name: "receiver answers 500", faults: fault404, wantExit: 1,
			answer: func(w http.ResponseWriter, r *http.Request, h *webhook) {
				http.Error(w, "internal error", http.StatusInternalServerError)
			}, wantTexts: 3, wantWarning: "answered 500 Internal Server Error: internal error (tries: 3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hook := newWebhook(t, tc.answer)
			hookURL := hook.srv.URL + "/hooks/" + webhookSecret
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 11, Faults: tc.faults})
			dir := t.TempDir()
			out := filepath.Join(dir, "report")
			env := simEnv(sim)
			env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
			args := []string{"run", "--input", writeInput(t, dir, u...), "--dest", filepath.Join(dir, "archive"), "--out", out}
			var second *webhook
			if tc.env != nil {
				// the environment twin, with a second receiver beside the first
				second = newWebhook(t, tc.answer)
				env["MEETARCHIVE_NOTIFY"] = hookURL + ", " + second.srv.URL + "/hooks/" + webhookSecret
				for k, v := range tc.env {
					env[k] = v
				}
			} else {
				args = append(args, "--notify", hookURL)
			}
			res := runBin(t, env, append(args, tc.args...)...)
			if res.code != tc.wantExit {
				t.Fatalf("exit %d, want %d (the notification must not change it)\n%s", res.code, tc.wantExit, res.stderr)
			}
			texts := hook.received()
			switch {
			case tc.wantTexts >= 0 && len(texts) != tc.wantTexts:
				t.Fatalf("the receiver got %d messages, want %d: %q\nstderr:\n%s", len(texts), tc.wantTexts, texts, res.stderr)
			case tc.wantTexts < 0 && len(texts) == 0:
				t.Fatalf("the receiver got no request\nstderr:\n%s", res.stderr)
			}
			if second != nil && len(second.received()) != len(texts) {
				t.Errorf("the second receiver of $MEETARCHIVE_NOTIFY got %d messages, the first %d", len(second.received()), len(texts))
			}
			if len(tc.want) > 0 {
				rest := texts[0]
				for _, w := range tc.want {
					if w == verdictMark { // the report's own verdict sentence
						v, _ := readSummary(t, out)["verdict"].(map[string]any)
						w, _ = v["text"].(string)
						w = strings.TrimSuffix(w, ".")
						if w == "" {
							t.Fatal("summary.json has no verdict")
						}
					}
					i := strings.Index(rest, w)
					if i < 0 {
						t.Fatalf("the message lacks %q (in order):\n%s", w, texts[0])
					}
					rest = rest[i+len(w):]
				}
				if tc.wantExit != 2 && !strings.Contains(texts[0], out) {
					t.Errorf("the message does not name the report directory %s:\n%s", out, texts[0])
				}
			}
			if tc.wantExit == 2 {
				if _, err := os.Stat(filepath.Join(out, report.SummaryJSON)); err == nil {
					t.Errorf("a run that did not start wrote a summary")
				}
				return
			}
			sum := readSummary(t, out)
			warnings, _ := sum["warnings"].([]any)
			if tc.wantWarning == "" {
				if len(warnings) != 0 {
					t.Errorf("summary.json warnings %q, want none", warnings)
				}
				if len(texts) > 0 && !strings.Contains(res.stderr, "notification sent") {
					t.Errorf("the log does not say the notification was sent:\n%s", res.stderr)
				}
			} else {
				if len(warnings) != 1 || !strings.Contains(warnings[0].(string), tc.wantWarning) ||
					!strings.Contains(warnings[0].(string), strings.TrimPrefix(hook.srv.URL, "http://")) {
					t.Errorf("summary.json warnings %q, want one naming the receiver's host and %q", warnings, tc.wantWarning)
				}
				if !strings.Contains(res.stderr, "notification not delivered") || !strings.Contains(res.stderr, tc.wantWarning) {
					t.Errorf("the log has no warning with %q:\n%s", tc.wantWarning, res.stderr)
				}
			}
			if got := sum["exitCode"]; got != float64(tc.wantExit) {
				t.Errorf("summary.json exitCode %v, want %d", got, tc.wantExit)
			}
			// The webhook URL is a secret: nowhere but in the request.
			for name, text := range map[string]string{"stderr": res.stderr, "stdout": res.stdout, "summary.json": readFile(t, filepath.Join(out, report.SummaryJSON)),
				"manifest.csv": readFile(t, filepath.Join(out, report.ManifestCSV))} {
				if strings.Contains(text, "whsecret") {
					t.Errorf("%s shows the webhook URL's secret path", name)
				}
			}
		})
	}
}

// TestNotifyUsage: a bad --notify value exits 2 before anything is done,
// naming the flag without showing the URL.
func TestNotifyUsage(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, "0123456789abcdef0123456789abcdef")
	env := map[string]string{"MEETARCHIVE_APP_ID": "app", "MEETARCHIVE_APP_KEY": "key-0123456789"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not http", []string{"--notify", "ftp://chat.example/hooks/" + webhookSecret}, "--notify (URL 1 of 1): want an http or https URL"},
		{"user information", []string{"--notify", "https://chat.example/a", "--notify", "https://bot:whsecret@chat.example/hooks/x"}, "--notify (URL 2 of 2): https://chat.example: user information"},
		{"bad notify-on", []string{"--notify-on", "sometimes"}, "--notify-on"},
		{"zero timeout", []string{"--notify-timeout", "0s"}, "--notify-timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			res := runBin(t, env, append([]string{"run", "--input", in, "--dest", filepath.Join(dir, "dest"), "--out", out}, tc.args...)...)
			if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", res.code, res.stderr, tc.want)
			}
			if strings.Contains(res.stderr, "whsecret") {
				t.Errorf("stderr shows the webhook URL: %s", res.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a usage error created --out")
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
