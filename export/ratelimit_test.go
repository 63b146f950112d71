package export

import (
	"context"
	"errors"
	"fmt"
	"maps"
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
		{"remain:5,limit:10,time:213504 days", rateLimit{}, false}, // would overflow to 15 minutes
		{"remain:5,limit:10,time:1000000 days", rateLimit{}, false},
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

// pace is the limiter's rate at now and, when the window's quota is spent,
// the window's end.
func pace(a *apiLimit, now time.Time) (float64, time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.paceLocked(now)
}

func TestAPILimitObserve(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		ceiling   float64
		inFlight  int // our sends after the call that reports the header
		header    string
		want      float64
		wantUntil time.Duration // > 0: nothing until the window's end, this far away
	}{
		{"limit below ceiling", 100, 0, "remain:19,limit:20,time:1 second", 0.95 * 20, 0},
		{"ceiling below limit", 5, 0, "remain:19,limit:20,time:1 second", 5, 0},
		{"per minute", 100, 0, "remain:99,limit:100,time:1 minute", 0.95 * 100 / 60, 0},
		{"the gateway's format for other windows", 100, 0, "remain:9,limit:10,time:10 second", 0.9, 0},
		{"our calls in flight count against remain", 100, 3, "remain:5,limit:20,time:1 second", 2, 0},
		{"someone else ate the quota: what is left over the window", 100, 0, "remain:2,limit:100,time:1 minute", 2.0 / 60, 0},
		{"quota gone: nothing until the window's end", 100, 0, "remain:0,limit:100,time:1 minute", 0.95 * 100 / 60, time.Minute},
		{"in flight use up the rest", 100, 2, "remain:2,limit:100,time:1 minute", 0.95 * 100 / 60, time.Minute},
		{"no remain: the whole limit", 100, 0, "limit:10,time:1 second", 0.95 * 10, 0},
		{"remain above limit is the limit", 100, 0, "remain:50,limit:10,time:1 second", 0.95 * 10, 0},
		{"unparsable header changes nothing", 7, 0, "nonsense", 7, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPILimit(tt.ceiling)
			sent := now.Add(-10 * time.Millisecond)
			a.sent(sent)
			for i := range tt.inFlight {
				a.sent(sent.Add(time.Duration(i+1) * time.Millisecond))
			}
			a.observeAt(tt.header, sent, now)
			got, until := pace(a, now)
			if !near(got, tt.want) {
				t.Errorf("rate = %v, want %v", got, tt.want)
			}
			if wantUntil := now.Add(tt.wantUntil); tt.wantUntil > 0 && !until.Equal(wantUntil) || tt.wantUntil == 0 && !until.IsZero() {
				t.Errorf("until = %v, want now + %v", until.Sub(now), tt.wantUntil)
			}
		})
	}
}

// The limiter follows the gateway's windows: what remains over the time left,
// a new window when remain jumps up, its start taken from the earlier one's
// when it fits, and a window assumed fresh once its expected end has passed.
func TestAPILimitWindows(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a := newPacer(math.Inf(1), DefaultRate)
	steps := []struct {
		name       string
		sends      []int // our sends (ms) before the observation
		header     string
		sent, recv int // ms; header "" = no observation
		now        int
		want       float64
		wantUntil  int // ms; -1 = not blocked
	}{
		{"before any header: the start rate", nil, "", 0, 0, 0, DefaultRate, -1},
		{"first answer: the window is taken to start now", []int{0}, "remain:9,limit:10,time:10 second", 0, 10, 10, 0.9, -1},
		{"pacing speeds up as the window runs out", nil, "", 0, 0, 5010, 0.95, -1},
		{"others take most of it: what is left, less a reserve, over the time left", []int{1000}, "remain:4,limit:10,time:10 second", 1000, 1010, 1010, 1.5 / 9, -1},
		{"spent (with the reserve for the others): wait for the end", []int{2000}, "remain:2,limit:10,time:10 second", 2000, 2010, 2010, 0.95, 10010},
		{"a reset: remain jumps, the window starts at the answer", []int{6000}, "remain:9,limit:10,time:10 second", 6000, 6005, 6005, 0.9, -1},
		{"an answer sent before the window began is ignored", nil, "remain:0,limit:10,time:10 second", 5900, 6010, 6005, 0.9, -1},
		{"spent again", []int{7000}, "remain:0,limit:10,time:10 second", 7000, 7005, 7005, 0.95, 16005},
		{"after the expected end the window is fresh", nil, "", 0, 0, 16005, 0.95, -1},
		{"others used it before our first look: no reserve yet", []int{20000}, "remain:4,limit:10,time:10 second", 20000, 20005, 20005, 4.0 / 6, -1},
		{"a reset seen before the expected end moves the start earlier", []int{25992}, "remain:9,limit:10,time:10 second", 25992, 25997, 25997, 0.9, -1},
		{"so the window ends a window after it", []int{26100}, "remain:0,limit:10,time:10 second", 26100, 26110, 26110, 0.95, 35997},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for _, ms := range st.sends {
				a.sent(at(ms))
			}
			if st.header != "" {
				a.observeAt(st.header, at(st.sent), at(st.recv))
			}
			got, until := pace(a, at(st.now))
			if !near(got, st.want) {
				t.Errorf("rate = %v, want %v", got, st.want)
			}
			switch {
			case st.wantUntil < 0 && !until.IsZero():
				t.Errorf("blocked until %v, want not blocked", until.Sub(t0))
			case st.wantUntil >= 0 && !until.Equal(at(st.wantUntil)):
				t.Errorf("until = %v, want %v", until.Sub(t0), at(st.wantUntil).Sub(t0))
			}
		})
	}
}

// The reserve left for other callers grows with their share of the window.
func TestAPILimitReserve(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name   string
		ours   int // our calls between the two reports
		latest int // remain in the second report (the first says 100)
		want   float64
	}{
		{"alone", 10, 90, 0},
		{"as many others as us", 10, 80, 2},
		{"three others per call of ours", 10, 60, 6},
		{"capped at a quarter of the limit", 1, 50, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newPacer(math.Inf(1), DefaultRate)
			a.sent(at(0))
			a.observeAt("remain:100,limit:200,time:1 minute", at(0), at(1))
			for i := range tt.ours {
				a.sent(at(10 + i))
			}
			a.observeAt(fmt.Sprintf("remain:%d,limit:200,time:1 minute", tt.latest), at(10+tt.ours-1), at(100))
			a.mu.Lock()
			got := a.reserveLocked()
			a.mu.Unlock()
			if got != tt.want {
				t.Errorf("reserve = %v, want %v", got, tt.want)
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
	a.observe("remain:4,limit:4,time:1 second", now)
	if got, _ := pace(a, now); !near(got, 0.95*4) {
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

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"auto", RateAuto, false},
		{"AUTO", RateAuto, false},
		{"", RateAuto, false},
		{"20", 20, false},
		{" 1.6 ", 1.6, false},
		{"0", 0, true},
		{"-1", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
		{"fast", 0, true},
		{"1e-10", 0, true}, // 317 years between calls: below the floor
		{"1e-300", 0, true},
		{"1e-5", 0, true},
		{FormatRate(MinRate), MinRate, false}, // one a day
		{"0.0001", 0.0001, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
				t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil {
				if back, _ := ParseRate(FormatRate(got)); back != got {
					t.Errorf("ParseRate(FormatRate(%v)) = %v", got, back)
				}
			}
		})
	}
}

// In auto mode a limiter starts at DefaultRate and follows the header up;
// with a ceiling it starts at the ceiling and never passes it.
func TestRateModes(t *testing.T) {
	var hdr atomic.Value
	hdr.Store("")
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if v := hdr.Load().(string); v != "" {
			w.Header().Set("X-APIG-Ratelimit-Api", v)
		}
		okDetails(w, r)
	})
	tests := []struct {
		name        string
		rate        float64
		header      string
		wantBefore  float64
		wantAfter   float64
		wantOthers  float64 // an API not called
		allEnvAfter string
	}{
		{"auto follows the quota up", RateAuto, "remain:1199,limit:1200,time:1 minute", DefaultRate, 0.95 * 20, DefaultRate, ""},
		{"auto follows it down", RateAuto, "remain:59,limit:60,time:1 minute", DefaultRate, 0.95, DefaultRate, ""},
		{"a ceiling holds", 5, "remain:1199,limit:1200,time:1 minute", 5, 5, 5, ""},
		{"the all-APIs limit binds every API", RateAuto, "", DefaultRate, 0.95, 0.95, "remain:1,limit:1,time:1 second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr.Store(tt.header)
			c := newTestClient(t, srv.URL, func(c *Config) { c.Rate = tt.rate })
			if got := c.RateLimit("details"); !near(got, tt.wantBefore) {
				t.Errorf("before any answer: %v, want %v", got, tt.wantBefore)
			}
			if tt.allEnvAfter != "" {
				c.limits.observe("details", http.Header{"X-Apig-Ratelimit-Api-Allenv": {tt.allEnvAfter}}, time.Now(), time.Now())
			} else if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
				t.Fatal(err)
			}
			// The window's time left shrinks while we look: allow for it.
			if got := c.RateLimit("details"); math.Abs(got-tt.wantAfter) > 0.01*tt.wantAfter {
				t.Errorf("after the header: %v, want %v", got, tt.wantAfter)
			}
			if got := c.RateLimit("list"); math.Abs(got-tt.wantOthers) > 0.01*tt.wantOthers {
				t.Errorf("list: %v, want %v", got, tt.wantOthers)
			}
		})
	}
}

func TestCallStats(t *testing.T) {
	var n atomic.Int64
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			writeAPIError(w, http.StatusServiceUnavailable, "MMC.111070000", "busy")
		case 2:
			writeAPIError(w, http.StatusTooManyRequests, CodeThrottled, "the throttling threshold has been reached")
		case 3:
			okDetails(w, r)
		default:
			writeAPIError(w, http.StatusBadRequest, "MMC.111070005", "meeting does not exist")
		}
	})
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Details(ctxT(t), testConfUUID); err != nil {
		t.Fatalf("Details: %v", err)
	}
	if _, err := c.Details(ctxT(t), testConfUUID2); err == nil {
		t.Fatal("Details of an unknown meeting: no error")
	}
	got := c.CallStats()
	want := map[string]int64{OutcomeServerError: 1, OutcomeThrottled: 1, OutcomeOK: 1, OutcomeClientError: 1}
	if !maps.Equal(got.Calls["details"], want) {
		t.Errorf("Calls[details] = %v, want %v", got.Calls["details"], want)
	}
	if got.Requests != 4 || got.Retries != 2 || got.Throttled != 1 {
		t.Errorf("Requests, Retries, Throttled = %d, %d, %d; want 4, 2, 1", got.Requests, got.Retries, got.Throttled)
	}
	if got.Waited["details"] < 900*time.Millisecond {
		t.Errorf("Waited[details] = %v, want >= the 1s pause after the 429", got.Waited["details"])
	}
	// A copy: changing it changes nothing in the client.
	got.Calls["details"][OutcomeOK] = 99
	if c.CallStats().Calls["details"][OutcomeOK] != 1 {
		t.Errorf("CallStats shares its maps with the client")
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, OutcomeOK},
		{"429", &APIError{StatusCode: 429}, OutcomeThrottled},
		{"APIG.0308 in a 400", &APIError{StatusCode: 400, Code: CodeThrottled}, OutcomeThrottled},
		{"404", &APIError{StatusCode: 404}, OutcomeClientError},
		{"502", &APIError{StatusCode: 502}, OutcomeServerError},
		{"error code in a 200", &APIError{StatusCode: 200, Code: "MMC.111070001"}, OutcomeAPIError},
		{"bad response", &BadResponseError{StatusCode: 200}, OutcomeBadResponse},
		{"timeout", &netError{timeout: true}, OutcomeNetwork},
		{"canceled", context.Canceled, OutcomeCanceled},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), OutcomeCanceled},
		{"other", errors.New("build request"), OutcomeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outcome(tt.err); got != tt.want {
				t.Errorf("outcome(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// TestSecondsDuration: a float64 number of seconds becomes a Duration
// without overflow, saturating at the longest one.
func TestSecondsDuration(t *testing.T) {
	tests := []struct {
		in   float64
		want time.Duration
	}{
		{1, time.Second},
		{0.5, 500 * time.Millisecond},
		{86400, 24 * time.Hour},
		{0, 0},
		{-3, 0},
		{math.NaN(), 0},
		{1e10, math.MaxInt64}, // 317 years
		{1 / 1e-10, math.MaxInt64},
		{math.Inf(1), math.MaxInt64},
		{9223372036.5, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := secondsDuration(tt.in); got != tt.want {
			t.Errorf("secondsDuration(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestSlowestCeilingWaitsADay: at the slowest ceiling (MinRate) the call
// after a call waits a day, not no time at all.
func TestSlowestCeilingWaitsADay(t *testing.T) {
	a := newAPILimit(MinRate)
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if got := a.readyLocked(now); !got.Equal(now) {
		t.Fatalf("first call ready at %v, want now", got.Sub(now))
	}
	a.sentLocked(now)
	if got := a.readyLocked(now).Sub(now); got < 24*time.Hour-time.Second || got > 24*time.Hour+time.Second {
		t.Errorf("second call ready after %v, want a day", got)
	}
}

// TestConfigRefusesARateBelowTheFloor: Validate refuses a ceiling below one
// call a day.
func TestConfigRefusesARateBelowTheFloor(t *testing.T) {
	for _, r := range []float64{1e-10, MinRate / 2} {
		c := Config{BaseURL: "http://x", Credentials: Credentials{Token: "t"}, Rate: r}
		if err := c.Validate(); err == nil {
			t.Errorf("Validate with Rate %v: no error", r)
		}
	}
	c := Config{BaseURL: "http://x", Credentials: Credentials{Token: "t"}, Rate: MinRate}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate with Rate MinRate: %v", err)
	}
}
