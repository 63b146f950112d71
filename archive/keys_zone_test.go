package archive_test

import (
	"testing"
	"time"

	"meetarchive/archive"
)

// TestKeyTemplateZone: the Local fields render the start time on the
// zone's wall clock (the next day in Berlin for 22:30 UTC in summer); a
// template without them gives the same key in any zone.
func TestKeyTemplateZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	f := archive.KeyFields{ConfUUID: "abc", FileType: "Hd", FileName: "0_0.mp4", StartTime: "2024-05-31 22:30"}
	tests := []struct {
		name, template string
		zone           *time.Location
		want           string
	}{
		{"default template, no zone", archive.DefaultKeyTemplate, nil, "2024/05/abc/Hd_0_0.mp4"},
		{"default template, Berlin: unchanged", archive.DefaultKeyTemplate, berlin, "2024/05/abc/Hd_0_0.mp4"},
		{"local date, no zone: UTC", "{{.LocalYear}}/{{.LocalMonth}}/{{.LocalDay}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}", nil, "2024/05/31/abc/Hd_0_0.mp4"},
		{"local date, Berlin: next day and month", "{{.LocalYear}}/{{.LocalMonth}}/{{.LocalDay}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}", berlin, "2024/06/01/abc/Hd_0_0.mp4"},
		{"local start, Berlin", "{{.LocalStart}} {{.ConfUUID}}/{{.FileType}}_{{.FileName}}", berlin, "2024-06-01 00:30 abc/Hd_0_0.mp4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kt, err := archive.ParseKeyTemplate(tc.template)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kt.InZone(tc.zone).Key(f)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("unknown start time", func(t *testing.T) {
		kt := archive.MustParseKeyTemplate("{{.LocalDay}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}").InZone(berlin)
		g := f
		g.StartTime = "soon"
		if got, err := kt.Key(g); err != nil || got != "unknown/abc/Hd_0_0.mp4" {
			t.Errorf("got %q, %v; want unknown/abc/Hd_0_0.mp4", got, err)
		}
	})
}
