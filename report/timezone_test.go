package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestTimeZone: with RunInfo.TimeZone the rows get their start time on that
// zone's wall clock (manifest.csv and the Recordings sheet), the UTC
// startTime stays as the platform gave it, and summary.json and the
// Summary sheet say the platform's times are UTC and which zone
// startTimeLocal is in. An unknown zone is refused.
func TestTimeZone(t *testing.T) {
	const conf = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name, zone, start, wantLocal, wantZone string
	}{
		{name: "Berlin, summer, next day", zone: "Europe/Berlin", start: "2024-05-01 22:30", wantLocal: "2024-05-02 00:30", wantZone: "Europe/Berlin"},
		{name: "Berlin, winter", zone: "Europe/Berlin", start: "2024-01-15 08:05", wantLocal: "2024-01-15 09:05", wantZone: "Europe/Berlin"},
		{name: "New York, previous day", zone: "America/New_York", start: "2024-05-01 02:00", wantLocal: "2024-04-30 22:00", wantZone: "America/New_York"},
		{name: "no zone", zone: "", start: "2024-05-01 22:30", wantLocal: "", wantZone: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			info := testInfo()
			info.TimeZone = tc.zone
			w, err := NewWriter(dir, info)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add(Row{Seq: 0, ConfUUID: conf, StartTime: tc.start, Status: NoFiles}); err != nil {
				t.Fatal(err)
			}
			sum, err := w.Close(ExitOK)
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, dir)
			if len(rows) != 1 || rows[0].StartTimeLocal != tc.wantLocal || rows[0].StartTime != tc.start {
				t.Fatalf("manifest.csv rows %+v: want startTime %q, startTimeLocal %q", rows, tc.start, tc.wantLocal)
			}
			f := openXLSX(t, dir)
			cell, err := f.GetCellValue(SheetRecordings, cellName(t, colIndex(t, "startTimeLocal"), 2))
			if err != nil {
				t.Fatal(err)
			}
			if cell != tc.wantLocal {
				t.Errorf("Recordings startTimeLocal cell %q, want %q", cell, tc.wantLocal)
			}
			data, err := os.ReadFile(filepath.Join(dir, SummaryJSON))
			if err != nil {
				t.Fatal(err)
			}
			var js struct {
				PlatformTimes string `json:"platformTimes"`
				TimeZone      string `json:"timeZone"`
			}
			if err := json.Unmarshal(data, &js); err != nil {
				t.Fatal(err)
			}
			if js.PlatformTimes != "UTC" || js.TimeZone != tc.wantZone || sum.PlatformTimes != "UTC" {
				t.Errorf("summary.json platformTimes %q timeZone %q; want UTC and %q", js.PlatformTimes, js.TimeZone, tc.wantZone)
			}
			fields := summarySheetFields(t, f)
			if got := fields["platform times"]; !strings.HasPrefix(got, "UTC") {
				t.Errorf("Summary sheet: platform times %q, want UTC first", got)
			}
			if got := fields["time zone of startTimeLocal"]; got != zoneOrNone(tc.zone) {
				t.Errorf("Summary sheet: time zone %q, want %q", got, zoneOrNone(tc.zone))
			}
		})
	}
	t.Run("unknown zone refused", func(t *testing.T) {
		info := testInfo()
		info.TimeZone = "Mars/Olympus_Mons"
		if _, err := NewWriter(t.TempDir(), info); err == nil || !strings.Contains(err.Error(), "Mars/Olympus_Mons") {
			t.Errorf("got %v, want an error naming the zone", err)
		}
	})
}

// summarySheetFields reads the Summary sheet's field/value lines (A:B).
func summarySheetFields(t *testing.T, f *excelize.File) map[string]string {
	t.Helper()
	rows, err := f.GetRows(SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range rows {
		if len(r) >= 2 {
			m[r[0]] = r[1]
		}
	}
	return m
}

// TestTimeZoneMerged: merged shards keep their rows' startTimeLocal and
// the zone they were written in.
func TestTimeZoneMerged(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i, conf := range []string{"0123456789abcdef0123456789abcde0", "0123456789abcdef0123456789abcde1"} {
		dir := filepath.Join(root, "shard", string(rune('a'+i)))
		info := testInfo()
		info.TimeZone = "Europe/Berlin"
		w, err := NewWriter(dir, info)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(Row{Seq: 0, ConfUUID: conf, StartTime: "2024-05-01 22:30", Status: NoFiles}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Close(ExitOK); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(root, "all")
	sum, err := Merge(out, dirs)
	if err != nil {
		t.Fatal(err)
	}
	if sum.TimeZone != "Europe/Berlin" || sum.PlatformTimes != PlatformTimesUTC {
		t.Errorf("merged timeZone %q platformTimes %q, want Europe/Berlin and UTC", sum.TimeZone, sum.PlatformTimes)
	}
	for _, r := range readAll(t, out) {
		if r.StartTimeLocal != "2024-05-02 00:30" {
			t.Errorf("%s: startTimeLocal %q, want 2024-05-02 00:30", r.ConfUUID, r.StartTimeLocal)
		}
	}
}
