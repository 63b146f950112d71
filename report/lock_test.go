//go:build unix

package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lockedBy checks that err is a *LockedError naming pid (and a start time)
// that errors.Is matches with ErrLocked.
func lockedBy(t *testing.T, err error, pid int) {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("err = %v, want a *LockedError matching ErrLocked", err)
	}
	if le.PID != pid || le.Started.IsZero() {
		t.Errorf("LockedError = %+v, want PID %d and a start time", le, pid)
	}
	msg := err.Error()
	if !strings.Contains(msg, strconv.Itoa(pid)) || !strings.Contains(msg, le.Started.UTC().Format(time.RFC3339)) {
		t.Errorf("message %q does not name PID %d and its start time", msg, pid)
	}
}

func TestLockDir(t *testing.T) {
	t.Run("second lock refused, relock after unlock", func(t *testing.T) {
		dir := t.TempDir()
		unlock, err := LockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = LockDir(dir)
		lockedBy(t, err, os.Getpid())
		// Through another path to the same directory.
		link := filepath.Join(t.TempDir(), "link")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		_, err = LockDir(link + "/.")
		lockedBy(t, err, os.Getpid())

		if err := unlock(); err != nil {
			t.Fatalf("unlock: %v", err)
		}
		if err := unlock(); err != nil {
			t.Errorf("second unlock: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("lock file after unlock: %v, want it removed", err)
		}
		unlock2, err := LockDir(dir)
		if err != nil {
			t.Fatalf("lock after unlock: %v", err)
		}
		if err := unlock2(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("stale lock file taken over", func(t *testing.T) {
		dir := t.TempDir()
		stale := `{"pid":999999999,"host":"gone","started":"2020-01-01T00:00:00Z"}` + "\n"
		path := filepath.Join(dir, LockFile)
		if err := os.WriteFile(path, []byte(stale), 0o666); err != nil {
			t.Fatal(err)
		}
		unlock, err := LockDir(dir)
		if err != nil {
			t.Fatalf("LockDir over a stale lock file: %v", err)
		}
		defer unlock()
		var li lockInfo
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &li); err != nil {
			t.Fatalf("lock file %q: %v", b, err)
		}
		if li.PID != os.Getpid() || time.Since(li.Started) > time.Minute {
			t.Errorf("lock file = %+v, want PID %d, started now", li, os.Getpid())
		}
	})

	t.Run("creates the directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		unlock, err := LockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := unlock(); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			t.Errorf("dir: %v", err)
		}
	})

	t.Run("writer inside a held lock", func(t *testing.T) {
		dir := t.TempDir()
		unlock, err := LockDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		// The caller holds the lock: NewWriter and Rebuild run under it.
		writeRunKeep(t, dir, testInfo(), fixtureRows()[:3], ExitOK)
		if _, err := Rebuild(dir); err != nil {
			t.Fatal(err)
		}
		// Close did not release the caller's lock.
		_, err = LockDir(dir)
		lockedBy(t, err, os.Getpid())
	})

	t.Run("writer locks by itself", func(t *testing.T) {
		dir := t.TempDir()
		w, err := NewWriter(dir, testInfo())
		if err != nil {
			t.Fatal(err)
		}
		_, err = LockDir(dir)
		lockedBy(t, err, os.Getpid())
		if _, err := w.Close(ExitOK); err != nil {
			t.Fatal(err)
		}
		unlock, err := LockDir(dir)
		if err != nil {
			t.Fatalf("after Close: %v", err)
		}
		_ = unlock()
	})
}

// TestLockHolderChild holds a lock on a report directory through a Writer
// until it is killed: the child of TestLockedByAnotherProcess.
func TestLockHolderChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("child process of TestLockedByAnotherProcess")
	}
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if err := w.Add(archivedRow(0)); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	// The writer stays reachable: a collected writer's lock file would be
	// closed by its finalizer, releasing the lock.
	heldByChild = w
	fmt.Println("ready")
	select {}
}

// heldByChild keeps TestLockHolderChild's writer (and its lock) alive.
var heldByChild *Writer

// TestLockedByAnotherProcess: while a run writes its journal, NewWriter,
// Rebuild and Merge on its directory fail naming the run's PID, and the
// running journal is not moved aside.
func TestLockedByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHolderChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "ready") {
		t.Fatalf("child: %q", buf[:n])
	}
	journal, err := os.ReadFile(filepath.Join(dir, Journal))
	if err != nil {
		t.Fatal(err)
	}

	_, err = NewWriter(dir, testInfo())
	lockedBy(t, err, cmd.Process.Pid)
	_, err = Rebuild(dir)
	lockedBy(t, err, cmd.Process.Pid)
	_, err = Merge(dir, []string{writeShardForLock(t)})
	lockedBy(t, err, cmd.Process.Pid)

	if prev, _ := filepath.Glob(filepath.Join(dir, PreviousPrefix+"*")); len(prev) != 0 {
		t.Errorf("%v: want none (the running journal set aside)", prev)
	}
	now, err := os.ReadFile(filepath.Join(dir, Journal))
	if err != nil || string(now) != string(journal) {
		t.Errorf("running journal changed: %v", err)
	}
	for _, p := range Paths(dir) {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s written into a locked directory", p)
		}
	}

	// Once the holder is gone, its lock is too.
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if _, err := Rebuild(dir); err != nil {
		t.Fatalf("Rebuild after the holder died: %v", err)
	}
}

func writeShardForLock(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	writeRun(t, d, testInfo(), []Row{archivedRow(0)}, ExitOK)
	return d
}
