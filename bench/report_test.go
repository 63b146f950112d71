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

// benchRow is row i of a large run as the pipeline emits it: two files per
// conference, realistic field sizes, one failed file every 50 conferences.
func benchRow(i int) report.Row {
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
	return r
}

// rowSource yields n rows: prebuilt for the timed runs (building them is not
// what is measured), built on the fly for the heap runs (as the pipeline
// hands rows over and forgets them, so the heap before the run stays small).
type rowSource struct {
	n     int
	built []report.Row
}

func (s rowSource) row(i int) report.Row {
	if s.built != nil {
		return s.built[i]
	}
	return benchRow(i)
}

func prebuilt(n int) rowSource {
	rows := make([]report.Row, n)
	for i := range rows {
		rows[i] = benchRow(i)
	}
	return rowSource{n: n, built: rows}
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
func writeCSV(path string, rows rowSource) error {
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
	for i := range rows.n {
		r := rows.row(i)
		for j, c := range cols {
			rec[j] = csvValue(&r, c)
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
func writeReport(dir string, rows rowSource) (report.Summary, error) {
	w, err := report.NewWriter(dir, report.RunInfo{
		RunID: "bench", Version: "bench", Started: rowTime, Input: "uuids.csv",
		Dest: "s3://compliance-archive/meetings", Options: map[string]string{"keyTemplate": "{{.Year}}/{{.Month}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}"},
	})
	if err != nil {
		return report.Summary{}, err
	}
	for i := range rows.n {
		if err := w.Add(rows.row(i)); err != nil {
			_, _ = w.Close(report.ExitFatal)
			return report.Summary{}, err
		}
	}
	return w.Close(report.ExitFailures)
}

// benchReport: 100,000 rows through report.Writer versus encoding/csv, then
// the writer's heap in runs of their own (untimed, rows built on the fly).
func benchReport(t *testing.T, p params, tab *table) {
	rows := prebuilt(p.Rows)
	root := t.TempDir()
	ours := func(_ context.Context, round int) (time.Duration, error) {
		dir := filepath.Join(root, fmt.Sprintf("ours-%d", round))
		defer os.RemoveAll(dir)
		start := time.Now()
		sum, err := writeReport(dir, rows)
		d := time.Since(start)
		if err != nil {
			return d, err
		}
		return d, checkReport(dir, sum, p.Rows)
	}
	base := func(_ context.Context, round int) (time.Duration, error) {
		path := filepath.Join(root, fmt.Sprintf("base-%d.csv", round))
		defer os.Remove(path)
		start := time.Now()
		err := writeCSV(path, rows)
		return time.Since(start), err
	}
	times := interleave(t, p.Rounds, []variant{{"report: ours", ours}, {"report: baseline", base}})
	tab.add(result{
		group: fmt.Sprintf("report (%d rows)", p.Rows), name: "write vs encoding/csv",
		ours: times[0], base: times[1],
		oursLabel:     "report.NewWriter + Add per row (journal) + Close: manifest.xlsx (3 sheets), manifest.csv, failures.csv, summary.json",
		baselineLabel: "encoding/csv writing the same rows (manifest columns) into one file",
	})
	rows = rowSource{} // let the prebuilt rows go before measuring the heap

	for _, n := range []int{p.Rows, p.Rows / 10} {
		if n < 1 {
			continue
		}
		src := rowSource{n: n}
		dir := filepath.Join(root, fmt.Sprintf("heap-%d", n))
		h := startHeap()
		sum, err := writeReport(dir, src)
		inuse := h.Stop()
		if err == nil {
			err = checkReport(dir, sum, n)
		}
		if err != nil {
			t.Fatalf("report of %d rows: %v", n, err)
		}
		os.RemoveAll(dir)

		live := startLiveHeap()
		_, err = writeReport(dir, src)
		liveMiB := live.Stop()
		if err != nil {
			t.Fatalf("report of %d rows: %v", n, err)
		}
		os.RemoveAll(dir)

		baseMiB := -1.0
		if n == p.Rows {
			path := filepath.Join(root, "heap.csv")
			h := startHeap()
			err := writeCSV(path, src)
			baseMiB = h.Stop()
			if err != nil {
				t.Fatalf("csv of %d rows: %v", n, err)
			}
			os.Remove(path)
		}
		tab.addMem(memResult{
			name: fmt.Sprintf("report of %d rows", n), oursMiB: inuse, baseMiB: baseMiB,
			budget: fmt.Sprintf("(ours: report.Writer, live heap after GC at most %.1f MiB; baseline: encoding/csv)", liveMiB),
		})
	}
}

// checkReport checks that a report run wrote its files and counted every row.
func checkReport(dir string, sum report.Summary, n int) error {
	if sum.Files != n {
		return fmt.Errorf("summary counts %d files, want %d", sum.Files, n)
	}
	for _, name := range []string{report.ManifestCSV, report.ManifestXLSX, report.FailuresCSV, report.SummaryJSON} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("report output: %w", err)
		}
	}
	return nil
}
