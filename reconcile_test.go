package main

// End-to-end tests of the completeness reconciliation on the built binary:
// `meetarchive reconcile` and the runs that reconcile their window, against
// the simulator with the faults a reconciliation must find (a recording
// the list leaves out, a count that disagrees with the pages, a conference
// deleted after it was archived, meetings without recordings).

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// reconcileDataset is five conferences on 2024-05-01 (47 minutes apart
// from 08:00) and two meetings without a recording.
func reconcileDataset(seed int64) meetingtest.Dataset {
	return meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 5, FilesPerConference: 1, FileSize: 8 << 10, Meetings: 2,
		Seed: seed, Start: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)})
}

// readCompleteness reads summary.json's completeness.
func readCompleteness(t *testing.T, out string) *report.Completeness {
	t.Helper()
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if s.Completeness == nil {
		t.Fatalf("summary.json of %s has no completeness", out)
	}
	return s.Completeness
}

// completenessLines reads the Completeness sheet's lines back: confUUID ->
// fate.
func completenessLines(t *testing.T, out string) map[string]report.Fate {
	t.Helper()
	f, err := excelize.OpenFile(filepath.Join(out, report.ManifestXLSX))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(report.SheetCompleteness)
	if err != nil {
		t.Fatalf("%s: %v", report.SheetCompleteness, err)
	}
	cols := report.CompletenessColumns()
	if len(rows) == 0 || !slices.Equal(rows[0][:len(cols)], cols) {
		t.Fatalf("Completeness header %q, want %q", rows, cols)
	}
	out2 := map[string]report.Fate{}
	for _, r := range rows[1:] {
		if len(r) > 3 && r[0] != "" {
			out2[r[0]] = report.Fate(r[3])
		}
	}
	return out2
}

// unaccountedOf is the unaccounted lines as confUUID -> fate.
func unaccountedOf(c *report.Completeness) map[string]report.Fate {
	out := map[string]report.Fate{}
	for _, l := range c.Unaccounted {
		out[l.ConfUUID] = l.Fate
	}
	return out
}

func findingCodes(c *report.Completeness) []string {
	var out []string
	for _, f := range c.Findings {
		out = append(out, f.Code)
	}
	return out
}

// downloadCalls counts the calls of the APIs reconcile must never make.
func downloadCalls(sim *meetingtest.Server) int64 {
	c := sim.Counters()
	var n int64
	for _, ep := range []string{"details", "downloadurls", "recordinfo", "media", "delete"} {
		n += c.Requests[ep]
	}
	return n
}

// TestReconcileCommand: against the simulator with each fault, `meetarchive
// reconcile` names every injected gap with its reason and nothing else,
// exits 1 for a gap and 0 for a window that is complete, and calls no
// download API.
func TestReconcileCommand(t *testing.T) {
	type gap struct {
		fate report.Fate
		hint string // a part of its hint
	}
	tests := []struct {
		name string
		// setup configures the simulator; skip are the conferences the
		// archiving run is not given; after runs between the archiving
		// run and the reconciliation.
		setup        func(cfg *meetingtest.Config, ds meetingtest.Dataset)
		skip         func(ds meetingtest.Dataset) []string
		after        func(t *testing.T, sim *meetingtest.Server, ds meetingtest.Dataset)
		wantCode     int
		wantGaps     func(ds meetingtest.Dataset) map[string]gap
		wantFindings []string
		wantFates    func(ds meetingtest.Dataset) map[string]report.Fate // every line
		wantSentence string                                              // a regexp
	}{
		{
			name:         "a clean window",
			wantCode:     0,
			wantSentence: `^5 of 5 recordings the platform reports for this window are archived or accounted for\.$`,
			wantFates: func(ds meetingtest.Dataset) map[string]report.Fate {
				m := map[string]report.Fate{}
				for _, id := range ds.UUIDs() {
					m[id] = report.FateArchivedBefore
				}
				return m
			},
		},
		{
			name: "a recording the list leaves out",
			setup: func(cfg *meetingtest.Config, ds meetingtest.Dataset) {
				cfg.Faults = append(cfg.Faults, meetingtest.Fault{Endpoint: "list", Kind: meetingtest.FaultOmit, ConfUUID: ds.Conferences[2].ConfUUID})
			},
			skip:     func(ds meetingtest.Dataset) []string { return []string{ds.Conferences[2].ConfUUID} },
			wantCode: 1,
			wantGaps: func(ds meetingtest.Dataset) map[string]gap {
				return map[string]gap{ds.Conferences[2].ConfUUID: {report.FateHistoryOnly, "the recording list has no such recording"}}
			},
			wantSentence: `^1 of 5 recordings the platform reports for this window is not archived or accounted for: [0-9a-f]{32} history-only \(`,
		},
		{
			name: "a recording listed but never archived",
			skip: func(ds meetingtest.Dataset) []string { return []string{ds.Conferences[4].ConfUUID} },
			wantGaps: func(ds meetingtest.Dataset) map[string]gap {
				return map[string]gap{ds.Conferences[4].ConfUUID: {report.FateNotArchived, "listed by the platform but not archived"}}
			},
			wantCode: 1,
		},
		{
			name: "a meeting the history leaves out (the list has it: nothing missing)",
			setup: func(cfg *meetingtest.Config, ds meetingtest.Dataset) {
				cfg.Faults = append(cfg.Faults, meetingtest.Fault{Endpoint: "history", Kind: meetingtest.FaultOmit, ConfUUID: ds.Conferences[1].ConfUUID})
			},
			wantCode:     0,
			wantSentence: `^5 of 5 recordings the platform reports for this window are archived or accounted for\.$`,
		},
		{
			name:         "a list whose count says two more than its pages hold",
			setup:        func(cfg *meetingtest.Config, _ meetingtest.Dataset) { cfg.ListCountDelta = 2 },
			wantCode:     1,
			wantFindings: []string{report.FindingListShort},
			wantSentence: `^2 of 7 recordings .* the recording list declared 7 recordings but its pages held 5: 2 not seen`,
		},
		{
			name:         "a list whose count says one fewer than its pages hold",
			setup:        func(cfg *meetingtest.Config, _ meetingtest.Dataset) { cfg.ListCountDelta = -1 },
			wantCode:     0,
			wantFindings: []string{report.FindingListOver},
			wantSentence: `^5 of 5 recordings .* archived or accounted for; note: the recording list declared 4 recordings but its pages held 5`,
		},
		{
			name:         "a history whose count says one more than its pages hold",
			setup:        func(cfg *meetingtest.Config, _ meetingtest.Dataset) { cfg.HistoryCountDelta = 1 },
			wantCode:     0, // its count includes meetings without recordings: a finding that loses nothing
			wantFindings: []string{report.FindingHistoryShort},
		},
		{
			name: "a conference deleted after it was archived",
			after: func(t *testing.T, sim *meetingtest.Server, ds meetingtest.Dataset) {
				if err := sim.DeleteConference(ds.Conferences[1].ConfUUID); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: 0,
			wantFates: func(ds meetingtest.Dataset) map[string]report.Fate {
				m := map[string]report.Fate{}
				for _, id := range ds.UUIDs() {
					m[id] = report.FateArchivedBefore
				}
				m[ds.Conferences[1].ConfUUID] = report.FateNotListed
				return m
			},
			// The platform reports four; the fifth is archived and has its line.
			wantSentence: `^4 of 4 recordings the platform reports for this window are archived or accounted for; the archive also holds 1 it no longer lists \(deleted on the platform after it was archived\)\.$`,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := reconcileDataset(int64(70 + i))
			cfg := meetingtest.Config{Dataset: ds, Seed: int64(70 + i), HistoryRetention: -1}
			if tt.setup != nil {
				tt.setup(&cfg, ds)
			}
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			dest := filepath.Join(dir, "archive")
			var skip []string
			if tt.skip != nil {
				skip = tt.skip(ds)
			}
			var in []string
			for _, id := range ds.UUIDs() {
				if !slices.Contains(skip, id) {
					in = append(in, id)
				}
			}
			if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, in...), "--dest", dest, "--out", filepath.Join(dir, "r1")); res.code != 0 {
				t.Fatalf("archiving run: exit %d\n%s", res.code, res.stderr)
			}
			if tt.after != nil {
				tt.after(t, sim, ds)
			}
			before := downloadCalls(sim)
			out := filepath.Join(dir, "r2")
			res := runBin(t, nearData(simEnv(sim)), "reconcile", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users", "--dest", dest, "--out", out)
			if res.code != tt.wantCode {
				t.Errorf("reconcile: exit %d, want %d\n%s", res.code, tt.wantCode, res.stderr)
			}
			if n := downloadCalls(sim) - before; n != 0 {
				t.Errorf("reconcile made %d calls of the details, download, media or delete APIs; want none", n)
			}
			assertReportFiles(t, out)
			c := readCompleteness(t, out)
			var want map[string]gap
			if tt.wantGaps != nil {
				want = tt.wantGaps(ds)
			}
			got := unaccountedOf(c)
			if len(got) != len(want) {
				t.Errorf("unaccounted %v, want %v", got, want)
			}
			for _, l := range c.Unaccounted {
				w, ok := want[l.ConfUUID]
				switch {
				case !ok:
					t.Errorf("%s is unaccounted (%s: %s); it should not be", l.ConfUUID, l.Fate, l.Hint)
				case l.Fate != w.fate || !strings.Contains(l.Hint, w.hint):
					t.Errorf("%s: %s (%s), want %s with a hint saying %q", l.ConfUUID, l.Fate, l.Hint, w.fate, w.hint)
				}
			}
			if codes := findingCodes(c); !slices.Equal(codes, tt.wantFindings) {
				t.Errorf("findings %v, want %v", c.Findings, tt.wantFindings)
			}
			lines := completenessLines(t, out)
			for _, m := range ds.Meetings {
				if _, ok := lines[m.ConfUUID]; ok {
					t.Errorf("meeting %s without a recording has a line", m.ConfUUID)
				}
			}
			if tt.wantFates != nil {
				wantFates := tt.wantFates(ds)
				if len(lines) != len(wantFates) {
					t.Errorf("%d lines, want %d: %v", len(lines), len(wantFates), lines)
				}
				for id, f := range wantFates {
					if lines[id] != f {
						t.Errorf("line of %s: %q, want %q", id, lines[id], f)
					}
				}
			}
			if tt.wantSentence != "" && !regexp.MustCompile(tt.wantSentence).MatchString(c.Sentence) {
				t.Errorf("sentence %q does not match %q", c.Sentence, tt.wantSentence)
			}
			s := readSummary(t, out)
			if v := s["verdict"].(map[string]any)["text"].(string); !strings.Contains(v, c.Sentence) {
				t.Errorf("verdict %q does not say the completeness sentence %q", v, c.Sentence)
			}
			hist := c.Sources[1]
			if hist.Name != report.SourceHistory || hist.Calls < 1 || hist.Error != "" {
				t.Errorf("history source %+v: want calls counted and no error", hist)
			}
		})
	}
}

// TestReconcileCommandUsage: reconcile's usage errors exit 2 and write
// nothing; --help lists every flag with its environment twin and the
// README documents each.
func TestReconcileCommandUsage(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"MEETARCHIVE_APP_ID": testAppID, "MEETARCHIVE_APP_KEY": testAppKey}
	tests := []struct {
		name string
		args []string
	}{
		{"no window", []string{"--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r")}},
		{"to before from", []string{"--from", "2024-05-02", "--to", "2024-05-01", "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r")}},
		{"no dest", []string{"--from", "2024-05-01", "--to", "2024-05-01", "--out", filepath.Join(dir, "r")}},
		{"no out", []string{"--from", "2024-05-01", "--to", "2024-05-01", "--dest", filepath.Join(dir, "a")}},
		{"out inside dest", []string{"--from", "2024-05-01", "--to", "2024-05-01", "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "a", "r")}},
		{"an argument", []string{"--from", "2024-05-01", "--to", "2024-05-01", "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r"), "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, env, append([]string{"reconcile"}, tt.args...)...)
			if res.code != 2 {
				t.Errorf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "r")); err == nil {
				t.Error("a usage error wrote a report directory")
			}
		})
	}
	t.Run("help", func(t *testing.T) {
		res := runBin(t, nil, "reconcile", "--help")
		if res.code != 0 || !strings.Contains(res.stderr, "usage: meetarchive reconcile") {
			t.Fatalf("reconcile --help: exit %d\n%s", res.code, res.stderr)
		}
		readme, err := os.ReadFile("README.md")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+).*\n.*\[\$(MEETARCHIVE_[A-Z0-9_]+)\]$`).FindAllStringSubmatch(res.stderr, -1) {
			n++
			if m[2] != envName(m[1]) {
				t.Errorf("--%s has the environment twin %s, want %s", m[1], m[2], envName(m[1]))
			}
			if !strings.Contains(string(readme), "--"+m[1]) {
				t.Errorf("reconcile --%s is not documented in README.md", m[1])
			}
		}
		if n < 10 {
			t.Errorf("reconcile --help lists %d flags with their environment twins, want every one\n%s", n, res.stderr)
		}
	})
}

// runWindowCase is one run that reconciles its window.
type runWindowCase struct {
	name     string
	setup    func(cfg *meetingtest.Config, ds meetingtest.Dataset)
	wantCode int
	// wantGaps are the unaccounted conferences and their fates;
	// wantFindings the findings' codes; wantArchived how many lines are
	// archived by the run.
	wantGaps     func(ds meetingtest.Dataset) map[string]report.Fate
	wantFindings []string
	wantArchived int
}

// TestRunFromToReconcilesItsWindow: a run over a date range reconciles its
// window after archiving, with the list it already fetched (one list
// paging, one history paging), names every gap with its fate and exits 1
// for one; a clean window says complete and exits 0.
func TestRunFromToReconcilesItsWindow(t *testing.T) {
	tests := []runWindowCase{
		{name: "a clean window", wantArchived: 5},
		{
			name: "a recording the list leaves out",
			setup: func(cfg *meetingtest.Config, ds meetingtest.Dataset) {
				cfg.Faults = append(cfg.Faults, meetingtest.Fault{Endpoint: "list", Kind: meetingtest.FaultOmit, ConfUUID: ds.Conferences[3].ConfUUID})
			},
			wantCode: 1,
			wantGaps: func(ds meetingtest.Dataset) map[string]report.Fate {
				return map[string]report.Fate{ds.Conferences[3].ConfUUID: report.FateHistoryOnly}
			},
			wantArchived: 4,
		},
		{
			name:         "a list whose count says two more",
			setup:        func(cfg *meetingtest.Config, _ meetingtest.Dataset) { cfg.ListCountDelta = 2 },
			wantCode:     1,
			wantFindings: []string{report.FindingListShort},
			wantArchived: 5,
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := reconcileDataset(int64(90 + i))
			cfg := meetingtest.Config{Dataset: ds, Seed: int64(90 + i), HistoryRetention: -1}
			if tt.setup != nil {
				tt.setup(&cfg, ds)
			}
			sim := meetingtest.Start(t, cfg)
			dir := t.TempDir()
			out := filepath.Join(dir, "r")
			res := runBin(t, nearData(simEnv(sim)), "run", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users",
				"--dest", filepath.Join(dir, "archive"), "--out", out)
			if res.code != tt.wantCode {
				t.Errorf("run: exit %d, want %d\n%s", res.code, tt.wantCode, res.stderr)
			}
			c := readCompleteness(t, out)
			checkWindow(t, c, tt, ds)
			if got := sim.Counters().Requests["list"]; got != int64(c.Sources[0].Calls) {
				t.Errorf("the list was asked %d times, the run's listing had %d pages: want no second paging", got, c.Sources[0].Calls)
			}
			if got := sim.Counters().Requests["history"]; got != int64(c.Sources[1].Calls) || got != 1 {
				t.Errorf("history calls: %d at the simulator, %d in the report; want 1 and the same", got, c.Sources[1].Calls)
			}
		})
	}
}

// checkWindow checks a run's completeness against the case: the gaps and
// nothing else, the findings, the archived lines, the verdict.
func checkWindow(t *testing.T, c *report.Completeness, tt runWindowCase, ds meetingtest.Dataset) {
	t.Helper()
	want := map[string]report.Fate{}
	if tt.wantGaps != nil {
		want = tt.wantGaps(ds)
	}
	got := unaccountedOf(c)
	if len(got) != len(want) {
		t.Errorf("unaccounted %v, want %v", got, want)
	}
	for id, f := range want {
		if got[id] != f {
			t.Errorf("%s: %q, want %q", id, got[id], f)
		}
	}
	for _, l := range c.Unaccounted {
		if l.Hint == "" {
			t.Errorf("%s has no hint", l.ConfUUID)
		}
	}
	if codes := findingCodes(c); !slices.Equal(codes, tt.wantFindings) {
		t.Errorf("findings %v, want %v", c.Findings, tt.wantFindings)
	}
	if n := c.Fates[report.FateArchived].Conferences; n != tt.wantArchived {
		t.Errorf("%d lines archived by the run, want %d (%v)", n, tt.wantArchived, c.Fates)
	}
	if !c.PlatformChecked || c.Window == "" {
		t.Errorf("window %q, platform checked %v: want both", c.Window, c.PlatformChecked)
	}
	if tt.wantCode == 0 && !regexp.MustCompile(`^\d+ of \d+ recordings the platform reports for this window are archived or accounted for[.;]`).MatchString(c.Sentence) {
		t.Errorf("sentence %q: want it complete", c.Sentence)
	}
}

// TestRunSinceLastReconcilesItsWindow: two --since-last runs. The first
// archives what the list shows and names the recording the list leaves
// out (exit 1), which it carries over; the second, after an archived
// conference was deleted on the platform, archives the one the list still
// leaves out (by its confUUID: it is carried, and outside the second
// window), says the deleted one is archived and no longer listed, and is
// complete (exit 0).
func TestRunSinceLastReconcilesItsWindow(t *testing.T) {
	ds := reconcileDataset(95)
	omitted, deleted := ds.Conferences[0].ConfUUID, ds.Conferences[3].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 95, HistoryRetention: -1,
		Faults: []meetingtest.Fault{{Endpoint: "list", Kind: meetingtest.FaultOmit, ConfUUID: omitted}}})
	dir := t.TempDir()
	dest := filepath.Join(dir, "archive")
	run := func(name string, now time.Time) (result, string) {
		env := simEnv(sim)
		env["MEETARCHIVE_TEST_NOW"] = now.Format(time.RFC3339)
		out := filepath.Join(dir, name)
		return runBin(t, env, "run", "--since-last", "--from", "2024-05-01", "--all-users", "--dest", dest, "--out", out), out
	}
	// Conferences at 08:00, 08:47, 09:34, 10:21 and 11:08 on 2024-05-01.
	res, out := run("r1", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	if res.code != 1 {
		t.Errorf("run 1: exit %d, want 1 (a recording the list leaves out)\n%s", res.code, res.stderr)
	}
	checkWindow(t, readCompleteness(t, out), runWindowCase{wantCode: 1, wantArchived: 4,
		wantGaps: func(meetingtest.Dataset) map[string]report.Fate {
			return map[string]report.Fate{omitted: report.FateHistoryOnly}
		}}, ds)
	// Exit 1 without a failed row: the pages and the terminal say what
	// made it (they said a conference "failed, was not found, was invalid
	// input or was cancelled", and "some items failed").
	if !strings.Contains(res.stderr, "meetarchive: the window is not complete; see the report: 1 recording of the window not accounted for") || strings.Contains(res.stderr, "some items failed") {
		t.Errorf("the last line does not say that only the window's completeness made exit 1\n%s", res.stderr)
	}
	for _, page := range []string{"summary.html", "attestation.html"} {
		if b := string(fileBytes(t, filepath.Join(out, page))); !strings.Contains(b, "Exit code 1 (failures): a recording the platform reports for the window is not archived or accounted for") {
			t.Errorf("%s does not say that only the window's completeness made exit 1", page)
		}
	}

	if err := sim.DeleteConference(deleted); err != nil {
		t.Fatal(err)
	}
	// Run 2's window starts 2h before run 1's end (11:30): 09:30 on.
	res, out = run("r2", time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC))
	if res.code != 0 {
		t.Errorf("run 2: exit %d, want 0\n%s", res.code, res.stderr)
	}
	c := readCompleteness(t, out)
	checkWindow(t, c, runWindowCase{wantCode: 0, wantArchived: 1}, ds) // the one the list leaves out, carried
	lines := completenessLines(t, out)
	if lines[deleted] != report.FateNotListed {
		t.Errorf("the conference deleted after it was archived: %q, want %q", lines[deleted], report.FateNotListed)
	}
	if lines[omitted] != report.FateArchived {
		t.Errorf("the recording the list leaves out: %q in run 2, want it archived (carried over from run 1)", lines[omitted])
	}
}

// TestRunInputReconcilesTheDestination: a run given only --input
// reconciles its input against the destination's commit marks, asks the
// platform nothing for it, and says the platform-side check needs a
// window.
func TestRunInputReconcilesTheDestination(t *testing.T) {
	ds := reconcileDataset(97)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 97, HistoryRetention: -1})
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "archive"), "--out", out)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	c := readCompleteness(t, out)
	if c.PlatformChecked || c.Window != "" || !slices.Equal(findingCodes(c), []string{report.FindingNoWindow}) {
		t.Errorf("window %q, platform checked %v, findings %v: want none, false, %s", c.Window, c.PlatformChecked, findingCodes(c), report.FindingNoWindow)
	}
	if c.Fates[report.FateArchived].Conferences != len(ds.Conferences) || !c.Complete() {
		t.Errorf("fates %v, complete %v: want every conference archived", c.Fates, c.Complete())
	}
	if !strings.Contains(c.Sentence, "the platform-side check needs a window") {
		t.Errorf("sentence %q does not say the platform-side check needs a window", c.Sentence)
	}
	if n := sim.Counters().Requests["list"] + sim.Counters().Requests["history"]; n != 0 {
		t.Errorf("an --input run asked the list or the history %d times", n)
	}
}

// TestReconcileS3: the reconciliation against the S3 server: the commit
// marks listed and read there, a recording the list leaves out named, one
// deleted on the platform after it was archived said archived and no
// longer listed.
func TestReconcileS3(t *testing.T) {
	ds := reconcileDataset(99)
	omitted, deleted := ds.Conferences[0].ConfUUID, ds.Conferences[4].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 99, HistoryRetention: -1,
		Faults: []meetingtest.Fault{{Endpoint: "list", Kind: meetingtest.FaultOmit, ConfUUID: omitted}}})
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	env := nearData(s3Env(sim, b))
	dest := b.URI("archive")
	dir := t.TempDir()
	var in []string
	for _, id := range ds.UUIDs() {
		if id != omitted {
			in = append(in, id)
		}
	}
	if res := runBin(t, env, "run", "--input", writeInput(t, dir, in...), "--dest", dest, "--out", filepath.Join(dir, "r1")); res.code != 0 {
		t.Fatalf("archiving run: exit %d\n%s", res.code, res.stderr)
	}
	if err := sim.DeleteConference(deleted); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "r2")
	res := runBin(t, env, "reconcile", "--from", "2024-05-01", "--to", "2024-05-01", "--all-users", "--dest", dest, "--out", out)
	if res.code != 1 {
		t.Errorf("reconcile: exit %d, want 1\n%s", res.code, res.stderr)
	}
	c := readCompleteness(t, out)
	if got := unaccountedOf(c); len(got) != 1 || got[omitted] != report.FateHistoryOnly {
		t.Errorf("unaccounted %v, want only %s history-only", got, omitted)
	}
	lines := completenessLines(t, out)
	want := map[string]report.Fate{omitted: report.FateHistoryOnly, deleted: report.FateNotListed}
	for _, id := range in[:3] {
		want[id] = report.FateArchivedBefore
	}
	if len(lines) != len(want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
	for id, f := range want {
		if lines[id] != f {
			t.Errorf("%s: %q, want %q", id, lines[id], f)
		}
	}
	if d := c.Sources[2]; d.Name != report.SourceDestination || d.Conferences != 4 || d.Calls != 2 {
		t.Errorf("destination source %+v: want 4 conferences, 2 calls (one ListObjectsV2, one GET of the deleted one's commit mark)", d)
	}
}

// TestReconcileCommandFatal: a list that cannot be read stops reconcile
// with exit 3 and a report that says why.
func TestReconcileCommandFatal(t *testing.T) {
	ds := reconcileDataset(98)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 98, HistoryRetention: -1,
		Faults: []meetingtest.Fault{{Endpoint: "list", Kind: meetingtest.FaultStatus, Status: 500}}})
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	env := simEnv(sim)
	env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
	res := runBin(t, env, "reconcile", "--from", "2024-05-01", "--to", "2024-05-01", "--dest", filepath.Join(dir, "a"), "--out", out)
	if res.code != 3 {
		t.Fatalf("reconcile: exit %d, want 3\n%s", res.code, res.stderr)
	}
	s, err := report.ReadSummary(filepath.Join(out, report.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	if s.ExitCode != 3 || !strings.Contains(s.Fatal, "list") || s.Completeness != nil || s.Verdict.Level != report.LevelRed {
		t.Errorf("summary: exit %d, fatal %q, completeness %v, verdict %+v; want 3, the list's error, none, red", s.ExitCode, s.Fatal, s.Completeness, s.Verdict)
	}
}
