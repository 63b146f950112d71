package main

import (
	"errors"
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsFlags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for valid
	}{
		{name: "none", args: nil},
		{name: "file in an existing dir", args: []string{"--metrics-file", filepath.Join(dir, "m.prom")}},
		{name: "file in the working dir", args: []string{"--metrics-file", "m.prom"}},
		{name: "file in a missing dir", args: []string{"--metrics-file", filepath.Join(dir, "nope", "m.prom")}, wantErr: "--metrics-file " + filepath.Join(dir, "nope", "m.prom") + ": directory"},
		{name: "file is a directory", args: []string{"--metrics-file", dir}, wantErr: "is a directory"},
		{name: "file ends in a slash", args: []string{"--metrics-file", dir + "/"}, wantErr: "names a directory"},
		{name: "push URL", args: []string{"--metrics-push", "http://pushgateway.monitoring:9091"}},
		{name: "push https URL with a path prefix", args: []string{"--metrics-push", "https://gw.example/prefix"}},
		{name: "push host:port", args: []string{"--metrics-push", "pushgateway:9091"}},
		{name: "push URL with credentials", args: []string{"--metrics-push", "http://u:p@gw:9091"}},
		{name: "push ftp", args: []string{"--metrics-push", "ftp://gw:21"}, wantErr: "want an http or https URL"},
		{name: "push without host", args: []string{"--metrics-push", "http://"}, wantErr: "has no host"},
		{name: "push with query", args: []string{"--metrics-push", "http://gw:9091?x=1"}, wantErr: "no query"},
		{name: "push with the job path", args: []string{"--metrics-push", "http://gw:9091/metrics/job/x"}, wantErr: "base URL"},
		{name: "push not a URL", args: []string{"--metrics-push", "http://gw:port"}, wantErr: "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("run", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var mf metricsFlags
			mf.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			err := mf.check("run")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("check: %v (%T), want a usage error", err, err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}
