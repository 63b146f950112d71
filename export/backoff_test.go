package export

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoffRetryAfterBounded(t *testing.T) {
	day := &APIError{Op: "media", StatusCode: 503, RetryAfter: 24 * time.Hour}
	tests := []struct {
		name      string
		b         Backoff
		elapsed   time.Duration
		err       error
		wantAgain bool
		wantDelay time.Duration // checked when wantAgain
	}{
		{"a day under a 2m budget gives up", Backoff{MaxElapsed: 2 * time.Minute}, 0, day, false, 0},
		{"a day under a 1h budget gives up", Backoff{MaxElapsed: time.Hour}, 0, day, false, 0},
		{"a day without a budget waits MaxRetryAfter", Backoff{}, 0, day, true, MaxRetryAfter},
		{"30s fits a 2m budget", Backoff{MaxElapsed: 2 * time.Minute}, 0,
			&APIError{StatusCode: 429, RetryAfter: 30 * time.Second}, true, 30 * time.Second},
		{"30s does not fit what is left", Backoff{MaxElapsed: 2 * time.Minute}, 100 * time.Second,
			&APIError{StatusCode: 429, RetryAfter: 30 * time.Second}, false, 0},
		{"wrapped", Backoff{MaxElapsed: 2 * time.Minute}, 0, fmt.Errorf("file: %w", day), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, again := tt.b.Next(1, tt.elapsed, tt.err)
			if again != tt.wantAgain {
				t.Fatalf("Next again = %v (delay %v), want %v", again, d, tt.wantAgain)
			}
			if again && d != tt.wantDelay {
				t.Errorf("Next delay = %v, want %v", d, tt.wantDelay)
			}
		})
	}
	t.Run("Delay never exceeds MaxRetryAfter", func(t *testing.T) {
		if got := (Backoff{}).Delay(1, day); got != MaxRetryAfter {
			t.Errorf("Delay = %v, want %v", got, MaxRetryAfter)
		}
	})
}

// TestRetryAfterBeyondBudget: an API call and a media download answered with
// Retry-After: 86400 give up at once under the default 2-minute budget.
func TestRetryAfterBeyondBudget(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		var hits atomic.Int64
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.Header().Set("Retry-After", "86400")
			writeAPIError(w, status, "", "come back tomorrow")
		})
		c := NewTestClient(t, srv.URL, tokenCreds, func(c *Config) { c.MaxElapsed = 2 * time.Minute })
		t.Run(fmt.Sprintf("api %d", status), func(t *testing.T) {
			hits.Store(0)
			start := time.Now()
			_, err := c.Details(ctxT(t), testConfUUID)
			if el := time.Since(start); el > time.Minute { // a safety net: waiting would take a day
				t.Errorf("Details took %v, want an answer at once", el)
			}
			if err == nil || RetryAfter(err) != 24*time.Hour {
				t.Fatalf("Details: %v (Retry-After %v), want the error with its Retry-After", err, RetryAfter(err))
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
		t.Run(fmt.Sprintf("media %d", status), func(t *testing.T) {
			b := Backoff{MaxElapsed: 2 * time.Minute}
			start := time.Now()
			_, err := c.OpenMedia(ctxT(t), File{FileType: "Hd", Name: "0_0.mp4", URL: srv.URL + "/media", Token: "tok-1234"})
			if err == nil || !ShouldRetry(err) {
				t.Fatalf("OpenMedia: %v, want a retryable error", err)
			}
			if d, again := b.Next(1, time.Since(start), err); again {
				t.Errorf("Next = wait %v, want to give up (Retry-After beyond the budget)", d)
			}
			if el := time.Since(start); el > time.Minute { // a safety net: waiting would take a day
				t.Errorf("gave up after %v, want at once", el)
			}
		})
	}
}

// testConfUUID is a well-formed conference UUID for calls that must reach the server.
const testConfUUID = "0123456789abcdef0123456789abcdef"
