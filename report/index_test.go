package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestEntryList(t *testing.T) {
	for _, n := range []int{0, 1, entryChunk - 1, entryChunk, entryChunk + 1, 2*entryChunk + 5} {
		t.Run("", func(t *testing.T) {
			var l entryList
			for i := range n {
				l.add(entry{pos: uint64(i) << entryLenBits, seq: int32(i)})
			}
			if got := l.len(); got != n {
				t.Fatalf("len = %d, want %d", got, n)
			}
			got := l.flatten()
			if len(got) != n {
				t.Fatalf("flatten: %d entries, want %d", len(got), n)
			}
			for i, e := range got {
				if e.off() != int64(i) || e.seq != int32(i) {
					t.Fatalf("entry %d = %+v, want off and seq %d", i, e, i)
				}
			}
			if l.len() != 0 || len(l.chunks) != 0 {
				t.Errorf("after flatten: len %d, %d chunks, want empty", l.len(), len(l.chunks))
			}
		})
	}
}

func TestConfStatus(t *testing.T) {
	var c confStatus
	if _, ok := c.get(7); ok {
		t.Fatal("empty: seq 7 has a status")
	}
	sets := []struct {
		seq int32
		id  uint8
	}{{0, 0}, {1, 3}, {confPage - 1, 254}, {confPage, 1}, {1 << 30, 2}, {1, 4}}
	for _, s := range sets {
		c.set(s.seq, s.id)
	}
	for _, tc := range []struct {
		name string
		seq  int32
		want uint8
		ok   bool
	}{
		{"first", 0, 0, true},
		{"overwritten", 1, 4, true},
		{"end of page", confPage - 1, 254, true},
		{"next page", confPage, 1, true},
		{"far", 1 << 30, 2, true},
		{"unset in a page", 2, 0, false},
		{"unset page", 3 * confPage, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := c.get(tc.seq)
			if got != tc.want || ok != tc.ok {
				t.Errorf("get(%d) = %d, %v; want %d, %v", tc.seq, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIDSet(t *testing.T) {
	s := newIDSet()
	for _, tc := range []struct {
		name, id string
		want     bool
	}{
		{"new UUID", "1027c4d1c386bbc4cd613e30d8f16adf", true},
		{"same UUID", "1027c4d1c386bbc4cd613e30d8f16adf", false},
		{"other UUID", "1027c4d1c386bbc4cd613e30d8f16ade", true},
		{"upper case is another id", "1027C4D1C386BBC4CD613E30D8F16ADF", true},
		{"upper case again", "1027C4D1C386BBC4CD613E30D8F16ADF", false},
		{"not hex", "not-a-uuid-12", true},
		{"not hex again", "not-a-uuid-12", false},
		{"31 digits", "1027c4d1c386bbc4cd613e30d8f16ad", true},
		{"empty", "", true},
		{"empty again", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.add(tc.id); got != tc.want {
				t.Errorf("add(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
	if k, ok := hexUUID("00ff00000000000000000000000000a1"); !ok || k[0] != 0 || k[1] != 0xff || k[15] != 0xa1 {
		t.Errorf("hexUUID = %x, %v", k, ok)
	}
}

// TestCSVZerosBlank: manifest.csv and the workbook leave out the zeros
// that say nothing, keep those that do, and manifest.csv reads back to the
// same row.
func TestCSVZerosBlank(t *testing.T) {
	for _, tc := range []struct {
		name string
		row  Row
		want map[string]string
	}{
		{"conference-level row", Row{Seq: 1, ConfUUID: "u", Status: Cancelled, ErrorCode: "fatal"},
			map[string]string{"recordingSecs": "", "fileIndex": "", "bytes": "", "legalHold": "", "deleted": "", "attempts": "", "estimatedBytes": ""}},
		{"file row", Row{Seq: 2, ConfUUID: "u", Status: Failed, FileName: "0_1.mp4", Attempts: 5},
			map[string]string{"recordingSecs": "", "fileIndex": "0", "bytes": "0", "legalHold": "false", "deleted": "false", "attempts": "5", "estimatedBytes": ""}},
		{"set values stay", Row{Seq: 3, ConfUUID: "u", Status: Archived, RecordingSecs: 60, FileIndex: 1, ObjectURI: "s3://b/k", Bytes: 7, LegalHold: true, Attempts: 1, EstimatedBytes: 9},
			map[string]string{"recordingSecs": "60", "fileIndex": "1", "bytes": "7", "legalHold": "true", "deleted": "false", "attempts": "1", "estimatedBytes": "9"}},
		{"non-zero on a conference-level row stays", Row{Seq: 4, ConfUUID: "u", Status: Failed, Bytes: 3, Deleted: true},
			map[string]string{"bytes": "3", "deleted": "true", "fileIndex": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRun(t, dir, testInfo(), []Row{tc.row}, ExitFailures)
			recs := readCSV(t, filepath.Join(dir, ManifestCSV))
			for col, want := range tc.want {
				if got := recs[1][colIndex(t, col)-1]; got != want {
					t.Errorf("%s = %q, want %q", col, got, want)
				}
			}
			f := openXLSX(t, dir)
			for col, want := range tc.want {
				got, err := f.GetCellValue(SheetRecordings, cellName(t, colIndex(t, col), 2))
				if err != nil {
					t.Fatal(err)
				}
				if (got == "") != (want == "") {
					t.Errorf("workbook %s = %q, want a cell %v", col, got, want != "")
				}
			}
			var back []Row
			if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error { back = append(back, r); return nil }); err != nil {
				t.Fatal(err)
			}
			want := sanitizeRow(tc.row)
			want.FinishedAt = back[0].FinishedAt
			if !reflect.DeepEqual(back[0], want) {
				t.Errorf("read back %+v\nwant %+v", back[0], want)
			}
		})
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestNewEntry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seq    int
		off    int64
		n      int
		wantOK bool
	}{
		{"small", 3, 100, 50, true},
		{"largest line", 1, 1 << 39, maxEntryLen, true},
		{"largest offset", 1, maxEntryOff, 1, true},
		{"line too long", 1, 0, maxEntryLen + 1, false},
		{"offset too large", 1, maxEntryOff + 1, 1, false},
		{"negative seq", -1, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := newEntry(&Row{Seq: tc.seq, FileIndex: 2}, tc.off, tc.n)
			if (err == nil) != tc.wantOK {
				t.Fatalf("err = %v, want ok %v", err, tc.wantOK)
			}
			if tc.wantOK && (e.off() != tc.off || e.n() != tc.n || e.seq != int32(tc.seq) || e.file != 2) {
				t.Errorf("entry = off %d n %d seq %d file %d, want %d %d %d 2", e.off(), e.n(), e.seq, e.file, tc.off, tc.n, tc.seq)
			}
		})
	}
}

func (l *entryList) len() int { return l.n }
