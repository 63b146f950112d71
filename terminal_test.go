package main

// What a person sees: the run on a terminal (one live status line, the
// log above it, a closing summary, about 20 lines for 300 conferences), off
// a terminal, and errors that name their real cause, each checked on the
// built binary.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"meetarchive/archive/archivetest"
	"meetarchive/export/meetingtest"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// ttyRun is a run of the binary with stdout and stderr on a
// pseudo-terminal of cols columns: what the terminal received, raw.
type ttyRun struct {
	code int
	raw  string
}

func runOnTerminal(t *testing.T, env map[string]string, cols int, args ...string) ttyRun {
	t.Helper()
	master, slave, err := openPTY(cols, 50)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv(env)
	cmd.Stdout, cmd.Stderr = slave, slave
	if err := cmd.Start(); err != nil {
		slave.Close()
		t.Fatal(err)
	}
	slave.Close() // the child holds it; the master reads until it exits
	var raw bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(&raw, master) // ends with EIO once the child is gone
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-time.After(5 * time.Minute): // a safety net, not a bound
		_ = cmd.Process.Kill()
		<-waited
		t.Fatalf("%v: still running after 5 minutes\n%s", args, raw.String())
	}
	<-read
	code := 0
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		code = ee.ExitCode()
	} else if werr != nil {
		t.Fatal(werr)
	}
	return ttyRun{code: code, raw: raw.String()}
}

var csiRE = regexp.MustCompile(`^\x1b\[[0-9;?]*[A-Za-z]`)

// screenOf replays raw on a terminal of cols columns and returns its
// lines, trailing empty ones left out: CR goes to the start of the line,
// LF to the next one, ESC[K erases to the end of the line, and a line
// longer than cols wraps onto the next.
func screenOf(raw string, cols int) []string {
	var lines [][]rune
	row, col := 0, 0
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case '\r':
			col = 0
		case '\n':
			row, col = row+1, 0
		case '\x1b':
			seq := csiRE.FindString(string(rs[i:min(len(rs), i+16)]))
			if seq == "" {
				continue
			}
			if strings.HasSuffix(seq, "K") && row < len(lines) && col < len(lines[row]) {
				lines[row] = lines[row][:col]
			}
			i += len([]rune(seq)) - 1
		default:
			if col >= cols {
				row, col = row+1, 0
			}
			for len(lines) <= row {
				lines = append(lines, nil)
			}
			for len(lines[row]) < col {
				lines[row] = append(lines[row], ' ')
			}
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col++
		}
	}
	var out []string
	for _, l := range lines {
		out = append(out, string(l))
	}
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1]) == "" {
		out = out[:len(out)-1]
	}
	return out
}

var statusRE = regexp.MustCompile(`^\[[#.]{20}\] (\d+)/(\d+) conferences \| (\d+) files \| ([^|]+) \| ETA [^|]+ \| (\d+) failed$`)

// TestTerminalShowsOneLiveLine: 300 conferences on a terminal, with and
// without size estimates (small files have an rcdSize of 0 MB, and
// download links give no size): one status line is on screen from the
// first conference to the last (every log line written above it is
// followed by it again), it counts up, the failure is printed above it,
// and the run ends with its closing summary, all in at most 20 lines.
func TestTerminalShowsOneLiveLine(t *testing.T) {
	const cols = 120
	for _, tc := range []struct {
		name      string
		estimates bool
	}{{"no size estimate", false}, {"size estimates", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ds := meetingtest.GenerateFiles(300, 2, 64<<10, 301)
			if tc.estimates {
				for i := range ds.Conferences {
					ds.Conferences[i].RcdSize = 1 // MB: 128 KiB of files fits it
				}
			}
			broken := ds.Conferences[150].ConfUUID
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 301,
				Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "status", Status: 404, ConfUUID: broken}}})
			dir := t.TempDir()
			env := simEnv(sim)
			env["MEETARCHIVE_RATE"] = "100" // 300 details calls: the run lasts 3 s or more
			out := filepath.Join(dir, "report")
			res := runOnTerminal(t, env, cols, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"),
				"--out", out, "--links", "downloadurls")
			screen := screenOf(res.raw, cols)
			shown := strings.Join(screen, "\n")
			if res.code != 1 {
				t.Fatalf("exit %d, want 1 (one conference fails)\n%s", res.code, shown)
			}
			if len(screen) > 20 {
				t.Errorf("%d lines on the terminal, want at most 20:\n%s", len(screen), shown)
			}

			// The status line: drawn after every clear until the last clear.
			tokens := strings.Split(res.raw, "\r\x1b[K")
			first, last := -1, len(tokens)-1
			var done []int
			estimated := false
			for i, tok := range tokens[:last] {
				lines := strings.Split(strings.ReplaceAll(tok, "\r\n", "\n"), "\n")
				m := statusRE.FindStringSubmatch(lines[len(lines)-1])
				if m == nil {
					if first >= 0 {
						t.Errorf("after write %d the status line is gone: %q", i, tok)
					}
					continue
				}
				if first < 0 {
					first = i
				}
				n, _ := strconv.Atoi(m[1])
				if m[2] != "300" {
					t.Errorf("status line %q: total %s, want 300", m[0], m[2])
				}
				if len(done) > 0 && n < done[len(done)-1] {
					t.Errorf("status line went back from %d to %d", done[len(done)-1], n)
				}
				done = append(done, n)
				estimated = estimated || strings.Contains(m[4], "of ~")
			}
			if first < 0 {
				t.Fatalf("no status line was ever drawn:\n%q", res.raw)
			}
			middle := map[int]bool{}
			for _, n := range done {
				if n > 0 && n < 300 {
					middle[n] = true
				}
			}
			if len(middle) < 3 {
				t.Errorf("the status line showed %d distinct counts between 0 and 300 (%v), want it live through the run", len(middle), done)
			}
			if estimated != tc.estimates {
				t.Errorf("status line shows a size estimate: %v, want %v", estimated, tc.estimates)
			}
			if statusRE.MatchString(screen[len(screen)-1]) || strings.Contains(tokens[last], "conferences |") {
				t.Errorf("the status line is left on screen after the run:\n%s", shown)
			}

			// The failure above the bar, then the closing summary.
			for _, want := range []string{
				`level=ERROR msg="file failed" confUUID=` + broken,
				"meetarchive: Action needed: 1 of 300 conferences not archived (1 failed)",
				"conferences: 299 archived, 1 failed | 600 files, 37.4 MiB in ",
				"needing attention:",
				"    " + broken + " failed APIG.0101: export: media 404",
				"      hint: ",
				"  report: " + filepath.Join(out, report.SummaryHTML),
				"meetarchive: some items failed; see the report: 1 failed of 300 conferences",
			} {
				if !strings.Contains(shown, want) {
					t.Errorf("the terminal does not show %q:\n%s", want, shown)
				}
			}
			if strings.Contains(shown, "level=INFO") {
				t.Errorf("info lines on the terminal (per-file events belong to debug there):\n%s", shown)
			}
			if t.Failed() {
				return
			}
			if err := os.WriteFile(filepath.Join(dir, "screen.txt"), []byte(shown+"\n"), 0o644); err == nil {
				t.Logf("the terminal after the run (%d lines):\n%s", len(screen), shown)
			}
		})
	}
}

// TestScreenOf checks the terminal replay the test above counts lines with.
func TestScreenOf(t *testing.T) {
	tests := []struct {
		name, raw string
		cols      int
		want      []string
	}{
		{"plain", "a\r\nb\r\n", 80, []string{"a", "b"}},
		{"status redrawn", "\r\x1b[K[1]\r\x1b[K[2]\r\x1b[Klog\r\n[2]\r\x1b[K[3]\r\x1b[Kend\r\n", 80, []string{"log", "end"}},
		{"wrap", "abcdef\r\n", 4, []string{"abcd", "ef"}},
		{"overwrite", "hello\rHE\r\n", 80, []string{"HEllo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := screenOf(tt.raw, tt.cols); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClosingSummaryOffTerminal: off a terminal the run ends with the
// same closing summary on stderr after its log lines (the failure, its
// hint, where the report is); --quiet prints it only when the run fails;
// with --log-format json there is none and every line is JSON.
func TestClosingSummaryOffTerminal(t *testing.T) {
	ds := meetingtest.GenerateFiles(4, 1, 16<<10, 302)
	broken := ds.Conferences[2].ConfUUID
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 302,
		Faults: []meetingtest.Fault{{Endpoint: "media", Kind: "status", Status: 404, ConfUUID: broken}}})
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	run := func(name string, extra ...string) result {
		return runBin(t, simEnv(sim), append([]string{"run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, name)}, extra...)...)
	}

	res := run("text")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	var tail []string // from the closing summary's first line on
	for i, l := range lines {
		if strings.HasPrefix(l, "meetarchive: Action needed") {
			tail = lines[i:]
		}
	}
	if len(tail) == 0 {
		t.Fatalf("no closing summary on stderr:\n%s", res.stderr)
	}
	// Before it: the progress line's last figures, and one error line for
	// the failure.
	if !strings.Contains(res.stderr, `msg="progress: finished" conferences_done=4 conferences_total=4 unit=conferences files=3 failed=1 `) {
		t.Errorf("no final progress line with the files and failures:\n%s", res.stderr)
	}
	errLines := 0
	for _, l := range lines {
		if strings.Contains(l, "level=ERROR") && strings.Contains(l, broken) {
			errLines++
		}
	}
	if errLines != 1 {
		t.Errorf("%d error lines for the failed conference, want 1:\n%s", errLines, res.stderr)
	}
	want := []string{
		"meetarchive: Action needed: 1 of 4 conferences not archived (1 failed); rerun with --input failures.csv (exit 1)",
		"  conferences: 3 archived, 1 failed | 4 files, 48.0 KiB in ",
		"  needing attention:",
		"    " + broken + " failed APIG.0101: export: media 404",
		"      hint: rerun with --input failures.csv",
		"  report: " + filepath.Join(dir, "text", report.SummaryHTML),
		"meetarchive: some items failed; see the report: 1 failed of 4 conferences",
	}
	if len(tail) != len(want) {
		t.Fatalf("closing summary has %d lines, want %d:\n%s", len(tail), len(want), strings.Join(tail, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(tail[i], w) {
			t.Errorf("closing line %d: %q, want it to start with %q", i, tail[i], w)
		}
	}

	// --quiet: the summary only because the run failed; nothing at info.
	res = run("quiet", "--quiet")
	if res.code != 1 || !strings.Contains(res.stderr, "meetarchive: Action needed") || strings.Contains(res.stderr, "level=INFO") {
		t.Errorf("--quiet failed run: exit %d, stderr:\n%s\nwant exit 1, the closing summary and no info line", res.code, res.stderr)
	}

	// JSON logs: no text line at all, the last line included.
	res = run("json", "--log-format", "json")
	if res.code != 1 {
		t.Fatalf("json run: exit %d\n%s", res.code, res.stderr)
	}
	assertJSONLines(t, res.stderr)
	if !strings.Contains(res.stderr, `"verdict":"Action needed: 1 of 4 conferences not archived`) {
		t.Errorf("with JSON logs the run finished record does not carry the verdict:\n%s", res.stderr)
	}
}

// assertJSONLines fails the test unless every line of stderr is a JSON object.
func assertJSONLines(t *testing.T, stderr string) {
	t.Helper()
	if stderr == "" {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
		}
	}
}

// TestFileFlagErrorsNameTheFile: every flag that names a file says which
// file when it cannot be used (exit 2).
func TestFileFlagErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	in := writeInput(t, dir, "confUUID")
	missing := func(name string) string { return filepath.Join(dir, "no-such-dir", name) }
	env := map[string]string{"MEETARCHIVE_API": "http://127.0.0.1:1", "MEETARCHIVE_APP_ID": testAppID, "MEETARCHIVE_APP_KEY": testAppKey}
	run := []string{"run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r")}
	tests := []struct {
		name string
		args []string
		flag string
		path string
	}{
		{"input", []string{"run", "--input", missing("in.csv"), "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, "r")}, "--input", missing("in.csv")},
		{"app key file", append(run, "--app-key-file", missing("key")), "--app-key-file", missing("key")},
		{"password file", append(run, "--password-file", missing("pw")), "--password-file", missing("pw")},
		{"token file", append(run, "--token-file", missing("token")), "--token-file", missing("token")},
		{"ca bundle", append(run, "--ca-bundle", missing("ca.pem")), "--ca-bundle", missing("ca.pem")},
		{"metrics file", append(run, "--metrics-file", missing("m.prom")), "--metrics-file", missing("m.prom")},
		{"list ca bundle", []string{"list", "--from", "2024-01-01", "--to", "2024-01-02", "--ca-bundle", missing("ca.pem")}, "--ca-bundle", missing("ca.pem")},
		{"verify manifest", []string{"verify", "--manifest", missing("manifest.csv")}, "--manifest", missing("manifest.csv")},
		{"verify sums", []string{"verify", "--sums", missing("sha256sums.txt"), "--dest", dir}, "--sums", missing("sha256sums.txt")},
		{"verify report", []string{"verify", "--manifest", in, "--report", missing("verify.csv")}, "--report", missing("verify.csv")},
		{"bag manifest", []string{"bag", "--manifest", missing("manifest.csv"), "--out", filepath.Join(dir, "bag")}, "--manifest", missing("manifest.csv")},
		{"bag uuids", []string{"bag", "--manifest", in, "--uuids", missing("uuids.csv"), "--out", filepath.Join(dir, "bag")}, "--uuids", missing("uuids.csv")},
		{"simulate dataset", []string{"simulate", "--dataset", missing("ds.json")}, "--dataset", missing("ds.json")},
		{"report from journal", []string{"report", "--from-journal", missing("")}, "", missing("")},
		{"merge", []string{"merge", "--out", filepath.Join(dir, "m"), missing("")}, "", missing("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runBin(t, env, tt.args...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", res.code, res.stderr)
			}
			last := lastLine(res.stderr)
			if !strings.Contains(last, tt.flag+" ") || !strings.Contains(last, strings.TrimSuffix(tt.path, "/")) {
				t.Errorf("error %q does not name %s and the file %s", last, tt.flag, tt.path)
			}
			if !strings.Contains(last, "no such file or directory") && !strings.Contains(last, "does not exist") {
				t.Errorf("error %q does not say the file is missing", last)
			}
		})
	}
}

// TestAPIFailuresToldApart: the first call to the Meeting API fails for
// each reason in its own words, with what to do: a host name that does
// not resolve, a refused connection, an untrusted TLS certificate, no
// answer in time, and credentials the API refuses. Only the last one says
// authentication. The run stops fatally (exit 3) with its report.
func TestAPIFailuresToldApart(t *testing.T) {
	ds := meetingtest.GenerateFiles(2, 1, 8<<10, 303)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 303})
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	// A label longer than 63 characters is no DNS name: the resolver
	// answers "no such host" at once, without asking a server, as a DNS
	// server does for a name it does not know.
	badHost := strings.Repeat("x", 64) + ".example"
	tests := []struct {
		name  string
		api   string
		env   map[string]string
		wants []string
	}{
		{"dns", "http://" + badHost + ":8080", map[string]string{"GODEBUG": "netdns=go"},
			[]string{"cannot resolve the Meeting API's host name " + badHost + ":8080 (dns)", "no such host", "check --api"}},
		{"refused", closed, nil,
			[]string{"the Meeting API at " + strings.TrimPrefix(closed, "http://") + " refused the connection (connection-refused)", "connection refused", "check --api and that the service"}},
		{"tls", tlsSrv.URL, nil,
			[]string{"the Meeting API's TLS certificate (" + strings.TrimPrefix(tlsSrv.URL, "https://") + ") is not trusted (tls)", "x509", "--ca-bundle"}},
		{"timeout", "http://" + silent.Addr().String(), map[string]string{"MEETARCHIVE_REQUEST_TIMEOUT": "300ms"},
			[]string{"no answer from the Meeting API at " + silent.Addr().String() + " in time (timeout)", "--request-timeout"}},
		{"credentials refused", sim.URL, map[string]string{"MEETARCHIVE_APP_KEY": "wrong-key"},
			[]string{"the Meeting API refused the credentials", "authentication refused", "check MEETARCHIVE_APP_ID and MEETARCHIVE_APP_KEY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := simEnv(sim)
			env["MEETARCHIVE_API"] = tt.api
			env["MEETARCHIVE_MAX_ATTEMPTS"] = "2"
			env["NO_PROXY"], env["no_proxy"] = "*", "*"
			for k, v := range tt.env {
				env[k] = v
			}
			out := filepath.Join(dir, "report")
			res := runBin(t, env, "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"), "--out", out)
			if res.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", res.code, res.stderr)
			}
			last := lastLine(res.stderr)
			for _, w := range tt.wants {
				if !strings.Contains(last, w) {
					t.Errorf("error %q does not say %q", last, w)
				}
			}
			if tt.name != "credentials refused" && strings.Contains(strings.ToLower(last), "authentication") {
				t.Errorf("a network failure is told as an authentication failure: %q", last)
			}
			if got, _ := readSummary(t, out)["fatal"].(string); !strings.Contains(got, tt.wants[0]) {
				t.Errorf("summary.json fatal %q, want it to name the cause %q", got, tt.wants[0])
			}
		})
	}

	// list tells them apart the same way.
	env := simEnv(sim)
	env["MEETARCHIVE_API"] = closed
	env["MEETARCHIVE_MAX_ATTEMPTS"] = "1"
	res := runBin(t, env, "list", "--from", "2024-01-01", "--to", "2024-12-31")
	if res.code != 3 || !strings.Contains(lastLine(res.stderr), "refused the connection (connection-refused)") {
		t.Errorf("list against a closed port: exit %d, %q; want 3 and the refused connection named", res.code, lastLine(res.stderr))
	}
}

// awsFreeEnv is the environment without any AWS_ variable and with HOME
// in dir: no credentials anywhere the AWS configuration looks, unless the
// test gives some.
func awsFreeEnv(dir string, extra map[string]string) []string {
	var env []string
	for _, kv := range cleanEnv(nil) {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+dir)
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// TestS3MissingCredentialsAndJSONLogs: against the real S3 server with no
// AWS credentials anywhere, the run says which variables, profile and
// files were looked for (not "endpoint unreachable"); the AWS SDK's own
// warning on the way (an instance-metadata endpoint that refuses tokens)
// comes through the run's logger, so with --log-format json every line of
// stderr is JSON, the SDK's and the last one included. A successful run
// with JSON logs against the same server prints JSON only too.
func TestS3MissingCredentialsAndJSONLogs(t *testing.T) {
	b := archivetest.NewBucket(t, archivetest.BucketOptions{})
	ds := meetingtest.GenerateFiles(2, 1, 32<<10, 304)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 304})
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden) // no token, no role
	}))
	defer imds.Close()
	dir := t.TempDir()
	in := writeInput(t, dir, ds.UUIDs()...)
	simVars := map[string]string{}
	for k, v := range simEnv(sim) {
		simVars[k] = v
	}
	simVars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.URL
	simVars["AWS_REGION"] = b.Env.Region

	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			cmd := exec.Command(binPath, "run", "--input", in, "--dest", b.URI("nocreds"), "--out", filepath.Join(dir, "r-"+format),
				"--s3-endpoint", b.Env.Endpoint, "--s3-path-style", "--log-format", format)
			cmd.Env = awsFreeEnv(dir, simVars)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2\n%s", err, stderr.String())
			}
			all := stderr.String()
			for _, w := range []string{"no AWS credentials found", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", `profile \"default\"`, "AWS_PROFILE",
				"--s3-profile", filepath.Join(dir, ".aws", "credentials"), filepath.Join(dir, ".aws", "config"), "EC2 instance role"} {
				if format == "text" {
					w = strings.ReplaceAll(w, `\"`, `"`)
				}
				if !strings.Contains(all, w) {
					t.Errorf("the error does not say %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "endpoint unreachable") {
				t.Errorf("missing credentials told as an unreachable endpoint:\n%s", all)
			}
			if !strings.Contains(all, "aws sdk: falling back to IMDSv1") {
				t.Errorf("the SDK's warning did not come through the run's logger:\n%s", all)
			}
			if format == "json" {
				assertJSONLines(t, all)
			} else if strings.Contains(all, "SDK ") {
				t.Errorf("the SDK's own logger printed a line:\n%s", all)
			}
		})
	}

	t.Run("json run", func(t *testing.T) {
		env := s3Env(sim, b)
		res := runBin(t, env, "run", "--input", in, "--dest", b.URI("json"), "--out", filepath.Join(dir, "r-ok"), "--log-format", "json")
		if res.code != 0 {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		assertJSONLines(t, res.stderr)
		res = runBin(t, env, "verify", "--manifest", filepath.Join(dir, "r-ok", report.ManifestCSV), "--log-format", "json")
		if res.code != 0 {
			t.Fatalf("verify exit %d\n%s", res.code, res.stderr)
		}
		assertJSONLines(t, res.stderr)
	})
}

// TestVerifyWritesItsReport: verify --report writes every check (objects
// and sidecars) to a CSV with expected and found size and SHA-256; the
// findings are printed in full, and the last line says where they are
// instead of "see the report".
func TestVerifyWritesItsReport(t *testing.T) {
	ds := meetingtest.GenerateFiles(3, 2, 20<<10, 305)
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 305})
	dir := t.TempDir()
	out, dest := filepath.Join(dir, "report"), filepath.Join(dir, "a")
	if res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", dest, "--out", out); res.code != 0 {
		t.Fatalf("run exit %d\n%s", res.code, res.stderr)
	}
	rows := readManifest(t, out)
	var damaged, removed string
	for _, r := range rows {
		switch {
		case r["status"] != "archived":
		case damaged == "":
			damaged = r["objectURI"]
		case removed == "":
			removed = r["objectURI"]
		}
	}
	if err := os.WriteFile(damaged, []byte("not the recording"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(removed); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "verify.csv")
	res := runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV), "--dest", dest, "--report", rep)
	if res.code != 1 {
		t.Fatalf("verify exit %d, want 1\n%s", res.code, res.stderr)
	}
	for _, w := range []string{"mismatch\t" + damaged + "\t", "missing\t" + removed + "\t", "report: " + rep} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("stdout does not show %q:\n%s", w, res.stdout)
		}
	}
	last := lastLine(res.stderr)
	if strings.Contains(last, "see the report") || !strings.Contains(last, "verify: 2 of 9 checks failed (listed above and in "+rep+")") {
		t.Errorf("last line %q, want the count of failed checks and where they are listed", last)
	}
	f, err := os.Open(rep)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != strings.Join(pipeline.VerifyReportHeader, ",") {
		t.Errorf("header %q, want %q", got, strings.Join(pipeline.VerifyReportHeader, ","))
	}
	byURI := map[string][]string{}
	checks := map[string]int{}
	for _, r := range recs[1:] {
		byURI[r[2]] = r
		checks[r[0]+" "+r[1]]++
	}
	if want := map[string]int{"object ok": 4, "object mismatch": 1, "object missing": 1, "sidecar ok": 3}; len(checks) != len(want) ||
		checks["object ok"] != 4 || checks["object mismatch"] != 1 || checks["object missing"] != 1 || checks["sidecar ok"] != 3 {
		t.Errorf("report checks %v, want %v", checks, want)
	}
	d := byURI[damaged]
	if d == nil || d[4] != "20480" || d[5] != strconv.Itoa(len("not the recording")) || d[6] == d[7] || d[8] == "" {
		t.Errorf("the damaged object's line %q: want expected and found size and SHA-256, and the error", d)
	}

	// A clean verify with --report writes it too, every check ok.
	rep2 := filepath.Join(dir, "verify2.csv")
	res = runBin(t, nil, "verify", "--manifest", filepath.Join(out, report.ManifestCSV), "--report", rep2, "--quiet")
	if res.code != 1 { // the damage is still there
		t.Fatalf("second verify exit %d, want 1\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(rep2); err != nil {
		t.Errorf("verify --quiet --report wrote no report: %v", err)
	}
}

// TestS3UnreachableToldApart: an S3 endpoint that gives no answer at all
// is told apart by cause (exit 2, nothing done): a host name that does not
// resolve, a connection refused, an untrusted TLS certificate.
func TestS3UnreachableToldApart(t *testing.T) {
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	badHost := strings.Repeat("x", 64) + ".example" // no DNS name: "no such host" at once
	tests := []struct {
		name, endpoint string
		wants          []string
	}{
		{"dns", "http://" + badHost + ":9000", []string{"does not resolve (DNS)", badHost, "check --s3-endpoint"}},
		{"refused", closed, []string{"connection refused (nothing listens there)", "check --s3-endpoint"}},
		{"tls", tlsSrv.URL, []string{"TLS certificate not trusted", "AWS_CA_BUNDLE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(binPath, "run", "--input", writeInput(t, dir, "confUUID"), "--dest", "s3://bucket/p", "--out", filepath.Join(dir, "r"),
				"--s3-endpoint", tt.endpoint, "--s3-path-style")
			cmd.Env = awsFreeEnv(dir, map[string]string{
				"AWS_ACCESS_KEY_ID": "test-access", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1",
				"AWS_MAX_ATTEMPTS": "1", "GODEBUG": "netdns=go", "NO_PROXY": "*", "no_proxy": "*",
				"MEETARCHIVE_API": "http://127.0.0.1:1", "MEETARCHIVE_APP_ID": testAppID, "MEETARCHIVE_APP_KEY": testAppKey,
			})
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("exit %v, want 2\n%s", err, stderr.String())
			}
			last := lastLine(stderr.String())
			for _, w := range tt.wants {
				if !strings.Contains(last, w) {
					t.Errorf("error %q does not say %q", last, w)
				}
			}
			if strings.Contains(last, "credentials") {
				t.Errorf("an unreachable endpoint told as a credentials problem: %q", last)
			}
		})
	}
}
