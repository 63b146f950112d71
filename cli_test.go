package main

import (
	"testing"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"16MiB", 16 << 20, false}, {"5 MiB", 5 << 20, false}, {"1048576", 1 << 20, false},
		{"64MB", 64_000_000, false}, {"1GiB", 1 << 30, false}, {"-1", 0, true}, {"lots", 0, true},
		{"99999999999GiB", 0, true}, {"9223372036854775807", 9223372036854775807, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseBytes(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseBytes(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	if got, want := envName("part-size"), "MEETARCHIVE_PART_SIZE"; got != want {
		t.Errorf("envName = %q, want %q", got, want)
	}
}
