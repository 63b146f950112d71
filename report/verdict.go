package report

import (
	"fmt"
	"strings"
)

// Level says how urgent a run's verdict is.
type Level string

// The verdict levels.
const (
	// LevelGreen: every conference archived or accounted for (archived,
	// already-archived, no-files, duplicate-input, planned); nothing to do.
	LevelGreen Level = "green"
	// LevelAmber: nothing lost and nothing failed, but some conference
	// waits on the platform (pending-transcode, unavailable).
	LevelAmber Level = "amber"
	// LevelRed: some conference failed, was not found, was invalid input or
	// was cancelled, or the run stopped on a fatal error or a signal:
	// someone must act.
	LevelRed Level = "red"
)

// Verdict is a run's outcome in one sentence and how urgent it is. It heads
// summary.html, the Summary sheet and summary.json.
type Verdict struct {
	Level Level  `json:"level"`
	Text  string `json:"text"`
}

// Findings are what a verdict is judged from. Another kind of finding (a
// completeness check that reconciles what the platform lists with what
// the archive holds, say) is one more field here and one more clause in
// [Judge]: it may raise the level and add to the sentence.
type Findings struct {
	Counts   map[Status]int // conferences per status, as Summary.Counts
	ExitCode int            // the run's exit code (ExitOK ... ExitInterrupted)
	Fatal    string         // the fatal error's message, "" when none
}

// maxFatalInVerdict bounds the fatal error's message in the sentence (the
// summary has it whole).
const maxFatalInVerdict = 200

// Judge turns a run's findings into its verdict. Red when the exit code is
// not 0 or any conference is counted under a status that makes it 1
// (Status.Failure); else amber when any conference is pending-transcode or
// unavailable; else green. The sentence says what happened, with the
// counts, and what to do.
func Judge(f Findings) Verdict {
	var total, waiting int
	var bad, waits, fine []string // "3 failed", ... in display order
	var rerun, notFound, invalid, pending, unavailable bool
	for _, st := range countKeys(f.Counts) {
		n := f.Counts[st]
		if n <= 0 {
			continue
		}
		total += n
		part := fmt.Sprintf("%d %s", n, st)
		switch {
		case st.Failure():
			bad = append(bad, part)
			switch st {
			case NotFound:
				notFound = true
			case InvalidInput:
				invalid = true
			default:
				rerun = true
			}
		case st == PendingTranscode:
			waiting += n
			waits, pending = append(waits, part), true
		case st == Unavailable:
			waiting += n
			waits, unavailable = append(waits, part), true
		default:
			fine = append(fine, part)
		}
	}
	badN := 0
	for st, n := range f.Counts {
		if n > 0 && st.Failure() {
			badN += n
		}
	}
	accounted := total - badN - waiting
	done := fmt.Sprintf("%d of %s archived or accounted for", accounted, conferences(total))

	switch {
	case f.ExitCode == ExitInterrupted:
		s := "Interrupted by a signal before the end"
		if total > 0 {
			s += ": " + done
			if badN > 0 {
				s += ", " + strings.Join(bad, ", ")
			}
		}
		return Verdict{LevelRed, s + "; rerun with --input failures.csv to finish."}
	case f.ExitCode == ExitFatal:
		msg := strings.Join(strings.Fields(f.Fatal), " ") // one line
		if msg == "" {
			msg = "see the log"
		}
		if r := []rune(msg); len(r) > maxFatalInVerdict {
			msg = string(r[:maxFatalInVerdict-1]) + "…"
		}
		s := "Stopped by a fatal error (" + msg + ")"
		if total > 0 {
			s += ": " + done
		}
		return Verdict{LevelRed, s + "; fix the error, then rerun with --input failures.csv."}
	case badN > 0:
		s := fmt.Sprintf("Action needed: %d of %s not archived (%s)", badN, conferences(total), strings.Join(bad, ", "))
		if waiting > 0 {
			s += fmt.Sprintf(", %d waiting on the platform (%s)", waiting, strings.Join(waits, ", "))
		}
		var todo []string
		if rerun {
			todo = append(todo, "rerun with --input failures.csv")
		}
		if notFound {
			todo = append(todo, "check the not-found confUUIDs")
		}
		if invalid {
			todo = append(todo, "fix the invalid-input lines of the input")
		}
		return Verdict{LevelRed, s + "; " + andList(todo) + "."}
	case f.ExitCode != ExitOK:
		return Verdict{LevelRed, fmt.Sprintf("Action needed: the run ended with exit code %d (%s) though %s; see the log.",
			f.ExitCode, ExitCodeName(f.ExitCode), done)}
	case waiting > 0:
		s := fmt.Sprintf("Nothing lost: %s; %d waiting on the platform (%s)", done, waiting, strings.Join(waits, ", "))
		var todo []string
		if pending {
			todo = append(todo, "rerun later with --input failures.csv for those still transcoding")
		}
		if unavailable {
			todo = append(todo, "ask the platform's administrator about the unavailable ones")
		}
		return Verdict{LevelAmber, s + ": " + andList(todo) + "."}
	case total == 0:
		return Verdict{LevelGreen, "No conferences to archive; nothing to do."}
	}
	s := done + " (" + strings.Join(fine, ", ") + ")"
	if f.Counts[Planned] > 0 {
		return Verdict{LevelGreen, "Dry run: " + s + "; nothing was written."}
	}
	return Verdict{LevelGreen, s + "; nothing to do."}
}

// andList joins "a", "b", "c" as "a, b and c".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// conferences is "1 conference" or "n conferences".
func conferences(n int) string {
	if n == 1 {
		return "1 conference"
	}
	return fmt.Sprintf("%d conferences", n)
}

// ExitMeaning says in a few words what an exit code of the meetarchive
// command means.
func ExitMeaning(code int) string {
	switch code {
	case ExitOK:
		return "every conference archived or accounted for (some may still wait on the platform)"
	case ExitFailures:
		return "some conference failed, was not found, was invalid input or was cancelled; the report lists them"
	case ExitUsage:
		return "usage or configuration error; nothing was done"
	case ExitFatal:
		return "a fatal error stopped the run; the report covers what was done before it"
	case ExitInterrupted:
		return "interrupted by a signal; the report covers what was done"
	default:
		return "not an exit code of meetarchive"
	}
}
