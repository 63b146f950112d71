// Package metricstest holds what the metrics tests and the binary's tests
// share: a fake Pushgateway and readers of the text format into samples.
package metricstest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// SampleKey names one sample as name{label=value,...}, labels sorted, values
// raw; a label with an empty value is left out, as Prometheus treats it as
// absent (and the Pushgateway drops it).
func SampleKey(name string, labels map[string]string) string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(labels)) {
		if labels[n] != "" {
			parts = append(parts, n+"="+labels[n])
		}
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// Flatten turns metric families into samples; extra labels are added to every
// sample (the Pushgateway's grouping labels). Every family must be a gauge.
func Flatten(t *testing.T, mfs map[string]*dto.MetricFamily, extra map[string]string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, mf := range mfs {
		if mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s: type %v, want GAUGE", name, mf.GetType())
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s: no HELP", name)
		}
		for _, m := range mf.GetMetric() {
			labels := maps.Clone(extra)
			if labels == nil {
				labels = map[string]string{}
			}
			for _, lp := range m.GetLabel() {
				if _, dup := labels[lp.GetName()]; dup {
					t.Errorf("%s: label %s both in the sample and the grouping key", name, lp.GetName())
				}
				labels[lp.GetName()] = lp.GetValue()
			}
			k := SampleKey(name, labels)
			if _, dup := out[k]; dup {
				t.Errorf("sample %s twice", k)
			}
			out[k] = m.GetGauge().GetValue()
		}
	}
	return out
}

// ParseFile reads a metrics file with the Prometheus text parser.
func ParseFile(t *testing.T, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open metrics file: %v", err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("parse metrics file: %v", err)
	}
	return mfs
}

// Gateway is a Pushgateway as far as pushing goes: PUT replaces a group,
// POST replaces the families it sends, the body is decoded with the
// Prometheus decoder for its Content-Type.
type Gateway struct {
	mu       sync.Mutex
	groups   map[string]map[string]*dto.MetricFamily // path after /metrics/ -> families
	Requests []Request                               // every push (read after the requests ended)
	Status   int                                     // answer status of pushes; 0 is 200
	Hang     chan struct{}                           // when set, requests wait for it or their end
	FailRead bool                                    // GET /metrics answers 500
	Reads    int                                     // GET /metrics requests (read after the requests ended)
}

type Request struct {
	Method, Path, ContentType, User, Password string
	Labels                                    map[string]string
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.Hang != nil {
		select {
		case <-g.Hang:
		case <-r.Context().Done():
		}
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == "/metrics" {
		g.serveMetrics(w)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), "/metrics/")
	if !ok || (r.Method != http.MethodPut && r.Method != http.MethodPost) {
		http.Error(w, "not a push", http.StatusMethodNotAllowed)
		return
	}
	labels, err := groupingLabels(rest)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	format := expfmt.ResponseFormat(r.Header)
	if format.FormatType() == expfmt.TypeUnknown {
		http.Error(w, "unknown Content-Type "+r.Header.Get("Content-Type"), http.StatusUnsupportedMediaType)
		return
	}
	dec := expfmt.NewDecoder(r.Body, format)
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			http.Error(w, "decode: "+err.Error(), http.StatusBadRequest)
			return
		}
		fams[mf.GetName()] = mf
	}
	user, pw, _ := r.BasicAuth()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Requests = append(g.Requests, Request{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), user, pw, labels})
	if g.Status != 0 {
		w.WriteHeader(g.Status)
		return
	}
	if g.groups == nil {
		g.groups = map[string]map[string]*dto.MetricFamily{}
	}
	if r.Method == http.MethodPut || g.groups[rest] == nil {
		g.groups[rest] = fams
	} else {
		maps.Copy(g.groups[rest], fams)
	}
}

// serveMetrics answers a scrape: every group's samples with its grouping
// labels, in the text format.
func (g *Gateway) serveMetrics(w http.ResponseWriter) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.Reads++
	if g.FailRead {
		http.Error(w, "no reading today", http.StatusInternalServerError)
		return
	}
	merged := map[string]*dto.MetricFamily{}
	for path, fams := range g.groups {
		labels, err := groupingLabels(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for name, mf := range fams {
			out := merged[name]
			if out == nil {
				out = &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type}
				merged[name] = out
			}
			for _, m := range mf.GetMetric() {
				lps := slices.Clone(m.GetLabel())
				for _, n := range slices.Sorted(maps.Keys(labels)) {
					lps = append(lps, &dto.LabelPair{Name: &n, Value: new(labels[n])})
				}
				out.Metric = append(out.Metric, &dto.Metric{Label: lps, Gauge: m.Gauge, Untyped: m.Untyped})
			}
		}
	}
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	for _, name := range slices.Sorted(maps.Keys(merged)) {
		if err := enc.Encode(merged[name]); err != nil {
			panic(err) // the test's own families: a bug in the test
		}
	}
}

// groupingLabels decodes a push path's label pairs, "name@base64" taking a
// base64url value (padding optional), as the Pushgateway does.
func groupingLabels(path string) (map[string]string, error) {
	parts := strings.Split(path, "/")
	if len(parts)%2 != 0 {
		return nil, fmt.Errorf("odd number of path components in %q", path)
	}
	labels := map[string]string{}
	for i := 0; i < len(parts); i += 2 {
		name, value := parts[i], parts[i+1]
		if n, ok := strings.CutSuffix(name, "@base64"); ok {
			b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
			if err != nil {
				return nil, fmt.Errorf("label %s: %w", n, err)
			}
			name, value = n, string(b)
		} else {
			v, err := urlUnescape(value)
			if err != nil {
				return nil, err
			}
			value = v
		}
		labels[name] = value
	}
	if labels["job"] == "" {
		return nil, fmt.Errorf("no job in %q", path)
	}
	return labels, nil
}

func urlUnescape(s string) (string, error) {
	r, err := http.NewRequest(http.MethodGet, "http://x/?v="+s, nil)
	if err != nil {
		return "", err
	}
	return r.URL.Query().Get("v"), nil
}

// Locked runs fn with the gateway's lock held: for changing its fields
// while a server may serve it.
func (g *Gateway) Locked(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
}

// Pushes is a copy of the pushes so far, safe while requests are served.
func (g *Gateway) Pushes() []Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.Requests)
}

// Group returns the samples a scrape of the gateway would show for a group.
func (g *Gateway) Group(t *testing.T, path string) map[string]float64 {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	fams, ok := g.groups[path]
	if !ok {
		t.Fatalf("gateway has no group %s (has %v)", path, slices.Sorted(maps.Keys(g.groups)))
	}
	labels, err := groupingLabels(path)
	if err != nil {
		t.Fatal(err)
	}
	return Flatten(t, fams, labels)
}
