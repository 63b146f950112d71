package export

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// The APIs that have a limiter each: the gateway counts calls per API.
var apiNames = []string{"auth", "details", "downloadurls", "recordinfo", "list", "delete"}

const (
	// headerMargin is the share of the gateway's advertised limit the client
	// plans to use, so that network jitter does not push two calls into one
	// window slot.
	headerMargin = 0.95
	// recoverTime is how long the additive increase takes to climb from
	// half back to the rate at which the last 429 came; beyond it the rate
	// probes upwards five times slower.
	recoverTime = 10 * time.Second
	// defaultPause is how long the whole client pauses on a throttled answer
	// without Retry-After.
	defaultPause = time.Second
	// maxPause caps a pause asked for by Retry-After.
	maxPause = 5 * time.Minute
	// maxSendLog bounds the per-API log of send times.
	maxSendLog = 4096
)

// limits holds the per-API limiters and the client-wide pause.
type limits struct {
	mu          sync.Mutex
	pausedUntil time.Time
	apis        map[string]*apiLimit // fixed after newLimits: read without lock
}

func newLimits(ceiling float64) *limits {
	l := &limits{apis: make(map[string]*apiLimit, len(apiNames))}
	for _, n := range apiNames {
		l.apis[n] = newAPILimit(ceiling)
	}
	return l
}

func (l *limits) api(name string) *apiLimit {
	if a, ok := l.apis[name]; ok {
		return a
	}
	panic("export: no limiter for " + name) // programming error: apiNames is fixed
}

// wait blocks until the client is not paused and the API's limiter grants a
// call. It is the only gate in front of every API request.
func (l *limits) wait(ctx context.Context, name string) error {
	a := l.api(name)
	for {
		if d := time.Until(l.paused()); d > 0 {
			if err := Sleep(ctx, d); err != nil {
				return err
			}
			continue
		}
		if err := a.lim.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// The wait would outlast ctx's deadline.
			return fmt.Errorf("waiting for the %s rate limiter: %w", name, context.DeadlineExceeded)
		}
		// A throttled answer may have paused the client while we waited for
		// our turn: then wait again, for the pause and a fresh turn.
		if time.Until(l.paused()) <= 0 {
			a.sent(time.Now())
			return nil
		}
	}
}

func (l *limits) paused() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pausedUntil
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

// apiLimit is one API's limiter and what the client has learnt about it.
type apiLimit struct {
	lim *rate.Limiter

	mu      sync.Mutex
	ceiling float64     // Config.Rate: never exceeded
	aimd    float64     // cut on throttling, raised on success
	header  float64     // the gateway's advertised share per second (0 unknown)
	lastCut time.Time   // decreases are at most one a second
	cutFrom float64     // the rate when the last 429 came (0: none yet)
	lastInc time.Time   // when aimd was last raised
	sends   []time.Time // our own recent sends (for the gateway's remain)
}

func newAPILimit(ceiling float64) *apiLimit {
	return &apiLimit{
		lim:     rate.NewLimiter(rate.Limit(ceiling), 1),
		ceiling: ceiling,
		aimd:    ceiling,
	}
}

// Limit is the rate the API's limiter currently grants, per second.
func (a *apiLimit) Limit() float64 { return float64(a.lim.Limit()) }

func (a *apiLimit) floor() float64 { return math.Min(a.ceiling, 1.0/60) }

// applyLocked sets the limiter to min(ceiling, aimd, header).
func (a *apiLimit) applyLocked() {
	r := math.Min(a.ceiling, a.aimd)
	if a.header > 0 {
		r = math.Min(r, a.header)
	}
	r = math.Max(r, a.floor())
	if rate.Limit(r) != a.lim.Limit() {
		a.lim.SetLimit(rate.Limit(r))
	}
}

func (a *apiLimit) sent(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.sends) >= maxSendLog {
		a.sends = append(a.sends[:0], a.sends[len(a.sends)/2:]...)
	}
	a.sends = append(a.sends, t)
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
	a.cutFrom = a.Limit()
	a.aimd = math.Max(a.floor(), a.cutFrom/2)
	a.applyLocked()
}

// increase is the additive step after a successful call. It is measured in
// time, not in calls (a fast client would otherwise climb back within a
// moment): back to the rate of the last 429 in recoverTime, then slower.
func (a *apiLimit) increase(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.aimd >= a.ceiling {
		return
	}
	dt := math.Min(now.Sub(a.lastInc).Seconds(), 1)
	a.lastInc = now
	if dt <= 0 {
		return
	}
	step := a.cutFrom / 2 / recoverTime.Seconds() // per second
	if a.aimd >= a.cutFrom {
		step /= 5
	}
	step = math.Max(step, a.floor()/recoverTime.Seconds())
	a.aimd = math.Min(a.ceiling, a.aimd+step*dt)
	a.applyLocked()
}

// observe reads the gateway's X-APIG-Ratelimit-Api header
// ("remain:R,limit:L,time:1 minute"). The gateway allows L calls per window W
// for this API and caller, and R are left. The calls the gateway has counted in
// the window but that are not ours belong to someone else sharing the quota
// (another process, a previous run): our share is what remains plus what we
// ourselves sent within the last window. The limiter runs at
// headerMargin*min(L, share)/W. With the quota to ourselves this is L/W
// whatever R says; when others eat into it, or the window still holds an
// earlier run's calls, remain runs low and the client spreads what is left
// over the window.
func (a *apiLimit) observe(v string, now time.Time) {
	rl, ok := parseRateLimit(v)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cut := now.Add(-rl.Window)
	i := 0
	for i < len(a.sends) && !a.sends[i].After(cut) {
		i++
	}
	a.sends = a.sends[i:]
	share := float64(rl.Limit)
	if rl.Remain >= 0 {
		share = math.Min(share, float64(rl.Remain)+float64(len(a.sends)))
	}
	share = math.Max(share, 1)
	a.header = headerMargin * share / rl.Window.Seconds()
	a.applyLocked()
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

// parseWindow reads "1 minute", "1 second", "10 seconds", "1 hour", "1 day"
// (also without the number, or as a Go duration like "1m").
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
	return time.Duration(n) * u, nil
}
