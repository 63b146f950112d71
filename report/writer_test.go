package report

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"meetarchive/redact"
)

// readAll reads every row of dir's manifest.csv.
func readAll(t *testing.T, dir string) []Row {
	t.Helper()
	var rows []Row
	if err := ReadManifest(filepath.Join(dir, ManifestCSV), func(r Row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	return rows
}

func TestCloseInputOrder(t *testing.T) {
	dir := t.TempDir()
	rows := fixtureRows()
	writeRun(t, dir, testInfo(), shuffled(rows), ExitFailures)
	got := readAll(t, dir)
	if len(got) != len(rows) {
		t.Fatalf("got %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if got[i].Seq != rows[i].Seq || got[i].FileIndex != rows[i].FileIndex {
			t.Errorf("row %d: got (seq %d, file %d), want (seq %d, file %d)",
				i, got[i].Seq, got[i].FileIndex, rows[i].Seq, rows[i].FileIndex)
		}
	}
}

func TestCounts(t *testing.T) {
	w, err := NewWriter(t.TempDir(), testInfo())
	if err != nil {
		t.Fatal(err)
	}
	add := func(r Row) {
		t.Helper()
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	add(Row{Seq: 0, ConfUUID: "a", Status: Archived, FileIndex: 0})
	add(Row{Seq: 1, ConfUUID: "b", Status: Unavailable})
	add(Row{Seq: 0, ConfUUID: "a", Status: Failed, FileIndex: 1}) // conference a becomes failed
	add(Row{Seq: 0, ConfUUID: "a", Status: Archived, FileIndex: 2})
	add(Row{Seq: 2, ConfUUID: "c", Status: AlreadyArchived})
	got := w.Counts()
	want := map[Status]int{}
	for _, s := range Statuses() {
		want[s] = 0
	}
	want[Failed], want[Unavailable], want[AlreadyArchived] = 1, 1, 1
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Counts() = %v, want %v", got, want)
	}
	sum, err := w.Close(ExitFailures)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum.Counts, want) {
		t.Errorf("Summary.Counts = %v, want %v (same as Counts)", sum.Counts, want)
	}
	if sum.Conferences != 3 || sum.Rows != 5 {
		t.Errorf("Conferences, Rows = %d, %d; want 3, 5", sum.Conferences, sum.Rows)
	}
	if err := w.Add(Row{Seq: 3}); err == nil {
		t.Error("Add after Close: no error")
	}
	if _, err := w.Close(0); err == nil {
		t.Error("second Close: no error")
	}
}

func TestAddRejectsBadSeq(t *testing.T) {
	w, err := NewWriter(t.TempDir(), testInfo())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(0)
	for _, r := range []Row{{Seq: -1}, {Seq: 1, FileIndex: -2}, {Seq: 1 << 40}} {
		if err := w.Add(r); err == nil {
			t.Errorf("Add(seq %d, file %d): no error", r.Seq, r.FileIndex)
		}
	}
}

func TestSummary(t *testing.T) {
	sum := writeRun(t, t.TempDir(), testInfo(), fixtureRows(), ExitFailures)
	if sum.DurationSecs != 5400 {
		t.Errorf("DurationSecs = %v, want 5400", sum.DurationSecs)
	}
	var bytes int64
	total := 0
	for _, r := range fixtureRows() {
		if r.Status == Archived {
			bytes += r.Bytes
		}
	}
	for _, n := range sum.Counts {
		total += n
	}
	if total != sum.Conferences {
		t.Errorf("sum of Counts = %d, want Conferences = %d", total, sum.Conferences)
	}
	if sum.BytesArchived != bytes {
		t.Errorf("BytesArchived = %d, want %d", sum.BytesArchived, bytes)
	}
	if want := float64(bytes) / 5400; sum.ThroughputBytesPerSec < want-0.01 || sum.ThroughputBytesPerSec > want+0.01 {
		t.Errorf("ThroughputBytesPerSec = %v, want %v", sum.ThroughputBytesPerSec, want)
	}
	if sum.ExitCode != ExitFailures || sum.ExitStatus != "failures" {
		t.Errorf("ExitCode, ExitStatus = %d, %q", sum.ExitCode, sum.ExitStatus)
	}
}

// TestFailuresCSV: one row per conference a rerun should retry, confUUID
// first, usable as --input.
func TestFailuresCSV(t *testing.T) {
	dir := t.TempDir()
	rows := fixtureRows()
	// The same conference failing twice in completion order must still give one row.
	writeRun(t, dir, testInfo(), rows, ExitFailures)
	b, err := os.ReadFile(filepath.Join(dir, FailuresCSV))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if got, want := lines[0], strings.Join(FailuresColumns(), ","); got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
	wantIDs := map[string]bool{}
	for _, r := range rows {
		if r.Status.Retry() {
			wantIDs[r.ConfUUID] = true
		}
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		id, _, _ := strings.Cut(l, ",")
		if seen[id] {
			t.Errorf("confUUID %s twice in failures.csv", id)
		}
		seen[id] = true
		if !wantIDs[id] {
			t.Errorf("confUUID %s in failures.csv, but none of its rows needs a retry", id)
		}
	}
	if len(seen) != len(wantIDs) {
		t.Errorf("failures.csv has %d conferences, want %d", len(seen), len(wantIDs))
	}
}

func TestReadManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rows := fixtureRows()
	writeRun(t, dir, testInfo(), rows, ExitFailures)
	got := readAll(t, dir)
	for i, want := range rows {
		want = sanitizeRow(want)
		g := got[i]
		// Text beginning with a formula character keeps its neutralising quote.
		for _, p := range []*string{&want.Subject, &want.ErrorMessage, &want.ConfUUID} {
			*p = Neutralize(*p)
		}
		want.RetainUntil = want.RetainUntil.Truncate(time.Second)
		want.FinishedAt = want.FinishedAt.Truncate(time.Second)
		if !reflect.DeepEqual(g, want) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, g, want)
		}
	}
}

func TestReadManifestErrors(t *testing.T) {
	tests := []struct{ name, content string }{
		{"empty", ""},
		{"no confUUID", "seq,status\n1,archived\n"},
		{"bad bytes", "confUUID,status,bytes\nx,archived,12z\n"},
		{"bad time", "confUUID,status,finishedAt\nx,archived,yesterday\n"},
		{"bad quote", "confUUID,status\n\"x,archived\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ManifestCSV)
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := ReadManifest(path, func(Row) error { return nil }); err == nil {
				t.Error("ReadManifest: no error")
			}
		})
	}
	t.Run("BOM, other order, extra column", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), ManifestCSV)
		content := "\xef\xbb\xbfstatus,extra,confUUID,bytes\r\narchived,x,u1,12\r\n"
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		var got []Row
		if err := ReadManifest(path, func(r Row) error { got = append(got, r); return nil }); err != nil {
			t.Fatal(err)
		}
		want := []Row{{ConfUUID: "u1", Status: Archived, Bytes: 12}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("fn error stops", func(t *testing.T) {
		dir := t.TempDir()
		writeRun(t, dir, testInfo(), fixtureRows(), 0)
		n := 0
		stop := io.ErrUnexpectedEOF
		err := ReadManifest(filepath.Join(dir, ManifestCSV), func(Row) error { n++; return stop })
		if n != 1 || err == nil || !strings.Contains(err.Error(), stop.Error()) {
			t.Errorf("n = %d, err = %v; want 1 call and the callback's error", n, err)
		}
	})
}

// secrets are seeded into every kind of text field; none may reach any file.
var secrets = []string{
	"SeKrEtQuery111", "SeKrEtAccess222", "SeKrEtHeader333", "SeKrEtAuth444",
	"SeKrEtJSON555", "SeKrEtURI666", "SeKrEtBearer777", "SeKrEtPass888", "SeKrEtOption999",
}

func secretRows() []Row {
	return []Row{
		{Seq: 0, ConfUUID: uuid(0), Status: Failed,
			Subject:       "Board meeting https://meet.example/play.html?id=7&token=SeKrEtQuery111",
			ScheduserName: "ops access_token=SeKrEtAccess222",
			ErrorCode:     "http-401",
			ErrorMessage:  "request with X-Access-Token: SeKrEtHeader333 refused; Authorization: HMAC-SHA256 signature=SeKrEtAuth444; retried with Authorization: SeKrEtAuth444",
			Attempts:      3},
		{Seq: 1, ConfUUID: uuid(1), Status: Archived, FileType: "Hd", FileName: "0_0.mp4", SHA256: strings.Repeat("0f", 32),
			ObjectURI:    "https://media.example/videoHD/0_0.mp4?token=SeKrEtURI666",
			ErrorMessage: `{"accessToken":"SeKrEtJSON555"} Bearer SeKrEtBearer777`},
		{Seq: 2, ConfUUID: uuid(2), Status: Cancelled, ErrorMessage: "https://bob:SeKrEtPass888@host/x"},
	}
}

// searchSecrets fails the test if any file under dir (and any part of any
// zip file there) contains a secret.
func searchSecrets(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		check(t, path, b)
		if strings.HasSuffix(path, ".xlsx") {
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, zf := range zr.File {
				rc, err := zf.Open()
				if err != nil {
					t.Fatal(err)
				}
				part, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				check(t, path+"!"+zf.Name, part)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("searched %d files in %s, want at least the four reports", n, dir)
	}
}

func check(t *testing.T, name string, b []byte) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s contains secret %q", name, s)
		}
	}
}

func TestNoSecretInAnyFile(t *testing.T) {
	info := testInfo()
	info.Input = "https://share.example/list.csv?token=SeKrEtQuery111"
	info.Options["apiToken"] = "SeKrEtOption999"
	info.Options["note"] = "password=SeKrEtPass888"

	dir := t.TempDir()
	sum := writeRunKeep(t, dir, info, secretRows(), ExitFailures)
	searchSecrets(t, dir)
	if !strings.Contains(sum.Input, "token="+redact.Marker) {
		t.Errorf("Summary.Input = %q, want the token redacted", sum.Input)
	}
	// The redacted text is still there: only the secret went.
	got := readAll(t, dir)
	if !strings.Contains(got[1].ObjectURI, "videoHD/0_0.mp4?token=REDACTED") {
		t.Errorf("objectURI = %q, want the URL with token=REDACTED", got[1].ObjectURI)
	}

	t.Run("rebuild", func(t *testing.T) {
		if _, err := Rebuild(dir); err != nil {
			t.Fatal(err)
		}
		searchSecrets(t, dir)
	})
	t.Run("merge", func(t *testing.T) {
		out := t.TempDir()
		if _, err := Merge(out, []string{dir}); err != nil {
			t.Fatal(err)
		}
		searchSecrets(t, out)
	})
}

// killJournal writes a journal as a killed run leaves it: rows, no end
// record, and optionally a torn last line.
func killJournal(t *testing.T, dir string, rows []Row, torn string) {
	t.Helper()
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	// Abandon the writer as a kill would (no Close).
	w.f.Close()
	if torn != "" {
		f, err := os.OpenFile(filepath.Join(dir, Journal), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(torn); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

func TestRebuild(t *testing.T) {
	rows := fixtureRows()
	tests := []struct {
		name string
		torn string
	}{
		{"clean end", ""},
		{"torn last line", `{"row":{"seq":99,"confUUID":"torn","sta`},
		{"torn after a brace", `{`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			killJournal(t, dir, shuffled(rows), tt.torn)
			for _, p := range Paths(dir) {
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s exists before Rebuild", p)
				}
			}
			sum, err := Rebuild(dir)
			if err != nil {
				t.Fatalf("Rebuild: %v", err)
			}
			if sum.ExitCode != ExitInterrupted || !sum.Rebuilt {
				t.Errorf("ExitCode, Rebuilt = %d, %v; want 130, true", sum.ExitCode, sum.Rebuilt)
			}
			var last time.Time
			for _, r := range rows {
				if r.FinishedAt.After(last) {
					last = r.FinishedAt
				}
			}
			if !sum.Finished.Equal(last) {
				t.Errorf("Finished = %v, want the last row's FinishedAt %v", sum.Finished, last)
			}
			// Same CSV as a run that closed normally (apart from nothing: CSV has no run times).
			ref := t.TempDir()
			writeRun(t, ref, testInfo(), rows, ExitInterrupted)
			for _, name := range []string{ManifestCSV, FailuresCSV} {
				a, _ := os.ReadFile(filepath.Join(dir, name))
				b, _ := os.ReadFile(filepath.Join(ref, name))
				if !bytes.Equal(a, b) {
					t.Errorf("%s rebuilt from the journal differs from the normal run's", name)
				}
			}
			for _, p := range Paths(dir) {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("after Rebuild: %v", err)
				}
			}
		})
	}

	t.Run("recorded exit code", func(t *testing.T) {
		dir := t.TempDir()
		writeRunKeep(t, dir, testInfo(), rows, ExitFatal)
		sum, err := Rebuild(dir)
		if err != nil {
			t.Fatal(err)
		}
		if sum.ExitCode != ExitFatal || !sum.Finished.Equal(finished) {
			t.Errorf("ExitCode, Finished = %d, %v; want 3, %v (as Close recorded)", sum.ExitCode, sum.Finished, finished)
		}
	})

	bad := []struct{ name, content string }{
		{"missing", ""},
		{"corrupt middle line", `{"header":{"format":1,"run":{"runId":"x"}}}` + "\n" + "garbage\n" + `{"row":{"seq":1,"status":"archived"}}` + "\n"},
		{"no header", `{"row":{"seq":1,"status":"archived"}}` + "\n"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != "" {
				if err := os.WriteFile(filepath.Join(dir, Journal), []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Rebuild(dir); err == nil {
				t.Error("Rebuild: no error")
			}
		})
	}
}

// TestNewWriterSetsAsideUnreportedJournals: the journal of a run killed
// before its report is never overwritten. NewWriter moves it into
// previous-<its start time>/ and rebuilds its report there; after two
// kills in a row both journals and both reports are there.
func TestNewWriterSetsAsideUnreportedJournals(t *testing.T) {
	dir := t.TempDir()
	var journals [][]byte
	for i := range 2 { // two runs killed in a row
		killJournal(t, dir, fixtureRows()[:2+i], "")
		b, err := os.ReadFile(filepath.Join(dir, Journal))
		if err != nil {
			t.Fatal(err)
		}
		journals = append(journals, b)
	}
	w, err := NewWriter(dir, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(ExitOK); err != nil {
		t.Fatal(err)
	}
	// testInfo gives every run the same start time.
	base := filepath.Join(dir, PreviousPrefix+testInfo().Started.UTC().Format("20060102T150405Z"))
	if prev := w.Previous(); prev.Dir != base+"-2" || prev.Err != nil || !prev.Summary.Rebuilt {
		t.Errorf("Previous %s (%v, rebuilt %v), want %s-2 rebuilt", prev.Dir, prev.Err, prev.Summary.Rebuilt, base)
	}
	for i, d := range []string{base, base + "-2"} {
		b, err := os.ReadFile(filepath.Join(d, Journal))
		if err != nil || !bytes.Equal(b, journals[i]) {
			t.Errorf("%s: journal %v, or not the journal of killed run %d", d, err, i)
		}
		if rows := readAll(t, d); len(rows) != 2+i {
			t.Errorf("%s: report of %d rows, want the %d killed run %d journalled", d, len(rows), 2+i, i)
		}
	}
}

// TestNewWriterRefusesSymlinks: a journal or a lock file that is a symbolic
// link is refused (ErrLink); the file it points to is left as it was.
func TestNewWriterRefusesSymlinks(t *testing.T) {
	for _, name := range []string{Journal, LockFile} {
		t.Run(name, func(t *testing.T) {
			dir, outside := t.TempDir(), filepath.Join(t.TempDir(), "precious")
			if err := os.WriteFile(outside, []byte("precious\n"), 0o666); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			w, err := NewWriter(dir, testInfo())
			if !errors.Is(err, ErrLink) {
				if w != nil {
					w.Close(ExitOK)
				}
				t.Fatalf("NewWriter: %v, want ErrLink", err)
			}
			if b, _ := os.ReadFile(outside); string(b) != "precious\n" {
				t.Errorf("the link's target now holds %q", b)
			}
		})
	}
}

// TestJournalLines: the journal is one JSON record per line, header first,
// end record last after Close.
func TestJournalLines(t *testing.T) {
	dir := t.TempDir()
	writeRunKeep(t, dir, testInfo(), fixtureRows()[:4], ExitOK)
	b, err := os.ReadFile(filepath.Join(dir, Journal))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("journal has %d lines, want header + 4 rows + end", len(lines))
	}
	for i, prefix := range map[int]string{0: `{"header":`, 1: `{"row":`, 4: `{"row":`, 5: `{"end":`} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %.40q, want prefix %s", i+1, lines[i], prefix)
		}
	}
}

func TestAddAll(t *testing.T) {
	rows := fixtureRows()
	a, b := t.TempDir(), t.TempDir()
	writeRun(t, a, testInfo(), rows, ExitFailures)
	w, err := NewWriter(b, testInfo())
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return finished }
	if err := w.AddAll(rows[:5]...); err != nil {
		t.Fatal(err)
	}
	if err := w.AddAll(rows[5:]...); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Close(ExitFailures); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ManifestCSV, FailuresCSV, SummaryJSON} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) {
			t.Errorf("%s: AddAll and Add give different files", name)
		}
	}
}

// TestNoTempFilesLeft: after Close only the report files remain (the
// journal too with KeepJournal).
func TestNoTempFilesLeft(t *testing.T) {
	reports := []string{AttestationHTML, FailuresCSV, ManifestCSV, ManifestXLSX, SHA256Sums, SummaryHTML, SummaryJSON}
	for _, tc := range []struct {
		name string
		keep bool
		want []string
	}{
		{"journal removed", false, reports},
		{"journal kept", true, []string{AttestationHTML, FailuresCSV, Journal, ManifestCSV, ManifestXLSX, SHA256Sums, SummaryHTML, SummaryJSON}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRunWith(t, dir, testInfo(), fixtureRows(), ExitFailures, tc.keep)
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			if !reflect.DeepEqual(names, tc.want) {
				t.Errorf("files = %v, want %v", names, tc.want)
			}
		})
	}
}

// FailuresColumns returns the header of failures.csv, in order.
func FailuresColumns() []string { return append([]string(nil), failuresCSVColumns...) }
