package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// TestUsageErrorsInProcess: every usage error exits 2 with one line naming
// the flag, and creates nothing (neither --out nor the destination).
func TestUsageErrorsInProcess(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(input, []byte("0123456789abcdef0123456789abcdef\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	dest, out := filepath.Join(dir, "dest"), filepath.Join(dir, "out")
	creds := map[string]string{"MEETARCHIVE_APP_ID": "app", "MEETARCHIVE_APP_KEY": "key-0123456789"}
	run := func(extra ...string) []string {
		return append([]string{"run", "--input", input, "--dest", dest, "--out", out}, extra...)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // in the one line on stderr
	}{
		{"no command", nil, nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, nil, `unknown command "frobnicate"`},
		{"unknown flag", run("--bogus"), creds, "unknown flag --bogus; see 'meetarchive run --help'"},
		{"no credentials", run(), nil, "no Meeting API credentials"},
		{"rate NaN", run("--rate", "NaN"), creds, "--rate"},
		{"rate +Inf", run("--rate", "+Inf"), creds, "--rate"},
		{"rate zero", run("--rate", "0"), creds, "--rate"},
		{"rate from env", run(), merge(creds, map[string]string{"MEETARCHIVE_RATE": "-1"}), "$MEETARCHIVE_RATE"},
		{"part size overflow", run("--part-size", "99999999999GiB"), creds, "--part-size"},
		{"part size too small", run("--part-size", "1KiB"), creds, "--part-size"},
		{"negative grace", run("--grace", "-1s"), creds, "--grace"},
		{"zero max-elapsed", run("--max-elapsed", "0s"), creds, "--max-elapsed"},
		{"concurrency zero", run("--concurrency", "0"), creds, "--concurrency"},
		{"bad shard", run("--shard", "3/2"), creds, "--shard"},
		{"bad key template", run("--key-template", "{{.Nope}}"), creds, "--key-template"},
		{"out is a file", []string{"run", "--input", input, "--dest", dest, "--out", aFile}, creds, "is a file, not a directory"},
		{"out under a file", []string{"run", "--input", input, "--dest", dest, "--out", filepath.Join(aFile, "x")}, creds, "is a file, not a directory"},
		{"missing input", []string{"run", "--input", filepath.Join(dir, "nope.csv"), "--dest", dest, "--out", out}, creds, "--input"},
		{"input is a directory", []string{"run", "--input", dir, "--dest", dest, "--out", out}, creds, "--input"},
		{"delete unconfirmed", run("--delete-after-archive"), creds, "--confirm-delete"},
		{"lock mode without retention", run("--object-lock-mode", "GOVERNANCE"), creds, "--retain-days"},
		{"list without dates", []string{"list"}, creds, "--from and --to are required"},
		{"list rate", []string{"list", "--from", "2024-01-01", "--to", "2024-01-02", "--rate", "NaN"}, creds, "--rate"},
		{"verify without manifest", []string{"verify"}, nil, "--manifest is required"},
		{"merge without dirs", []string{"merge", "--out", out}, nil, "--out and at least one report directory"},
		{"report without journal", []string{"report"}, nil, "--from-journal is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli(context.Background(), tc.args, &stdout, &stderr, func(k string) string { return tc.env[k] })
			if code != report.ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, report.ExitUsage, stderr.String())
			}
			msg := stderr.String()
			if tc.args != nil && tc.args[0] != "frobnicate" && strings.Count(strings.TrimSpace(msg), "\n") != 0 {
				t.Errorf("stderr has %d lines, want one:\n%s", strings.Count(msg, "\n"), msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("stderr %q does not mention %q", msg, tc.want)
			}
			for _, p := range []string{dest, out} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was created by a usage error", p)
				}
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// TestHelpDefaultsComeFromTheirConstants: every default --help shows is the
// constant of the package it configures, so that one definition serves all.
func TestHelpDefaultsComeFromTheirConstants(t *testing.T) {
	c := newCommand("run", "", "", &bytes.Buffer{})
	defaultRunFlags().register(c)
	want := map[string]string{
		"api":                export.DefaultBaseURL,
		"rate":               "auto",
		"max-attempts":       itoa(export.DefaultMaxAttempts),
		"max-elapsed":        export.DefaultMaxElapsed.String(),
		"request-timeout":    export.DefaultRequestTimeout.String(),
		"part-size":          formatBytes(archive.DefaultPartSize),
		"part-concurrency":   itoa(archive.DefaultPartConcurrency),
		"max-uploads":        itoa(archive.DefaultMaxUploads),
		"key-template":       archive.DefaultKeyTemplate,
		"links":              string(export.LinksAuto),
		"concurrency":        itoa(defaultConcurrency),
		"grace":              defaultGrace.String(),
		"progress-interval":  defaultProgressInterval.String(),
		"since-last-overlap": pipeline.DefaultSinceLastOverlap.String(),
		"settle":             pipeline.DefaultSettle.String(),
		"max-pending-age":    pipeline.DefaultMaxPendingAge.String(),
	}
	for name, w := range want {
		f := c.fs.Lookup(name)
		if f == nil {
			t.Errorf("--%s is not a run flag", name)
			continue
		}
		if f.DefValue != w {
			t.Errorf("--%s default %q, want %q (its package constant)", name, f.DefValue, w)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestImportRules: main imports pipeline; pipeline imports export, archive
// and report; those three import none of each other nor pipeline; the
// front-end packages (console, metrics, notify) import only what
// ARCHITECTURE.md allows them, and pipeline none of them.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	imports := map[string]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		imports[pkg] = map[string]bool{}
		for _, d := range strings.Fields(deps) {
			imports[pkg][d] = true
		}
	}
	const m = "meetarchive/"
	must := [][2]string{{"meetarchive", m + "pipeline"}, {m + "pipeline", m + "export"}, {m + "pipeline", m + "archive"}, {m + "pipeline", m + "report"},
		{"meetarchive", m + "console"}, {"meetarchive", m + "metrics"}, {"meetarchive", m + "notify"}}
	for _, e := range must {
		if !imports[e[0]][e[1]] {
			t.Errorf("%s does not import %s", e[0], e[1])
		}
	}
	leaves := []string{m + "export", m + "archive", m + "report"}
	for _, a := range leaves {
		for _, b := range append(leaves, m+"pipeline") {
			if a != b && imports[a][b] {
				t.Errorf("%s imports %s: forbidden (ARCHITECTURE.md)", a, b)
			}
		}
	}
	allowed := map[string][]string{
		m + "notify":  {m + "report", m + "redact"},
		m + "console": {m + "report", m + "redact", m + "notify"},
		m + "metrics": {m + "report", m + "export"},
	}
	for pkg, ok := range allowed {
		for dep := range imports[pkg] {
			if strings.HasPrefix(dep, m) && !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s: it may import only %v (ARCHITECTURE.md)", pkg, dep, ok)
			}
		}
		if imports[m+"pipeline"][pkg] {
			t.Errorf("pipeline imports %s: a front end's package (ARCHITECTURE.md)", pkg)
		}
	}
}
