package meetingtest

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRateLimitEnforced(t *testing.T) {
	clock := newFakeClock()
	s := Start(t, Config{Dataset: SampleDataset(), Now: clock.Now, RatePerAPI: 5})
	tok := login(t, s, "")
	details := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + SampleDataset().Conferences[0].ConfUUID
	list := s.URL + "/v1/mmc/management/record/files?startDate=0&endDate=1"
	steps := []gatewayStep{
		{"1st", 0, details, tok, 200, "remain:4,limit:5,time:1 second", "", ""},
		{"2nd", 0, details, tok, 200, "remain:3,limit:5,time:1 second", "", ""},
		{"3rd", 0, details, tok, 200, "remain:2,limit:5,time:1 second", "", ""},
		{"4th", 0, details, tok, 200, "remain:1,limit:5,time:1 second", "", ""},
		{"5th", 0, details, tok, 200, "remain:0,limit:5,time:1 second", "", ""},
		{"6th throttled", 0, details, tok, 429, "remain:0,limit:5,time:1 second", "", "1"},
		{"other API has its own bucket", 0, list, tok, 200, "remain:4,limit:5,time:1 second", "", ""},
		{"refilled one after 200ms", 200 * time.Millisecond, details, tok, 200, "remain:0,limit:5,time:1 second", "", ""},
		{"empty again", 0, details, tok, 429, "remain:0,limit:5,time:1 second", "", "1"},
		{"full after a long pause, capped at the burst", time.Minute, details, tok, 200, "remain:4,limit:5,time:1 second", "", ""},
	}
	runGatewaySteps(t, clock, steps)
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
			s := Start(t, tt.cfg)
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
	s := Start(t, Config{Now: clock.Now, RateAllEnv: 3})
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
	s := Start(t, Config{Dataset: SampleDataset(), RatePerAPI: 20})
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

// A fixed-window quota per API, shared by every caller of the app ID: the
// header counts down within the window, the call beyond the limit is refused
// with Retry-After until the window's end, and the next window starts full.
func TestQuotaEnforced(t *testing.T) {
	clock := newFakeClock() // 12:00:00, on a window boundary
	s := Start(t, Config{Dataset: SampleDataset(), Now: clock.Now, QuotaPerAPI: 3, QuotaWindow: 10 * time.Second})
	tokA, tokB := login(t, s, ""), login(t, s, "other-user") // two clients of one app ID
	details := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + SampleDataset().Conferences[0].ConfUUID
	list := s.URL + "/v1/mmc/management/record/files?startDate=0&endDate=1"
	steps := []gatewayStep{
		{"1st", 0, details, tokA, 200, "remain:2,limit:3,time:10 second", "", ""},
		{"2nd from another client", time.Second, details, tokB, 200, "remain:1,limit:3,time:10 second", "", ""},
		{"3rd", time.Second, details, tokA, 200, "remain:0,limit:3,time:10 second", "", ""},
		{"4th refused until the window ends", 1500 * time.Millisecond, details, tokB, 429, "remain:0,limit:3,time:10 second", "", "7"},
		{"other API has its own quota", 0, list, tokA, 200, "remain:2,limit:3,time:10 second", "", ""},
		{"still refused just before the end", 6400 * time.Millisecond, details, tokA, 429, "remain:0,limit:3,time:10 second", "", "1"},
		{"a new window starts full", 100 * time.Millisecond, details, tokA, 200, "remain:2,limit:3,time:10 second", "", ""},
		{"no carry-over after idle windows", time.Minute, details, tokB, 200, "remain:2,limit:3,time:10 second", "", ""},
	}
	runGatewaySteps(t, clock, steps)
	if got := s.Counters().Throttled; got != 2 {
		t.Errorf("Throttled = %d, want 2", got)
	}
}

// The quota belongs to the app, not to a connection or a login: logins of
// two users of the app draw on one quota of the login API; the account login
// is another API with a quota of its own.
func TestQuotaSharedByLogins(t *testing.T) {
	clock := newFakeClock()
	s := Start(t, Config{Now: clock.Now, QuotaPerAPI: 2})
	appLogin := func(user string) reply {
		body, authz := appAuthRequest(DefaultAppID, DefaultAppKey, user, 0, testNonce)
		return call(t, "POST", s.URL+"/v2/usg/acs/auth/appauth", body, "Authorization", authz, "X-Token-Type", "LongTicket")
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultAccount+":"+DefaultPassword))
	replies := []reply{
		appLogin("alice"),
		appLogin("bob"),
		call(t, "POST", s.URL+"/v1/usg/acs/auth/account", `{"account":"`+DefaultAccount+`","clientType":72}`, "Authorization", basic),
	}
	for i, r := range replies {
		if r.status != 200 {
			t.Errorf("login %d: status %d, want 200 within the quota (body %s)", i+1, r.status, r.body)
		}
	}
	r := appLogin("carol")
	wantError(t, r, 429, CodeThrottled)
	if got, want := r.header.Get("X-APIG-Ratelimit-Api"), "remain:0,limit:2,time:1 minute"; got != want {
		t.Errorf("X-APIG-Ratelimit-Api = %q, want %q", got, want)
	}
}

func TestWindowUnit(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Second, "1 second"}, {10 * time.Second, "10 second"}, {time.Minute, "1 minute"},
		{90 * time.Second, "90 second"}, {5 * time.Minute, "5 minute"}, {time.Hour, "1 hour"}, {48 * time.Hour, "2 day"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := windowUnit(tt.in); got != tt.want {
				t.Errorf("windowUnit(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestQuotaConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"quota", Config{QuotaPerAPI: 10, QuotaWindow: 5 * time.Second}, ""},
		{"default window", Config{QuotaPerAPI: 10}, ""},
		{"negative", Config{QuotaPerAPI: -1}, "QuotaPerAPI -1"},
		{"fractional window", Config{QuotaPerAPI: 1, QuotaWindow: 1500 * time.Millisecond}, "QuotaWindow 1.5s"},
		{"with a rate", Config{QuotaPerAPI: 1, RatePerAPI: 2}, "choose one"},
		{"bucket", Config{QuotaPerAPI: 1200, QuotaModel: QuotaBucket, QuotaBurst: 20}, ""},
		{"unknown model", Config{QuotaPerAPI: 1, QuotaModel: "sliding"}, `QuotaModel "sliding"`},
		{"per API", Config{QuotaPerAPI: 1, QuotaModels: map[string]string{EndpointDetails: QuotaBucket}}, ""},
		{"per unknown API", Config{QuotaPerAPI: 1, QuotaModels: map[string]string{"media": QuotaBucket}}, `endpoint "media"`},
		{"negative burst", Config{QuotaPerAPI: 1, QuotaBurst: -1}, "QuotaBurst -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// The continuous model: a token bucket of QuotaBurst calls refilled at the
// quota's average rate, the quota shown per window in X-APIG-Ratelimit-Api
// (refilling as continuously) and the bucket per second in
// X-APIG-Ratelimit-Api-Allenv; a call finding the bucket empty is refused.
func TestQuotaBucket(t *testing.T) {
	clock := newFakeClock()
	s := Start(t, Config{Dataset: SampleDataset(), Now: clock.Now, QuotaPerAPI: 1200, QuotaModel: QuotaBucket, QuotaBurst: 3})
	tokA, tokB := login(t, s, ""), login(t, s, "other-user") // two clients of one app ID
	details := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + SampleDataset().Conferences[0].ConfUUID
	list := s.URL + "/v1/mmc/management/record/files?startDate=0&endDate=1"
	steps := []gatewayStep{
		{"1st", 0, details, tokA, 200, "remain:1199,limit:1200,time:1 minute", "remain:2,limit:20,time:1 second", ""},
		{"2nd from another client", 0, details, tokB, 200, "remain:1198,limit:1200,time:1 minute", "remain:1,limit:20,time:1 second", ""},
		{"3rd", 0, details, tokA, 200, "remain:1197,limit:1200,time:1 minute", "remain:0,limit:20,time:1 second", ""},
		{"4th: the burst is spent", 0, details, tokB, 429, "remain:1197,limit:1200,time:1 minute", "remain:0,limit:20,time:1 second", "1"},
		{"other API has its own bucket", 0, list, tokA, 200, "remain:1199,limit:1200,time:1 minute", "remain:2,limit:20,time:1 second", ""},
		{"one call back after 50 ms", 50 * time.Millisecond, details, tokA, 200, "remain:1197,limit:1200,time:1 minute", "remain:0,limit:20,time:1 second", ""},
		{"two back after 100 ms more", 100 * time.Millisecond, details, tokA, 200, "remain:1198,limit:1200,time:1 minute", "remain:1,limit:20,time:1 second", ""},
		{"the bucket holds the burst, the quota its window", time.Minute, details, tokB, 200, "remain:1199,limit:1200,time:1 minute", "remain:2,limit:20,time:1 second", ""},
	}
	runGatewaySteps(t, clock, steps)
	if got := s.Counters().Throttled; got != 1 {
		t.Errorf("Throttled = %d, want 1", got)
	}
}

// The quota model is chosen per API: details on a bucket, downloadurls on
// fixed windows, in one simulator. The default burst is one second's
// refill.
func TestQuotaModelPerAPI(t *testing.T) {
	clock := newFakeClock() // on a window boundary
	ds := SampleDataset()
	s := Start(t, Config{Dataset: ds, Now: clock.Now, QuotaPerAPI: 120, RecordInfo: true,
		QuotaModels: map[string]string{EndpointDetails: QuotaBucket}})
	tok := login(t, s, "")
	id := ds.Conferences[0].ConfUUID
	details := s.URL + "/v1/mmc/management/conferences/record/files?confUUID=" + id
	links := s.URL + "/v1/mmc/management/record/downloadurls?confUUID=" + id
	count := func(url string) (ok int, last reply) {
		for range 10 {
			last = call(t, "GET", url, "", "X-Access-Token", tok)
			if last.status == 200 {
				ok++
			}
		}
		return ok, last
	}
	if ok, r := count(details); ok != 2 {
		t.Errorf("details, a bucket of 120 a minute (burst 2): %d of 10 calls at once allowed, want 2 (last answer %d %s)", ok, r.status, r.header)
	} else if got, want := r.header.Get("X-APIG-Ratelimit-Api-Allenv"), "remain:0,limit:2,time:1 second"; got != want {
		t.Errorf("details Allenv = %q, want %q", got, want)
	}
	if ok, r := count(links); ok != 10 {
		t.Errorf("downloadurls, fixed windows of 120: %d of 10 calls at once allowed, want 10 (last answer %d)", ok, r.status)
	} else if got, want := r.header.Get("X-APIG-Ratelimit-Api"), "remain:110,limit:120,time:1 minute"; got != want {
		t.Errorf("downloadurls header = %q, want %q", got, want)
	} else if got, want := r.header.Get("X-APIG-Ratelimit-Api-Allenv"), "remain:190,limit:200,time:1 second"; got != want {
		t.Errorf("downloadurls Allenv = %q, want its own 200 per second (%q)", got, want)
	}
}

func TestParseQuotaModels(t *testing.T) {
	tests := []struct {
		in        string
		wantModel string
		wantPer   map[string]string
		wantErr   string
	}{
		{"bucket", QuotaBucket, nil, ""},
		{"fixed", QuotaFixed, nil, ""},
		{" Bucket , downloadurls=fixed", QuotaBucket, map[string]string{"downloadurls": QuotaFixed}, ""},
		{"details=bucket,recordinfo=bucket", "", map[string]string{"details": QuotaBucket, "recordinfo": QuotaBucket}, ""},
		{"", "", nil, ""},
		{"leaky", "", nil, `"leaky"`},
		{"bucket,fixed", "", nil, "two models"},
		{"media=bucket", "", nil, `endpoint "media"`},
		{"details=sliding", "", nil, `"sliding"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			model, per, err := ParseQuotaModels(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseQuotaModels(%q) error = %v, want one containing %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || model != tt.wantModel || fmt.Sprint(per) != fmt.Sprint(tt.wantPer) {
				t.Errorf("ParseQuotaModels(%q) = %q, %v, %v; want %q, %v", tt.in, model, per, err, tt.wantModel, tt.wantPer)
			}
		})
	}
}

// gatewayStep is one call of a gateway test: after advancing the clock, a
// GET of url with the access token tok, and what the gateway answers.
type gatewayStep struct {
	name       string
	advance    time.Duration
	url, tok   string
	wantStatus int
	wantAPI    string // X-APIG-Ratelimit-Api
	wantEnv    string // X-APIG-Ratelimit-Api-Allenv; "": any, but present
	retryAfter string
}

// runGatewaySteps makes the calls of steps in order, one subtest each.
func runGatewaySteps(t *testing.T, clock *fakeClock, steps []gatewayStep) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clock.Add(st.advance)
			r := call(t, "GET", st.url, "", "X-Access-Token", st.tok)
			if st.wantStatus == 429 {
				e := wantError(t, r, 429, CodeThrottled)
				if e.ErrorMsg != "the throttling threshold has been reached" {
					t.Errorf("error_msg = %q", e.ErrorMsg)
				}
			} else if r.status != st.wantStatus {
				t.Fatalf("status %d body %s", r.status, r.body)
			}
			if got := r.header.Get("X-APIG-Ratelimit-Api"); got != st.wantAPI {
				t.Errorf("X-APIG-Ratelimit-Api = %q, want %q", got, st.wantAPI)
			}
			env := r.header.Get("X-APIG-Ratelimit-Api-Allenv")
			if st.wantEnv == "" && env == "" {
				t.Errorf("no X-APIG-Ratelimit-Api-Allenv header")
			}
			if st.wantEnv != "" && env != st.wantEnv {
				t.Errorf("X-APIG-Ratelimit-Api-Allenv = %q, want %q", env, st.wantEnv)
			}
			if got := r.header.Get("Retry-After"); got != st.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, st.retryAfter)
			}
		})
	}
}
