//go:build race

package report

// raceEnabled: the race detector multiplies time and heap, so the
// 100,000-row memory test is skipped under -race (unless
// MEETARCHIVE_HEAP_TEST=1).
const raceEnabled = true
