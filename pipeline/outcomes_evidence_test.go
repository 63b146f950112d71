package pipeline

import (
	"testing"

	"meetarchive/report"
)

// An evidence gap (status unavailable, fileType evidence) never decides a
// recording's fate in the reconciliation: the conference stays archived.
func TestOutcomesIgnoreEvidenceRows(t *testing.T) {
	const conf = "0123456789abcdef0123456789abcdef"
	o := NewOutcomes()
	o.Note(report.Row{ConfUUID: conf, Status: report.Archived, FileType: "Hd", FileName: "0_0.mp4"})
	o.Note(report.Row{ConfUUID: conf, Status: report.Unavailable, FileType: report.FileTypeEvidence, FileName: "attendees.json", ErrorCode: string(CodeEvidenceNotPermitted)})
	if got := o.m[conf].status; got != report.Archived {
		t.Errorf("status of a conference with an evidence gap = %q, want %q", got, report.Archived)
	}
}
