package main

// End-to-end tests of the completeness fixes on the built binary: a window
// older than the meeting history keeps, the sentence of an --input run, a
// history short of its count, and the lines the platform does not report
// for a window (deleted after archiving, carried over).

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// nearData gives a run or a reconciliation a clock just after the test
// datasets' days (2024-05), as the simulators with HistoryRetention -1
// pretend: the history keeps every window the tests reconcile.
func nearData(env map[string]string) map[string]string {
	env["MEETARCHIVE_TEST_NOW"] = "2024-06-01T00:00:00Z"
	return env
}

// verdictOf is summary.json's verdict.
func verdictOf(t *testing.T, out string) report.Verdict {
	t.Helper()
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	return s.Verdict
}

// TestHistoryRetention: a window that starts before the meeting history
// keeps its meetings (six months by default; the simulator forgets them
// too) is not said to be checked against the history there: a
// history-retention finding names the part checked against the recording
// list only, the verdict is amber, and the exit code stays 0. A window the
// history keeps has no such finding.
func TestHistoryRetention(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		args     []string
		now      time.Time
		wantPart string // a part of the finding; "": no finding
	}{
		{"run, a window from 2020", []string{"run", "--from", "2020-01-01", "--to", "2030-12-31"}, now,
			"the part of the window from 2020-01-01 00:00 UTC to 2026-06-07 06:00 UTC is older than the meeting history keeps"},
		{"reconcile, a window from 2020", []string{"reconcile", "--from", "2020-01-01", "--to", "2030-12-31"}, now,
			"the part of the window from 2020-01-01 00:00 UTC to 2026-06-07 06:00 UTC is older than the meeting history keeps"},
		{"reconcile, a window wholly older", []string{"reconcile", "--from", "2024-05-01", "--to", "2024-05-01"}, now,
			"the whole window is older than the meeting history keeps"},
		{"reconcile, a window the history keeps", []string{"reconcile", "--from", "2024-05-01", "--to", "2024-05-01"},
			time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 1, FileSize: 4 << 10,
				Seed: int64(500 + i), Start: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)})
			clock := tt.now
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: int64(500 + i), Now: func() time.Time { return clock }})
			env := simEnv(sim)
			env["MEETARCHIVE_TEST_NOW"] = clock.Format(time.RFC3339)
			dir := t.TempDir()
			dest := filepath.Join(dir, "archive")
			if tt.args[0] == "reconcile" {
				if res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", filepath.Join(dir, "r1")); res.code != 0 {
					t.Fatalf("archiving run: exit %d\n%s", res.code, res.stderr)
				}
			}
			out := filepath.Join(dir, "r")
			res := runBin(t, env, append(tt.args, "--all-users", "--dest", dest, "--out", out)...)
			if res.code != 0 {
				t.Errorf("%s: exit %d, want 0\n%s", tt.args[0], res.code, res.stderr)
			}
			c := readCompleteness(t, out)
			v := verdictOf(t, out)
			if tt.wantPart == "" {
				if len(c.Findings) != 0 || v.Level != report.LevelGreen {
					t.Errorf("findings %v, verdict %s: want none and green", c.Findings, v.Level)
				}
				return
			}
			if codes := findingCodes(c); !slices.Equal(codes, []string{report.FindingHistoryRetention}) {
				t.Fatalf("findings %v, want [%s]", c.Findings, report.FindingHistoryRetention)
			}
			if f := c.Findings[0]; !strings.Contains(f.Text, tt.wantPart) || !strings.Contains(f.Text, "checked against the recording list and the destination only") {
				t.Errorf("finding %q: want it to say %q, checked against the list and the destination only", f.Text, tt.wantPart)
			}
			if v.Level != report.LevelAmber || !strings.Contains(v.Text, c.Findings[0].Text) {
				t.Errorf("verdict %s %q: want amber, saying the finding", v.Level, v.Text)
			}
			if want := "3 of 3 recordings the platform reports for this window are archived or accounted for; note: "; !strings.HasPrefix(c.Sentence, want) {
				t.Errorf("sentence %q, want it to start %q", c.Sentence, want)
			}
			if h := c.Sources[1]; h.Name != report.SourceHistory || h.Conferences != 0 {
				t.Errorf("history source %+v: want the simulator's history to have forgotten the 2024 meetings", h)
			}
		})
	}
}

// TestInputRunSentence: a run given only --input says how its
// conferences are accounted for, not that each one is archived.
func TestInputRunSentence(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 6, Pending: 1, Unavailable: 1, FilesPerConference: 1, FileSize: 4 << 10,
		Seed: 510, Start: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 510, HistoryRetention: -1})
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "archive"), "--out", out)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	c := readCompleteness(t, out)
	want := "6 of 6 conferences of the input are archived or accounted for: 4 archived with their commit marks in the destination, " +
		"2 accounted for: 1 pending-transcode, 1 unavailable; the platform-side check needs a window (--from/--to or --since-last)."
	if c.Sentence != want {
		t.Errorf("sentence %q\nwant     %q", c.Sentence, want)
	}
	if c.Fates[report.FateArchived].Conferences != 4 || c.Fates[report.FatePending].Conferences != 1 || c.Fates[report.FateUnavailable].Conferences != 1 {
		t.Errorf("fates %v: want 4 archived, 1 pending-transcode, 1 unavailable", c.Fates)
	}
}

// TestHistoryCountShort: a history whose count says one more meeting than
// its pages hold is a finding about the second source (its count includes
// meetings without recordings), not a recording unaccounted for: amber,
// exit 0. A list short of its count still is one (red, exit 1).
func TestHistoryCountShort(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(cfg *meetingtest.Config)
		wantCode    int
		wantLevel   report.Level
		wantFinding string
		wantUnacc   int
	}{
		{"history one short", func(cfg *meetingtest.Config) { cfg.HistoryCountDelta = 1 }, 0, report.LevelAmber, report.FindingHistoryShort, 0},
		{"list one short", func(cfg *meetingtest.Config) { cfg.ListCountDelta = 1 }, 1, report.LevelRed, report.FindingListShort, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := reconcileDataset(int64(520 + i))
			cfg := meetingtest.Config{Dataset: ds, Seed: int64(520 + i), HistoryRetention: -1}
			tt.setup(&cfg)
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			dest := filepath.Join(dir, "archive")
			if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", filepath.Join(dir, "r1")); res.code != 0 {
				t.Fatalf("archiving run: exit %d\n%s", res.code, res.stderr)
			}
			out := filepath.Join(dir, "r2")
			res := runBin(t, nearData(simEnv(sim)), "reconcile", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users", "--dest", dest, "--out", out)
			if res.code != tt.wantCode {
				t.Errorf("reconcile: exit %d, want %d\n%s", res.code, tt.wantCode, res.stderr)
			}
			c := readCompleteness(t, out)
			if codes := findingCodes(c); !slices.Equal(codes, []string{tt.wantFinding}) {
				t.Errorf("findings %v, want [%s]", c.Findings, tt.wantFinding)
			}
			if n := c.UnaccountedCount(); n != tt.wantUnacc {
				t.Errorf("%d recordings not accounted for, want %d (%s)", n, tt.wantUnacc, c.Sentence)
			}
			if v := verdictOf(t, out); v.Level != tt.wantLevel {
				t.Errorf("verdict %s %q, want %s", v.Level, v.Text, tt.wantLevel)
			}
		})
	}
}

// TestSentenceOfLinesNotReported: the lines the platform does not report
// for the window are said, never "0 of 0" beside them: a reconcile after
// every recording was deleted from the platform by
// --delete-after-archive, and a --since-last run whose window the
// platform reports nothing for that archives a conference carried over.
func TestSentenceOfLinesNotReported(t *testing.T) {
	t.Run("reconcile after --delete-after-archive", func(t *testing.T) {
		ds := reconcileDataset(530)
		sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 530, HistoryRetention: -1})
		dir := t.TempDir()
		dest := filepath.Join(dir, "archive")
		res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", filepath.Join(dir, "r1"),
			"--delete-after-archive", "--confirm-delete")
		if res.code != 0 {
			t.Fatalf("archiving run: exit %d\n%s", res.code, res.stderr)
		}
		out := filepath.Join(dir, "r2")
		res = runBin(t, nearData(simEnv(sim)), "reconcile", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users", "--dest", dest, "--out", out)
		if res.code != 0 {
			t.Errorf("reconcile: exit %d, want 0\n%s", res.code, res.stderr)
		}
		c := readCompleteness(t, out)
		want := "the platform reports no recordings for this window; the archive also holds 5 it no longer lists (deleted on the platform after they were archived)."
		if c.Sentence != want || c.Fates[report.FateNotListed].Conferences != 5 {
			t.Errorf("sentence %q with fates %v\nwant %q and 5 %s", c.Sentence, c.Fates, want, report.FateNotListed)
		}
	})
	t.Run("a carried conference archived in a window the platform reports nothing for", func(t *testing.T) {
		// Conferences at 08:00, 08:47, 09:34, 10:21 and 11:08 on 2024-05-01.
		ds := reconcileDataset(531)
		omitted := ds.Conferences[0].ConfUUID
		sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 531, HistoryRetention: -1,
			Faults: []meetingtest.Fault{{Endpoint: "list", Kind: meetingtest.FaultOmit, ConfUUID: omitted}}})
		dir := t.TempDir()
		dest := filepath.Join(dir, "archive")
		run := func(name string, now time.Time) (result, string) {
			env := simEnv(sim)
			env["MEETARCHIVE_TEST_NOW"] = now.Format(time.RFC3339)
			out := filepath.Join(dir, name)
			return runBin(t, env, "run", "--since-last", "--from", "2024-05-01", "--all-users", "--dest", dest, "--out", out), out
		}
		if res, _ := run("r1", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)); res.code != 1 {
			t.Fatalf("run 1: exit %d, want 1 (a recording the list leaves out)\n%s", res.code, res.stderr)
		}
		// Run 2's window (09:30 to 12:30) holds three conferences; the
		// platform deletes them, so it reports none there.
		for _, c := range ds.Conferences[2:] {
			if err := sim.DeleteConference(c.ConfUUID); err != nil {
				t.Fatal(err)
			}
		}
		res, out := run("r2", time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC))
		if res.code != 0 {
			t.Errorf("run 2: exit %d, want 0\n%s", res.code, res.stderr)
		}
		c := readCompleteness(t, out)
		want := "the platform reports no recordings for this window; the archive also holds 3 it no longer lists (deleted on the platform after they were archived); " +
			"this run also took 1 conference carried over from an earlier window: 1 archived with its commit mark in the destination."
		if c.Sentence != want {
			t.Errorf("sentence %q\nwant     %q", c.Sentence, want)
		}
		if lines := completenessLines(t, out); lines[omitted] != report.FateArchived || len(lines) != 4 {
			t.Errorf("lines %v: want the carried conference archived and 3 %s", lines, report.FateNotListed)
		}
		if regexp.MustCompile(`\b0 of 0\b`).MatchString(verdictOf(t, out).Text) {
			t.Errorf("verdict %q says 0 of 0", verdictOf(t, out).Text)
		}
	})
}
