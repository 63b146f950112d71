package main

// Issue 18's report-side defects, each reproduced on the built binary:
// merge refuses corrupt cells, local I/O errors get their own code, stale
// temporary files are swept, terminal output is escaped, playback URLs keep
// no credentials, a failed metrics push is a warning, verify checks the
// sidecars, and --quiet is quiet.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xuri/excelize/v2"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// copyReport copies the files of a report directory that merge reads.
func copyReport(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{report.ManifestCSV, report.SummaryJSON} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// editManifest changes one cell of manifest.csv: column col of the first
// data row that pick accepts. It returns the 1-based line that row starts
// on in the edited file.
func editManifest(t *testing.T, dir, col string, pick func(map[string]string) bool, value func(old string) string) int {
	t.Helper()
	path := filepath.Join(dir, report.ManifestCSV)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	ci := -1
	for i, h := range recs[0] {
		if h == col {
			ci = i
		}
	}
	if ci < 0 {
		t.Fatalf("manifest has no column %s", col)
	}
	target := -1
	for i, rec := range recs[1:] {
		m := map[string]string{}
		for j, h := range recs[0] {
			m[h] = rec[j]
		}
		if pick(m) {
			target = i + 1
			break
		}
	}
	if target < 0 {
		t.Fatalf("no manifest row to edit for column %s", col)
	}
	recs[target][ci] = value(recs[target][ci])
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o666); err != nil {
		t.Fatal(err)
	}
	// The line the edited record starts on, as a CSV reader counts it.
	cr := csv.NewReader(bytes.NewReader(buf.Bytes()))
	for i := 0; ; i++ {
		if _, err := cr.Read(); err != nil {
			t.Fatalf("re-reading the edited manifest: %v", err)
		}
		if i == target {
			line, _ := cr.FieldPos(0)
			return line
		}
	}
}

// TestMergeRefusesCorruptCells: every corrupt cell of a shard's manifest
// makes merge refuse the shard with exit 3, naming the shard, the row's
// line and the column, and write no merged report; clean shards (with the
// invalid input lines the writer reports as given) still merge.
func TestMergeRefusesCorruptCells(t *testing.T) {
	ds := meetingtest.GenerateFiles(6, 1, 4<<10, 181)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 181})
	dir := t.TempDir()
	lines := append(ds.UUIDs(), "not-a-uuid", "../../etc/passwd", "=cmd|' /C calc'!A0")
	in := writeInput(t, dir, lines...)
	var shards []string
	for k := 0; k < 2; k++ {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d", k))
		res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out, "--shard", fmt.Sprintf("%d/2", k))
		if res.code != 0 && res.code != 1 {
			t.Fatalf("shard %d: exit %d\n%s", k, res.code, res.stderr)
		}
		shards = append(shards, out)
	}
	// Each shard reports the invalid lines as given; they are not corrupt.
	clean := filepath.Join(dir, "merged-clean")
	if res := runBin(t, nil, "merge", "--out", clean, shards[0], shards[1]); res.code != 0 {
		t.Fatalf("clean merge: exit %d, want 0\n%s", res.code, res.stderr)
	}
	invalid := 0
	for _, r := range readManifest(t, clean) {
		if r["status"] == "invalid-input" {
			invalid++
		}
	}
	if invalid == 0 {
		t.Fatal("the clean merge has no invalid-input row: the test does not exercise the given-text form")
	}

	archivedFile := func(r map[string]string) bool { return r["status"] == "archived" && r["fileName"] != "" }
	anyRow := func(map[string]string) bool { return true }
	tests := []struct {
		name  string
		col   string
		pick  func(map[string]string) bool
		value func(string) string
	}{
		{"unknown status", "status", archivedFile, func(string) string { return "archivXd" }},
		{"sha256 not 64 hex", "sha256", archivedFile, func(old string) string { return old[:40] }},
		{"sha256 upper case", "sha256", archivedFile, strings.ToUpper},
		{"sha256 missing", "sha256", archivedFile, func(string) string { return "" }},
		{"NUL in objectURI", "objectURI", archivedFile, func(old string) string { return old + "\x00.evil" }},
		{"ESC in subject", "subject", archivedFile, func(old string) string { return old + "\x1b[2J" }},
		{"negative seq", "seq", anyRow, func(string) string { return "-1" }},
		{"seq not a number", "seq", anyRow, func(string) string { return "one" }},
		{"confUUID a path", "confUUID", archivedFile, func(string) string { return "../../etc/passwd" }},
		{"confUUID empty", "confUUID", archivedFile, func(string) string { return "" }},
		{"negative bytes", "bytes", archivedFile, func(string) string { return "-5" }},
		{"negative fileIndex", "fileIndex", archivedFile, func(string) string { return "-1" }},
		// Found by a tester after the first fix:
		{"bytes with a plus sign", "bytes", archivedFile, func(old string) string { return "+" + old }},
		{"archived without bytes", "bytes", archivedFile, func(string) string { return "" }},
		{"objectKey climbing out", "objectKey", archivedFile, func(string) string { return "../../../etc/passwd" }},
		{"objectKey absolute", "objectKey", archivedFile, func(string) string { return "/etc/passwd" }},
		{"sha256 on a pending row", "sha256", func(r map[string]string) bool { return r["status"] == "invalid-input" }, func(string) string { return strings.Repeat("a", 64) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "shard-bad")
			copyReport(t, shards[1], bad)
			line := editManifest(t, bad, tc.col, tc.pick, tc.value)
			out := filepath.Join(t.TempDir(), "merged")
			res := runBin(t, nil, "merge", "--out", out, shards[0], bad)
			if res.code != 3 {
				t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			for _, want := range []string{bad, fmt.Sprintf("line %d", line), "column " + tc.col} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not name %q:\n%s", want, res.stderr)
				}
			}
			if strings.ContainsAny(res.stderr, "\x00\x1b") {
				t.Errorf("stderr carries a raw control byte: %q", res.stderr)
			}
			if _, err := os.Stat(filepath.Join(out, report.ManifestCSV)); err == nil {
				t.Errorf("a refused merge wrote %s", report.ManifestCSV)
			}
		})
	}
}

// mountTmpfs mounts a tmpfs of the given size (e.g. "1m") on a new
// directory and unmounts it when the test ends; it skips the test when
// mounting is refused (not root, no tmpfs, a sandbox without mount).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("a full disk needs a small tmpfs, and mount was refused (%v: %s); run as root to test it", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk leaves about free bytes free on the file system of dir.
func fillDisk(t *testing.T, dir string, free int64) {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * st.Bsize
	if avail <= free {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "filler"), make([]byte, avail-free), 0o666); err != nil {
		t.Fatal(err)
	}
}

// TestFullDiskHasItsOwnCode: a destination whose disk fills up fails the
// files that do not fit with errorCode disk-full and a hint naming the
// directory (not "connection" and "check connectivity"); a full --out
// ends the run with exit 3 and a closing line that says disk-full and
// names the directory.
func TestFullDiskHasItsOwnCode(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 1, 700<<10, 182)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 182})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)

	t.Run("dest", func(t *testing.T) {
		dest := mountTmpfs(t, "1m")
		out := filepath.Join(t.TempDir(), "report")
		env := simEnv(sim)
		env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
		res := runBin(t, env, "run", "--input", in, "--dest", dest, "--out", out, "--concurrency", "1")
		if res.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
		}
		full := 0
		for _, r := range readManifest(t, out) {
			if r["status"] == "archived" {
				continue
			}
			if r["errorCode"] == "connection" || strings.Contains(r["hint"], "connectivity") {
				t.Errorf("row %s/%s: errorCode %s, hint %q: a full disk reported as a network problem", r["confUUID"], r["fileName"], r["errorCode"], r["hint"])
			}
			if r["errorCode"] == "disk-full" {
				full++
				if !strings.Contains(r["hint"], dest) || !strings.Contains(r["hint"], "free space") {
					t.Errorf("disk-full hint %q does not name %s and what to do", r["hint"], dest)
				}
			}
		}
		if full == 0 {
			t.Errorf("no row has errorCode disk-full; manifest:\n%v", readManifest(t, out))
		}
	})

	t.Run("out", func(t *testing.T) {
		out := mountTmpfs(t, "1m")
		fillDisk(t, out, 8<<10)
		res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(t.TempDir(), "a"), "--out", out)
		if res.code != 3 {
			t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
		}
		last := lastLine(res.stderr)
		if !strings.Contains(res.stderr, "disk-full") || !strings.Contains(last, out) {
			t.Errorf("stderr does not end saying disk-full and naming %s:\n%s", out, res.stderr)
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// partialFiles lists the temporary files a directory store leaves behind
// when it is killed mid-write.
func partialFiles(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name := d.Name(); !d.IsDir() && (strings.HasSuffix(name, ".partial") || strings.HasPrefix(name, ".meetarchive-") || strings.HasPrefix(name, ".preflight-")) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return found
}

// TestRerunSweepsStalePartials: a run killed (SIGKILL) while files stream
// into a directory leaves temporary .partial files; the rerun that
// archives those conferences removes them, and verify and sha256sums.txt
// then describe a destination with nothing else in it.
func TestRerunSweepsStalePartials(t *testing.T) {
	ds := meetingtest.GenerateFiles(4, 2, 1<<20, 183)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 183, MediaRate: 1 << 20}) // about a second a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	dest := filepath.Join(dir, "a")
	cmd, stderr := startBin(t, simEnv(sim), func() bool { return len(partialFiles(t, dest)) >= 2 },
		"run", "--input", in, "--dest", dest, "--out", filepath.Join(dir, "report1"), "--concurrency", "4")
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	left := partialFiles(t, dest)
	if len(left) == 0 {
		t.Fatalf("the killed run left no temporary file: nothing to test\n%s", stderr.String())
	}

	out := filepath.Join(dir, "report2")
	env := simEnv(sim)
	res := runBin(t, env, "run", "--input", in, "--dest", dest, "--out", out)
	if res.code != 0 {
		t.Fatalf("rerun: exit %d\n%s", res.code, res.stderr)
	}
	if got := partialFiles(t, dest); len(got) > 0 {
		t.Errorf("after the rerun, temporary files are still in the destination: %v (the killed run left %v)", got, left)
	}
	// Everything in the destination is now an archived object or a sidecar.
	listed := map[string]bool{}
	for _, r := range readManifest(t, out) {
		listed[r["objectKey"]] = true
	}
	_ = filepath.WalkDir(dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dest, p)
		if !listed[filepath.ToSlash(rel)] && !strings.HasPrefix(rel, "_meetarchive"+string(filepath.Separator)) {
			t.Errorf("%s is in the destination but in no row of the rerun's manifest", rel)
		}
		return nil
	})
	if res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest); res.code != 0 {
		t.Errorf("verify after the rerun: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestHostileErrorTextIsEscapedOnTheTerminal: an API error message with
// terminal control sequences (ESC, BEL, CR, LF) reaches stderr escaped,
// in the closing line as in the log: no raw control byte but the line ends.
func TestHostileErrorTextIsEscapedOnTheTerminal(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 4<<10, 184)
	hostile := "\x1b[2J\x1b]0;pwned\x07denied\r\nmeetarchive: all good"
	tests := []struct {
		name  string
		fault meetingtest.Fault
		want  int
	}{
		{"auth refused (fatal)", meetingtest.Fault{Endpoint: "auth", Kind: "status", Status: 401, Message: hostile}, 3},
		{"details refused", meetingtest.Fault{Endpoint: "details", Kind: "status", Status: 403, Code: "MMC.111070002", Message: hostile}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 184, Faults: []meetingtest.Fault{tc.fault}})
			dir := t.TempDir()
			in := writeInput(t, dir, ds.UUIDs()...)
			env := simEnv(sim)
			env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
			res := runBin(t, env, "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "report"))
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", res.code, tc.want, res.stderr)
			}
			for name, s := range map[string]string{"stdout": res.stdout, "stderr": res.stderr} {
				if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }); i >= 0 {
					t.Errorf("%s carries a raw control byte %q at %d:\n%q", name, s[i], i, s)
				}
				for _, line := range strings.Split(s, "\n") {
					if strings.HasPrefix(line, "meetarchive: all good") {
						t.Errorf("%s: the API's text forged a line of its own: %q", name, line)
					}
				}
			}
			if tc.want == 3 && !strings.Contains(lastLine(res.stderr), `\x1b[2J`) {
				t.Errorf("the closing line does not show the API's message escaped: %q", lastLine(res.stderr))
			}
		})
	}
}

// TestPlaybackURLsKeepNoCredential: playback links signed the way CDNs
// sign them (auth_key=, sign=, t=, a token as a path segment, user:pass@,
// a fragment route with token=) reach no output file, sidecar or log line
// with any of it: only scheme, host and path remain.
func TestPlaybackURLsKeepNoCredential(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 8<<10, 185)
	const pathToken = "Zk9xQ2V3bW1hN0s4cVJ0eE9w"
	secrets := []string{"1700000000-0-0-9f8e7d6c5b4a", "c0ffeec0ffee1234", "t=1700000000", pathToken, "hunter2", "FragTok42", "auth_key", "sign="}
	ds.Conferences[0].PlaybackURLs = []string{
		"https://cdn.example.com/live/play.html?auth_key=1700000000-0-0-9f8e7d6c5b4a&sign=c0ffeec0ffee1234&t=1700000000",
		"https://bob:hunter2@meeting.example.com/p/" + pathToken + "/index.html#/play?token=FragTok42",
	}
	ds.Conferences[1].PlaybackURLs = []string{"https://meeting.example.com/play/" + ds.Conferences[1].ConfUUID + "?t=1700000000&sign=c0ffeec0ffee1234"}
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 185})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "a")
	env := simEnv(sim)
	env["MEETARCHIVE_LOG_LEVEL"] = "debug"
	res := runBin(t, env, "run", "--input", in, "--dest", dest, "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	// A rerun writes the rows from the sidecars (already-archived).
	out2 := filepath.Join(dir, "report2")
	res2 := runBin(t, env, "run", "--input", in, "--dest", dest, "--out", out2)
	if res2.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res2.code, res2.stderr)
	}
	want := map[string]string{
		ds.Conferences[0].ConfUUID: "https://cdn.example.com/live/play.html https://meeting.example.com/p/REDACTED/index.html",
		ds.Conferences[1].ConfUUID: "https://meeting.example.com/play/" + ds.Conferences[1].ConfUUID,
	}
	for _, o := range []string{out, out2} {
		for _, r := range readManifest(t, o) {
			if got := r["playbackURL"]; got != want[r["confUUID"]] {
				t.Errorf("%s: playbackURL of %s = %q, want %q", filepath.Base(o), r["confUUID"], got, want[r["confUUID"]])
			}
		}
	}
	texts := map[string][]byte{"stderr": []byte(res.stderr + res2.stderr), "stdout": []byte(res.stdout + res2.stdout)}
	for _, root := range []string{out, out2, dest} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if strings.HasSuffix(p, ".xlsx") {
				b = []byte(xlsxText(t, p))
			}
			texts[p] = b
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sidecars := 0
	for name, b := range texts {
		if strings.Contains(name, "_meetarchive") {
			sidecars++
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds %q", name, s)
			}
		}
	}
	if sidecars < len(ds.Conferences) {
		t.Errorf("checked %d sidecars, want %d", sidecars, len(ds.Conferences))
	}
}

// xlsxText is every cell of every sheet of a workbook, one per line.
func xlsxText(t *testing.T, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, cell := range row {
				b.WriteString(cell + "\n")
			}
		}
	}
	return b.String()
}

// closedPort is a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestFailedMetricsAreAWarning: a metrics push to a closed port and a
// metrics file that cannot be written leave a clean run's exit code 0;
// each is a warning in the log and in summary.json's warnings.
func TestFailedMetricsAreAWarning(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 4<<10, 186)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 186})
	tests := []struct {
		name string
		args func(dir string) []string
		want string // in the warning
	}{
		{"push to a closed port", func(string) []string { return []string{"--metrics-push", "http://" + closedPort(t)} }, "metrics push"},
		{"file not writable", func(dir string) []string {
			if os.Geteuid() == 0 { // root writes anywhere, but not on a full disk
				d := mountTmpfs(t, "64k")
				fillDisk(t, d, 0)
				return []string{"--metrics-file", filepath.Join(d, "meetarchive.prom")}
			}
			d := filepath.Join(dir, "ro")
			if err := os.Mkdir(d, 0o555); err != nil {
				t.Fatal(err)
			}
			return []string{"--metrics-file", filepath.Join(d, "meetarchive.prom")}
		}, "metrics file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeInput(t, dir, ds.UUIDs()...)
			out := filepath.Join(dir, "report")
			env := simEnv(sim)
			args := append([]string{"run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out}, tc.args(dir)...)
			res := runBin(t, env, args...)
			if res.code != 0 {
				t.Fatalf("exit %d, want 0 (a metrics failure is a warning)\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "level=WARN") || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("no warning about the %s in the log:\n%s", tc.want, res.stderr)
			}
			sum := readSummary(t, out)
			if sum["exitCode"] != float64(0) {
				t.Errorf("summary.json exitCode %v, want 0", sum["exitCode"])
			}
			ws, _ := sum["warnings"].([]any)
			if len(ws) != 1 || !strings.Contains(fmt.Sprint(ws[0]), tc.want) {
				t.Errorf("summary.json warnings = %v, want one about the %s", sum["warnings"], tc.want)
			}
		})
	}
}

// TestVerifyChecksSidecars: verify --dest also checks each archived
// conference's sidecar (its commit mark): present, naming the conference,
// listing exactly the manifest's keys with their size and SHA-256. Each
// damage is reported, exit 1, the objects themselves being intact.
func TestVerifyChecksSidecars(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 2, 8<<10, 187)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 187})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	dest, out := filepath.Join(dir, "a"), filepath.Join(dir, "report")
	if res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out); res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	manifest := filepath.Join(out, report.ManifestCSV)
	res := runBin(t, nil, "verify", "--manifest", manifest, "--dest", dest)
	if res.code != 0 || !strings.Contains(res.stdout, "3 sidecars: 3 ok") {
		t.Fatalf("verify of an intact archive: exit %d, want 0 and 3 sidecars ok\n%s%s", res.code, res.stdout, res.stderr)
	}
	victim := ds.Conferences[1].ConfUUID
	sidecar := filepath.Join(dest, "_meetarchive", victim+".json")
	orig, err := os.ReadFile(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) func() {
		return func() {
			var m map[string]any
			if err := json.Unmarshal(orig, &m); err != nil {
				t.Fatal(err)
			}
			f(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(sidecar, b, 0o666); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := func(m map[string]any, i int) map[string]any { return m["files"].([]any)[i].(map[string]any) }
	tests := []struct {
		name   string
		damage func()
		status string // verify's finding
		say    string // in its message
	}{
		{"sha256 changed", edit(func(m map[string]any) { file(m, 0)["SHA256"] = strings.Repeat("0", 64) }), "mismatch", "sha256"},
		{"size changed", edit(func(m map[string]any) { file(m, 1)["Bytes"] = 7 }), "mismatch", "bytes"},
		{"a file dropped", edit(func(m map[string]any) { m["files"] = m["files"].([]any)[:1] }), "mismatch", "does not list"},
		{"a file added", edit(func(m map[string]any) {
			extra := map[string]any{"Key": "2024/05/x/Hd_9.mp4", "Bytes": 1, "SHA256": strings.Repeat("1", 64)}
			m["files"] = append(m["files"].([]any), extra)
		}), "mismatch", "not in the manifest"},
		{"another conference", edit(func(m map[string]any) { m["confUUID"] = ds.Conferences[0].ConfUUID }), "mismatch", "names conference"},
		{"not JSON", func() {
			if err := os.WriteFile(sidecar, []byte("{not json"), 0o666); err != nil {
				t.Fatal(err)
			}
		}, "mismatch", "malformed"},
		{"deleted", func() {
			if err := os.Remove(sidecar); err != nil {
				t.Fatal(err)
			}
		}, "missing", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() {
				if err := os.WriteFile(sidecar, orig, 0o666); err != nil {
					t.Fatal(err)
				}
			})
			tc.damage()
			res := runBin(t, nil, "verify", "--manifest", manifest, "--dest", dest)
			if res.code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
			}
			var finding string
			for _, line := range strings.Split(res.stdout, "\n") {
				if strings.Contains(line, sidecar) {
					finding = line
				}
			}
			if !strings.HasPrefix(finding, tc.status+"\t") || !strings.Contains(finding, tc.say) {
				t.Errorf("finding for %s = %q, want status %s saying %q\n%s", sidecar, finding, tc.status, tc.say, res.stdout)
			}
			if !strings.Contains(res.stdout, "6 ok, 0 missing, 0 mismatched") {
				t.Errorf("the objects themselves are intact, but verify says otherwise:\n%s", res.stdout)
			}
		})
	}
}

// TestQuietIsQuiet: with --quiet a successful run prints nothing at all,
// a run with failures still says so (the closing line with its counts,
// the errors, where the report is), and a successful verify --quiet is
// silent too.
func TestQuietIsQuiet(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 1, 4<<10, 188)
	// Record info is off: its fallback warning would be printed without --quiet.
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 188,
		Faults: []meetingtest.Fault{{Endpoint: "details", Kind: "status", Status: 500, ConfUUID: ds.Conferences[2].ConfUUID}}})
	dir := t.TempDir()
	env := simEnv(sim)
	env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
	dest := filepath.Join(dir, "a")

	ok := writeInput(t, filepath.Join(dir), ds.Conferences[0].ConfUUID, ds.Conferences[1].ConfUUID)
	out := filepath.Join(dir, "ok")
	res := runBin(t, env, "run", "--quiet", "--input", ok, "--dest", dest, "--out", out)
	if res.code != 0 || res.stdout != "" || res.stderr != "" {
		t.Errorf("a successful --quiet run: exit %d, stdout %q, stderr %q; want 0 and nothing", res.code, res.stdout, res.stderr)
	}
	assertReportFiles(t, out)
	res = runBin(t, nil, "verify", "--quiet", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest)
	if res.code != 0 || res.stdout != "" || res.stderr != "" {
		t.Errorf("a successful verify --quiet: exit %d, stdout %q, stderr %q; want 0 and nothing", res.code, res.stdout, res.stderr)
	}
	// The same through the environment twin.
	env2 := simEnv(sim)
	env2["MEETARCHIVE_QUIET"] = "true"
	res = runBin(t, env2, "run", "--input", ok, "--dest", dest, "--out", filepath.Join(dir, "ok2"))
	if res.code != 0 || res.stdout != "" || res.stderr != "" {
		t.Errorf("MEETARCHIVE_QUIET=true: exit %d, stdout %q, stderr %q; want 0 and nothing", res.code, res.stdout, res.stderr)
	}
	// --log-level given explicitly wins over --quiet's default.
	res = runBin(t, env, "run", "--quiet", "--log-level", "info", "--input", ok, "--dest", dest, "--out", filepath.Join(dir, "ok3"))
	if res.code != 0 || !strings.Contains(res.stderr, `msg="run finished"`) {
		t.Errorf("--quiet --log-level info: exit %d, stderr %q; want the info lines", res.code, res.stderr)
	}

	all := writeInput(t, filepath.Join(dir), ds.UUIDs()...)
	bad := filepath.Join(dir, "bad")
	res = runBin(t, env, "run", "--quiet", "--input", all, "--dest", filepath.Join(dir, "a2"), "--out", bad)
	if res.code != 1 {
		t.Fatalf("a --quiet run with a failure: exit %d, want 1\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, filepath.Join(bad, report.ManifestCSV)) {
		t.Errorf("a failed --quiet run does not say where its report is: stdout %q", res.stdout)
	}
	if !strings.Contains(lastLine(res.stderr), "1 failed") || !strings.Contains(res.stderr, ds.Conferences[2].ConfUUID) {
		t.Errorf("a failed --quiet run does not say what failed:\n%s", res.stderr)
	}
	if strings.Contains(res.stderr, "level=INFO") {
		t.Errorf("a failed --quiet run logs at INFO:\n%s", res.stderr)
	}
	// The warnings it held back are shown once it failed.
	if !strings.Contains(res.stderr, "level=WARN") || !strings.Contains(res.stderr, "record info is not available") {
		t.Errorf("a failed --quiet run does not show the warnings it held back:\n%s", res.stderr)
	}
}
