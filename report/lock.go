package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// LockFile is the file in a report directory that LockDir locks. It holds
// the holder's PID, host and start time as JSON and is removed on unlock; a
// lock file left by a killed process locks nothing (the lock is the
// kernel's, not the file's existence) and is taken over.
const LockFile = ".meetarchive.lock"

// ErrLocked is what errors.Is finds in the error of LockDir (and of
// NewWriter, Rebuild and Merge) when another holder has the directory: the
// error itself is a *LockedError naming the holder.
var ErrLocked = errors.New("directory locked by another run")

// ErrLink is what errors.Is finds in the error of LockDir, NewWriter and
// Rebuild when a file they would open or create in a report directory (the
// lock file, the journal) is a symbolic link: they refuse it and leave the
// file it points to untouched.
var ErrLink = errors.New("a symbolic link where a file of the report directory belongs")

// linkError names the symbolic link that was refused.
type linkError struct {
	path string
	hard bool // a hard link (the file has other names), not a symbolic one
}

func (e *linkError) Error() string {
	if e.hard {
		return fmt.Sprintf("%s has other names (a hard link); meetarchive does not write through links in a report directory: remove it", e.path)
	}
	return fmt.Sprintf("%s is a symbolic link; meetarchive does not write through links in a report directory: remove it", e.path)
}

// Is makes errors.Is(err, ErrLink) true.
func (e *linkError) Is(target error) bool { return target == ErrLink }

// LockedError says who holds a report directory's lock.
type LockedError struct {
	Dir     string
	PID     int       // 0 when the holder has not written its details (yet)
	Host    string    // the holder's host name, as it wrote it
	Started time.Time // when the holder took the lock
}

func (e *LockedError) Error() string {
	holder := "another process (it has not said which)"
	if e.PID > 0 {
		holder = fmt.Sprintf("process %d", e.PID)
		if e.Host != "" {
			holder += " on " + e.Host
		}
		if !e.Started.IsZero() {
			holder += ", started " + e.Started.UTC().Format(time.RFC3339)
		}
	}
	return fmt.Sprintf("report: %s is in use by %s; wait for it to end or use another directory", e.Dir, holder)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockInfo is the content of a lock file.
type lockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started"`
}

// held lists the directories this process holds a LockDir lock on (by
// resolved path), so that NewWriter, Rebuild and Merge neither lock a
// directory twice nor run unlocked.
var held = struct {
	sync.Mutex
	dirs map[string]int
}{dirs: map[string]int{}}

// LockDir creates dir (and parents) if needed and takes an exclusive lock on
// it: an flock (LOCK_EX|LOCK_NB) on dir/.meetarchive.lock, into which it
// writes this process's PID, host name and the time (RFC 3339). It does not
// wait: when another holder has the lock (another process, or another
// LockDir of this process that has not unlocked) it returns a *LockedError
// naming the holder, which errors.Is matches with ErrLocked.
//
// unlock removes the lock file and releases the lock; calling it again does
// nothing. A process that dies releases its lock with it.
//
// Order: a run locks its --out directory first, then calls NewWriter (which
// would otherwise move a running run's journal aside), and unlocks after
// Close. report --from-journal locks before Rebuild and merge locks its
// output before Merge. NewWriter, Rebuild and Merge take the lock
// themselves, for their own duration, when this process does not hold it
// already, so a caller that forgets is still safe; a caller that locks first
// covers the whole command (flag checks included) and owns the error
// message.
func LockDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("report: lock %s: %w", dir, err)
	}
	key := ResolvePath(dir)
	path := filepath.Join(dir, LockFile)
	release, err := lockFile(path, dir)
	if err != nil {
		return nil, err
	}
	held.Lock()
	held.dirs[key]++
	held.Unlock()
	var once sync.Once
	var uerr error
	return func() error {
		once.Do(func() {
			held.Lock()
			if held.dirs[key]--; held.dirs[key] <= 0 {
				delete(held.dirs, key)
			}
			held.Unlock()
			uerr = release()
		})
		return uerr
	}, nil
}

// lockUnlessHeld locks dir unless this process holds its lock already; the
// returned function releases what it took (nothing, if it took nothing).
func lockUnlessHeld(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("report: create %s: %w", dir, err)
	}
	held.Lock()
	n := held.dirs[ResolvePath(dir)]
	held.Unlock()
	if n > 0 {
		return func() error { return nil }, nil
	}
	return LockDir(dir)
}

// myLockInfo is what this process writes into a lock file it takes.
func myLockInfo() []byte {
	host, _ := os.Hostname()
	b, _ := json.Marshal(lockInfo{PID: os.Getpid(), Host: host, Started: time.Now().UTC().Truncate(time.Second)})
	return append(b, '\n')
}

// readHolder reads a lock file's content through f. The holder writes it
// just after taking the lock, so an empty file is read again a few times.
func readHolder(f *os.File, dir string) *LockedError {
	e := &LockedError{Dir: dir}
	for try := 0; try < 10; try++ {
		buf := make([]byte, 512)
		n, _ := f.ReadAt(buf, 0)
		var li lockInfo
		if n > 0 && json.Unmarshal(buf[:n], &li) == nil && li.PID > 0 {
			e.PID, e.Host, e.Started = li.PID, li.Host, li.Started
			return e
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e
}

// ResolvePath returns p absolute and clean, with symbolic links resolved
// as far as the path exists (a path that does not exist yet is resolved
// through its longest existing parent): two paths to one directory give
// the same string.
func ResolvePath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}
