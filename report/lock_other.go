//go:build !unix

package report

import (
	"errors"
	"fmt"
	"os"
)

// lockFile, without flock, holds path by creating it exclusively: a lock
// file left by a killed process then locks the directory until someone
// removes it (the error names the PID it records).
func lockFile(path, dir string) (release func() error, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if errors.Is(err, os.ErrExist) {
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("report: lock %s: %w", dir, &linkError{path: path})
		}
		g, gerr := os.Open(path)
		if gerr != nil {
			return nil, &LockedError{Dir: dir}
		}
		defer g.Close()
		return nil, readHolder(g, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("report: lock %s: %w", dir, err)
	}
	if _, err := f.Write(myLockInfo()); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("report: lock %s: %w", dir, err)
	}
	return func() error {
		cerr := f.Close()
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("report: unlock %s: %w", dir, err)
		}
		if cerr != nil {
			return fmt.Errorf("report: unlock %s: %w", dir, cerr)
		}
		return nil
	}, nil
}
