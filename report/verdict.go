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

// Findings are what a verdict is judged from: the conferences' counts, the
// exit code, a fatal error and, when the run reconciled its window, the
// Completeness. Another kind of finding is one more field here and one
// more step in [Judge]: it may raise the level and add to the sentence.
type Findings struct {
	Counts   map[Status]int // conferences per status, as Summary.Counts
	ExitCode int            // the run's exit code (ExitOK ... ExitInterrupted)
	Fatal    string         // the fatal error's message, "" when none
	// Completeness is the run's reconciliation (nil: none): see
	// withCompleteness.
	Completeness *Completeness
	// SinceLast: the run was a --since-last run, which a rerun with
	// --since-last takes up where it stopped (a fatal error leaves its
	// state as it was).
	SinceLast bool
}

// maxFatalInVerdict bounds the fatal error's message in the sentence (the
// summary has it whole).
const maxFatalInVerdict = 200

// Judge turns a run's findings into its verdict. Red when the exit code is
// not 0 or any conference is counted under a status that makes it 1
// (Status.Failure); else amber when any conference is pending-transcode or
// unavailable; else green. The sentence says what happened, with the
// counts, and what to do. A reconciliation adds its sentence (see
// withCompleteness).
func Judge(f Findings) Verdict {
	t := tallyCounts(f.Counts)
	code := f.ExitCode
	c := f.Completeness
	if c != nil && c.Gaps() > 0 && code == ExitFailures && t.badN == 0 {
		code = ExitOK // the exit code is the reconciliation's: said by withCompleteness
	}
	var v Verdict
	switch {
	case code == ExitInterrupted:
		v = t.interruptedVerdict()
	case code == ExitFatal:
		v = t.fatalVerdict(f.Fatal, f.SinceLast)
	case t.badN > 0:
		v = t.failureVerdict()
	case code != ExitOK:
		v = Verdict{LevelRed, fmt.Sprintf(actionNeeded+"the run ended with exit code %d (%s) though %s; see the log.",
			code, ExitCodeName(code), t.done())}
	case t.waiting > 0:
		v = t.waitVerdict()
	default:
		v = t.fineVerdict(f.Counts[Planned] > 0)
	}
	return withCompleteness(v, c, t.total)
}

// actionNeeded heads a red verdict that asks someone to act.
const actionNeeded = "Action needed: "

// countTally is what Judge reads from the counts: the conferences by kind,
// with their "3 failed" parts in display order.
type countTally struct {
	total, waiting, badN                    int
	bad, waits, fine                        []string
	rerun, notFound, invalid, pending, unav bool
}

func tallyCounts(counts map[Status]int) countTally {
	var t countTally
	for _, st := range countKeys(counts) {
		n := counts[st]
		if n <= 0 {
			continue
		}
		t.total += n
		part := fmt.Sprintf("%d %s", n, st)
		switch {
		case st.Failure():
			t.badN += n
			t.bad = append(t.bad, part)
			switch st {
			case NotFound:
				t.notFound = true
			case InvalidInput:
				t.invalid = true
			default:
				t.rerun = true
			}
		case st == PendingTranscode:
			t.waiting += n
			t.waits, t.pending = append(t.waits, part), true
		case st == Unavailable:
			t.waiting += n
			t.waits, t.unav = append(t.waits, part), true
		default:
			t.fine = append(t.fine, part)
		}
	}
	return t
}

// done is "N of M conferences archived or accounted for".
func (t countTally) done() string {
	return fmt.Sprintf("%d of %s archived or accounted for", t.total-t.badN-t.waiting, conferences(t.total))
}

func (t countTally) interruptedVerdict() Verdict {
	s := "Interrupted by a signal before the end"
	if t.total > 0 {
		s += ": " + t.done()
		if t.badN > 0 {
			s += ", " + strings.Join(t.bad, ", ")
		}
	}
	return Verdict{LevelRed, s + "; rerun with --input failures.csv to finish."}
}

func (t countTally) fatalVerdict(message string, sinceLast bool) Verdict {
	msg := strings.Join(strings.Fields(message), " ") // one line
	if msg == "" {
		msg = "see the log"
	}
	if r := []rune(msg); len(r) > maxFatalInVerdict {
		msg = string(r[:maxFatalInVerdict-1]) + "…"
	}
	s := "Stopped by a fatal error (" + msg + ")"
	if t.total > 0 {
		s += ": " + t.done()
	}
	rerun := "--input failures.csv"
	if sinceLast {
		rerun = "--since-last: it starts where the last completed run ended"
	}
	return Verdict{LevelRed, s + "; fix the error, then rerun with " + rerun + "."}
}

func (t countTally) failureVerdict() Verdict {
	s := fmt.Sprintf(actionNeeded+"%d of %s not archived (%s)", t.badN, conferences(t.total), strings.Join(t.bad, ", "))
	if t.waiting > 0 {
		s += fmt.Sprintf(", %d waiting on the platform (%s)", t.waiting, strings.Join(t.waits, ", "))
	}
	var todo []string
	if t.rerun {
		todo = append(todo, "rerun with --input failures.csv")
	}
	if t.notFound {
		todo = append(todo, "check the not-found confUUIDs")
	}
	if t.invalid {
		todo = append(todo, "fix the invalid-input lines of the input")
	}
	return Verdict{LevelRed, s + "; " + andList(todo) + "."}
}

func (t countTally) waitVerdict() Verdict {
	s := fmt.Sprintf("Nothing lost: %s; %d waiting on the platform (%s)", t.done(), t.waiting, strings.Join(t.waits, ", "))
	var todo []string
	if t.pending {
		todo = append(todo, "rerun later with --input failures.csv for those still transcoding")
	}
	if t.unav {
		todo = append(todo, "ask the platform's administrator about the unavailable ones")
	}
	return Verdict{LevelAmber, s + ": " + andList(todo) + "."}
}

func (t countTally) fineVerdict(dryRun bool) Verdict {
	if t.total == 0 {
		return Verdict{LevelGreen, "No conferences to archive; nothing to do."}
	}
	s := t.done() + " (" + strings.Join(t.fine, ", ") + ")"
	if dryRun {
		return Verdict{LevelGreen, "Dry run: " + s + "; nothing was written."}
	}
	return Verdict{LevelGreen, s + "; nothing to do."}
}

// withCompleteness adds a reconciliation's sentence to a verdict (c nil:
// v as is; a window whose only gaps are the run's own failed conferences:
// v as is, which says them). A window with a recording not accounted for
// is red, its sentence first ("Action needed: 2 of 9 recordings ... are not archived
// or accounted for: <confUUID> <fate> (<hint>); ..."), then the run's.
// A complete one adds its sentence ("9 of 9 recordings the platform
// reports for this window are archived or accounted for.") after the
// run's; a finding that loses nothing but weakens the check (a history
// not read, a count exceeded) makes a green verdict amber. A run with no
// conference (the reconcile command) has the reconciliation's sentence
// alone.
func withCompleteness(v Verdict, c *Completeness, total int) Verdict {
	if c == nil {
		return v
	}
	switch {
	case c.Gaps() > 0 && total == 0 && v.Level != LevelRed:
		return Verdict{LevelRed, actionNeeded + c.Sentence}
	case c.Gaps() > 0:
		// One "Action needed" heads the verdict, not one per clause.
		// The run's own clause keeps its figures but not its "nothing to
		// do": the window's gap is something to do.
		run := strings.TrimPrefix(v.Text, actionNeeded)
		if r, ok := strings.CutSuffix(run, "; nothing to do."); ok {
			run = r + "."
		}
		return Verdict{LevelRed, "Action needed: " + c.Sentence + " " + run}
	case !c.Complete():
		return v
	}
	level := v.Level
	if level == LevelGreen && len(c.warnings()) > 0 {
		level = LevelAmber
	}
	if total == 0 && v.Level != LevelRed {
		return Verdict{level, c.Sentence}
	}
	return Verdict{level, v.Text + " " + c.Sentence}
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

// FailedByCompletenessOnly reports whether the exit code 1 of the run s
// summarises was made by its window's completeness alone: no conference
// is counted under a failing status, and a recording of the window is not
// accounted for (read from the counts summary.json keeps, as the lines are
// not in it).
func FailedByCompletenessOnly(s *Summary) bool {
	c := s.Completeness
	return s.ExitCode == ExitFailures && ExitCode(s.Counts, false, false) == ExitOK && c != nil &&
		(c.Accounted < c.Reported || len(c.Unaccounted) > 0 || c.UnaccountedCount() > 0)
}

// SummaryExitMeaning is ExitMeaning for the run s summarises: an exit 1
// that only the window's completeness made (FailedByCompletenessOnly) says
// so instead of naming failures there were none of.
func SummaryExitMeaning(s *Summary) string {
	if FailedByCompletenessOnly(s) {
		return "a recording the platform reports for the window is not archived or accounted for (see Completeness); every conference this run handled is accounted for"
	}
	return ExitMeaning(s.ExitCode)
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
