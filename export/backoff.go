package export

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxRetryAfter caps one wait for a server's Retry-After (API and media
// alike): a server asking for more is answered after MaxRetryAfter, or, when
// the Backoff's MaxElapsed budget cannot cover what it asked for, not at all.
const MaxRetryAfter = 5 * time.Minute

// Backoff is the retry schedule: capped exponential delays with full jitter,
// never shorter than a Retry-After the server asked for (up to
// MaxRetryAfter). Its Next is the one retry policy: the client uses it for
// every API call, the pipeline for whole-file download retries.
type Backoff struct {
	Base        time.Duration // first step; 0 = DefaultRetryBase
	Max         time.Duration // cap of a step; 0 = DefaultRetryMax
	MaxAttempts int           // total tries including the first; 0 = unlimited
	MaxElapsed  time.Duration // give up when the next try would start later than this after the first; 0 = unlimited
}

// Delay is how long to wait after try number attempt (1-based) failed with err:
// a uniformly random duration in [0, min(Max, Base*2^(attempt-1))], or the
// err's Retry-After (at most MaxRetryAfter) when that is longer.
func (b Backoff) Delay(attempt int, err error) time.Duration {
	base, max := b.Base, b.Max
	if base <= 0 {
		base = DefaultRetryBase
	}
	if max <= 0 {
		max = DefaultRetryMax
	}
	if max < base {
		max = base
	}
	if attempt < 1 {
		attempt = 1
	}
	d := max
	if attempt-1 < 40 {
		if step := base << (attempt - 1); step > 0 && step < max {
			d = step
		}
	}
	j := time.Duration(rand.Int64N(int64(d) + 1))
	if ra := min(RetryAfter(err), MaxRetryAfter); ra > j {
		return ra
	}
	return j
}

// Next decides about another try after try number attempt failed with err,
// elapsed after the first try started: whether to retry (ShouldRetry, the
// attempt and time budgets) and after how long (Delay). It never waits past
// MaxElapsed: when the delay, or the Retry-After the server asked for, would
// end beyond it, Next gives up at once rather than sleep.
func (b Backoff) Next(attempt int, elapsed time.Duration, err error) (time.Duration, bool) {
	if !ShouldRetry(err) {
		return 0, false
	}
	if b.MaxAttempts > 0 && attempt >= b.MaxAttempts {
		return 0, false
	}
	if b.MaxElapsed > 0 && elapsed+RetryAfter(err) > b.MaxElapsed {
		return 0, false
	}
	d := b.Delay(attempt, err)
	if b.MaxElapsed > 0 && elapsed+d > b.MaxElapsed {
		return 0, false
	}
	return d, true
}

// RetryAfter is the Retry-After an API error in err's chain carries, or 0.
func RetryAfter(err error) time.Duration {
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter
	}
	return 0
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n != n { // negative or NaN
			return 0
		}
		if n > 24*3600 {
			n = 24 * 3600
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

// Sleep waits d, or until ctx is done (then it returns ctx.Err()); the
// pipeline uses it with Backoff for whole-file retries.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
