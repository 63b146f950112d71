package report

import (
	"errors"
	"fmt"
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
