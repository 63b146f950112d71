package export

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The APIs that have limiters: the gateway counts calls per API.
var apiNames = []string{"auth", "details", "downloadurls", "recordinfo", "list", "delete", "history", "historydetail", "attendees", "ctlrecords"}

// The gateway's response headers: the API's quota for the caller (per
// minute, typically), and the API's per-second limit.
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
	// leaves in a fixed window: its own view of remain is that old.
	reserveFactor = 2
	// recoverTime is how long the additive increase takes to climb from
	// the cut back to the rate at which the last 429 came; beyond it the
	// rate probes upwards five times slower.
	recoverTime = 10 * time.Second
	// cutLow and cutHigh bound the multiplicative decrease on a 429: the
	// rate is multiplied by a factor drawn between them, so that processes
	// throttled together do not come back in lockstep.
	cutLow, cutHigh = 0.5, 0.7
	// pauseJitter is the most a throttled client lengthens its pause by (a
	// share of it), for the same reason.
	pauseJitter = 0.25
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
	// maxObs bounds the per-limiter log of observations.
	maxObs = 64
	// minFloor is the slowest rate a limiter is ever set to (one call a
	// minute), unless the quota says none is left.
	minFloor = 1.0 / 60
	// shortWindow: a quota of a window shorter than this (a per-second
	// limit) is taken to refill continuously until a step says otherwise,
	// and its share starts at a quarter of its rate: several processes that
	// start together would empty it before their first answers told them of
	// each other. A longer window is taken to be fixed until two comebacks
	// within it say otherwise: its quota holds enough for the fixed-window
	// pacing to find out about the others in time.
	shortWindow = 2 * time.Second
	// flowSpan is the shortest span over which a continuous quota's
	// consumption is measured (and so how often the share is adjusted).
	flowSpan = 500 * time.Millisecond
	// flowGain is the exponent of the share's adjustment (1 would correct
	// the whole measured excess at once; less damps the correction of
	// processes that all adjust at about the same time).
	flowGain = 0.5
	// flowStepMax bounds one decrease of the share.
	flowStepMax = 1.5
)

// limits holds the limiters of every API and the client-wide pause.
//
// Each API (details, downloadurls, recordinfo, list, delete, auth, history,
// historydetail, attendees, ctlrecords) has two limiters shared by all
// goroutines: one for its quota (X-APIG-Ratelimit-Api, per minute as a
// rule), one for its per-second limit (X-APIG-Ratelimit-Api-Allenv; a
// gateway that shares it among APIs shows as other callers taking from
// it). Config.Rate is RateAuto (start at DefaultRate until the gateway says
// more) or a ceiling never passed. Each limiter follows its header (see
// apiLimit). On a 429 or APIG.0308 the whole client pauses together until
// Retry-After (or one second) has passed, lengthened by up to a quarter at
// random, and that API's rate is cut to 0.5-0.7 of what it was granted (at
// random, at most once a second), so that processes throttled together do
// not come back in lockstep; it then climbs back in time, not per call.
type limits struct {
	// Both fixed after newLimits: read without lock.
	apis map[string]*apiLimit // X-APIG-Ratelimit-Api: the API's quota
	envs map[string]*apiLimit // X-APIG-Ratelimit-Api-Allenv: the API's per-second limit

	mu          sync.Mutex
	pausedUntil time.Time
	changed     chan struct{} // closed (and replaced) when a limiter may allow more
	waited      map[string]time.Duration
	waiting     map[string]int // calls in wait now, per API
	jitter      func() float64 // uniform in [0, 1): rand.Float64 (tests replace it)
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
		envs:    make(map[string]*apiLimit, len(apiNames)),
		changed: make(chan struct{}),
		waited:  make(map[string]time.Duration),
		waiting: make(map[string]int),
		jitter:  rand.Float64,
	}
	for _, n := range apiNames {
		l.apis[n] = newPacer(ceiling, start)
		l.envs[n] = newPacer(math.Inf(1), math.Inf(1))
	}
	return l
}

func (l *limits) api(name string) (quota, perSecond *apiLimit) {
	a, ok := l.apis[name]
	if !ok {
		panic("export: no limiter for " + name) // programming error: apiNames is fixed
	}
	return a, l.envs[name]
}

// wait blocks until the client is not paused and both limiters of the API
// grant a call; it then records the send. It is the only gate in front of
// every API request.
func (l *limits) wait(ctx context.Context, name string) error {
	a, e := l.api(name)
	began := time.Now()
	l.mu.Lock()
	l.waiting[name]++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.waited[name] += time.Since(began)
		l.waiting[name]--
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
			if at, ok = grant(now, a, e); ok {
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
// retryAfter (or defaultPause), lengthened by a random share of up to
// pauseJitter, and the API's rate is cut by a random factor between cutLow
// and cutHigh.
func (l *limits) throttled(name string, retryAfter time.Duration, now time.Time) {
	pause := retryAfter
	if pause <= 0 {
		pause = defaultPause
	}
	l.mu.Lock()
	pause = min(time.Duration(float64(pause)*(1+pauseJitter*l.jitter())), maxPause)
	factor := cutLow + (cutHigh-cutLow)*l.jitter()
	if until := now.Add(pause); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	l.mu.Unlock()
	a, e := l.api(name)
	// The cut is of what the API was granted: the lower of its limiters.
	granted := math.Min(a.rateAt(now), e.rateAt(now))
	a.decrease(now, granted, factor)
	e.decrease(now, granted, factor)
}

// expectedWait is how long a call of API name would wait now: until the
// client's pause ends and its limiters' next slot, plus a slot for each
// call already waiting.
func (l *limits) expectedWait(name string, now time.Time) time.Duration {
	a, e := l.api(name)
	l.mu.Lock()
	at, queue := l.pausedUntil, l.waiting[name]
	l.mu.Unlock()
	rate := math.Inf(1)
	for _, p := range []*apiLimit{a, e} {
		p.mu.Lock()
		if t := p.nextLocked(now); t.After(at) {
			at = t
		}
		r, _ := p.paceLocked(now)
		rate = math.Min(rate, r)
		p.mu.Unlock()
	}
	wait := max(at.Sub(now), 0)
	if queue > 0 && !math.IsInf(rate, 1) {
		wait += time.Duration(float64(queue) / rate * float64(time.Second))
	}
	return wait
}

// known reports whether the gateway has told API name's quota.
func (l *limits) known(name string) bool {
	a, _ := l.api(name)
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.q.known
}

// succeeded is the additive step after a successful call of API name.
func (l *limits) succeeded(name string, now time.Time) {
	a, e := l.api(name)
	if up := a.increase(now); e.increase(now) || up {
		l.wake()
	}
}

// observe reads the gateway's headers on an answer to a call of API name
// sent at sent and received at recv; counted is false for an answer that
// refused the call (a 429), which took nothing from the quota.
func (l *limits) observe(name string, h http.Header, sent, recv time.Time, counted bool) {
	a, e := l.api(name)
	more := false
	if v := h.Get(headerAPI); v != "" {
		more = a.observeAt(v, sent, recv, counted) || more
	}
	if v := h.Get(headerAllEnv); v != "" {
		more = e.observeAt(v, sent, recv, counted) || more
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

// rate is what API name is granted now: the lower of its limiters.
func (l *limits) rate(name string) float64 {
	a, ok := l.apis[name]
	if !ok {
		return 0
	}
	now := time.Now()
	return math.Min(a.rateAt(now), l.envs[name].rateAt(now))
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

// apiLimit paces the calls of one API against one of the gateway's limits
// (the quota of X-APIG-Ratelimit-Api, or the per-second limit of
// X-APIG-Ratelimit-Api-Allenv) at the lowest of: the ceiling (Config.Rate),
// the start rate until the gateway has said anything, the rate learnt from
// 429s (cut by a random factor, then raised in time), and what the
// gateway's header allows.
//
// The header ("remain:R,limit:L,time:W") says that L calls are allowed per
// window W to this caller, and that R are left now. It does not say how a
// spent quota comes back, nor how much of it other callers (the other
// shards of a job, on this machine or another) take: the limiter learns
// both from how R moves against its own calls.
//
// How the quota comes back. A call answered before another was sent was
// counted before it: with fixed windows, the later one's remain is lower by
// at least our calls counted in between, unless a new window began. Each
// time remain is higher than that, the quota came back in between: by more
// than the quota's rate could refill in that time, it came back all at once
// (fixed windows); a second comeback within 0.9 W of the first, which no
// fixed windows of that size can give, means it refills continuously (a
// token bucket). Until the answers show either, the limiter takes a quota
// of a window of at least shortWindow to be fixed (the cautious reading:
// nothing comes back before the window's end) and a per-second limit to
// refill continuously (the cautious reading there: several processes
// starting together could empty a small bucket before any comeback shows).
//
// Fixed windows. The window's start is not said: the client takes the
// first answer it sees as a window's start and, once it has seen remain jump
// up (a new window), that moment; both are never earlier than the true
// start, so the window's end it expects is never earlier than the true end.
// It then paces at
//
//	min(headerMargin*L/W, (R' - reserve) / time left in the window)
//
// where R' is R less its own calls sent since the call that reported R, and
// reserve is what the other callers are expected to take before its next
// look at R: reserveFactor times the calls others made per call of its own
// since the window began. When R' - reserve falls below one call, it sends
// nothing more until the window's end.
//
// Continuous refill. Over each flowSpan the limiter measures what all the
// callers together took (L/W per second less what R gained; only its own
// calls if the quota stayed full) and its own part of it, and compares the
// total with a target: headerMargin*L/W, plus L/W times how far the quota
// is above half full (its size: the most remain seen plus one, at least one
// second's refill), minus as much below. Above the target, it scales what
// it took by (target/total)^flowGain (at most flowStepMax down); below, its
// share by the same power (at most doubling per flowSpan). All the callers
// see the same quota and scale by about the same factor, so together they
// settle at the target whatever their number, without knowing of each
// other. A share never falls below 1/32 of L/W (a share measured too seldom
// could not grow back in time) nor stays above twice what the client uses.
// Between answers the limiter expects the quota to hold R, plus the refill
// less what the others take since R was reported, less its own calls since:
// below one call (plus a reserve of one in quotas of more than four) it
// waits for the refill.
//
// A per-second limit starts at a quarter of its rate: its share then grows
// as the answers show room for it.
type apiLimit struct {
	mu      sync.Mutex
	ceiling float64 // Config.Rate: never exceeded (+Inf: none)
	start   float64 // before the gateway has said anything
	aimd    float64 // cut on throttling, raised on success (+Inf: never cut)
	lastCut time.Time
	cutFrom float64 // the rate granted when the last 429 came (0: none yet)
	lastInc time.Time
	last    time.Time   // the last call's slot in the schedule
	slot    time.Time   // the slot readyLocked found for the next call
	sends   []time.Time // our recent sends, oldest first
	q       quota
	f       flow
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

// observation is one answer's remain.
type observation struct {
	sent, recv time.Time
	remain     int
	counted    bool // the call was not refused: it took one from the quota
}

// flow is what the answers say over time: how the quota comes back, and
// with continuous refill, the share this client takes of it.
type flow struct {
	obs    []observation // the latest answers, in the order received
	latest observation   // the one sent last
	// capacity is the most remain seen: the quota holds at least one more.
	capacity int
	// model is what the answers showed of how the quota comes back:
	// modelFixed (a step), modelContinuous (two comebacks within a
	// window), or modelUnknown.
	model int
	// The last comeback seen: after the call sent at riseFrom, before the
	// answer received at riseAt (zero: none yet).
	riseFrom, riseAt time.Time
	// Continuous refill: our share (calls/s; 0 until the first
	// measurement), what the other callers take (calls/s), and the send
	// time of the answer the share was last measured at.
	share, others float64
	measured      time.Time
}

// What the answers showed of how a quota comes back.
const (
	modelUnknown = iota
	modelFixed
	modelContinuous
)

func newPacer(ceiling, start float64) *apiLimit {
	return &apiLimit{ceiling: ceiling, start: start, aimd: math.Inf(1)}
}

// Limit is the rate the limiter currently grants, per second (not counting a
// wait for the quota to come back).
func (a *apiLimit) Limit() float64 { return a.rateAt(time.Now()) }

func (a *apiLimit) rateAt(now time.Time) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, _ := a.paceLocked(now)
	return r
}

func (a *apiLimit) floor() float64 { return math.Min(a.ceiling, minFloor) }

// modelLocked is how the limiter takes the quota to come back: "fixed",
// "continuous", or "" before any header.
func (a *apiLimit) modelLocked() string {
	switch {
	case !a.q.known:
		return ""
	case a.continuousLocked():
		return "continuous"
	}
	return "fixed"
}

// continuousLocked reports whether the limiter paces a continuous quota:
// one the answers showed to be, or a per-second limit they did not show to
// be fixed.
func (a *apiLimit) continuousLocked() bool {
	return a.f.model == modelContinuous || a.f.model == modelUnknown && a.q.window < shortWindow
}

// rho is the quota's average rate, calls/s.
func (a *apiLimit) rho() float64 { return float64(a.q.limit) / a.q.window.Seconds() }

// paceLocked is the rate granted now and, when the quota has no call for us
// now, the time it is expected to have one (else the zero time).
func (a *apiLimit) paceLocked(now time.Time) (float64, time.Time) {
	r := math.Min(a.ceiling, a.aimd)
	if !a.q.known {
		return math.Max(math.Min(r, a.start), a.floor()), time.Time{}
	}
	rho := a.rho()
	r = math.Min(r, headerMargin*rho)
	if a.continuousLocked() {
		if a.f.share > 0 {
			r = math.Min(r, a.f.share)
		}
		need := 1.0
		if a.sizeLocked() > 4 {
			need = 2 // a reserve of one call for what we could not see
		}
		if lv := a.levelLocked(now); lv < need {
			return math.Max(r, a.floor()), now.Add(secondsDuration((need - lv) / a.netRefill()))
		}
		return math.Max(r, a.floor()), time.Time{}
	}
	q := &a.q
	a.rollLocked(now)
	w := q.window.Seconds()
	end := q.begin.Add(q.window)
	avail := float64(q.remain-a.countLocked(q.remSent)) - a.reserveLocked()
	if avail < 1 {
		return math.Max(r, a.floor()), end
	}
	left := math.Max(end.Sub(now).Seconds(), w/1000)
	return math.Max(math.Min(r, avail/left), a.floor()), time.Time{}
}

// netRefill is what a continuous quota is expected to gain per second for
// us: the refill less what the other callers take, at least a tenth of the
// refill (else a client that believes the others take it all would never
// look again).
func (a *apiLimit) netRefill() float64 {
	rho := a.rho()
	return math.Max(rho-a.f.others, rho/10)
}

// sizeLocked is how many calls the quota holds when full: one more than
// the most remain seen (the call that saw it took one), and at least one
// second's refill (or the whole limit, if less): a caller that joins while
// others keep the quota low must not take the little it sees for full.
func (a *apiLimit) sizeLocked() float64 {
	return math.Max(float64(a.f.capacity+1), math.Min(float64(a.q.limit), math.Ceil(a.rho())))
}

// levelLocked is how many calls a continuous quota is expected to hold now
// for our next call: the remain last reported, plus the net refill since,
// at most the quota's capacity, less our calls
// sent since.
func (a *apiLimit) levelLocked(now time.Time) float64 {
	f := &a.f
	lv := float64(f.latest.remain) + a.netRefill()*now.Sub(f.latest.sent).Seconds()
	lv = math.Min(lv, a.sizeLocked())
	return lv - float64(a.countLocked(f.latest.sent))
}

// reserveLocked is the number of calls left unused in a fixed window for
// the other callers of the quota.
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

// rollLocked moves a fixed window forward when its expected end has
// passed: the next one starts with the whole limit.
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
		// Waiting for the quota: the schedule starts afresh after it,
		// without a burst to catch up.
		a.last = time.Time{}
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

// nextLocked is when the limiter would grant the next call, as readyLocked
// finds it, without changing the schedule.
func (a *apiLimit) nextLocked(now time.Time) time.Time {
	r, until := a.paceLocked(now)
	if until.After(now) {
		return until
	}
	if a.last.IsZero() || math.IsInf(r, 1) {
		return now
	}
	if next := a.last.Add(time.Duration(float64(time.Second) / r)); next.After(now) {
		return next
	}
	return now
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

// decrease is the multiplicative step on a 429: the rate becomes factor
// times granted, what the API was granted when it came (at most once a
// second: a burst of 429s from calls that were already in flight is one
// signal, not many).
func (a *apiLimit) decrease(now time.Time, granted, factor float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.lastCut) < time.Second {
		return
	}
	a.lastCut, a.lastInc = now, now
	if a.continuousLocked() && a.f.share > 0 {
		// The share is the rate that adapts (and climbs back as the
		// answers show room again).
		a.f.share = math.Max(a.floor(), math.Min(a.f.share, granted)*factor)
		return
	}
	a.cutFrom = granted
	a.aimd = math.Max(a.floor(), granted*factor)
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

// observeAt reads the gateway's header "remain:R,limit:L,time:W" on the
// answer to a call sent at sent and received at recv (counted: the call was
// not refused). It reports whether the limiter may now grant more than
// before.
func (a *apiLimit) observeAt(v string, sent, recv time.Time, counted bool) bool {
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
	k := observation{sent: sent, recv: recv, remain: remain, counted: counted}
	q := &a.q
	if !q.known || q.limit != rl.Limit || q.window != rl.Window {
		*q = quota{known: true, limit: rl.Limit, window: rl.Window, begin: recv,
			remain: remain, remSent: sent, first: remain, firstSent: sent}
		a.f = flow{}
		if a.continuousLocked() {
			a.f.share = headerMargin * a.rho() / 4
		}
	} else {
		was := a.continuousLocked()
		if m := a.evidenceLocked(k); m != modelUnknown {
			a.f.model = m
		}
		if !was && a.continuousLocked() {
			a.f.share = before // from the rate granted so far
		}
		a.windowLocked(k)
	}
	a.f.capacity = max(a.f.capacity, remain)
	if len(a.f.obs) >= maxObs {
		a.f.obs = append(a.f.obs[:0], a.f.obs[len(a.f.obs)-maxObs/2:]...)
	}
	a.f.obs = append(a.f.obs, k)
	if !sent.Before(a.f.latest.sent) {
		a.f.latest = k
	}
	if a.continuousLocked() {
		a.shareLocked(k)
	}
	after, afterUntil := a.paceLocked(recv)
	return after > before || afterUntil.Before(beforeUntil)
}

// windowLocked follows the fixed window with the answer k.
func (a *apiLimit) windowLocked(k observation) {
	q := &a.q
	a.rollLocked(k.recv)
	if k.sent.Before(q.begin) {
		// Sent before the window began (as far as we know): it may
		// have been counted in the previous one.
		return
	}
	if k.remain > q.remain+max(2, q.limit/10) {
		// A new window, earlier than expected. It began before this
		// answer: from now on windows are expected to start a whole
		// number of windows after it.
		q.begin = k.recv
		q.remain, q.remSent = k.remain, k.sent
		q.first, q.firstSent = k.remain, k.sent
	} else if k.remain < q.remain {
		q.remain, q.remSent = k.remain, k.sent
	}
	if q.first < 0 {
		q.first, q.firstSent = k.remain, k.sent
	}
}

// evidenceLocked looks at how the quota came back between the latest answer
// received before k was sent and k itself. A comeback larger than the
// quota's rate could refill in that time is a step: modelFixed. The second
// comeback within 0.9 of a window of the first, which no fixed windows of
// that size can give, is modelContinuous. Otherwise modelUnknown: nothing
// new.
func (a *apiLimit) evidenceLocked(k observation) int {
	f := &a.f
	ji := -1
	for i := len(f.obs) - 1; i >= 0; i-- {
		if f.obs[i].recv.Before(k.sent) {
			ji = i
			break
		}
	}
	if ji < 0 {
		return modelUnknown
	}
	j := &f.obs[ji]
	// Our calls counted after j and before k: sent after j's answer, answered
	// before k was sent.
	n := 0
	for i, o := range f.obs {
		if i != ji && o.counted && !o.sent.Before(j.recv) && o.recv.Before(k.sent) {
			n++
		}
	}
	took := 0
	if k.counted {
		took = 1
	}
	// What came back between j and k (at least; others may have taken
	// some of it).
	back := k.remain + took - (j.remain - n)
	if back <= 0 {
		return modelUnknown // what was taken explains it
	}
	// The gateway counted j and k within (j.sent, k.recv): a continuous
	// refill gives at most that times the rate (plus a call for the
	// rounding of remain).
	if float64(back) > a.rho()*k.recv.Sub(j.sent).Seconds()+2 {
		f.riseFrom, f.riseAt = j.sent, k.recv
		return modelFixed
	}
	second := !f.riseAt.IsZero() && !j.sent.Before(f.riseAt)
	if second && k.recv.Sub(f.riseFrom) < a.q.window*9/10 {
		return modelContinuous
	}
	if f.riseAt.IsZero() || second {
		f.riseFrom, f.riseAt = j.sent, k.recv
	}
	return modelUnknown
}

// shareLocked adjusts our share of a continuous quota with the answer k,
// once per flowSpan of sends.
func (a *apiLimit) shareLocked(k observation) {
	f := &a.f
	if k.sent.Sub(f.measured) < flowSpan {
		return
	}
	// j: the answer sent last at least flowSpan before k.
	var j *observation
	for i := range f.obs {
		o := &f.obs[i]
		if k.sent.Sub(o.sent) >= flowSpan && (j == nil || o.sent.After(j.sent)) {
			j = o
		}
	}
	if j == nil {
		return
	}
	dt := k.sent.Sub(j.sent).Seconds()
	rho := a.rho()
	own := float64(a.countLocked(j.sent)-a.countLocked(k.sent)) / dt
	// What everyone took: the refill less what remain gained; unless the
	// quota was full at both ends, which hid the refill nobody took: then
	// as far as we can tell, only what we took.
	total := own
	size := a.sizeLocked()
	if full := int(size) - 2; k.remain < full || j.remain < full {
		total = math.Max(total, (rho*dt-float64(k.remain-j.remain))/dt)
	}
	total = math.Max(total, rho/20)
	fill := math.Max(0, math.Min(1, (float64(k.remain)+1)/size))
	target := math.Max(rho*(headerMargin+fill-0.5), rho/20)
	share := f.share
	if share <= 0 {
		share = math.Max(own, a.floor())
	}
	if step := math.Pow(target/total, flowGain); total > target {
		// Too much: every caller scales what it took down by the same
		// factor, the larger ones by more.
		share = math.Min(share, math.Max(own, a.floor())) * math.Max(1/flowStepMax, step)
	} else {
		// Room: every caller scales its share up by the same factor
		// (at most doubling per flowSpan).
		share *= math.Min(math.Pow(2, dt/flowSpan.Seconds()), step)
	}
	// None is starved: a share that fell to almost nothing would be
	// measured too seldom to grow again in time.
	share = math.Max(share, headerMargin*rho/32)
	// A client that uses less than its share keeps at most twice what it
	// uses (and an eighth of the quota), not a claim it may spend at once.
	share = math.Min(share, math.Max(2*own, headerMargin*rho/8))
	f.share = math.Max(a.floor(), math.Min(share, headerMargin*rho))
	f.others = math.Max(0, total-own)
	f.measured = k.sent
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
