package export

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The APIs that have a limiter each: the gateway counts calls per API.
var apiNames = []string{"auth", "details", "downloadurls", "recordinfo", "list", "delete", "history", "historydetail", "attendees", "ctlrecords"}

// The gateway's response headers: the quota of the API called (per API and
// per caller), and the limit over all APIs.
const (
	headerAPI    = "X-APIG-Ratelimit-Api"
	headerAllEnv = "X-APIG-Ratelimit-Api-Allenv"
)

const (
	// headerMargin is the share of the gateway's advertised average rate
	// (limit per window) one client plans to use at most, so that network
	// jitter does not push calls into a window that is already full.
	headerMargin = 0.95
	// reserveFactor scales the calls that other callers of the quota are
	// expected to make between two of ours into the reserve the client
	// leaves in the window: its own view of remain is that old.
	reserveFactor = 2
	// recoverTime is how long the additive increase takes to climb from
	// half back to the rate at which the last 429 came; beyond it the rate
	// probes upwards five times slower.
	recoverTime = 10 * time.Second
	// defaultPause is how long the whole client pauses on a throttled answer
	// without Retry-After.
	defaultPause = time.Second
	// maxPause caps a pause asked for by Retry-After.
	maxPause = 5 * time.Minute
	// catchUp is how many calls a limiter without a ceiling that fell
	// behind its schedule may send at once to catch up.
	catchUp = 4
	// maxSendLog bounds the per-API log of send times.
	maxSendLog = 4096
	// minFloor is the slowest rate a limiter is ever set to (one call a
	// minute), unless the quota says the window is spent.
	minFloor = 1.0 / 60
)

// limits holds the per-API limiters, the limiter over all APIs and the
// client-wide pause.
type limits struct {
	apis map[string]*apiLimit // fixed after newLimits: read without lock
	all  *apiLimit            // X-APIG-Ratelimit-Api-Allenv: every API together

	mu          sync.Mutex
	pausedUntil time.Time
	changed     chan struct{} // closed (and replaced) when a limiter may allow more
	waited      map[string]time.Duration
}

// newLimits builds the limiters for Config.Rate: a ceiling in requests/s per
// API, or RateAuto (0): no ceiling, start at start per API and follow the
// gateway.
func newLimits(rate, start float64) *limits {
	ceiling := rate
	if rate == RateAuto {
		ceiling = math.Inf(1)
	} else {
		start = rate
	}
	l := &limits{
		apis:    make(map[string]*apiLimit, len(apiNames)),
		all:     newPacer(math.Inf(1), math.Inf(1)),
		changed: make(chan struct{}),
		waited:  make(map[string]time.Duration),
	}
	for _, n := range apiNames {
		l.apis[n] = newPacer(ceiling, start)
	}
	return l
}

func (l *limits) api(name string) *apiLimit {
	if a, ok := l.apis[name]; ok {
		return a
	}
	panic("export: no limiter for " + name) // programming error: apiNames is fixed
}

// wait blocks until the client is not paused and both the API's limiter and
// the all-APIs limiter grant a call; it then records the send. It is the only
// gate in front of every API request.
func (l *limits) wait(ctx context.Context, name string) error {
	a := l.api(name)
	began := time.Now()
	defer func() {
		l.mu.Lock()
		l.waited[name] += time.Since(began)
		l.mu.Unlock()
	}()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now()
		l.mu.Lock()
		at, changed := l.pausedUntil, l.changed
		l.mu.Unlock()
		if !at.After(now) {
			var ok bool
			if at, ok = grant(now, a, l.all); ok {
				return nil
			}
		}
		t := time.NewTimer(at.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-changed:
			t.Stop()
		case <-t.C:
		}
	}
}

// grant takes a call from every limiter when all of them allow one now;
// otherwise it reports the earliest time worth asking again.
func grant(now time.Time, ps ...*apiLimit) (time.Time, bool) {
	for _, p := range ps {
		p.mu.Lock()
	}
	defer func() {
		for _, p := range ps {
			p.mu.Unlock()
		}
	}()
	next := now
	for _, p := range ps {
		if t := p.readyLocked(now); t.After(next) {
			next = t
		}
	}
	if next.After(now) {
		return next, false
	}
	for _, p := range ps {
		p.sentLocked(now)
	}
	return now, true
}

// throttled records a 429/APIG.0308 on API name: the whole client pauses for
// retryAfter (or defaultPause) and that API's rate is cut.
func (l *limits) throttled(name string, retryAfter time.Duration, now time.Time) {
	pause := retryAfter
	if pause <= 0 {
		pause = defaultPause
	}
	pause = min(pause, maxPause)
	l.mu.Lock()
	if until := now.Add(pause); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	l.mu.Unlock()
	l.api(name).decrease(now)
}

// succeeded is the additive step after a successful call of API name.
func (l *limits) succeeded(name string, now time.Time) {
	if l.api(name).increase(now) {
		l.wake()
	}
}

// observe reads the gateway's headers on an answer to a call of API name
// sent at sent and received at recv.
func (l *limits) observe(name string, h http.Header, sent, recv time.Time) {
	more := false
	if v := h.Get(headerAPI); v != "" {
		more = l.api(name).observeAt(v, sent, recv) || more
	}
	if v := h.Get(headerAllEnv); v != "" {
		more = l.all.observeAt(v, sent, recv) || more
	}
	if more {
		l.wake()
	}
}

// wake makes every waiter look at the limiters again.
func (l *limits) wake() {
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// rate is what API name is granted now: the lower of its limiter and the
// all-APIs limiter.
func (l *limits) rate(name string) float64 {
	a, ok := l.apis[name]
	if !ok {
		return 0
	}
	now := time.Now()
	return math.Min(a.rateAt(now), l.all.rateAt(now))
}

func (l *limits) waitedCopy() map[string]time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]time.Duration, len(l.waited))
	for k, v := range l.waited {
		m[k] = v
	}
	return m
}

// apiLimit paces the calls of one API (or of all APIs together) at the lowest
// of: the ceiling (Config.Rate), the start rate until the gateway has said
// anything, the rate learnt from 429s (cut by half, then raised in time),
// and what the gateway's quota header allows.
//
// The header ("remain:R,limit:L,time:W") says that L calls are allowed per
// window W to this caller, and that R are left in the current window. The
// window's start is not said: the client takes the first answer it sees as a
// window's start and, once it has seen remain jump up (a new window), that
// moment; both are never earlier than the true start, so the window's end it
// expects is never earlier than the true end. It then paces at
//
//	min(headerMargin*L/W, (R' - reserve) / time left in the window)
//
// where R' is R less its own calls sent since the call that reported R, and
// reserve is what other callers of the same quota (the other shards of a job,
// which it cannot see) are expected to take before its next look at R:
// reserveFactor times the calls others made per call of its own since the
// window began. When R' - reserve falls below one call, it sends nothing more
// until the window's end. Several processes pacing themselves this way
// together spend the quota early in the window and stay under it, without
// knowing of each other.
type apiLimit struct {
	mu      sync.Mutex
	ceiling float64 // Config.Rate: never exceeded (+Inf: none)
	start   float64 // before the gateway has said anything
	aimd    float64 // cut on throttling, raised on success (+Inf: never cut)
	lastCut time.Time
	cutFrom float64 // the rate when the last 429 came (0: none yet)
	lastInc time.Time
	last    time.Time   // the last call's slot in the schedule
	slot    time.Time   // the slot readyLocked found for the next call
	sends   []time.Time // our recent sends, oldest first
	q       quota
}

// quota is what the client knows of the gateway's current window.
type quota struct {
	known  bool
	limit  int
	window time.Duration
	begin  time.Time // the window's start, never before the true one
	// remain is the lowest remain reported in this window (the gateway's
	// latest count), by the call sent at remSent.
	remain  int
	remSent time.Time
	// first is the first report in this window, by the call sent at
	// firstSent (-1: none yet).
	first     int
	firstSent time.Time
}

func newPacer(ceiling, start float64) *apiLimit {
	return &apiLimit{ceiling: ceiling, start: start, aimd: math.Inf(1)}
}

// newAPILimit is a limiter with a ceiling of rate requests/s.
func newAPILimit(rate float64) *apiLimit { return newPacer(rate, rate) }

// Limit is the rate the limiter currently grants, per second (not counting a
// wait for the window's end).
func (a *apiLimit) Limit() float64 { return a.rateAt(time.Now()) }

func (a *apiLimit) rateAt(now time.Time) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, _ := a.paceLocked(now)
	return r
}

func (a *apiLimit) floor() float64 { return math.Min(a.ceiling, minFloor) }

// paceLocked is the rate granted now and, when the window's quota is spent,
// the window's end (else the zero time).
func (a *apiLimit) paceLocked(now time.Time) (float64, time.Time) {
	r := math.Min(a.ceiling, a.aimd)
	if !a.q.known {
		return math.Max(math.Min(r, a.start), a.floor()), time.Time{}
	}
	q := &a.q
	a.rollLocked(now)
	w := q.window.Seconds()
	r = math.Min(r, headerMargin*float64(q.limit)/w)
	end := q.begin.Add(q.window)
	avail := float64(q.remain-a.countLocked(q.remSent)) - a.reserveLocked()
	if avail < 1 {
		return math.Max(r, a.floor()), end
	}
	left := math.Max(end.Sub(now).Seconds(), w/1000)
	return math.Max(math.Min(r, avail/left), a.floor()), time.Time{}
}

// reserveLocked is the number of calls left unused in the window for the
// other callers of the quota.
func (a *apiLimit) reserveLocked() float64 {
	q := &a.q
	if q.first < 0 || !q.remSent.After(q.firstSent) {
		return 0
	}
	own := a.countLocked(q.firstSent) - a.countLocked(q.remSent) // after the first report, up to the latest
	others := q.first - q.remain - own
	if others <= 0 {
		return 0
	}
	return math.Min(math.Ceil(reserveFactor*float64(others)/float64(max(own, 1))), float64(q.limit)/4)
}

// countLocked counts our sends after t.
func (a *apiLimit) countLocked(t time.Time) int {
	n := 0
	for i := len(a.sends) - 1; i >= 0 && a.sends[i].After(t); i-- {
		n++
	}
	return n
}

// rollLocked moves the window forward when its expected end has passed: the
// next one starts with the whole limit.
func (a *apiLimit) rollLocked(now time.Time) {
	q := &a.q
	if now.Before(q.begin.Add(q.window)) {
		return
	}
	n := now.Sub(q.begin) / q.window
	q.begin = q.begin.Add(n * q.window)
	q.remain, q.remSent = q.limit, q.begin
	q.first, q.firstSent = -1, time.Time{} // no report yet in this window
}

// readyLocked is the earliest time the limiter grants the next call.
func (a *apiLimit) readyLocked(now time.Time) time.Time {
	r, until := a.paceLocked(now)
	if until.After(now) {
		return until
	}
	a.slot = time.Time{}
	if a.last.IsZero() || math.IsInf(r, 1) {
		return now
	}
	gap := secondsDuration(1 / r)
	next := a.last.Add(gap)
	if next.Before(now) {
		// Behind the schedule (a timer, a busy machine, callers that
		// were slow to come back): the calls that follow keep to it,
		// catching up at most catchUp calls, or with a ceiling, less
		// than one (a ceiling holds over any second, give or take one
		// call).
		behind := time.Duration(catchUp) * gap
		if !math.IsInf(a.ceiling, 1) {
			behind = gap
		}
		if now.Sub(next) < behind {
			a.slot = next
		}
		return now
	}
	a.slot = next
	return next
}

func (a *apiLimit) sentLocked(t time.Time) {
	a.last = t
	if !a.slot.IsZero() && a.slot.Before(t) {
		a.last = a.slot
	}
	a.slot = time.Time{}
	if len(a.sends) >= maxSendLog {
		a.sends = append(a.sends[:0], a.sends[len(a.sends)/2:]...)
	}
	a.sends = append(a.sends, t)
}

// sent records a call sent at t.
func (a *apiLimit) sent(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sentLocked(t)
}

// decrease halves the API's rate (at most once a second: a burst of 429s from
// calls that were already in flight is one signal, not many).
func (a *apiLimit) decrease(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastCut) < time.Second {
		return
	}
	a.lastCut, a.lastInc = now, now
	a.cutFrom, _ = a.paceLocked(now)
	a.aimd = math.Max(a.floor(), a.cutFrom/2)
}

// increase is the additive step after a successful call. It is measured in
// time, not in calls (a fast client would otherwise climb back within a
// moment): back to the rate of the last 429 in recoverTime, then slower, up
// to the ceiling or, without one, until nothing is cut any more. It reports
// whether the rate rose.
func (a *apiLimit) increase(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if math.IsInf(a.aimd, 1) || a.aimd >= a.ceiling {
		return false
	}
	dt := math.Min(now.Sub(a.lastInc).Seconds(), 1)
	a.lastInc = now
	if dt <= 0 {
		return false
	}
	step := a.cutFrom / 2 / recoverTime.Seconds() // per second
	if a.aimd >= a.cutFrom {
		step /= 5
	}
	step = math.Max(step, a.floor()/recoverTime.Seconds())
	a.aimd = math.Min(a.ceiling, a.aimd+step*dt)
	if a.aimd >= 2*a.cutFrom && math.IsInf(a.ceiling, 1) {
		a.aimd = math.Inf(1) // well past the cut: no longer a limit
	}
	return true
}

// observe reads a header received now for a call sent now (tests).
func (a *apiLimit) observe(v string, now time.Time) { a.observeAt(v, now, now) }

// observeAt reads the gateway's header "remain:R,limit:L,time:W" on the
// answer to a call sent at sent and received at recv. It reports whether the
// limiter may now grant more than before.
func (a *apiLimit) observeAt(v string, sent, recv time.Time) bool {
	rl, ok := parseRateLimit(v)
	if !ok {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	before, beforeUntil := a.paceLocked(recv)
	remain := rl.Remain
	if remain < 0 {
		remain = rl.Limit // no remain: assume the whole limit is ours
	}
	remain = min(remain, rl.Limit)
	q := &a.q
	switch {
	case !q.known || q.limit != rl.Limit || q.window != rl.Window:
		*q = quota{known: true, limit: rl.Limit, window: rl.Window, begin: recv,
			remain: remain, remSent: sent, first: remain, firstSent: sent}
	default:
		a.rollLocked(recv)
		if sent.Before(q.begin) {
			// Sent before the window began (as far as we know): it may
			// have been counted in the previous one.
			return false
		}
		if remain > q.remain+max(2, q.limit/10) {
			// A new window, earlier than expected. It began before this
			// answer: from now on windows are expected to start a whole
			// number of windows after it.
			q.begin = recv
			q.remain, q.remSent = remain, sent
			q.first, q.firstSent = remain, sent
		} else if remain < q.remain {
			q.remain, q.remSent = remain, sent
		}
		if q.first < 0 {
			q.first, q.firstSent = remain, sent
		}
	}
	after, afterUntil := a.paceLocked(recv)
	return after > before || afterUntil.Before(beforeUntil)
}

// rateLimit is a parsed X-APIG-Ratelimit-Api header.
type rateLimit struct {
	Remain int // -1 when absent
	Limit  int
	Window time.Duration
}

// parseRateLimit parses "remain:99,limit:100,time:1 minute". It reports false
// unless limit and time are present and positive.
func parseRateLimit(v string) (rateLimit, bool) {
	rl := rateLimit{Remain: -1}
	if v == "" || len(v) > 256 {
		return rl, false
	}
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(part, ":")
		if !ok {
			continue
		}
		k, val = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val)
		switch k {
		case "remain":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				continue
			}
			rl.Remain = n
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return rl, false
			}
			rl.Limit = n
		case "time":
			d, err := parseWindow(val)
			if err != nil {
				return rl, false
			}
			rl.Window = d
		}
	}
	if rl.Limit <= 0 || rl.Window <= 0 {
		return rl, false
	}
	return rl, true
}

// secondsDuration is s seconds as a Duration, saturating at the longest
// one (and 0 for NaN or s <= 0): converting a float64 out of the int64
// range is not defined in Go (on amd64 it gives the most negative
// Duration, which a pacer would read as "no wait at all").
func secondsDuration(s float64) time.Duration {
	switch {
	case !(s > 0):
		return 0
	case s >= float64(math.MaxInt64/int64(time.Second)): // whole seconds: the product cannot round past the range
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

// parseWindow reads "1 minute", "1 second", "10 second", "10 seconds",
// "1 hour", "1 day" (also without the number, or as a Go duration like "1m").
func parseWindow(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	num, unit, found := strings.Cut(s, " ")
	if !found {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d, nil
		}
		num, unit = "1", s
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 || n > 1e6 {
		return 0, errors.New("bad window count")
	}
	var u time.Duration
	switch strings.TrimSuffix(strings.TrimSpace(unit), "s") {
	case "second", "sec":
		u = time.Second
	case "minute", "min":
		u = time.Minute
	case "hour":
		u = time.Hour
	case "day":
		u = 24 * time.Hour
	default:
		return 0, errors.New("bad window unit")
	}
	if time.Duration(n) > math.MaxInt64/u {
		return 0, errors.New("window too long")
	}
	return time.Duration(n) * u, nil
}
