package report

import "testing"

// TestSummaryExitMeaning: an exit 1 that only the window's completeness
// made says so; a tester read "some conference failed, was not found, was
// invalid input or was cancelled" on a run where none had.
func TestSummaryExitMeaning(t *testing.T) {
	gap := &Completeness{Reported: 8, Accounted: 7, Unaccounted: []CompletenessLine{{ConfUUID: "a", Fate: FateHistoryOnly}}}
	short := &Completeness{Reported: 10, Accounted: 8, Findings: []Finding{{Code: FindingListShort, Unaccounted: 2}}}
	complete := &Completeness{Reported: 8, Accounted: 8}
	onlyWindow := "a recording the platform reports for the window is not archived or accounted for (see Completeness); every conference this run handled is accounted for"
	tests := []struct {
		name string
		s    Summary
		want string
	}{
		{"a history-only gap, every row archived", Summary{ExitCode: ExitFailures, Counts: map[Status]int{Archived: 7}, Completeness: gap}, onlyWindow},
		{"a short list, every row archived", Summary{ExitCode: ExitFailures, Counts: map[Status]int{Archived: 8}, Completeness: short}, onlyWindow},
		{"a failed conference and a gap", Summary{ExitCode: ExitFailures, Counts: map[Status]int{Archived: 6, Failed: 1}, Completeness: gap}, ExitMeaning(ExitFailures)},
		{"a failed conference, no window", Summary{ExitCode: ExitFailures, Counts: map[Status]int{Failed: 1}}, ExitMeaning(ExitFailures)},
		{"complete", Summary{ExitCode: ExitOK, Counts: map[Status]int{Archived: 8}, Completeness: complete}, ExitMeaning(ExitOK)},
		{"fatal with a gap", Summary{ExitCode: ExitFatal, Counts: map[Status]int{Archived: 7}, Completeness: gap}, ExitMeaning(ExitFatal)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SummaryExitMeaning(&tc.s); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestUnnamedGaps: only a short recording list holds a --since-last state
// (its lost recordings have no name to carry); a reconciliation that
// failed, whose finding also counts a recording unaccounted for, does not
// (a reviewer found the state frozen, the log blaming the list).
func TestUnnamedGaps(t *testing.T) {
	tests := []struct {
		name     string
		findings []Finding
		want     int
	}{
		{"none", nil, 0},
		{"a short list", []Finding{{Code: FindingListShort, Unaccounted: 2}}, 2},
		{"the destination unread", []Finding{{Code: FindingDestUnread, Unaccounted: 1}}, 0},
		{"both", []Finding{{Code: FindingDestUnread, Unaccounted: 1}, {Code: FindingListShort, Unaccounted: 3}}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(t.TempDir(), testInfo())
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(ExitOK)
			if tc.findings != nil {
				w.SetCompleteness(&Completeness{Window: "w", Findings: tc.findings})
			}
			if got := w.UnnamedGaps(); got != tc.want {
				t.Errorf("UnnamedGaps = %d, want %d", got, tc.want)
			}
		})
	}
}
