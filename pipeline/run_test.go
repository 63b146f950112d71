package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestCheckApart: the nesting check of --out and --dest, in process: an
// s3:// destination is never a local directory.
func TestCheckApart(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, out, dest string
		refused         bool
	}{
		{"s3 dest", dir + "/r", "s3://bucket/" + dir + "/r", false},
		{"S3 dest upper case", dir, "S3://bucket", false},
		{"siblings", dir + "/a", dir + "/b", false},
		{"common prefix", dir + "/a", dir + "/ab", false},
		{"same", dir + "/a", dir + "/a/", true},
		{"out below", dir + "/a/b/c", dir + "/a", true},
		{"dest below", dir, dir + "/x", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckApart(tc.out, tc.dest); (err != nil) != tc.refused {
				t.Errorf("CheckApart(%s, %s) = %v, want refused %v", tc.out, tc.dest, err, tc.refused)
			}
		})
	}
}

// TestReportOptions: the options a run's report shows, from the client's,
// the job's and the destination's configuration.
func TestReportOptions(t *testing.T) {
	until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	base := map[string]string{"keyTemplate": "k", "links": "auto", "concurrency": "4", "rate": "auto", "dryRun": "false", "force": "false", "evidence": "false"}
	with := func(kv ...string) map[string]string {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		client export.Config
		job    Options
		arch   archive.Options
		want   map[string]string
	}{
		{"defaults", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4}, archive.Options{}, base},
		{"file types, rate, dry run, force", export.Config{Links: export.LinksSpread, Rate: 2.5, FileTypes: []string{"Hd", "Aux"}}, Options{Concurrency: 4, DryRun: true, Force: true}, archive.Options{},
			with("links", "spread", "rate", export.FormatRate(2.5), "fileTypes", "Hd,Aux", "dryRun", "true", "force", "true")},
		{"evidence", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4, Evidence: true}, archive.Options{},
			with("evidence", "true")},
		{"retention in days, legal hold, encryption, delete", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4, DeleteAfter: true},
			archive.Options{LockMode: "COMPLIANCE", RetainDays: 30, LegalHold: true, SSE: "aws:kms", StorageClass: "GLACIER_IR"},
			with("objectLockMode", "COMPLIANCE", "retention", "30 days", "legalHold", "true", "sse", "aws:kms", "storageClass", "GLACIER_IR", "deleteAfterArchive", "true")},
		{"retention until a date", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4}, archive.Options{LockMode: "GOVERNANCE", RetainUntil: until},
			with("objectLockMode", "GOVERNANCE", "retention", "until 2030-01-02T03:04:05Z")},
		{"how S3 was reached: the endpoint without its credential", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4},
			archive.Options{Endpoint: "https://user:secret@minio.example:9000/?token=abc", Region: "eu-west-1", PathStyle: true, Profile: "archive"},
			with("s3Endpoint", "https://minio.example:9000/", "s3Region", "eu-west-1", "s3PathStyle", "true", "s3Profile", "archive")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReportOptions("k", tc.client, tc.job, tc.arch); !maps.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// countingProgress is a front end's display: what the run told it.
type countingProgress struct {
	NoProgress
	total, rows int
	closed      bool
}

func (p *countingProgress) CountRows(rows []report.Row) { p.rows += len(rows) }
func (p *countingProgress) Close()                      { p.closed = true }

// TestRunWithoutTheCommandLine: Run is callable by a front end other than
// the run command: its pieces come through Open, its outcome is the error
// kind of the exit code, and the hooks see the display and the report.
func TestRunWithoutTheCommandLine(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 2, 8<<10, 71)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 71})
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var all strings.Builder
	all.WriteString("confUUID\n")
	for _, c := range ds.Conferences {
		all.WriteString(c.ConfUUID + "\n")
	}
	good := write("good.csv", all.String())
	bad := write("bad.csv", all.String()+"not-a-uuid\n")
	var usage *UsageError
	var fatal *FatalError
	tests := []struct {
		name         string
		input, out   string // out "" is a new directory
		wantErr      func(error) bool
		wantFinished bool
		want         map[report.Status]int
	}{
		{"every conference archived", good, "", func(err error) bool { return err == nil }, true, map[report.Status]int{report.Archived: 3}},
		{"an invalid line fails the run", bad, "", func(err error) bool { return errors.Is(err, ErrItemsFailed) }, true,
			map[report.Status]int{report.Archived: 3, report.InvalidInput: 1}},
		{"an input gone is fatal, with a report", filepath.Join(dir, "gone.csv"), "", func(err error) bool { return errors.As(err, &fatal) }, true, nil},
		{"an --out that is a file is a usage error, without one", good, good, func(err error) bool { return errors.As(err, &usage) }, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dest, out := t.TempDir(), tc.out
			if out == "" {
				out = filepath.Join(t.TempDir(), "report")
			}
			prog := &countingProgress{}
			var reported *report.Summary
			cfg := RunConfig{
				Input: tc.input, Dest: dest, Out: out, Keys: archive.MustParseKeyTemplate(archive.DefaultKeyTemplate),
				Job:     Options{Concurrency: 2, Tool: "test", Retry: export.Backoff{Base: time.Millisecond, Max: 10 * time.Millisecond, MaxAttempts: 2}},
				Version: "test", APIBase: sim.URL,
				Open: func(ctx context.Context, log *slog.Logger) (*export.Client, archive.Store, error) {
					client, err := export.NewClient(export.Config{BaseURL: sim.URL, Rate: 500, Credentials: export.Credentials{AppID: meetingtest.DefaultAppID, AppKey: meetingtest.DefaultAppKey}})
					if err != nil {
						return nil, nil, err
					}
					store, err := archive.NewDirStore(dest)
					return client, store, err
				},
			}
			hooks := RunHooks{
				Log:      slog.New(slog.DiscardHandler),
				Progress: func(total int) RunProgress { prog.total = total; return prog },
				Reported: func(s report.Summary) { reported = &s },
			}
			res, err := Run(context.Background(), cfg, hooks)
			if !tc.wantErr(err) {
				t.Fatalf("Run error %v (%T): not the kind wanted", err, err)
			}
			if res.Finished != tc.wantFinished {
				t.Fatalf("finished %v, want %v", res.Finished, tc.wantFinished)
			}
			if !tc.wantFinished {
				return
			}
			if res.RunID == "" || res.Summary.RunID != res.RunID {
				t.Errorf("run %q, summary's run %q: want the run's id in both", res.RunID, res.Summary.RunID)
			}
			for st, n := range tc.want {
				if got := res.Summary.Counts[st]; got != n {
					t.Errorf("%s: got %d, want %d", st, got, n)
				}
			}
			if tc.want != nil && (prog.total != len(ds.Conferences) || !prog.closed || prog.rows == 0) {
				t.Errorf("display: total %d, closed %v, rows %d; want %d conferences, closed, rows counted", prog.total, prog.closed, prog.rows, len(ds.Conferences))
			}
			if tc.want != nil && res.Calls.Requests == 0 {
				t.Errorf("no API requests counted: %+v", res.Calls)
			}
			if reported == nil || reported.RunID != res.RunID {
				t.Errorf("Reported hook got %+v, want the run's summary", reported)
			}
			if sum, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON)); err != nil || sum.RunID != res.RunID {
				t.Errorf("summary.json: %v, run %q; want the run's", err, sum.RunID)
			}
		})
	}
}

// TestConnectionOptions: how a command reached the API and the destination,
// as the attestation's commands repeat it: the default API is not named,
// another is, without a credential; S3 flags as given.
func TestConnectionOptions(t *testing.T) {
	tests := []struct {
		name string
		api  string
		a    archive.Options
		want map[string]string
	}{
		{"defaults", export.DefaultBaseURL, archive.Options{}, map[string]string{}},
		{"the default with a slash", export.DefaultBaseURL + "/", archive.Options{}, map[string]string{}},
		{"another API", "https://user:pw@api-intl.meeting.huaweicloud.com/?k=v", archive.Options{},
			map[string]string{"api": "https://api-intl.meeting.huaweicloud.com/"}},
		{"S3 by flags", "", archive.Options{Endpoint: "http://127.0.0.1:7070", Region: "us-east-1", PathStyle: true},
			map[string]string{"s3Endpoint": "http://127.0.0.1:7070", "s3Region": "us-east-1", "s3PathStyle": "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ConnectionOptions(tc.api, tc.a); !maps.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
