package export

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

// Outcomes of one API try, the keys of CallStats.Calls' inner maps.
const (
	OutcomeOK          = "ok"
	OutcomeThrottled   = "throttled"    // 429 or APIG.0308
	OutcomeClientError = "http-4xx"     // any other 4xx
	OutcomeServerError = "http-5xx"     // 5xx
	OutcomeAPIError    = "api-error"    // an error code in an answer of another status
	OutcomeBadResponse = "bad-response" // an answer that could not be read or decoded
	OutcomeNetwork     = "network"      // no answer: connection trouble or a timeout
	OutcomeCanceled    = "canceled"     // the caller's context ended during the try
	OutcomeOther       = "other"        // the request could not be built
)

// CallStats counts the client's API tries (retries included, media streams
// not) by API and outcome, and what the rate limiters cost. It is a copy.
type CallStats struct {
	// Calls maps an API ("auth", "details", "downloadurls", "recordinfo",
	// "list", "delete", "history", "historydetail", "attendees",
	// "ctlrecords") to outcome (the Outcome constants) to tries.
	Calls map[string]map[string]int64
	// Waited maps an API to the time its calls spent waiting for the rate
	// limiters and the client's pauses, summed over concurrent callers.
	Waited    map[string]time.Duration
	Requests  int64 // API requests sent (as Stats.Requests)
	Retries   int64 // tries that were retries of a failed one
	Throttled int64 // answers 429 or APIG.0308
}

// CallStats is a snapshot of the client's counters by API and outcome. It is
// safe to call while other goroutines use the client.
func (c *Client) CallStats() CallStats {
	return CallStats{
		Calls:     c.calls.snapshot(),
		Waited:    c.limits.waitedCopy(),
		Requests:  c.stats.requests.Load(),
		Retries:   c.stats.retries.Load(),
		Throttled: c.stats.throttled.Load(),
	}
}

// callCounter counts tries by API and outcome.
type callCounter struct {
	mu sync.Mutex
	m  map[string]map[string]int64
}

func (cc *callCounter) record(api string, err error) {
	o := outcome(err)
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil {
		cc.m = make(map[string]map[string]int64)
	}
	if cc.m[api] == nil {
		cc.m[api] = make(map[string]int64)
	}
	cc.m[api][o]++
}

func (cc *callCounter) snapshot() map[string]map[string]int64 {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	out := make(map[string]map[string]int64, len(cc.m))
	for api, m := range cc.m {
		out[api] = maps.Clone(m)
	}
	return out
}

// outcome classifies the result of one try.
func outcome(err error) string {
	var (
		ae *APIError
		be *BadResponseError
		ne *netError
	)
	switch {
	case err == nil:
		return OutcomeOK
	case errors.As(err, &ae):
		switch {
		case ae.Throttled():
			return OutcomeThrottled
		case ae.StatusCode >= 500 && ae.StatusCode <= 599:
			return OutcomeServerError
		case ae.StatusCode >= 400 && ae.StatusCode <= 499:
			return OutcomeClientError
		}
		return OutcomeAPIError
	case errors.As(err, &be):
		return OutcomeBadResponse
	case errors.As(err, &ne):
		return OutcomeNetwork
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return OutcomeCanceled
	}
	return OutcomeOther
}
