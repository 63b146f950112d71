package console

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"meetarchive/notify"
	"meetarchive/report"
)

// closingFailures is how many conferences needing attention the closing
// summary lists (summary.html and failures.csv list them all).
const closingFailures = 3

// closingLineMax bounds a line of the closing summary off a terminal (on
// one, its width does).
const closingLineMax = 240

// Closing prints a run's closing summary on w (stderr), a few lines for
// a person: the verdict and the exit code, the conferences by status with
// the files and bytes, the first conferences needing attention with their
// hints, and where the report is (out, the run's --out). sum is the
// summary.json the run wrote, code its exit code. width is the terminal's,
// 0 off a terminal. The caller decides whether a run gets one (not after a
// --quiet run that exits 0, nor with JSON logs, nor without a report of
// its own).
func Closing(w io.Writer, width int, sum report.Summary, code int, out string) {
	max := closingLineMax
	if width > 0 {
		max = width - 1
	}
	line := func(format string, a ...any) {
		fmt.Fprintln(w, clipRunes(Text(fmt.Sprintf(format, a...)), max))
	}
	verdict := sum.Verdict.Text
	if verdict == "" {
		verdict = report.Judge(report.Findings{Counts: sum.Counts, ExitCode: code, Fatal: sum.Fatal}).Text
	}
	// The verdict whole (Judge bounds it); the other lines cut to fit.
	fmt.Fprintln(w, Text(fmt.Sprintf("meetarchive: %s (exit %d)", strings.TrimSuffix(verdict, "."), code)))
	var counts []string
	attention := 0
	for _, st := range report.Statuses() {
		if n := sum.Counts[st]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
			if st.Failure() {
				attention += n
			}
		}
	}
	if len(counts) == 0 {
		counts = append(counts, "none")
	}
	dur := time.Duration(sum.DurationSecs * float64(time.Second)).Round(100 * time.Millisecond)
	line("  conferences: %s | %d files, %s in %s", strings.Join(counts, ", "), sum.Files, report.HumanBytes(sum.BytesArchived), dur)
	if ev := evidenceLine(sum.Evidence); ev != "" {
		line("  %s", ev)
	}
	if attention > 0 {
		rows, _ := notify.Failures(filepath.Join(out, report.ManifestCSV), closingFailures)
		if len(rows) > 0 {
			if attention > len(rows) {
				line("  needing attention (the first %d of %d; failures.csv lists them all):", len(rows), attention)
			} else {
				line("  needing attention:")
			}
			for _, r := range rows {
				line("    %s", attentionLine(r))
				if h := report.Hint(r); h != "" {
					line("      hint: %s", h)
				}
			}
		}
	}
	// The path whole: it is what the line is for.
	fmt.Fprintln(w, "  report: "+Text(filepath.Join(AbsPath(out), report.SummaryHTML)))
}

// evidenceLine says what the run stored of the evidence beside the
// recordings and what it could not store, by code ("" when it has
// neither: the evidence was off, or nothing was archived).
func evidenceLine(e report.EvidenceSummary) string {
	if e.Objects == 0 && len(e.Gaps) == 0 {
		return ""
	}
	s := fmt.Sprintf("evidence: %d objects", e.Objects)
	if len(e.Gaps) > 0 {
		var gaps []string
		for _, c := range slices.Sorted(maps.Keys(e.Gaps)) {
			gaps = append(gaps, fmt.Sprintf("%d %s", e.Gaps[c], c))
		}
		s += "; not stored: " + strings.Join(gaps, ", ") + " (the recordings are archived; manifest.csv has a row for each)"
	}
	return s
}

// attentionLine is one conference needing attention: its UUID, status,
// code and message (the hint goes on a line of its own).
func attentionLine(r report.Row) string {
	s := r.ConfUUID + " " + string(r.Status)
	if r.ErrorCode != "" {
		s += " " + r.ErrorCode
	}
	if m := strings.Join(strings.Fields(r.ErrorMessage), " "); m != "" {
		s += ": " + m
	}
	return s
}

// clipRunes cuts s to at most n runes, the last one an ellipsis when cut.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if n <= 0 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
