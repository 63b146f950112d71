package report

import (
	"fmt"
	"sort"
	"strings"

	"meetarchive/redact"
)

// Completeness is the reconciliation of a window of dates: every
// conference seen by any of three independent sources (the recording list
// paged to its declared count, the meeting history's meetings with
// recording files, and the destination's commit marks plus this run's
// input and rows), one line each with its fate, and the findings about the
// sources themselves (a list whose pages hold fewer or more conferences
// than its declared count). It is summary.json's "completeness" (without
// the lines: only the unaccounted ones), the Completeness sheet of
// manifest.xlsx (every line), the Completeness section of summary.html,
// and a clause of the verdict (Judge).
//
// Build it with its Lines, Findings, Sources and Window, then call Tally.
type Completeness struct {
	// Window is the reconciled window, "<from>..<to>" in RFC 3339 UTC; ""
	// when the run had none (an --input run: the platform-side check
	// needs a window).
	Window string `json:"window"`
	// PlatformChecked: the recording list (and the history, unless a
	// finding says otherwise) were asked about the window.
	PlatformChecked bool                 `json:"platformChecked"`
	Sources         []CompletenessSource `json:"sources"`
	// Reported is how many recordings the platform reports for the
	// window: the conferences the list or the history (isHasRecordFile)
	// name, plus those a short list declares but does not show. Without a
	// window, the conferences of the input.
	Reported int `json:"reported"`
	// Accounted is how many of Reported are archived or accounted for.
	Accounted int `json:"accounted"`
	// Conferences is the number of lines: every conference seen by any source.
	Conferences int `json:"conferences"`
	// Fates are the lines per fate, and whether the fate is accounted
	// for; every fate present.
	Fates map[Fate]FateCount `json:"fates"`
	// Unaccounted are the lines whose fate is not accounted for, in line
	// order, each with its hint.
	Unaccounted []CompletenessLine `json:"unaccounted"`
	Findings    []Finding          `json:"findings"`
	// Sentence says in one sentence whether the window is complete: the
	// verdict's clause.
	Sentence string `json:"sentence"`
	// Lines are every line (the Completeness sheet); not in summary.json.
	Lines []CompletenessLine `json:"-"`
}

// FateCount is how many lines have a fate, and whether that fate is
// accounted for (Fate.Accounted).
type FateCount struct {
	Conferences int  `json:"conferences"`
	Accounted   bool `json:"accounted"`
}

// CompletenessSource is one source of a reconciliation and what it gave.
type CompletenessSource struct {
	// Name is "recording list", "meeting history", "destination" or "this run".
	Name string `json:"name"`
	// Conferences is how many conferences of the window the source names
	// (the history: meetings with recording files; the destination:
	// commit marks of conferences that started in the window, or that
	// another source names).
	Conferences int `json:"conferences"`
	// Declared is the count the list's answers declared (-1: none, or not a list).
	Declared int `json:"declared"`
	// Distinct is how many distinct entries the list's pages held (the
	// history: every meeting, with recordings or not); 0 when not a list.
	Distinct int `json:"distinct"`
	// Calls is what reading the source cost: API calls of its own quota
	// for the lists (one per page); for the destination, the listing's
	// calls (on S3, ListObjectsV2 pages; 1 for a directory) plus the
	// commit marks read.
	Calls int `json:"calls"`
	// Error says why the source could not be read ("" when it was).
	Error string `json:"error,omitempty"`
}

// The names of the sources.
const (
	SourceList        = "recording list"
	SourceHistory     = "meeting history"
	SourceDestination = "destination"
	SourceRun         = "this run"
)

// CompletenessLine is one conference of a reconciliation.
type CompletenessLine struct {
	ConfUUID  string `json:"confUUID"`
	Subject   string `json:"subject,omitempty"`
	StartTime string `json:"startTime,omitempty"` // the platform's "YYYY-MM-DD HH:MM" (UTC)
	Listed    bool   `json:"listed"`              // in the recording list of the window
	InHistory bool   `json:"inHistory"`           // in the meeting history with isHasRecordFile
	Stored    bool   `json:"stored"`              // the destination holds its commit mark
	Status    Status `json:"status,omitempty"`    // this run's status for it ("": the run did not handle it)
	Fate      Fate   `json:"fate"`
	Hint      string `json:"hint"`
}

// Finding is something a reconciliation found about a source rather than
// about one conference.
type Finding struct {
	Code string `json:"code"` // see the Finding* constants
	Text string `json:"text"`
	// Unaccounted is how many recordings the finding leaves unaccounted
	// for without naming them (a list that declares more than its pages
	// hold); 0 for a finding that loses nothing.
	Unaccounted int `json:"unaccounted"`
}

// Finding codes.
const (
	FindingListShort     = "list-count-short"     // the list's pages hold fewer conferences than its count
	FindingListOver      = "list-count-over"      // they hold more
	FindingHistoryShort  = "history-count-short"  // the history's pages hold fewer meetings than its count
	FindingHistoryOver   = "history-count-over"   // they hold more
	FindingHistoryUnread = "history-unread"       // the history could not be read (403, 404, ...)
	FindingDestUnread    = "destination-unread"   // the destination's commit marks could not be listed or read
	FindingNoWindow      = "no-window"            // an --input run: the platform-side check needs a window
	FindingListUnread    = "list-unread"          // the recording list could not be read
	FindingDestUnparsed  = "destination-unparsed" // commit marks whose start time could not be read
	// FindingHistoryRetention: the window starts before the meeting
	// history's retention: its older part was checked against the
	// recording list and the destination only.
	FindingHistoryRetention = "history-retention"
)

// Fate is what became of one conference of a reconciled window.
type Fate string

// The fates, in display order (see Fates).
const (
	FateArchived       Fate = "archived"            // this run stored it and wrote its commit mark
	FateArchivedBefore Fate = "archived-before"     // the destination holds its commit mark from an earlier run
	FateNotListed      Fate = "archived-not-listed" // archived, and the recording list no longer lists it (deleted on the platform: fine)
	FatePending        Fate = "pending-transcode"   // listed, still transcoding: a later run takes it
	FateUnavailable    Fate = "unavailable"         // listed, and the platform says it cannot be downloaded
	FateNoFiles        Fate = "no-files"            // listed, with no files to archive
	FatePlanned        Fate = "planned"             // a dry run planned it
	FateFailed         Fate = "failed"              // this run tried and did not archive it
	FateNotArchived    Fate = "not-archived"        // listed, not handled by this run, nothing in the destination
	FateHistoryOnly    Fate = "history-only"        // the history says it has recordings, the list has no such recording, nothing archived
	FateNotCommitted   Fate = "not-committed"       // a row says archived but the destination has no commit mark
)

// Fates returns every fate in display order.
func Fates() []Fate {
	return []Fate{FateArchived, FateArchivedBefore, FateNotListed, FatePending, FateUnavailable, FateNoFiles,
		FatePlanned, FateFailed, FateNotArchived, FateHistoryOnly, FateNotCommitted}
}

// Accounted reports whether a conference with this fate is archived or
// accounted for: archived (now or before, listed or not), waiting on the
// platform (pending-transcode), refused by it (unavailable), without
// files, or planned by a dry run. failed, not-archived, history-only,
// not-committed and unknown fates are not: they make the run exit 1.
func (f Fate) Accounted() bool {
	switch f {
	case FateArchived, FateArchivedBefore, FateNotListed, FatePending, FateUnavailable, FateNoFiles, FatePlanned:
		return true
	}
	return false
}

// Complete reports whether every recording the platform reports for the
// window (or, without one, every conference of the input) is archived or
// accounted for.
func (c *Completeness) Complete() bool { return c.UnaccountedCount() == 0 }

// UnaccountedCount is how many recordings are not accounted for: the
// unaccounted lines and those a finding counts without naming them.
func (c *Completeness) UnaccountedCount() int {
	n := 0
	for _, l := range c.Lines {
		if !l.Fate.Accounted() {
			n++
		}
	}
	for _, f := range c.Findings {
		n += f.Unaccounted
	}
	return n
}

// Gaps is how many recordings are not accounted for beyond the run's own
// failures (lines of fate failed, which the run's counts and verdict
// already say): what the reconciliation adds to the verdict.
func (c *Completeness) Gaps() int {
	n := c.UnaccountedCount()
	for _, l := range c.Lines {
		if l.Fate == FateFailed && l.Status != "" {
			n--
		}
	}
	return n
}

// warnings are the findings that lose nothing but weaken the check (a
// history that could not be read, a count exceeded).
func (c *Completeness) warnings() []Finding {
	var out []Finding
	for _, f := range c.Findings {
		if f.Unaccounted == 0 && f.Code != FindingNoWindow {
			out = append(out, f)
		}
	}
	return out
}

// maxNamedInSentence bounds the conferences the sentence names; the
// Completeness sheet and summary.json list every one.
const maxNamedInSentence = 10

// Tally sanitises the lines and findings (redacted, cleaned, as every
// report text), sorts the lines (unaccounted first, then by start time and
// confUUID), and fills Conferences, Fates, Reported, Accounted,
// Unaccounted and Sentence from them.
func (c *Completeness) Tally() {
	for i := range c.Lines {
		l := &c.Lines[i]
		l.ConfUUID = CleanText(redact.String(l.ConfUUID), limitShort, singleLine)
		l.Subject = CleanText(redact.String(l.Subject), limitName, singleLine)
		l.StartTime = CleanText(l.StartTime, limitShort, singleLine)
		l.Hint = CleanText(redact.String(l.Hint), limitName, singleLine)
	}
	for i := range c.Findings {
		c.Findings[i].Text = CleanText(redact.String(c.Findings[i].Text), limitName, singleLine)
	}
	for i := range c.Sources {
		c.Sources[i].Error = CleanText(redact.String(c.Sources[i].Error), limitName, singleLine)
	}
	sort.SliceStable(c.Lines, func(i, j int) bool {
		a, b := c.Lines[i], c.Lines[j]
		if a.Fate.Accounted() != b.Fate.Accounted() {
			return !a.Fate.Accounted()
		}
		if a.StartTime != b.StartTime {
			return a.StartTime < b.StartTime
		}
		return a.ConfUUID < b.ConfUUID
	})
	c.Fates = map[Fate]FateCount{}
	for _, f := range Fates() {
		c.Fates[f] = FateCount{Accounted: f.Accounted()}
	}
	c.Reported, c.Accounted, c.Unaccounted = 0, 0, []CompletenessLine{}
	for _, l := range c.Lines {
		fc := c.Fates[l.Fate]
		fc.Conferences++
		fc.Accounted = l.Fate.Accounted()
		c.Fates[l.Fate] = fc
		if !l.Fate.Accounted() {
			c.Unaccounted = append(c.Unaccounted, l)
		}
		if c.Window != "" && !l.Listed && !l.InHistory {
			continue // the platform does not report it (deleted, carried over)
		}
		c.Reported++
		if l.Fate.Accounted() {
			c.Accounted++
		}
	}
	for _, f := range c.Findings {
		c.Reported += f.Unaccounted
	}
	c.Conferences = len(c.Lines)
	if c.Sources == nil {
		c.Sources = []CompletenessSource{}
	}
	if c.Findings == nil {
		c.Findings = []Finding{}
	}
	c.Sentence = c.sentence()
}

// sentence is the verdict's clause: "N of N recordings the platform
// reports for this window are archived or accounted for.", or how many are
// not and which, each with its hint; then every line the platform does
// not report for the window (archived and no longer listed, carried over
// by this run), so that the sentence accounts for every line. Without a
// window it says how the input's conferences are accounted for.
func (c *Completeness) sentence() string {
	n := c.UnaccountedCount()
	var s string
	if n == 0 {
		s = c.accountedClause()
	} else {
		s = c.unaccountedClause(n)
	}
	if b := c.beyondClause(); b != "" {
		s += "; " + b
	}
	if c.Window == "" {
		s += "; the platform-side check needs a window (--from/--to or --since-last)"
	}
	if w := c.warnings(); len(w) > 0 {
		if n == 0 {
			s += "; note: " + findingTexts(w)
		} else {
			s += "; also " + findingTexts(w)
		}
	}
	return s + "."
}

// accountedClause is the sentence's start when nothing is unaccounted for.
func (c *Completeness) accountedClause() string {
	if c.Window != "" {
		if c.Reported == 0 {
			return "the platform reports no recordings for this window"
		}
		return fmt.Sprintf("%d of %s the platform reports for this window %s archived or accounted for",
			c.Accounted, Plural(c.Reported, "recording"), isAre(c.Reported))
	}
	if c.Reported == 0 {
		return "the input names no conference"
	}
	return fmt.Sprintf("%d of %s of the input %s archived or accounted for: %s",
		c.Accounted, Plural(c.Reported, "conference"), isAre(c.Reported), fateBreakdown(c.Lines))
}

// unaccountedClause is the sentence's start when n are not accounted for:
// how many, and which, each with its hint.
func (c *Completeness) unaccountedClause(n int) string {
	what := "the platform reports for this window"
	if c.Window == "" {
		what = "of the input"
	}
	noun := "recording"
	if c.Window == "" {
		noun = "conference"
	}
	s := fmt.Sprintf("%d of %s %s %s not archived or accounted for: ", n, Plural(max(c.Reported, n), noun), what, isAre(n))
	var parts []string
	for i, l := range c.Unaccounted {
		if i == maxNamedInSentence {
			parts = append(parts, fmt.Sprintf("%d more in the Completeness sheet", len(c.Unaccounted)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", l.ConfUUID, l.Fate, l.Hint))
	}
	for _, f := range c.Findings {
		if f.Unaccounted > 0 {
			parts = append(parts, f.Text)
		}
	}
	return s + strings.Join(parts, "; ")
}

// beyondClause names the lines of a window that the platform does not
// report for it (see Tally's Reported): conferences archived and no
// longer listed (deleted on the platform), and those this run handled
// from outside the window (carried over from an earlier one). "" when
// there are none, or without a window (every line is the input's).
func (c *Completeness) beyondClause() string {
	if c.Window == "" {
		return ""
	}
	var deleted int
	var carried []CompletenessLine
	for _, l := range c.Lines {
		switch {
		case l.Listed || l.InHistory:
		case l.Status != "":
			carried = append(carried, l)
		case l.Fate == FateNotListed:
			deleted++
		}
	}
	var parts []string
	if deleted > 0 {
		parts = append(parts, fmt.Sprintf("the archive also holds %d it no longer lists (deleted on the platform after %s archived)",
			deleted, map[bool]string{true: "it was", false: "they were"}[deleted == 1]))
	}
	if len(carried) > 0 {
		parts = append(parts, fmt.Sprintf("this run also took %s carried over from an earlier window: %s",
			Plural(len(carried), "conference"), fateBreakdown(carried)))
	}
	return strings.Join(parts, "; ")
}

// fateBreakdown says how lines are accounted for: "4 archived with their
// commit marks in the destination, 2 accounted for: 1 pending-transcode,
// 1 unavailable", and those not accounted for by fate.
func fateBreakdown(lines []CompletenessLine) string {
	byFate := map[Fate]int{}
	archived := 0
	for _, l := range lines {
		switch l.Fate {
		case FateArchived, FateArchivedBefore, FateNotListed:
			archived++
		default:
			byFate[l.Fate]++
		}
	}
	var parts []string
	switch archived {
	case 0:
	case 1:
		parts = append(parts, "1 archived with its commit mark in the destination")
	default:
		parts = append(parts, fmt.Sprintf("%d archived with their commit marks in the destination", archived))
	}
	var waits, bad []string
	waiting := 0
	for _, f := range Fates() {
		k := byFate[f]
		if k == 0 {
			continue
		}
		if f.Accounted() {
			waiting += k
			waits = append(waits, fmt.Sprintf("%d %s", k, f))
		} else {
			bad = append(bad, fmt.Sprintf("%d %s", k, f))
		}
	}
	if waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d accounted for: %s", waiting, strings.Join(waits, ", ")))
	}
	if len(bad) > 0 {
		parts = append(parts, "not accounted for: "+strings.Join(bad, ", "))
	}
	return strings.Join(parts, ", ")
}

// isAre is the verb for n things.
func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// Plural is "1 recording" or "n recordings" (noun, a regular English noun).
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func findingTexts(fs []Finding) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Text
	}
	return strings.Join(parts, "; ")
}

// SetCompleteness gives the report the run's reconciliation (see
// Completeness; Tally is called here): Close writes it to summary.json,
// the Completeness sheet and summary.html, the verdict (Judge) says it,
// and an exit code of 0 becomes 1 when it is not complete. nil: no
// reconciliation (the report has no completeness parts). Call it before
// Close.
func (w *Writer) SetCompleteness(c *Completeness) {
	if c != nil {
		c.Tally()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.completeness = c
}

// WorseStatus is the status a conference with rows of statuses a and b is
// counted under (the empty status loses to anything): see Summary.Counts.
func WorseStatus(a, b Status) Status { return worse(a, b) }
