package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

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

// failedError is an outcome of exit code 1 (errors.Is errItemsFailed) that
// says in its own words what failed and where that is listed, for a
// command without a report (verify, bag).
type failedError struct{ msg string }

func (e *failedError) Error() string        { return e.msg }
func (e *failedError) Is(target error) bool { return target == errItemsFailed }

func failedf(format string, a ...any) error { return &failedError{msg: fmt.Sprintf(format, a...)} }

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

// byteSize is a flag value like "16MiB", "64MB", "1048576".
type byteSize int64

func (b *byteSize) String() string { return formatBytes(int64(*b)) }

func (b *byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a size: want a number of bytes like 16MiB")
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("too large: at most %d bytes", int64(math.MaxInt64))
	}
	return n * mult, nil
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}

// dateFlag accepts 2024-01-31 or an RFC 3339 time.
type dateFlag struct{ t time.Time }

func (d *dateFlag) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(time.RFC3339)
}

func (d *dateFlag) Set(s string) error {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			d.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("not a date: want YYYY-MM-DD or RFC 3339")
}

// choiceFlag is a string restricted to a fixed set of values.
type choiceFlag struct {
	value   string
	choices []string
	set     bool // given on the command line or in the environment
}

func (c *choiceFlag) String() string { return c.value }

func (c *choiceFlag) Set(s string) error {
	for _, ch := range c.choices {
		if strings.EqualFold(s, ch) {
			c.value, c.set = ch, true
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(c.choices, ", "))
}

// listFlag is a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = nil
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// readSecretFile reads a secret from a file named by a flag, trimming the
// final newline. The secret itself never appears in an error; the path does.
func readSecretFile(flagName, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("--%s %s: cannot read it: %s", flagName, path, pathReason(err, path))
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// fileError is a file named by a flag that cannot be used: a usage error
// that names the command, the flag and the path, then why ("verify:
// --sums /x/sha256sums.txt: no such file or directory").
func fileError(cmd, flagName, path string, err error) error {
	return usagef("%s: --%s %s: %s", cmd, flagName, path, pathReason(err, path))
}

// pathReason is err's text without its path said twice: the system error
// alone when err is a *fs.PathError on path (the caller names the path),
// else err's whole text.
func pathReason(err error, path string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err.Error()
	}
	return err.Error()
}
