package meetingtest

import (
	"fmt"
	"testing"
	"time"
)

func TestRateLimitEnforced(t *testing.T) {
	clock := newFakeClock()
	s := start(t, Config{Dataset: SampleDataset(), Now: clock.Now, RatePerAPI: 5})
	tok := login(t, s, "")
	details := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + SampleDataset().Conferences[0].ConfUUID
	list := s.URL + "/v1/mmc/management/record/files?startDate=0&endDate=1"
	steps := []struct {
		name       string
		advance    time.Duration
		url        string
		wantStatus int
		wantHeader string
		retryAfter string
	}{
		{"1st", 0, details, 200, "remain:4,limit:5,time:1 second", ""},
		{"2nd", 0, details, 200, "remain:3,limit:5,time:1 second", ""},
		{"3rd", 0, details, 200, "remain:2,limit:5,time:1 second", ""},
		{"4th", 0, details, 200, "remain:1,limit:5,time:1 second", ""},
		{"5th", 0, details, 200, "remain:0,limit:5,time:1 second", ""},
		{"6th throttled", 0, details, 429, "remain:0,limit:5,time:1 second", "1"},
		{"other API has its own bucket", 0, list, 200, "remain:4,limit:5,time:1 second", ""},
		{"refilled one after 200ms", 200 * time.Millisecond, details, 200, "remain:0,limit:5,time:1 second", ""},
		{"empty again", 0, details, 429, "remain:0,limit:5,time:1 second", "1"},
		{"full after a long pause, capped at the burst", time.Minute, details, 200, "remain:4,limit:5,time:1 second", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Add(st.advance)
			r := call(t, "GET", st.url, "", "X-Access-Token", tok)
			if st.wantStatus == 429 {
				e := wantError(t, r, 429, CodeThrottled)
				if e.ErrorMsg != "the throttling threshold has been reached" {
					t.Errorf("error_msg = %q", e.ErrorMsg)
				}
			} else if r.status != st.wantStatus {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if got := r.header.Get("X-APIG-Ratelimit-Api"); got != st.wantHeader {
				t.Errorf("X-APIG-Ratelimit-Api = %q, want %q", got, st.wantHeader)
			}
			if got := r.header.Get("Retry-After"); got != st.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, st.retryAfter)
			}
			if r.header.Get("X-APIG-Ratelimit-Api-Allenv") == "" {
				t.Errorf("no X-APIG-Ratelimit-Api-Allenv header")
			}
		})
	}
	if got := s.Counters().Throttled; got != 2 {
		t.Errorf("Throttled = %d, want 2", got)
	}
}

func TestRateHeaders(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		calls      int
		wantAPI    string
		wantAllEnv string
	}{
		{"not enforced", Config{}, 3, "remain:997,limit:1000,time:1 second", "remain:197,limit:200,time:1 second"},
		{"100 a minute", Config{RatePerAPI: 100.0 / 60}, 3, "remain:97,limit:100,time:1 minute", "remain:197,limit:200,time:1 second"},
		{"20 a second", Config{RatePerAPI: 20}, 1, "remain:19,limit:20,time:1 second", "remain:199,limit:200,time:1 second"},
		{"burst 3", Config{RatePerAPI: 20, RateBurst: 3}, 2, "remain:1,limit:20,time:1 second", "remain:198,limit:200,time:1 second"},
		{"allenv enforced", Config{RateAllEnv: 50}, 2, "remain:998,limit:1000,time:1 second", "remain:48,limit:50,time:1 second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			tt.cfg.Now = clock.Now
			s := start(t, tt.cfg)
			var r reply
			for range tt.calls {
				// the validate API: no token needed, and a bucket of its own
				r = call(t, "POST", s.URL+"/v1/usg/acs/token/validate", `{"token":"x"}`)
			}
			if got := r.header.Get("X-APIG-Ratelimit-Api"); got != tt.wantAPI {
				t.Errorf("X-APIG-Ratelimit-Api = %q, want %q", got, tt.wantAPI)
			}
			if got := r.header.Get("X-APIG-Ratelimit-Api-Allenv"); got != tt.wantAllEnv {
				t.Errorf("X-APIG-Ratelimit-Api-Allenv = %q, want %q", got, tt.wantAllEnv)
			}
		})
	}
}

func TestRateAllEnvEnforced(t *testing.T) {
	clock := newFakeClock()
	s := start(t, Config{Now: clock.Now, RateAllEnv: 3})
	urls := []string{"/v1/usg/acs/token/validate", "/v2/usg/acs/auth/appauth", "/v1/usg/acs/auth/account", "/v1/usg/acs/token/validate"}
	for i, u := range urls {
		r := call(t, "POST", s.URL+u, `{}`)
		if i < 3 && r.status == 429 {
			t.Errorf("call %d (%s) throttled under the all-API limit", i, u)
		}
		if i == 3 {
			wantError(t, r, 429, CodeThrottled)
		}
	}
}

// TestRateLimitRealClock: a client pacing itself at the enforced rate sees
// no 429; a burst beyond it does, with Retry-After.
func TestRateLimitRealClock(t *testing.T) {
	s := start(t, Config{Dataset: SampleDataset(), RatePerAPI: 20})
	tok := login(t, s, "")
	url := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + SampleDataset().Conferences[0].ConfUUID
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := range 25 {
		<-tick.C
		if r := call(t, "GET", url, "", "X-Access-Token", tok); r.status != 200 {
			t.Fatalf("paced call %d: status %d body %s", i, r.status, r.body)
		}
	}
	throttled := 0
	for range 40 {
		r := call(t, "GET", url, "", "X-Access-Token", tok)
		if r.status == 429 {
			throttled++
			if r.header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
	}
	if throttled == 0 {
		t.Errorf("40 unpaced calls at a 20/s limit: no 429")
	}
	if got := s.Counters().Throttled; got != int64(throttled) {
		t.Errorf("Throttled = %d, want %d", got, throttled)
	}
}

func TestBucketUnits(t *testing.T) {
	tests := []struct {
		rate      float64
		wantLimit int
		wantUnit  string
	}{
		{1, 1, "1 second"}, {20, 20, "1 second"}, {100.0 / 60, 100, "1 minute"}, {0.5, 30, "1 minute"}, {2.5, 150, "1 minute"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rate), func(t *testing.T) {
			b := newBucket(tt.rate, 0, true, time.Time{})
			if b.limit != tt.wantLimit || b.unit != tt.wantUnit || b.burst != float64(tt.wantLimit) {
				t.Errorf("limit %d unit %q burst %v; want %d %q %d", b.limit, b.unit, b.burst, tt.wantLimit, tt.wantUnit, tt.wantLimit)
			}
		})
	}
}
