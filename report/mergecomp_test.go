package report

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestReadCompletenessLines: the Completeness sheet's lines read back equal
// the lines written (Tally's order), every field.
func TestReadCompletenessLines(t *testing.T) {
	dir := t.TempDir()
	c := sampleCompleteness()
	c.Lines[1].StartTime = "not a time"
	writeWithCompleteness(t, dir, nil, c, ExitOK)
	got, err := ReadCompletenessLines(filepath.Join(dir, ManifestXLSX), len(c.Lines))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c.Lines) {
		t.Errorf("lines read =\n%+v\nwant\n%+v", got, c.Lines)
	}
	if _, err := ReadCompletenessLines(filepath.Join(dir, ManifestXLSX), len(c.Lines)-1); err == nil {
		t.Error("a sheet with more lines than the summary counts: no error")
	}
	plain := t.TempDir()
	writeWithCompleteness(t, plain, nil, nil, ExitOK)
	if _, err := ReadCompletenessLines(filepath.Join(plain, ManifestXLSX), 10); err == nil {
		t.Error("a workbook without a Completeness sheet: no error")
	}
}

// TestMergeCompleteness: shards of one window merge their completeness
// (lines, sources, findings about the whole list once) and the merged
// sentence, verdict and exit code are recomputed; shards of different
// windows, or where only some reconciled, merge none and say why.
func TestMergeCompleteness(t *testing.T) {
	const window = "2025-03-01T00:00:00Z..2025-03-31T23:59:59Z"
	sha := strings.Repeat("a", 64)
	archivedRow := func(i int) Row {
		return Row{Seq: 0, ConfUUID: uuid(i), Status: Archived, FileType: "Hd", FileName: "0_0.mp4", Bytes: 10, SHA256: sha, FinishedAt: t0}
	}
	line := func(i int, fate Fate, listed, inHistory bool) CompletenessLine {
		l := CompletenessLine{ConfUUID: uuid(i), Subject: "meeting", StartTime: "2025-03-02 10:00", Listed: listed, InHistory: inHistory, Fate: fate, Hint: "hint " + string(fate)}
		if fate == FateArchived {
			l.Stored, l.Status = true, Archived
		}
		return l
	}
	sources := func(listConfs, declared, distinct int) []CompletenessSource {
		return []CompletenessSource{
			{Name: SourceList, Conferences: listConfs, Declared: declared, Distinct: distinct, Calls: 2},
			{Name: SourceHistory, Conferences: listConfs, Declared: 9, Distinct: 9, Calls: 1},
			{Name: SourceDestination, Conferences: listConfs, Declared: -1, Calls: 3},
		}
	}
	short := Finding{Code: FindingListShort, Unaccounted: 1, Text: "the recording list declared 4 recordings but its pages held 3: 1 not seen"}
	type shard struct {
		comp *Completeness // nil: a shard without a reconciliation
		rows []Row
	}
	tests := []struct {
		name                 string
		shards               []shard
		searches             []string // each shard's --search, when not none
		wantNil              bool
		wantWarning          string // "" : none
		wantReported         int
		wantAccounted        int
		wantConfs            int
		wantUnaccounted      int
		wantUnaccountedLines int
		wantFindings         int
		wantListCalls        int
		wantListConfs        int
		wantExit             int
		wantSentence         string
	}{
		{
			name: "two shards, complete",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(2, 3, 3),
					Lines: []CompletenessLine{line(1, FateArchived, true, true), line(2, FateArchivedBefore, true, true)}}, []Row{archivedRow(1)}},
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 3, 3),
					Lines: []CompletenessLine{line(3, FateArchived, true, false)}}, []Row{archivedRow(3)}},
			},
			wantReported: 3, wantAccounted: 3, wantConfs: 3, wantListCalls: 4, wantListConfs: 3, wantExit: ExitOK,
			wantSentence: "3 of 3 recordings the platform reports for this window are archived or accounted for.",
		},
		{
			name: "a count finding in every shard counts once",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(2, 4, 3), Findings: []Finding{short},
					Lines: []CompletenessLine{line(1, FateArchived, true, true), line(2, FateArchivedBefore, true, true)}}, []Row{archivedRow(1)}},
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 4, 3), Findings: []Finding{short},
					Lines: []CompletenessLine{line(3, FateArchived, true, false)}}, []Row{archivedRow(3)}},
			},
			wantReported: 4, wantAccounted: 3, wantConfs: 3, wantUnaccounted: 1, wantFindings: 1, wantListCalls: 4, wantListConfs: 3, wantExit: ExitFailures,
			wantSentence: "1 of 4 recordings the platform reports for this window is not archived or accounted for: " + short.Text + ".",
		},
		{
			name: "a gap in one shard, a conference in both shards once",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 2, 2),
					Lines: []CompletenessLine{line(1, FateArchived, true, true), line(5, FateHistoryOnly, false, true)}}, []Row{archivedRow(1)}},
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 2, 2),
					Lines: []CompletenessLine{line(5, FateHistoryOnly, false, true)}}, nil},
			},
			wantReported: 2, wantAccounted: 1, wantConfs: 2, wantUnaccounted: 1, wantUnaccountedLines: 1, wantListCalls: 4, wantListConfs: 2, wantExit: ExitFailures,
			wantSentence: "1 of 2 recordings the platform reports for this window is not archived or accounted for: " + uuid(5) + " history-only (hint history-only).",
		},
		{
			name: "different windows: none, and a warning",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 1, 1), Lines: []CompletenessLine{line(1, FateArchived, true, true)}}, []Row{archivedRow(1)}},
				{&Completeness{Window: "2025-04-01T00:00:00Z..2025-04-30T23:59:59Z", PlatformChecked: true, Sources: sources(1, 1, 1), Lines: []CompletenessLine{line(3, FateArchived, true, true)}}, []Row{archivedRow(3)}},
			},
			wantNil: true, wantWarning: "the shards reconciled different windows", wantExit: ExitOK,
		},
		{
			name: "different filters: none, and a warning",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 1, 1), Lines: []CompletenessLine{line(1, FateArchived, true, true)}}, []Row{archivedRow(1)}},
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 1, 1), Lines: []CompletenessLine{line(3, FateArchived, true, true)}}, []Row{archivedRow(3)}},
			},
			searches: []string{"", "board"},
			wantNil:  true, wantWarning: `the shards listed the window with different filters`, wantExit: ExitOK,
		},
		{
			name: "one shard's reconciliation failed: none, and a warning",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 1, 1), Lines: []CompletenessLine{line(1, FateArchived, true, true)}}, []Row{archivedRow(1)}},
				{&Completeness{Window: window, Findings: []Finding{{Code: FindingDestUnread, Unaccounted: 1, Text: "the window could not be reconciled (boom)"}}}, []Row{archivedRow(3)}},
			},
			wantNil: true, wantWarning: "did not (its completeness: 1 of 1 recording", wantExit: ExitFailures,
		},
		{
			name: "one shard without completeness: none, and a warning",
			shards: []shard{
				{&Completeness{Window: window, PlatformChecked: true, Sources: sources(1, 1, 1), Lines: []CompletenessLine{line(1, FateArchived, true, true)}}, []Row{archivedRow(1)}},
				{nil, []Row{archivedRow(3)}},
			},
			wantNil: true, wantWarning: "no completeness in the merged report: the report in ", wantExit: ExitOK,
		},
		{
			name:    "no shard reconciled: none, no warning",
			shards:  []shard{{nil, []Row{archivedRow(1)}}, {nil, []Row{archivedRow(3)}}},
			wantNil: true, wantExit: ExitOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dirs []string
			for k, s := range tt.shards {
				d := t.TempDir()
				writeWithCompletenessInfo(t, d, s.rows, s.comp, func(i *RunInfo) {
					if k < len(tt.searches) && tt.searches[k] != "" {
						i.Options[OptionSearch] = tt.searches[k]
					}
				}, ExitOK)
				dirs = append(dirs, d)
			}
			out := filepath.Join(t.TempDir(), "merged")
			sum, err := Merge(out, dirs)
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if sum.ExitCode != tt.wantExit {
				t.Errorf("exit code %d, want %d", sum.ExitCode, tt.wantExit)
			}
			var warned []string
			for _, w := range sum.Warnings {
				if strings.Contains(w, "completeness") {
					warned = append(warned, w)
				}
			}
			if tt.wantWarning == "" && len(warned) > 0 || tt.wantWarning != "" && (len(warned) != 1 || !strings.Contains(warned[0], tt.wantWarning)) {
				t.Errorf("warnings %q, want one with %q", sum.Warnings, tt.wantWarning)
			}
			read, err := ReadSummary(filepath.Join(out, SummaryJSON))
			if err != nil {
				t.Fatal(err)
			}
			c := read.Completeness
			if tt.wantNil {
				if c != nil || sum.Completeness != nil {
					t.Fatalf("merged completeness %+v, want none", c)
				}
				if _, err := ReadCompletenessLines(filepath.Join(out, ManifestXLSX), 1000); err == nil {
					t.Error("a merged workbook without completeness has a Completeness sheet")
				}
				return
			}
			if c == nil {
				t.Fatal("merged summary.json has no completeness")
			}
			if c.Window != window || c.Reported != tt.wantReported || c.Accounted != tt.wantAccounted || c.Conferences != tt.wantConfs {
				t.Errorf("window %q, reported %d, accounted %d, conferences %d; want %q, %d, %d, %d",
					c.Window, c.Reported, c.Accounted, c.Conferences, window, tt.wantReported, tt.wantAccounted, tt.wantConfs)
			}
			if got := sum.Completeness.UnaccountedCount(); got != tt.wantUnaccounted {
				t.Errorf("unaccounted %d, want %d", got, tt.wantUnaccounted)
			}
			if len(c.Unaccounted) != tt.wantUnaccountedLines || len(c.Findings) != tt.wantFindings {
				t.Errorf("%d unaccounted lines, %d findings; want %d, %d", len(c.Unaccounted), len(c.Findings), tt.wantUnaccountedLines, tt.wantFindings)
			}
			if c.Sentence != tt.wantSentence {
				t.Errorf("sentence\n%q\nwant\n%q", c.Sentence, tt.wantSentence)
			}
			if !strings.Contains(read.Verdict.Text, c.Sentence) {
				t.Errorf("verdict %q does not say the sentence", read.Verdict.Text)
			}
			if (tt.wantExit == ExitOK) != (read.Verdict.Level != LevelRed) {
				t.Errorf("verdict level %s with exit %d", read.Verdict.Level, tt.wantExit)
			}
			list := c.Sources[0]
			if list.Name != SourceList || list.Calls != tt.wantListCalls || list.Conferences != tt.wantListConfs || list.Declared != tt.shards[0].comp.Sources[0].Declared {
				t.Errorf("list source %+v: want calls %d, conferences %d, the declared count once", list, tt.wantListCalls, tt.wantListConfs)
			}
			if len(c.Sources) != 3 || c.Sources[2].Calls != 6 || c.Sources[2].Declared != -1 {
				t.Errorf("sources %+v: want list, history, destination (calls summed)", c.Sources)
			}
			lines, err := ReadCompletenessLines(filepath.Join(out, ManifestXLSX), c.Conferences)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != tt.wantConfs {
				t.Errorf("merged Completeness sheet: %d lines, want %d", len(lines), tt.wantConfs)
			}
		})
	}
}
