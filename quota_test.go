package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"meetarchive/export/meetingtest"
)

// TestShardsShareOneQuota: four shards of one input, started together
// against a gateway enforcing one quota per app ID, with the default --rate
// (auto): no 429, and the whole input finishes within 1.15 times the time
// the quota allows.
func TestShardsShareOneQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("a quota-bound run of several seconds")
	}
	const (
		confs  = 80
		quota  = 50 // calls of each API per window, shared by the four processes
		window = 5 * time.Second
		shards = 4
	)
	ds := genDataset(confs, 1, 1<<10, 109)
	sim := newSim(t, meetingtest.Config{Dataset: ds, Seed: 109, QuotaPerAPI: quota, QuotaWindow: window})
	dir := t.TempDir()
	in := writeInput(t, dir, uuids(ds)...)
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
	took := time.Since(start)
	// Each conference costs one details and one downloadurls call, each API
	// with its own quota: the input needs confs calls of each.
	allowed := time.Duration(float64(confs) / float64(quota) * float64(window))
	t.Logf("%d conferences in %s; the quota allows %s (%.2fx); 429s: %d", confs, took.Round(time.Millisecond), allowed, took.Seconds()/allowed.Seconds(), sim.Counters().Throttled)
	if n := sim.Counters().Throttled; n != 0 {
		t.Errorf("the gateway answered 429 %d times, want none", n)
	}
	if took > allowed*115/100 {
		t.Errorf("took %s, more than 1.15 x the %s the quota allows", took.Round(time.Millisecond), allowed)
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
}
