package notify

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"meetarchive/report"
)

// RunEnded posts the notification of a run that has ended. r says how it
// ended (Command, Host, ExitCode, Err, Out); with sum, the summary.json
// the run wrote in r.Out (nil when it wrote none of its own), the message
// also gives its counts and the first failures from its manifest. A
// notification not delivered is a warning in log, and RunEnded returns it
// for the caller to add to that summary.json ("" when it was delivered):
// it never changes the run's outcome.
func (s Sender) RunEnded(ctx context.Context, log *slog.Logger, r Run, sum *report.Summary) (warning string) {
	if sum != nil {
		r.Summary = sum
		rows, err := Failures(filepath.Join(r.Out, report.ManifestCSV), MaxFailures)
		if err != nil {
			log.Warn("notify: the failures could not be read from the manifest", "err", err)
		}
		r.Failures = rows
	}
	err := s.Send(context.WithoutCancel(ctx), Message{Text: Text(r)})
	if err == nil {
		hosts := make([]string, len(s.URLs))
		for i, u := range s.URLs {
			hosts[i] = Host(u)
		}
		log.Info("notification sent", "to", strings.Join(hosts, ","))
		return ""
	}
	log.Warn("notification not delivered; the exit code is unchanged", "err", err)
	return fmt.Sprintf("notification not delivered: %v", err)
}
