package main

// Binary tests of how a run takes its input and its --out: an input that
// can be read only once (standard input, a pipe, a FIFO), signals in every
// phase, symbolic links planted in --out, the --rate floor, --out and
// --dest inside each other, and the journal of a killed run.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// listed runs `meetarchive list` against sim and returns what it printed
// and the conferences in it, in order.
func listed(t *testing.T, sim *meetingtest.Server) ([]byte, []string) {
	t.Helper()
	res := runBin(t, simEnv(sim), "list", "--from", "2024-01-01", "--to", "2024-12-31")
	if res.code != 0 {
		t.Fatalf("list: exit %d\n%s", res.code, res.stderr)
	}
	var confs []string
	for i, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if i > 0 {
			confs = append(confs, strings.SplitN(line, ",", 2)[0])
		}
	}
	if len(confs) == 0 {
		t.Fatalf("list printed no conference:\n%s", res.stdout)
	}
	return []byte(res.stdout), confs
}

// exitOf is the exit code of a finished command.
func exitOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running the binary: %v", err)
	return -1
}

// TestRunReadsAPipedInputOnce: `meetarchive list … | meetarchive run
// --input - …` archives what list printed, and so do /dev/stdin, a FIFO
// and a process substitution; summary.json's inputSha256 is the SHA-256
// of the bytes list printed, and nothing of the input is left in --out.
func TestRunReadsAPipedInputOnce(t *testing.T) {
	ds := genDataset(5, 1, 16<<10, 181)
	sim := newSim(t, meetingtest.Config{Dataset: ds, Seed: 181})
	printed, confs := listed(t, sim)
	sum := sha256.Sum256(printed)

	tests := []struct {
		name string
		// start starts the run of args with its input given the way named.
		start func(t *testing.T, dir string, args []string) (*exec.Cmd, *bytes.Buffer)
	}{
		{"list piped into --input -", func(t *testing.T, dir string, args []string) (*exec.Cmd, *bytes.Buffer) {
			list, _, _ := binCommand(simEnv(sim), "list", "--from", "2024-01-01", "--to", "2024-12-31")
			run, _, stderr := binCommand(simEnv(sim), append(args, "--input", "-")...)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			list.Stdout, run.Stdin = w, r
			if err := list.Start(); err != nil {
				t.Fatal(err)
			}
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			r.Close()
			w.Close()
			t.Cleanup(func() {
				if err := list.Wait(); err != nil {
					t.Errorf("list: %v", err)
				}
			})
			return run, stderr
		}},
		{"/dev/stdin", func(t *testing.T, dir string, args []string) (*exec.Cmd, *bytes.Buffer) {
			run, _, stderr := binCommand(simEnv(sim), append(args, "--input", "/dev/stdin")...)
			run.Stdin = bytes.NewReader(printed) // a pipe, written by exec
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			return run, stderr
		}},
		{"FIFO", func(t *testing.T, dir string, args []string) (*exec.Cmd, *bytes.Buffer) {
			fifo := filepath.Join(dir, "uuids.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			run, _, stderr := binCommand(simEnv(sim), append(args, "--input", fifo)...)
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0) // waits for the run to open it
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(printed); err != nil {
				t.Error(err)
			}
			f.Close()
			return run, stderr
		}},
		{"process substitution", func(t *testing.T, dir string, args []string) (*exec.Cmd, *bytes.Buffer) {
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Skip("no bash")
			}
			file := filepath.Join(dir, "printed.csv")
			if err := os.WriteFile(file, printed, 0o600); err != nil {
				t.Fatal(err)
			}
			script := `bin=$1 file=$2; shift 2; exec "$bin" "$@" --input <(cat "$file")`
			run := exec.Command(bash, append([]string{"-c", script, "bash", binPath, file}, args...)...)
			run.Env = cleanEnv(simEnv(sim))
			var stderr bytes.Buffer
			run.Stderr = &stderr
			if err := run.Start(); err != nil {
				t.Fatal(err)
			}
			return run, &stderr
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "report")
			run, stderr := tc.start(t, dir, []string{"run", "--dest", filepath.Join(dir, "a"), "--out", out})
			if code := exitOf(t, run.Wait()); code != 0 {
				t.Fatalf("exit %d, want 0\n%s", code, stderr.String())
			}
			var got []string
			for _, r := range readManifest(t, out) {
				got = append(got, r["confUUID"])
				if r["status"] != "archived" {
					t.Errorf("%s: status %s, want archived", r["confUUID"], r["status"])
				}
			}
			if !slices.Equal(got, confs) {
				t.Errorf("manifest conferences %v, want what list printed %v", got, confs)
			}
			s := readSummary(t, out)
			if s["inputSha256"] != hex.EncodeToString(sum[:]) || s["conferences"] != float64(len(confs)) {
				t.Errorf("summary: inputSha256 %v, conferences %v; want %x (the bytes list printed), %d", s["inputSha256"], s["conferences"], sum, len(confs))
			}
			assertOnlyReportFiles(t, out)
		})
	}
}

// assertOnlyReportFiles: dir holds the report files and nothing else (no
// temporary file, no lock, no journal).
func assertOnlyReportFiles(t *testing.T, dir string) {
	t.Helper()
	want := map[string]bool{}
	for _, p := range report.Paths(dir) {
		want[filepath.Base(p)] = true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}
}

// TestSignalEndsAnInputBeingRead: a run whose --input is a FIFO nobody
// opens for writing, or /dev/zero (endless bytes, no line end), ends on
// SIGTERM, SIGINT or SIGHUP with exit 130, a report and its --out lock
// released. The time from the signal to the exit is logged (-v).
func TestSignalEndsAnInputBeingRead(t *testing.T) {
	ds := genDataset(2, 1, 4<<10, 183)
	sim := newSim(t, meetingtest.Config{Dataset: ds, Seed: 183})
	tests := []struct {
		name  string
		input func(dir string) string
		sig   syscall.Signal
	}{
		{"FIFO without writer, SIGTERM", mkfifo, syscall.SIGTERM},
		{"FIFO without writer, SIGHUP", mkfifo, syscall.SIGHUP},
		{"/dev/zero, SIGTERM", func(string) string { return "/dev/zero" }, syscall.SIGTERM},
		{"/dev/zero, SIGINT", func(string) string { return "/dev/zero" }, syscall.SIGINT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := tc.input(dir)
			if in == "" {
				t.Skip("mkfifo failed")
			}
			out := filepath.Join(dir, "report")
			env := simEnv(sim)
			env["MEETARCHIVE_QUIET"] = "" // the log line that says the input is being read
			cmd, logPath := startWithLog(t, env, "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out)
			waitForLog(t, cmd, logPath, "reading --input once")
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			code, took := waitExit(t, cmd, logPath)
			t.Logf("%s: ended %s after the signal", tc.name, took)
			if code != report.ExitInterrupted {
				t.Fatalf("exit %d, want %d\n%s", code, report.ExitInterrupted, readLog(logPath))
			}
			if _, err := os.Stat(filepath.Join(out, report.LockFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("lock file after the run: %v, want none", err)
			}
			unlock, err := report.LockDir(out)
			if err != nil {
				t.Fatalf("--out still locked after the run ended: %v", err)
			}
			_ = unlock()
			assertReportFiles(t, out)
			if s := readSummary(t, out); s["exitCode"] != float64(report.ExitInterrupted) {
				t.Errorf("summary exitCode %v, want %d", s["exitCode"], report.ExitInterrupted)
			}
			if _, err := os.Stat(filepath.Join(out, report.Journal)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal left after the report was written: %v", err)
			}
			assertOnlyReportFiles(t, out)
		})
	}
}

func mkfifo(dir string) string {
	p := filepath.Join(dir, "in.fifo")
	if syscall.Mkfifo(p, 0o600) != nil {
		return ""
	}
	return p
}

// startWithLog starts the binary with its stderr in a file (read while it
// runs, without a race) and stdout discarded.
func startWithLog(t *testing.T, env map[string]string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "stderr.log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv(env)
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, logPath
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// waitForLog waits (30 s at most, a safety net) until the log has text.
func waitForLog(t *testing.T, cmd *exec.Cmd, logPath, text string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(readLog(logPath), text); {
		if time.Now().After(deadline) {
			t.Fatalf("%q never logged:\n%s", text, readLog(logPath))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitExit waits for cmd to end (30 s at most, a safety net: a run that
// ignores the signal is killed and the test fails) and returns its exit
// code and how long it took.
func waitExit(t *testing.T, cmd *exec.Cmd, logPath string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitOf(t, err), time.Since(start)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running 30 s after the signal: killed\n%s", readLog(logPath))
	}
	return -1, 0
}
