package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFilterManifest: the kept rows come out cell for cell (an unknown
// column, a quoted cell spanning lines, a neutralised formula), the others
// not at all, and the header always.
func TestFilterManifest(t *testing.T) {
	in := "\xef\xbb\xbfconfUUID,status,subject,extra\n" +
		"aa,archived,\"two\nlines, and a comma\",x1\n" +
		"bb,failed,'=1+1,x2\n" +
		"aa,archived,plain,\n"
	path := filepath.Join(t.TempDir(), ManifestCSV)
	if err := os.WriteFile(path, []byte(in), 0o666); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		keep func(Row) bool
		want string
	}{
		{"one conference", func(r Row) bool { return r.ConfUUID == "aa" },
			"confUUID,status,subject,extra\naa,archived,\"two\nlines, and a comma\",x1\naa,archived,plain,\n"},
		{"by status", func(r Row) bool { return r.Status == Failed }, "confUUID,status,subject,extra\nbb,failed,'=1+1,x2\n"},
		{"none", func(Row) bool { return false }, "confUUID,status,subject,extra\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := FilterManifest(path, &b, tt.keep); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
	t.Run("no status column", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), ManifestCSV)
		if err := os.WriteFile(bad, []byte("confUUID\naa\n"), 0o666); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := FilterManifest(bad, &b, func(Row) bool { return true }); err == nil {
			t.Errorf("no error for a manifest without a status column; wrote %q", b.String())
		}
	})
}
