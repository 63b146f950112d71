package meetingtest

// # Gateway
//
// Every API response (not media) carries the two headers of the vendor's
// gateway: "X-APIG-Ratelimit-Api: remain:R,limit:L,time:W" (the API's quota
// for the caller) and "X-APIG-Ratelimit-Api-Allenv: remain:R,limit:L,time:1
// second" (the API's per-second limit). Limits belong to the caller (the
// app), not to a connection or a login: every client of the simulator
// authenticates as its one app ID, so all of them, from any number of
// processes, share one limit per API. A request an enforced limit refuses
// answers 429 APIG.0308 ("the throttling threshold has been reached") with
// Retry-After (whole seconds, at least 1) and counts in Counters.Throttled;
// a refused request uses nothing. The login APIs are limited like any other.
//
// With Config.QuotaPerAPI = N > 0 each API has a quota of N calls per
// Config.QuotaWindow W (default one minute, whole seconds), advertised as
// "remain:R,limit:N,time:1 minute" (or "time:10 second": a count and a
// singular unit), in one of two models, chosen for every API by
// Config.QuotaModel and per endpoint by Config.QuotaModels (a real gateway
// may do either, and a client must not depend on which):
//
//   - QuotaFixed (the default): fixed windows aligned to multiples of W;
//     R is what is left in the current window, a call beyond it is refused
//     until the window's end, and the next window starts with all N.
//   - QuotaBucket: a token bucket that refills continuously at N per W and
//     holds at most Config.QuotaBurst calls (default one second's refill:
//     20 for 1,200 a minute). The quota header's R refills as continuously
//     (a bucket of N); the Allenv header shows the burst bucket per second:
//     "remain:<whole tokens>,limit:<N per second>,time:1 second". A call
//     finding either bucket empty is refused until a token is back.
//
// Without a quota, Config.RatePerAPI = r > 0 gives each API an enforced
// token bucket on the Config.Now clock, holding Config.RateBurst tokens
// (default L) and refilling at r/s, shown as "limit:r,time:1 second" when r
// is a whole number, else as round(60r) per "1 minute"; with neither,
// nothing is enforced and the header advertises 1000 per second. The Allenv
// header shows, unless the QuotaBucket model's bucket does, the API's own
// per-second limit of 200 (not enforced); Config.RateAllEnv instead puts one
// enforced limit over all APIs together and shows it in every API's Allenv
// header.

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// DefaultQuotaWindow is Config.QuotaWindow's default.
const DefaultQuotaWindow = time.Minute

// Quota models: how an API's quota (Config.QuotaPerAPI per QuotaWindow)
// comes back once spent.
const (
	// QuotaFixed: fixed windows aligned to multiples of the window; all of
	// the quota comes back at once when the next window starts.
	QuotaFixed = "fixed"
	// QuotaBucket: a token bucket refilled continuously at QuotaPerAPI per
	// QuotaWindow that holds at most Config.QuotaBurst calls.
	QuotaBucket = "bucket"
)

// bucket models one gateway limit, either as a token bucket (RatePerAPI,
// RateAllEnv, the QuotaBucket model) or as a fixed-window quota (the
// QuotaFixed model). Its header shows the limit and what is left of it after
// this request.
type bucket struct {
	limit   int
	unit    string // the header's time: "1 second", "1 minute", "10 second"
	enforce bool

	// Token bucket.
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time

	// Fixed window: at most limit calls in each window of the given size,
	// windows aligned to multiples of size since the zero time.
	window time.Duration // 0: a token bucket
	start  time.Time     // of the current window
	used   int
}

// newBucket models rate requests/s. A whole rate of at least 1 is shown per
// second (limit = rate); anything else per minute (limit = round(rate*60)).
// The bucket holds burst tokens (0 = limit) and starts full.
func newBucket(rate float64, burst int, enforce bool, now time.Time) *bucket {
	b := &bucket{rate: rate, enforce: enforce, last: now}
	if rate >= 1 && rate == math.Trunc(rate) {
		b.limit, b.unit = int(rate), "1 second"
	} else {
		b.limit, b.unit = max(1, int(math.Round(rate*60))), "1 minute"
	}
	b.burst = float64(b.limit)
	if burst > 0 {
		b.burst = float64(burst)
	}
	b.tokens = b.burst
	return b
}

// newQuota models an enforced quota of limit calls per fixed window.
func newQuota(limit int, window time.Duration) *bucket {
	return &bucket{limit: limit, window: window, unit: windowUnit(window), enforce: true}
}

// newFlow models an enforced token bucket that refills limit tokens per
// window continuously, holds burst of them, starts full and shows
// "limit:<limit>,time:<window>".
func newFlow(limit int, window time.Duration, burst int, now time.Time) *bucket {
	return &bucket{limit: limit, unit: windowUnit(window), enforce: true, last: now,
		rate: float64(limit) / window.Seconds(), burst: float64(burst), tokens: float64(burst)}
}

// windowUnit renders a window as the gateway does: a count and a singular
// unit, the largest unit that divides it ("1 minute", "10 second").
func windowUnit(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d >= u.d && d%u.d == 0 {
			return fmt.Sprintf("%d %s", d/u.d, u.name)
		}
	}
	return fmt.Sprintf("%d second", max(1, int64(math.Round(d.Seconds()))))
}

func (b *bucket) refill(now time.Time) {
	if b.window > 0 {
		if start := now.Truncate(b.window); !start.Equal(b.start) {
			b.start, b.used = start, 0
		}
		return
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// wait is how long until one call is allowed (0 if one is).
func (b *bucket) wait(now time.Time) time.Duration {
	if b.window > 0 {
		if b.used < b.limit {
			return 0
		}
		return b.start.Add(b.window).Sub(now)
	}
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

func (b *bucket) take() {
	if b.window > 0 {
		b.used = min(b.limit, b.used+1)
		return
	}
	b.tokens = max(0, b.tokens-1)
}

func (b *bucket) remain() int {
	if b.window > 0 {
		return b.limit - b.used
	}
	return int(math.Floor(b.tokens))
}

func (b *bucket) header() string {
	return fmt.Sprintf("remain:%d,limit:%d,time:%s", b.remain(), b.limit, b.unit)
}

// perSecondHeader shows a token bucket per second, as the gateway's Allenv
// header does: the calls it refills in a second as the limit, the whole
// tokens it holds (at most that limit) as remain.
func (b *bucket) perSecondHeader() string {
	limit := max(1, int(math.Round(b.rate)))
	return fmt.Sprintf("remain:%d,limit:%d,time:1 second", min(limit, b.remain()), limit)
}

// gate is one API's limits for the caller: its quota, shown in
// X-APIG-Ratelimit-Api, and (unless Config.RateAllEnv puts one limit over
// all APIs) its per-second limit, shown in X-APIG-Ratelimit-Api-Allenv.
type gate struct {
	api *bucket
	// burst is the QuotaBucket model's enforced bucket (nil otherwise):
	// QuotaBurst calls at most, refilled at the quota's average rate. It is
	// the API's per-second limit.
	burst *bucket
	// env is the API's default per-second limit when there is no burst
	// bucket: DefaultAllEnvRate, not enforced.
	env *bucket
}

// quotaKey is the key of one API's limit for the caller. The gateway counts
// per API and per caller (the app); every client of the simulator
// authenticates as its one app ID (or its one account, which belongs to the
// same app), so all of them share one limit per API, whichever process or
// connection they come from.
func (s *Server) quotaKey(api string) string {
	return s.cfg.AppID + "\x00" + api
}

// quotaModel is the quota model of the API behind endpoint.
func (c *Config) quotaModel(endpoint string) string {
	if m, ok := c.QuotaModels[endpoint]; ok && m != "" {
		return m
	}
	if c.QuotaModel != "" {
		return c.QuotaModel
	}
	return QuotaFixed
}

// newGate builds the limits of one API.
func (s *Server) newGate(endpoint string, now time.Time) *gate {
	g := &gate{}
	c := &s.cfg
	switch {
	case c.QuotaPerAPI > 0 && c.quotaModel(endpoint) == QuotaBucket:
		burst := c.QuotaBurst
		if burst <= 0 {
			burst = max(1, int(math.Round(float64(c.QuotaPerAPI)/c.QuotaWindow.Seconds())))
		}
		// The quota shown per window refills as continuously as the
		// bucket that enforces the burst.
		g.api = newFlow(c.QuotaPerAPI, c.QuotaWindow, c.QuotaPerAPI, now)
		g.burst = newFlow(c.QuotaPerAPI, c.QuotaWindow, burst, now)
	case c.QuotaPerAPI > 0:
		g.api = newQuota(c.QuotaPerAPI, c.QuotaWindow)
	case c.RatePerAPI > 0:
		g.api = newBucket(c.RatePerAPI, c.RateBurst, true, now)
	default:
		g.api = newBucket(advertisedRate, 0, false, now)
	}
	if g.burst == nil {
		g.env = newBucket(DefaultAllEnvRate, 0, false, now)
	}
	return g
}

// gateway accounts one API request against its API's limits and the
// per-second limit. It returns the two header values and, when an enforced
// limit is exceeded, how long to wait (> 0 means refuse).
func (s *Server) gateway(api, endpoint string) (apiHdr, allHdr string, refuse time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.quotaKey(api)
	g := s.gates[key]
	if g == nil {
		g = s.newGate(endpoint, now)
		s.gates[key] = g
	}
	if s.cfg.RateAllEnv > 0 && s.allEnv == nil {
		s.allEnv = newBucket(s.cfg.RateAllEnv, 0, true, now)
	}
	limits := []*bucket{g.api, g.burst, g.env, s.allEnv}
	for _, b := range limits {
		if b != nil {
			b.refill(now)
			if w := b.wait(now); w > 0 && b.enforce {
				refuse = max(refuse, w)
			}
		}
	}
	if refuse == 0 {
		for _, b := range limits {
			if b != nil {
				b.take()
			}
		}
	}
	switch {
	case s.allEnv != nil:
		allHdr = s.allEnv.header()
	case g.burst != nil:
		allHdr = g.burst.perSecondHeader()
	default:
		allHdr = g.env.header()
	}
	return g.api.header(), allHdr, refuse
}

// retryAfterSeconds renders a wait as whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return fmt.Sprint(max(1, int64(math.Ceil(d.Seconds()))))
}

// quotaEndpoints are the endpoints whose quota model QuotaModels may set.
var quotaEndpoints = []string{EndpointAuth, EndpointValidate, EndpointRefresh, EndpointLogout, EndpointDetails, EndpointList,
	EndpointDownloadURLs, EndpointRecordInfo, EndpointDelete, EndpointHistory, EndpointHistoryDetail, EndpointAttendees, EndpointCtlRecords}

// validateQuota checks QuotaPerAPI, QuotaWindow, the quota models and
// QuotaBurst.
func (c Config) validateQuota() error {
	switch {
	case c.QuotaPerAPI < 0:
		return fmt.Errorf("meetingtest: config: QuotaPerAPI %d: must not be negative", c.QuotaPerAPI)
	case c.QuotaWindow < 0 || c.QuotaWindow%time.Second != 0:
		return fmt.Errorf("meetingtest: config: QuotaWindow %v: want whole seconds", c.QuotaWindow)
	case c.QuotaPerAPI > 0 && c.RatePerAPI > 0:
		return fmt.Errorf("meetingtest: config: QuotaPerAPI and RatePerAPI: choose one per-API limit")
	case c.QuotaBurst < 0:
		return fmt.Errorf("meetingtest: config: QuotaBurst %d: must not be negative", c.QuotaBurst)
	}
	if err := checkQuotaModel("QuotaModel", c.QuotaModel); err != nil {
		return err
	}
	for _, ep := range slices.Sorted(maps.Keys(c.QuotaModels)) {
		if !slices.Contains(quotaEndpoints, ep) {
			return fmt.Errorf("meetingtest: config: QuotaModels: endpoint %q: want one of %v", ep, quotaEndpoints)
		}
		if err := checkQuotaModel("QuotaModels["+ep+"]", c.QuotaModels[ep]); err != nil {
			return err
		}
	}
	return nil
}

func checkQuotaModel(field, m string) error {
	switch m {
	case "", QuotaFixed, QuotaBucket:
		return nil
	}
	return fmt.Errorf("meetingtest: config: %s %q: want %q or %q", field, m, QuotaFixed, QuotaBucket)
}

// ParseQuotaModels reads the flag form of the quota models: a model for
// every API ("fixed" or "bucket"), then, comma-separated, an exception per
// endpoint: "bucket", "fixed,details=bucket", "details=bucket,downloadurls=fixed".
func ParseQuotaModels(s string) (model string, perAPI map[string]string, err error) {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		ep, m, found := strings.Cut(part, "=")
		if !found {
			if model != "" {
				return "", nil, fmt.Errorf("meetingtest: quota model %q: two models for every API", s)
			}
			model, m = part, part
		} else {
			ep, m = strings.TrimSpace(ep), strings.TrimSpace(m)
			if perAPI == nil {
				perAPI = map[string]string{}
			}
			perAPI[ep] = m
		}
		if m != QuotaFixed && m != QuotaBucket {
			return "", nil, fmt.Errorf("meetingtest: quota model %q: %q: want %s or %s", s, m, QuotaFixed, QuotaBucket)
		}
	}
	c := Config{QuotaModel: model, QuotaModels: perAPI}
	if err := c.validateQuota(); err != nil {
		return "", nil, err
	}
	return model, perAPI, nil
}
