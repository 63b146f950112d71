package main

// End-to-end tests on the built binary, against the simulator of the Meeting
// API (in this test process) and, where named, a real S3 server.

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "meetarchive-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "meetarchive")
	build := exec.Command("go", "build", "-o", binPath, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// cleanEnv is the process environment without any MEETARCHIVE_ variable, so
// a developer's settings never leak into a test.
func cleanEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MEETARCHIVE_") && !strings.HasPrefix(kv, "JOB_COMPLETION_INDEX=") && !strings.HasPrefix(kv, "AWS_BATCH_JOB_ARRAY_INDEX=") {
			env = append(env, kv)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// startBin starts the binary and waits (30 s at most) until ready holds:
// the moment a test signals or kills it. If ready never holds the process
// is killed and the test fails with its stderr.
func startBin(t *testing.T, env map[string]string, ready func() bool, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd, _, stderr := binCommand(env, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !ready() {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("%v: never got ready\n%s", args, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, stderr
}

func binCommand(env map[string]string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return cmd, &stdout, &stderr
}

func runBin(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := binCommand(env, args...)
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// testAppID and testAppKey are the credentials of a `simulate` process a
// test starts (with --app-id, --sim-app-key) and of runs that reach no
// server; a simulator from meetingtest.Start has meetingtest's defaults.
const (
	testAppID  = "test-app"
	testAppKey = "test-app-key-0123456789"
)

// simEnv is the environment of a run against s. It keeps the log at info
// (tests read it; --quiet would keep only errors and, on failure,
// warnings) and makes progress lines rare instead.
func simEnv(s *meetingtest.Server) map[string]string {
	return map[string]string{
		"MEETARCHIVE_API":               s.URL,
		"MEETARCHIVE_APP_ID":            meetingtest.DefaultAppID,
		"MEETARCHIVE_APP_KEY":           meetingtest.DefaultAppKey,
		"MEETARCHIVE_RATE":              "500",
		"MEETARCHIVE_PROGRESS_INTERVAL": "1h",
		// The tests that count a run's rows count recordings; evidence
		// (on by default) has its own tests, which pass --evidence.
		"MEETARCHIVE_EVIDENCE": "false",
	}
}

// freeAddr is a loopback address with a port nothing listens on now, for
// a process the test starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startSimulate starts `meetarchive simulate` with args on a free loopback
// port, stops it when the test ends, and returns its address once it
// listens.
func startSimulate(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd, stdout, _ := binCommand(nil, append([]string{"simulate", "--addr", addr}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(time.Minute) // a safety net for a busy machine
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("simulator did not listen on %s: %s", addr, stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sigterm sends SIGTERM to cmd's process and returns its exit code once it
// has ended.
func sigterm(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return 0
}

func writeInput(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	p := filepath.Join(dir, "input.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readManifest returns manifest.csv as maps keyed by column name.
func readManifest(t *testing.T, dir string) []map[string]string {
	t.Helper()
	return readCSV(t, filepath.Join(dir, report.ManifestCSV))
}

// readCSV reads a report CSV into maps keyed by the header.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if len(recs) == 0 {
		t.Fatal("manifest: empty")
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func statusesByConf(rows []map[string]string) map[string][]string {
	out := map[string][]string{}
	for _, r := range rows {
		out[r["confUUID"]] = append(out[r["confUUID"]], r["status"])
	}
	return out
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func assertReportFiles(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{report.ManifestCSV, report.FailuresCSV, report.ManifestXLSX, report.SummaryJSON} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("report file %s missing or empty: %v", name, err)
		}
	}
}

func readSummary(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, report.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	return m
}

// TestRunArchivesWhatTheSimulatorServed: every archived file's SHA-256
// equals the simulator's own record of the bytes it served.
func TestRunArchivesWhatTheSimulatorServed(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 6, FilesPerConference: 2, FileSize: 300 << 10, Pending: 1, Unavailable: 1, Seed: 7,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 7})
	dir := t.TempDir()
	in := writeInput(t, dir, append([]string{"confUUID"}, ds.UUIDs()...)...)
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "archive")

	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0\nstderr:\n%s", res.code, res.stderr)
	}
	assertReportFiles(t, out)
	for _, p := range report.Paths(out) {
		if !strings.Contains(res.stdout, p) {
			t.Errorf("stdout does not name report file %s:\n%s", p, res.stdout)
		}
	}

	served := map[string]string{} // confUUID/fileType/name -> sha256
	for _, s := range sim.Served() {
		served[s.ConfUUID+"/"+s.FileType+"/"+s.Name] = s.SHA256
	}
	rows := readManifest(t, out)
	archived := 0
	for _, r := range rows {
		switch r["status"] {
		case "archived":
			archived++
			want, ok := served[r["confUUID"]+"/"+r["fileType"]+"/"+r["fileName"]]
			if !ok {
				t.Errorf("row %v: the simulator never served this file completely", r)
				continue
			}
			if got := fileSHA256(t, r["objectURI"]); got != want {
				t.Errorf("%s: archived sha256 %s, simulator served %s", r["objectURI"], got, want)
			}
		case "pending-transcode", "unavailable":
		default:
			t.Errorf("unexpected row status %q: %v", r["status"], r)
		}
	}
	if want := 4 * 2; archived != want {
		t.Errorf("archived %d files, want %d", archived, want)
	}
	st := statusesByConf(rows)
	var pending, unavailable int
	for _, ss := range st {
		switch ss[0] {
		case "pending-transcode":
			pending++
		case "unavailable":
			unavailable++
		}
	}
	if pending != 1 || unavailable != 1 {
		t.Errorf("pending %d, unavailable %d; want 1 and 1", pending, unavailable)
	}
	sum := readSummary(t, out)
	counts, _ := sum["counts"].(map[string]any)
	if sum["exitCode"] != float64(0) || counts["archived"] != float64(4) || counts["pending-transcode"] != float64(1) ||
		sum["bytesArchived"] != float64(8*300<<10) {
		t.Errorf("summary.json: exit %v, counts %v, bytes %v; want 0, 4 archived, 1 pending, %d bytes", sum["exitCode"], counts, sum["bytesArchived"], 8*300<<10)
	}
	fails, err := os.ReadFile(filepath.Join(out, report.FailuresCSV))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ds.Conferences {
		inFailures := strings.Contains(string(fails), c.ConfUUID)
		if !c.Available && c.IsDecodeFinish && inFailures {
			t.Errorf("unavailable conference %s is listed in failures.csv", c.ConfUUID)
		}
		if !c.IsDecodeFinish && !inFailures {
			t.Errorf("pending conference %s is not in failures.csv (a rerun should retry it)", c.ConfUUID)
		}
	}

	// A rerun downloads nothing and reports already-archived.
	before := sim.Counters()
	out2 := filepath.Join(dir, "report2")
	res = runBin(t, simEnv(sim), "run", "--input", in, "--dest", dest, "--out", out2)
	if res.code != 0 {
		t.Fatalf("rerun exit %d\n%s", res.code, res.stderr)
	}
	after := sim.Counters()
	if after.Media != before.Media {
		t.Errorf("rerun made %d media requests, want 0", after.Media-before.Media)
	}
	for _, r := range readManifest(t, out2) {
		if r["fileName"] != "" && r["status"] != "already-archived" {
			t.Errorf("rerun row status %q, want already-archived: %v", r["status"], r)
		}
	}
}

// TestInputCSVRowByRow: every input form the README lists, each asserted in the report.
func TestInputCSVRowByRow(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 1, FileSize: 10 << 10, Seed: 3,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 3})
	u := ds.UUIDs()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	content := "\ufeffSubject,CONFUUID\r\n" +
		"first,  " + u[0] + "  \r\n" +
		"\r\n" +
		"bad,not-a-uuid\r\n" +
		"dup," + u[0] + "\r\n" +
		"  \r\n" +
		"second," + u[1] + "\r\n" +
		"third,\t" + u[2] + "\r\n"
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	res := runBin(t, simEnv(sim), "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (an invalid input line is a failure; a duplicate is not)\n%s", res.code, res.stderr)
	}
	rows := readManifest(t, out)
	want := []struct{ uuid, status string }{
		{u[0], "archived"},
		{"not-a-uuid", "invalid-input"},
		{u[0], "duplicate-input"},
		{u[1], "archived"},
		{u[2], "archived"},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d: %v", len(rows), len(want), rows)
	}
	for i, w := range want {
		if rows[i]["confUUID"] != w.uuid || rows[i]["status"] != w.status {
			t.Errorf("row %d: got (%s, %s), want (%s, %s)", i, rows[i]["confUUID"], rows[i]["status"], w.uuid, w.status)
		}
	}
}

func TestExitCodes(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 3, FilesPerConference: 1, FileSize: 8 << 10, Seed: 5,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	u := ds.UUIDs()
	tests := []struct {
		name   string
		faults []meetingtest.Fault
		env    map[string]string
		args   func(in, dest, out string) []string
		want   int
	}{
		{name: "0 all archived", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--dest", dest, "--out", out}
		}, want: 0},
		{name: "1 one media refused", faults: []meetingtest.Fault{{Endpoint: "media", Kind: "status", Status: 404, ConfUUID: u[1]}},
			args: func(in, dest, out string) []string {
				return []string{"run", "--input", in, "--dest", dest, "--out", out}
			}, want: 1},
		{name: "2 missing dest", args: func(in, dest, out string) []string { return []string{"run", "--input", in, "--out", out} }, want: 2},
		{name: "2 bad flag value", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--dest", dest, "--out", out, "--concurrency", "zero"}
		}, want: 2},
		{name: "2 bad env value", env: map[string]string{"MEETARCHIVE_CONCURRENCY": "-3"},
			args: func(in, dest, out string) []string {
				return []string{"run", "--input", in, "--dest", dest, "--out", out}
			}, want: 2},
		{name: "2 missing input file", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in + ".nope", "--dest", dest, "--out", out}
		}, want: 2},
		{name: "2 unknown command", args: func(in, dest, out string) []string { return []string{"archive-everything"} }, want: 2},
		{name: "2 bad date", args: func(in, dest, out string) []string {
			return []string{"run", "--from", "yesterday", "--to", "2024-01-01", "--dest", dest, "--out", out}
		}, want: 2},
		{name: "2 input and date range", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--from", "2024-01-01", "--to", "2024-01-02", "--dest", dest, "--out", out}
		}, want: 2},
		{name: "2 s3 dest without bucket", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--dest", "s3://", "--out", out}
		}, want: 2},
		{name: "2 input is a directory", args: func(in, dest, out string) []string {
			return []string{"run", "--input", filepath.Dir(in), "--dest", dest, "--out", out}
		}, want: 2},
		{name: "2 out is a file", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--dest", dest, "--out", in}
		}, want: 2},
		{name: "2 bad key template", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--dest", dest, "--out", out, "--key-template", "{{.Nope"}
		}, want: 2},
		{name: "2 retention without lock mode", args: func(in, dest, out string) []string {
			return []string{"run", "--input", in, "--dest", dest, "--out", out, "--retain-days", "3"}
		}, want: 2},
		{name: "2 no credentials", env: map[string]string{"MEETARCHIVE_APP_ID": "", "MEETARCHIVE_APP_KEY": ""},
			args: func(in, dest, out string) []string {
				return []string{"run", "--input", in, "--dest", dest, "--out", out}
			}, want: 2},
		{name: "3 wrong app key", env: map[string]string{"MEETARCHIVE_APP_KEY": "wrong-key"},
			args: func(in, dest, out string) []string {
				return []string{"run", "--input", in, "--dest", dest, "--out", out}
			}, want: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 5, Faults: tc.faults})
			dir := t.TempDir()
			in := writeInput(t, dir, u...)
			out := filepath.Join(dir, "report")
			env := simEnv(sim)
			env["MEETARCHIVE_MAX_ATTEMPTS"] = "2"
			for k, v := range tc.env {
				env[k] = v
			}
			res := runBin(t, env, tc.args(in, filepath.Join(dir, "archive"), out)...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.want, res.stdout, res.stderr)
			}
			switch tc.want {
			case 1, 3:
				assertReportFiles(t, out)
			case 2:
				if _, err := os.Stat(filepath.Join(out, report.ManifestCSV)); err == nil {
					t.Errorf("exit 2 must do nothing, but a manifest was written")
				}
			}
			if strings.Contains(res.stderr, meetingtest.DefaultAppKey) || strings.Contains(res.stdout, meetingtest.DefaultAppKey) || strings.Contains(res.stderr, "wrong-key") {
				t.Errorf("the app key appears in the output")
			}
			if tc.want == 3 && sim.Counters().Media != 0 {
				t.Errorf("a run refused by authentication downloaded media")
			}
		})
	}
}

// TestDemo runs `meetarchive demo` on the binary, like `make demo`.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	res := runBin(t, nil, "demo", "--dir", dir, "--quiet")
	if res.code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	out := filepath.Join(dir, "report")
	assertReportFiles(t, out)
	// The demo's simulator is in the binary; an identical one here knows
	// what it serves for the same dataset and seed.
	ds := meetingtest.SampleDataset()
	ref := meetingtest.Start(t, meetingtest.Config{Dataset: ds, AppID: demoAppID, AppKey: demoAppKey, RecordInfo: true})
	content := map[string]string{} // conf/type/name -> sha256, under both type namings
	for _, c := range ds.Conferences {
		for _, f := range c.Files {
			sum := ref.FileSHA256(c.ConfUUID, f.FileType, f.Name)
			content[c.ConfUUID+"/"+f.FileType+"/"+f.Name] = sum
			content[c.ConfUUID+"/"+meetingtest.RecordType(f.FileType)+"/"+f.Name] = sum
		}
	}
	statuses := map[string]bool{}
	archived := 0
	for _, r := range readManifest(t, out) {
		statuses[r["status"]] = true
		if r["status"] != "archived" || r["fileType"] == report.FileTypeEvidence { // evidence: evidence_test.go
			continue
		}
		archived++
		want := content[r["confUUID"]+"/"+r["fileType"]+"/"+r["fileName"]]
		if want == "" {
			t.Errorf("%s: not a file of the sample dataset", r["objectURI"])
		}
		if got := fileSHA256(t, r["objectURI"]); got != want || got != r["sha256"] {
			t.Errorf("%s: sha256 %s, simulator content %s, manifest %s", r["objectURI"], got, want, r["sha256"])
		}
	}
	if archived == 0 {
		t.Fatal("the demo archived nothing")
	}
	for _, s := range []string{"archived", "pending-transcode", "unavailable"} {
		if !statuses[s] {
			t.Errorf("demo report has no %q row; statuses: %v", s, statuses)
		}
	}
	if !strings.Contains(res.stdout, filepath.Join(out, report.ManifestXLSX)) {
		t.Errorf("demo stdout does not name the report:\n%s", res.stdout)
	}

	// Again: nothing is archived twice, and the summary says so.
	res = runBin(t, nil, "demo", "--dir", dir, "--quiet")
	if res.code != 0 {
		t.Fatalf("second demo exit %d\n%s", res.code, res.stderr)
	}
	counts := readSummary(t, out)["counts"].(map[string]any)
	if counts["archived"] != float64(0) || counts["already-archived"] == float64(0) {
		t.Errorf("second demo: counts %v, want 0 archived and the first run's conferences already-archived", counts)
	}
	if !strings.Contains(res.stdout, "archived 0 conferences (0 B)") {
		t.Errorf("second demo's summary line does not say it archived nothing:\n%s", res.stdout)
	}
}

// TestSigtermCancelsAndReports: exit 130, the downloads in flight ended by
// the grace (they would take 8 s), every input conference in the report.
func TestSigtermCancelsAndReports(t *testing.T) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 8, FilesPerConference: 1, FileSize: 4 << 20, Seed: 9,
		Start: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 9, MediaRate: 512 << 10}) // 8 s a file
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	out := filepath.Join(dir, "report")
	env := simEnv(sim)
	cmd, stderr := startBin(t, env, func() bool { return sim.Counters().Media >= 2 },
		"run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", out, "--concurrency", "2", "--grace", "1s")
	if code := sigterm(t, cmd); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, stderr.String())
	}
	// Each file takes 8 s; the grace is 1 s: the downloads in flight were
	// cut, not waited for (however slow the machine: it cannot make the
	// simulator's media faster).
	if n := sim.Counters().MediaComplete; n != 0 {
		t.Errorf("%d downloads of 8 s finished after SIGTERM with a 1 s grace, want none", n)
	}
	rows := readManifest(t, out)
	st := statusesByConf(rows)
	for _, u := range ds.UUIDs() {
		if len(st[u]) == 0 {
			t.Errorf("conference %s missing from the report", u)
		}
		for _, s := range st[u] {
			if s != "cancelled" && s != "archived" {
				t.Errorf("conference %s status %s, want archived or cancelled", u, s)
			}
		}
	}
	// Nothing half-written looks complete: no file in the archive is short.
	_ = filepath.Walk(filepath.Join(dir, "a"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && !strings.Contains(p, "_meetarchive") && info.Size() != 4<<20 {
			t.Errorf("partial file left looking complete: %s (%d bytes)", p, info.Size())
		}
		return nil
	})
}

func TestHelpListsEveryFlagWithEnv(t *testing.T) {
	for _, cmd := range helpCommands(t) {
		t.Run(cmd, func(t *testing.T) {
			res := runBin(t, nil, cmd, "--help")
			if res.code != 0 {
				t.Fatalf("%s --help exit %d", cmd, res.code)
			}
			if !strings.Contains(res.stderr, "usage: meetarchive "+cmd) || !strings.Contains(res.stderr, "$MEETARCHIVE_") {
				t.Errorf("%s --help does not show usage and environment twins:\n%s", cmd, res.stderr)
			}
			if missing := flagsWithoutEnv(res.stderr); len(missing) > 0 {
				t.Errorf("%s --help: flags %v show no environment twin", cmd, missing)
			}
		})
	}
	res := runBin(t, nil, "version")
	if res.code != 0 || !strings.Contains(res.stdout, "meetarchive") || !strings.Contains(res.stdout, "go1.") {
		t.Errorf("version: exit %d, %q", res.code, res.stdout)
	}
}
