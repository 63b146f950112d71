package pipeline

import (
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/export"
)

func TestSizeNote(t *testing.T) {
	files := func(sizes ...int64) []*fileState {
		var out []*fileState
		for _, n := range sizes {
			out = append(out, &fileState{obj: &archive.Object{Bytes: n}})
		}
		return out
	}
	const mib = 1 << 20
	tests := []struct {
		name    string
		rcdSize int
		missing bool // rcdSize absent from the answer
		states  []*fileState
		partial bool
		want    string // in the note; "" = no note
	}{
		{"10 B for 500 MB", 500, false, files(10), false, "less than 1/8"},
		{"10 B for 500 MB, some file types only", 500, false, files(10), true, ""},
		{"three files that add up", 30, false, files(10*mib, 10*mib, 10*mib), false, ""},
		{"one of three files at an eighth", 24, false, files(3 * mib), false, ""},
		{"just under an eighth", 8, false, files(999_999), false, "less than 1/8"},
		{"rounded down", 3, false, files(4*mib - 1), false, ""},
		{"four times plus a MB", 1, false, files(8 * mib), false, ""},
		{"more than four times plus a MB", 1, false, files(8*mib + 1), false, "more than 4 times"},
		{"more than four times, some file types only", 1, false, files(9 * mib), true, "more than 4 times"},
		{"rcdSize 0: small, unknown", 0, false, files(9 * mib), false, ""},
		{"rcdSize absent", 500, true, files(10), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := export.Recording{RcdSize: tt.rcdSize}
			if tt.missing {
				rec.Missing |= export.FieldRcdSize
			}
			got := sizeNote(rec, tt.states, tt.partial)
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("sizeNote = %q, want a note with %q", got, tt.want)
			}
		})
	}
}
