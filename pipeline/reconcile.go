package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// The reconciliation of a window: three independent sources (the
// recording list paged to its declared count, the meeting history's
// meetings with recording files, and the destination's commit marks plus
// this run's rows) joined into one line per conference with its fate
// (report.Completeness).

// Historian is what the reconciliation needs of the Meeting API client
// beyond the list: the meeting history of a window.
type Historian interface {
	History(ctx context.Context, q export.HistoryQuery) (export.HistoryList, error)
}

// PagedLister lists the recordings of a window and says what the paging
// gave (*export.Client).
type PagedLister interface {
	ListPaged(ctx context.Context, q export.ListQuery, fn func(export.Recording) error) (export.Listing, error)
}

// Listed is the recording list of a window as a run fetched it: every
// recording (by normalised confUUID) and what the paging gave. A run hands
// it to Reconcile so that the list is paged once.
type Listed struct {
	Recordings map[string]export.Recording
	Listing    export.Listing
}

// DiscoverListed is Discover through ListPaged: the items and details of
// the window, and the Listed the reconciliation of the same window needs.
func DiscoverListed(ctx context.Context, api PagedLister, q export.ListQuery) ([]Item, *Listed, error) {
	listed := &Listed{Listing: export.Listing{Count: -1}}
	items, known, err := discover(func(fn func(export.Recording) error) error {
		var err error
		listed.Listing, err = api.ListPaged(ctx, q, fn)
		return err
	})
	listed.Recordings = known
	return items, listed, err
}

// Outcomes notes what a run did with each conference (the status it is
// counted under, as report.Summary.Counts counts it, and the hint of its
// worst row) as its rows pass to the report: the reconciliation's "this
// run" source. Invalid-input and duplicate-input rows are not conferences
// of their own and are not noted. Safe for concurrent use.
type Outcomes struct {
	mu sync.Mutex
	m  map[string]confOutcome
}

type confOutcome struct {
	status           report.Status
	hint             string
	subject, started string
}

// NewOutcomes returns an empty Outcomes.
func NewOutcomes() *Outcomes { return &Outcomes{m: map[string]confOutcome{}} }

// Rows returns a RowWriter that notes every row and passes it on to w.
func (o *Outcomes) Rows(w RowWriter) RowWriter { return outcomeWriter{o: o, w: w} }

type outcomeWriter struct {
	o *Outcomes
	w RowWriter
}

func (t outcomeWriter) AddAll(rows ...report.Row) error {
	for i := range rows {
		t.o.Note(rows[i])
	}
	return t.w.AddAll(rows...)
}

// Note notes one row.
func (o *Outcomes) Note(r report.Row) {
	if r.Status == report.InvalidInput || r.Status == report.DuplicateInput || r.ConfUUID == "" || r.IsEvidence() {
		return // an evidence gap never decides a recording's fate
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	cur, seen := o.m[r.ConfUUID]
	st := report.WorseStatus(cur.status, r.Status)
	if !seen || st != cur.status {
		cur.status, cur.hint = st, report.Hint(r)
	}
	if cur.subject == "" {
		cur.subject = r.Subject
	}
	if cur.started == "" {
		cur.started = r.StartTime
	}
	o.m[r.ConfUUID] = cur
}

// Reconciliation says what to reconcile.
type Reconciliation struct {
	// Window is the window of dates (and the list's AllUsers and Search,
	// which the history query follows); nil: none (an --input run, which
	// reconciles the destination with its input only).
	Window *export.ListQuery
	// Listed is the run's list of the window; nil with a window:
	// Reconcile pages the list itself.
	Listed *Listed
	// Outcomes are this run's conferences; nil: no run (the reconcile
	// command).
	Outcomes *Outcomes
	// Shard: only the conferences of this shard are reconciled.
	Shard Shard
	// Now is the clock the history's retention is measured on (nil:
	// time.Now): see HistoryRetention.
	Now func() time.Time
}

// HistoryRetentionMonths is how long the meeting history keeps a meeting,
// from its start: six calendar months by default on the platform (an
// enterprise may configure up to twelve). A window that starts earlier is
// checked against the recording list and the destination only before
// that horizon (the history-retention finding).
const HistoryRetentionMonths = 6

// historyHorizon is the earliest start the history can be trusted to
// keep, on the clock now.
func historyHorizon(now time.Time) time.Time {
	return now.UTC().AddDate(0, -HistoryRetentionMonths, 0)
}

// markReaders bounds the commit marks read at once.
const markReaders = 8

// markSlack: a commit mark written this long before the window starts
// cannot be of a conference that started in it (marks are written after
// the conference); on a store that reports modification times, older
// marks are not read.
const markSlack = 24 * time.Hour

// ReconcileAPI is what Reconcile needs of the Meeting API client.
type ReconcileAPI interface {
	PagedLister
	Historian
}

// Reconcile joins the sources of r into the window's Completeness (Tally
// is for the report to call, through Writer.SetCompleteness). It calls no
// download API: with a window, the recording list (unless r.Listed has
// it: then not at all) and the meeting history, one call a page each, on
// quotas of their own; and the destination: one listing of its commit
// marks plus, with a window, one read of each mark no other source names
// (to learn its start time; on a store that reports modification times,
// not those written before the window). A history that cannot be read is
// a finding, not an error. The error is the list's or the destination's:
// without them there is nothing to reconcile.
func Reconcile(ctx context.Context, api ReconcileAPI, store archive.Store, r Reconciliation) (*report.Completeness, error) {
	rc := &reconciler{r: r, lines: map[string]*report.CompletenessLine{}, recs: map[string]export.Recording{}, hints: map[string]string{}}
	c := &report.Completeness{}
	if r.Window != nil {
		c.Window = r.Window.From.UTC().Format(time.RFC3339) + ".." + r.Window.To.UTC().Format(time.RFC3339)
		c.PlatformChecked = true
		src, err := rc.list(ctx, api)
		if err != nil {
			return nil, err
		}
		c.Sources = append(c.Sources, src)
		c.Findings = append(c.Findings, countFinding(report.FindingListShort, report.FindingListOver, "the recording list", "recording", src)...)
		hsrc, finding := rc.history(ctx, api)
		c.Sources = append(c.Sources, hsrc)
		if finding != nil {
			c.Findings = append(c.Findings, *finding)
		} else {
			c.Findings = append(c.Findings, historyCountFinding(hsrc)...)
			c.Findings = append(c.Findings, retentionFinding(*r.Window, r.now())...)
		}
	} else {
		c.Findings = append(c.Findings, report.Finding{Code: report.FindingNoWindow,
			Text: "no window: the run was given --input, so only the destination and the input were reconciled; the platform-side check needs --from/--to or --since-last"})
	}
	run := rc.run()
	dsrc, unparsed, err := rc.destination(ctx, store)
	if err != nil {
		return nil, err
	}
	if unparsed > 0 {
		c.Findings = append(c.Findings, report.Finding{Code: report.FindingDestUnparsed,
			Text: fmt.Sprintf("%s in the destination without a readable start time: whether %s to this window is unknown", report.Plural(unparsed, "commit mark"), map[bool]string{true: "it belongs", false: "they belong"}[unparsed == 1])})
	}
	c.Sources = append(c.Sources, dsrc)
	if r.Outcomes != nil {
		c.Sources = append(c.Sources, run)
	}
	for _, id := range rc.order {
		l := rc.lines[id]
		l.Fate, l.Hint = rc.fate(l)
		c.Lines = append(c.Lines, *l)
	}
	return c, nil
}

// Unchecked is the Completeness of a window whose reconciliation failed
// (err): not complete, one finding saying why.
func Unchecked(window *export.ListQuery, err error) *report.Completeness {
	c := &report.Completeness{}
	if window != nil {
		c.Window = window.From.UTC().Format(time.RFC3339) + ".." + window.To.UTC().Format(time.RFC3339)
	}
	c.Findings = []report.Finding{{Code: report.FindingDestUnread, Unaccounted: 1,
		Text: fmt.Sprintf("the window could not be reconciled (%v): nothing can be said to be complete; rerun meetarchive reconcile for it", err)}}
	return c
}

// reconciler gathers the lines of one reconciliation.
type reconciler struct {
	r     Reconciliation
	lines map[string]*report.CompletenessLine
	order []string                    // confUUIDs in the order first seen
	recs  map[string]export.Recording // the list's details
	hints map[string]string           // this run's hint of its worst row, by confUUID
}

// line returns the line of confUUID, added when new.
func (rc *reconciler) line(id, subject, start string) *report.CompletenessLine {
	l, ok := rc.lines[id]
	if !ok {
		l = &report.CompletenessLine{ConfUUID: id}
		rc.lines[id] = l
		rc.order = append(rc.order, id)
	}
	if l.Subject == "" {
		l.Subject = subject
	}
	if l.StartTime == "" {
		l.StartTime = start
	}
	return l
}

func (rc *reconciler) ours(id string) bool { return rc.r.Shard.Contains(Item{ConfUUID: id}) }

// list is source (1): the run's list, or the list paged now.
func (rc *reconciler) list(ctx context.Context, api PagedLister) (report.CompletenessSource, error) {
	listed := rc.r.Listed
	if listed == nil {
		var err error
		if _, listed, err = DiscoverListed(ctx, api, *rc.r.Window); err != nil {
			return report.CompletenessSource{}, fmt.Errorf("reconcile: %w", err)
		}
	}
	src := report.CompletenessSource{Name: report.SourceList, Declared: listed.Listing.Count,
		Distinct: listed.Listing.Distinct, Calls: len(listed.Listing.Pages)}
	for id, rec := range listed.Recordings {
		if !rc.ours(id) {
			continue
		}
		l := rc.line(id, rec.Subject, rec.StartTime)
		l.Listed = true
		rc.recs[id] = rec
		src.Conferences++
	}
	rc.sortOrder()
	return src, nil
}

// sortOrder keeps the lines in start-time order (the list's map has none).
func (rc *reconciler) sortOrder() {
	// Tally sorts the report's lines; this only makes Reconcile's output
	// deterministic for its callers.
	slices.SortFunc(rc.order, func(a, b string) int {
		return cmp.Or(cmp.Compare(rc.lines[a].StartTime, rc.lines[b].StartTime), cmp.Compare(a, b))
	})
}

// history is source (2): the history's meetings with recording files. A
// history that cannot be read gives a finding instead.
func (rc *reconciler) history(ctx context.Context, api Historian) (report.CompletenessSource, *report.Finding) {
	w := rc.r.Window
	h, err := api.History(ctx, export.HistoryQuery{From: w.From, To: w.To, AllUsers: w.AllUsers, Search: w.Search})
	src := report.CompletenessSource{Name: report.SourceHistory, Declared: h.Count, Distinct: h.Distinct, Calls: len(h.Pages)}
	if err != nil {
		src.Error = err.Error()
		why := "it failed"
		switch {
		case errors.Is(err, export.ErrNotPermitted):
			why = "refused: the user is not an administrator"
		case errors.Is(err, export.ErrNotDeployed):
			why = "this deployment has no history API"
		}
		return src, &report.Finding{Code: report.FindingHistoryUnread,
			Text: fmt.Sprintf("the meeting history could not be read (%s): a recording the list leaves out cannot be found; the check rests on the list and the destination", why)}
	}
	for _, m := range h.Recorded() {
		if !rc.ours(m.ConfUUID) {
			continue
		}
		rc.line(m.ConfUUID, m.Subject, m.StartTime).InHistory = true
		src.Conferences++
	}
	return src, nil
}

// countFinding is the finding of a list whose pages hold fewer or more
// distinct entries than its declared count (none when they agree). Fewer
// leaves the difference unaccounted for.
func countFinding(short, over, what, unit string, src report.CompletenessSource) []report.Finding {
	if src.Declared < 0 || src.Declared == src.Distinct {
		return nil
	}
	if src.Distinct < src.Declared {
		n := src.Declared - src.Distinct
		return []report.Finding{{Code: short, Unaccounted: n,
			Text: fmt.Sprintf("%s declared %s but its pages held %d: %d not seen (rerun the window later: --since-last lists it again; if it persists, ask the platform's support)", what, report.Plural(src.Declared, unit), src.Distinct, n)}}
	}
	return []report.Finding{{Code: over,
		Text: fmt.Sprintf("%s declared %s but its pages held %d: its count is wrong (every one it held is reconciled)", what, report.Plural(src.Declared, unit), src.Distinct)}}
}

// historyCountFinding is the finding of a history whose pages hold fewer
// or more distinct meetings than its declared count. Fewer loses nothing
// by itself: the count includes meetings without recordings, so the
// unseen ones may have none; it weakens the second source only (the
// list's own count is what can leave a recording unaccounted for).
func historyCountFinding(src report.CompletenessSource) []report.Finding {
	if src.Declared < 0 || src.Declared == src.Distinct {
		return nil
	}
	if src.Distinct < src.Declared {
		n := src.Declared - src.Distinct
		return []report.Finding{{Code: report.FindingHistoryShort,
			Text: fmt.Sprintf("the meeting history declared %s but its pages held %d: %d not seen, with or without recordings (its count includes meetings without any); a recording among them that the list also left out could not be found (rerun meetarchive reconcile for this window later; if it persists, ask the platform's support)",
				report.Plural(src.Declared, "meeting"), src.Distinct, n)}}
	}
	return countFinding(report.FindingHistoryShort, report.FindingHistoryOver, "the meeting history", "meeting", src)
}

// retentionFinding is the finding of a window that starts before the
// history's horizon (historyHorizon): the part before it was checked
// against the recording list and the destination only.
func retentionFinding(w export.ListQuery, now time.Time) []report.Finding {
	h := historyHorizon(now)
	if !w.From.Before(h) {
		return nil
	}
	const day = "2006-01-02 15:04 UTC"
	part := fmt.Sprintf("the part of the window from %s to %s", w.From.UTC().Format(day), h.Format(day))
	if !w.To.After(h) {
		part = "the whole window"
	}
	return []report.Finding{{Code: report.FindingHistoryRetention,
		Text: fmt.Sprintf("%s is older than the meeting history keeps (%d months by default, 12 at most): it was checked against the recording list and the destination only, so a recording the list leaves out there cannot be found (reconcile windows of the last %d months to check them against the history too)",
			part, HistoryRetentionMonths, HistoryRetentionMonths)}}
}

func (r Reconciliation) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// run is source (3a): this run's conferences.
func (rc *reconciler) run() report.CompletenessSource {
	src := report.CompletenessSource{Name: report.SourceRun, Declared: -1}
	o := rc.r.Outcomes
	if o == nil {
		return src
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(o.m)) {
		oc := o.m[id]
		rc.line(id, oc.subject, oc.started).Status = oc.status
		rc.hints[id] = oc.hint
		src.Conferences++
	}
	return src
}

// destination is source (3b): the commit marks. A mark of a conference
// another source names marks its line Stored; with a window, every other
// mark is read, and one whose conference started in the window is a line
// of its own. unparsed counts the marks read whose start time is unknown.
func (rc *reconciler) destination(ctx context.Context, store archive.Store) (src report.CompletenessSource, unparsed int, err error) {
	src = report.CompletenessSource{Name: report.SourceDestination, Declared: -1}
	var others []string
	listCalls, err := archive.CommitMarks(ctx, store, func(id string, o archive.Object) error {
		if l, ok := rc.lines[id]; ok {
			l.Stored = true
			src.Conferences++
			return nil
		}
		w := rc.r.Window
		if w == nil || !rc.ours(id) || (!o.ModTime.IsZero() && o.ModTime.Before(w.From.Add(-markSlack))) {
			return nil
		}
		others = append(others, id)
		return nil
	})
	if err != nil {
		return src, 0, fmt.Errorf("reconcile: %w", err)
	}
	marks := make([]markInfo, len(others))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(markReaders)
	for i, id := range others {
		g.Go(func() error {
			key, _ := archive.SidecarKey(id)
			data, _, err := store.GetMeta(gctx, key, maxMarkBytes)
			if err != nil {
				if errors.Is(err, archive.ErrNotExist) {
					return nil // removed meanwhile
				}
				return fmt.Errorf("reconcile: read the commit mark %s: %w", store.URI(key), err)
			}
			marks[i] = markOf(data)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return src, 0, err
	}
	src.Calls = listCalls + len(others)
	for i, id := range others {
		m := marks[i]
		switch {
		case !m.read:
			continue
		case m.start.IsZero():
			unparsed++
			continue
		case !inWindow(m.start, rc.r.Window):
			continue
		}
		rc.line(id, m.subject, m.startText).Stored = true
		src.Conferences++
	}
	return src, unparsed, nil
}

// markInfo is what a commit mark says about its conference.
type markInfo struct {
	read               bool
	subject, startText string
	start              time.Time // zero: unknown
}

// maxMarkBytes bounds a commit mark read (they are a few KiB).
const maxMarkBytes = 16 << 20

// markOf reads a commit mark's start time and subject; a mark that does
// not parse has none (its start time is unknown).
func markOf(data []byte) markInfo {
	var sc archive.Sidecar
	var d struct {
		Subject   string `json:"subject"`
		StartTime string `json:"startTime"`
	}
	m := markInfo{read: true}
	if json.Unmarshal(data, &sc) != nil || json.Unmarshal(sc.Details, &d) != nil {
		return m
	}
	m.subject, m.startText = d.Subject, d.StartTime
	if t, err := time.Parse(startTimeLayout, d.StartTime); err == nil {
		m.start = t
	}
	return m
}

// startTimeLayout is the platform's startTime ("2019-12-19 02:07", UTC).
const startTimeLayout = "2006-01-02 15:04"

// inWindow: a start time (to the minute) in the window.
func inWindow(t time.Time, w *export.ListQuery) bool {
	return !t.Before(w.From.Truncate(time.Minute)) && !t.After(w.To)
}

// fate decides a line's fate and hint from what the sources say.
func (rc *reconciler) fate(l *report.CompletenessLine) (report.Fate, string) {
	if l.Status != "" {
		return runFate(l, rc.hints[l.ConfUUID])
	}
	switch {
	case l.Stored && l.Listed:
		return report.FateArchivedBefore, "archived by an earlier run (its commit mark is in the destination)"
	case l.Stored && l.InHistory:
		return report.FateNotListed, "archived; the recording list does not list it though the history says it has recordings: the archive holds it"
	case l.Stored:
		return report.FateNotListed, "archived; the platform no longer lists it (deleted on the platform after it was archived): fine, the archive holds it"
	case l.Listed:
		rec := rc.recs[l.ConfUUID]
		switch {
		case rec.Has(export.FieldIsDecodeFinish) && !rec.IsDecodeFinish:
			return report.FatePending, "still transcoding on the platform: a later run for this window takes it"
		case rec.Has(export.FieldAvailable) && !rec.Available:
			return report.FateUnavailable, "the platform says it cannot be downloaded: ask the platform's administrator"
		}
		return report.FateNotArchived, "listed by the platform but not archived: run meetarchive run for this window (or --input with this confUUID)"
	}
	return report.FateHistoryOnly, "the meeting history says it has recordings but the recording list has no such recording and nothing is archived: check it on the platform (the list left it out, or it was deleted before it was archived); meetarchive run --input with this confUUID archives it if it is there"
}

// runFate is the fate of a conference this run handled.
func runFate(l *report.CompletenessLine, hint string) (report.Fate, string) {
	switch st := l.Status; {
	case st == report.Archived && l.Stored:
		return report.FateArchived, "archived by this run"
	case st == report.Archived:
		return report.FateNotCommitted, "this run's rows say archived but the destination holds no commit mark for it: rerun it with --input and --force"
	case st == report.Updated && l.Stored:
		return report.FateArchived, "archived before; this run archived the files the platform added later (updated)"
	case st == report.AlreadyArchived:
		return report.FateArchivedBefore, "archived by an earlier run (this run checked its objects)"
	case st == report.PendingTranscode:
		return report.FatePending, "still transcoding on the platform: a later run takes it (failures.csv lists it)"
	case st == report.Unavailable:
		return report.FateUnavailable, "the platform says it cannot be downloaded: ask the platform's administrator"
	case st == report.NoFiles:
		return report.FateNoFiles, "the platform lists no files for it"
	case st == report.Planned:
		return report.FatePlanned, "a dry run: planned, not archived"
	case l.Stored:
		return report.FateArchivedBefore, fmt.Sprintf("this run ended %s for it, but an earlier run's archive of it stands (its commit mark is in the destination)", st)
	}
	if hint == "" {
		hint = "see the Failures sheet"
	}
	return report.FateFailed, fmt.Sprintf("this run ended %s for it: %s", l.Status, hint)
}

// AfterRun is the reconciliation a run makes once its conferences are
// done, before its report is closed: of its window (r.Window, with the
// list the run fetched in r.Listed: no second paging), or, for an --input
// run (r.Window nil), of its input against the destination. A
// reconciliation that fails (the destination cannot be listed) is logged
// and reported as not complete (Unchecked); one stopped by ctx (a signal)
// returns nil and ctx's error: the run is interrupted and its report says
// so without a completeness.
func AfterRun(ctx context.Context, api ReconcileAPI, store archive.Store, r Reconciliation, log *slog.Logger) (*report.Completeness, error) {
	c, err := Reconcile(ctx, api, store, r)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		log.Error("reconcile: the window could not be reconciled", "err", err)
		return Unchecked(r.Window, err), nil
	}
	args := []any{"window", c.Window, "conferences", len(c.Lines)}
	for _, s := range c.Sources {
		args = append(args, s.Name+" calls", s.Calls)
	}
	log.Debug("reconciled", args...) // the verdict and the closing summary say the outcome
	return c, nil
}

// reconcile is a run's reconciliation of its window (of its input against
// the destination without one), once its conferences are done and before
// its report is closed; not after a fatal error, a signal or a journal
// that could not be written. A signal during it interrupts the run.
func (r *run) reconcile(ctx context.Context, in poolInput, o *Outcomes, res *Result) {
	if res.Fatal != nil || res.Interrupted || res.WriteErr != nil {
		return
	}
	c, err := AfterRun(ctx, in.client, in.store, Reconciliation{Window: r.cfg.List, Listed: r.listed, Outcomes: o, Shard: r.cfg.Shard, Now: r.cfg.Now}, r.log)
	if err != nil {
		res.Interrupted = true
		return
	}
	in.inc.owe(c)
	in.w.SetCompleteness(c)
}

// owe carries over to the next --since-last run every conference the
// reconciliation found not accounted for that this run never tried (the
// history names it and the list does not; or the list named it and no row
// says why): the next run asks for it by its confUUID, as for any carried
// conference, until it is archived or the platform does not know it. It
// does nothing on a nil Incremental.
func (in *Incremental) owe(c *report.Completeness) {
	if in == nil {
		return
	}
	for _, l := range c.Lines {
		if l.Fate.Accounted() || l.Status != "" {
			continue
		}
		if _, seen := in.outcomes[l.ConfUUID]; seen {
			continue
		}
		in.order = append(in.order, l.ConfUUID)
		in.outcomes[l.ConfUUID] = outcome{class: classFailed, status: report.Failed, errorCode: string(l.Fate)}
	}
}

// completenessFailure is the exit-1 message of a run whose window has
// gaps beyond its own failures: its failures' message (msg, when failed
// is true) and then the recordings not accounted for.
func completenessFailure(c *report.Completeness, failed bool, msg string) string {
	s := report.Plural(c.Gaps(), "recording") + " of the window not accounted for (see the Completeness sheet)"
	if failed {
		return msg + "; " + s
	}
	return s
}
