package main

// Binary tests of how a run takes its input and its --out: an input that
// can be read only once (standard input, a pipe, a FIFO), signals in every
// phase, symbolic links planted in --out, the --rate floor, --out and
// --dest inside each other, and the journal of a killed run.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	"meetarchive/pipeline"
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
	ds := meetingtest.GenerateFiles(5, 1, 16<<10, 181)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 181})
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
			if code, _ := waitExit(t, run, stderr.String); code != 0 {
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

// assertOnlyReportFiles: dir holds the report files and the custody
// ledger, and nothing else (no temporary file, no lock, no journal).
func assertOnlyReportFiles(t *testing.T, dir string) {
	t.Helper()
	want := map[string]bool{pipeline.LedgerFile: true} // the custody ledger, beside the report
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
	ds := meetingtest.GenerateFiles(2, 1, 4<<10, 183)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 183})
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
			code, took := waitExit(t, cmd, func() string { return readLog(logPath) })
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

// waitExit waits for cmd to end (60 s at most, a safety net: a run that
// hangs or ignores a signal is killed and the test fails, with diag) and
// returns its exit code and how long it took.
func waitExit(t *testing.T, cmd *exec.Cmd, diag func() string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitOf(t, err), time.Since(start)
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running after 60 s: killed\n%s", diag())
	}
	return -1, 0
}

// TestSignalEndsTheRunBeforeThePipeline: a signal while the run waits for
// the API before any conference starts (authentication, the list of a
// date range) ends it with exit 130 and a report; an input file's lines
// are all there, each cancelled (interrupted) and in failures.csv.
func TestSignalEndsTheRunBeforeThePipeline(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 1, 4<<10, 185)
	tests := []struct {
		name      string
		fault     meetingtest.Fault
		reached   func(meetingtest.Counters) bool
		dateRange bool
		rows      int
	}{
		{"authenticating", meetingtest.Fault{Endpoint: meetingtest.EndpointAuth, Kind: meetingtest.FaultLatency, Latency: time.Hour},
			func(c meetingtest.Counters) bool { return c.Auth > 0 }, false, len(ds.Conferences)},
		{"listing a date range", meetingtest.Fault{Endpoint: meetingtest.EndpointList, Kind: meetingtest.FaultLatency, Latency: time.Hour},
			func(c meetingtest.Counters) bool { return c.List > 0 }, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 185, Faults: []meetingtest.Fault{tc.fault}})
			dir := t.TempDir()
			out := filepath.Join(dir, "report")
			args := []string{"run", "--dest", filepath.Join(dir, "a"), "--out", out, "--input", writeInput(t, dir, ds.UUIDs()...)}
			if tc.dateRange {
				args = append(args[:len(args)-2], "--from", "2024-01-01", "--to", "2024-12-31")
			}
			cmd, logPath := startWithLog(t, simEnv(sim), args...)
			for deadline := time.Now().Add(30 * time.Second); !tc.reached(sim.Counters()); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the run never reached the API call\n%s", readLog(logPath))
				}
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			code, took := waitExit(t, cmd, func() string { return readLog(logPath) })
			t.Logf("%s: ended %s after SIGTERM", tc.name, took)
			if code != report.ExitInterrupted {
				t.Fatalf("exit %d, want %d\n%s", code, report.ExitInterrupted, readLog(logPath))
			}
			assertReportFiles(t, out)
			rows := readManifest(t, out)
			if len(rows) != tc.rows {
				t.Fatalf("%d rows, want %d: %v", len(rows), tc.rows, rows)
			}
			retry := map[string]bool{}
			for _, r := range readCSV(t, filepath.Join(out, report.FailuresCSV)) {
				retry[r["confUUID"]] = true
			}
			for _, r := range rows {
				if r["status"] != "cancelled" || r["errorCode"] != "interrupted" || !retry[r["confUUID"]] {
					t.Errorf("row %s: %s (%s), in failures.csv %v; want cancelled (interrupted), listed for a rerun", r["confUUID"], r["status"], r["errorCode"], retry[r["confUUID"]])
				}
			}
			if c := sim.Counters(); c.Media != 0 || c.Details != 0 {
				t.Errorf("the interrupted run asked for %d details and %d media", c.Details, c.Media)
			}
		})
	}
}

// TestOutRefusesSymlinks: a symbolic link planted in --out where the run
// would write its lock or its journal is refused (exit 2) and the file it
// points to keeps its bytes; a link where a report or metrics file goes is
// replaced by the file, never written through.
func TestOutRefusesSymlinks(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 4<<10, 187)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 187})
	tests := []struct {
		name string
		link string // in --out
		args []string
		want int
	}{
		{"lock", report.LockFile, nil, report.ExitUsage},
		{"journal", report.Journal, nil, report.ExitUsage},
		{"manifest", report.ManifestCSV, nil, report.ExitOK},
		{"summary", report.SummaryJSON, nil, report.ExitOK},
		{"metrics file", "run.prom", []string{"--metrics-file", "OUT/run.prom"}, report.ExitOK},
	}
	const precious = "precious bytes, not meetarchive's\n"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "report")
			target := filepath.Join(dir, "precious.txt")
			if err := os.WriteFile(target, []byte(precious), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(out, 0o777); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(out, tc.link)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			args := []string{"run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "OUT", out))
			}
			res := runBin(t, simEnv(sim), args...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != precious {
				t.Errorf("the link's target now holds %q (%v), want its bytes unchanged", b, err)
			}
			st, err := os.Lstat(link)
			switch {
			case tc.want == report.ExitUsage:
				if !strings.Contains(res.stderr, link) || !strings.Contains(res.stderr, "symbolic link") {
					t.Errorf("the error does not name the link %s:\n%s", link, res.stderr)
				}
				if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
					t.Error("the refused run created its destination")
				}
			case err != nil || !st.Mode().IsRegular():
				t.Errorf("%s after the run: %v, %v; want the run's own regular file", tc.link, st.Mode(), err)
			}
		})
	}
}

// TestKilledRunsJournalsAreKept: two runs killed (SIGKILL) in a row on one
// --out, then a run: each killed run's journal is kept in a directory of
// its own with the report rebuilt from it, and the run says where.
func TestKilledRunsJournalsAreKept(t *testing.T) {
	ds := meetingtest.GenerateFiles(6, 1, 1<<20, 189)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 189, MediaRate: 2 << 20}) // ~0.5 s a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "a")
	journal := filepath.Join(out, report.Journal)
	type killed struct {
		runID   string
		journal []byte
	}
	var runs []killed
	for i := range 2 {
		var before string // the journal of the run killed before, if any
		if len(runs) > 0 {
			before = runs[len(runs)-1].runID
		}
		cmd, stderr := startBin(t, simEnv(sim), func() bool { return journalRunID(journal) != before && countJournalRows(journal) >= 1 },
			"run", "--input", in, "--dest", dest, "--out", out, "--force")
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		b, err := os.ReadFile(journal)
		if err != nil {
			t.Fatalf("killed run %d left no journal: %v\n%s", i, err, stderr.String())
		}
		runs = append(runs, killed{journalRunID(journal), b})
	}

	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out)
	if res.code != 0 {
		t.Fatalf("run after the kills: exit %d\n%s", res.code, res.stderr)
	}
	prev, err := filepath.Glob(filepath.Join(out, report.PreviousPrefix+"*"))
	if err != nil || len(prev) != len(runs) {
		t.Fatalf("set-aside directories %v (%v), want one per killed run (%d)", prev, err, len(runs))
	}
	byRun := map[string]string{}
	for _, d := range prev {
		byRun[readSummary(t, d)["runId"].(string)] = d
	}
	for i, k := range runs {
		d, ok := byRun[k.runID]
		if !ok {
			t.Errorf("killed run %d (%s): no report rebuilt in any of %v", i, k.runID, prev)
			continue
		}
		if b, err := os.ReadFile(filepath.Join(d, report.Journal)); err != nil || !bytes.Equal(b, k.journal) {
			t.Errorf("%s: journal (%v) is not killed run %d's", d, err, i)
		}
		assertReportFiles(t, d)
		s := readSummary(t, d)
		if s["rebuilt"] != true || s["exitCode"] != float64(report.ExitInterrupted) {
			t.Errorf("%s: rebuilt %v, exitCode %v; want a rebuilt report of an interrupted run", d, s["rebuilt"], s["exitCode"])
		}
		if rows := readManifest(t, d); len(rows) != len(ds.Conferences) {
			t.Errorf("%s: %d rows, want every input line (%d)", d, len(rows), len(ds.Conferences))
		}
	}
	if !strings.Contains(res.stderr, byRun[runs[1].runID]) {
		t.Errorf("the run's log does not name %s, where it set the last killed run's journal aside:\n%s", byRun[runs[1].runID], res.stderr)
	}
	assertReportFiles(t, out)
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left after the run: %v", err)
	}
}

// journalRunID is the runId in the header of the journal at path, or "".
func journalRunID(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var head struct {
		Header struct {
			Run struct {
				RunID string `json:"runId"`
			} `json:"run"`
		} `json:"header"`
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if json.Unmarshal([]byte(line), &head) != nil {
		return ""
	}
	return head.Header.Run.RunID
}

// TestRunRefusesBadRatesAndNestedDirs: on the binary, a --rate below one
// call a day (it used to mean no limit at all) and an --out that is, or is
// inside, a local --dest (or the reverse; relative paths and symbolic links
// resolved) exit 2 naming the flags and values, and create nothing.
// Directories side by side, and a rate of one call a day, are accepted.
func TestRunRefusesBadRatesAndNestedDirs(t *testing.T) {
	ds := meetingtest.GenerateFiles(1, 1, 4<<10, 191)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 191})
	tests := []struct {
		name      string
		args      func(dir string) []string // after run --input IN
		env       map[string]string
		want      int
		mentions  []string // in stderr, with DIR replaced
		untouched []string // paths that must not exist afterwards, DIR replaced
	}{
		{"rate 1e-10", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/r", "--rate", "1e-10"} }, nil,
			2, []string{"--rate", "1e-10", "one request a day"}, []string{"DIR/a", "DIR/r"}},
		{"rate 1e-300", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/r", "--rate", "1e-300"} }, nil,
			2, []string{"--rate", "1e-300"}, []string{"DIR/a", "DIR/r"}},
		{"rate from the environment", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/r"} },
			map[string]string{"MEETARCHIVE_RATE": "0.00001"}, 2, []string{"$MEETARCHIVE_RATE", "0.00001"}, []string{"DIR/a", "DIR/r"}},
		{"rate of one call a day", func(d string) []string {
			return []string{"--dest", d + "/a", "--out", d + "/r", "--rate", "0.0000115741", "--dry-run"}
		}, nil, 0, nil, nil},
		{"out is dest", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/a"} }, nil,
			2, []string{"--out DIR/a", "--dest DIR/a"}, []string{"DIR/a"}},
		{"out inside dest", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/a/report"} }, nil,
			2, []string{"--out DIR/a/report", "--dest DIR/a"}, []string{"DIR/a"}},
		{"dest inside out", func(d string) []string { return []string{"--dest", d + "/r/archive", "--out", d + "/r"} }, nil,
			2, []string{"--dest DIR/r/archive", "--out DIR/r"}, []string{"DIR/r"}},
		{"out inside dest through ..", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/x/../a/r"} }, nil,
			2, []string{"--out DIR/x/../a/r", "--dest DIR/a"}, []string{"DIR/a"}},
		{"out inside dest through a symbolic link", func(d string) []string {
			return []string{"--dest", d + "/real/a", "--out", d + "/link/a/r"}
		}, nil, 2, []string{"--out DIR/link/a/r", "--dest DIR/real/a"}, []string{"DIR/real/a"}},
		{"side by side with a common prefix", func(d string) []string { return []string{"--dest", d + "/a", "--out", d + "/ab"} }, nil,
			0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "real"), 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(t.TempDir(), "in.csv")
			if err := os.WriteFile(in, []byte(ds.UUIDs()[0]+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			env := simEnv(sim)
			for k, v := range tc.env {
				env[k] = v
			}
			res := runBin(t, env, append([]string{"run", "--input", in}, tc.args(dir)...)...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			for _, m := range tc.mentions {
				if m = strings.ReplaceAll(m, "DIR", dir); !strings.Contains(res.stderr, m) {
					t.Errorf("stderr does not name %q:\n%s", m, res.stderr)
				}
			}
			for _, p := range tc.untouched {
				if p = strings.ReplaceAll(p, "DIR", dir); exists(p) {
					t.Errorf("%s was created by a refused run", p)
				}
			}
		})
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
