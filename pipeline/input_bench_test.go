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
		n, _, err := FileSource(path).Count()
		if err != nil || n == 0 {
			b.Fatalf("count %d: %v", n, err)
		}
	}
}
