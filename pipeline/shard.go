package pipeline

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one part of an input split across several processes (an Indexed
// Job's pods, a Batch array job): shard K of N takes the conferences whose
// stable hash falls on K. The zero Shard (and N = 1) takes everything.
type Shard struct{ K, N int }

// ParseShard reads a --shard value: "K/N", or "/N" and "N" alone, which take K
// from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or
// AWS_BATCH_JOB_ARRAY_INDEX. "" is the whole input.
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	if s == "" {
		return Shard{K: 0, N: 1}, nil
	}
	ks, ns, found := strings.Cut(s, "/")
	if !found {
		ks, ns = "", s
	}
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if err != nil || n < 1 {
		return Shard{}, fmt.Errorf("%q: want K/N with N >= 1", s)
	}
	ks = strings.TrimSpace(ks)
	if ks == "" {
		for _, v := range []string{"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"} {
			if ks = getenv(v); ks != "" {
				break
			}
		}
		if ks == "" {
			return Shard{}, fmt.Errorf("%q gives no index: write K/N, or set JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX", s)
		}
	}
	k, err := strconv.Atoi(ks)
	if err != nil || k < 0 || k >= n {
		return Shard{}, fmt.Errorf("index %q of %q: want 0..%d", ks, s, n-1)
	}
	return Shard{K: k, N: n}, nil
}

// Whole reports whether the shard is the whole input.
func (s Shard) Whole() bool { return s.N <= 1 }

// String is "K/N", or "" for the whole input.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Contains reports whether the conference belongs to this shard: FNV-1a of
// its lower-case UUID (of the text given, for an invalid line), modulo N: every
// input line belongs to exactly one shard, so merged shards report it once.
func (s Shard) Contains(it Item) bool {
	return s.Whole() || shardOf(it.ConfUUID, s.N) == s.K
}

func shardOf(confUUID string, n int) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.ToLower(strings.TrimSpace(confUUID))))
	return int(h.Sum64() % uint64(n))
}
