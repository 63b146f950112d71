package meetingtest

import (
	"fmt"
	"math"
	"time"
)

// bucket is a token bucket that models one gateway limit. Its header shows
// the bucket's size as "limit" and the whole tokens left as "remain".
type bucket struct {
	rate    float64 // tokens per second
	burst   float64
	tokens  float64
	last    time.Time
	enforce bool
	limit   int
	unit    string // "1 second" | "1 minute"
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

func (b *bucket) refill(now time.Time) {
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
}

// wait is how long until one token is available (0 if one is).
func (b *bucket) wait() time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}

func (b *bucket) take() {
	b.tokens = max(0, b.tokens-1)
}

func (b *bucket) header() string {
	return fmt.Sprintf("remain:%d,limit:%d,time:%s", int(math.Floor(b.tokens)), b.limit, b.unit)
}

// gateway accounts one API request against its API's bucket and the
// all-APIs bucket. It returns the two header values and, when an enforced
// limit is exceeded, how long to wait (> 0 means refuse).
func (s *Server) gateway(api string) (apiHdr, allHdr string, refuse time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[api]
	if b == nil {
		rate, enforce := float64(advertisedRate), false
		if s.cfg.RatePerAPI > 0 {
			rate, enforce = s.cfg.RatePerAPI, true
		}
		b = newBucket(rate, s.cfg.RateBurst, enforce, now)
		s.buckets[api] = b
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
	if w := b.wait(); w > 0 && b.enforce {
		refuse = w
	}
	if w := s.allEnv.wait(); w > 0 && s.allEnv.enforce {
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
