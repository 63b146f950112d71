package report

import (
	"strings"
	"testing"
)

// TestCompletenessSentenceAccountsForEveryLine: the sentence says what is
// true of every line: how an input's conferences are accounted for, the
// lines the platform does not report for the window (deleted after they
// were archived, carried over from an earlier window), findings that
// lose nothing, and plurals.
func TestCompletenessSentenceAccountsForEveryLine(t *testing.T) {
	line := func(i int, f Fate, mod func(*CompletenessLine)) CompletenessLine {
		l := CompletenessLine{ConfUUID: uuid(i), Listed: true, Fate: f, Hint: "hint"}
		if mod != nil {
			mod(&l)
		}
		return l
	}
	deleted := func(l *CompletenessLine) { l.Listed, l.Stored = false, true }
	carried := func(l *CompletenessLine) { l.Listed, l.Stored, l.Status = false, true, Archived }
	tests := []struct {
		name     string
		window   string
		lines    []CompletenessLine
		findings []Finding
		want     string
	}{
		{
			name: "an input with a pending and an unavailable conference",
			lines: []CompletenessLine{line(1, FateArchived, nil), line(2, FateArchived, nil), line(3, FateArchivedBefore, nil),
				line(4, FateArchived, nil), line(5, FatePending, nil), line(6, FateUnavailable, nil)},
			findings: []Finding{{Code: FindingNoWindow, Text: "no window"}},
			want: "6 of 6 conferences of the input are archived or accounted for: 4 archived with their commit marks in the destination, " +
				"2 accounted for: 1 pending-transcode, 1 unavailable; the platform-side check needs a window (--from/--to or --since-last).",
		},
		{
			name:     "an input of one conference",
			lines:    []CompletenessLine{line(1, FateArchived, nil)},
			findings: []Finding{{Code: FindingNoWindow, Text: "no window"}},
			want:     "1 of 1 conference of the input is archived or accounted for: 1 archived with its commit mark in the destination; the platform-side check needs a window (--from/--to or --since-last).",
		},
		{
			name:   "a window the platform reports nothing for, four archived and deleted since",
			window: "w",
			lines: []CompletenessLine{line(1, FateNotListed, deleted), line(2, FateNotListed, deleted),
				line(3, FateNotListed, deleted), line(4, FateNotListed, deleted)},
			want: "the platform reports no recordings for this window; the archive also holds 4 it no longer lists (deleted on the platform after they were archived).",
		},
		{
			name:   "a run that archived a conference carried over",
			window: "w",
			lines:  []CompletenessLine{line(1, FateArchived, carried), line(2, FateNotListed, deleted), line(3, FateArchivedBefore, nil)},
			want: "1 of 1 recording the platform reports for this window is archived or accounted for; the archive also holds 1 it no longer lists " +
				"(deleted on the platform after it was archived); this run also took 1 conference carried over from an earlier window: 1 archived with its commit mark in the destination.",
		},
		{
			name:   "one recording not accounted for",
			window: "w",
			lines:  []CompletenessLine{line(1, FateNotArchived, nil)},
			want:   "1 of 1 recording the platform reports for this window is not archived or accounted for: " + uuid(1) + " not-archived (hint).",
		},
		{
			name:     "a history short of its count loses nothing",
			window:   "w",
			lines:    []CompletenessLine{line(1, FateArchivedBefore, nil), line(2, FateArchivedBefore, nil)},
			findings: []Finding{{Code: FindingHistoryShort, Text: "the meeting history declared 3 meetings but its pages held 2"}},
			want:     "2 of 2 recordings the platform reports for this window are archived or accounted for; note: the meeting history declared 3 meetings but its pages held 2.",
		},
		{
			name:     "a window older than the history keeps",
			window:   "w",
			lines:    []CompletenessLine{line(1, FateArchivedBefore, nil)},
			findings: []Finding{{Code: FindingHistoryRetention, Text: "the whole window is older than the meeting history keeps"}},
			want:     "1 of 1 recording the platform reports for this window is archived or accounted for; note: the whole window is older than the meeting history keeps.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Completeness{Window: tt.window, PlatformChecked: tt.window != "", Lines: tt.lines, Findings: tt.findings}
			c.Tally()
			if c.Sentence != tt.want {
				t.Errorf("sentence = %q\nwant       %q", c.Sentence, tt.want)
			}
		})
	}
}

// TestJudgeFindingsThatLoseNothing: a history-retention or
// history-count-short finding makes a green verdict amber and leaves the
// exit code alone; a gap with the run's own failures says "Action needed"
// once.
func TestJudgeFindingsThatLoseNothing(t *testing.T) {
	complete := func(fs ...Finding) *Completeness {
		c := &Completeness{Window: "w", Lines: []CompletenessLine{{ConfUUID: uuid(1), Listed: true, Fate: FateArchivedBefore, Hint: "h"}}, Findings: fs}
		c.Tally()
		return c
	}
	tests := []struct {
		name  string
		f     Findings
		level Level
	}{
		{"history-retention", Findings{Counts: map[Status]int{}, Completeness: complete(Finding{Code: FindingHistoryRetention, Text: "old"})}, LevelAmber},
		{"history-count-short", Findings{Counts: map[Status]int{}, Completeness: complete(Finding{Code: FindingHistoryShort, Text: "short"})}, LevelAmber},
		{"no finding", Findings{Counts: map[Status]int{}, Completeness: complete()}, LevelGreen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.f.Completeness.Complete() {
				t.Errorf("not complete: %q", tt.f.Completeness.Sentence)
			}
			if got := Judge(tt.f); got.Level != tt.level {
				t.Errorf("level %s (%s), want %s", got.Level, got.Text, tt.level)
			}
		})
	}
	t.Run("action needed once", func(t *testing.T) {
		c := &Completeness{Window: "w", Lines: []CompletenessLine{
			{ConfUUID: uuid(1), InHistory: true, Fate: FateHistoryOnly, Hint: "h"},
			{ConfUUID: uuid(2), Listed: true, Status: Failed, Fate: FateFailed, Hint: "h"},
		}}
		c.Tally()
		v := Judge(Findings{Counts: map[Status]int{Failed: 1}, ExitCode: ExitFailures, Completeness: c})
		if n := strings.Count(v.Text, "Action needed"); n != 1 || v.Level != LevelRed {
			t.Errorf("verdict %s %q: want red with \"Action needed\" once, got it %d times", v.Level, v.Text, n)
		}
	})
}
