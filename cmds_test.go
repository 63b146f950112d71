package main

import (
	"archive/zip"
	"encoding/csv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// TestSimulateProcess: `meetarchive simulate` serves what the tests use, and
// a run against that process archives its recordings.
func TestSimulateProcess(t *testing.T) {
	addr := startSimulate(t, "--conferences", "3", "--files-per-conference", "2", "--file-size", "64KiB", "--sim-app-key", testAppKey, "--app-id", testAppID)
	dir := t.TempDir()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 2, FileSize: 64 << 10, Seed: 1,
		Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	env := map[string]string{"MEETARCHIVE_API": "http://" + addr, "MEETARCHIVE_APP_ID": testAppID, "MEETARCHIVE_APP_KEY": testAppKey, "MEETARCHIVE_QUIET": "1"}
	out := filepath.Join(dir, "r")
	res := runBin(t, env, "run", "--from", "2024-01-01", "--to", "2024-12-31", "--dest", filepath.Join(dir, "a"), "--out", out)
	if res.code != 0 {
		t.Fatalf("run against the simulate process: exit %d\n%s", res.code, res.stderr)
	}
	n := 0
	for _, r := range readManifest(t, out) {
		if r["status"] == "archived" && r["fileType"] != report.FileTypeEvidence { // recordings
			n++
		}
	}
	if want := len(ds.Conferences) * 2; n != want {
		t.Errorf("archived %d files, want %d", n, want)
	}
}

// TestListAndDateRangeRun: list writes a valid input; a date-range run uses
// the list's details and asks for no details again.
func TestListAndDateRangeRun(t *testing.T) {
	ds := meetingtest.GenerateFiles(130, 1, 4<<10, 43) // more than one page of 100
	ds.Conferences[5].Subject = "=cmd|' /C calc'!A0"
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 43})
	res := runBin(t, simEnv(sim), "list", "--from", "2024-01-01", "--to", "2030-01-01")
	if res.code != 0 {
		t.Fatalf("list exit %d\n%s", res.code, res.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("list output is not CSV: %v", err)
	}
	if got, want := strings.Join(recs[0], ","), "confUUID,confID,subject,startTime,available,isDecodeFinish"; got != want {
		t.Errorf("header %q, want %q", got, want)
	}
	seen := map[string]bool{}
	for _, r := range recs[1:] {
		if seen[r[0]] {
			t.Errorf("confUUID %s listed twice", r[0])
		}
		seen[r[0]] = true
		if strings.HasPrefix(r[2], "=") {
			t.Errorf("subject %q would run as a formula", r[2])
		}
	}
	if len(seen) != len(ds.Conferences) {
		t.Errorf("listed %d conferences, want %d", len(seen), len(ds.Conferences))
	}
	// The list output is a valid --input.
	dir := t.TempDir()
	in := filepath.Join(dir, "uuids.csv")
	if err := os.WriteFile(in, []byte(res.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	before := sim.Counters()
	res = runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r1"), "--dry-run")
	if res.code != 0 {
		t.Fatalf("run --input from list: exit %d\n%s", res.code, res.stderr)
	}
	if n := len(readManifest(t, filepath.Join(dir, "r1"))); n != len(ds.Conferences) {
		t.Errorf("run on list output: %d rows, want %d", n, len(ds.Conferences))
	}
	mid := sim.Counters()
	res = runBin(t, simEnv(sim), "run", "--from", "2024-01-01", "--to", "2030-01-01", "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r2"), "--dry-run")
	if res.code != 0 {
		t.Fatalf("run --from --to: exit %d\n%s", res.code, res.stderr)
	}
	after := sim.Counters()
	if d := after.Details - mid.Details; d != 0 {
		t.Errorf("a date-range run asked for details %d times; the list API already gave them", d)
	}
	if mid.Details-before.Details != int64(len(ds.Conferences)) {
		t.Errorf("a run from --input asked for details %d times, want %d", mid.Details-before.Details, len(ds.Conferences))
	}
	if n := len(readManifest(t, filepath.Join(dir, "r2"))); n != len(ds.Conferences) {
		t.Errorf("date-range run: %d rows, want %d", n, len(ds.Conferences))
	}
}

// TestNoSecretInOutputs: no app key, access token or download token in any
// report file (the xlsx unzipped), journal, sidecar or log line.
func TestNoSecretInOutputs(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 2, 8<<10, 47)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 47, RecordInfo: true})
	dir := t.TempDir()
	out, dest := filepath.Join(dir, "r"), filepath.Join(dir, "a")
	env := simEnv(sim)
	delete(env, "MEETARCHIVE_QUIET")
	res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out, "--log-level", "debug")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	// Any token= value that is not redacted, and the app key, anywhere.
	leak := regexp.MustCompile(`(?i)token=([^&"\s,]+)`)
	check := func(name string, data []byte) {
		if strings.Contains(string(data), testAppKey) {
			t.Errorf("%s contains the app key", name)
		}
		for _, m := range leak.FindAllStringSubmatch(string(data), -1) {
			if !strings.HasPrefix(strings.ToUpper(m[1]), "REDACTED") {
				t.Errorf("%s contains an unredacted token: %s", name, m[0])
			}
		}
	}
	check("stderr", []byte(res.stderr))
	check("stdout", []byte(res.stdout))
	for _, root := range []string{out, dest} {
		_ = filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil || !info.Mode().IsRegular() {
				return err
			}
			if strings.HasSuffix(p, ".mp4") {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			check(p, data)
			if strings.HasSuffix(p, ".xlsx") {
				zr, err := zip.OpenReader(p)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				for _, f := range zr.File {
					rc, _ := f.Open()
					part, _ := io.ReadAll(rc)
					rc.Close()
					check(p+"!"+f.Name, part)
				}
				zr.Close()
			}
			return nil
		})
	}
	sidecars, _ := filepath.Glob(filepath.Join(dest, "_meetarchive", "*.json"))
	if len(sidecars) != len(ds.Conferences) {
		t.Errorf("%d sidecars, want %d", len(sidecars), len(ds.Conferences))
	}
}

// TestReadmeDocumentsEveryFlag: every flag that --help lists is in README.md.
func TestReadmeDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	flagLine := regexp.MustCompile(`^  --([a-z0-9-]+)`)
	for _, cmd := range helpCommands(t) {
		res := runBin(t, nil, cmd, "--help")
		n := 0
		for _, line := range strings.Split(res.stderr, "\n") {
			m := flagLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			n++
			if !strings.Contains(string(readme), "--"+m[1]) {
				t.Errorf("%s --%s is not documented in README.md", cmd, m[1])
			}
		}
		if n == 0 {
			t.Errorf("%s --help lists no flags", cmd)
		}
	}
}

// TestVerifyDirectory: verify catches an overwritten and a deleted file in a
// directory destination, with and without --dest.
func TestVerifyDirectory(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 1, 16<<10, 53)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 53})
	dir := t.TempDir()
	out, dest := filepath.Join(dir, "r"), filepath.Join(dir, "a")
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out); res.code != 0 {
		t.Fatalf("run exit %d\n%s", res.code, res.stderr)
	}
	manifest := filepath.Join(out, "manifest.csv")
	sums := filepath.Join(out, "sha256sums.txt")
	// sha256sum -c from the destination root checks the archive without us.
	sha256sumCheck := func() (int, string) {
		if _, err := exec.LookPath("sha256sum"); err != nil {
			return -1, ""
		}
		cmd := exec.Command("sha256sum", "-c", sums)
		cmd.Dir = dest
		b, err := cmd.CombinedOutput()
		if err != nil {
			return cmd.ProcessState.ExitCode(), string(b)
		}
		return 0, string(b)
	}
	if code, outText := sha256sumCheck(); code > 0 {
		t.Errorf("sha256sum -c on an intact archive: exit %d\n%s", code, outText)
	}
	verifyArgs := [][]string{{"verify", "--manifest", manifest}, {"verify", "--manifest", manifest, "--dest", dest}, {"verify", "--sums", sums, "--dest", dest}}
	for _, args := range verifyArgs {
		if res := runBin(t, nil, args...); res.code != 0 {
			t.Fatalf("%v on an intact archive: exit %d\n%s%s", args, res.code, res.stdout, res.stderr)
		}
	}
	rows := readManifest(t, out)
	// One byte of one recording changed.
	b, err := os.ReadFile(rows[0]["objectURI"])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(rows[0]["objectURI"], b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, outText := sha256sumCheck(); code == 0 {
		t.Errorf("sha256sum -c passed after a byte changed:\n%s", outText)
	}
	if err := os.Remove(rows[1]["objectURI"]); err != nil {
		t.Fatal(err)
	}
	for _, args := range verifyArgs {
		res := runBin(t, nil, args...)
		if res.code != 1 {
			t.Fatalf("%v: exit %d, want 1\n%s%s", args, res.code, res.stdout, res.stderr)
		}
		for _, want := range []string{"mismatch\t" + rows[0]["objectURI"], "missing\t" + rows[1]["objectURI"], "1 ok, 1 missing, 1 mismatched"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, res.stdout)
			}
		}
	}
}

// TestNoFilesAndEmptyInput: a recording without files is reported no-files
// (not a failure); an input with only a header gives an empty, valid report.
func TestNoFilesAndEmptyInput(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 1, FileSize: 4 << 10, NoFiles: 1, Seed: 71,
		Start: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 71})
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	counts := map[string]int{}
	for _, r := range readManifest(t, out) {
		counts[r["status"]]++
	}
	if counts["no-files"] != 1 || counts["archived"] != 2 {
		t.Errorf("statuses %v, want 1 no-files and 2 archived", counts)
	}

	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, []byte("confUUID\r\n\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "r2")
	res = runBin(t, simEnv(sim), "run", "--input", empty, "--dest", filepath.Join(dir, "a"), "--out", out2)
	if res.code != 0 {
		t.Fatalf("empty input: exit %d\n%s", res.code, res.stderr)
	}
	assertReportFiles(t, out2)
	if rows := readManifest(t, out2); len(rows) != 0 {
		t.Errorf("empty input: %d rows, want 0", len(rows))
	}
}

// TestListNeutralisesFormulaCells: list's CSV shows formula-like subjects
// and IDs as text, as the manifest does.
func TestListNeutralisesFormulaCells(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 1<<10, 119)
	ds.Conferences[0].Subject = "=HYPERLINK(\"http://evil\",\"x\")"
	ds.Conferences[1].Subject = "@SUM(1+1)"
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 119})
	res := runBin(t, simEnv(sim), "list", "--from", "2024-01-01", "--to", "2030-01-01")
	if res.code != 0 {
		t.Fatalf("list: exit %d\n%s", res.code, res.stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("list output (%v):\n%s", err, res.stdout)
	}
	for _, r := range recs[1:] {
		if s := r[2]; strings.ContainsAny(s[:1], "=+-@") {
			t.Errorf("subject cell %q would be read as a formula", s)
		}
	}
}

// TestReadmeDocumentsEveryColumn: the README's column table names every
// manifest column, and no column that does not exist.
func TestReadmeDocumentsEveryColumn(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "#### Manifest columns")
	if start < 0 {
		t.Fatal("README has no Manifest columns section")
	}
	section := text[start:]
	section = section[:strings.Index(section, "\n\n`failures.csv`")]
	documented := map[string]bool{}
	cell := regexp.MustCompile("^\\| (`[^|]+`) \\|")
	name := regexp.MustCompile("`([A-Za-z0-9]+)`")
	for _, line := range strings.Split(section, "\n") {
		if m := cell.FindStringSubmatch(line); m != nil {
			for _, n := range name.FindAllStringSubmatch(m[1], -1) {
				documented[n[1]] = true
			}
		}
	}
	for _, c := range report.ManifestColumns() {
		if !documented[c] {
			t.Errorf("column %s is not in the README's column table", c)
		}
		delete(documented, c)
	}
	for c := range documented {
		t.Errorf("the README documents a column %s that manifest.csv does not have", c)
	}
}
