package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// PreviousPrefix starts the name of the directory, in a report directory,
// where NewWriter sets aside the journal of an earlier run that never
// wrote its report: PreviousPrefix + that run's start time (UTC, like
// 20240131T235959Z), with "-2", "-3"... when the name is taken.
const PreviousPrefix = "previous-"

// Previous is the journal of an earlier run that NewWriter found in its
// directory (the run was killed, or crashed, before its report was
// written) and set aside, never overwritten: moved into a directory of its
// own, where its report was rebuilt (see Rebuild).
type Previous struct {
	Dir     string  // the directory it was moved to ("" when there was none)
	Summary Summary // the summary of the report rebuilt there
	Err     error   // why no report could be rebuilt there (the journal is there all the same)
}

// SetAside moves the journal in dir, if any (that of a run that never
// wrote its report), into a new directory dir/previous-<its run's start
// time> and rebuilds its report there. An error means the journal could
// not be moved (it is then where it was); a journal moved whose report
// could not be rebuilt is a Previous with Err. A journal that is a
// symbolic link is refused (ErrLink). NewWriter calls it; a run calls it
// first, to say what it did before it does anything else.
//
// dir must be locked (LockDir) by the caller.
func SetAside(dir string) (Previous, error) {
	path := filepath.Join(dir, Journal)
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Previous{}, nil
	case err != nil:
		return Previous{}, fmt.Errorf("report: journal: %w", err)
	case st.Mode()&fs.ModeSymlink != 0:
		return Previous{}, fmt.Errorf("report: journal: %w", &linkError{path: path})
	case !st.Mode().IsRegular():
		return Previous{}, fmt.Errorf("report: journal: %s is not a regular file", path)
	}
	started := journalStarted(path)
	if started.IsZero() {
		started = st.ModTime()
	}
	sub, err := newPreviousDir(dir, started)
	if err != nil {
		return Previous{}, fmt.Errorf("report: set aside the previous journal: %w", err)
	}
	if err := os.Rename(path, filepath.Join(sub, Journal)); err != nil {
		_ = os.Remove(sub)
		return Previous{}, fmt.Errorf("report: set aside the previous journal: %w", err)
	}
	if err := errors.Join(syncDir(sub), syncDir(dir)); err != nil {
		return Previous{}, fmt.Errorf("report: set aside the previous journal: %w", err)
	}
	prev := Previous{Dir: sub}
	prev.Summary, prev.Err = Rebuild(sub)
	return prev, nil
}

// newPreviousDir creates a new directory for a journal set aside. Mkdir
// fails on any name that exists, a symbolic link included.
func newPreviousDir(dir string, started time.Time) (string, error) {
	base := filepath.Join(dir, PreviousPrefix+started.UTC().Format("20060102T150405Z"))
	for i := 1; i <= 1000; i++ {
		p := base
		if i > 1 {
			p += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(p, 0o777)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s and a thousand more names exist", base)
}

// journalStarted is the start time of the run a journal's header names,
// or the zero time when the header cannot be read.
func journalStarted(path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 64<<10).ReadSlice('\n')
	if err != nil {
		return time.Time{}
	}
	var rec record
	if json.Unmarshal(line, &rec) != nil || rec.Header == nil {
		return time.Time{}
	}
	return rec.Header.Run.Started
}
