package meetingtest

import (
	"fmt"
	"math"
	"time"
)

// DefaultQuotaWindow is Config.QuotaWindow's default.
const DefaultQuotaWindow = time.Minute

// bucket models one gateway limit, either as a token bucket (RatePerAPI,
// RateAllEnv) or as a fixed-window quota (QuotaPerAPI). Its header shows the
// limit and what is left of it after this request.
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

// quotaKey is the key of one API's limit for the caller. The gateway counts
// per API and per caller (the app); every client of the simulator
// authenticates as its one app ID (or its one account, which belongs to the
// same app), so all of them share one limit per API, whichever process or
// connection they come from.
func (s *Server) quotaKey(api string) string {
	return s.cfg.AppID + "\x00" + api
}

// gateway accounts one API request against its API's limit and the
// all-APIs bucket. It returns the two header values and, when an enforced
// limit is exceeded, how long to wait (> 0 means refuse).
func (s *Server) gateway(api string) (apiHdr, allHdr string, refuse time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.quotaKey(api)
	b := s.buckets[key]
	if b == nil {
		switch {
		case s.cfg.QuotaPerAPI > 0:
			b = newQuota(s.cfg.QuotaPerAPI, s.cfg.QuotaWindow)
		case s.cfg.RatePerAPI > 0:
			b = newBucket(s.cfg.RatePerAPI, s.cfg.RateBurst, true, now)
		default:
			b = newBucket(advertisedRate, 0, false, now)
		}
		s.buckets[key] = b
	}
	if s.allEnv == nil {
		rate, enforce := float64(DefaultAllEnvRate), false
		if s.cfg.RateAllEnv > 0 {
			rate, enforce = s.cfg.RateAllEnv, true
		}
		s.allEnv = newBucket(rate, 0, enforce, now)
	}
	b.refill(now)
	s.allEnv.refill(now)
	if w := b.wait(now); w > 0 && b.enforce {
		refuse = w
	}
	if w := s.allEnv.wait(now); w > 0 && s.allEnv.enforce {
		refuse = max(refuse, w)
	}
	if refuse == 0 {
		b.take()
		s.allEnv.take()
	}
	return b.header(), s.allEnv.header(), refuse
}

// retryAfterSeconds renders a wait as whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return fmt.Sprint(max(1, int64(math.Ceil(d.Seconds()))))
}

// validateQuota checks QuotaPerAPI and QuotaWindow.
func (c Config) validateQuota() error {
	switch {
	case c.QuotaPerAPI < 0:
		return fmt.Errorf("meetingtest: config: QuotaPerAPI %d: must not be negative", c.QuotaPerAPI)
	case c.QuotaWindow < 0 || c.QuotaWindow%time.Second != 0:
		return fmt.Errorf("meetingtest: config: QuotaWindow %v: want whole seconds", c.QuotaWindow)
	case c.QuotaPerAPI > 0 && c.RatePerAPI > 0:
		return fmt.Errorf("meetingtest: config: QuotaPerAPI and RatePerAPI: choose one per-API limit")
	}
	return nil
}
