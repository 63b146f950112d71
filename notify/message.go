package notify

import (
	"errors"
	"fmt"
	"strings"

	"meetarchive/redact"
	"meetarchive/report"
)

// MaxFailures is how many failed conferences a message lists.
const MaxFailures = 5

// Run is what a message says about one run.
type Run struct {
	Command  string          // e.g. "meetarchive run"
	Host     string          // the machine (a pod's name); "" leaves it out
	ExitCode int             // the process's exit code
	Summary  *report.Summary // nil when the run ended before its report was written
	Err      error           // why the run ended, when it has no summary
	Out      string          // the report directory
	// Failures are the first rows of conferences that need attention (see
	// Failures).
	Failures []report.Row
}

// Failed reports whether the run needs attention: any exit code but 0.
func (r Run) Failed() bool { return r.ExitCode != report.ExitOK }

// errEnough stops reading the manifest once Failures has its rows.
var errEnough = errors.New("enough rows")

// Failures reads the report's manifest.csv for the rows whose status is a
// failure (they make the exit code 1): the first such row of each of the
// first max conferences, in the manifest's order.
func Failures(manifestCSV string, max int) ([]report.Row, error) {
	var rows []report.Row
	seen := map[string]bool{}
	err := report.ReadManifest(manifestCSV, func(r report.Row) error {
		if !r.Status.Failure() || seen[r.ConfUUID] {
			return nil
		}
		seen[r.ConfUUID] = true
		rows = append(rows, r)
		if len(rows) >= max {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return rows, err
}

// Text is the message: a verdict sentence (what happened and what the exit
// code means), the counts by status, the failures with their hints, and
// where the report is. It is redacted, and escaped for Slack (&, <, >),
// which Mattermost and Teams render as the characters.
func Text(r Run) string {
	var b strings.Builder
	b.WriteString(headline(r))
	b.WriteString(": ")
	b.WriteString(verdict(r))
	b.WriteString("\n")
	if s := r.Summary; s != nil {
		var counts []string
		for _, st := range report.Statuses() {
			if n := s.Counts[st]; n > 0 {
				counts = append(counts, fmt.Sprintf("%s %d", st, n))
			}
		}
		if len(counts) > 0 {
			fmt.Fprintf(&b, "Conferences: %s. Files: %d, %s archived.\n", strings.Join(counts, ", "), s.Files, report.HumanBytes(s.BytesArchived))
		}
	}
	if len(r.Failures) > 0 {
		if n := needAttention(r.Summary); n > len(r.Failures) {
			fmt.Fprintf(&b, "Needing attention (the first %d of %d conferences):\n", len(r.Failures), n)
		} else {
			b.WriteString("Needing attention:\n")
		}
		for _, f := range r.Failures {
			b.WriteString("- ")
			b.WriteString(redact.Clip(failureLine(f), 400))
			b.WriteString("\n")
		}
	}
	if r.Out != "" && r.Summary != nil {
		fmt.Fprintf(&b, "Report: %s", r.Out)
		if r.Failed() {
			b.WriteString(" (failures.csv is the --input of a rerun)")
		}
		b.WriteString("\n")
	}
	return escape(redact.String(strings.TrimRight(b.String(), "\n")))
}

// headline names the run: command, run id, shard and host.
func headline(r Run) string {
	h := r.Command
	if h == "" {
		h = "meetarchive run"
	}
	var about []string
	if s := r.Summary; s != nil {
		if s.RunID != "" {
			h += " " + s.RunID
		}
		if s.Shard != "" {
			about = append(about, "shard "+s.Shard)
		}
	}
	if r.Host != "" {
		about = append(about, "on "+r.Host)
	}
	if len(about) > 0 {
		h += " (" + strings.Join(about, ", ") + ")"
	}
	return h
}

// verdict is one sentence: the report's verdict (report.Judge: what
// happened and whether anyone must act), or why there is no report, and
// the exit code with its meaning.
func verdict(r Run) string {
	code := fmt.Sprintf("exit %d: %s", r.ExitCode, report.ExitMeaning(r.ExitCode))
	if s := r.Summary; s != nil {
		if s.ExitCode == r.ExitCode {
			code = fmt.Sprintf("exit %d: %s", r.ExitCode, report.SummaryExitMeaning(s))
		}
		v := s.Verdict
		if v.Text == "" { // a summary from before verdicts
			v = report.Judge(report.Findings{Counts: s.Counts, ExitCode: r.ExitCode, Fatal: s.Fatal})
		}
		return fmt.Sprintf("%s (%s).", strings.TrimSuffix(v.Text, "."), code)
	}
	why := "it ended before writing its report"
	if r.Err != nil {
		why = r.Err.Error()
	}
	if r.ExitCode == report.ExitUsage {
		return fmt.Sprintf("did not start: %s (%s).", why, code)
	}
	return fmt.Sprintf("failed: %s (%s).", why, code)
}

// needAttention counts the conferences whose status is a failure.
func needAttention(s *report.Summary) int {
	n := 0
	if s != nil {
		for st, c := range s.Counts {
			if st.Failure() {
				n += c
			}
		}
	}
	return n
}

// failureLine is one conference needing attention: its UUID, status, error
// code and message, and the hint.
func failureLine(r report.Row) string {
	line := r.ConfUUID + " " + string(r.Status)
	if r.ErrorCode != "" {
		line += " " + r.ErrorCode
	}
	if m := strings.Join(strings.Fields(r.ErrorMessage), " "); m != "" {
		line += ": " + redact.Clip(m, 200)
	}
	if h := report.Hint(r); h != "" {
		line += " (hint: " + h + ")"
	}
	return line
}

// escape replaces the three characters Slack's text reserves.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
