package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"meetarchive/console"
	"meetarchive/export/meetingtest"
	"meetarchive/report"
)

// cmdDemo runs the whole job against the in-process simulator into ./demo-output.
func cmdDemo(ctx context.Context, args []string, e env) error {
	c := newCommand("demo", "[--dir DIR]", "Run the whole job against a built-in simulator of the Meeting API into a local directory: no account, no network.", e.stderr)
	var dir string
	var quiet bool
	c.fs.StringVar(&dir, "dir", "demo-output", "directory for the demo's input, archive and report")
	c.fs.BoolVar(&quiet, "quiet", false, "no status line or progress lines (the summary is still printed)")
	lf := addLogFlags(c)
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	e.useLog(lf)
	ds := meetingtest.SampleDataset()
	// The sample recordings are older than the platform's six months of
	// meeting history: kept for ever here, so that the demo stores their
	// evidence (attendee and control records) too.
	srv := meetingtest.NewServer(meetingtest.Config{Dataset: ds, AppID: demoAppID, AppKey: demoAppKey, RecordInfo: true, HistoryRetention: -1})
	defer srv.Close()

	if err := os.MkdirAll(dir, 0o777); err != nil {
		return usagef("demo: %v", err)
	}
	input := filepath.Join(dir, "input.csv")
	var b strings.Builder
	b.WriteString("confUUID\n")
	for _, conf := range ds.UUIDs() {
		b.WriteString(conf + "\n")
	}
	// Written aside and renamed: a link at input.csv is replaced, never written through.
	if err := report.WriteFileAtomic(input, func(w io.Writer) error { _, err := io.WriteString(w, b.String()); return err }); err != nil {
		return usagef("demo: %v", err)
	}

	flags := defaultRunFlags()
	flags.Log = lf
	flags.Quiet = quiet
	flags.Input = input
	flags.Dest = filepath.Join(dir, "archive")
	flags.Out = filepath.Join(dir, "report")
	flags.API.API = srv.URL
	p, err := flags.validate(demoEnv)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "meetarchive demo: simulator at %s, %d conferences\n", srv.URL, len(ds.Conferences))
	// The counts by status are in the closing summary, on stderr.
	return archiveRun(ctx, p, e, func(s report.Summary) {
		fmt.Fprintf(e.stdout, "archived %d conferences (%s) into %s in %.1fs\n", s.Counts[report.Archived], report.HumanBytes(s.BytesArchived), console.Text(console.AbsPath(flags.Dest)), s.DurationSecs)
		fmt.Fprintln(e.stdout, "report:")
	})
}

// demoEnv is the demo's environment: the simulator's credentials, nothing
// from the process (the demo needs no account and must not use one).
func demoEnv(name string) string {
	switch name {
	case "MEETARCHIVE_APP_ID":
		return demoAppID
	case "MEETARCHIVE_APP_KEY":
		return demoAppKey
	}
	return ""
}

const (
	demoAppID  = "meetarchive-demo"
	demoAppKey = "demo-app-key"
)
