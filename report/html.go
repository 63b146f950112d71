package report

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

// SummaryHTML is the report's one-page summary for a browser: the Summary
// sheet's fields and its three charts as inline SVG bars. It has no script
// and no external asset (it opens the same from a mail attachment or an
// air-gapped share); every text is HTML-escaped by html/template and comes
// from the redacted summary and rows.
const SummaryHTML = "summary.html"

// htmlBar is one bar of an HTML chart.
type htmlBar struct {
	Label string
	Short string // Label cut to fit beside the bar
	Value string
	Y     int
	Width int
}

// htmlChart is one chart of summary.html.
type htmlChart struct {
	Title     string
	LabelHead string
	ValueHead string
	Bars      []htmlBar
	Height    int
}

type htmlField struct{ Name, Value string }

type htmlPage struct {
	Title  string
	Fields []htmlField
	Charts []htmlChart
}

const (
	htmlBarMax    = 360 // px of the longest bar
	htmlBarHeight = 22  // px per bar
)

var summaryPage = template.Must(template.New("summary").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #d9e1f2; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
section { margin-bottom: 2.5em; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
svg rect { fill: #4472c4; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Charts}}<section>
<h2>{{.Title}}</h2>
<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{{.Height}}" role="img" aria-label="{{.Title}}">
{{range .Bars}}<text x="0" y="{{.Y}}" dy="15">{{.Short}}</text><rect x="230" y="{{.Y}}" width="{{.Width}}" height="18"></rect><text x="{{.Width}}" y="{{.Y}}" dx="236" dy="15">{{.Value}}</text>
{{end}}</svg>
<table><tr><th>{{.LabelHead}}</th><th>{{.ValueHead}}</th></tr>
{{range .Bars}}<tr><td>{{.Label}}</td><td class="n">{{.Value}}</td></tr>
{{end}}</table>
</section>
{{end}}<section>
<h2>Run</h2>
<table><tr><th>field</th><th>value</th></tr>
{{range .Fields}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>
{{end}}</table>
</section>
</body>
</html>
`))

// writeSummaryHTML writes summary.html from the summary, the Summary
// sheet's fields and the charts' figures.
func writeSummaryHTML(w io.Writer, s *Summary, fields []summaryField, tables []chartTable) error {
	p := htmlPage{Title: "meetarchive report " + s.RunID}
	for _, f := range fields {
		p.Fields = append(p.Fields, htmlField{Name: f.name, Value: htmlValue(f.value)})
	}
	for _, t := range tables {
		c := htmlChart{Title: t.title, LabelHead: t.labelHead, ValueHead: t.valueHead, Height: max(1, len(t.rows)) * htmlBarHeight}
		var top int64
		for _, x := range t.rows {
			top = max(top, x.value)
		}
		for i, x := range t.rows {
			wd := 0
			if top > 0 {
				wd = int(float64(x.value) / float64(top) * htmlBarMax)
			}
			c.Bars = append(c.Bars, htmlBar{Label: x.label, Short: shortLabel(x.label), Value: groupDigits(x.value), Y: i * htmlBarHeight, Width: wd})
		}
		p.Charts = append(p.Charts, c)
	}
	return summaryPage.Execute(w, p)
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
