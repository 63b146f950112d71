package report

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const childEnv = "MEETARCHIVE_REPORT_KILL_CHILD"

// TestKilledWriterChild is the child of TestRebuildAfterSIGKILL: it journals
// two-file conferences without end until it is killed.
func TestKilledWriterChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("child process of TestRebuildAfterSIGKILL")
	}
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for seq := 0; ; seq++ {
		a, b := bigRow(2*seq), bigRow(2*seq+1)
		if err := w.AddAll(b, a); err != nil { // completion order != input order
			fmt.Println("error:", err)
			os.Exit(1)
		}
		if seq == 500 {
			fmt.Println("ready")
		}
	}
}

// TestRebuildAfterSIGKILL kills a process in the middle of journaling and
// rebuilds its report: every conference it journaled is there, complete
// (but for, at worst, the one being written), in input order, exit code 130.
func TestRebuildAfterSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" || strings.HasPrefix(sc.Text(), "error:") {
				ready <- sc.Text()
				return
			}
		}
		ready <- "child exited"
	}()
	select {
	case msg := <-ready:
		if msg != "ready" {
			_ = cmd.Process.Kill()
			t.Fatalf("child: %s", msg)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child not ready after 30 s")
	}
	time.Sleep(20 * time.Millisecond) // let it write some more
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	sum, err := Rebuild(dir)
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if sum.ExitCode != ExitInterrupted || !sum.Rebuilt {
		t.Errorf("ExitCode, Rebuilt = %d, %v; want 130, true", sum.ExitCode, sum.Rebuilt)
	}
	if sum.Conferences < 501 {
		t.Errorf("Conferences = %d, want >= 501 (the child journaled that many before ready)", sum.Conferences)
	}
	files := map[int]int{}
	i := 0
	if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error {
		want := bigRow(i)
		if r.Seq != want.Seq || r.FileIndex != want.FileIndex || r.SHA256 != want.SHA256 {
			return fmt.Errorf("row %d: got seq %d file %d, want seq %d file %d", i, r.Seq, r.FileIndex, want.Seq, want.FileIndex)
		}
		files[r.Seq]++
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for seq := 0; seq < sum.Conferences-1; seq++ {
		if files[seq] != 2 {
			t.Errorf("conference %d has %d rows, want 2", seq, files[seq])
		}
	}
	t.Logf("killed after %d conferences (%d rows)", sum.Conferences, sum.Rows)
}
