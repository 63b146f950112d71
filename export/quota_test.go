package export_test

// The client against a gateway quota shared by every client of the app ID
// (meetingtest's QuotaPerAPI), in fixed windows and as a bucket refilled
// continuously.

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"meetarchive/export"
	"meetarchive/export/meetingtest"
)

// quotaCase is a gateway quota: limit calls of each API per window, in
// one of meetingtest's quota models.
type quotaCase struct {
	limit  int
	window time.Duration
	model  string
}

func (q quotaCase) rate() float64 { return float64(q.limit) / q.window.Seconds() }

// quotaCases: fixed windows of the 1,200 details calls a minute (20
// a second) scaled to a 5-second window (100 per 5 s), so that a test of a
// few seconds crosses several windows, and a bucket of 20 a second with a
// burst of 20 advertised as 1,200 a minute.
func quotaCases() map[string]quotaCase {
	return map[string]quotaCase{
		"fixed windows of 100 per 5s":             {100, 5 * time.Second, meetingtest.QuotaFixed},
		"a bucket of 1200 a minute with burst 20": {1200, time.Minute, meetingtest.QuotaBucket},
	}
}

// detailsCalls makes n details calls through c with workers goroutines and
// returns how long they took.
func detailsCalls(ctx context.Context, t *testing.T, c *export.Client, ids []string, n, workers int) time.Duration {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if _, err := c.Details(ctx, ids[i%len(ids)]); err != nil {
					t.Errorf("Details: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

func quotaSim(t *testing.T, q quotaCase) (*meetingtest.Server, []string) {
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 50, Seed: 12})
	return meetingtest.Start(t, meetingtest.Config{Dataset: ds, QuotaPerAPI: q.limit, QuotaWindow: q.window, QuotaModel: q.model, QuotaBurst: 20}), ds.UUIDs()
}

// TestQuota: the client against a gateway quota in each model, on the
// machine's real clock: every call made, no storm of 429s, and the quota's
// model learnt. How close to the quota it gets is measured by make bench
// (the quota workloads) and, in simulated time, by TestPacingBothModels: a
// bound on time here would break on a busy machine.
func TestQuota(t *testing.T) {
	for name, q := range quotaCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			t.Run("one client", func(t *testing.T) { quotaClients(t, q, 1, 200) })
			t.Run("four clients", func(t *testing.T) { quotaClients(t, q, 4, 50) })
		})
	}
}

// quotaClients: clients clients of one app ID (the shards of a job), each
// with 4 calls in flight, started together in auto mode, each making calls
// details calls: every call succeeds, at most 1 in 50 is answered 429, and
// each client has learnt the quota's model.
func quotaClients(t *testing.T, q quotaCase, clients, calls int) {
	sim, ids := quotaSim(t, q)
	ctx := testCtx(t, 5*time.Minute) // a safety net: the calls take seconds
	cs := make([]*export.Client, clients)
	for i := range cs {
		cs[i] = export.NewTestClient(t, sim.URL, appCreds(), func(c *export.Config) { c.Rate = export.RateAuto })
		if err := cs[i].Authenticate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	took := make([]time.Duration, clients)
	for i, c := range cs {
		wg.Go(func() {
			took[i] = detailsCalls(ctx, t, c, ids[i*len(ids)/clients:(i+1)*len(ids)/clients], calls, 4)
		})
	}
	wg.Wait()
	ctr := sim.Counters()
	t.Logf("%d x %d calls in %v (the quota allows %.1fs); 429s %d", clients, calls, roundAll(took),
		float64(clients*calls)/q.rate(), ctr.Throttled)
	if ctr.Details != int64(clients*calls)+ctr.Throttled {
		t.Errorf("details requests = %d, want %d calls and %d refused", ctr.Details, clients*calls, ctr.Throttled)
	}
	if ctr.Throttled*50 > int64(clients*calls) {
		t.Errorf("429s = %d for %d calls, want at most 1 in 50", ctr.Throttled, clients*calls)
	}
	want := map[string]string{meetingtest.QuotaFixed: "fixed", meetingtest.QuotaBucket: "continuous"}[q.model]
	for i, c := range cs {
		if got := c.CallStats().Calls["details"][export.OutcomeOK]; got != int64(calls) {
			t.Errorf("client %d: CallStats details ok = %d, want %d", i, got, calls)
		}
		if got, _ := c.QuotaModel("details"); got != want {
			t.Errorf("client %d learnt the quota to be %q, want %q", i, got, want)
		}
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}
