package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/report"
)

// Incremental runs (--since-last) keep their state in the destination, one
// state per destination and shard (StateName), in the store's reserved area
// (archive.StateDir). The state says where the last completely listed
// window ended and which conferences are still owed: pending, unavailable,
// without files, failed or cancelled. A run's window starts at the state's
// windowEnd less an overlap (recordings the platform lists late) and ends at
// now less a settle time; its items are the window's listing plus every
// conference carried over, by UUID, each once.
//
// The guarantee: every recording that appears in the list for a window is
// archived by some run, or shows in some run's report as not archived. A
// conference leaves the carry-over only when a run ends it archived,
// already-archived, not-found (or invalid), or when it has waited (pending,
// unavailable, no files) longer than MaxPendingAge since it was first seen:
// then its row says failed with the code pending-expired. Failed and
// cancelled conferences stay until they succeed. The state is written only
// when the window was listed completely and the run was neither interrupted
// nor stopped by a fatal error; otherwise the next run starts from the same
// place again (what was archived meanwhile is found already archived).

// Defaults of the --since-last flags.
const (
	DefaultSinceLastOverlap = 2 * time.Hour
	DefaultSettle           = 30 * time.Minute
	DefaultMaxPendingAge    = 7 * 24 * time.Hour
)

// StateFormat is the format version of the state this package writes.
const StateFormat = 1

// ErrNoStart: a first --since-last run (no state yet) without --from.
var ErrNoStart = errors.New("no state in the destination yet: give --from for the first --since-last run")

// State is what an incremental run leaves in the destination for the next.
type State struct {
	Format int `json:"format"`
	// WindowEnd is the end of the last window listed and run completely.
	WindowEnd time.Time `json:"windowEnd"`
	// Carry is every conference still owed, by first seen.
	Carry   []Carried `json:"carry"`
	RunID   string    `json:"runId"`   // the run that wrote it
	Written time.Time `json:"written"` // when
	Shard   string    `json:"shard,omitempty"`
}

// Carried is a conference carried over to the next run.
type Carried struct {
	ConfUUID  string        `json:"confUUID"`
	Status    report.Status `json:"status"` // its outcome in the last run that tried it
	ErrorCode string        `json:"errorCode,omitempty"`
	FirstSeen time.Time     `json:"firstSeen"`
	LastTried time.Time     `json:"lastTried"`
}

// StateName is the state's name for a shard: "since-last", or
// "since-last-K-of-N".
func StateName(sh Shard) string {
	if sh.Whole() {
		return "since-last"
	}
	return "since-last-" + strconv.Itoa(sh.K) + "-of-" + strconv.Itoa(sh.N)
}

// ParseState reads a state, checking its format and every confUUID.
func ParseState(data []byte) (State, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("state: %w", err)
	}
	if s.Format != StateFormat {
		return s, fmt.Errorf("state: format %d, this version reads %d", s.Format, StateFormat)
	}
	if s.WindowEnd.IsZero() {
		return s, errors.New("state: no windowEnd")
	}
	for i, c := range s.Carry {
		norm, ok := normalize(c.ConfUUID)
		if !ok {
			return s, fmt.Errorf("state: carry %d: %s is not a conference UUID", i, quoteCell(c.ConfUUID))
		}
		s.Carry[i].ConfUUID = norm
	}
	return s, nil
}

// SinceLast configures an incremental run.
type SinceLast struct {
	From          time.Time     // start of the first window (no state yet)
	Overlap       time.Duration // the window starts this long before the last windowEnd
	Settle        time.Duration // the window ends this long before now
	MaxPendingAge time.Duration // waiting conferences leave the carry-over after this long
	AllUsers      bool
	Search        string
	Now           func() time.Time // nil: time.Now
	ReadOnly      bool             // a dry run: read the state, hold and write nothing
	LeaseTTL      time.Duration    // S3 lease; 0: archive.DefaultLeaseTTL
}

// Incremental is one --since-last run, from StartIncremental to Close.
type Incremental struct {
	cfg     SinceLast
	shard   Shard
	hold    *archive.StateHold
	where   string // the state's URI
	prev    State
	found   bool // a state was read
	now     time.Time
	query   export.ListQuery
	carried map[string]Carried
	// outcomes of this run, by confUUID: filled by the writer goroutine
	// only (Rows), read after Job.Run returned.
	outcomes map[string]outcome
	order    []string // confUUIDs in the order first seen in rows
	expired  int
}

// outcome is what a run's rows say of one conference.
type outcome struct {
	class     outcomeClass
	status    report.Status
	errorCode string
}

type outcomeClass int

const (
	classDone    outcomeClass = iota + 1 // archived, already archived, not found, invalid
	classWaiting                         // pending transcode, unavailable, no files
	classExpired                         // waited too long: reported, dropped
	classFailed                          // failed, cancelled (and anything unknown)
)

// StartIncremental takes the run's hold on its state in store (a second run
// on the same destination and shard gets an error matching
// archive.ErrStateHeld), reads the state and computes the window. A first
// run (no state) without cfg.From gets ErrNoStart. Close releases the hold.
func StartIncremental(ctx context.Context, store archive.Store, cfg SinceLast, shard Shard) (*Incremental, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	in := &Incremental{cfg: cfg, shard: shard, now: cfg.Now().UTC(), carried: map[string]Carried{}, outcomes: map[string]outcome{}}
	name := StateName(shard)
	key, err := archive.StateKey(name)
	if err != nil {
		return nil, err
	}
	in.where = store.URI(key)
	var data []byte
	if cfg.ReadOnly {
		data, err = archive.ReadState(ctx, store, name)
	} else {
		host, _ := os.Hostname()
		holder := fmt.Sprintf("meetarchive pid %d on %s", os.Getpid(), host)
		in.hold, err = archive.HoldState(ctx, store, name, archive.HoldOptions{Holder: holder, LeaseTTL: cfg.LeaseTTL})
		if err != nil {
			return nil, err
		}
		data, err = in.hold.Get(ctx)
	}
	if err != nil {
		in.Close()
		return nil, err
	}
	if data != nil {
		if in.prev, err = ParseState(data); err != nil {
			in.Close()
			return nil, fmt.Errorf("%s: %w", in.where, err)
		}
		in.found = true
		for _, c := range in.prev.Carry {
			in.carried[c.ConfUUID] = c
		}
	}
	start, end, err := Window(in.prev, in.found, cfg, in.now)
	if err != nil {
		in.Close()
		return nil, err
	}
	in.query = export.ListQuery{From: start, To: end, AllUsers: cfg.AllUsers, Search: cfg.Search}
	return in, nil
}

// StateURI is where the state is kept.
func (in *Incremental) StateURI() string { return in.where }

// Window is a run's window: from the state's windowEnd less the overlap
// (or from cfg.From when there is no state) to now less the settle time.
// A start after the end (a run again within the settle time) gives an empty
// window at the end.
func Window(prev State, found bool, cfg SinceLast, now time.Time) (start, end time.Time, err error) {
	end = now.Add(-cfg.Settle).UTC()
	switch {
	case found:
		start = prev.WindowEnd.Add(-cfg.Overlap).UTC()
	case !cfg.From.IsZero():
		start = cfg.From.UTC()
	default:
		return start, end, ErrNoStart
	}
	if start.After(end) {
		start = end
	}
	return start, end, nil
}

// Query is the window as a list query.
func (in *Incremental) Query() export.ListQuery { return in.query }

// Found reports whether a state was read (false: a first run).
func (in *Incremental) Found() bool { return in.found }

// Previous is the state read (zero when none).
func (in *Incremental) Previous() State { return in.prev }

// Items are the window's listed items plus every carried-over conference
// the listing did not hold, appended in the order they were first seen;
// Seq and Line continue the listing's.
func (in *Incremental) Items(listed []Item) []Item {
	seen := make(map[string]bool, len(listed))
	for _, it := range listed {
		if it.Problem == "" {
			seen[it.ConfUUID] = true
		}
	}
	out := slices.Clip(listed)
	for _, c := range in.carryOrder() {
		if seen[c.ConfUUID] {
			continue
		}
		seen[c.ConfUUID] = true
		out = append(out, Item{Seq: len(out), Line: len(out) + 1, ConfUUID: c.ConfUUID})
	}
	return out
}

func (in *Incremental) carryOrder() []Carried {
	c := slices.Clone(in.prev.Carry)
	slices.SortStableFunc(c, func(a, b Carried) int { return a.FirstSeen.Compare(b.FirstSeen) })
	return c
}

// Rows wraps the run's row writer: it notes each conference's outcome for
// the next state, and turns the waiting row of a conference carried over
// for longer than MaxPendingAge into a failed row with the code
// pending-expired before it is written. Job.Run calls it from its one writer
// goroutine.
func (in *Incremental) Rows(w RowWriter) RowWriter { return &trackingWriter{in: in, w: w} }

type trackingWriter struct {
	in *Incremental
	w  RowWriter
}

func (t *trackingWriter) AddAll(rows ...report.Row) error {
	for i := range rows {
		if !rows[i].IsEvidence() { // about evidence, not the conference's outcome
			t.in.observe(&rows[i])
		}
	}
	return t.w.AddAll(rows...)
}

func classOf(s report.Status) outcomeClass {
	switch s {
	case report.Archived, report.AlreadyArchived, report.Updated, report.NotFound, report.InvalidInput, report.DuplicateInput, report.Planned:
		return classDone
	case report.PendingTranscode, report.Unavailable, report.NoFiles:
		return classWaiting
	}
	return classFailed
}

// observe notes one row (rewriting an expired waiting one).
func (in *Incremental) observe(r *report.Row) {
	class := classOf(r.Status)
	if c, ok := in.carried[r.ConfUUID]; ok && class == classWaiting && in.cfg.MaxPendingAge > 0 &&
		in.now.Sub(c.FirstSeen) > in.cfg.MaxPendingAge {
		was := r.Status
		r.Status = report.Failed
		setCode(r, CodePendingExpired, fmt.Sprintf("still %s %s after it was first seen (%s), longer than --max-pending-age %s: no longer carried over",
			was, in.now.Sub(c.FirstSeen).Round(time.Minute), c.FirstSeen.UTC().Format(time.RFC3339), in.cfg.MaxPendingAge))
		class = classExpired
	}
	o, seen := in.outcomes[r.ConfUUID]
	if !seen {
		in.order = append(in.order, r.ConfUUID)
	}
	if !seen || class > o.class {
		if class == classExpired && o.class != classExpired {
			in.expired++
		}
		in.outcomes[r.ConfUUID] = outcome{class: class, status: r.Status, errorCode: r.ErrorCode}
	}
}

// Expired is how many conferences this run reported pending-expired.
func (in *Incremental) Expired() int { return in.expired }

// NextState is the state a completed run (runID) leaves: the window's end
// (never earlier than the last one) and every conference still owed. A
// carried conference this run did not report stays carried.
func (in *Incremental) NextState(runID string) State {
	next := State{Format: StateFormat, WindowEnd: in.query.To, RunID: runID, Written: in.now, Shard: in.shard.String(), Carry: []Carried{}}
	if in.found && in.prev.WindowEnd.After(next.WindowEnd) {
		next.WindowEnd = in.prev.WindowEnd
	}
	kept := map[string]bool{}
	for _, conf := range in.order {
		o := in.outcomes[conf]
		if o.class != classWaiting && o.class != classFailed {
			continue
		}
		c := Carried{ConfUUID: conf, Status: o.status, ErrorCode: o.errorCode, FirstSeen: in.now, LastTried: in.now}
		if prev, ok := in.carried[conf]; ok {
			c.FirstSeen = prev.FirstSeen
		}
		next.Carry = append(next.Carry, c)
		kept[conf] = true
	}
	for _, c := range in.prev.Carry {
		if _, reported := in.outcomes[c.ConfUUID]; !reported && !kept[c.ConfUUID] {
			next.Carry = append(next.Carry, c)
		}
	}
	slices.SortStableFunc(next.Carry, func(a, b Carried) int {
		return cmp.Or(a.FirstSeen.Compare(b.FirstSeen), cmp.Compare(a.ConfUUID, b.ConfUUID))
	})
	return next
}

// Finish writes the next state of run runID when advance is true (the
// window was listed completely, the run was neither interrupted nor fatal
// and its journal was written: run.writeSinceLast decides) and this is not
// a dry run; otherwise the state stays as it was. It returns the state
// written (zero when none).
func (in *Incremental) Finish(ctx context.Context, runID string, advance bool) (State, error) {
	if !advance || in.cfg.ReadOnly || in.hold == nil {
		return State{}, nil
	}
	next := in.NextState(runID)
	data, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return State{}, fmt.Errorf("state: %w", err)
	}
	if err := in.hold.Put(ctx, append(data, '\n')); err != nil {
		return State{}, err
	}
	return next, nil
}

// Close releases the hold on the state (it does nothing the second time,
// nor on a nil Incremental).
func (in *Incremental) Close() error {
	if in == nil || in.hold == nil {
		return nil
	}
	return in.hold.Release()
}
