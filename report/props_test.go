package report

import (
	"math"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestWorkbookProperties: the workbook says who made it and when (the
// run's start and end), and names the run, instead of the library's
// defaults.
func TestWorkbookProperties(t *testing.T) {
	dir := t.TempDir()
	info := testInfo()
	sum := writeRun(t, dir, info, fixtureRows(), ExitFailures)
	f := openXLSX(t, dir)
	doc, err := f.GetDocProps()
	if err != nil {
		t.Fatal(err)
	}
	app, err := f.GetAppProps()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, got, want string }{
		{"creator", doc.Creator, "meetarchive v1.2.3"},
		{"last modified by", doc.LastModifiedBy, "meetarchive v1.2.3"},
		{"application", app.Application, "meetarchive v1.2.3"},
		{"created", doc.Created, "2026-03-01T09:00:00Z"},
		{"modified", doc.Modified, "2026-03-01T10:30:00Z"},
		{"title", doc.Title, "meetarchive manifest of run run-20260301-0900"},
		{"subject", doc.Subject, "Recordings archived by meetarchive run run-20260301-0900, into s3://archive/meetings"},
		{"description", doc.Description, sum.Verdict.Text},
		{"identifier", doc.Identifier, "run-20260301-0900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
			}
		})
	}
}

func TestOptionValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"true", true},
		{"false", false},
		{"4", int64(4)},
		{"-3", int64(-3)},
		{"3650", int64(3650)},
		{"1.5", 1.5},
		{"auto", "auto"},
		{"30s", "30s"},
		{"7 days", "7 days"},
		{"007", "007"},
		{"+4", "+4"},
		{"1e5", "1e5"},
		{"NaN", "NaN"},
		{"Inf", "Inf"},
		{"9999999999999999", "9999999999999999"}, // past what a spreadsheet holds exactly
		{"True", "True"},
		{"", ""},
		{"{{.Year}}/{{.ConfUUID}}", "{{.Year}}/{{.ConfUUID}}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := optionValue(tt.in)
			if got != tt.want {
				t.Errorf("optionValue(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			if x, ok := got.(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
				t.Errorf("optionValue(%q) is not a finite number", tt.in)
			}
		})
	}
}

// TestOptionCellsTyped: on the Summary sheet, an option that is a number
// is a number cell, a boolean a boolean cell, anything else (a duration
// with its unit, a template) a text cell.
func TestOptionCellsTyped(t *testing.T) {
	dir := t.TempDir()
	info := testInfo()
	info.Options = map[string]string{
		"concurrency": "4", "rate": "1.5", "dryRun": "false", "force": "true",
		"grace": "30s", "retention": "7 days", "keyTemplate": "{{.ConfUUID}}",
	}
	writeRun(t, dir, info, fixtureRows()[:3], ExitOK)
	f := openXLSX(t, dir)
	rows, err := f.GetRows(SheetSummary)
	if err != nil {
		t.Fatal(err)
	}
	cellOf := map[string]string{}
	for i, r := range rows {
		if len(r) > 0 && strings.HasPrefix(r[0], "option ") {
			cellOf[strings.TrimPrefix(r[0], "option ")] = cellName(t, 2, i+1)
		}
	}
	tests := []struct {
		option string
		typ    excelize.CellType
		value  string
	}{
		{"concurrency", excelize.CellTypeUnset, "4"}, // a number cell has no t attribute
		{"rate", excelize.CellTypeUnset, "1.5"},
		{"dryRun", excelize.CellTypeBool, "0"},
		{"force", excelize.CellTypeBool, "1"},
		{"grace", excelize.CellTypeSharedString, "30s"},
		{"retention", excelize.CellTypeSharedString, "7 days"},
		{"keyTemplate", excelize.CellTypeSharedString, "{{.ConfUUID}}"},
	}
	for _, tt := range tests {
		t.Run(tt.option, func(t *testing.T) {
			c, ok := cellOf[tt.option]
			if !ok {
				t.Fatalf("no option %s on the Summary sheet", tt.option)
			}
			typ, err := f.GetCellType(SheetSummary, c)
			if err != nil {
				t.Fatal(err)
			}
			v, err := f.GetCellValue(SheetSummary, c, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.typ || v != tt.value {
				t.Errorf("%s: type %v value %q, want type %v value %q", c, typ, v, tt.typ, tt.value)
			}
		})
	}
}
