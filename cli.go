package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/export"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// The errors of a command, by exit code (the pipeline's, which a run
// returns): a usage error (2), a fatal one (3), items failed (1),
// interrupted (130).
type (
	usageError = pipeline.UsageError
	fatalError = pipeline.FatalError
)

func usagef(format string, a ...any) error { return pipeline.Usagef(format, a...) }

var (
	errItemsFailed = pipeline.ErrItemsFailed
	errInterrupted = pipeline.ErrInterrupted
)

// failedf is an outcome of exit code 1 (errors.Is errItemsFailed) that
// says in its own words what failed and where that is listed, for a
// command without a report (pipeline.Failedf).
func failedf(format string, a ...any) error { return pipeline.Failedf(format, a...) }

// exitCode maps the error of a subcommand to the process exit code.
func exitCode(err error) int {
	var ue *usageError
	var fe *fatalError
	switch {
	case err == nil:
		return report.ExitOK
	case errors.Is(err, flag.ErrHelp):
		return report.ExitOK
	case errors.As(err, &ue):
		return report.ExitUsage
	case errors.Is(err, errInterrupted):
		return report.ExitInterrupted
	case errors.As(err, &fe):
		return report.ExitFatal
	case errors.Is(err, errItemsFailed):
		return report.ExitFailures
	}
	return report.ExitFatal
}

// envName is the environment twin of a flag: --part-size -> MEETARCHIVE_PART_SIZE.
func envName(flagName string) string {
	return "MEETARCHIVE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// command is one subcommand's flag set with environment twins.
type command struct {
	fs     *flag.FlagSet
	name   string
	args   string // synopsis after the name
	about  string
	stderr io.Writer
}

func newCommand(name, args, about string, stderr io.Writer) *command {
	c := &command{fs: flag.NewFlagSet(name, flag.ContinueOnError), name: name, args: args, about: about}
	c.fs.SetOutput(io.Discard) // parse errors are one line, from parse; --help prints usage
	c.fs.Usage = func() {}
	c.stderr = stderr
	return c
}

func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: meetarchive %s %s\n\n%s\n\nflags (each also read from the environment variable shown; a flag wins):\n", c.name, c.args, c.about)
	var names []string
	c.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, n := range names {
		f := c.fs.Lookup(n)
		typ, usage := flag.UnquoteUsage(f)
		if typ == "value" {
			typ = valueTypeName(f.Value)
		}
		fmt.Fprintf(w, "  --%s\n      %s", strings.TrimSpace(n+" "+typ), usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, " [$%s]\n", envName(n))
	}
}

// valueTypeName names the custom flag types in --help.
func valueTypeName(v flag.Value) string {
	switch v.(type) {
	case *choiceFlag:
		return "choice"
	case *dateFlag:
		return "date"
	case *byteSize:
		return "size"
	case *listFlag:
		return "list"
	case *urlList:
		return "URL"
	}
	return "value"
}

// parse reads args, then fills every flag not given on the command line from
// its environment twin. A bad value names the flag (and the variable) and is
// a usage error.
func (c *command) parse(args []string, getenv func(string) string) error {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(c.stderr)
			return err
		}
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag --" + strings.TrimLeft(name, "-")
		}
		msg = strings.Replace(msg, " for flag -", " for --", 1)
		return usagef("%s: %s; see 'meetarchive %s --help'", c.name, msg, c.name)
	}
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	c.fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = usagef("%s: invalid value %q for --%s (from $%s): %v", c.name, v, f.Name, envName(f.Name), e)
		}
	})
	return err
}

// fileError is a file named by a flag that cannot be used: a usage error
// that names the command, the flag and the path, then why ("verify:
// --sums /x/sha256sums.txt: no such file or directory").
func fileError(cmd, flagName, path string, err error) error {
	return pipeline.FileError(cmd, flagName, path, err)
}

// reportWritten ends a command that writes a report into dir (merge,
// report): err is a usage error (exit 2) when it is one of usage, else
// fatal (exit 3); without err the report's paths go to stdout.
func reportWritten(e env, cmd, dir string, err error, usage ...error) error {
	if err != nil {
		for _, u := range usage {
			if errors.Is(err, u) {
				return usagef("%s: %v", cmd, err)
			}
		}
		return &fatalError{Err: fmt.Errorf("%s: %w", cmd, err)}
	}
	printPaths(e, dir)
	return nil
}

// printPaths prints the paths of the report in dir on stdout, one a line.
func printPaths(e env, dir string) {
	for _, p := range report.Paths(dir) {
		fmt.Fprintln(e.stdout, console.Text(p))
	}
}

// openClientAndStore makes the API client of cfg and opens the
// destination dest, both logging to log: the Open of a command that calls
// the API (pipeline.RunConfig.Open, ReconcileConfig.Open). Either failing
// is a usage error of cmd.
func openClientAndStore(ctx context.Context, log *slog.Logger, cmd string, cfg export.Config, dest string, opts archive.Options) (*export.Client, archive.Store, error) {
	cfg.Logger = log
	client, err := export.NewClient(cfg)
	if err != nil {
		return nil, nil, usagef("%s: %v", cmd, err)
	}
	opts.Logger = console.SDKLogger{Log: log}
	store, err := archive.Open(ctx, dest, opts)
	if err != nil {
		return nil, nil, usagef("%s: --dest %s: %v", cmd, dest, err)
	}
	return client, store, nil
}
