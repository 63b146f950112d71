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
