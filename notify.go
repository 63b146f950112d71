package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"meetarchive/console"
	"meetarchive/notify"
	"meetarchive/report"
)

// notifyFlags are --notify, --notify-on and --notify-timeout.
type notifyFlags struct {
	URLs    urlList
	On      choiceFlag
	Timeout time.Duration
}

// When a run posts its notification.
const (
	notifyOnFailure = "failure" // any exit code but 0
	notifyOnAlways  = "always"
)

func defaultNotifyFlags() notifyFlags {
	return notifyFlags{
		On:      choiceFlag{value: notifyOnFailure, choices: []string{notifyOnFailure, notifyOnAlways}},
		Timeout: notify.DefaultTimeout,
	}
}

// register binds the notification flags.
func (n *notifyFlags) register(fs *flag.FlagSet) {
	fs.Var(&n.URLs, "notify", "post the run's verdict, counts and failures to this chat incoming-webhook URL (Slack, Mattermost, Microsoft Teams) when the run ends; repeatable; the environment twin takes several separated by commas or spaces")
	fs.Var(&n.On, "notify-on", "when to notify: failure (any exit code but 0) or always")
	fs.DurationVar(&n.Timeout, "notify-timeout", n.Timeout, "longest time the notification may take, every URL and retry included")
}

// check validates the notification flags and registers the URLs as secrets.
// An error names the URL by its position and scheme and host only.
func (n *notifyFlags) check(cmd string) error {
	if n.Timeout <= 0 {
		return usagef("%s: invalid value %s for --notify-timeout: want more than 0", cmd, n.Timeout)
	}
	notify.Register(n.URLs)
	for i, u := range n.URLs {
		if err := notify.CheckURL(u); err != nil {
			return usagef("%s: invalid value for --notify (URL %d of %d): %v", cmd, i+1, len(n.URLs), err)
		}
	}
	return nil
}

// urlList is a repeatable flag of URLs: each use adds its URLs, and one
// value may hold several separated by commas or white space (the form of
// the environment twin). It shows only the hosts: a webhook URL is a secret.
type urlList []string

func (l *urlList) String() string {
	if l == nil {
		return ""
	}
	hosts := make([]string, len(*l))
	for i, u := range *l {
		hosts[i] = notify.Host(u)
	}
	return strings.Join(hosts, ",")
}

func (l *urlList) Set(s string) error {
	*l = append(*l, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
	return nil
}

// notifyEnd posts the run's notification when asked (--notify, and
// --notify-on says this outcome). It never changes err (the run's outcome,
// and so its exit code): a notification not delivered is a warning in the
// log and in summary.json.
func (p *runPlan) notifyEnd(ctx context.Context, log *slog.Logger, err error) error {
	n := p.notify
	code := exitCode(err)
	if len(n.URLs) == 0 || (n.On.value != notifyOnAlways && code == report.ExitOK) {
		return err
	}
	r := notify.Run{Command: "meetarchive run", ExitCode: code, Err: err, Out: console.AbsPath(p.out)}
	r.Host, _ = os.Hostname()
	sum, ours := p.writtenSummary()
	if ours {
		r.Summary = &sum
		rows, ferr := notify.Failures(filepath.Join(p.out, report.ManifestCSV), notify.MaxFailures)
		if ferr != nil {
			log.Warn("notify: the failures could not be read from the manifest", "err", ferr)
		}
		r.Failures = rows
	}
	s := notify.Sender{URLs: n.URLs, Timeout: n.Timeout, UserAgent: "meetarchive/" + version}
	nerr := s.Send(context.WithoutCancel(ctx), notify.Message{Text: notify.Text(r)})
	if nerr == nil {
		log.Info("notification sent", "to", n.URLs.String())
		return err
	}
	log.Warn("notification not delivered; the exit code is unchanged", "err", nerr)
	if ours {
		if _, werr := report.AddWarnings(p.out, fmt.Sprintf("notification not delivered: %v", nerr)); werr != nil {
			log.Warn("the warning could not be added to summary.json", "err", werr)
		}
	}
	return err
}

// writtenSummary is this run's summary.json, when the run wrote one (a
// summary left in --out by an earlier run is not this run's).
func (p *runPlan) writtenSummary() (report.Summary, bool) {
	if p.runID == "" {
		return report.Summary{}, false
	}
	sum, err := report.ReadSummary(filepath.Join(p.out, report.SummaryJSON))
	return sum, err == nil && sum.RunID == p.runID
}
