package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestMergeShardsCompleteness: two shards of one window (--from/--to,
// --shard K/2), merged. A recording the list leaves out is one gap of the
// merged completeness, named once, and merge exits 1; a list whose count
// says two more is one finding counted once, not once per shard; a clean
// window is complete and merge exits 0.
func TestMergeShardsCompleteness(t *testing.T) {
	tests := []struct {
		name         string
		setup        func(*meetingtest.Config, meetingtest.Dataset)
		wantCode     int
		wantGap      func(meetingtest.Dataset) string // "": none
		wantFindings []string
		wantReported int
	}{
		{name: "a clean window", wantReported: 5},
		{
			name: "a recording the list leaves out",
			setup: func(cfg *meetingtest.Config, ds meetingtest.Dataset) {
				cfg.Faults = append(cfg.Faults, meetingtest.Fault{Endpoint: "list", Kind: meetingtest.FaultOmit, ConfUUID: ds.Conferences[3].ConfUUID})
			},
			wantCode:     1,
			wantGap:      func(ds meetingtest.Dataset) string { return ds.Conferences[3].ConfUUID },
			wantReported: 5,
		},
		{
			name:         "a list whose count says two more",
			setup:        func(cfg *meetingtest.Config, _ meetingtest.Dataset) { cfg.ListCountDelta = 2 },
			wantCode:     1,
			wantFindings: []string{report.FindingListShort},
			wantReported: 7,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := reconcileDataset(int64(120 + i))
			cfg := meetingtest.Config{Dataset: ds, Seed: int64(120 + i), HistoryRetention: -1}
			if tt.setup != nil {
				tt.setup(&cfg, ds)
			}
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			var shards []string
			for k := 0; k < 2; k++ {
				out := filepath.Join(dir, fmt.Sprintf("shard-%d", k))
				res := runBin(t, nearData(simEnv(sim)), "run", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users",
					"--dest", filepath.Join(dir, "archive"), "--out", out, "--shard", fmt.Sprintf("%d/2", k))
				if res.code != 0 && res.code != 1 {
					t.Fatalf("shard %d: exit %d\n%s", k, res.code, res.stderr)
				}
				if n := len(completenessLines(t, out)); n == 0 || n == 5 {
					t.Errorf("shard %d reconciled %d lines: not a split", k, n)
				}
				shards = append(shards, out)
			}
			merged := filepath.Join(dir, "merged")
			res := runBin(t, nil, "merge", "--out", merged, shards[0], shards[1])
			if res.code != tt.wantCode {
				t.Errorf("merge: exit %d, want %d\n%s", res.code, tt.wantCode, res.stderr)
			}
			sum, err := report.ReadSummary(filepath.Join(merged, report.SummaryJSON))
			if err != nil {
				t.Fatal(err)
			}
			c := sum.Completeness
			if c == nil {
				t.Fatalf("merged summary.json has no completeness; warnings %q", sum.Warnings)
			}
			if sum.ExitCode != tt.wantCode {
				t.Errorf("merged summary's exit code %d, want %d", sum.ExitCode, tt.wantCode)
			}
			if c.Reported != tt.wantReported || c.Conferences != 5 {
				t.Errorf("reported %d, conferences %d; want %d, 5", c.Reported, c.Conferences, tt.wantReported)
			}
			gap := ""
			if tt.wantGap != nil {
				gap = tt.wantGap(ds)
			}
			switch {
			case gap == "" && len(c.Unaccounted) != 0:
				t.Errorf("unaccounted %+v, want none", c.Unaccounted)
			case gap != "" && (len(c.Unaccounted) != 1 || c.Unaccounted[0].ConfUUID != gap || c.Unaccounted[0].Fate != report.FateHistoryOnly):
				t.Errorf("unaccounted %+v, want %s history-only, once", c.Unaccounted, gap)
			}
			if gap != "" && strings.Count(c.Sentence, gap) != 1 {
				t.Errorf("sentence %q: want the gap named once", c.Sentence)
			}
			if codes := findingCodes(c); !slices.Equal(codes, tt.wantFindings) {
				t.Errorf("findings %v, want %v", c.Findings, tt.wantFindings)
			}
			if tt.wantCode == 0 {
				want := "5 of 5 recordings the platform reports for this window are archived or accounted for"
				if !strings.HasPrefix(c.Sentence, want) || !strings.Contains(sum.Verdict.Text, want) {
					t.Errorf("sentence %q, verdict %q: want %q", c.Sentence, sum.Verdict.Text, want)
				}
			} else if sum.Verdict.Level != report.LevelRed || !strings.HasPrefix(sum.Verdict.Text, "Action needed: 2 of 7") && tt.wantFindings != nil {
				t.Errorf("verdict %+v: want red, the finding counted once", sum.Verdict)
			}
			if got := sim.Counters().Requests["list"]; int64(c.Sources[0].Calls) != got {
				t.Errorf("merged list calls %d, the simulator answered %d", c.Sources[0].Calls, got)
			}
			if got := completenessLines(t, merged); len(got) != 5 {
				t.Errorf("merged Completeness sheet: %d lines, want 5", len(got))
			}
		})
	}
}

// TestMergeOfDifferentWindowsSaysWhy: reports of different windows merge
// without a completeness, and the warning that says why is printed, not
// only kept in summary.json (a tester saw exit 0 and a green page, and
// nothing on the terminal).
func TestMergeOfDifferentWindowsSaysWhy(t *testing.T) {
	ds := reconcileDataset(131)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 131, HistoryRetention: -1})
	dir := t.TempDir()
	dest := filepath.Join(dir, "archive")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	var reps []string
	for _, day := range []string{"2024-05-01", "2024-05-02"} {
		out := filepath.Join(dir, day)
		if res := runBin(t, simEnv(sim), "reconcile", "--from", day, "--to", day, "--all-users", "--dest", dest, "--out", out); res.code > 1 {
			t.Fatalf("reconcile %s: exit %d\n%s", day, res.code, res.stderr)
		}
		reps = append(reps, out)
	}
	merged := filepath.Join(dir, "merged")
	res := runBin(t, nil, append([]string{"merge", "--out", merged}, reps...)...)
	if res.code != 0 || !strings.Contains(res.stderr, "meetarchive: merge: warning: no completeness in the merged report: the shards reconciled different windows") {
		t.Errorf("exit %d; want 0 and the warning on stderr\n%s", res.code, res.stderr)
	}
	sum, err := report.ReadSummary(filepath.Join(merged, report.SummaryJSON))
	if err != nil || sum.Completeness != nil || len(sum.Warnings) != 1 {
		t.Errorf("merged summary: completeness %v, warnings %q (%v); want none and the one warning", sum.Completeness, sum.Warnings, err)
	}
}
