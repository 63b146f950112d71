package console

import (
	"bytes"
	"strings"
	"testing"

	"meetarchive/report"
)

// TestClosingEvidenceLine: the closing summary says how many evidence
// objects a run stored and which it could not, by code; nothing when it
// has neither.
func TestClosingEvidenceLine(t *testing.T) {
	tests := []struct {
		name string
		ev   report.EvidenceSummary
		want string // the line, "" none
	}{
		{"none", report.EvidenceSummary{Gaps: map[string]int{}}, ""},
		{"stored", report.EvidenceSummary{Objects: 25, Bytes: 37770}, "  evidence: 25 objects"},
		{"gaps", report.EvidenceSummary{Objects: 8, Gaps: map[string]int{"evidence-not-permitted": 3, "evidence-failed": 1}},
			"  evidence: 8 objects; not stored: 1 evidence-failed, 3 evidence-not-permitted (the recordings are archived; manifest.csv has a row for each)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			Closing(&b, 0, report.Summary{Counts: map[report.Status]int{report.Archived: 3}, Evidence: tc.ev}, 0, t.TempDir())
			var got string
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(l, "  evidence") {
					got = l
				}
			}
			if got != tc.want {
				t.Errorf("evidence line %q, want %q\nsummary:\n%s", got, tc.want, b.String())
			}
		})
	}
}
