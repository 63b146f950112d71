// Package metrics writes a run's Prometheus metrics: a file in the text
// format for the node exporter's textfile collector (--metrics-file) and a
// push to a Pushgateway (--metrics-push). Like notify, it tells the outside
// world about a run that has ended, from its report.Summary; it keeps the
// Prometheus modules out of report and pipeline.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"meetarchive/export"
	"meetarchive/report"
)

// Metrics of a run, for Prometheus: --metrics-file writes them in the text
// exposition format for the node exporter's textfile collector, and
// --metrics-push pushes them to a Pushgateway. Every value describes the
// last run (they are gauges: a run does not add to the previous one).
//
//	meetarchive_conferences{status}                 conferences per status, every known status present
//	meetarchive_files                               files the manifest lists (rows naming a file)
//	meetarchive_archived_bytes                      bytes archived by the run
//	meetarchive_api_calls{api,outcome}              API tries, retries included
//	meetarchive_api_requests                        API requests sent
//	meetarchive_api_throttled_responses             answers 429 (or the gateway's throttling code)
//	meetarchive_api_retries                         API tries that retried a failed one
//	meetarchive_api_wait_seconds{api}               time calls waited for the rate limiters
//	meetarchive_run_duration_seconds                the run's duration
//	meetarchive_run_exit_code                       the run's exit code
//	meetarchive_run_finished_timestamp_seconds      when the run finished
//	meetarchive_run_info{run_id,version}            1, naming the run
//	meetarchive_last_success_timestamp_seconds      when the last run with exit code 0 finished
//	meetarchive_oldest_pending_timestamp_seconds    when the oldest conference still pending ended (only when one is)
//	meetarchive_unaccounted_recordings              recordings of the window not archived or accounted for (only when the run reconciled)
//
// The file's samples carry a shard label (the --shard value "K/N", "all" for
// the whole input); pushed samples get it from the Pushgateway's grouping
// key (job, shard) instead.
const (
	metricsNamespace = "meetarchive"

	// defaultMetricsJob is the Pushgateway job name when Run.Job is "".
	defaultMetricsJob = "meetarchive"
	// metricsShardAll is the shard label of a run over the whole input.
	metricsShardAll = "all"
	// PushTimeout bounds a push when the caller's context has no deadline.
	PushTimeout = 15 * time.Second

	lastSuccessMetric = metricsNamespace + "_last_success_timestamp_seconds"
)

// Run is what a run's metrics are made of, filled at the end of the run.
type Run struct {
	// Summary is the run's summary.json: Counts, Files, BytesArchived,
	// DurationSecs, ExitCode, Finished, Shard, RunID and Version are used.
	Summary report.Summary
	// Calls is the API client's CallStats: tries by API and outcome,
	// requests, retries, 429s and rate-limit waits.
	Calls export.CallStats
	// Job is the Pushgateway job name; "" is "meetarchive".
	Job string
	// OldestPending is when the oldest conference still left pending ended
	// (zero: none pending, or not known); it gives
	// meetarchive_oldest_pending_timestamp_seconds.
	OldestPending time.Time
}

// job is the Pushgateway job name.
func (m Run) job() string {
	if m.Job == "" {
		return defaultMetricsJob
	}
	return m.Job
}

// shard is the shard label value: the --shard value, or "all".
func (m Run) shard() string {
	if m.Summary.Shard == "" {
		return metricsShardAll
	}
	return m.Summary.Shard
}

// finished is when the run finished: Summary.Finished, or now if unset.
func (m Run) finished() time.Time {
	if m.Summary.Finished.IsZero() {
		return time.Now()
	}
	return m.Summary.Finished
}

// Write writes the run's metrics to file (when not "") and pushes them
// to the Pushgateway at pushURL (when not ""), grouped by job and shard. It
// does both even when one fails and returns their errors joined.
//
// meetarchive_last_success_timestamp_seconds is the run's finish time when
// its exit code is 0. After a failed run it keeps the previous value: the
// later of the one in the existing metrics file (read back with the
// Prometheus text parser; an unreadable file counts as none) and the one the
// Pushgateway holds for the group (read from its /metrics before pushing).
// With no previous value the metric is left out.
//
// The file is written atomically (a temporary file in the same directory,
// renamed over it) with mode 0666 less the umask; the temporary name does
// not end in .prom, so the textfile collector never reads a partial file.
//
// The push is a PUT, which replaces the group's metrics. When the gateway's
// metrics cannot be read after a failed run, it is a POST instead: that
// replaces only the metrics sent, so the gateway keeps its last-success
// time (and a family this run has no sample for, such as API calls of an
// API it did not call, keeps the older run's samples). Credentials in the
// URL are sent as basic auth and never shown in errors. The read and the
// push are bounded by ctx, or by 15 s when ctx has no deadline; at SIGTERM
// pass a context that the signal did not cancel (context.WithoutCancel).
func Write(ctx context.Context, m Run, file, pushURL string) error {
	if file == "" && pushURL == "" {
		return nil
	}
	if m.Summary.Finished.IsZero() { // one time for every metric that uses it
		m.Summary.Finished = time.Now()
	}
	if _, ok := ctx.Deadline(); !ok && pushURL != "" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, PushTimeout)
		defer cancel()
	}
	base, user := splitURLUser(pushURL)
	last, haveLast := 0.0, false
	replace := true // PUT the push
	if m.Summary.ExitCode == report.ExitOK {
		last, haveLast = unixSeconds(m.finished()), true
	} else {
		later := func(v float64, ok bool) {
			if ok && (!haveLast || v > last) {
				last, haveLast = v, true
			}
		}
		if file != "" {
			later(previousLastSuccess(file))
		}
		if pushURL != "" {
			v, ok, err := gatewayLastSuccess(ctx, base, user, m.job(), m.shard())
			if err != nil {
				replace = false // POST: the gateway keeps the value it has
			}
			later(v, ok)
		}
	}
	var errs []error
	if file != "" {
		reg, err := metricsRegistry(m, last, haveLast, prometheus.Labels{"shard": m.shard()})
		if err == nil {
			err = writeMetricsFile(file, reg)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("metrics file %s: %w", file, err))
		}
	}
	if pushURL != "" {
		reg, err := metricsRegistry(m, last, haveLast, nil)
		if err == nil {
			err = pushMetrics(ctx, base, user, m.job(), m.shard(), reg, replace)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("metrics push to %s: %w", base, err))
		}
	}
	return errors.Join(errs...)
}

// metricsRegistry builds a private registry holding the run's metrics, every
// sample with the constant labels given.
func metricsRegistry(m Run, lastSuccess float64, haveLast bool, labels prometheus.Labels) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	r := prometheus.WrapRegistererWith(labels, reg)
	var errs []error
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: name, Help: help})
		g.Set(v)
		errs = append(errs, r.Register(g))
	}
	gaugeVec := func(name, help string, labelNames ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: metricsNamespace, Name: name, Help: help}, labelNames)
		errs = append(errs, r.Register(g))
		return g
	}
	s := m.Summary

	conf := gaugeVec("conferences", "Conferences of the last run per status (each counted once, under its most severe status).", "status")
	for _, st := range report.Statuses() {
		conf.WithLabelValues(string(st)).Set(float64(s.Counts[st]))
	}
	for st, n := range s.Counts { // a status this build does not list still counts
		if !slices.Contains(report.Statuses(), st) {
			conf.WithLabelValues(string(st)).Set(float64(n))
		}
	}
	gauge("files", "Files the last run's manifest lists (rows naming a file, any status).", float64(s.Files))
	gauge("archived_bytes", "Bytes the last run archived (rows with status archived).", float64(s.BytesArchived))

	calls := gaugeVec("api_calls", "API tries of the last run by API and outcome, retries included.", "api", "outcome")
	for api, byOutcome := range m.Calls.Calls {
		for outcome, n := range byOutcome {
			calls.WithLabelValues(api, outcome).Set(float64(n))
		}
	}
	gauge("api_requests", "API requests the last run sent.", float64(m.Calls.Requests))
	gauge("api_throttled_responses", "API answers of the last run that throttled it (HTTP 429 or the gateway's throttling code).", float64(m.Calls.Throttled))
	gauge("api_retries", "API tries of the last run that retried a failed one.", float64(m.Calls.Retries))
	wait := gaugeVec("api_wait_seconds", "Time the last run's API calls waited for the rate limiters, summed over concurrent callers.", "api")
	for api, d := range m.Calls.Waited {
		wait.WithLabelValues(api).Set(d.Seconds())
	}

	gauge("run_duration_seconds", "Duration of the last run.", s.DurationSecs)
	gauge("run_exit_code", "Exit code of the last run: 0 ok, 1 failures, 2 usage, 3 fatal, 130 interrupted.", float64(s.ExitCode))
	gauge("run_finished_timestamp_seconds", "When the last run finished, in seconds since the Unix epoch.", unixSeconds(m.finished()))
	info := gaugeVec("run_info", "The last run's ID and the meetarchive version that ran it; the value is 1.", "run_id", "version")
	info.WithLabelValues(s.RunID, s.Version).Set(1)
	if haveLast {
		gauge("last_success_timestamp_seconds", "When the last run that exited 0 finished, in seconds since the Unix epoch.", lastSuccess)
	}
	if c := s.Completeness; c != nil {
		gauge("unaccounted_recordings", "Recordings of the last run's window (or input) not archived or accounted for (see summary.json's completeness).", float64(c.UnaccountedCount()))
	}
	if !m.OldestPending.IsZero() {
		gauge("oldest_pending_timestamp_seconds", "When the oldest conference still pending ended, in seconds since the Unix epoch.", unixSeconds(m.OldestPending))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return reg, nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// previousLastSuccess reads meetarchive_last_success_timestamp_seconds (in
// seconds since the Unix epoch) from an existing metrics file; false when
// there is no file or no plausible value in it.
func previousLastSuccess(file string) (float64, bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		return 0, false
	}
	mf := mfs[lastSuccessMetric]
	if mf == nil || len(mf.GetMetric()) == 0 {
		return 0, false
	}
	return plausibleTimestamp(mf.GetMetric()[0])
}

// plausibleTimestamp is a gauge's or untyped sample's value when it can be a
// time in seconds since the Unix epoch.
func plausibleTimestamp(mt *dto.Metric) (float64, bool) {
	var v float64
	switch {
	case mt.GetGauge() != nil:
		v = mt.GetGauge().GetValue()
	case mt.GetUntyped() != nil:
		v = mt.GetUntyped().GetValue()
	default:
		return 0, false
	}
	if !(v > 0 && v < 1<<40) { // not a plausible time (NaN, zero, negative, absurd)
		return 0, false
	}
	return v, true
}

// maxGatewayScrape bounds the Pushgateway's /metrics read for the last
// success time.
const maxGatewayScrape = 64 << 20

// gatewayLastSuccess reads the group's last success time from the
// Pushgateway's own /metrics: the sample whose job and shard labels are
// the group's. false, nil when the gateway has none; an error when the
// gateway could not be read.
func gatewayLastSuccess(ctx context.Context, base string, user *url.Userinfo, job, shard string) (float64, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(withScheme(base), "/")+"/metrics", nil)
	if err != nil {
		return 0, false, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	if user != nil {
		pw, _ := user.Password()
		req.SetBasicAuth(user.Username(), pw)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("read the gateway's metrics: %s", resp.Status)
	}
	format := expfmt.ResponseFormat(resp.Header)
	if format.FormatType() == expfmt.TypeUnknown {
		format = expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	dec := expfmt.NewDecoder(io.LimitReader(resp.Body, maxGatewayScrape), format)
	best, found := 0.0, false
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return 0, false, fmt.Errorf("read the gateway's metrics: %w", err)
		}
		if mf.GetName() != lastSuccessMetric {
			continue
		}
		for _, mt := range mf.GetMetric() {
			if labelValue(mt, "job") != job || labelValue(mt, "shard") != shard {
				continue
			}
			if v, ok := plausibleTimestamp(mt); ok && (!found || v > best) {
				best, found = v, true
			}
		}
	}
	return best, found, nil
}

func labelValue(mt *dto.Metric, name string) string {
	for _, lp := range mt.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
}

// withScheme adds http:// to host:port, as push.New does.
func withScheme(s string) string {
	if !strings.Contains(s, "://") {
		return "http://" + s
	}
	return s
}

// splitURLUser takes the credentials out of a URL: the URL without them (as
// given when it has none) and the credentials, nil when none.
func splitURLUser(s string) (string, *url.Userinfo) {
	u, err := url.Parse(withScheme(s))
	if err != nil || u.User == nil {
		return s, nil
	}
	user := u.User
	u.User = nil
	return u.String(), user
}

// writeMetricsFile writes the registry's metrics to file in the text format,
// atomically (report.WriteFileAtomic).
func writeMetricsFile(file string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather: %w", err)
	}
	return report.WriteFileAtomic(file, func(w io.Writer) error {
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return fmt.Errorf("encode %s: %w", mf.GetName(), err)
			}
		}
		return nil
	})
}

// pushMetrics pushes the registry to the Pushgateway at base under job and
// shard: PUT (replace the group) when replace, else POST (replace only the
// metrics sent). user, when not nil, goes as basic auth.
func pushMetrics(ctx context.Context, base string, user *url.Userinfo, job, shard string, g prometheus.Gatherer, replace bool) error {
	p := push.New(base, job).Grouping("shard", shard).Gatherer(g)
	if user != nil {
		pw, _ := user.Password()
		p = p.BasicAuth(user.Username(), pw)
	}
	if replace {
		return p.PushContext(ctx)
	}
	return p.AddContext(ctx)
}

// redactURL drops a URL's password for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// CheckPushURL accepts what push.New accepts and a Pushgateway can serve:
// an http or https URL with a host and no query or fragment, or host:port.
func CheckPushURL(s string) error {
	raw := s
	if !strings.Contains(s, "://") {
		raw = "http://" + s
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http or https URL", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", redactURL(s))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q: want no query or fragment", redactURL(s))
	case strings.Contains(u.Path, "/metrics/job"):
		return fmt.Errorf("%q: give the Pushgateway's base URL, without the /metrics/job path", redactURL(s))
	}
	return nil
}
