package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// detailRows carry every field of the recording details answer: all known,
// all unknown, and a mix, with a token in the playback URL.
func detailRows() []Row {
	decode := time.Date(2026, 2, 27, 23, 59, 58, 0, time.FixedZone("CST", 8*3600))
	return []Row{
		{Seq: 0, ConfUUID: uuid(0), Status: Archived, FileType: "Hd", FileName: "0_0.mp4",
			RecordAuthType: ptr(2), IsDecodeFinish: ptr(true), Available: ptr(true),
			DecodeEndTime: decode, RcdSize: ptr(1536),
			PlaybackURL: "https://meeting.example.com/play?id=1&token=s3cr3tT0ken https://meeting.example.com/play?id=2&token=other",
			ObjectKey:   "meetings/2026/02/" + uuid(0) + "/Hd_0_0.mp4"},
		{Seq: 1, ConfUUID: uuid(1), Status: Unavailable},
		{Seq: 2, ConfUUID: uuid(2), Status: PendingTranscode,
			RecordAuthType: ptr(0), IsDecodeFinish: ptr(false), Available: ptr(false), RcdSize: ptr(0)},
	}
}

func TestDetailColumnsAtEnd(t *testing.T) {
	want := []string{"recordAuthType", "isDecodeFinish", "available", "decodeEndTimeUTC", "rcdSize", "playbackURL", "objectKey"}
	cols := ManifestColumns()
	if len(cols) < 25+len(want) {
		t.Fatalf("columns = %v, want the details after finishedAt", cols)
	}
	if got := cols[25 : 25+len(want)]; !reflect.DeepEqual(got, want) {
		t.Errorf("columns after finishedAt = %v, want %v", got, want)
	}
	// The columns before them keep their places (scripts read them by position).
	if cols[0] != "seq" || cols[24] != "finishedAt" {
		t.Errorf("columns 1 and 25 = %q, %q; want seq, finishedAt", cols[0], cols[24])
	}
}

func TestDetailColumnsCSV(t *testing.T) {
	dir := t.TempDir()
	rows := detailRows()
	writeRunKeep(t, dir, testInfo(), rows, ExitOK)

	f, err := os.Open(filepath.Join(dir, ManifestCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	tests := []struct {
		name string
		row  int
		col  string
		want string
	}{
		{"auth type", 0, "recordAuthType", "2"},
		{"decode finished", 0, "isDecodeFinish", "true"},
		{"available", 0, "available", "true"},
		{"decode end in UTC", 0, "decodeEndTimeUTC", "2026-02-27T15:59:58Z"},
		{"size", 0, "rcdSize", "1536"},
		{"playback token redacted", 0, "playbackURL", "https://meeting.example.com/play?id=1&token=REDACTED https://meeting.example.com/play?id=2&token=REDACTED"},
		{"object key", 0, "objectKey", "meetings/2026/02/" + uuid(0) + "/Hd_0_0.mp4"},
		{"unknown auth type", 1, "recordAuthType", ""},
		{"unknown decode state", 1, "isDecodeFinish", ""},
		{"unknown availability", 1, "available", ""},
		{"no decode end", 1, "decodeEndTimeUTC", ""},
		{"unknown size", 1, "rcdSize", ""},
		{"auth type zero", 2, "recordAuthType", "0"},
		{"decode not finished", 2, "isDecodeFinish", "false"},
		{"not available", 2, "available", "false"},
		{"size zero", 2, "rcdSize", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recs[tt.row+1][col[tt.col]]; got != tt.want {
				t.Errorf("row %d %s = %q, want %q", tt.row, tt.col, got, tt.want)
			}
		})
	}

	t.Run("round trip", func(t *testing.T) {
		var got []Row
		if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error {
			got = append(got, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for i, want := range rows {
			want = sanitizeRow(want)
			want.DecodeEndTime = want.DecodeEndTime.UTC()
			g := got[i]
			if !reflect.DeepEqual(g.RecordAuthType, want.RecordAuthType) || !reflect.DeepEqual(g.IsDecodeFinish, want.IsDecodeFinish) ||
				!reflect.DeepEqual(g.Available, want.Available) || !reflect.DeepEqual(g.RcdSize, want.RcdSize) ||
				!g.DecodeEndTime.Equal(want.DecodeEndTime) || g.PlaybackURL != want.PlaybackURL || g.ObjectKey != want.ObjectKey {
				t.Errorf("row %d read back = %+v, want %+v", i, g, want)
			}
		}
	})

	t.Run("journal carries no token", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, Journal))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "s3cr3tT0ken") {
			t.Error("journal holds the playback token")
		}
	})
}

func TestDetailColumnsXLSX(t *testing.T) {
	dir := t.TempDir()
	writeRunKeep(t, dir, testInfo(), detailRows(), ExitOK)
	f := openXLSX(t, dir)
	raw := excelize.Options{RawCellValue: true}
	tests := []struct {
		name     string
		row      int
		col      string
		wantType excelize.CellType
		want     string
	}{
		{"auth type is a number", 0, "recordAuthType", excelize.CellTypeUnset, "2"},
		{"decode finished is a boolean", 0, "isDecodeFinish", excelize.CellTypeBool, "1"},
		{"available is a boolean", 0, "available", excelize.CellTypeBool, "1"},
		{"size is a number", 0, "rcdSize", excelize.CellTypeUnset, "1536"},
		{"playback URL is text", 0, "playbackURL", excelize.CellTypeInlineString, "https://meeting.example.com/play?id=1&token=REDACTED https://meeting.example.com/play?id=2&token=REDACTED"},
		{"unknown availability is empty", 1, "available", excelize.CellTypeUnset, ""},
		{"unknown decode state is empty", 1, "isDecodeFinish", excelize.CellTypeUnset, ""},
		{"unknown size is empty", 1, "rcdSize", excelize.CellTypeUnset, ""},
		{"false is a boolean", 2, "available", excelize.CellTypeBool, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cell := cellName(t, colIndex(t, tt.col), tt.row+2)
			got, err := f.GetCellValue(SheetRecordings, cell, raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s = %q, want %q", cell, got, tt.want)
			}
			if typ, _ := f.GetCellType(SheetRecordings, cell); typ != tt.wantType {
				t.Errorf("%s type = %v, want %v", cell, typ, tt.wantType)
			}
		})
	}
	t.Run("decode end is a UTC date-time", func(t *testing.T) {
		cell := cellName(t, colIndex(t, "decodeEndTimeUTC"), 2)
		got, err := f.GetCellValue(SheetRecordings, cell, raw)
		if err != nil {
			t.Fatal(err)
		}
		serial, err := strconv.ParseFloat(got, 64)
		if err != nil {
			t.Fatalf("%s = %q, not a serial date: %v", cell, got, err)
		}
		tm, err := excelize.ExcelDateToTime(serial, false)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 2, 27, 15, 59, 58, 0, time.UTC); !tm.Round(time.Second).Equal(want) {
			t.Errorf("%s = %v, want %v", cell, tm, want)
		}
		shown, _ := f.GetCellValue(SheetRecordings, cell)
		if shown != "2026-02-27 15:59:58" {
			t.Errorf("%s shows %q, want 2026-02-27 15:59:58", cell, shown)
		}
	})
}
