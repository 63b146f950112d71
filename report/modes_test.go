//go:build unix

package report

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFileModesFollowUmask: the journal and every report file are created
// 0666 and directories 0777, masked by the umask; nothing is chmod-ed.
// (Not parallel: the umask is the process's.)
func TestFileModesFollowUmask(t *testing.T) {
	tests := []struct {
		umask         int
		file, dirMode fs.FileMode
	}{
		{0o077, 0o600, 0o700},
		{0o022, 0o644, 0o755},
		{0o002, 0o664, 0o775},
	}
	for _, tt := range tests {
		t.Run(tt.file.String(), func(t *testing.T) {
			old := syscall.Umask(tt.umask)
			defer syscall.Umask(old)
			dir := filepath.Join(t.TempDir(), "out", "run")
			writeRun(t, dir, testInfo(), mergeableRows(), ExitFailures)
			merged := filepath.Join(t.TempDir(), "merged")
			if _, err := Merge(merged, []string{dir}); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{dir, merged} {
				st, err := os.Stat(d)
				if err != nil {
					t.Fatal(err)
				}
				if got := st.Mode().Perm(); got != tt.dirMode {
					t.Errorf("%s: mode %v, want %v", d, got, tt.dirMode)
				}
				ents, err := os.ReadDir(d)
				if err != nil {
					t.Fatal(err)
				}
				if len(ents) < 5 && d == dir {
					t.Fatalf("%s holds %d files, want the journal and the reports", d, len(ents))
				}
				for _, e := range ents {
					info, err := e.Info()
					if err != nil {
						t.Fatal(err)
					}
					if got := info.Mode().Perm(); got != tt.file {
						t.Errorf("%s: mode %v, want %v", e.Name(), got, tt.file)
					}
				}
			}
		})
	}
}
