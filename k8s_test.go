package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"meetarchive/archive"
	"meetarchive/export/meetingtest"
	"meetarchive/metrics"
	"meetarchive/pipeline"
)

// The Kubernetes examples under deploy/kubernetes, read with the Kubernetes
// API types (and the Prometheus Operator's for the alert rules): a field
// that the API does not know is an error.
const k8sDir = "deploy/kubernetes"

// imageUID is the image's user (scripts/image: User).
const imageUID = 65532

// peakOverBudget is what a run's peak RSS adds to --memory (README: Memory).
const peakOverBudget = 35 << 20

// decodeStrict reads one YAML document into v, refusing unknown and
// duplicate fields.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("\n---")) {
		t.Fatalf("%s: want exactly one document", path)
	}
	if err := yaml.UnmarshalStrict(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// runFlagsIn checks that every --flag of a meetarchive run command line is a
// real flag of `run`, and returns them by name.
func runFlagsIn(t *testing.T, words []string) map[string]string {
	t.Helper()
	c := newCommand("run", "", "", io.Discard)
	defaultRunFlags().register(c)
	got := map[string]string{}
	for _, w := range words {
		if !strings.HasPrefix(w, "--") {
			continue
		}
		name, val, _ := strings.Cut(strings.TrimPrefix(w, "--"), "=")
		if c.fs.Lookup(name) == nil {
			t.Errorf("flag --%s in the example is not a flag of meetarchive run", name)
		}
		got[name] = val
	}
	return got
}

// checkJob checks what both examples share: the image's entrypoint with
// `run` and real flags, non-root, memory from the budget, metrics, secrets
// from a Secret, a deadline, a grace period long enough to finish the
// report, and a podFailurePolicy that fails at once on the exit codes in
// fail (action by exit code) and retries only infrastructure failures.
func checkJob(t *testing.T, spec batchv1.JobSpec, fail map[int32]batchv1.PodFailurePolicyAction) (corev1.Container, map[string]string) {
	t.Helper()
	pod := spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want one", len(pod.Containers))
	}
	ctr := pod.Containers[0]
	if ctr.Image == "" || strings.HasSuffix(ctr.Image, ":latest") {
		t.Errorf("image %q: want the image make image builds, pushed under a version tag", ctr.Image)
	}
	if len(ctr.Command) != 0 || len(ctr.Args) == 0 || ctr.Args[0] != "run" {
		t.Fatalf("command %q args %q: the image has no shell; want the entrypoint with args [run ...]", ctr.Command, ctr.Args)
	}
	flags := runFlagsIn(t, ctr.Args[1:])

	t.Run("non-root", func(t *testing.T) {
		sc := pod.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != imageUID {
			t.Errorf("pod securityContext %+v: want runAsNonRoot and runAsUser %d (the image's user)", sc, imageUID)
		}
		if sc != nil && (sc.FSGroup == nil || *sc.FSGroup != imageUID) {
			t.Errorf("fsGroup %v: want %d, so that the report volume is writable", sc.FSGroup, imageUID)
		}
		if c := ctr.SecurityContext; c != nil && c.ReadOnlyRootFilesystem != nil && *c.ReadOnlyRootFilesystem &&
			!slices.ContainsFunc(ctr.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/tmp" }) {
			t.Error("a read-only root file system needs a volume on /tmp")
		}
	})

	t.Run("memory", func(t *testing.T) {
		budget := int64(2 * archive.DefaultMaxUploads * archive.DefaultPartSize)
		if v, ok := flags["memory"]; ok {
			var err error
			if budget, err = parseBytes(v); err != nil {
				t.Fatalf("--memory %q: %v", v, err)
			}
		}
		peak := budget + peakOverBudget
		req, lim := ctr.Resources.Requests[corev1.ResourceMemory], ctr.Resources.Limits[corev1.ResourceMemory]
		if req.IsZero() || req.Cmp(lim) != 0 {
			t.Errorf("memory request %s limit %s: want both, equal (the peak is known)", req.String(), lim.String())
		}
		if lim.Value() < peak || lim.Value() > peak*3/2 {
			t.Errorf("memory limit %s: want from the peak (--memory %d MiB + 35 MiB = %d MiB) to 1.5 times it", lim.String(), budget>>20, peak>>20)
		}
		if cpu := ctr.Resources.Requests[corev1.ResourceCPU]; cpu.IsZero() {
			t.Error("no cpu request")
		}
	})

	t.Run("metrics", func(t *testing.T) {
		push, file := flags["metrics-push"], flags["metrics-file"]
		switch {
		case push == "" && file == "":
			t.Error("neither --metrics-push nor --metrics-file")
		case push != "":
			if err := metrics.CheckPushURL(push); err != nil {
				t.Errorf("--metrics-push %q: %v", push, err)
			}
		}
	})

	t.Run("secrets", func(t *testing.T) {
		if len(ctr.EnvFrom) == 0 || ctr.EnvFrom[0].SecretRef == nil || ctr.EnvFrom[0].SecretRef.Name == "" {
			t.Error("credentials must come from a Secret (envFrom secretRef)")
		}
		secret := regexp.MustCompile(`KEY|SECRET|PASSWORD|TOKEN|NOTIFY|APP_ID|ACCOUNT`)
		for _, e := range ctr.Env {
			if secret.MatchString(e.Name) && e.Value != "" {
				t.Errorf("env %s has a value in the manifest: it belongs in the Secret", e.Name)
			}
		}
		for name := range flags {
			if secret.MatchString(strings.ToUpper(name)) && !strings.HasSuffix(name, "-file") && name != "notify-timeout" && name != "notify-on" {
				t.Errorf("--%s on the command line: it belongs in the Secret", name)
			}
		}
	})

	t.Run("deadline and grace", func(t *testing.T) {
		if spec.ActiveDeadlineSeconds == nil || *spec.ActiveDeadlineSeconds <= 0 {
			t.Error("no activeDeadlineSeconds")
		}
		durations := map[string]time.Duration{"grace": defaultGrace, "notify-timeout": defaultNotifyFlags().Timeout}
		for name := range durations {
			if v, ok := flags[name]; ok {
				d, err := time.ParseDuration(v)
				if err != nil {
					t.Fatalf("--%s %q: %v", name, v, err)
				}
				durations[name] = d
			}
		}
		need := durations["grace"] + durations["notify-timeout"] + metrics.PushTimeout
		if pod.TerminationGracePeriodSeconds == nil || time.Duration(*pod.TerminationGracePeriodSeconds)*time.Second <= need {
			t.Errorf("terminationGracePeriodSeconds %v must exceed --grace + --notify-timeout + the metrics push (%s) so that the report, metrics and message are written",
				pod.TerminationGracePeriodSeconds, need)
		}
	})

	t.Run("podFailurePolicy", func(t *testing.T) {
		if pod.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("restartPolicy %q: a podFailurePolicy needs Never", pod.RestartPolicy)
		}
		if spec.PodFailurePolicy == nil {
			t.Fatal("no podFailurePolicy")
		}
		// The first rule that matches decides, as in the Job controller.
		action := func(code int32) (batchv1.PodFailurePolicyAction, bool) {
			for _, r := range spec.PodFailurePolicy.Rules {
				oc := r.OnExitCodes
				if oc == nil || (oc.ContainerName != nil && *oc.ContainerName != ctr.Name) {
					continue
				}
				if (oc.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == slices.Contains(oc.Values, code) {
					return r.Action, true
				}
			}
			return "", false
		}
		for code, want := range fail {
			if got, _ := action(code); got != want {
				t.Errorf("exit %d: action %q, want %q (retrying cannot help)", code, got, want)
			}
		}
		for _, code := range []int32{130, 137, 143} { // interrupted, killed: infrastructure, retried
			if got, ok := action(code); ok {
				t.Errorf("exit %d: action %q, want no rule (counted against the backoff limit, retried)", code, got)
			}
		}
		disruption := slices.ContainsFunc(spec.PodFailurePolicy.Rules, func(r batchv1.PodFailurePolicyRule) bool {
			return r.Action == batchv1.PodFailurePolicyActionIgnore &&
				slices.ContainsFunc(r.OnPodConditions, func(c batchv1.PodFailurePolicyOnPodConditionsPattern) bool {
					return c.Type == corev1.DisruptionTarget
				})
		})
		if !disruption {
			t.Error("no Ignore rule for DisruptionTarget: an evicted or preempted pod would count as a failure")
		}
	})
	return ctr, flags
}

func TestKubernetesIndexedJobExample(t *testing.T) {
	var job batchv1.Job
	decodeStrict(t, filepath.Join(k8sDir, "indexed-job.yaml"), &job)
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Fatalf("got %s %s, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || *s.Completions < 2 {
		t.Fatalf("completionMode %v completions %v, want Indexed and at least 2", s.CompletionMode, s.Completions)
	}
	if s.BackoffLimitPerIndex == nil {
		t.Error("no backoffLimitPerIndex: FailIndex needs it")
	}
	ctr, flags := checkJob(t, s, map[int32]batchv1.PodFailurePolicyAction{
		1: batchv1.PodFailurePolicyActionFailIndex, // this shard is finished, with failures; the others go on
		2: batchv1.PodFailurePolicyActionFailJob,
		3: batchv1.PodFailurePolicyActionFailJob,
	})
	// The shard count is the number of completions; the index comes from the pod.
	sh, err := pipeline.ParseShard(flags["shard"], func(string) string { return "0" })
	if err != nil || sh.N != int(*s.Completions) || sh.K != 0 {
		t.Errorf("--shard=%q gives %d/%d (%v), want N = completions %d", flags["shard"], sh.K, sh.N, err, *s.Completions)
	}
	if !strings.Contains(flags["out"], "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--out=%q: each shard needs its own report directory", flags["out"])
	}
	if !envFromField(ctr, "JOB_COMPLETION_INDEX", "metadata.annotations['batch.kubernetes.io/job-completion-index']") {
		t.Error("JOB_COMPLETION_INDEX is not taken from the pod's completion index")
	}
}

func TestKubernetesCronJobExample(t *testing.T) {
	var cj batchv1.CronJob
	decodeStrict(t, filepath.Join(k8sDir, "cronjob.yaml"), &cj)
	if cj.APIVersion != "batch/v1" || cj.Kind != "CronJob" {
		t.Fatalf("got %s %s, want batch/v1 CronJob", cj.APIVersion, cj.Kind)
	}
	fields := strings.Fields(cj.Spec.Schedule)
	if len(fields) != 5 {
		t.Errorf("schedule %q: want 5 cron fields", cj.Spec.Schedule)
	}
	cronField := regexp.MustCompile(`^(\*|\d+)(-\d+)?(/\d+)?(,(\d+))*$`)
	for _, f := range fields {
		if !cronField.MatchString(f) {
			t.Errorf("schedule field %q is not a cron field", f)
		}
	}
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q: two nightly runs must not overlap", cj.Spec.ConcurrencyPolicy)
	}
	spec := cj.Spec.JobTemplate.Spec
	ctr, flags := checkJob(t, spec, map[int32]batchv1.PodFailurePolicyAction{
		1: batchv1.PodFailurePolicyActionFailJob, // a finished run with failures: the next night retries them
		2: batchv1.PodFailurePolicyActionFailJob,
		3: batchv1.PodFailurePolicyActionFailJob,
	})
	if d := spec.ActiveDeadlineSeconds; d != nil && *d >= 24*3600 {
		t.Errorf("activeDeadlineSeconds %d: a nightly run must end before the next night's", *d)
	}
	for _, need := range []string{"since-last", "dest", "out"} {
		if _, ok := flags[need]; !ok {
			t.Errorf("the nightly command has no --%s", need)
		}
	}
	// Each night's report in its own directory, named by the Job.
	if !strings.Contains(flags["out"], "$(JOB_NAME)") || !envFromField(ctr, "JOB_NAME", "metadata.labels['batch.kubernetes.io/job-name']") {
		t.Errorf("--out=%q: want /reports/$(JOB_NAME) with JOB_NAME from the pod's job-name label", flags["out"])
	}
}

// envFromField reports whether ctr sets name from the pod field path.
func envFromField(ctr corev1.Container, name, path string) bool {
	return slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool {
		return e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == path
	})
}

// TestPrometheusRuleExample: the alert rules parse as PromQL, and every
// series they select is one the binary writes (--metrics-file of a real
// run), with labels it has and, for status, values it writes.
func TestPrometheusRuleExample(t *testing.T) {
	var pr monitoringv1.PrometheusRule
	decodeStrict(t, filepath.Join(k8sDir, "prometheusrule.yaml"), &pr)
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" {
		t.Fatalf("got %s %s, want monitoring.coreos.com/v1 PrometheusRule", pr.APIVersion, pr.Kind)
	}
	series := metricsOfARun(t)
	var alerts []string
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			t.Run(r.Alert, func(t *testing.T) {
				if r.Alert == "" || r.Annotations["summary"] == "" {
					t.Errorf("rule %q: want an alert name and a summary", r.Expr.String())
				}
				if r.For != nil {
					if _, err := model.ParseDuration(string(*r.For)); err != nil {
						t.Errorf("for %q: %v", *r.For, err)
					}
				}
				expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr.String())
				if err != nil {
					t.Fatalf("expr %q: %v", r.Expr.String(), err)
				}
				n := 0
				parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
					vs, ok := node.(*parser.VectorSelector)
					if !ok {
						return nil
					}
					n++
					labels, ok := series[vs.Name]
					if !ok {
						t.Errorf("%s: the binary writes no metric %s", r.Alert, vs.Name)
						return nil
					}
					for _, m := range vs.LabelMatchers {
						if m.Name == model.MetricNameLabel || m.Name == "job" || m.Name == "shard" || m.Name == "instance" {
							continue
						}
						values, ok := labels[m.Name]
						if !ok {
							t.Errorf("%s: %s has no label %s", r.Alert, vs.Name, m.Name)
						} else if !slices.ContainsFunc(values, m.Matches) {
							t.Errorf("%s: no %s{%s} series matches %s", r.Alert, vs.Name, m.Name, m.String())
						}
					}
					return nil
				})
				if n == 0 {
					t.Errorf("%s selects no series", r.Alert)
				}
			})
		}
	}
	for _, want := range []string{"MeetarchiveNoSuccessfulRun", "MeetarchiveRunFailed", "MeetarchiveFatal", "MeetarchivePendingEveryRun"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s", want)
		}
	}
}

// metricsOfARun runs the binary with --metrics-file against the simulator
// (one conference pending, so the pending metric is there too) and returns
// every metric name with its labels' values.
func metricsOfARun(t *testing.T) map[string]map[string][]string {
	t.Helper()
	ds := meetingtest.Generate(meetingtest.GenerateConfig{Conferences: 2, FilesPerConference: 1, FileSize: 4 << 10, Pending: 1, Seed: 17})
	sim := meetingtest.Start(t, meetingtest.Config{Dataset: ds, Seed: 17})
	dir := t.TempDir()
	file := filepath.Join(dir, "meetarchive.prom")
	res := runBin(t, simEnv(sim), "run", "--input", writeInput(t, dir, ds.UUIDs()...), "--dest", filepath.Join(dir, "a"),
		"--out", filepath.Join(dir, "r"), "--metrics-file", file)
	if res.code != 0 {
		t.Fatalf("run: exit %d\n%s", res.code, res.stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tp := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := tp.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]map[string][]string{}
	for name, mf := range mfs {
		out[name] = map[string][]string{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				out[name][lp.GetName()] = append(out[name][lp.GetName()], lp.GetValue())
			}
		}
	}
	return out
}

// TestKubernetesExamplesInReadme: every YAML block of the README that names
// an example file (a first line "# deploy/kubernetes/NAME") shows lines of
// that file, as they are there.
func TestKubernetesExamplesInReadme(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	shown := map[string]bool{}
	for _, b := range blocks {
		lines := strings.Split(strings.TrimRight(b[1], "\n"), "\n")
		name, ok := strings.CutPrefix(lines[0], "# "+k8sDir+"/")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		file, err := os.ReadFile(filepath.Join(k8sDir, name))
		if err != nil {
			t.Errorf("README shows %s: %v", name, err)
			continue
		}
		shown[name] = true
		have := map[string]bool{}
		for _, l := range strings.Split(string(file), "\n") {
			have[strings.TrimSpace(l)] = true
		}
		for _, l := range lines[1:] {
			if l = strings.TrimSpace(l); l != "" && l != "..." && !have[l] {
				t.Errorf("README's excerpt of %s has %q, which the file does not", name, l)
			}
		}
	}
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !shown[e.Name()] {
			t.Errorf("README shows no excerpt of %s/%s", k8sDir, e.Name())
		}
	}
}
