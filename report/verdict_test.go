package report

import (
	"encoding/json"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	c := func(kv ...any) map[Status]int {
		m := map[Status]int{}
		for _, st := range Statuses() {
			m[st] = 0
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(Status)] = kv[i+1].(int)
		}
		return m
	}
	tests := []struct {
		name  string
		f     Findings
		level Level
		text  string
	}{
		{"all archived", Findings{Counts: c(Archived, 290, AlreadyArchived, 10)}, LevelGreen,
			"300 of 300 conferences archived or accounted for (290 archived, 10 already-archived); nothing to do."},
		{"accounted for", Findings{Counts: c(Archived, 1, NoFiles, 1, DuplicateInput, 1)}, LevelGreen,
			"3 of 3 conferences archived or accounted for (1 archived, 1 no-files, 1 duplicate-input); nothing to do."},
		{"one conference", Findings{Counts: c(Archived, 1)}, LevelGreen,
			"1 of 1 conference archived or accounted for (1 archived); nothing to do."},
		{"nothing to do", Findings{Counts: c()}, LevelGreen, "No conferences to archive; nothing to do."},
		{"dry run", Findings{Counts: c(Planned, 4, AlreadyArchived, 1)}, LevelGreen,
			"Dry run: 5 of 5 conferences archived or accounted for (1 already-archived, 4 planned); nothing was written."},
		{"pending (the README's example)", Findings{Counts: c(Archived, 298, PendingTranscode, 2)}, LevelAmber,
			"Nothing lost: 298 of 300 conferences archived or accounted for; 2 waiting on the platform (2 pending-transcode): rerun later with --input failures.csv for those still transcoding."},
		{"pending", Findings{Counts: c(Archived, 5, PendingTranscode, 2)}, LevelAmber,
			"Nothing lost: 5 of 7 conferences archived or accounted for; 2 waiting on the platform (2 pending-transcode): rerun later with --input failures.csv for those still transcoding."},
		{"pending and unavailable", Findings{Counts: c(Archived, 5, PendingTranscode, 1, Unavailable, 1)}, LevelAmber,
			"Nothing lost: 5 of 7 conferences archived or accounted for; 2 waiting on the platform (1 pending-transcode, 1 unavailable): rerun later with --input failures.csv for those still transcoding and ask the platform's administrator about the unavailable ones."},
		{"all failed", Findings{Counts: c(Failed, 6), ExitCode: ExitFailures}, LevelRed,
			"Action needed: 6 of 6 conferences not archived (6 failed); rerun with --input failures.csv."},
		{"mixed", Findings{Counts: c(Archived, 3, Failed, 1, NotFound, 1, InvalidInput, 1, PendingTranscode, 1), ExitCode: ExitFailures}, LevelRed,
			"Action needed: 3 of 7 conferences not archived (1 not-found, 1 failed, 1 invalid-input), 1 waiting on the platform (1 pending-transcode); rerun with --input failures.csv, check the not-found confUUIDs and fix the invalid-input lines of the input."},
		{"not-found only", Findings{Counts: c(NotFound, 2), ExitCode: ExitFailures}, LevelRed,
			"Action needed: 2 of 2 conferences not archived (2 not-found); check the not-found confUUIDs."},
		{"an unknown status is a failure", Findings{Counts: map[Status]int{Archived: 1, "exploded": 1}, ExitCode: ExitFailures}, LevelRed,
			"Action needed: 1 of 2 conferences not archived (1 exploded); rerun with --input failures.csv."},
		{"interrupted", Findings{Counts: c(Archived, 40, Cancelled, 260), ExitCode: ExitInterrupted}, LevelRed,
			"Interrupted by a signal before the end: 40 of 300 conferences archived or accounted for, 260 cancelled; rerun with --input failures.csv to finish."},
		{"fatal", Findings{Counts: c(Cancelled, 5), ExitCode: ExitFatal, Fatal: "authentication failed: export: auth: http 401"}, LevelRed,
			"Stopped by a fatal error (authentication failed: export: auth: http 401): 0 of 5 conferences archived or accounted for; fix the error, then rerun with --input failures.csv."},
		{"a fatal message on several lines is one", Findings{Counts: c(), ExitCode: ExitFatal, Fatal: "writing the report:\n\tdisk full"}, LevelRed,
			"Stopped by a fatal error (writing the report: disk full); fix the error, then rerun with --input failures.csv."},
		{"fatal before any conference", Findings{Counts: c(), ExitCode: ExitFatal}, LevelRed,
			"Stopped by a fatal error (see the log); fix the error, then rerun with --input failures.csv."},
		{"fatal in a --since-last run: rerun it so", Findings{Counts: c(Archived, 2), ExitCode: ExitFatal, Fatal: "writing the --since-last state: conflict", SinceLast: true}, LevelRed,
			"Stopped by a fatal error (writing the --since-last state: conflict): 2 of 2 conferences archived or accounted for; fix the error, then rerun with --since-last: it starts where the last completed run ended."},
		{"exit 1 with every conference accounted for", Findings{Counts: c(Archived, 2), ExitCode: ExitFailures}, LevelRed,
			"Action needed: the run ended with exit code 1 (failures) though 2 of 2 conferences archived or accounted for; see the log."},
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
	t.Run("a long fatal message is cut", func(t *testing.T) {
		got := Judge(Findings{ExitCode: ExitFatal, Fatal: strings.Repeat("x", 5000)})
		if n := len([]rune(got.Text)); n > maxFatalInVerdict+100 {
			t.Errorf("text is %d characters, want the message cut to %d", n, maxFatalInVerdict)
		}
	})
}

// TestJudgeAgreesWithExitCode: for every single status, the verdict is red
// exactly when ExitCode says 1, amber for the statuses that wait on the
// platform, green otherwise.
func TestJudgeAgreesWithExitCode(t *testing.T) {
	for _, st := range Statuses() {
		t.Run(string(st), func(t *testing.T) {
			counts := map[Status]int{st: 1}
			code := ExitCode(counts, false, false)
			got := Judge(Findings{Counts: counts, ExitCode: code}).Level
			want := LevelGreen
			switch {
			case code != ExitOK:
				want = LevelRed
			case st == PendingTranscode || st == Unavailable:
				want = LevelAmber
			}
			if got != want {
				t.Errorf("level = %s, want %s (exit code %d)", got, want, code)
			}
		})
	}
}

// TestVerdictInEveryReport: the same sentence heads summary.json, the
// Summary sheet (A1, filled in the level's colour) and summary.html.
func TestVerdictInEveryReport(t *testing.T) {
	dir := t.TempDir()
	sum := writeRun(t, dir, testInfo(), fixtureRows(), ExitFailures)
	want := Judge(Findings{Counts: sum.Counts, ExitCode: sum.ExitCode, Fatal: sum.Fatal})
	if sum.Verdict != want || want.Level != LevelRed {
		t.Fatalf("Summary.Verdict = %+v, want %+v (red)", sum.Verdict, want)
	}
	t.Run("summary.json", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, SummaryJSON))
		if err != nil {
			t.Fatal(err)
		}
		var js struct {
			Verdict struct{ Level, Text string }
		}
		if err := json.Unmarshal(b, &js); err != nil {
			t.Fatal(err)
		}
		if js.Verdict.Level != string(want.Level) || js.Verdict.Text != want.Text {
			t.Errorf("verdict = %+v, want %+v", js.Verdict, want)
		}
	})
	t.Run("Summary sheet", func(t *testing.T) {
		f := openXLSX(t, dir)
		got, err := f.GetCellValue(SheetSummary, "A1")
		if err != nil {
			t.Fatal(err)
		}
		if got != want.Text {
			t.Errorf("A1 = %q, want %q", got, want.Text)
		}
		merged, err := f.GetMergeCells(SheetSummary)
		if err != nil {
			t.Fatal(err)
		}
		if len(merged) != 1 || merged[0].GetStartAxis() != "A1" || merged[0].GetEndAxis() != summaryLastCol+"1" {
			t.Errorf("merged cells = %v, want A1:%s1", merged, summaryLastCol)
		}
		id, err := f.GetCellStyle(SheetSummary, "A1")
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Fill.Color) != 1 || st.Fill.Color[0] != verdictFills[LevelRed][0] || st.Font == nil || !st.Font.Bold {
			t.Errorf("A1 style: fill %v, font %+v; want fill %s, bold", st.Fill.Color, st.Font, verdictFills[LevelRed][0])
		}
	})
	t.Run("summary.html", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, SummaryHTML))
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, s := range []string{
			`<section id="verdict" class="verdict level-red"`,
			`<h1 id="verdict-text">` + htmlEscape(want.Text) + `</h1>`,
			`Exit code 1 (failures): ` + ExitMeaning(ExitFailures) + `.`,
		} {
			if !strings.Contains(page, s) {
				t.Errorf("page lacks %s", s)
			}
		}
	})
}

func TestExitMeaningOfEveryCode(t *testing.T) {
	seen := map[string]int{}
	for _, code := range []int{ExitOK, ExitFailures, ExitUsage, ExitFatal, ExitInterrupted} {
		m := ExitMeaning(code)
		if m == ExitMeaning(-1) {
			t.Errorf("exit code %d has no meaning of its own", code)
		}
		if prev, dup := seen[m]; dup {
			t.Errorf("exit codes %d and %d mean the same: %q", prev, code, m)
		}
		seen[m] = code
	}
}

// htmlEscape is s as html/template writes it in text.
func htmlEscape(s string) string { return template.HTMLEscapeString(s) }
