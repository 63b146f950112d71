package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestConcurrentRunsOnOneOut: a second run on the same --out exits 2 at
// once, naming the holder, and the first run's report is complete.
func TestConcurrentRunsOnOneOut(t *testing.T) {
	ds := meetingtest.GenerateFiles(4, 1, 512<<10, 97)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 97, MediaRate: 64 << 10}) // 8 s a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "a")
	first, firstErr := startBin(t, simEnv(sim), func() bool {
		_, err := os.Stat(filepath.Join(out, report.Journal))
		return err == nil
	}, "run", "--input", in, "--dest", dest, "--out", out)
	second := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "b"), "--out", out)
	if second.code != 2 {
		t.Errorf("second run on the same --out: exit %d, want 2\n%s", second.code, second.stderr)
	}
	// It gave up at once, not when the lock was free: the first run (8 s of
	// media, however fast the machine) had not finished its downloads.
	if n := sim.Counters().MediaComplete; n != 0 {
		t.Errorf("the first run had finished %d downloads when the second gave up: it waited for the lock", n)
	}
	if !strings.Contains(second.stderr, strconv.Itoa(first.Process.Pid)) {
		t.Errorf("second run's error does not name the holder's PID %d:\n%s", first.Process.Pid, second.stderr)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, firstErr.String())
	}
	assertReportFiles(t, out)
	for u, ss := range statusesByConf(readManifest(t, out)) {
		if len(ss) != 1 || ss[0] != "archived" {
			t.Errorf("first run: %s is %v, want archived", u, ss)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "b")); err == nil {
		t.Error("the refused run created its destination")
	}
}

// TestConcurrentRunsShareADestination: two runs on one destination with
// different --out do not corrupt each other: every conference ends archived
// by one of them (already-archived or archived again by the other), and
// verify finds every object of both reports intact.
func TestConcurrentRunsShareADestination(t *testing.T) {
	ds := meetingtest.GenerateFiles(6, 2, 256<<10, 101)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 101, MediaRate: 4 << 20})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	dest := filepath.Join(dir, "a")
	outs := []string{filepath.Join(dir, "r1"), filepath.Join(dir, "r2")}
	type done struct {
		code   int
		stderr string
	}
	results := make(chan done, 2)
	for _, out := range outs {
		go func() {
			cmd, _, stderr := binCommand(simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out, "--concurrency", "3")
			err := cmd.Run()
			code := 0
			if err != nil {
				code = cmd.ProcessState.ExitCode()
			}
			results <- done{code, stderr.String()}
		}()
	}
	for range outs {
		if r := <-results; r.code != 0 {
			t.Errorf("run: exit %d\n%s", r.code, r.stderr)
		}
	}
	for _, out := range outs {
		for u, ss := range statusesByConf(readManifest(t, out)) {
			for _, s := range ss {
				if s != "archived" && s != "already-archived" {
					t.Errorf("%s: %s is %s", out, u, s)
				}
			}
		}
	}
	// The report written last describes the destination as it is.
	for _, out := range outs {
		res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV))
		if res.code != 0 {
			t.Errorf("verify %s: exit %d\n%s%s", out, res.code, res.stdout, res.stderr)
		}
	}
}
