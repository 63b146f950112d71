package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadManifestStrict: a manifest the writer wrote reads back clean,
// given-text confUUIDs included; each corrupt cell is a *CellError naming
// its line and column.
func TestReadManifestStrict(t *testing.T) {
	rows := append(mergeableRows(),
		Row{Seq: 100, ConfUUID: "../../etc/passwd", Status: InvalidInput, ErrorCode: "invalid-input"},
		Row{Seq: 101, ConfUUID: "=cmd|' /C calc'!A0", Status: InvalidInput, ErrorCode: "invalid-input"},
		Row{Seq: 102, ConfUUID: "", Status: InvalidInput, ErrorCode: "invalid-input"},
		Row{Seq: 103, ConfUUID: "bad\x1bline", Status: Cancelled, ErrorCode: CodeInterrupted},
		Row{Seq: 104, ConfUUID: uuid(50), Status: AlreadyArchived}, // a sidecar listing no file
	)
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), rows, ExitFailures)
	path := filepath.Join(dir, ManifestCSV)
	n := 0
	if err := ReadManifestStrict(path, func(Row) error { n++; return nil }); err != nil {
		t.Fatalf("the writer's own manifest: %v", err)
	}
	if n != len(rows) {
		t.Fatalf("read %d rows, want %d", n, len(rows))
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(orig)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int {
		for i, h := range recs[0] {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	first := func(status Status, file bool) int {
		for i, r := range recs[1:] {
			if r[col("status")] == string(status) && (r[col("fileName")] != "") == file {
				return i + 1
			}
		}
		t.Fatalf("no %s row", status)
		return -1
	}
	archived := first(Archived, true)
	tests := []struct {
		name, column, value string
		row                 int
	}{
		{"unknown status", "status", "archivXd", archived},
		{"short sha256", "sha256", "abc", archived},
		{"empty sha256 on an archived file", "sha256", "", archived},
		{"upper-case sha256", "sha256", strings.Repeat("AB", 32), archived},
		{"bad sha256 on a failed row", "sha256", "xyz", first(Failed, true)},
		{"NUL in objectURI", "objectURI", "/srv/a\x00b", archived},
		{"ESC in errorMessage", "errorMessage", "a\x1b[31mb", archived},
		{"CR in subject", "subject", "a\rb", archived},
		{"invalid UTF-8 in fileName", "fileName", "a\xffb", archived},
		{"negative seq", "seq", "-3", archived},
		{"seq not a number", "seq", "x", archived},
		{"negative bytes", "bytes", "-1", archived},
		{"negative attempts", "attempts", "-1", archived},
		{"confUUID a path", "confUUID", "../x", archived},
		{"confUUID upper case", "confUUID", strings.ToUpper(uuid(1)), archived},
		{"confUUID of a duplicate", "confUUID", "nope", first(DuplicateInput, false)},
		{"bad time", "finishedAt", "yesterday", archived},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			edited := make([][]string, len(recs))
			for i := range recs {
				edited[i] = append([]string(nil), recs[i]...)
			}
			edited[tc.row][col(tc.column)] = tc.value
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			if err := w.WriteAll(edited); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), ManifestCSV)
			if err := os.WriteFile(p, buf.Bytes(), 0o666); err != nil {
				t.Fatal(err)
			}
			cr := csv.NewReader(bytes.NewReader(buf.Bytes()))
			wantLine := 0
			for i := 0; i <= tc.row; i++ {
				if _, err := cr.Read(); err != nil {
					t.Fatal(err)
				}
				wantLine, _ = cr.FieldPos(col(tc.column))
			}
			err := ReadManifestStrict(p, func(Row) error { return nil })
			var ce *CellError
			if !errors.As(err, &ce) || !errors.Is(err, ErrBadCell) {
				t.Fatalf("err = %v, want a *CellError", err)
			}
			if ce.Column != tc.column || ce.Line != wantLine || ce.Path != p {
				t.Errorf("CellError at %s line %d column %s, want %s line %d column %s", ce.Path, ce.Line, ce.Column, p, wantLine, tc.column)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b\r") {
				t.Errorf("the error carries a raw control byte: %q", err)
			}
		})
	}
}

func TestCheckStoredRow(t *testing.T) {
	sha := strings.Repeat("a", 64)
	row := func(st Status, key, bytes string) (Row, func(string) (string, bool)) {
		r := Row{Status: st, ConfUUID: strings.Repeat("b", 32), FileName: "0_0.mp4", ObjectKey: key, SHA256: sha}
		cells := map[string]string{"objectKey": key, "bytes": bytes}
		return r, func(c string) (string, bool) { v, ok := cells[c]; return v, ok }
	}
	seen := map[string]int{}
	cases := []struct {
		name    string
		status  Status
		key     string
		bytes   string
		wantCol string
	}{
		{"sound", Archived, "2024/01/x/Hd_0_0.mp4", "10", ""},
		{"the same key again", AlreadyArchived, "2024/01/x/Hd_0_0.mp4", "10", "objectKey"},
		{"dot-dot", Archived, "a/../b", "10", "objectKey"},
		{"absolute", Archived, "/etc/passwd", "10", "objectKey"},
		{"empty segment", Archived, "a//b", "10", "objectKey"},
		{"no bytes", Archived, "a/c", "", "bytes"},
		{"no key (an older manifest)", Archived, "", "10", ""},
		{"a hash on a pending row", PendingTranscode, "", "", "sha256"},
	}
	for _, tc := range cases {
		r, raw := row(tc.status, tc.key, tc.bytes)
		if col, reason := checkStoredRow(&r, raw, seen); col != tc.wantCol {
			t.Errorf("%s: column %q (%s), want %q", tc.name, col, reason, tc.wantCol)
		}
	}
}
