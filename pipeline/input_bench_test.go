package pipeline

import (
	"os"
	"testing"
)

// BenchmarkReadInputFile reads $MEETARCHIVE_BENCH_INPUT (a large input CSV)
// once per iteration.
func BenchmarkReadInputFile(b *testing.B) {
	path := os.Getenv("MEETARCHIVE_BENCH_INPUT")
	if path == "" {
		b.Skip("set MEETARCHIVE_BENCH_INPUT to a large input CSV")
	}
	for b.Loop() {
		src, n := FileSource(path), 0
		for range src.Items() {
			n++
		}
		if err := src.Err(); err != nil || n == 0 {
			b.Fatalf("%d items: %v", n, err)
		}
	}
}
