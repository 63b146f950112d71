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

// killChild runs the test named child in a new process with dir in its
// environment, waits for it to print "ready", lets it write some more and
// kills it with SIGKILL.
func killChild(t *testing.T, child, dir string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$", "-test.count=1")
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
}

// TestRebuildAfterSIGKILL kills a process in the middle of journaling and
// rebuilds its report: every conference it journaled is there, complete
// (but for, at worst, the one being written), in input order, exit code 130.
func TestRebuildAfterSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	dir := t.TempDir()
	killChild(t, "TestKilledWriterChild", dir)

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

// plannedKill is how many conferences TestKilledPlannerChild plans.
const plannedKill = 20_000

// TestKilledPlannerChild is the child of TestRebuildPlanAfterSIGKILL: it
// plans plannedKill conferences, then journals two-file conferences until it
// is killed (and stops adding, but stays alive, if it gets through them all).
func TestKilledPlannerChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("child process of TestRebuildPlanAfterSIGKILL")
	}
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	err = w.Plan(func(yield func(PlanItem) bool) {
		for seq := range plannedKill {
			if !yield(PlanItem{Seq: seq, ConfUUID: bigRow(2 * seq).ConfUUID, Line: seq + 1}) {
				return
			}
		}
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for seq := 0; seq < plannedKill; seq++ {
		if err := w.AddAll(bigRow(2*seq+1), bigRow(2*seq)); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		if seq == 100 {
			fmt.Println("ready")
		}
	}
	select {}
}

// TestRebuildPlanAfterSIGKILL: a run that planned its conferences and was
// killed part-way is rebuilt with every planned conference: those it
// finished with their rows, the rest cancelled (interrupted), and those in
// failures.csv.
func TestRebuildPlanAfterSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	if testing.Short() {
		t.Skip("writes a report of 20,000 conferences")
	}
	dir := t.TempDir()
	killChild(t, "TestKilledPlannerChild", dir)
	sum, err := Rebuild(dir)
	if err != nil {
		t.Fatalf("Rebuild: %v", err)
	}
	if sum.Conferences != plannedKill {
		t.Errorf("Conferences = %d, want %d (every planned one)", sum.Conferences, plannedKill)
	}
	finished, cancelled := 0, 0
	lastSeq := -1
	if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error {
		if r.Seq < lastSeq {
			return fmt.Errorf("seq %d after %d: not input order", r.Seq, lastSeq)
		}
		first := r.Seq != lastSeq // a torn conference may have only its file 1
		lastSeq = r.Seq
		switch {
		case r.Status == Cancelled && r.ErrorCode == CodeInterrupted:
			if r.ConfUUID != bigRow(2*r.Seq).ConfUUID {
				return fmt.Errorf("cancelled seq %d has confUUID %s, want the planned one", r.Seq, r.ConfUUID)
			}
			cancelled++
		case first:
			finished++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if finished < 101 || finished+cancelled != plannedKill {
		t.Errorf("finished %d + cancelled %d, want >= 101 finished and %d in all", finished, cancelled, plannedKill)
	}
	if got := sum.Counts[Cancelled]; got != cancelled {
		t.Errorf("Counts[cancelled] = %d, want %d", got, cancelled)
	}
	if n := len(readFailures(t, dir)); n < cancelled {
		t.Errorf("failures.csv has %d conferences, want at least the %d cancelled", n, cancelled)
	}
	t.Logf("killed after %d of %d planned conferences; %d cancelled", finished, plannedKill, cancelled)
}
