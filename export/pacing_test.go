package export

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// The pacing against both gateway models, in simulated time: processes of
// one app ID (each with its own limits, as separate shards would have)
// call one API through a model of the gateway, and the test checks what
// the limiters do, independently of how busy the machine running it is.

// simGateway is one API's limits for the caller: a quota of limit calls per
// window, either in fixed windows aligned to multiples of the window, or as
// a token bucket refilled continuously holding burst calls (shown per
// second in the Allenv header, the quota refilling as continuously in its
// own), and otherwise a per-second limit of 200, not enforced.
type simGateway struct {
	bucket bool
	limit  int
	window time.Duration
	burst  float64

	start time.Time // fixed: the current window
	used  int

	tokens, minute float64 // bucket: the burst bucket, the quota's
	env            float64 // fixed: the per-second limit's tokens
	last           time.Time

	throttled int
}

// call takes one call at now, if the limits allow it, and returns the two
// headers of the answer.
func (g *simGateway) call(now time.Time) (api, env string, ok bool) {
	rho := float64(g.limit) / g.window.Seconds()
	if g.last.IsZero() {
		g.last, g.tokens, g.minute, g.env = now, g.burst, float64(g.limit), 200
	}
	dt := now.Sub(g.last).Seconds()
	g.last = now
	g.tokens = math.Min(g.burst, g.tokens+dt*rho)
	g.minute = math.Min(float64(g.limit), g.minute+dt*rho)
	g.env = math.Min(200, g.env+dt*200)
	if w := now.Truncate(g.window); !w.Equal(g.start) {
		g.start, g.used = w, 0
	}
	unit := fmt.Sprintf("%d second", int(g.window.Seconds()))
	if g.window == time.Minute {
		unit = "1 minute"
	}
	if g.bucket {
		ok = g.tokens >= 1 && g.minute >= 1
		if ok {
			g.tokens--
			g.minute--
		}
		perSecond := int(math.Round(rho))
		api = fmt.Sprintf("remain:%d,limit:%d,time:%s", int(g.minute), g.limit, unit)
		env = fmt.Sprintf("remain:%d,limit:%d,time:1 second", min(perSecond, int(g.tokens)), perSecond)
	} else {
		ok = g.used < g.limit
		if ok {
			g.used++
			g.env = math.Max(0, g.env-1)
		}
		api = fmt.Sprintf("remain:%d,limit:%d,time:%s", g.limit-g.used, g.limit, unit)
		env = fmt.Sprintf("remain:%d,limit:200,time:1 second", int(g.env))
	}
	if !ok {
		g.throttled++
	}
	return api, env, ok
}

// event is something that happens at a simulated time.
type event struct {
	at  time.Time
	seq int
	do  func()
}

type events []*event

func (e events) Len() int { return len(e) }
func (e events) Less(i, j int) bool {
	return e[i].at.Before(e[j].at) || e[i].at.Equal(e[j].at) && e[i].seq < e[j].seq
}
func (e events) Swap(i, j int) { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)   { *e = append(*e, x.(*event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

// paceSim runs processes against one simGateway.
type paceSim struct {
	gw  *simGateway
	q   events
	seq int
	now time.Time
}

func (s *paceSim) at(t time.Time, do func()) {
	s.seq++
	heap.Push(&s.q, &event{at: t, seq: s.seq, do: do})
}

// simProc is one process: its limits, its calls to make, what happened.
type simProc struct {
	l         *limits
	left      int // calls not yet answered with success
	inFlight  int
	workers   []*simWorker
	throttled int
	done      time.Duration // when its last call succeeded, from the simulation's start
}

// simWorker is one of a process's goroutines calling the API. gen tells a
// current wake-up from one made stale by a later one.
type simWorker struct {
	gen     int
	waiting bool
}

const (
	simLatency = 2 * time.Millisecond // each way
	simWork    = 3 * time.Millisecond // what a worker does between two calls of this API
)

// run starts procs at the given offsets, each with calls calls and workers
// workers, and runs until every call has succeeded.
func (s *paceSim) run(t *testing.T, starts []time.Duration, calls, workers int, seed uint64) []*simProc {
	t.Helper()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	procs := make([]*simProc, len(starts))
	for i, off := range starts {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		p := &simProc{l: newLimits(RateAuto, DefaultRate), left: calls}
		p.l.jitter = rng.Float64
		procs[i] = p
		a, e := p.l.api("details")
		var step func(w *simWorker)
		// schedule runs w's next step at time at, replacing any step of w
		// scheduled before.
		schedule := func(w *simWorker, at time.Time) {
			w.gen++
			gen := w.gen
			s.at(at, func() {
				if w.gen == gen {
					step(w)
				}
			})
		}
		step = func(w *simWorker) {
			w.waiting = false
			if p.left-p.inFlight <= 0 {
				return
			}
			now := s.now
			if p.l.pausedUntil.After(now) {
				schedule(w, p.l.pausedUntil)
				return
			}
			next, ok := grant(now, a, e)
			if !ok {
				w.waiting = true
				schedule(w, next)
				return
			}
			p.inFlight++
			sent := now
			s.at(now.Add(simLatency), func() {
				api, env, ok := s.gw.call(s.now)
				s.at(s.now.Add(simLatency), func() {
					p.inFlight--
					h := http.Header{}
					h.Set(headerAPI, api)
					h.Set(headerAllEnv, env)
					p.l.observe("details", h, sent, s.now, ok)
					if ok {
						p.left--
						p.l.succeeded("details", s.now)
						if p.left == 0 {
							p.done = s.now.Sub(t0)
						}
					} else {
						p.throttled++
						p.l.throttled("details", time.Second, s.now)
					}
					// An answer may let waiting workers go sooner (as
					// limits.wake does).
					for _, o := range p.workers {
						if o.waiting {
							schedule(o, s.now)
						}
					}
					schedule(w, s.now.Add(simWork))
				})
			})
		}
		for range workers {
			w := &simWorker{}
			p.workers = append(p.workers, w)
			schedule(w, t0.Add(off))
		}
	}
	for s.q.Len() > 0 {
		ev := heap.Pop(&s.q).(*event)
		s.now = ev.at
		if s.now.Sub(t0) > time.Hour {
			t.Fatalf("the simulation ran for an hour without finishing")
		}
		ev.do()
	}
	for i, p := range procs {
		if p.left != 0 {
			t.Fatalf("process %d: %d calls not made", i, p.left)
		}
	}
	return procs
}

// TestPacingBothModels: 500 calls of one API, quota 1,200 a minute (20 a
// second), against fixed windows and against a continuous bucket with a
// burst of 20; one process, four started together, eight started 0-10 s
// apart (the shards of one job, knowing nothing of each other), 4 calls in
// flight each. In simulated time: every call made, the time within the
// issue's bounds of what the quota allows, few or no 429s, and each
// process's limiter has learnt how the quota comes back.
func TestPacingBothModels(t *testing.T) {
	const calls = 500
	type workload struct {
		name      string
		procs     int
		spread    time.Duration // starts evenly spread over this
		maxRatio  float64
		max429    int // per process
		windows   time.Duration
		wantModel string
	}
	var tests []workload
	for _, m := range []struct {
		name   string
		bucket bool
		model  string
		window time.Duration
	}{
		{"fixed windows, 1200 a minute", false, "fixed", time.Minute},
		{"fixed windows, 100 per 5 s", false, "fixed", 5 * time.Second},
		{"continuous bucket, 1200 a minute, burst 20", true, "continuous", time.Minute},
	} {
		for _, w := range []workload{
			{name: "1 process", procs: 1, maxRatio: 1.11},
			{name: "4 together", procs: 4, maxRatio: 1.15},
			{name: "8 over 10 s", procs: 8, spread: 10 * time.Second, maxRatio: 1.25, max429: 1},
		} {
			w.name = m.name + "/" + w.name
			w.windows = m.window
			w.wantModel = m.model
			if m.bucket {
				w.windows = -m.window
			}
			tests = append(tests, w)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			window, bucket := tt.windows, false
			if window < 0 {
				window, bucket = -window, true
			}
			limit := int(20 * window.Seconds())
			s := &paceSim{gw: &simGateway{bucket: bucket, limit: limit, window: window, burst: 20}}
			starts := make([]time.Duration, tt.procs)
			for i := range starts {
				if tt.procs > 1 {
					starts[i] = tt.spread * time.Duration(i) / time.Duration(tt.procs-1)
				}
			}
			per := calls / tt.procs
			procs := s.run(t, starts, per, 4, 7)
			var end time.Duration
			for i, p := range procs {
				end = max(end, p.done)
				if p.throttled > tt.max429 {
					t.Errorf("process %d: %d x 429, want at most %d", i, p.throttled, tt.max429)
				}
				a, _ := p.l.api("details")
				if got := a.modelLocked(); got != tt.wantModel {
					t.Errorf("process %d learnt the quota to be %q, want %q", i, got, tt.wantModel)
				}
			}
			allowed := time.Duration(float64(per*tt.procs) / 20 * float64(time.Second))
			ratio := end.Seconds() / allowed.Seconds()
			t.Logf("%d calls in %v of simulated time, the quota allows %v: %.3fx; 429s: %d", per*tt.procs, end.Round(time.Millisecond), allowed, ratio, s.gw.throttled)
			if ratio > tt.maxRatio {
				t.Errorf("%.3f x the time the quota allows, want at most %.2f", ratio, tt.maxRatio)
			}
		})
	}
}
