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
		{"limit below ceiling", 100, 0, "remain:199,limit:200,time:10 second", 0.95 * 20, 0},
		{"ceiling below limit", 5, 0, "remain:199,limit:200,time:10 second", 5, 0},
		{"per minute", 100, 0, "remain:99,limit:100,time:1 minute", 0.95 * 100 / 60, 0},
		{"the gateway's format for other windows", 100, 0, "remain:9,limit:10,time:10 second", 0.9, 0},
		{"our calls in flight count against remain", 100, 3, "remain:5,limit:200,time:10 second", 0.2, 0},
		{"someone else ate the quota: what is left over the window", 100, 0, "remain:2,limit:100,time:1 minute", 2.0 / 60, 0},
		{"quota gone: nothing until the window's end", 100, 0, "remain:0,limit:100,time:1 minute", 0.95 * 100 / 60, time.Minute},
		{"in flight use up the rest", 100, 2, "remain:2,limit:100,time:1 minute", 0.95 * 100 / 60, time.Minute},
		{"no remain: the whole limit", 100, 0, "limit:100,time:10 second", 0.95 * 10, 0},
		{"remain above limit is the limit", 100, 0, "remain:500,limit:100,time:10 second", 0.95 * 10, 0},
		{"a per-second limit: the ramp starts at a quarter", 100, 0, "remain:19,limit:20,time:1 second", 0.95 * 20 / 4, 0},
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
			a.observeAt(tt.header, sent, now, true)
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
				a.observeAt(st.header, at(st.sent), at(st.recv), true)
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
			a.observeAt("remain:100,limit:200,time:1 minute", at(0), at(1), true)
			for i := range tt.ours {
				a.sent(at(10 + i))
			}
			a.observeAt(fmt.Sprintf("remain:%d,limit:200,time:1 minute", tt.latest), at(10+tt.ours-1), at(100), true)
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
	a.decrease(now, a.rateAt(now), 0.5)
	if got := a.Limit(); !near(got, 5) {
		t.Fatalf("after a 429: %v, want 5", got)
	}
	a.decrease(now.Add(100*time.Millisecond), a.rateAt(now), 0.5) // same burst of 429s
	if got := a.Limit(); !near(got, 5) {
		t.Errorf("second 429 within a second: %v, want still 5", got)
	}
	now = now.Add(1100 * time.Millisecond)
	a.decrease(now, a.rateAt(now), 0.5)
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
	a.observe("remain:40,limit:40,time:10 second", now)
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
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
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
	c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Rate = 40 })
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
		// X-APIG-Ratelimit-Api-Allenv is the API's own limit (the vendor's
		// "default API request limit"); a gateway that shares it among
		// APIs shows as other callers taking from it.
		{"the Allenv limit binds its own API", RateAuto, "", DefaultRate, 0.95, DefaultRate, "remain:10,limit:10,time:10 second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr.Store(tt.header)
			c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.Rate = tt.rate })
			if got := c.RateLimit("details"); !near(got, tt.wantBefore) {
				t.Errorf("before any answer: %v, want %v", got, tt.wantBefore)
			}
			if tt.allEnvAfter != "" {
				c.limits.observe("details", http.Header{"X-Apig-Ratelimit-Api-Allenv": {tt.allEnvAfter}}, time.Now(), time.Now(), true)
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
	c := NewTestClient(t, srv.URL, tokenCreds, nil)
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
		{"timeout", &netError{kind: CodeTimeout}, OutcomeNetwork},
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

// How the quota comes back, learnt from remain against our own calls:
// fixed windows stay "fixed" however the calls straddle a window's end (and
// however many are in flight across it); a bucket that refills between two
// calls, twice within a window, is "continuous".
func TestAPILimitLearnsHowTheQuotaComesBack(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type answer struct {
		sent, recv int // ms
		remain     int
		counted    bool
	}
	tests := []struct {
		name    string
		header  string // with %d for remain
		answers []answer
		want    string
	}{
		{"fixed: counts down, then a new window, calls in flight across it", "remain:%d,limit:10,time:1 second", []answer{
			{0, 5, 9, true}, {10, 15, 8, true}, {20, 25, 5, true}, // others took 2
			{990, 1002, 4, true}, {995, 1004, 9, true}, {998, 1006, 3, true}, // straddling the window's end
			{1010, 1015, 8, true}, {1500, 1505, 0, true}, {1510, 1515, 0, false}, // spent, then refused
			{2001, 2006, 9, true}, {2010, 2015, 8, true}}, "fixed"},
		{"fixed: a refused call does not look like a comeback", "remain:%d,limit:100,time:10 second", []answer{
			{0, 5, 1, true}, {10, 15, 0, true}, {20, 25, 0, false}, {30, 35, 0, false}, {40, 45, 0, false}}, "fixed"},
		{"continuous: remain stays up while we take", "remain:%d,limit:20,time:1 second", []answer{
			{0, 5, 19, true}, {50, 55, 19, true}, {100, 105, 19, true}, {150, 155, 19, true}}, "continuous"},
		{"continuous: refills between calls while others take too", "remain:%d,limit:1200,time:1 minute", []answer{
			{0, 5, 1000, true}, {100, 105, 999, true}, {200, 205, 998, true}, {300, 305, 999, true}, {400, 405, 999, true},
			{500, 505, 999, true}}, "continuous"},
		{"one comeback is not enough", "remain:%d,limit:1200,time:1 minute", []answer{
			{0, 5, 1000, true}, {100, 105, 990, true}, {200, 205, 995, true}, {300, 305, 980, true}}, "fixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newPacer(math.Inf(1), DefaultRate)
			for _, an := range tt.answers {
				a.sent(ms(an.sent))
				a.observeAt(fmt.Sprintf(tt.header, an.remain), ms(an.sent), ms(an.recv), an.counted)
			}
			a.mu.Lock()
			got := a.modelLocked()
			a.mu.Unlock()
			if got != tt.want {
				t.Errorf("model = %q, want %q", got, tt.want)
			}
		})
	}
}

// continuousLimit is a limiter that has learnt a continuous quota of 20 a
// second with a burst of 20 (remain 19 on every answer, one call every 50
// ms), at t0 + 1 s.
func continuousLimit(t *testing.T, t0 time.Time) *apiLimit {
	t.Helper()
	a := newPacer(math.Inf(1), DefaultRate)
	for i := range 21 {
		at := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		a.sent(at)
		a.observeAt("remain:19,limit:20,time:1 second", at, at.Add(2*time.Millisecond), true)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.modelLocked() != "continuous" {
		t.Fatalf("model %q, want continuous", a.modelLocked())
	}
	return a
}

// With a continuous quota, the share follows what the answers say: down
// when remain falls faster than our own calls explain (others take it),
// up while it stays full; and with nothing left, the limiter waits for the
// refill instead of sending.
func TestAPILimitContinuousShare(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	t.Run("others drain the quota: the share goes down", func(t *testing.T) {
		a := continuousLimit(t, t0)
		before, _ := pace(a, t0.Add(time.Second))
		// Our 10 calls a second; remain falls by 10 a second more than
		// the refill: the others take 20 a second.
		remain := 19
		for i := range 20 {
			at := t0.Add(time.Second + time.Duration(i+1)*100*time.Millisecond)
			a.sent(at)
			remain = max(2, remain-1)
			a.observeAt(fmt.Sprintf("remain:%d,limit:20,time:1 second", remain), at, at.Add(2*time.Millisecond), true)
		}
		after, _ := pace(a, t0.Add(3*time.Second+5*time.Millisecond))
		if after >= before/2 {
			t.Errorf("rate %v before, %v after: want it at least halved", before, after)
		}
		if a.f.others < 10 {
			t.Errorf("others take %v a second, want about 20", a.f.others)
		}
	})
	t.Run("room: the share goes up", func(t *testing.T) {
		a := continuousLimit(t, t0)
		a.mu.Lock()
		a.f.share = 2
		a.mu.Unlock()
		for i := range 20 {
			at := t0.Add(time.Second + time.Duration(i+1)*100*time.Millisecond)
			a.sent(at)
			a.observeAt("remain:19,limit:20,time:1 second", at, at.Add(2*time.Millisecond), true)
		}
		if got, _ := pace(a, t0.Add(3*time.Second+5*time.Millisecond)); got <= 4 {
			t.Errorf("rate %v after 2 s of a full quota from a share of 2, want it more than doubled", got)
		}
	})
	t.Run("nothing left: wait for the refill", func(t *testing.T) {
		a := continuousLimit(t, t0)
		at := t0.Add(time.Second + 10*time.Millisecond)
		a.sent(at)
		a.observeAt("remain:0,limit:20,time:1 second", at, at.Add(2*time.Millisecond), false)
		now := at.Add(3 * time.Millisecond)
		_, until := pace(a, now)
		if !until.After(now) {
			t.Fatalf("with remain 0 the limiter grants a call now")
		}
		if wait := until.Sub(now); wait > time.Second {
			t.Errorf("waits %v for the refill of a 20-a-second bucket, want well under a second", wait)
		}
	})
}

// A per-second limit is taken to refill continuously until a step says
// otherwise: its share starts at a quarter of its rate and grows (doubling
// per flowSpan at most) while the answers show the quota full; a step (a
// comeback larger than the rate refills in the time) makes it fixed.
func TestAPILimitPerSecondStart(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	a := newPacer(math.Inf(1), DefaultRate)
	rate := func(at time.Duration) float64 {
		r, _ := pace(a, t0.Add(at))
		return r
	}
	answer := func(at time.Duration, remain int) {
		now := t0.Add(at)
		a.sent(now)
		a.observeAt(fmt.Sprintf("remain:%d,limit:20,time:1 second", remain), now, now.Add(time.Millisecond), true)
	}
	answer(0, 19)
	if got := rate(time.Millisecond); !near(got, 0.95*20/4) {
		t.Errorf("after the first answer: %v, want a quarter of 19", got)
	}
	a.mu.Lock()
	model := a.modelLocked()
	a.mu.Unlock()
	if model != "continuous" {
		t.Errorf("model %q, want continuous until a step says otherwise", model)
	}
	// Our calls, one every 100 ms, and the quota stays full: room.
	for i := 1; i <= 10; i++ {
		answer(time.Duration(i)*100*time.Millisecond, 19)
	}
	if got := rate(time.Second + time.Millisecond); got < 2*0.95*20/4 {
		t.Errorf("after a second of a full quota: %v, want at least double the start", got)
	}
	// Spent, then full again 50 ms later: more than 50 ms of refill.
	answer(1100*time.Millisecond, 0)
	answer(1150*time.Millisecond, 19)
	a.mu.Lock()
	model = a.modelLocked()
	a.mu.Unlock()
	if model != "fixed" {
		t.Errorf("after a step: model %q, want fixed", model)
	}
}

// A 429 pauses the whole client for Retry-After lengthened by up to a
// quarter, and cuts the rate to between 0.5 and 0.7 of what was granted,
// each drawn at random: two clients throttled together come back apart.
func TestThrottledJitter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		jitter    float64
		wantPause time.Duration
		wantRate  float64
	}{
		{"lowest draw", 0, 2 * time.Second, 0.5 * 8},
		{"middle draw", 0.5, 2250 * time.Millisecond, 0.6 * 8},
		{"highest draw", 0.999999, 2500 * time.Millisecond, 0.7 * 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimits(8, DefaultRate) // a ceiling of 8/s: what is granted before
			l.jitter = func() float64 { return tt.jitter }
			l.throttled("details", 2*time.Second, now)
			if got := l.pausedUntil.Sub(now); got < tt.wantPause-time.Millisecond || got > tt.wantPause+time.Millisecond {
				t.Errorf("paused %v, want %v", got, tt.wantPause)
			}
			a, _ := l.api("details")
			if got := a.rateAt(now); math.Abs(got-tt.wantRate) > 1e-3 {
				t.Errorf("rate after the 429 = %v, want %v", got, tt.wantRate)
			}
		})
	}
}

// LinksSpread's choice for a new conference: record info, unless its quota
// is known and a call would wait on it more than spillWait while
// downloadurls would wait less; a conference keeps the API it had.
func TestSpillSource(t *testing.T) {
	now := time.Now()
	fresh := func() *limits {
		l := newLimits(RateAuto, DefaultRate)
		for _, api := range []string{"recordinfo", "downloadurls"} {
			a, _ := l.api(api)
			a.observeAt("remain:1199,limit:1200,time:1 minute", now, now, true) // 19 a second
		}
		return l
	}
	queue := func(l *limits, api string, n int) {
		l.mu.Lock()
		l.waiting[api] = n
		l.mu.Unlock()
	}
	tests := []struct {
		name  string
		setup func(l *limits)
		want  string
	}{
		{"both free: record info", func(*limits) {}, "recordinfo"},
		{"record info a call behind: still record info", func(l *limits) { queue(l, "recordinfo", 1) }, "recordinfo"},
		{"record info four calls behind, downloadurls free: downloadurls", func(l *limits) { queue(l, "recordinfo", 4) }, "downloadurls"},
		{"both as far behind: record info", func(l *limits) { queue(l, "recordinfo", 4); queue(l, "downloadurls", 4) }, "recordinfo"},
		{"record info's quota not known yet: record info", func(l *limits) {
			l.apis["recordinfo"] = newPacer(math.Inf(1), DefaultRate)
			queue(l, "recordinfo", 4)
		}, "recordinfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := fresh()
			tt.setup(l)
			var s spill
			if got := s.source(testConfUUID, l); got != tt.want {
				t.Errorf("source = %q, want %q", got, tt.want)
			}
			// The conference keeps it, whatever the quotas do since.
			queue(l, "recordinfo", 0)
			queue(l, "downloadurls", 100)
			if got := s.source(testConfUUID, l); got != tt.want {
				t.Errorf("the same conference again: %q, want %q", got, tt.want)
			}
		})
	}
}

// newAPILimit is a limiter with a ceiling of rate requests/s.
func newAPILimit(rate float64) *apiLimit { return newPacer(rate, rate) }

// sent records a call sent at t.
func (a *apiLimit) sent(t time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sentLocked(t)
}

// observe reads a header received now for a counted call sent now (tests).
func (a *apiLimit) observe(v string, now time.Time) { a.observeAt(v, now, now, true) }
