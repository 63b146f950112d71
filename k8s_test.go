package main

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"meetarchive/pipeline"
)

// k8sContainer is the part of a pod spec the examples rely on.
type k8sContainer struct {
	Args    []string `yaml:"args"`
	Command []string `yaml:"command"`
	Env     []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `yaml:"fieldPath"`
			} `yaml:"fieldRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
}

type k8sPodSpec struct {
	RestartPolicy                 string         `yaml:"restartPolicy"`
	TerminationGracePeriodSeconds int            `yaml:"terminationGracePeriodSeconds"`
	Containers                    []k8sContainer `yaml:"containers"`
}

type k8sJobSpec struct {
	CompletionMode string `yaml:"completionMode"`
	Completions    int    `yaml:"completions"`
	Parallelism    int    `yaml:"parallelism"`
	Template       struct {
		Spec k8sPodSpec `yaml:"spec"`
	} `yaml:"template"`
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		t.Fatalf("%s: want exactly one document", path)
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
		w = strings.Trim(w, `"`)
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

func TestKubernetesIndexedJobExample(t *testing.T) {
	var job struct {
		APIVersion string     `yaml:"apiVersion"`
		Kind       string     `yaml:"kind"`
		Spec       k8sJobSpec `yaml:"spec"`
	}
	decodeStrict(t, "testdata/k8s/indexed-job.yaml", &job)
	if job.APIVersion != "batch/v1" || job.Kind != "Job" {
		t.Fatalf("got %s %s, want batch/v1 Job", job.APIVersion, job.Kind)
	}
	s := job.Spec
	if s.CompletionMode != "Indexed" || s.Completions < 2 {
		t.Fatalf("completionMode %q completions %d, want Indexed and at least 2", s.CompletionMode, s.Completions)
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container")
	}
	ctr := s.Template.Spec.Containers[0]
	if len(ctr.Args) == 0 || ctr.Args[0] != "run" {
		t.Fatalf("args %v, want meetarchive run", ctr.Args)
	}
	flags := runFlagsIn(t, ctr.Args)
	// The shard count is the number of completions; the index comes from the pod.
	sh, err := pipeline.ParseShard(flags["shard"], func(string) string { return "0" })
	if err != nil || sh.N != s.Completions || sh.K != 0 {
		t.Errorf("--shard=%q gives %d/%d (%v), want N = completions %d", flags["shard"], sh.K, sh.N, err, s.Completions)
	}
	if !strings.Contains(flags["out"], "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("--out=%q: each shard needs its own report directory", flags["out"])
	}
	indexFromPod := false
	for _, e := range ctr.Env {
		if e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			strings.Contains(e.ValueFrom.FieldRef.FieldPath, "job-completion-index") {
			indexFromPod = true
		}
	}
	if !indexFromPod {
		t.Error("JOB_COMPLETION_INDEX is not taken from the pod's completion index")
	}
	if len(ctr.EnvFrom) == 0 || ctr.EnvFrom[0].SecretRef == nil {
		t.Error("credentials must come from a Secret, not the manifest")
	}
}

func TestKubernetesCronJobExample(t *testing.T) {
	var cj struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			Schedule          string `yaml:"schedule"`
			ConcurrencyPolicy string `yaml:"concurrencyPolicy"`
			JobTemplate       struct {
				Spec k8sJobSpec `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	decodeStrict(t, "testdata/k8s/cronjob.yaml", &cj)
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
	if cj.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q: two nightly runs must not overlap", cj.Spec.ConcurrencyPolicy)
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	if len(pod.Containers) != 1 || len(pod.Containers[0].Args) != 1 {
		t.Fatalf("want one container with one shell command line")
	}
	words := strings.Fields(pod.Containers[0].Args[0])
	if len(words) < 3 || words[1] != "meetarchive" || words[2] != "run" {
		t.Fatalf("command line %q does not run meetarchive run", pod.Containers[0].Args[0])
	}
	// Flags given as separate words: rebuild --name value pairs.
	var joined []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, "--") && !strings.Contains(w, "=") && i+1 < len(words) && !strings.HasPrefix(words[i+1], "--") {
			w += "=" + words[i+1]
			i++
		}
		joined = append(joined, w)
	}
	flags := runFlagsIn(t, joined)
	for _, need := range []string{"since-last", "dest", "out"} {
		if _, ok := flags[need]; !ok {
			t.Errorf("the nightly command has no --%s", need)
		}
	}
	grace, err := time.ParseDuration(flags["grace"])
	if err != nil {
		t.Fatalf("--grace %q: %v", flags["grace"], err)
	}
	if time.Duration(pod.TerminationGracePeriodSeconds)*time.Second <= grace {
		t.Errorf("terminationGracePeriodSeconds %d must exceed --grace %s so the report is written",
			pod.TerminationGracePeriodSeconds, grace)
	}
}
