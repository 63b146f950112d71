package bench

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"meetarchive/report"
)

var rowTime = time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)

// benchRows are n rows of a large run as the pipeline emits them: two files
// per conference, realistic field sizes, one failed file every 50 conferences.
func benchRows(n int) []report.Row {
	rows := make([]report.Row, n)
	for i := range rows {
		seq := i / 2
		id := fmt.Sprintf("%032x", seq*7919+1)
		r := report.Row{
			Seq: seq, ConfUUID: id, ConfID: fmt.Sprintf("9%08d", seq),
			Subject:       fmt.Sprintf("Quarterly business review %d: sales, pipeline & hiring", seq),
			ScheduserName: "Zhang Wei", StartTime: "2025-06-01 09:30", RecordingSecs: 3600,
			Status: report.Archived, FileIndex: i % 2, FileType: "Hd", FileName: fmt.Sprintf("0_%d.mp4", i%2),
			Bytes: 1<<30 - int64(i), SHA256: fmt.Sprintf("%064x", i*104729+3), VersionID: fmt.Sprintf("v%030d", i),
			LockMode: "COMPLIANCE", RetainUntil: rowTime.AddDate(10, 0, 0), Attempts: 1,
			FinishedAt: rowTime.Add(time.Duration(i) * time.Second),
		}
		r.PlatformSHA256 = r.SHA256
		r.ObjectURI = "s3://compliance-archive/meetings/2025/06/" + id + "/Hd_" + r.FileName
		if seq%50 == 0 && r.FileIndex == 1 {
			r.Status, r.ErrorCode, r.Attempts = report.Failed, "timeout", 5
			r.ErrorMessage = "export: media Hd/0_1.mp4: context deadline exceeded"
			r.ObjectURI, r.Bytes, r.SHA256, r.VersionID = "", 0, "", ""
		}
		rows[i] = r
	}
	return rows
}

// csvValue is row r's value of a manifest column, formatted plainly.
func csvValue(r *report.Row, col string) string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	switch col {
	case "seq":
		return strconv.Itoa(r.Seq)
	case "confUUID":
		return r.ConfUUID
	case "confID":
		return r.ConfID
	case "subject":
		return r.Subject
	case "scheduserName":
		return r.ScheduserName
	case "startTime":
		return r.StartTime
	case "recordingSecs":
		return strconv.Itoa(r.RecordingSecs)
	case "status":
		return string(r.Status)
	case "fileIndex":
		return strconv.Itoa(r.FileIndex)
	case "fileType":
		return r.FileType
	case "fileName":
		return r.FileName
	case "objectURI":
		return r.ObjectURI
	case "bytes":
		return strconv.FormatInt(r.Bytes, 10)
	case "sha256":
		return r.SHA256
	case "platformSha256":
		return r.PlatformSHA256
	case "versionId":
		return r.VersionID
	case "lockMode":
		return r.LockMode
	case "retainUntil":
		return ts(r.RetainUntil)
	case "legalHold":
		return strconv.FormatBool(r.LegalHold)
	case "deleted":
		return strconv.FormatBool(r.Deleted)
	case "attempts":
		return strconv.Itoa(r.Attempts)
	case "errorCode":
		return r.ErrorCode
	case "errorMessage":
		return r.ErrorMessage
	case "estimatedBytes":
		return strconv.FormatInt(r.EstimatedBytes, 10)
	case "finishedAt":
		return ts(r.FinishedAt)
	}
	return ""
}

// writeCSV is the report baseline: encoding/csv writing the rows, with the
// manifest's header, into one file.
func writeCSV(path string, rows []report.Row) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	cols := report.ManifestColumns()
	if err := w.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for i := range rows {
		for j, c := range cols {
			rec[j] = csvValue(&rows[i], c)
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Close()
}

// writeReport is ours: the pipeline's report writer fed every row, then closed.
func writeReport(dir string, rows []report.Row) (report.Summary, error) {
	w, err := report.NewWriter(dir, report.RunInfo{
		RunID: "bench", Version: "bench", Started: rowTime, Input: "uuids.csv",
		Dest: "s3://compliance-archive/meetings", Options: map[string]string{"keyTemplate": "{{.Year}}/{{.Month}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}"},
	})
	if err != nil {
		return report.Summary{}, err
	}
	for i := range rows {
		if err := w.Add(rows[i]); err != nil {
			_, _ = w.Close(report.ExitFatal)
			return report.Summary{}, err
		}
	}
	return w.Close(report.ExitFailures)
}

// benchReport: 100,000 rows through report.Writer versus encoding/csv.
func benchReport(t *testing.T, p params, tab *table) {
	rows := benchRows(p.Rows)
	root := t.TempDir()
	var oursHeap, baseHeap []float64
	ours := func(_ context.Context, round int) (time.Duration, error) {
		dir := filepath.Join(root, fmt.Sprintf("ours-%d", round))
		defer os.RemoveAll(dir)
		h := startHeap()
		start := time.Now()
		sum, err := writeReport(dir, rows)
		d := time.Since(start)
		oursHeap = append(oursHeap, h.Stop())
		if err != nil {
			return d, err
		}
		if sum.Files != p.Rows {
			return d, fmt.Errorf("summary counts %d files, want %d", sum.Files, p.Rows)
		}
		for _, name := range []string{report.ManifestCSV, report.ManifestXLSX, report.FailuresCSV, report.SummaryJSON} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				return d, fmt.Errorf("report output: %w", err)
			}
		}
		return d, nil
	}
	base := func(_ context.Context, round int) (time.Duration, error) {
		path := filepath.Join(root, fmt.Sprintf("base-%d.csv", round))
		defer os.Remove(path)
		h := startHeap()
		start := time.Now()
		err := writeCSV(path, rows)
		d := time.Since(start)
		baseHeap = append(baseHeap, h.Stop())
		return d, err
	}
	times := interleave(t, p.Rounds, []variant{{"report: ours", ours}, {"report: baseline", base}})
	tab.add(result{
		group: fmt.Sprintf("report (%d rows)", p.Rows), name: "write vs encoding/csv",
		ours: times[0], base: times[1],
		oursLabel:     "report.NewWriter + Add per row (journal) + Close: manifest.xlsx (3 sheets), manifest.csv, failures.csv, summary.json",
		baselineLabel: "encoding/csv writing the same rows (manifest columns) into one file",
	})
	tab.addMem(memResult{
		name: fmt.Sprintf("report of %d rows", p.Rows), oursMiB: maxOf(oursHeap), baseMiB: maxOf(baseHeap),
		budget: "(ours: report.Writer; baseline: encoding/csv; largest over the rounds; the rows are built beforehand, not counted)",
	})
	reportHeapScaling(t, p.Rows/10, tab)
}

// reportHeapScaling writes a tenth of the rows once, so the table shows
// whether the writer's heap grows with the row count (the design says it must
// not: excelize's streaming writer, rows read back from the journal).
func reportHeapScaling(t *testing.T, n int, tab *table) {
	if n < 10 {
		return
	}
	dir := filepath.Join(t.TempDir(), "small")
	rows := benchRows(n)
	h := startHeap()
	_, err := writeReport(dir, rows)
	peak := h.Stop()
	if err != nil {
		t.Fatalf("report of %d rows: %v", n, err)
	}
	tab.addMem(memResult{name: fmt.Sprintf("report of %d rows", n), oursMiB: peak, baseMiB: -1,
		budget: "(ours, one run: compare with the line above to see how the heap scales with rows)"})
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
