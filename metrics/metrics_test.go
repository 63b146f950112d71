package metrics

import (
	"context"
	"encoding/base64"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"meetarchive/export"
	"meetarchive/metrics/metricstest"
	"meetarchive/report"
)

// wantSamples is what the metrics of m must be, written out from the input
// by hand; labels go on every sample; lastSuccess < 0 means absent.
func wantSamples(m Run, lastSuccess float64, labels map[string]string) map[string]float64 {
	with := func(kv ...string) map[string]string {
		l := maps.Clone(labels)
		if l == nil {
			l = map[string]string{}
		}
		for i := 0; i < len(kv); i += 2 {
			l[kv[i]] = kv[i+1]
		}
		return l
	}
	s := m.Summary
	want := map[string]float64{}
	for _, st := range []string{"archived", "already-archived", "updated", "pending-transcode", "unavailable", "not-found",
		"no-files", "failed", "invalid-input", "duplicate-input", "cancelled", "planned"} {
		want[metricstest.SampleKey("meetarchive_conferences", with("status", st))] = float64(s.Counts[report.Status(st)])
	}
	for st, n := range s.Counts {
		want[metricstest.SampleKey("meetarchive_conferences", with("status", string(st)))] = float64(n)
	}
	want[metricstest.SampleKey("meetarchive_files", with())] = float64(s.Files)
	want[metricstest.SampleKey("meetarchive_archived_bytes", with())] = float64(s.BytesArchived)
	for api, outcomes := range m.Calls.Calls {
		for o, n := range outcomes {
			want[metricstest.SampleKey("meetarchive_api_calls", with("api", api, "outcome", o))] = float64(n)
		}
	}
	for api, d := range m.Calls.Waited {
		want[metricstest.SampleKey("meetarchive_api_wait_seconds", with("api", api))] = d.Seconds()
	}
	want[metricstest.SampleKey("meetarchive_api_requests", with())] = float64(m.Calls.Requests)
	want[metricstest.SampleKey("meetarchive_api_throttled_responses", with())] = float64(m.Calls.Throttled)
	want[metricstest.SampleKey("meetarchive_api_retries", with())] = float64(m.Calls.Retries)
	want[metricstest.SampleKey("meetarchive_run_duration_seconds", with())] = s.DurationSecs
	want[metricstest.SampleKey("meetarchive_run_exit_code", with())] = float64(s.ExitCode)
	want[metricstest.SampleKey("meetarchive_run_finished_timestamp_seconds", with())] = float64(s.Finished.UnixNano()) / 1e9
	want[metricstest.SampleKey("meetarchive_run_info", with("run_id", s.RunID, "version", s.Version))] = 1
	if lastSuccess >= 0 {
		want[metricstest.SampleKey("meetarchive_last_success_timestamp_seconds", with())] = lastSuccess
	}
	if c := s.Completeness; c != nil {
		want[metricstest.SampleKey("meetarchive_unaccounted_recordings", with())] = float64(c.UnaccountedCount())
	}
	if !m.OldestPending.IsZero() {
		want[metricstest.SampleKey("meetarchive_oldest_pending_timestamp_seconds", with())] = float64(m.OldestPending.UnixNano()) / 1e9
	}
	return want
}

// diffSamples reports every sample missing, extra or different.
func diffSamples(t *testing.T, what string, got, want map[string]float64) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(want))
	for _, k := range keys {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s: missing %s (want %v)", what, k, want[k])
		case g != want[k]:
			t.Errorf("%s: %s = %v, want %v", what, k, g, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s = %v", what, k, got[k])
		}
	}
}

func allCounts(n map[report.Status]int) map[report.Status]int {
	c := map[report.Status]int{}
	for _, st := range report.Statuses() {
		c[st] = 0
	}
	maps.Copy(c, n)
	return c
}

var metricsT0 = time.Date(2026, 11, 30, 2, 0, 5, 250_000_000, time.UTC)

// metricsCases are runs of every shape: success and failure, sharded or
// not, with and without API calls, odd label values, a status this build
// does not know.
func metricsCases() []struct {
	name     string
	m        Run
	wantLast bool // a last-success sample is expected (no earlier file)
} {
	return []struct {
		name     string
		m        Run
		wantLast bool
	}{
		{
			name: "success over the whole input",
			m: Run{
				Summary: report.Summary{
					RunInfo:  report.RunInfo{RunID: "20261130T020000Z-1a2b", Version: "v1.4.0"},
					Finished: metricsT0, DurationSecs: 312.75, ExitCode: 0,
					Counts: allCounts(map[report.Status]int{report.Archived: 40, report.AlreadyArchived: 7, report.PendingTranscode: 3, report.NoFiles: 2}),
					Files:  95, BytesArchived: 73_014_444_032,
				},
				Calls: export.CallStats{
					Calls: map[string]map[string]int64{
						"auth":         {"ok": 1},
						"list":         {"ok": 6, "throttled": 2},
						"details":      {"ok": 52, "http-5xx": 1, "network": 1},
						"downloadurls": {"ok": 47},
					},
					Waited:   map[string]time.Duration{"list": 1500 * time.Millisecond, "details": 2*time.Second + 250*time.Millisecond},
					Requests: 110, Retries: 4, Throttled: 2,
				},
				OldestPending: metricsT0.Add(-50 * time.Hour),
			},
			wantLast: true,
		},
		{
			name: "failures in shard 2 of 4",
			m: Run{
				Summary: report.Summary{
					RunInfo:  report.RunInfo{RunID: "r-2", Version: "dev", Shard: "2/4"},
					Finished: metricsT0.Add(time.Hour), DurationSecs: 61, ExitCode: report.ExitFailures,
					Counts: allCounts(map[report.Status]int{report.Archived: 5, report.Failed: 2, report.NotFound: 1, report.InvalidInput: 1}),
					Files:  12, BytesArchived: 1 << 30,
					Completeness: &report.Completeness{Lines: []report.CompletenessLine{
						{ConfUUID: "a", Fate: report.FateArchived}, {ConfUUID: "b", Fate: report.FateHistoryOnly}, {ConfUUID: "c", Fate: report.FateFailed},
					}, Findings: []report.Finding{{Code: report.FindingListShort, Unaccounted: 2}}},
				},
				Calls: export.CallStats{
					Calls:    map[string]map[string]int64{"details": {"ok": 8, "http-4xx": 1, "api-error": 2}},
					Requests: 11, Retries: 0, Throttled: 0,
				},
				Job: "archive-nightly",
			},
		},
		{
			name: "fatal before anything was counted",
			m: Run{
				Summary: report.Summary{
					RunInfo:  report.RunInfo{RunID: "r-3"},
					Finished: metricsT0, DurationSecs: 0.5, ExitCode: report.ExitFatal,
					Counts: nil, // every known status is still present, at 0
				},
			},
		},
		{
			name: "interrupted, odd label values, a status this build does not know",
			m: Run{
				Summary: report.Summary{
					RunInfo:  report.RunInfo{RunID: "run \"7\"\\\nnext", Version: "v2 (ünïcode)", Shard: "0/1"},
					Finished: metricsT0, DurationSecs: 9.125, ExitCode: report.ExitInterrupted,
					Counts: allCounts(map[report.Status]int{report.Cancelled: 4, "from-the-future": 2}),
					Files:  1,
				},
				Calls: export.CallStats{Calls: map[string]map[string]int64{"recordinfo": {"canceled": 3}}, Requests: 3},
			},
		},
	}
}

func TestWriteMetricsFile(t *testing.T) {
	for _, tc := range metricsCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "meetarchive.prom")
			if err := Write(context.Background(), tc.m, file, ""); err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			last := -1.0
			if tc.wantLast {
				last = float64(tc.m.Summary.Finished.UnixNano()) / 1e9
			}
			shard := tc.m.Summary.Shard
			if shard == "" {
				shard = "all"
			}
			got := metricstest.Flatten(t, metricstest.ParseFile(t, file), nil)
			diffSamples(t, "file", got, wantSamples(tc.m, last, map[string]string{"shard": shard}))

			// The conference counts equal the summary's, and add up to its total.
			var sum float64
			for k, v := range got {
				if strings.HasPrefix(k, "meetarchive_conferences{") {
					sum += v
				}
			}
			var total int
			for _, n := range tc.m.Summary.Counts {
				total += n
			}
			if sum != float64(total) {
				t.Errorf("sum of meetarchive_conferences = %v, want %d", sum, total)
			}

			// Nothing but the file is left in the directory.
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if want := []string{"meetarchive.prom"}; !slices.Equal(names, want) {
				t.Errorf("directory holds %q, want %q", names, want)
			}

			// The mode is 0666 less the umask, as a file this process creates.
			ref := filepath.Join(t.TempDir(), "ref")
			rf, err := os.OpenFile(ref, os.O_CREATE|os.O_WRONLY, 0o666)
			if err != nil {
				t.Fatal(err)
			}
			rf.Close()
			st, err := os.Stat(file)
			if err != nil {
				t.Fatal(err)
			}
			rst, _ := os.Stat(ref)
			if got, want := st.Mode().Perm(), rst.Mode().Perm(); got != want {
				t.Errorf("metrics file mode %v, want %v (0666 less the umask)", got, want)
			}
		})
	}
}

// TestMetricsLastSuccess runs a sequence of runs on one metrics file: a
// failed run keeps the last success time found in the file.
func TestMetricsLastSuccess(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.prom")
	at := func(h int) time.Time { return metricsT0.Add(time.Duration(h)*time.Hour + 123_456_789) }
	secs := func(h int) float64 { return float64(at(h).UnixNano()) / 1e9 }
	steps := []struct {
		name     string
		before   func(t *testing.T) // prepares the file
		exit     int
		finished time.Time
		want     float64 // -1: absent
	}{
		{name: "first run fails: no last success yet", exit: report.ExitFailures, finished: at(0), want: -1},
		{name: "success", exit: report.ExitOK, finished: at(24), want: secs(24)},
		{name: "failure keeps it", exit: report.ExitFailures, finished: at(48), want: secs(24)},
		{name: "fatal keeps it", exit: report.ExitFatal, finished: at(72), want: secs(24)},
		{name: "interrupted keeps it", exit: report.ExitInterrupted, finished: at(73), want: secs(24)},
		{name: "next success replaces it", exit: report.ExitOK, finished: at(96), want: secs(96)},
		{name: "failure keeps the new one", exit: report.ExitFailures, finished: at(120), want: secs(96)},
		{
			name: "a file the parser refuses gives none",
			before: func(t *testing.T) {
				if err := os.WriteFile(file, []byte("this is { not the text format\n"), 0o666); err != nil {
					t.Fatal(err)
				}
			},
			exit: report.ExitFailures, finished: at(144), want: -1,
		},
		{
			name: "a file without the metric gives none",
			before: func(t *testing.T) {
				if err := os.WriteFile(file, []byte("# TYPE other gauge\nother 1\n"), 0o666); err != nil {
					t.Fatal(err)
				}
			},
			exit: report.ExitFailures, finished: at(145), want: -1,
		},
		{
			name: "an untyped sample written by hand is kept",
			before: func(t *testing.T) {
				if err := os.WriteFile(file, []byte("meetarchive_last_success_timestamp_seconds 1.7645e+09\n"), 0o666); err != nil {
					t.Fatal(err)
				}
			},
			exit: report.ExitFailures, finished: at(146), want: 1.7645e+09,
		},
		{
			name: "an implausible value is dropped",
			before: func(t *testing.T) {
				if err := os.WriteFile(file, []byte("meetarchive_last_success_timestamp_seconds NaN\n"), 0o666); err != nil {
					t.Fatal(err)
				}
			},
			exit: report.ExitFailures, finished: at(147), want: -1,
		},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before(t)
			}
			m := Run{Summary: report.Summary{ExitCode: st.exit, Finished: st.finished, Counts: allCounts(nil)}}
			if err := Write(context.Background(), m, file, ""); err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			mf := metricstest.ParseFile(t, file)["meetarchive_last_success_timestamp_seconds"]
			switch {
			case st.want < 0 && mf != nil:
				t.Errorf("last success = %v, want none", mf.GetMetric()[0].GetGauge().GetValue())
			case st.want >= 0 && mf == nil:
				t.Errorf("last success missing, want %v", st.want)
			case st.want >= 0:
				if got := mf.GetMetric()[0].GetGauge().GetValue(); got != st.want {
					t.Errorf("last success = %v, want %v", got, st.want)
				}
			}
			ec := metricstest.ParseFile(t, file)["meetarchive_run_exit_code"]
			if got := ec.GetMetric()[0].GetGauge().GetValue(); got != float64(st.exit) {
				t.Errorf("exit code = %v, want %d", got, st.exit)
			}
		}) {
			return // later steps depend on this one
		}
	}
}

func TestWriteMetricsPush(t *testing.T) {
	for _, tc := range metricsCases() {
		t.Run(tc.name, func(t *testing.T) {
			gw := &metricstest.Gateway{}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			file := filepath.Join(t.TempDir(), "m.prom")
			if err := Write(context.Background(), tc.m, file, srv.URL); err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			job, shard := tc.m.Job, tc.m.Summary.Shard
			if job == "" {
				job = "meetarchive"
			}
			wantPath := "job/" + job + "/shard/all"
			if shard != "" {
				wantPath = "job/" + job + "/shard@base64/" + base64.RawURLEncoding.EncodeToString([]byte(shard))
			} else {
				shard = "all"
			}
			if len(gw.Requests) != 1 {
				t.Fatalf("gateway got %d requests, want 1", len(gw.Requests))
			}
			req := gw.Requests[0]
			if got, want := req.Path, "/metrics/"+wantPath; got != want {
				t.Errorf("push path %s, want %s", got, want)
			}
			if got, want := req.Labels, map[string]string{"job": job, "shard": shard}; !maps.Equal(got, want) {
				t.Errorf("grouping labels %v, want %v", got, want)
			}
			// A PUT replaces the group; a failed run read the gateway first.
			if req.Method != http.MethodPut {
				t.Errorf("method %s, want PUT", req.Method)
			}
			if wantReads := map[bool]int{true: 0, false: 1}[tc.m.Summary.ExitCode == 0]; gw.Reads != wantReads {
				t.Errorf("gateway read %d times, want %d", gw.Reads, wantReads)
			}
			last := -1.0
			if tc.wantLast {
				last = float64(tc.m.Summary.Finished.UnixNano()) / 1e9
			}
			pushed := gw.Group(t, wantPath)
			diffSamples(t, "pushed", pushed, wantSamples(tc.m, last, map[string]string{"job": job, "shard": shard}))

			// The file holds the same samples, but for the job label.
			written := metricstest.Flatten(t, metricstest.ParseFile(t, file), map[string]string{"job": job})
			diffSamples(t, "written vs pushed", written, pushed)
		})
	}
}

// TestMetricsPushKeepsLastSuccess: a failed run pushing without a metrics
// file leaves the gateway's last success time as the successful run set it,
// and replaces every other metric.
func TestMetricsPushKeepsLastSuccess(t *testing.T) {
	gw := &metricstest.Gateway{}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	runs := []struct {
		name     string
		exit     int
		finished time.Time
		archived int
		calls    map[string]map[string]int64
		want     float64
	}{
		{"success", report.ExitOK, metricsT0, 9, map[string]map[string]int64{"list": {"ok": 2}}, float64(metricsT0.UnixNano()) / 1e9},
		{"failure", report.ExitFailures, metricsT0.Add(24 * time.Hour), 1, map[string]map[string]int64{"list": {"http-5xx": 3}}, float64(metricsT0.UnixNano()) / 1e9},
		{"success again", report.ExitOK, metricsT0.Add(48 * time.Hour), 4, nil, float64(metricsT0.Add(48*time.Hour).UnixNano()) / 1e9},
	}
	for _, r := range runs {
		if !t.Run(r.name, func(t *testing.T) {
			m := Run{
				Summary: report.Summary{ExitCode: r.exit, Finished: r.finished, Counts: allCounts(map[report.Status]int{report.Archived: r.archived})},
				Calls:   export.CallStats{Calls: r.calls},
			}
			if err := Write(context.Background(), m, "", srv.URL+"/"); err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			got := gw.Group(t, "job/meetarchive/shard/all")
			labels := map[string]string{"job": "meetarchive", "shard": "all"}
			if v, ok := got[metricstest.SampleKey("meetarchive_last_success_timestamp_seconds", labels)]; !ok || v != r.want {
				t.Errorf("gateway's last success = %v (present %v), want %v", v, ok, r.want)
			}
			if v := got[metricstest.SampleKey("meetarchive_run_exit_code", labels)]; v != float64(r.exit) {
				t.Errorf("gateway's exit code = %v, want %d", v, r.exit)
			}
			st := maps.Clone(labels)
			st["status"] = "archived"
			if v := got[metricstest.SampleKey("meetarchive_conferences", st)]; v != float64(r.archived) {
				t.Errorf("gateway's archived count = %v, want %d", v, r.archived)
			}
			// Each run's calls replaced the previous run's, not added to them.
			var apiSamples []string
			for k := range got {
				if strings.HasPrefix(k, "meetarchive_api_calls{") {
					apiSamples = append(apiSamples, k)
				}
			}
			sort.Strings(apiSamples)
			var want []string
			for api, os := range r.calls {
				for o := range os {
					l := maps.Clone(labels)
					l["api"], l["outcome"] = api, o
					want = append(want, metricstest.SampleKey("meetarchive_api_calls", l))
				}
			}
			sort.Strings(want)
			if !slices.Equal(apiSamples, want) {
				t.Errorf("gateway's api_calls samples %q, want %q", apiSamples, want)
			}
		}) {
			return
		}
	}
}

func TestWriteMetricsErrors(t *testing.T) {
	okRun := Run{Summary: report.Summary{ExitCode: 0, Finished: metricsT0, Counts: allCounts(nil)}}
	tests := []struct {
		name      string
		gateway   *metricstest.Gateway
		url       func(srv string) string // the push URL; nil: no push
		file      func(dir string) string // the metrics file; nil: none
		ctx       func() (context.Context, context.CancelFunc)
		wantErr   []string // substrings of the error; nil: no error
		notInErr  string
		wantFile  bool // the file is written
		wantPush  int  // requests the gateway answered
		maxSecond float64
	}{
		{
			name: "nothing asked, nothing done",
		},
		{
			name:     "gateway error: the file is still written",
			gateway:  &metricstest.Gateway{Status: http.StatusInternalServerError},
			url:      func(s string) string { return s },
			file:     func(d string) string { return filepath.Join(d, "m.prom") },
			wantErr:  []string{"metrics push to", "500"},
			wantFile: true, wantPush: 1,
		},
		{
			name:     "missing directory: the push still happens",
			gateway:  &metricstest.Gateway{},
			url:      func(s string) string { return s },
			file:     func(d string) string { return filepath.Join(d, "no-such-dir", "m.prom") },
			wantErr:  []string{"metrics file", "no-such-dir"},
			wantPush: 1,
		},
		{
			name: "file is a directory: error, no temporary file left",
			file: func(d string) string {
				p := filepath.Join(d, "m.prom")
				os.MkdirAll(filepath.Join(p, "x"), 0o777)
				return p
			},
			wantErr: []string{"metrics file", "rename"},
		},
		{
			name:    "gateway hangs: the context's deadline ends the push",
			gateway: &metricstest.Gateway{Hang: make(chan struct{})},
			url:     func(s string) string { return s },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 300*time.Millisecond)
			},
			wantErr:   []string{"metrics push to", "deadline exceeded"},
			maxSecond: 60, // a safety net: the gateway hangs until the test ends
		},
		{
			name:     "credentials in the URL go as basic auth, never into the error",
			gateway:  &metricstest.Gateway{Status: http.StatusUnauthorized},
			url:      func(s string) string { return strings.Replace(s, "://", "://pusher:s3cr3t-pw@", 1) },
			wantErr:  []string{"metrics push to", "401"},
			notInErr: "s3cr3t-pw",
			wantPush: 1,
		},
		{
			name:    "nothing listens",
			url:     func(string) string { return "http://127.0.0.1:1" },
			wantErr: []string{"metrics push to http://127.0.0.1:1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var pushURL, file string
			if tc.gateway != nil {
				srv := httptest.NewServer(tc.gateway)
				defer srv.Close()
				if tc.gateway.Hang != nil {
					defer close(tc.gateway.Hang)
				}
				pushURL = srv.URL
			}
			if tc.url != nil {
				pushURL = tc.url(pushURL)
			}
			if tc.file != nil {
				file = tc.file(dir)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			start := time.Now()
			err := Write(ctx, okRun, file, pushURL)
			if tc.maxSecond > 0 && time.Since(start).Seconds() > tc.maxSecond {
				t.Errorf("writeMetrics took %v, want under %vs", time.Since(start), tc.maxSecond)
			}
			if tc.wantErr == nil && err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			if tc.wantErr != nil && err == nil {
				t.Fatalf("writeMetrics: no error, want one with %q", tc.wantErr)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tc.notInErr != "" && err != nil && strings.Contains(err.Error(), tc.notInErr) {
				t.Errorf("error %q shows %q", err, tc.notInErr)
			}
			if tc.gateway != nil {
				reqs := tc.gateway.Pushes()
				n := len(reqs)
				if n != tc.wantPush {
					t.Errorf("gateway answered %d pushes, want %d", n, tc.wantPush)
				}
				if tc.notInErr != "" && n > 0 {
					if reqs[0].User != "pusher" || reqs[0].Password != "s3cr3t-pw" {
						t.Errorf("basic auth %q:%q, want pusher:s3cr3t-pw", reqs[0].User, reqs[0].Password)
					}
				}
			}
			if file != "" {
				_, statErr := os.Stat(file)
				if tc.wantFile && statErr != nil {
					t.Errorf("metrics file not written: %v", statErr)
				}
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

// startPushgateway runs the real Pushgateway that scripts/pushgateway.sh
// installs (or $MEETARCHIVE_TEST_PUSHGATEWAY) on a free port of 127.0.0.1,
// stopped when the test ends; the test is skipped when there is none.
func startPushgateway(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("MEETARCHIVE_TEST_PUSHGATEWAY")
	if bin == "" {
		bin = filepath.Join("..", ".bin", "pushgateway")
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Skipf("no Pushgateway binary at %s (bash scripts/pushgateway.sh install): %v", bin, err)
	}
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		var logs strings.Builder
		cmd := exec.Command(bin, "--web.listen-address="+addr, "--persistence.file=", "--log.level=warn")
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		base := "http://" + addr
		deadline := time.Now().Add(time.Minute) // a safety net for a busy machine
		for {
			resp, err := http.Get(base + "/-/ready")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					t.Cleanup(stop)
					return base
				}
			}
			select {
			case err := <-exited:
				exited <- err
				if attempt < 2 { // the port was taken meanwhile: try another
					stop()
					goto next
				}
				t.Fatalf("pushgateway exited: %v\n%s", err, logs.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("pushgateway at %s not ready within 10s\n%s", base, logs.String())
			}
		}
	next:
	}
}

// scrapeGroup scrapes the gateway and returns the meetarchive samples of
// one group (job and shard), labels with an empty value dropped as
// Prometheus does, and the group's push_failure_time_seconds.
func scrapeGroup(t *testing.T, base, job, shard string) (map[string]float64, float64) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	out := map[string]float64{}
	failure := -1.0
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				if lp.GetValue() != "" {
					labels[lp.GetName()] = lp.GetValue()
				}
			}
			if labels["job"] != job || labels["shard"] != shard {
				continue
			}
			switch {
			case name == "push_failure_time_seconds":
				failure = m.GetGauge().GetValue()
			case strings.HasPrefix(name, "meetarchive_"):
				if mf.GetType() != dto.MetricType_GAUGE {
					t.Errorf("%s: type %v, want GAUGE", name, mf.GetType())
				}
				out[metricstest.SampleKey(name, labels)] = m.GetGauge().GetValue()
			}
		}
	}
	return out, failure
}

// TestMetricsRealPushgateway pushes runs to a real Pushgateway and scrapes
// it back: what Prometheus would see equals the input, each shard in its
// own group, and a failed run keeps the last success time.
func TestMetricsRealPushgateway(t *testing.T) {
	base := startPushgateway(t)
	cases := metricsCases()
	type push struct {
		name     string
		m        Run
		withFile bool
		wantLast float64 // -1: none
	}
	failed := cases[0].m // the same group as cases[0], failed a day later
	failed.Summary.ExitCode = report.ExitFailures
	failed.Summary.Finished = failed.Summary.Finished.Add(24 * time.Hour)
	failed.Summary.Counts = allCounts(map[report.Status]int{report.Failed: 3, report.Archived: 1})
	failed.Calls = export.CallStats{Calls: map[string]map[string]int64{"list": {"http-5xx": 5}}, Requests: 5, Retries: 4}
	failed.OldestPending = time.Time{}
	lastOf := func(m Run) float64 { return float64(m.Summary.Finished.UnixNano()) / 1e9 }
	pushes := []push{
		{name: cases[0].name, m: cases[0].m, wantLast: lastOf(cases[0].m)},
		{name: cases[1].name, m: cases[1].m, wantLast: -1},
		// The first group again: its last success is read back from the gateway.
		{name: cases[2].name + ", with a metrics file", m: cases[2].m, withFile: true, wantLast: lastOf(cases[0].m)},
		{name: cases[3].name, m: cases[3].m, wantLast: -1},
		{name: "the first group fails: its last success stays", m: failed, wantLast: lastOf(cases[0].m)},
	}
	for _, p := range pushes {
		t.Run(p.name, func(t *testing.T) {
			file := ""
			if p.withFile {
				file = filepath.Join(t.TempDir(), "m.prom")
			}
			if err := Write(context.Background(), p.m, file, base); err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			job, shard := p.m.job(), p.m.shard()
			got, failure := scrapeGroup(t, base, job, shard)
			if failure != 0 {
				t.Errorf("push_failure_time_seconds = %v, want 0 (the gateway refused the push)", failure)
			}
			want := wantSamples(p.m, p.wantLast, map[string]string{"job": job, "shard": shard})
			diffSamples(t, "scraped", got, want)
			if p.withFile {
				written := metricstest.Flatten(t, metricstest.ParseFile(t, file), map[string]string{"job": job})
				diffSamples(t, "written vs scraped", written, got)
			}
		})
	}
}

// TestMetricsLastSuccessSources: after a failed run the later of the file's
// and the gateway's last success times is kept; when the gateway cannot be
// read, the push is a POST without it, and the gateway keeps its own.
func TestMetricsLastSuccessSources(t *testing.T) {
	secs := func(h int) float64 { return float64(metricsT0.Add(time.Duration(h)*time.Hour).UnixNano()) / 1e9 }
	tests := []struct {
		name        string
		fileAt      int  // hours after metricsT0 of the success the file saw; -1 none
		gatewayAt   int  // of the success the gateway saw; -1 none
		failRead    bool // the gateway's /metrics cannot be read
		wantFile    float64
		wantGateway float64
		wantMethod  string
	}{
		{name: "gateway's is later", fileAt: 1, gatewayAt: 5, wantFile: secs(5), wantGateway: secs(5), wantMethod: http.MethodPut},
		{name: "file's is later", fileAt: 7, gatewayAt: 2, wantFile: secs(7), wantGateway: secs(7), wantMethod: http.MethodPut},
		{name: "only the gateway has one", fileAt: -1, gatewayAt: 3, wantFile: secs(3), wantGateway: secs(3), wantMethod: http.MethodPut},
		{name: "none anywhere", fileAt: -1, gatewayAt: -1, wantFile: -1, wantGateway: -1, wantMethod: http.MethodPut},
		{name: "unreadable gateway keeps its own", fileAt: -1, gatewayAt: 4, failRead: true, wantFile: -1, wantGateway: secs(4), wantMethod: http.MethodPost},
		{name: "unreadable gateway gets the file's", fileAt: 6, gatewayAt: 4, failRead: true, wantFile: secs(6), wantGateway: secs(6), wantMethod: http.MethodPost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gw := &metricstest.Gateway{}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			file := filepath.Join(t.TempDir(), "m.prom")
			ok := func(h int) Run {
				return Run{Summary: report.Summary{ExitCode: 0, Finished: metricsT0.Add(time.Duration(h) * time.Hour), Counts: allCounts(nil)}}
			}
			if tc.fileAt >= 0 {
				if err := Write(context.Background(), ok(tc.fileAt), file, ""); err != nil {
					t.Fatal(err)
				}
			}
			if tc.gatewayAt >= 0 {
				if err := Write(context.Background(), ok(tc.gatewayAt), "", srv.URL); err != nil {
					t.Fatal(err)
				}
			}
			gw.Locked(func() {
				gw.FailRead = tc.failRead
				gw.Requests = nil
			})

			failed := Run{Summary: report.Summary{ExitCode: report.ExitFailures, Finished: metricsT0.Add(10 * time.Hour), Counts: allCounts(map[report.Status]int{report.Failed: 1})}}
			if err := Write(context.Background(), failed, file, srv.URL); err != nil {
				t.Fatalf("writeMetrics: %v", err)
			}
			key := metricstest.SampleKey("meetarchive_last_success_timestamp_seconds", map[string]string{"job": "meetarchive", "shard": "all"})
			check := func(what string, samples map[string]float64, want float64) {
				t.Helper()
				got, ok := samples[key]
				switch {
				case want < 0 && ok:
					t.Errorf("%s: last success %v, want none", what, got)
				case want >= 0 && !ok:
					t.Errorf("%s: no last success, want %v", what, want)
				case want >= 0 && got != want:
					t.Errorf("%s: last success %v, want %v", what, got, want)
				}
				if got := samples[metricstest.SampleKey("meetarchive_run_exit_code", map[string]string{"job": "meetarchive", "shard": "all"})]; got != 1 {
					t.Errorf("%s: exit code %v, want 1", what, got)
				}
			}
			check("file", metricstest.Flatten(t, metricstest.ParseFile(t, file), map[string]string{"job": "meetarchive"}), tc.wantFile)
			check("gateway", gw.Group(t, "job/meetarchive/shard/all"), tc.wantGateway)
			if len(gw.Requests) != 1 || gw.Requests[0].Method != tc.wantMethod {
				t.Errorf("pushes %+v, want one %s", gw.Requests, tc.wantMethod)
			}
		})
	}
}

// TestMetricsUnsetFinished: a summary without a finish time is stamped once,
// so the finish and last-success times agree.
func TestMetricsUnsetFinished(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m.prom")
	before := float64(time.Now().UnixNano()) / 1e9
	if err := Write(context.Background(), Run{Summary: report.Summary{Counts: allCounts(nil)}}, file, ""); err != nil {
		t.Fatal(err)
	}
	after := float64(time.Now().UnixNano()) / 1e9
	got := metricstest.Flatten(t, metricstest.ParseFile(t, file), nil)
	l := map[string]string{"shard": "all"}
	fin, last := got[metricstest.SampleKey("meetarchive_run_finished_timestamp_seconds", l)], got[metricstest.SampleKey("meetarchive_last_success_timestamp_seconds", l)]
	if fin < before || fin > after {
		t.Errorf("finished %v, want within [%v, %v]", fin, before, after)
	}
	if last != fin {
		t.Errorf("last success %v, want the finish time %v", last, fin)
	}
}
