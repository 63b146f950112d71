package main

// Operating the binary: kill and rerun, shards and merge, deletion after
// archive, dry runs, logs and progress.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestSigkillJournalRebuildAndRerun: a killed run leaves a journal from which
// `report --from-journal` rebuilds a correct report of the finished
// conferences, and a rerun completes the rest without downloading again any
// file that had been committed.
func TestSigkillJournalRebuildAndRerun(t *testing.T) {
	ds := meetingtest.GenerateFiles(10, 1, 1<<20, 11)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 11, MediaRate: 2 << 20}) // ~0.5 s a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "a")
	journal := filepath.Join(out, report.Journal)
	cmd, stderr := startBin(t, simEnv(sim), func() bool { return countJournalRows(journal) >= 3 },
		"run", "--input", in, "--dest", dest, "--out", out, "--concurrency", "2")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if _, err := os.Stat(filepath.Join(out, report.ManifestCSV)); err == nil {
		t.Fatalf("a killed run must not leave a manifest that looks complete\n%s", stderr.String())
	}

	res := runBin(t, nil, "report", "--from-journal", out)
	if res.code != 0 {
		t.Fatalf("report --from-journal exit %d\n%s", res.code, res.stderr)
	}
	assertReportFiles(t, out)
	rows := readManifest(t, out)
	// Every input line is accounted for: finished ones as they ended, the
	// rest cancelled (interrupted) and listed in failures.csv for a rerun.
	if len(rows) != len(ds.Conferences) {
		t.Fatalf("rebuilt report has %d rows, want one per input line (%d)", len(rows), len(ds.Conferences))
	}
	retry := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(out, report.FailuresCSV)) {
		retry[r["confUUID"]] = true
	}
	committed := map[string]bool{}
	for _, r := range rows {
		if r["status"] == "cancelled" && r["errorCode"] == "interrupted" && retry[r["confUUID"]] {
			continue
		}
		if r["status"] != "archived" {
			t.Errorf("rebuilt row %v: want archived, or cancelled (interrupted) and in failures.csv", r)
			continue
		}
		if got := fileSHA256(t, r["objectURI"]); got != r["sha256"] {
			t.Errorf("rebuilt row %s: file sha256 %s, manifest %s", r["objectURI"], got, r["sha256"])
		}
		committed[r["confUUID"]] = true
	}

	// Rerun: everything ends archived; no committed file is downloaded twice.
	servedBefore := map[string]int{}
	for _, s := range sim.Served() {
		servedBefore[s.ConfUUID]++
	}
	out2 := filepath.Join(dir, "report2")
	res = runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out2)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	servedAfter := map[string]int{}
	for _, s := range sim.Served() {
		servedAfter[s.ConfUUID]++
	}
	for u := range committed {
		if servedAfter[u] != servedBefore[u] {
			t.Errorf("committed conference %s downloaded again on rerun", u)
		}
	}
	for u, ss := range statusesByConf(readManifest(t, out2)) {
		for _, s := range ss {
			if s != "archived" && s != "already-archived" {
				t.Errorf("rerun: %s is %s", u, s)
			}
			if committed[u] && s != "already-archived" {
				t.Errorf("rerun: committed %s is %s, want already-archived", u, s)
			}
		}
	}
}

func countJournalRows(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"status":"archived"`) {
			n++
		}
	}
	return n
}

// TestShardsMergedEqualOneRun: two shards of one input, merged, archive the
// same set of conferences as one unsharded run.
func TestShardsMergedEqualOneRun(t *testing.T) {
	ds := meetingtest.GenerateFiles(12, 1, 4<<10, 13)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 13})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)

	archivedSet := func(out string) []string {
		var s []string
		for _, r := range readManifest(t, out) {
			if r["status"] == "archived" || r["status"] == "already-archived" {
				s = append(s, r["confUUID"])
			}
		}
		sort.Strings(s)
		return s
	}
	whole := filepath.Join(dir, "whole")
	if res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a1"), "--out", whole); res.code != 0 {
		t.Fatalf("unsharded exit %d\n%s", res.code, res.stderr)
	}
	var shardDirs []string
	for k := 0; k < 2; k++ {
		out := filepath.Join(dir, "shard", string(rune('0'+k)))
		env := simEnv(sim)
		env["JOB_COMPLETION_INDEX"] = string(rune('0' + k))
		if res := runBin(t, env, "run", "--input", in, "--dest", filepath.Join(dir, "a2"), "--out", out, "--shard", "/2"); res.code != 0 {
			t.Fatalf("shard %d exit %d\n%s", k, res.code, res.stderr)
		}
		if n := len(archivedSet(out)); n == 0 || n == len(ds.Conferences) {
			t.Errorf("shard %d archived %d of %d conferences: not a split", k, n, len(ds.Conferences))
		}
		shardDirs = append(shardDirs, out)
	}
	merged := filepath.Join(dir, "merged")
	if res := runBin(t, nil, append([]string{"merge", "--out", merged}, shardDirs...)...); res.code != 0 {
		t.Fatalf("merge exit %d\n%s", res.code, res.stderr)
	}
	assertReportFiles(t, merged)
	// Merging into one of its own inputs is a usage error, and changes nothing.
	before := fileSHA256(t, filepath.Join(shardDirs[0], report.ManifestCSV))
	if res := runBin(t, nil, append([]string{"merge", "--out", shardDirs[0] + "/."}, shardDirs...)...); res.code != 2 {
		t.Errorf("merge --out onto an input: exit %d, want 2\n%s", res.code, res.stderr)
	}
	if after := fileSHA256(t, filepath.Join(shardDirs[0], report.ManifestCSV)); after != before {
		t.Error("merge onto an input changed it")
	}
	got, want := archivedSet(merged), archivedSet(whole)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("merged shards archived %v\nunsharded run archived %v", got, want)
	}
}

// TestDeleteOnlyVerified: with one corrupted file (record info's sha256
// unchanged), that conference is not deleted and the others are.
func TestDeleteOnlyVerified(t *testing.T) {
	ds := meetingtest.GenerateFiles(4, 1, 64<<10, 17)
	bad := ds.Conferences[1].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 17, RecordInfo: true,
		Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "flip", ConfUUID: bad}}})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out := filepath.Join(dir, "report")

	// Without --confirm-delete nothing runs.
	if res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out, "--delete-after-archive"); res.code != 2 {
		t.Fatalf("--delete-after-archive alone: exit %d, want 2", res.code)
	}
	// Dry run shows, does not delete.
	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "dry"),
		"--delete-after-archive", "--confirm-delete", "--dry-run")
	if res.code != 0 {
		t.Fatalf("dry run exit %d\n%s", res.code, res.stderr)
	}
	if n := sim.Counters().Delete; n != 0 {
		t.Fatalf("dry run deleted %d recordings", n)
	}
	for _, r := range readManifest(t, filepath.Join(dir, "dry")) {
		if r["status"] != "planned" || !strings.Contains(r["errorMessage"], "delete") {
			t.Errorf("dry-run row %v: want planned, showing the deletion", r)
		}
	}

	res = runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out,
		"--links", "recordinfo", "--delete-after-archive", "--confirm-delete")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (one conference fails integrity)\n%s", res.code, res.stderr)
	}
	for _, r := range readManifest(t, out) {
		u := r["confUUID"]
		if u == bad {
			if r["status"] != "failed" || r["errorCode"] != "integrity" || r["deleted"] == "true" {
				t.Errorf("corrupted conference row %v: want failed/integrity, not deleted", r)
			}
			if sim.Deleted(u) {
				t.Errorf("corrupted conference %s was deleted from the platform", u)
			}
			continue
		}
		if r["status"] != "archived" || r["deleted"] != "true" || !sim.Deleted(u) {
			t.Errorf("verified conference row %v (platform deleted: %v): want archived and deleted", r, sim.Deleted(u))
		}
	}
}

// TestDryRunPlans: details only, planned rows with estimated sizes.
func TestDryRunPlans(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 2, 8<<10, 19)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 19})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	dest := filepath.Join(dir, "a")
	out := filepath.Join(dir, "report")
	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out, "--dry-run")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	c := sim.Counters()
	if c.Media != 0 || c.DownloadURLs != 0 {
		t.Errorf("dry run made %d media and %d downloadurls requests, want 0", c.Media, c.DownloadURLs)
	}
	rows := readManifest(t, out)
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	for _, r := range rows {
		if r["status"] != "planned" {
			t.Errorf("row %v: want planned", r)
		}
	}
	// A dry run writes nothing anywhere but --out: not even the destination folder.
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created the destination %s (%v)", dest, err)
	}

	// After one conference is archived, a dry run says so (a read-only
	// check) and its estimate is what a real run would still download.
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, t.TempDir(), ds.UUIDs()[0]), "--dest", dest, "--out", filepath.Join(dir, "r1")); res.code != 0 {
		t.Fatalf("archiving one: exit %d\n%s", res.code, res.stderr)
	}
	before := listTree(t, dest)
	out2 := filepath.Join(dir, "report2")
	if res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out2, "--dry-run"); res.code != 0 {
		t.Fatalf("second dry run: exit %d\n%s", res.code, res.stderr)
	}
	got := statusesByConf(readManifest(t, out2))
	if s := got[ds.UUIDs()[0]]; len(s) == 0 || s[0] != "already-archived" {
		t.Errorf("archived conference in a dry run: %v, want already-archived", s)
	}
	for _, u := range ds.UUIDs()[1:] {
		if s := got[u]; len(s) != 1 || s[0] != "planned" {
			t.Errorf("%s in a dry run: %v, want planned", u, s)
		}
	}
	if after := listTree(t, dest); !slices.Equal(before, after) {
		t.Errorf("dry run changed the destination:\nbefore %v\nafter  %v", before, after)
	}
}

// listTree lists every path under root with its size.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d", p, info.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLogsAndProgressOffTerminal: periodic progress lines, no bar control
// characters, JSON logs that parse line by line with a confUUID where one applies.
func TestLogsAndProgressOffTerminal(t *testing.T) {
	ds := meetingtest.GenerateFiles(4, 1, 1<<20, 23)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 23, MediaRate: 4 << 20})
	dir := t.TempDir()
	env := simEnv(sim)
	delete(env, "MEETARCHIVE_QUIET")
	res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r"),
		"--log-format", "json", "--progress-interval", "200ms", "--concurrency", "1")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if strings.ContainsAny(res.stderr, "\r\x1b") {
		t.Error("stderr carries progress-bar control characters although it is not a terminal")
	}
	progressLines, confLines := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(res.stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		msg, _ := m["msg"].(string)
		if strings.HasPrefix(msg, "progress") {
			progressLines++
			for _, k := range []string{"conferences_done", "conferences_total", "bytes", "rate", "eta"} {
				if _, ok := m[k]; !ok {
					t.Errorf("progress line without %s: %s", k, line)
				}
			}
		}
		if msg == "stored" || msg == "archived" {
			confLines++
			if u, _ := m["confUUID"].(string); u == "" {
				t.Errorf("conference log line without confUUID: %s", line)
			}
		}
		if strings.Contains(line, meetingtest.DefaultAppKey) {
			t.Error("a log line carries the app key")
		}
	}
	if progressLines < 2 {
		t.Errorf("got %d progress lines, want periodic ones", progressLines)
	}
	if confLines == 0 {
		t.Error("no per-conference log lines")
	}
	// stdout carries only results: the report paths.
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		if !strings.HasPrefix(line, filepath.Join(dir, "r")) {
			t.Errorf("stdout line %q is not a report path", line)
		}
	}
}

// TestSecondSignalCancelsAtOnce: with a long grace, a second signal stops the
// conferences in flight at once; the report still lists every conference.
func TestSecondSignalCancelsAtOnce(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 1, 8<<20, 67)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 67, MediaRate: 1 << 20}) // 8 s a file
	dir := t.TempDir()
	out := filepath.Join(dir, "report")
	cmd, stderr := startBin(t, simEnv(sim), func() bool { return sim.Counters().MediaBytes >= 1<<20 },
		"run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out, "--grace", "1m")
	_ = cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\n%s", err, stderr.String())
	}
	// The files take 8 s each, the grace is a minute: only the second
	// signal can have cut them.
	if n := sim.Counters().MediaComplete; n != 0 {
		t.Errorf("%d downloads of 8 s finished after the second signal, want none (grace was 1m)", n)
	}
	for _, u := range ds.UUIDs() {
		if ss := statusesByConf(readManifest(t, out))[u]; len(ss) != 1 || ss[0] != "cancelled" {
			t.Errorf("%s: %v, want cancelled", u, ss)
		}
	}
}
