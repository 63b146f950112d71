package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSummaryHTML(t *testing.T) {
	dir := t.TempDir()
	info := testInfo()
	info.RunID = `run-<script>alert(1)</script>`
	info.Dest = "s3://bucket/prefix?X-Amz-Signature=abcdef0123456789&x=1"
	rows := chartRows()
	rows = append(rows, Row{Seq: 20, ConfUUID: uuid(20), Status: Failed, ErrorCode: `<img src=x onerror=alert(2)>`})
	sum := writeRun(t, dir, info, rows, ExitFailures)
	b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)

	tests := []struct {
		name    string
		absent  []string
		present []string
	}{
		{"no script, no external asset",
			[]string{"<script", "<link", "<img", `src="`, "@import", "url("},
			[]string{"<svg", "</html>"}},
		{"text escaped",
			[]string{"<img", "<script>alert"},
			[]string{"&lt;script&gt;", "&lt;img src=x onerror=alert(2)&gt;"}},
		{"secrets redacted",
			[]string{"abcdef0123456789"},
			[]string{"X-Amz-Signature=REDACTED"}},
		{"three charts",
			nil,
			[]string{"Conferences by status", "Bytes archived per recording day", "Failed rows by error code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.absent {
				if strings.Contains(page, s) {
					t.Errorf("page contains %q", s)
				}
			}
			for _, s := range tt.present {
				if !strings.Contains(page, s) {
					t.Errorf("page lacks %q", s)
				}
			}
		})
	}
	t.Run("figures equal the summary", func(t *testing.T) {
		for st, n := range sum.Counts {
			want := fmt.Sprintf("<tr><td>%s</td><td class=\"n\">%s</td></tr>", st, groupDigits(int64(n)))
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %s", want)
			}
		}
		want := fmt.Sprintf("<tr><td>bytes archived</td><td>%s</td></tr>", groupDigits(sum.BytesArchived))
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	})
	t.Run("only the SVG namespace is a URL", func(t *testing.T) {
		for _, m := range regexp.MustCompile(`https?://[^"'\s<]+`).FindAllString(page, -1) {
			if m != "http://www.w3.org/2000/svg" && !strings.HasPrefix(m, "s3://") {
				t.Errorf("page refers to %q", m)
			}
		}
	})
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234", 100000: "100,000"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSummaryHTMLVerdictFirst: the page reads verdict, then what needs
// attention, then the charts, then the run's details; every chart is an
// image with a title and a description a screen reader reads, and a print
// style sheet keeps the colours.
func TestSummaryHTMLVerdictFirst(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), fixtureRows(), ExitFailures)
	b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	t.Run("order", func(t *testing.T) {
		body := page[strings.Index(page, "<body>"):]
		order := []string{`id="verdict"`, `id="attention"`, `id="waiting"`, `id="chart-1"`, `id="chart-2"`, `id="chart-3"`, `id="run-details"`}
		last := -1
		for _, s := range order {
			i := strings.Index(body, s)
			if i < 0 {
				t.Fatalf("page lacks %s", s)
			}
			if i < last {
				t.Errorf("%s comes before what precedes it in %v", s, order)
			}
			last = i
		}
		if !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(body, "<body>")), `<section id="verdict"`) {
			t.Errorf("the verdict is not the first thing in the body")
		}
	})
	t.Run("charts are images with a title and a description", func(t *testing.T) {
		svgs := regexp.MustCompile(`(?s)<svg [^>]*>.*?</svg>`).FindAllString(page, -1)
		if len(svgs) != 3 {
			t.Fatalf("%d svg elements, want 3", len(svgs))
		}
		for i, s := range svgs {
			id := fmt.Sprintf("chart-%d", i+1)
			for _, want := range []string{`role="img"`, `aria-labelledby="` + id + `-title ` + id + `-desc"`, `<title id="` + id + `-title">`, `<desc id="` + id + `-desc">`} {
				if !strings.Contains(s, want) {
					t.Errorf("svg %d lacks %s", i+1, want)
				}
			}
		}
		if !strings.Contains(svgs[0], "failed: 4; invalid-input: 1") {
			t.Errorf("the status chart's description does not give the figures:\n%s", svgs[0])
		}
	})
	t.Run("print style sheet", func(t *testing.T) {
		if !strings.Contains(page, "@media print") || !strings.Contains(page, "print-color-adjust: exact") {
			t.Errorf("no print style sheet that keeps the colours")
		}
	})
	t.Run("nothing may be loaded", func(t *testing.T) {
		if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
			t.Errorf("no Content-Security-Policy forbidding loads")
		}
	})
}

// attentionRows returns the rows of the table of the page's list id, as
// cells.
func attentionRows(t *testing.T, page, id string) [][]string {
	t.Helper()
	i := strings.Index(page, `<section id="`+id+`"`)
	if i < 0 {
		return nil
	}
	sec := page[i:]
	sec = sec[:strings.Index(sec, "</section>")]
	var out [][]string
	cell := regexp.MustCompile(`<td[^>]*>(.*?)</td>`)
	for _, tr := range regexp.MustCompile(`<tr class="st-[^"]*">(.*?)</tr>`).FindAllStringSubmatch(sec, -1) {
		var cells []string
		for _, m := range cell.FindAllStringSubmatch(tr[1], -1) {
			cells = append(cells, m[1])
		}
		out = append(out, cells)
	}
	return out
}

// TestSummaryHTMLLists: every conference that needs action is listed with
// its status, errorCode and hint, in input order, the first 200 of them
// with the count of the rest; a conference is described by the row that
// says why it failed, not by a file stored before it.
func TestSummaryHTMLLists(t *testing.T) {
	var rows []Row
	seq := 0
	add := func(r Row) { r.Seq, r.ConfUUID = seq, uuid(seq%256)+strconv.Itoa(seq); rows = append(rows, r); seq++ }
	add(Row{Status: Archived, FileType: "Hd", FileName: "a.mp4", Bytes: 5})
	// A conference with a stored file and a failed one: the failed one says why.
	rows = append(rows,
		Row{Seq: seq, ConfUUID: "conf-with-two-files", FileIndex: 0, Status: Failed, ObjectURI: "s3://b/k0", ErrorCode: "uncommitted", ErrorMessage: "stored, not committed"},
		Row{Seq: seq, ConfUUID: "conf-with-two-files", FileIndex: 1, Status: Failed, ErrorCode: "integrity", ErrorMessage: "sha256 mismatch", Hint: "check the bytes"})
	seq++
	add(Row{Status: NotFound, ErrorCode: "not-found"})
	add(Row{Status: InvalidInput, ErrorCode: "invalid-input", ErrorMessage: strings.Repeat("m", 5000)})
	add(Row{Status: Cancelled, ErrorCode: "interrupted"})
	add(Row{Status: PendingTranscode, ErrorCode: "pending-transcode"})
	add(Row{Status: DuplicateInput, ErrorCode: "duplicate-input"})
	for range 250 {
		add(Row{Status: Failed, ErrorCode: "http-500", Hint: "rerun later"})
	}
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), rows, ExitFailures)
	b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	act := attentionRows(t, page, "attention")
	if len(act) != maxAttention {
		t.Fatalf("%d conferences listed as needing action, want %d", len(act), maxAttention)
	}
	if want := "The first 200 are shown; 54 more are in those files."; !strings.Contains(page, want) {
		t.Errorf("page lacks %q", want)
	}
	if !strings.Contains(page, "Needs action: 254 conferences") {
		t.Errorf("the list's title does not count every conference that needs action")
	}
	// seq, confUUID, subject, status, errorCode, hint, errorMessage
	tests := []struct {
		i                      int
		seq, status, code, hnt string
	}{
		{0, "1", "failed", "integrity", "check the bytes"},
		{1, "2", "not-found", "not-found", Hint(Row{Status: NotFound})},
		{2, "3", "invalid-input", "invalid-input", Hint(Row{Status: InvalidInput})},
		{3, "4", "cancelled", "interrupted", Hint(Row{Status: Cancelled})},
		{4, "7", "failed", "http-500", "rerun later"},
	}
	for _, tt := range tests {
		got := act[tt.i]
		if got[0] != tt.seq || got[3] != tt.status || got[4] != tt.code || got[5] != htmlEscape(tt.hnt) {
			t.Errorf("row %d = %q, want seq %s, status %s, code %s, hint %q", tt.i, got, tt.seq, tt.status, tt.code, tt.hnt)
		}
	}
	if n := len([]rune(act[2][6])); n > maxAttentionMessage {
		t.Errorf("a 5000-character errorMessage is shown with %d characters, want at most %d", n, maxAttentionMessage)
	}
	wait := attentionRows(t, page, "waiting")
	if len(wait) != 1 || wait[0][3] != "pending-transcode" {
		t.Errorf("waiting list = %q, want the one pending-transcode conference", wait)
	}
	if !strings.Contains(page, `<a href="failures.csv">failures.csv</a>`) {
		t.Errorf("no link to failures.csv")
	}
	for _, r := range append(act, wait...) {
		if r[3] == string(DuplicateInput) || r[3] == string(Archived) {
			t.Errorf("a %s conference is listed: it needs nothing", r[3])
		}
	}
}

// TestSummaryHTMLNothingToDo: a run that archived everything says so and
// lists nothing.
func TestSummaryHTMLNothingToDo(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, testInfo(), fixtureRows()[:3], ExitOK)
	b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, s := range []string{`class="verdict level-green"`, "Nothing needs attention", "nothing to do."} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(page, `<tr class="st-`) {
		t.Errorf("a green run lists conferences")
	}
}

// TestSummaryHTMLSize: the page stays small: a 300-conference run and a
// 10,000-conference run where every conference failed. The lists are
// capped, so the all-failed page does not grow with the run: 10,000
// failures make a page within a few hundred bytes of 1,000 failures (the
// counts have more digits).
func TestSummaryHTMLSize(t *testing.T) {
	size := func(t *testing.T, rows []Row, code int) int {
		dir := t.TempDir()
		writeRun(t, dir, testInfo(), rows, code)
		st, err := os.Stat(filepath.Join(dir, SummaryHTML))
		if err != nil {
			t.Fatal(err)
		}
		return int(st.Size())
	}
	good := make([]Row, 300)
	for i := range good {
		good[i] = Row{Seq: i, ConfUUID: uuid(i % 256), Subject: "Weekly sync " + strconv.Itoa(i), StartTime: "2025-06-0" + strconv.Itoa(1+i%9) + " 10:00",
			Status: Archived, FileType: "Hd", FileName: "0_0.mp4", Bytes: 100 << 20, SHA256: strings.Repeat("a", 64), ObjectKey: "k" + strconv.Itoa(i)}
	}
	failed := func(n int) []Row {
		rows := make([]Row, n)
		for i := range rows {
			rows[i] = Row{Seq: i, ConfUUID: uuid(i % 256), Subject: "Weekly sync " + strconv.Itoa(i), Status: Failed, ErrorCode: "http-500",
				ErrorMessage: "export: details: http 500 Internal Server Error: the gateway said so (request 0123456789abcdef)",
				Hint:         "rerun with --input failures.csv; if it fails again, see errorMessage"}
		}
		return rows
	}
	g := size(t, good, ExitOK)
	f1k := size(t, failed(1000), ExitFailures)
	f10k := size(t, failed(10_000), ExitFailures)
	t.Logf("summary.html: 300 archived %d bytes; 1,000 failed %d bytes; 10,000 failed %d bytes", g, f1k, f10k)
	if f10k-f1k > 500 {
		t.Errorf("10,000 failures make a page %d bytes larger than 1,000: the lists are not capped", f10k-f1k)
	}
	const limit = 200 << 10
	for name, n := range map[string]int{"300 archived": g, "10,000 failed": f10k} {
		if n > limit {
			t.Errorf("%s: summary.html is %d bytes, want at most %d", name, n, limit)
		}
	}
}
