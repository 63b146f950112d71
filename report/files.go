package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// createTemp creates a new file dir/.name.<random>.tmp for writing a report
// file that is renamed into place when whole. Unlike os.CreateTemp (0600)
// it asks for mode 0666, so the file ends up with the mode the umask allows,
// like every other file the tool writes; nothing is chmod-ed afterwards.
func createTemp(dir, name string) (*os.File, error) {
	for range 100 {
		p := filepath.Join(dir, "."+name+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("create a temporary file for %s in %s: every name tried exists", name, dir)
}

// WriteFileAtomic writes path whole or not at all: fill writes the content
// into a temporary file in path's directory (mode 0666 less the umask), which
// is synced and renamed over path; on an error nothing is left behind.
func WriteFileAtomic(path string, fill func(w io.Writer) error) error {
	dir, name := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	t, err := newTempFile(dir, name)
	if err != nil {
		return err
	}
	if err := fill(t.bw); err != nil {
		t.abort()
		return err
	}
	if err := t.finish(); err != nil {
		_ = os.Remove(t.f.Name())
		return err
	}
	if err := os.Rename(t.f.Name(), path); err != nil {
		_ = os.Remove(t.f.Name())
		return err
	}
	return syncDir(dir)
}
