package main

import (
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"meetarchive/report"
)

// verifyFinding is one check of verify: an object read back, or a
// conference's sidecar checked against the manifest.
type verifyFinding struct {
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

// verifyReportHeader is the header of verify's --report CSV.
var verifyReportHeader = []string{"check", "status", "uri", "confUUID", "expectedBytes", "bytes", "expectedSHA256", "sha256", "error"}

// writeVerifyReport writes verify's findings to path as CSV, atomically
// (written aside and renamed): one line per check, in the order checked.
// Text cells are escaped and neutralised as the manifest's are.
func writeVerifyReport(path string, findings []verifyFinding) error {
	return report.WriteFileAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		_ = cw.Write(verifyReportHeader)
		for _, f := range findings {
			_ = cw.Write([]string{f.Check, f.Status, listCell(f.URI), listCell(f.ConfUUID),
				sizeCell(f.WantBytes), sizeCell(f.GotBytes), f.WantSHA256, f.GotSHA256, listCell(f.Err)})
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

// checkOutFile is nil when a file may be written at path: its directory
// exists and path is not a directory.
func checkOutFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory, not a file")
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return errors.New("its directory " + dir + " does not exist")
	case !st.IsDir():
		return errors.New(dir + " is not a directory")
	case unixAccessW(dir) != nil:
		return errors.New("its directory " + dir + " is not writable")
	}
	return nil
}
