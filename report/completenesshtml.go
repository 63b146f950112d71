package report

import "html/template"

// summary.html's Completeness section: a template of summaryPage.
var _ = template.Must(summaryPage.New("completeness").Parse(completenessSection))

// htmlCompleteness is the Completeness section of summary.html: the
// reconciliation's sentence, its sources and fates, its findings, and the
// conferences not accounted for (the first maxAttention), each with its
// fate and hint.
type htmlCompleteness struct {
	Complete    bool
	Window      string
	Sentence    string
	Sources     []CompletenessSource
	Fates       []htmlFate
	Findings    []Finding
	Unaccounted []CompletenessLine
	More        int // unaccounted conferences not shown
}

// htmlFate is one fate's count and whether it is accounted for.
type htmlFate struct {
	Fate      Fate
	N         int
	Accounted bool
}

// completenessHTML is the section of c (nil: none).
func completenessHTML(c *Completeness) *htmlCompleteness {
	if c == nil {
		return nil
	}
	h := &htmlCompleteness{Complete: c.Complete(), Window: c.Window, Sentence: c.Sentence, Sources: c.Sources, Findings: c.Findings}
	if h.Window == "" {
		h.Window = "none (an --input run)"
	}
	for _, f := range Fates() {
		if n := c.Fates[f].Conferences; n > 0 {
			h.Fates = append(h.Fates, htmlFate{Fate: f, N: n, Accounted: f.Accounted()})
		}
	}
	h.Unaccounted = c.Unaccounted
	if len(h.Unaccounted) > maxAttention {
		h.Unaccounted, h.More = h.Unaccounted[:maxAttention], len(h.Unaccounted)-maxAttention
	}
	return h
}

// completenessSection is the template of the Completeness section.
const completenessSection = `{{with .Completeness}}<section id="completeness" aria-labelledby="completeness-title">
<h2 id="completeness-title">Completeness{{if .Complete}}: complete{{else}}: not complete{{end}}</h2>
<p id="completeness-sentence">{{.Sentence}}</p>
<p>Window: {{.Window}}. Every conference seen by any source has a line with its fate in the Completeness sheet of <a href="manifest.xlsx">manifest.xlsx</a>.</p>
<table>
<thead><tr><th scope="col">source</th><th scope="col">conferences</th><th scope="col">declared count</th><th scope="col">distinct</th><th scope="col">calls</th><th scope="col">error</th></tr></thead>
<tbody>
{{range .Sources}}<tr><td>{{.Name}}</td><td class="n">{{.Conferences}}</td><td class="n">{{if ge .Declared 0}}{{.Declared}}{{end}}</td><td class="n">{{if ge .Declared 0}}{{.Distinct}}{{end}}</td><td class="n">{{.Calls}}</td><td>{{.Error}}</td></tr>
{{end}}</tbody>
</table>
<table>
<thead><tr><th scope="col">fate</th><th scope="col">conferences</th><th scope="col">accounted for</th></tr></thead>
<tbody>
{{range .Fates}}<tr class="fate-{{.Fate}}"><td>{{.Fate}}</td><td class="n">{{.N}}</td><td>{{if .Accounted}}yes{{else}}no{{end}}</td></tr>
{{end}}</tbody>
</table>
{{if .Findings}}<ul id="completeness-findings">
{{range .Findings}}<li>{{.Code}}: {{.Text}}</li>
{{end}}</ul>
{{end}}{{if .Unaccounted}}<table id="completeness-unaccounted">
<thead><tr><th scope="col">confUUID</th><th scope="col">startTime</th><th scope="col">subject</th><th scope="col">fate</th><th scope="col">what to do</th></tr></thead>
<tbody>
{{range .Unaccounted}}<tr><td class="id">{{.ConfUUID}}</td><td>{{.StartTime}}</td><td>{{.Subject}}</td><td class="st">{{.Fate}}</td><td>{{.Hint}}</td></tr>
{{end}}</tbody>
</table>
{{if .More}}<p>The first {{len .Unaccounted}} are shown; {{.More}} more are in the Completeness sheet.</p>
{{end}}{{end}}</section>
{{end}}`
