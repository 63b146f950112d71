package pipeline

import (
	"maps"
	"testing"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
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
	base := map[string]string{"keyTemplate": "k", "links": "auto", "concurrency": "4", "rate": "auto", "dryRun": "false", "force": "false"}
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
		{"retention in days, legal hold, encryption, delete", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4, DeleteAfter: true},
			archive.Options{LockMode: "COMPLIANCE", RetainDays: 30, LegalHold: true, SSE: "aws:kms", StorageClass: "GLACIER_IR"},
			with("objectLockMode", "COMPLIANCE", "retention", "30 days", "legalHold", "true", "sse", "aws:kms", "storageClass", "GLACIER_IR", "deleteAfterArchive", "true")},
		{"retention until a date", export.Config{Links: export.LinksAuto, Rate: export.RateAuto}, Options{Concurrency: 4}, archive.Options{LockMode: "GOVERNANCE", RetainUntil: until},
			with("objectLockMode", "GOVERNANCE", "retention", "until 2030-01-02T03:04:05Z")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReportOptions("k", tc.client, tc.job, tc.arch); !maps.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}
