// Command meetarchive archives Huawei Cloud Meeting recordings into
// S3-compatible storage (or a local directory) and writes an audit manifest.
//
// The package only wires: main.go dispatches to one file per command
// (cmd_<name>.go: its options, flags, checks and run function), flags.go
// holds the flag groups commands share, cli.go the command type and the
// one error-to-exit-code switch. The logic lives in packages: the run in
// pipeline.Run, the terminal in console, the Prometheus output in metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"meetarchive/console"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

func main() {
	os.Exit(cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// env is what a subcommand gets from the process: streams and environment.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	stdin          io.Reader        // read by run --input -
	signals        <-chan os.Signal // SIGINT/SIGTERM/SIGHUP, nil when not wanted
	logs           *commandLog      // the command's log flags, for its last line
}

// commandLog is the log flags of the command cli runs, once it has parsed
// them: its last line (the error) is written in the same format.
type commandLog struct{ flags *logFlags }

// useLog tells cli the command's log flags (parsed).
func (e env) useLog(l *logFlags) {
	if e.logs != nil {
		e.logs.flags = l
	}
}

// json reports whether the command logs JSON (--log-format json).
func (c *commandLog) json() bool { return c != nil && c.flags != nil && c.flags.format.value == "json" }

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := env{stdout: stdout, stderr: stderr, getenv: getenv, stdin: os.Stdin, logs: &commandLog{}}
	err := dispatch(ctx, args, e)
	code := exitCode(err)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return code
	}
	c, hint := pipeline.LocalIO(err)
	if code != report.ExitFatal { // a usage error names its path already
		c = ""
	}
	if e.logs.json() { // JSON logs are JSON only: the last line too
		args := []any{"exit", code}
		if c != "" {
			args = append(args, "code", string(c), "hint", hint+", then run it again")
		}
		slog.New(slog.NewJSONHandler(stderr, nil)).Error("meetarchive: "+err.Error(), args...)
		return code
	}
	fmt.Fprintf(stderr, "meetarchive: %s\n", console.Text(err.Error()))
	if c != "" {
		fmt.Fprintf(stderr, "meetarchive: %s: %s, then run it again\n", c, console.Text(hint))
	}
	return code
}

const topUsage = `meetarchive archives Huawei Cloud Meeting recordings into S3-compatible
storage or a local directory and writes an audit manifest (Excel and CSV).

usage:
  meetarchive run      --input uuids.csv --dest DEST --out DIR [options]
  meetarchive run      --from 2024-01-01 --to 2024-12-31 --dest DEST --out DIR [options]
  meetarchive list     --from 2024-01-01 --to 2024-12-31 [--all-users] > uuids.csv
  meetarchive verify   --manifest DIR/manifest.csv [--dest DEST]
  meetarchive verify   --ledger RUNID|all|FILE [--dest DEST] [--public-key FILE]
  meetarchive merge    --out DIR DIR1 DIR2 ...
  meetarchive reconcile --from 2024-01-01 --to 2024-12-31 --dest DEST --out DIR
  meetarchive bag      --manifest DIR/manifest.csv --out BAGDIR [--uuids FILE] [--from D] [--to D] [--dest DEST]
  meetarchive report   --from-journal DIR
  meetarchive keygen   --private-key FILE --public-key FILE
  meetarchive simulate --addr 127.0.0.1:8080 [dataset and fault options]
  meetarchive demo     (simulator + a local directory: the whole job, no account needed)
  meetarchive version

'meetarchive <command> --help' lists a command's flags, their defaults and
their environment variables. Exit codes: 0 nothing failed, 1 some items
failed, 2 usage or configuration error, 3 fatal, 130 interrupted.
`

// stopSignals end a command the same way: SIGHUP (the terminal or session
// went away) is SIGTERM.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

func dispatch(ctx context.Context, args []string, e env) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, topUsage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run", "demo":
		sigs := make(chan os.Signal, 2)
		signal.Notify(sigs, stopSignals...)
		defer signal.Stop(sigs)
		e.signals = sigs
		if cmd == "demo" {
			return cmdDemo(ctx, rest, e)
		}
		return cmdRun(ctx, rest, e)
	case "list":
		ctx, stop := signal.NotifyContext(ctx, stopSignals...)
		defer stop()
		return cmdList(ctx, rest, e)
	case "verify":
		ctx, stop := signal.NotifyContext(ctx, stopSignals...)
		defer stop()
		return cmdVerify(ctx, rest, e)
	case "reconcile":
		ctx, stop := signal.NotifyContext(ctx, stopSignals...)
		defer stop()
		return cmdReconcile(ctx, rest, e)
	case "bag":
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return cmdBag(ctx, rest, e)
	case "merge":
		return cmdMerge(rest, e)
	case "report":
		return cmdReport(rest, e)
	case "keygen":
		return cmdKeygen(rest, e)
	case "simulate":
		ctx, stop := signal.NotifyContext(ctx, stopSignals...)
		defer stop()
		return cmdSimulate(ctx, rest, e)
	case "version", "--version", "-version":
		fmt.Fprintln(e.stdout, versionString())
		return nil
	case "help", "--help", "-help", "-h":
		fmt.Fprint(e.stdout, topUsage)
		return nil
	}
	fmt.Fprint(e.stderr, topUsage)
	return usagef("unknown command %q", cmd)
}

func versionString() string {
	c := buildCommit()
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("meetarchive %s (commit %s, %s, %s/%s)", version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
