package report

import (
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// sampleCompleteness is a window with one line of every fate, two of them
// not accounted for, and a history whose count its pages exceed.
func sampleCompleteness() *Completeness {
	c := &Completeness{
		Window: "2025-03-01T00:00:00Z..2025-03-31T23:59:59Z", PlatformChecked: true,
		Sources: []CompletenessSource{
			{Name: SourceList, Conferences: 8, Declared: 8, Distinct: 8, Calls: 1},
			{Name: SourceHistory, Conferences: 3, Declared: 4, Distinct: 5, Calls: 2},
			{Name: SourceDestination, Conferences: 4, Declared: -1, Calls: 1},
			{Name: SourceRun, Conferences: 6, Declared: -1},
		},
		Findings: []Finding{{Code: FindingHistoryOver, Text: "the meeting history declared 4 meetings but its pages held 5"}},
	}
	for i, f := range Fates() {
		l := CompletenessLine{ConfUUID: uuid(i), Subject: "meeting " + strconv.Itoa(i), StartTime: "2025-03-0" + strconv.Itoa(1+i%9) + " 10:00",
			Listed: f != FateHistoryOnly && f != FateNotListed, InHistory: f == FateHistoryOnly, Fate: f, Hint: "hint of " + string(f)}
		l.Stored = f == FateArchived || f == FateArchivedBefore || f == FateNotListed
		if f == FateArchived {
			l.Status = Archived
		}
		c.Lines = append(c.Lines, l)
	}
	return c
}

func TestCompletenessTally(t *testing.T) {
	c := sampleCompleteness()
	c.Tally()
	// Every fate once; not-listed is neither listed nor in the history.
	wantReported, wantAccounted := len(Fates())-1, 0
	for _, f := range Fates() {
		if got := c.Fates[f]; got.Conferences != 1 || got.Accounted != f.Accounted() {
			t.Errorf("fates[%s] = %+v, want 1 conference, accounted %v", f, got, f.Accounted())
		}
		if f.Accounted() && f != FateNotListed {
			wantAccounted++
		}
	}
	if c.Reported != wantReported || c.Accounted != wantAccounted {
		t.Errorf("reported %d, accounted %d; want %d and %d", c.Reported, c.Accounted, wantReported, wantAccounted)
	}
	var un []Fate
	for _, l := range c.Unaccounted {
		un = append(un, l.Fate)
	}
	want := []Fate{FateFailed, FateNotArchived, FateHistoryOnly, FateNotCommitted}
	if len(un) != len(want) {
		t.Fatalf("unaccounted %v, want %v", un, want)
	}
	for _, f := range want {
		if !strings.Contains(c.Sentence, uuid(slicesIndex(Fates(), f))+" "+string(f)+" (hint of "+string(f)+")") {
			t.Errorf("the sentence does not name %s with its hint: %q", f, c.Sentence)
		}
	}
	for i, l := range c.Lines[:len(want)] {
		if l.Fate.Accounted() {
			t.Errorf("line %d is %s: the unaccounted lines come first", i, l.Fate)
		}
	}
	if !strings.HasPrefix(c.Sentence, "4 of 10 recordings the platform reports for this window are not archived or accounted for: ") {
		t.Errorf("sentence = %q", c.Sentence)
	}
}

func slicesIndex(fs []Fate, f Fate) int {
	for i, x := range fs {
		if x == f {
			return i
		}
	}
	return -1
}

func TestJudgeCompleteness(t *testing.T) {
	counts := func(kv ...any) map[Status]int {
		m := map[Status]int{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(Status)] = kv[i+1].(int)
		}
		return m
	}
	complete := func(mod func(*Completeness)) *Completeness {
		c := &Completeness{Window: "w", Lines: []CompletenessLine{
			{ConfUUID: uuid(1), Listed: true, Fate: FateArchived, Hint: "archived by this run"},
			{ConfUUID: uuid(2), Listed: true, InHistory: true, Fate: FateArchivedBefore, Hint: "earlier"},
		}}
		if mod != nil {
			mod(c)
		}
		c.Tally()
		return c
	}
	missing := func(c *Completeness) {
		c.Lines = append(c.Lines, CompletenessLine{ConfUUID: uuid(3), InHistory: true, Fate: FateHistoryOnly, Hint: "check it on the platform"})
	}
	tests := []struct {
		name  string
		f     Findings
		level Level
		text  string
	}{
		{"complete", Findings{Counts: counts(Archived, 1), Completeness: complete(nil)}, LevelGreen,
			"1 of 1 conference archived or accounted for (1 archived); nothing to do. 2 of 2 recordings the platform reports for this window are archived or accounted for."},
		{"the reconcile command, complete", Findings{Counts: counts(), Completeness: complete(nil)}, LevelGreen,
			"2 of 2 recordings the platform reports for this window are archived or accounted for."},
		{"not complete: exit 1 comes from the window", Findings{Counts: counts(Archived, 1), ExitCode: ExitFailures, Completeness: complete(missing)}, LevelRed,
			"Action needed: 1 of 3 recordings the platform reports for this window is not archived or accounted for: " + uuid(3) +
				" history-only (check it on the platform). 1 of 1 conference archived or accounted for (1 archived)."},
		{"the reconcile command, not complete", Findings{Counts: counts(), ExitCode: ExitFailures, Completeness: complete(missing)}, LevelRed,
			"Action needed: 1 of 3 recordings the platform reports for this window is not archived or accounted for: " + uuid(3) +
				" history-only (check it on the platform)."},
		{"not complete and a failed conference", Findings{Counts: counts(Failed, 1), ExitCode: ExitFailures, Completeness: complete(missing)}, LevelRed,
			"Action needed: 1 of 3 recordings the platform reports for this window is not archived or accounted for: " + uuid(3) +
				" history-only (check it on the platform). 1 of 1 conference not archived (1 failed); rerun with --input failures.csv."},
		{"a finding that loses nothing is amber", Findings{Counts: counts(Archived, 1), Completeness: complete(func(c *Completeness) {
			c.Findings = []Finding{{Code: FindingHistoryUnread, Text: "the meeting history could not be read"}}
		})}, LevelAmber,
			"1 of 1 conference archived or accounted for (1 archived); nothing to do. 2 of 2 recordings the platform reports for this window are archived or accounted for; note: the meeting history could not be read."},
		{"a short list", Findings{Counts: counts(), ExitCode: ExitFailures, Completeness: complete(func(c *Completeness) {
			c.Findings = []Finding{{Code: FindingListShort, Unaccounted: 2, Text: "the recording list declared 4 recordings but its pages held 2"}}
		})}, LevelRed,
			"Action needed: 2 of 4 recordings the platform reports for this window are not archived or accounted for: the recording list declared 4 recordings but its pages held 2."},
		{"no window", Findings{Counts: counts(Archived, 2), Completeness: complete(func(c *Completeness) {
			c.Window = ""
			c.Findings = []Finding{{Code: FindingNoWindow, Text: "no window"}}
		})}, LevelGreen,
			"2 of 2 conferences archived or accounted for (2 archived); nothing to do. 2 of 2 conferences of the input are archived or accounted for: 2 archived with their commit marks in the destination; the platform-side check needs a window (--from/--to or --since-last)."},
		{"the run's own failure is its only gap: said once", Findings{Counts: counts(Archived, 1, Failed, 1), ExitCode: ExitFailures, Completeness: complete(func(c *Completeness) {
			c.Lines = append(c.Lines, CompletenessLine{ConfUUID: uuid(3), Listed: true, Status: Failed, Fate: FateFailed, Hint: "rerun"})
		})}, LevelRed,
			"Action needed: 1 of 2 conferences not archived (1 failed); rerun with --input failures.csv."},
		{"interrupted stays interrupted", Findings{Counts: counts(Cancelled, 1), ExitCode: ExitInterrupted, Completeness: complete(missing)}, LevelRed,
			"Action needed: 1 of 3 recordings the platform reports for this window is not archived or accounted for: " + uuid(3) +
				" history-only (check it on the platform). Interrupted by a signal before the end: 0 of 1 conference archived or accounted for, 1 cancelled; rerun with --input failures.csv to finish."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Judge(tt.f)
			if got.Level != tt.level {
				t.Errorf("level = %s, want %s", got.Level, tt.level)
			}
			if got.Text != tt.text {
				t.Errorf("text = %q\nwant   %q", got.Text, tt.text)
			}
		})
	}
}

// writeWithCompleteness writes a report of rows with c as its completeness.
func writeWithCompleteness(t *testing.T, dir string, rows []Row, c *Completeness, exitCode int) Summary {
	t.Helper()
	return writeWithCompletenessInfo(t, dir, rows, c, func(*RunInfo) {}, exitCode)
}

// writeWithCompletenessInfo is writeWithCompleteness with testInfo changed
// by edit first.
func writeWithCompletenessInfo(t *testing.T, dir string, rows []Row, c *Completeness, edit func(*RunInfo), exitCode int) Summary {
	t.Helper()
	info := testInfo()
	edit(&info)
	w, err := NewWriter(dir, info)
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return finished }
	for _, r := range rows {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	w.SetCompleteness(c)
	sum, err := w.Close(exitCode)
	if err != nil {
		t.Fatalf("Close: %v", err)
	}
	return sum
}

func TestCompletenessReport(t *testing.T) {
	dir := t.TempDir()
	c := sampleCompleteness()
	c.Lines[0].Subject = "=cmd|' /C calc'!A0 token=s3cr3tvalue\x1b[31m"
	rows := []Row{{Seq: 0, ConfUUID: uuid(0), Status: Archived, FileType: "Hd", FileName: "0_0.mp4", Bytes: 10, SHA256: strings.Repeat("a", 64), FinishedAt: t0}}
	sum := writeWithCompleteness(t, dir, rows, c, ExitOK)

	t.Run("exit code", func(t *testing.T) {
		if sum.ExitCode != ExitFailures {
			t.Errorf("exit code %d, want %d: the window is not complete", sum.ExitCode, ExitFailures)
		}
		if sum.Verdict.Level != LevelRed || !strings.HasPrefix(sum.Verdict.Text, "Action needed: 4 of 10 recordings") {
			t.Errorf("verdict = %+v", sum.Verdict)
		}
	})

	t.Run("summary.json", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, SummaryJSON))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Completeness struct {
				Window      string `json:"window"`
				Reported    int    `json:"reported"`
				Accounted   int    `json:"accounted"`
				Conferences int    `json:"conferences"`
				Fates       map[string]struct {
					Conferences int  `json:"conferences"`
					Accounted   bool `json:"accounted"`
				} `json:"fates"`
				Sources []struct {
					Name     string `json:"name"`
					Declared int    `json:"declared"`
					Calls    int    `json:"calls"`
				} `json:"sources"`
				Unaccounted []map[string]any `json:"unaccounted"`
				Findings    []Finding        `json:"findings"`
				Sentence    string           `json:"sentence"`
				Lines       any              `json:"lines"`
			} `json:"completeness"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		g := got.Completeness
		if g.Window != c.Window || g.Reported != 10 || g.Accounted != 6 || g.Conferences != len(Fates()) {
			t.Errorf("window %q reported %d accounted %d conferences %d", g.Window, g.Reported, g.Accounted, g.Conferences)
		}
		if len(g.Fates) != len(Fates()) {
			t.Errorf("fates %v: want every fate", g.Fates)
		}
		for _, f := range Fates() {
			if got := g.Fates[string(f)]; got.Conferences != 1 || got.Accounted != f.Accounted() {
				t.Errorf("fates[%s] = %+v, want 1 conference, accounted %v", f, got, f.Accounted())
			}
		}
		if len(g.Sources) != 4 || g.Sources[1].Name != SourceHistory || g.Sources[1].Calls != 2 || g.Sources[0].Declared != 8 {
			t.Errorf("sources = %+v", g.Sources)
		}
		if len(g.Unaccounted) != 4 {
			t.Errorf("%d unaccounted, want 4", len(g.Unaccounted))
		}
		for _, u := range g.Unaccounted {
			if u["hint"] == "" || u["fate"] == "" || u["confUUID"] == "" {
				t.Errorf("unaccounted line without confUUID, fate or hint: %v", u)
			}
		}
		if len(g.Findings) != 1 || g.Findings[0].Code != FindingHistoryOver {
			t.Errorf("findings = %+v", g.Findings)
		}
		if g.Sentence != sum.Completeness.Sentence || g.Lines != nil {
			t.Errorf("sentence %q (want %q), lines %v (want none in summary.json)", g.Sentence, sum.Completeness.Sentence, g.Lines)
		}
		if strings.Contains(string(b), "s3cr3tvalue") || strings.Contains(string(b), "\x1b") {
			t.Error("summary.json holds a secret or an escape character of a subject")
		}
	})

	t.Run("sheet", func(t *testing.T) {
		f := openXLSX(t, dir)
		checkDimensions(t, f)
		if got := f.GetSheetList(); got[len(got)-1] != SheetCompleteness {
			t.Fatalf("sheets %v: want %s last", got, SheetCompleteness)
		}
		rows, err := f.GetRows(SheetCompleteness)
		if err != nil {
			t.Fatal(err)
		}
		head := CompletenessColumns()
		for i, h := range head {
			if rows[0][i] != h {
				t.Errorf("header %d = %q, want %q", i, rows[0][i], h)
			}
		}
		if len(rows) < len(Fates())+1 {
			t.Fatalf("%d rows, want a header and %d lines", len(rows), len(Fates()))
		}
		byUUID := map[string][]string{}
		for _, r := range rows[1 : len(Fates())+1] {
			byUUID[r[0]] = r
		}
		for i, fate := range Fates() {
			r := byUUID[uuid(i)]
			if r == nil {
				t.Errorf("no line for %s (%s)", uuid(i), fate)
				continue
			}
			if r[3] != string(fate) || r[4] != strings.ToUpper(strconv.FormatBool(fate.Accounted())) || r[9] != "hint of "+string(fate) {
				t.Errorf("line of %s = %q", fate, r)
			}
		}
		if got := byUUID[uuid(0)][2]; strings.Contains(got, "s3cr3tvalue") || strings.Contains(got, "\x1b") {
			t.Errorf("subject cell %q holds a secret or an escape character", got)
		}
		fields := map[string]string{}
		for _, r := range rows[1:] {
			if len(r) > completenessFieldCol+1 && r[completenessFieldCol] != "" {
				fields[r[completenessFieldCol]] = r[completenessFieldCol+1]
			}
		}
		for k, want := range map[string]string{"window": c.Window, "reported": "10", "accounted": "6", "unaccounted": "4",
			"complete": "FALSE", "source meeting history: calls": "2", "fate history-only": "1", "sentence": sum.Completeness.Sentence} {
			if fields[k] != want {
				t.Errorf("field %q = %q, want %q", k, fields[k], want)
			}
		}
		// startTime is a date-time (a serial number), not text.
		raw, err := f.GetCellValue(SheetCompleteness, "B2", excelize.Options{RawCellValue: true})
		if _, perr := strconv.ParseFloat(raw, 64); err != nil || perr != nil {
			t.Errorf("startTime cell B2 = %q (%v): want a date-time serial number", raw, err)
		}
	})

	t.Run("summary.html", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		i := strings.Index(page, `<section id="completeness"`)
		if i < 0 {
			t.Fatal("no Completeness section")
		}
		sec := page[i:]
		sec = sec[:strings.Index(sec, "</section>")]
		m := regexp.MustCompile(`<p id="completeness-sentence">(.*?)</p>`).FindStringSubmatch(sec)
		if m == nil || html.UnescapeString(m[1]) != sum.Completeness.Sentence {
			t.Errorf("sentence %q, want %q", m, sum.Completeness.Sentence)
		}
		j := strings.Index(sec, `<table id="completeness-unaccounted">`)
		if j < 0 {
			t.Fatal("no table of the unaccounted conferences")
		}
		cell := regexp.MustCompile(`<td[^>]*>(.*?)</td>`)
		var got [][]string
		for _, tr := range regexp.MustCompile(`(?s)<tr><td class="id">.*?</tr>`).FindAllString(sec[j:], -1) {
			var cells []string
			for _, c := range cell.FindAllStringSubmatch(tr, -1) {
				cells = append(cells, html.UnescapeString(c[1]))
			}
			got = append(got, cells)
		}
		if len(got) != len(sum.Completeness.Unaccounted) {
			t.Fatalf("%d rows in the table, want %d", len(got), len(sum.Completeness.Unaccounted))
		}
		for k, l := range sum.Completeness.Unaccounted {
			if got[k][0] != l.ConfUUID || got[k][3] != string(l.Fate) || got[k][4] != l.Hint {
				t.Errorf("row %d = %q, want %s %s %q", k, got[k], l.ConfUUID, l.Fate, l.Hint)
			}
		}
		if strings.Contains(page, "Nothing needs attention") {
			t.Error("the page says nothing needs attention while the window is not complete")
		}
	})
}

func TestCompletenessAbsent(t *testing.T) {
	dir := t.TempDir()
	sum := writeWithCompleteness(t, dir, fixtureRows()[:3], nil, ExitOK)
	if sum.Completeness != nil {
		t.Errorf("completeness = %+v, want none", sum.Completeness)
	}
	b, err := os.ReadFile(filepath.Join(dir, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["completeness"]; ok {
		t.Error("summary.json has a completeness object without a reconciliation")
	}
	for _, s := range openXLSX(t, dir).GetSheetList() {
		if s == SheetCompleteness {
			t.Error("manifest.xlsx has a Completeness sheet without a reconciliation")
		}
	}
}

// A window with a gap is something to do: the run's own clause keeps its
// figures but does not say "nothing to do" after "Action needed".
func TestVerdictOfAGapSaysNoNothingToDo(t *testing.T) {
	c := &Completeness{Lines: []CompletenessLine{{ConfUUID: "29657e4c9bd8e7ab5098812cffe9bf82", Fate: FateHistoryOnly}}}
	c.Tally()
	if c.Gaps() == 0 {
		t.Fatalf("a history-only line is a gap: Gaps() = 0")
	}
	v := withCompleteness(Verdict{LevelGreen, "299 of 299 conferences archived or accounted for (299 archived); nothing to do."}, c, 299)
	if v.Level != LevelRed || !strings.HasPrefix(v.Text, "Action needed: ") {
		t.Fatalf("verdict = %+v, want red and Action needed first", v)
	}
	if strings.Contains(v.Text, "nothing to do") {
		t.Errorf("verdict %q says nothing to do beside a gap", v.Text)
	}
	if !strings.Contains(v.Text, "299 of 299 conferences archived or accounted for (299 archived).") {
		t.Errorf("verdict %q lost the run's figures", v.Text)
	}
}
