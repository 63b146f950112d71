package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
)

// TestShardsShareOneQuota: four shards of one input, started together
// against a gateway enforcing one quota per app ID, with the default --rate
// (auto), once with fixed windows and once with a bucket refilled
// continuously: every conference archived, every shard exits 0, and no
// storm of 429s. How long they take against the quota is make bench's
// business (bench/, the quota workloads): a busy machine would break any
// bound on it here.
func TestShardsShareOneQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("a quota-bound run of several seconds")
	}
	const (
		confs  = 80
		shards = 4
	)
	for _, model := range []string{meetingtest.QuotaFixed, meetingtest.QuotaBucket} {
		t.Run(model, func(t *testing.T) {
			t.Parallel()
			ds := meetingtest.GenerateFiles(confs, 1, 1<<10, 109)
			// 10 calls a second of each API: 50 per 5 s windows, or a
			// bucket of 10 refilled at 10 a second.
			sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 109, QuotaPerAPI: 50, QuotaWindow: 5 * time.Second, QuotaModel: model})
			dir := t.TempDir()
			in := writeInput(t, dir, ds.UUIDs()...)
			env := simEnv(sim)
			delete(env, "MEETARCHIVE_RATE") // auto
			type done struct {
				code   int
				stderr string
			}
			results := make(chan done, shards)
			start := time.Now()
			for k := range shards {
				go func() {
					cmd, _, stderr := binCommand(env, "run", "--input", in, "--dest", filepath.Join(dir, "a"), "--out", filepath.Join(dir, fmt.Sprint("r", k)),
						"--shard", fmt.Sprintf("%d/%d", k, shards), "--links", "downloadurls")
					_ = cmd.Run()
					results <- done{cmd.ProcessState.ExitCode(), stderr.String()}
				}()
			}
			for range shards {
				if r := <-results; r.code != 0 {
					t.Errorf("shard: exit %d\n%s", r.code, r.stderr)
				}
			}
			ctr := sim.Counters()
			t.Logf("%s: %d conferences in %s (the quota allows %s); 429s: %d", model, confs, time.Since(start).Round(time.Millisecond), time.Duration(confs)*time.Second/10, ctr.Throttled)
			// Each conference costs one details and one downloadurls call.
			if calls := ctr.Details + ctr.DownloadURLs; ctr.Throttled*20 > calls {
				t.Errorf("the gateway answered 429 %d times to %d calls, want at most 5%%", ctr.Throttled, calls)
			}
			archived := 0
			for k := range shards {
				for _, r := range readManifest(t, filepath.Join(dir, fmt.Sprint("r", k))) {
					if r["status"] == "archived" {
						archived++
					}
				}
			}
			if archived != confs {
				t.Errorf("%d conferences archived across the shards, want %d", archived, confs)
			}
		})
	}
}

// TestSimulateQuotaModelFlags: `meetarchive simulate --quota-model` serves
// a bucket for one API and fixed windows for another, with the headers of
// each; a model it does not know is a usage error.
func TestSimulateQuotaModelFlags(t *testing.T) {
	if res := runBin(t, nil, "simulate", "--quota-per-api", "60", "--quota-model", "leaky"); res.code != 2 || !strings.Contains(res.stderr, "leaky") {
		t.Errorf("--quota-model leaky: exit %d, want 2 naming it\n%s", res.code, res.stderr)
	}
	base := "http://" + startSimulate(t, "--quota-per-api", "60", "--quota-model", "bucket,refresh=fixed", "--quota-burst", "2")
	// The token APIs: no token needed to be counted, limited like any API.
	call := func(method string) *http.Response {
		t.Helper()
		url := base + "/v1/usg/acs/token/validate"
		if method == http.MethodPut {
			url = base + "/v1/usg/acs/token" // refresh
		}
		req, _ := http.NewRequest(method, url, strings.NewReader(`{"token":"x"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// validate: a bucket of 60 a minute (one a second), burst 2.
	began := time.Now()
	first := call(http.MethodPost)
	if got, want := first.Header.Get("X-APIG-Ratelimit-Api"), "remain:59,limit:60,time:1 minute"; got != want {
		t.Errorf("validate X-APIG-Ratelimit-Api = %q, want %q", got, want)
	}
	if got, want := first.Header.Get("X-APIG-Ratelimit-Api-Allenv"), "remain:1,limit:1,time:1 second"; got != want {
		t.Errorf("validate X-APIG-Ratelimit-Api-Allenv = %q, want %q (the burst bucket, per second)", got, want)
	}
	statuses := []int{call(http.MethodPost).StatusCode, call(http.MethodPost).StatusCode}
	// Two more calls: the first takes the burst's second token; the second
	// finds the burst spent unless a second passed since the first call
	// and the bucket refilled one (a busy machine: then it is not checked,
	// and the test says so).
	if statuses[0] == http.StatusTooManyRequests {
		t.Errorf("the second call to a bucket with a burst of 2 was refused (429): the burst holds 2")
	}
	switch {
	case time.Since(began) >= time.Second:
		t.Logf("a second passed before the third call (busy machine): the bucket may have refilled, its refusal not checked (statuses %v)", statuses)
	case statuses[1] != http.StatusTooManyRequests:
		t.Errorf("three calls in under a second to a bucket of 2 refilled once a second: statuses %v, want the third refused", statuses)
	}
	// refresh: fixed windows of 60, the per-second limit 200, not enforced.
	r := call(http.MethodPut)
	if got, want := r.Header.Get("X-APIG-Ratelimit-Api"), "remain:59,limit:60,time:1 minute"; got != want {
		t.Errorf("refresh X-APIG-Ratelimit-Api = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("X-APIG-Ratelimit-Api-Allenv"), "remain:199,limit:200,time:1 second"; got != want {
		t.Errorf("refresh X-APIG-Ratelimit-Api-Allenv = %q, want %q", got, want)
	}
}
