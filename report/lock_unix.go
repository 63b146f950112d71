//go:build unix

package report

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock on path (created if missing) and writes
// this process's details into it. release removes the file and drops the
// lock.
//
// The file is removed on release, so a taker checks after locking that path
// still names the file it locked: a process that opened the file just
// before its holder removed it would otherwise hold a lock on a file nobody
// else can see.
//
// The open does not follow a symbolic link (O_NOFOLLOW): a link planted at
// path is refused (ErrLink), and the file it points to is neither
// truncated nor written.
func lockFile(path, dir string) (release func() error, err error) {
	for range 100 {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o666)
		if errors.Is(err, unix.ELOOP) {
			return nil, fmt.Errorf("report: lock %s: %w", dir, &linkError{path: path})
		}
		if err != nil {
			return nil, fmt.Errorf("report: lock %s: %w", dir, err)
		}
		err = flock(f)
		if errors.Is(err, unix.EWOULDBLOCK) {
			e := readHolder(f, dir)
			_ = f.Close()
			return nil, e
		}
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("report: lock %s: %w", dir, err)
		}
		if !stillNamed(f, path) {
			_ = f.Close()
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err == nil && st.Nlink > 1 {
			// A hard link planted at path: writing the lock would
			// overwrite the file it shares its bytes with.
			_ = f.Close()
			return nil, fmt.Errorf("report: lock %s: %w", dir, &linkError{path: path, hard: true})
		}
		if err := writeLockInfo(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("report: lock %s: %w", dir, err)
		}
		return func() error {
			rerr := os.Remove(path)
			cerr := f.Close()
			if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				return fmt.Errorf("report: unlock %s: %w", dir, rerr)
			}
			if cerr != nil {
				return fmt.Errorf("report: unlock %s: %w", dir, cerr)
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("report: lock %s: the lock file keeps changing", dir)
}

func flock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// stillNamed reports whether path names the open file f (itself, not
// through a symbolic link).
func stillNamed(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pi)
}

func writeLockInfo(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(myLockInfo(), 0)
	return err
}
