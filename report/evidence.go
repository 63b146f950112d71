package report

import (
	"maps"
	"slices"
)

// FileTypeEvidence is the fileType of an evidence row: one of the
// platform's own answers about an archived conference (its details, the
// record info file list, the history detail, the attendee and the control
// records) stored as a JSON object beside its recordings (status archived
// or already-archived, with objectURI, bytes and sha256 like a recording),
// or, status unavailable and no object, an answer the run could not store
// (errorCode says why: not permitted, not deployed, no longer kept, failed).
//
// Evidence rows are about evidence, not recordings: they do not count
// toward their conference's status (Summary.Counts, the exit code, the
// verdict), Summary.Files or failures.csv; Summary.Evidence counts them.
// sha256sums.txt lists the stored ones like recordings.
const FileTypeEvidence = "evidence"

// IsEvidence reports whether r is an evidence row (FileTypeEvidence).
func (r *Row) IsEvidence() bool { return r.FileType == FileTypeEvidence }

// EvidenceSummary counts a run's evidence rows: summary.json's "evidence"
// and lines of the Summary sheet.
type EvidenceSummary struct {
	Objects int   `json:"objects"` // evidence objects stored by the run or found already archived
	Bytes   int64 `json:"bytes"`   // their bytes
	// Gaps counts the evidence objects that could not be stored, by
	// errorCode (evidence-not-permitted, evidence-not-deployed, ...).
	Gaps map[string]int `json:"gaps"`
}

// add counts one evidence row.
func (e *EvidenceSummary) add(r *Row) {
	switch {
	case r.Status.Stored() && r.ObjectKey != "":
		e.Objects++
		e.Bytes += r.Bytes
	case r.Status == Unavailable || r.Status.Failure():
		if e.Gaps == nil {
			e.Gaps = map[string]int{}
		}
		e.Gaps[r.ErrorCode]++
	}
}

// evidenceFields are the Summary sheet's lines for the evidence: objects,
// bytes, and one line per gap code (sorted).
func evidenceFields(e EvidenceSummary, bytesStyle int) []summaryField {
	fs := []summaryField{
		{"evidence objects", e.Objects, 0},
		{"evidence bytes", e.Bytes, bytesStyle},
	}
	for _, c := range slices.Sorted(maps.Keys(e.Gaps)) {
		fs = append(fs, summaryField{"evidence missing " + c, e.Gaps[c], 0})
	}
	return fs
}
