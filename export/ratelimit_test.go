package export

import (
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in     string
		want   rateLimit
		wantOK bool
	}{
		{"remain:99,limit:100,time:1 minute", rateLimit{99, 100, time.Minute}, true},
		{"remain:199,limit:200,time:1 second", rateLimit{199, 200, time.Second}, true},
		{" remain : 5 , limit : 10 , time : 10 seconds ", rateLimit{5, 10, 10 * time.Second}, true},
		{"limit:10,time:1 hour", rateLimit{-1, 10, time.Hour}, true},
		{"limit:10,time:minute", rateLimit{-1, 10, time.Minute}, true},
		{"limit:10,time:1m", rateLimit{-1, 10, time.Minute}, true},
		{"remain:x,limit:10,time:1 day", rateLimit{-1, 10, 24 * time.Hour}, true},
		{"remain:5,limit:0,time:1 second", rateLimit{}, false},
		{"remain:5,limit:10", rateLimit{}, false},
		{"remain:5,limit:10,time:1 fortnight", rateLimit{}, false},
		{"", rateLimit{}, false},
		{"garbage", rateLimit{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseRateLimit(tt.in)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("parseRateLimit = %+v, %v; want %+v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }

func TestAPILimitObserve(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name    string
		ceiling float64
		sends   int // our sends within the window
		header  string
		want    float64
	}{
		{"limit below ceiling", 100, 1, "remain:19,limit:20,time:1 second", 0.95 * 20},
		{"ceiling below limit", 5, 1, "remain:19,limit:20,time:1 second", 5},
		{"per minute", 100, 1, "remain:99,limit:100,time:1 minute", 0.95 * 100 / 60},
		{"our own use is not a reason to slow", 100, 18, "remain:2,limit:20,time:1 second", 0.95 * 20},
		{"someone else eats the quota", 100, 1, "remain:2,limit:100,time:1 minute", 0.95 * 3 / 60},
		{"quota gone: the floor, one a minute", 100, 0, "remain:0,limit:100,time:1 minute", 1.0 / 60},
		{"unparsable header changes nothing", 7, 0, "nonsense", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPILimit(tt.ceiling)
			a.sent(now.Add(-2 * time.Hour)) // outside any window
			for i := range tt.sends {
				a.sent(now.Add(-time.Duration(tt.sends-i) * time.Millisecond))
			}
			a.observe(tt.header, now)
			if got := a.Limit(); !near(got, tt.want) {
				t.Errorf("Limit = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAPILimitAIMD(t *testing.T) {
	a := newAPILimit(10)
	now := time.Now()
	a.decrease(now)
	if got := a.Limit(); !near(got, 5) {
		t.Fatalf("after a 429: %v, want 5", got)
	}
	a.decrease(now.Add(100 * time.Millisecond)) // same burst of 429s
	if got := a.Limit(); !near(got, 5) {
		t.Errorf("second 429 within a second: %v, want still 5", got)
	}
	now = now.Add(1100 * time.Millisecond)
	a.decrease(now)
	if got := a.Limit(); !near(got, 2.5) {
		t.Fatalf("later 429: %v, want 2.5", got)
	}
	// Many successes at once are no reason to climb: the increase is in time.
	for range 1000 {
		a.increase(now)
	}
	if got := a.Limit(); !near(got, 2.5) {
		t.Errorf("after 1000 successes in no time: %v, want still 2.5", got)
	}
	// Back to the rate of the last 429 (5) in recoverTime, then slower.
	for i := range 10 {
		a.increase(now.Add(time.Duration(i+1) * time.Second))
	}
	if got := a.Limit(); !near(got, 5) {
		t.Errorf("after %v of successes: %v, want 5", recoverTime, got)
	}
	for i := range 10 {
		a.increase(now.Add(time.Duration(11+i) * time.Second))
	}
	if got := a.Limit(); !near(got, 5.5) {
		t.Errorf("probing beyond: %v, want 5.5", got)
	}
	for i := range 200 {
		a.increase(now.Add(time.Duration(21+i) * time.Second))
	}
	if got := a.Limit(); !near(got, 10) {
		t.Errorf("in the end: %v, want the ceiling 10", got)
	}
	// The gateway's header caps the rate.
	a.observe("remain:9,limit:4,time:1 second", now)
	if got := a.Limit(); !near(got, 0.95*4) {
		t.Errorf("with a header limit of 4/s: %v, want %v", got, 0.95*4)
	}
}

// A 429 pauses the whole client: a call on another API waits too.
func TestThrottlePausesWholeClient(t *testing.T) {
	var (
		mu         sync.Mutex
		throttleAt time.Time
		deleteAt   time.Time
		details    atomic.Int64
	)
	throttled := make(chan struct{})
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case pathDetails:
			if details.Add(1) == 1 {
				mu.Lock()
				throttleAt = time.Now()
				mu.Unlock()
				w.Header().Set("Retry-After", "1")
				writeAPIError(w, http.StatusTooManyRequests, CodeThrottled, "the throttling threshold has been reached")
				go func() { time.Sleep(50 * time.Millisecond); close(throttled) }()
				return
			}
			okDetails(w, r)
		default:
			mu.Lock()
			deleteAt = time.Now()
			mu.Unlock()
			writeJSON(w, 200, map[string]any{})
		}
	})
	c := newTestClient(t, srv.URL, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
			t.Errorf("Details: %v", err)
		}
	})
	<-throttled
	if err := c.Delete(ctxT(t), testConfUUID2); err != nil {
		t.Errorf("Delete: %v", err)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if gap := deleteAt.Sub(throttleAt); gap < 950*time.Millisecond {
		t.Errorf("delete sent %v after the 429, want >= Retry-After (1s): the client did not pause as a whole", gap)
	}
	if got := c.RateLimit("details"); got >= 1000 {
		t.Errorf("details rate after a 429 = %v, want below the ceiling 1000", got)
	}
	if got := c.RateLimit("delete"); got != 1000 {
		t.Errorf("delete rate = %v, want untouched 1000", got)
	}
}

// The ceiling holds however many goroutines call.
func TestRateCeilingShared(t *testing.T) {
	srv := server(t, okDetails)
	c := newTestClient(t, srv.URL, func(c *Config) { c.Rate = 40 })
	start := time.Now()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 3 {
				if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// 48 calls at 40/s with a burst of 1: at least 47/40 s.
	if el := time.Since(start); el < 1150*time.Millisecond {
		t.Errorf("48 calls took %v at a 40/s ceiling, want >= 1.15s", el)
	}
}
