package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

// SummaryHTML is the report's one-page summary for a person, verdict
// first: a banner with the run's verdict (Judge) in one sentence, coloured
// by its level, and what the exit code means; then the conferences that
// need action and those waiting on the platform, each with its status,
// errorCode and hint (the first maxAttention of each, with the count of the
// rest), pointing to failures.csv and manifest.xlsx; then the Summary
// sheet's three charts as inline SVG, each with a title, a description and
// its table of figures for screen readers and print; last the run's
// details (the Summary sheet's fields). It has no script and no external
// asset (it opens the same from a mail attachment or an air-gapped share;
// its Content-Security-Policy forbids loading anything), a print style
// sheet keeps the colours, and every text is HTML-escaped by html/template
// and comes from the redacted summary and rows.
const SummaryHTML = "summary.html"

// htmlBar is one bar of an HTML chart.
type htmlBar struct {
	Label string
	Short string // Label cut to fit beside the bar
	Value string
	Class string // the bar's colour: "ok", "warn", "bad"
	Y     int
	Width int
}

// htmlChart is one chart of summary.html.
type htmlChart struct {
	ID        string
	Title     string
	Desc      string // the figures as text, for screen readers
	LabelHead string
	ValueHead string
	Bars      []htmlBar
	Height    int
}

type htmlField struct{ Name, Value string }

// htmlList is one list of conferences of summary.html.
type htmlList struct {
	ID, Title string
	Intro     string
	Rows      []attentionRow
	Total     int
	More      int // conferences not shown
}

type htmlPage struct {
	Title       string
	RunID       string
	Level       Level
	Label       string // the level in words
	Verdict     string
	ExitCode    int
	ExitName    string
	ExitMeaning string
	Run         string // started, finished, destination in one line
	Lists       []htmlList
	Fields      []htmlField
	Charts      []htmlChart

	Completeness *htmlCompleteness // the Completeness section; nil: none
}

const (
	htmlBarMax    = 360 // px of the longest bar
	htmlBarHeight = 22  // px per bar
)

// levelLabel names a verdict's level for a person (the colour is never the
// only sign of it).
func levelLabel(l Level) string {
	switch l {
	case LevelGreen:
		return "Green: nothing to do"
	case LevelAmber:
		return "Amber: nothing lost, check later"
	default:
		return "Red: action needed"
	}
}

var summaryPage = template.Must(template.New("summary").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1a1a1a; line-height: 1.4; }
.verdict { border: 2px solid; border-left-width: 12px; border-radius: 6px; padding: 0.6em 1.2em; margin-bottom: 1em; }
.verdict h1 { font-size: 1.3em; margin: 0.2em 0; }
.verdict p { margin: 0.3em 0; }
.verdict .badge { font-weight: 700; text-transform: uppercase; letter-spacing: 0.05em; font-size: 0.9em; }
.level-green { background: #e3f4e6; border-color: #1e7b34; }
.level-green h1, .level-green .badge { color: #145524; }
.level-amber { background: #fff1d6; border-color: #b35c00; }
.level-amber h1, .level-amber .badge { color: #7a3e00; }
.level-red { background: #fde4e2; border-color: #b3261e; }
.level-red h1, .level-red .badge { color: #8c1d18; }
details { margin-bottom: 1em; }
.run { color: #444; margin: 0 0 1.5em; }
h2 { font-size: 1.2em; margin: 0 0 0.4em; }
section { margin-bottom: 2em; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #dde3ee; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.id { font-family: ui-monospace, monospace; font-size: 0.9em; white-space: nowrap; }
tr.st-failed td.st, tr.st-cancelled td.st, tr.st-not-found td.st, tr.st-invalid-input td.st { color: #8c1d18; font-weight: 600; }
svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #1a1a1a; }
rect.ok { fill: #4472c4; }
rect.warn { fill: #d08000; }
rect.bad { fill: #c0392b; }
@media print {
  body { margin: 0; font-size: 10pt; }
  .verdict, rect, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section, tr, svg { break-inside: avoid; }
  thead { display: table-header-group; }
  a[href]::after { content: " (" attr(href) ")"; }
  details > summary { display: none; }
}
</style>
</head>
<body>
<section id="verdict" class="verdict level-{{.Level}}" aria-labelledby="verdict-text">
<p class="badge" id="verdict-level">{{.Label}}</p>
<h1 id="verdict-text">{{.Verdict}}</h1>
<p class="exit" id="verdict-exit">Exit code {{.ExitCode}} ({{.ExitName}}): {{.ExitMeaning}}.</p>
</section>
<p class="run">meetarchive report of run {{.RunID}}{{if .Run}}: {{.Run}}{{end}}.</p>
{{range .Lists}}<section id="{{.ID}}" aria-labelledby="{{.ID}}-title">
<h2 id="{{.ID}}-title">{{.Title}}</h2>
<p>{{.Intro}} <a href="failures.csv">failures.csv</a> lists those a rerun retries (it is a valid --input); the Failures sheet of <a href="manifest.xlsx">manifest.xlsx</a> lists every one.{{if .More}} The first {{len .Rows}} are shown; {{.More}} more are in those files.{{end}}</p>
<table>
<thead><tr><th scope="col">seq</th><th scope="col">confUUID</th><th scope="col">subject</th><th scope="col">status</th><th scope="col">errorCode</th><th scope="col">what to do</th><th scope="col">errorMessage</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="st-{{.Status}}"><td class="n">{{.Seq}}</td><td class="id">{{.ConfUUID}}</td><td>{{.Subject}}</td><td class="st">{{.Status}}</td><td>{{.Code}}</td><td>{{.Hint}}</td><td>{{.Message}}</td></tr>
{{end}}</tbody>
</table>
</section>
{{else}}{{if or (not .Completeness) .Completeness.Complete}}<section id="attention">
<h2>Nothing needs attention</h2>
<p>No conference failed, was not found, was invalid or was cancelled, and none waits on the platform.</p>
</section>
{{end}}{{end}}{{template "completeness" .}}{{range .Charts}}<section id="{{.ID}}" aria-labelledby="{{.ID}}-h">
<h2 id="{{.ID}}-h">{{.Title}}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.Height}}" viewBox="0 0 760 {{.Height}}" role="img" aria-labelledby="{{.ID}}-title {{.ID}}-desc">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{range .Bars}}<text x="0" y="{{.Y}}" dy="15" aria-hidden="true">{{.Short}}</text><rect class="{{.Class}}" x="230" y="{{.Y}}" width="{{.Width}}" height="18"></rect><text x="{{.Width}}" y="{{.Y}}" dx="236" dy="15" aria-hidden="true">{{.Value}}</text>
{{end}}</svg>
<details><summary>The figures as a table</summary>
<table><thead><tr><th scope="col">{{.LabelHead}}</th><th scope="col">{{.ValueHead}}</th></tr></thead>
<tbody>
{{range .Bars}}<tr><td>{{.Label}}</td><td class="n">{{.Value}}</td></tr>
{{end}}</tbody></table>
</details>
</section>
{{end}}<section id="run-details" aria-labelledby="run-details-title">
<h2 id="run-details-title">Run details</h2>
<table><thead><tr><th scope="col">field</th><th scope="col">value</th></tr></thead>
<tbody>
{{range .Fields}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>
{{end}}</tbody></table>
</section>
</body>
</html>
`))

// writeSummaryHTML writes summary.html from the summary, its lists of
// conferences, the Summary sheet's fields and the charts' figures.
func writeSummaryHTML(w io.Writer, s *Summary, att *attention, fields []summaryField, tables []chartTable) error {
	v := s.Verdict
	p := htmlPage{
		Title: levelLabel(v.Level) + " · meetarchive report " + s.RunID,
		RunID: s.RunID, Level: v.Level, Label: levelLabel(v.Level), Verdict: v.Text,
		ExitCode: s.ExitCode, ExitName: ExitCodeName(s.ExitCode), ExitMeaning: SummaryExitMeaning(s),
		Run: runLine(s), Completeness: completenessHTML(s.Completeness),
	}
	if att.actN > 0 {
		p.Lists = append(p.Lists, htmlList{ID: "attention", Title: "Needs action: " + conferences(att.actN),
			Intro: "These conferences failed, were not found, were invalid input or were cancelled; each row says what to do.",
			Rows:  att.act, Total: att.actN, More: att.actN - len(att.act)})
	}
	if att.waitN > 0 {
		p.Lists = append(p.Lists, htmlList{ID: "waiting", Title: "Waiting on the platform: " + conferences(att.waitN),
			Intro: "Nothing of these is lost: the platform has not made them downloadable yet (pending-transcode) or says it will not (unavailable).",
			Rows:  att.wait, Total: att.waitN, More: att.waitN - len(att.wait)})
	}
	for _, f := range fields {
		p.Fields = append(p.Fields, htmlField{Name: f.name, Value: htmlValue(f.value)})
	}
	for i, t := range tables {
		c := htmlChart{ID: fmt.Sprintf("chart-%d", i+1), Title: t.title, LabelHead: t.labelHead, ValueHead: t.valueHead,
			Height: max(1, len(t.rows)) * htmlBarHeight}
		var top int64
		for _, x := range t.rows {
			top = max(top, x.value)
		}
		desc := make([]string, 0, len(t.rows))
		for i, x := range t.rows {
			wd := 0
			if top > 0 {
				wd = int(float64(x.value) / float64(top) * htmlBarMax)
			}
			c.Bars = append(c.Bars, htmlBar{Label: x.label, Short: shortLabel(x.label), Value: groupDigits(x.value),
				Class: barClass(t, x), Y: i * htmlBarHeight, Width: wd})
			desc = append(desc, x.label+": "+groupDigits(x.value))
		}
		c.Desc = t.labelHead + " and " + t.valueHead + ": " + strings.Join(desc, "; ") + "."
		p.Charts = append(p.Charts, c)
	}
	return summaryPage.Execute(w, p)
}

// barClass colours a bar: the failed-rows chart and the statuses that make
// the exit code 1 in red, pending-transcode and unavailable in amber, the
// rest in blue.
func barClass(t chartTable, x figure) string {
	switch {
	case t.kind == chartCodes && x.value > 0:
		return "bad"
	case t.kind != chartStatus:
		return "ok"
	}
	switch st := Status(x.label); {
	case st.Failure():
		return "bad"
	case st == PendingTranscode || st == Unavailable:
		return "warn"
	}
	return "ok"
}

// runLine is the run's times and destination in one line.
func runLine(s *Summary) string {
	var parts []string
	if !s.Started.IsZero() {
		parts = append(parts, "started "+htmlValue(s.Started))
	}
	if !s.Finished.IsZero() {
		parts = append(parts, "finished "+htmlValue(s.Finished))
	}
	if s.Dest != "" {
		parts = append(parts, "destination "+s.Dest)
	}
	return strings.Join(parts, ", ")
}

// htmlValue formats a Summary field's value as text.
func htmlValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.UTC().Format("2006-01-02 15:04:05") + " UTC"
	case int:
		return groupDigits(int64(v))
	case int64:
		return groupDigits(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return fmt.Sprint(v)
	}
}

// groupDigits writes n with a comma between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// shortLabel cuts a label to 32 characters for the space beside a bar (the
// table below the chart has it whole).
func shortLabel(s string) string {
	r := []rune(s)
	if len(r) <= 32 {
		return s
	}
	return string(r[:31]) + "…"
}
