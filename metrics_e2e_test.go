package main

import (
	"net/http/httptest"
	"path/filepath"
	"testing"

	"meetarchive/export/meetingtest"
	"meetarchive/metrics/metricstest"
	"meetarchive/report"
)

// TestRunWritesAndPushesMetrics: a run's --metrics-file and --metrics-push
// parse with the Prometheus parser and equal summary.json's counts.
func TestRunWritesAndPushesMetrics(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 5, FilesPerConference: 1, FileSize: 4 << 10, Pending: 1, Unavailable: 1, Seed: 5})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 5})
	gw := &metricstest.Gateway{}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	file := filepath.Join(dir, "meetarchive.prom")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out,
		"--metrics-file", file, "--metrics-push", srv.URL)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	sum := readSummary(t, out)
	counts := sum["counts"].(map[string]any)
	fromFile := metricstest.Flatten(t, metricstest.ParseFile(t, file), nil)
	pushed := gw.Group(t, "job/meetarchive/shard/all")
	for _, st := range report.Statuses() {
		want := counts[string(st)].(float64)
		key := metricstest.SampleKey("meetarchive_conferences", map[string]string{"status": string(st), "shard": "all"})
		if got, ok := fromFile[key]; !ok || got != want {
			t.Errorf("file %s = %v (present %v), summary.json %v", key, got, ok, want)
		}
		pkey := metricstest.SampleKey("meetarchive_conferences", map[string]string{"status": string(st), "job": "meetarchive", "shard": "all"})
		if got, ok := pushed[pkey]; !ok || got != want {
			t.Errorf("pushed %s = %v (present %v), summary.json %v", pkey, got, ok, want)
		}
	}
	if got := fromFile[metricstest.SampleKey("meetarchive_archived_bytes", map[string]string{"shard": "all"})]; got != sum["bytesArchived"].(float64) {
		t.Errorf("archived bytes %v, summary.json %v", got, sum["bytesArchived"])
	}
	if got := fromFile[metricstest.SampleKey("meetarchive_run_exit_code", map[string]string{"shard": "all"})]; got != 0 {
		t.Errorf("exit code metric %v, want 0", got)
	}
}
