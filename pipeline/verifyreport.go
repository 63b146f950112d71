package pipeline

import (
	"encoding/csv"
	"io"
	"strconv"

	"meetarchive/report"
)

// VerifyFinding is one check of verify: an object read back, or a
// conference's sidecar checked against the manifest.
type VerifyFinding struct {
	Check      string // "object" or "sidecar"
	Status     string // ok, missing, mismatch, error
	URI        string
	ConfUUID   string // "" when the check came from --sums
	WantBytes  int64  // -1 when not known
	GotBytes   int64  // -1 when not read
	WantSHA256 string
	GotSHA256  string
	Err        string
}

// VerifyReportHeader is the header of verify's --report CSV.
var VerifyReportHeader = []string{"check", "status", "uri", "confUUID", "expectedBytes", "bytes", "expectedSHA256", "sha256", "error"}

// WriteVerifyReport writes verify's findings to path as CSV, atomically
// (written aside and renamed): one line per check, in the order checked.
// Text cells are escaped and neutralised as the manifest's are.
func WriteVerifyReport(path string, findings []VerifyFinding) error {
	return report.WriteFileAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		_ = cw.Write(VerifyReportHeader)
		for _, f := range findings {
			_ = cw.Write([]string{f.Check, f.Status, report.TextCell(f.URI), report.TextCell(f.ConfUUID),
				sizeCell(f.WantBytes), sizeCell(f.GotBytes), f.WantSHA256, f.GotSHA256, report.TextCell(f.Err)})
		}
		cw.Flush()
		return cw.Error()
	})
}

// sizeCell is a byte count, "" when not known (negative).
func sizeCell(n int64) string {
	if n < 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}
