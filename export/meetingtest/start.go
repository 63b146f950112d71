package meetingtest

import (
	"testing"
	"time"
)

// Start starts a simulator with cfg on a loopback port (NewServer) and
// closes it when the test ends: the one way tests start a simulator.
func Start(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := NewServer(cfg)
	t.Cleanup(s.Close)
	return s
}

// GenerateFiles is Generate's dataset of n ready conferences, each with
// files files of size bytes, the first starting 2024-05-01 08:00 UTC: the
// dataset most tests and benchmarks need.
func GenerateFiles(n, files int, size, seed int64) Dataset {
	return Generate(GenerateConfig{Conferences: n, FilesPerConference: files, FileSize: size, Seed: seed,
		Start: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)})
}
