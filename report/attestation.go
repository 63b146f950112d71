package report

import (
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"regexp"
	"strings"
)

// AttestationHTML is a run's attestation: one printable page (two at most)
// that a records manager can sign and file. It states who ran what, with
// which tool and version, on which input or window, into which
// destination, what came of it (the counts, the verdict and, when the run
// reconciled a window, the completeness verdict), the custody ledger's
// head and the fingerprint of the key that signed it (or plainly that no
// ledger was kept), and the exact commands that re-verify every claim
// without trusting the page: verify --ledger, sha256sum -c (or verify
// --sums), verify --manifest. Like summary.html it has no script and loads
// nothing, every text is escaped by html/template, and a print style sheet
// fits it on A4 or Letter.
const AttestationHTML = "attestation.html"

// LedgerFile is the report directory's copy of the run's custody ledger
// (the pipeline writes it as the run goes).
const LedgerFile = "ledger.jsonl"

// attestationField is one line of a table of the page.
type attestationField struct {
	ID, Name, Value string
	Mono            bool // a hash, a key, a URI: set in a monospace font
}

// attestationCommand is one command that re-verifies a claim.
type attestationCommand struct {
	What, Cmd string
}

type attestationPage struct {
	Title       string
	RunID       string
	Level       Level
	Label       string
	Verdict     string
	ExitCode    int
	ExitName    string
	ExitMeaning string
	Run         []attestationField
	Outcome     []attestationField
	// Completeness is the completeness verdict ("" when the run made no
	// reconciliation).
	Completeness string
	Ledger       []attestationField // nil: no ledger
	Merged       bool               // Ledger lists a merged report's shards' ledgers
	Signed       bool
	Commands     []attestationCommand
	Generated    string
}

// writeAttestation writes attestation.html under a temporary name from the
// summary (after summary.html: the verdict is final).
func (x *extraFiles) writeAttestation(s *Summary) error {
	t, err := newTempFile(x.dir, AttestationHTML)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(x.dir)
	if err != nil {
		dir = x.dir
	}
	if err := writeAttestation(t.bw, s, dir, x.fix.lines); err != nil {
		t.abort()
		return fmt.Errorf("%s: %w", AttestationHTML, err)
	}
	x.parts = append(x.parts, t)
	return nil
}

// WriteAttestation writes the attestation page (AttestationHTML) of the
// run s, whose report is in the directory dir (its commands name the
// report's files there). The report writers call it; it is exported for
// a page written again from a summary.json, where sha256sums.txt is taken
// to list an object when a conference has a status that stores objects.
func WriteAttestation(w io.Writer, s *Summary, dir string) error {
	stored := 0
	for st, n := range s.Counts {
		if st.Stored() {
			stored += n
		}
	}
	return writeAttestation(w, s, dir, stored)
}

// writeAttestation is WriteAttestation with the number of lines of the
// report's sha256sums.txt: its commands are only those that work for the
// report (no sha256sum -c of an empty file).
func writeAttestation(w io.Writer, s *Summary, dir string, sums int) error {
	v := s.Verdict
	p := attestationPage{
		Title: "Attestation of meetarchive run " + s.RunID,
		RunID: s.RunID, Level: v.Level, Label: levelLabel(v.Level), Verdict: v.Text,
		ExitCode: s.ExitCode, ExitName: ExitCodeName(s.ExitCode), ExitMeaning: SummaryExitMeaning(s),
		Generated: htmlValue(s.Finished),
	}
	p.Run = []attestationField{
		{ID: "run-id", Name: "Run", Value: s.RunID, Mono: true},
		{ID: "tool", Name: "Tool", Value: "meetarchive " + orNone(s.Version)},
		{ID: "operator", Name: "Operator", Value: orNone(s.Operator)},
		{Name: "Started", Value: htmlValue(s.Started)},
		{Name: "Finished", Value: htmlValue(s.Finished)},
	}
	if s.DateRange != "" {
		p.Run = append(p.Run, attestationField{ID: "window", Name: "Window", Value: s.DateRange})
	}
	if s.Input != "" {
		p.Run = append(p.Run, attestationField{ID: "input", Name: "Input", Value: s.Input})
	}
	if s.InputSHA256 != "" {
		p.Run = append(p.Run, attestationField{Name: "Input SHA-256", Value: s.InputSHA256, Mono: true})
	}
	p.Run = append(p.Run, attestationField{ID: "dest", Name: "Destination", Value: orNone(absDest(s.Dest)), Mono: true})
	if s.Shard != "" {
		p.Run = append(p.Run, attestationField{Name: "Shard", Value: s.Shard})
	}
	if len(s.MergedFrom) > 0 {
		p.Run = append(p.Run, attestationField{Name: "Merged from", Value: strings.Join(s.MergedFrom, ", ")})
	}
	p.Run = append(p.Run, attestationField{Name: "Report", Value: dir, Mono: true})
	if s.Rebuilt {
		p.Run = append(p.Run, attestationField{ID: "rebuilt", Name: "Report written",
			Value: "rebuilt from the journal of a run that did not finish its report (killed or crashed): the figures are those of the rows it journaled"})
	}

	for _, st := range countKeys(s.Counts) {
		if n := s.Counts[st]; n > 0 {
			p.Outcome = append(p.Outcome, attestationField{ID: "count-" + string(st), Name: "Conferences " + string(st), Value: groupDigits(int64(n))})
		}
	}
	if c := s.Completeness; c != nil && s.Conferences == 0 {
		// A reconciliation (no rows of its own): what it found.
		p.Outcome = append(p.Outcome,
			attestationField{ID: "reconciled", Name: "Conferences reconciled", Value: groupDigits(int64(c.Conferences))},
			attestationField{ID: "reported", Name: "Recordings the platform reports", Value: groupDigits(int64(c.Reported))},
			attestationField{ID: "accounted", Name: "Archived or accounted for", Value: groupDigits(int64(c.Accounted))},
		)
	} else {
		p.Outcome = append(p.Outcome,
			attestationField{ID: "conferences", Name: "Conferences in all", Value: groupDigits(int64(s.Conferences))},
			attestationField{ID: "files", Name: "Files archived", Value: groupDigits(int64(s.Files))},
			attestationField{Name: "Bytes archived", Value: groupDigits(s.BytesArchived)},
		)
	}
	p.Completeness = attestationCompleteness(s)

	p.Ledger, p.Signed, p.Merged = attestationLedger(s)
	p.Commands = attestationCommands(s, dir, sums)
	return attestationTemplate.Execute(w, p)
}

// s3Flags are the flags that reach the run's S3 destination again ("" for
// a directory, or when the AWS configuration alone did).
func s3Flags(s *Summary) string {
	var b strings.Builder
	for _, f := range []struct{ opt, flag string }{
		{OptionS3Endpoint, "--s3-endpoint"}, {OptionS3Region, "--s3-region"}, {OptionS3Profile, "--s3-profile"},
	} {
		if v := s.Options[f.opt]; v != "" {
			b.WriteString(" " + f.flag + " " + shellQuote(v))
		}
	}
	if s.Options[OptionS3PathStyle] == "true" {
		b.WriteString(" --s3-path-style")
	}
	return b.String()
}

// orNone is v, or "(none)" for "".
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// attestationLedger is the page's custody ledger section: the run's ledger
// (signed: its signature is stored), or a merged report's shards' (merged),
// or nothing.
func attestationLedger(s *Summary) (fields []attestationField, signed, merged bool) {
	if s.Ledger == nil && len(s.ShardLedgers) > 0 {
		// A merged report: each shard's run kept its own ledger.
		merged = true
		for _, sl := range s.ShardLedgers {
			v := sl.Head + " (" + groupDigits(int64(sl.Lines)) + " lines"
			if sl.KeySHA256 != "" {
				v += ", signed by key " + sl.KeySHA256
			}
			if sl.URI == "" {
				v += ", not stored in the destination: its copy is in that shard's report"
			}
			fields = append(fields, attestationField{ID: "ledger-" + sl.RunID, Name: "Run " + sl.RunID, Value: v + ")", Mono: true})
		}
	}
	if l := s.Ledger; l != nil {
		uri := l.URI
		if uri == "" {
			uri = "not stored in the destination: its copy is " + LedgerFile + " beside this page"
		}
		fields = []attestationField{
			{ID: "ledger-uri", Name: "Ledger", Value: uri, Mono: l.URI != ""},
			{ID: "ledger-head", Name: "Head (SHA-256 of its last line)", Value: l.Head, Mono: true},
			{ID: "ledger-lines", Name: "Lines", Value: groupDigits(int64(l.Lines))},
		}
		switch {
		case l.SignatureURI != "":
			signed = true
			fields = append(fields,
				attestationField{ID: "ledger-signature", Name: "Signature (Ed25519)", Value: l.SignatureURI, Mono: true},
				attestationField{ID: "ledger-key", Name: "Signing key fingerprint", Value: orNone(l.KeySHA256), Mono: true})
		case l.KeySHA256 != "":
			fields = append(fields,
				attestationField{ID: "ledger-signature", Name: "Signature (Ed25519)", Value: "NOT STORED: the run was given --sign-key, but the signature did not reach the destination (see below)"},
				attestationField{ID: "ledger-key", Name: "Signing key fingerprint", Value: l.KeySHA256, Mono: true})
		default:
			fields = append(fields, attestationField{ID: "ledger-signature", Name: "Signature", Value: "not signed (the run was given no --sign-key)"})
		}
		if l.Error != "" {
			fields = append(fields, attestationField{ID: "ledger-error", Name: "Not stored", Value: l.Error})
		}
	}
	return fields, signed, merged
}

// attestationCommands are the commands that re-verify the page's claims,
// each one that works for this report: a ledger command only with a
// ledger, a fixity command only when sha256sums.txt has lines (sums).
func attestationCommands(s *Summary, dir string, sums int) []attestationCommand {
	dest := absDest(s.Dest)
	local := dest != "" && !strings.HasPrefix(dest, "s3://")
	at := " --dest " + shellQuote(dest) // where the archive is, and how to reach it
	if !local {
		at += s3Flags(s)
	}
	var cmds []attestationCommand
	if dest != "" {
		switch {
		case len(s.MergedFrom) > 0:
			cmds = append(cmds, attestationCommand{"Every run's custody ledger in the destination: its chain, signature and every object it records (exit 0 intact, 1 broken or tampered).",
				"meetarchive verify --ledger all" + at})
		case s.Ledger != nil:
			// The ledger kept in the destination; the report's own copy
			// when it could not be stored there.
			c := "meetarchive verify --ledger " + shellQuote(s.RunID) + at
			if s.Ledger.URI == "" {
				c = "meetarchive verify --ledger " + shellQuote(filepath.Join(dir, LedgerFile)) + at
			}
			if s.Ledger.Head != "" {
				c += " --head " + s.Ledger.Head
			}
			what := "The custody ledger: its chain line by line, that it ends at the head above, and every object it records, read back and hashed (exit 0 intact, 1 broken or tampered)."
			if s.Ledger.KeySHA256 != "" {
				c += " --public-key PUBLIC_KEY.pem"
				what = "The custody ledger: its chain line by line, that it ends at the head above, its signature with the public key whose fingerprint is " + s.Ledger.KeySHA256 +
					" (PUBLIC_KEY.pem), and every object it records, read back and hashed (exit 0 intact, 1 broken or tampered)."
				if s.Ledger.SignatureURI == "" {
					what += " The signature was not stored, so this command reports it missing (exit 1) until it is."
				}
			}
			cmds = append(cmds, attestationCommand{what, c})
		}
	}
	sumsFile := filepath.Join(dir, SHA256Sums)
	switch {
	case sums == 0: // sha256sum -c fails on a file without lines
	case local:
		cmds = append(cmds, attestationCommand{"Every archived object's SHA-256 with standard tools (no meetarchive needed).",
			"cd " + shellQuote(dest) + " && sha256sum -c " + shellQuote(sumsFile)})
	case dest != "":
		cmds = append(cmds, attestationCommand{"Every archived object's SHA-256, from the fixity file.",
			"meetarchive verify --sums " + shellQuote(sumsFile) + at})
	}
	if s.Conferences > 0 || s.Completeness == nil { // a reconcile's manifest has no rows to verify
		c := "meetarchive verify --manifest " + shellQuote(filepath.Join(dir, ManifestCSV))
		if dest != "" {
			c += at
		}
		cmds = append(cmds, attestationCommand{"Every object the manifest lists, read back and hashed, and each conference's commit mark (sidecar).", c})
	}
	if cmd := reconcileCommand(s, dir, at); cmd != "" {
		cmds = append(cmds, attestationCommand{"The completeness verdict, reconciled again from the platform's recording list and meeting history and the destination's commit marks (the Meeting API's credentials from the environment; a new report in the directory named; exit 0 complete, 1 a recording not accounted for).", cmd})
	}
	return cmds
}

// reconcileCommand re-checks the completeness of the window a report
// reconciled against the platform ("" without a window the platform was
// asked about, or a destination). at is the --dest part of the commands.
func reconcileCommand(s *Summary, dir, at string) string {
	c := s.Completeness
	if c == nil || !c.PlatformChecked || s.Dest == "" || s.Shard != "" {
		return "" // a shard's completeness is its own conferences': reconcile has no --shard
	}
	from, to, ok := strings.Cut(c.Window, "..")
	if !ok || from == "" || to == "" {
		return ""
	}
	cmd := "meetarchive reconcile --from " + shellQuote(from) + " --to " + shellQuote(to)
	if v := s.Options[OptionAPI]; v != "" {
		cmd += " --api " + shellQuote(v)
	}
	if s.Options[OptionAllUsers] == "true" {
		cmd += " --all-users"
	}
	if v := s.Options[OptionSearch]; v != "" {
		cmd += " --search " + shellQuote(v)
	}
	return cmd + at + " --out " + shellQuote(filepath.Clean(dir)+"-reconciled")
}

// absDest is a destination as the page shows it: a directory made
// absolute (a relative one means nothing on paper), an S3 URI as it is.
func absDest(dest string) string {
	if dest == "" || strings.HasPrefix(dest, "s3://") {
		return dest
	}
	if a, err := filepath.Abs(dest); err == nil {
		return a
	}
	return dest
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// attestationCompleteness is the completeness verdict of a run that
// reconciled its window: its sentence and window, "" when the summary has
// none.
func attestationCompleteness(s *Summary) string {
	c := s.Completeness
	if c == nil {
		return ""
	}
	out := c.Sentence
	switch {
	case out == "":
		// A summary.json without a sentence: its figures.
		out = fmt.Sprintf("%s of %s recordings the platform reports are archived or accounted for.", groupDigits(int64(c.Accounted)), groupDigits(int64(c.Reported)))
	case strings.Contains(s.Verdict.Text, strings.TrimSuffix(out, ".")):
		out = "" // the verdict above says it already
	}
	if c.Window != "" {
		out = strings.TrimSpace(out + " Window: " + c.Window + ".")
	}
	return out
}

var attestationTemplate = template.Must(template.New("attestation").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #1a1a1a; line-height: 1.35; max-width: 60em; }
h1 { font-size: 1.4em; margin: 0 0 0.3em; }
h2 { font-size: 1.1em; margin: 1.1em 0 0.3em; }
.verdict { border: 2px solid; border-left-width: 12px; border-radius: 6px; padding: 0.4em 1em; margin: 0.6em 0 0.8em; }
.verdict p { margin: 0.25em 0; }
.verdict .badge { font-weight: 700; text-transform: uppercase; letter-spacing: 0.05em; font-size: 0.85em; }
.verdict .text { font-size: 1.1em; font-weight: 600; }
.level-green { background: #e3f4e6; border-color: #1e7b34; }
.level-amber { background: #fff1d6; border-color: #b35c00; }
.level-red { background: #fde4e2; border-color: #b3261e; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 0.15em 0.5em; text-align: left; vertical-align: top; }
th { width: 14em; background: #eef1f6; font-weight: 600; }
td.mono, code { font-family: ui-monospace, monospace; font-size: 0.88em; overflow-wrap: anywhere; }
.none { font-weight: 600; }
ol.commands { padding-left: 1.4em; margin: 0.3em 0; }
ol.commands li { margin-bottom: 0.45em; }
ol.commands code { display: block; background: #f4f4f4; border: 1px solid #ddd; padding: 0.25em 0.5em; white-space: pre-wrap; }
.sign { margin-top: 1.5em; display: flex; gap: 3em; }
.sign div { flex: 1; border-top: 1px solid #555; padding-top: 0.2em; font-size: 0.9em; color: #444; }
.note { color: #444; font-size: 0.9em; }
@page { size: auto; margin: 14mm; }
@media print {
  body { margin: 0; font-size: 9pt; line-height: 1.25; max-width: none; }
  h1 { font-size: 1.3em; }
  h2 { margin: 0.7em 0 0.2em; }
  .verdict { padding: 0.2em 0.8em; margin: 0.4em 0; }
  ol.commands li { margin-bottom: 0.25em; }
  .sign { margin-top: 2.2em; }
  .verdict, th, ol.commands code { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section, tr, li, .sign { break-inside: avoid; }
}
</style>
</head>
<body>
<h1 id="title">{{.Title}}</h1>
<section id="verdict" class="verdict level-{{.Level}}" aria-labelledby="verdict-text">
<p class="badge" id="verdict-level">{{.Label}}</p>
<p class="text" id="verdict-text">{{.Verdict}}</p>
<p id="verdict-exit">Exit code {{.ExitCode}} ({{.ExitName}}): {{.ExitMeaning}}.</p>
{{if .Completeness}}<p id="completeness">Completeness: {{.Completeness}}</p>
{{end}}</section>
<section id="run" aria-labelledby="run-title">
<h2 id="run-title">What was run</h2>
<table><tbody>
{{range .Run}}<tr{{if .ID}} id="{{.ID}}"{{end}}><th scope="row">{{.Name}}</th><td{{if .Mono}} class="mono"{{end}}>{{.Value}}</td></tr>
{{end}}</tbody></table>
</section>
<section id="outcome" aria-labelledby="outcome-title">
<h2 id="outcome-title">What came of it</h2>
<table><tbody>
{{range .Outcome}}<tr{{if .ID}} id="{{.ID}}"{{end}}><th scope="row">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</tbody></table>
</section>
<section id="ledger" aria-labelledby="ledger-title">
<h2 id="ledger-title">Custody ledger</h2>
{{if .Ledger}}{{if .Merged}}<p class="note">Each shard's run kept its own custody ledger: every fact of that run is a line of it, each line carrying the SHA-256 of the line before it. The head of each, as its shard's report states it, is below; the verify --ledger command below checks every ledger in the destination.</p>
{{else}}<p class="note">Every fact of the run (each platform call, link, object committed with its SHA-256 and version) is a line of the ledger, each line carrying the SHA-256 of the line before it: changing, removing or reordering any line changes the head below, which the verify --ledger command below checks{{if .Signed}}, and the head is signed with Ed25519{{end}}.</p>{{end}}
<table><tbody>
{{range .Ledger}}<tr{{if .ID}} id="{{.ID}}"{{end}}><th scope="row">{{.Name}}</th><td{{if .Mono}} class="mono"{{end}}>{{.Value}}</td></tr>
{{end}}</tbody></table>
{{else}}<p class="none" id="no-ledger">No custody ledger was kept for this run: nothing on this page is backed by a ledger, only by the report files and the archive itself.</p>
{{end}}</section>
<section id="commands" aria-labelledby="commands-title">
<h2 id="commands-title">How to re-verify this page</h2>
<p class="note">Each command re-checks the claims above from the archive itself, without trusting this page.</p>
<ol class="commands">
{{range .Commands}}<li>{{.What}}<code class="cmd">{{.Cmd}}</code></li>
{{end}}</ol>
</section>
<div class="sign" id="sign"><div>Reviewed by (name, role)</div><div>Signature</div><div>Date</div></div>
<p class="note" id="generated">Written by meetarchive when the run's report was written{{if .Generated}} ({{.Generated}}){{end}}, from its summary.json.</p>
</body>
</html>
`))
