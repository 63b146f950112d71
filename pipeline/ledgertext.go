package pipeline

import (
	"fmt"
	"io"
	"math"
	"strings"

	"meetarchive/archive"
	"meetarchive/report"
)

// cleanText is s safe to print on a terminal (console.Text's rule).
func cleanText(s string) string { return report.CleanText(s, math.MaxInt, false) }

// WriteLedgerResult writes (verify --ledger) what is wrong with a ledger, one line each
// (status, where, what), then, unless quiet and it is intact, its
// summary lines.
func WriteLedgerResult(w io.Writer, r LedgerResult, objectsRead, quiet bool) {
	line := func(status, where, msg string) {
		fmt.Fprintf(w, "%s\t%s\t%s\n", status, cleanText(where), cleanText(msg))
	}
	for _, h := range r.Heads {
		if !h.OK {
			line("head-mismatch", r.Ledger, fmt.Sprintf("the ledger's head after %d lines is %s; %s records %s (lines were changed, added or removed)", r.Check.Lines, r.Check.Head, h.Source, h.Head))
		}
	}
	if b := r.Broken(); b != nil {
		where := r.Ledger
		if b.Line > 0 {
			where = fmt.Sprintf("%s line %d", r.Ledger, b.Line)
		}
		line("broken", where, b.Reason)
	} else if r.Unreadable() {
		line("unreadable", r.Ledger, r.Err.Error())
	} else if r.Err != nil {
		line("missing", r.Ledger, r.Err.Error())
	}
	switch r.Signature.State {
	case SigBad, SigMissing, SigError:
		where := r.Signature.Where
		if where == "" {
			where = r.Ledger
		}
		msg := errString(r.Signature.Err)
		if r.Signature.State == SigMissing && !objectsRead {
			msg += " (a signature kept in the destination is found with --dest, one in a file with --signature)"
		}
		line("signature-"+r.Signature.State, where, msg)
	}
	counts := map[string]int{}
	for _, o := range r.Objects {
		counts[o.Status]++
		if o.Status != archive.VerifyOK {
			line(o.Status, fmt.Sprintf("%s line %d", r.Ledger, o.Line), o.URI+": "+errString(o.Err))
		}
	}
	if quiet && r.OK() {
		return
	}
	c := r.Check
	state := "intact"
	switch b := r.Broken(); {
	case b != nil && b.Line > 0:
		state = fmt.Sprintf("BROKEN at line %d", b.Line)
	case r.Err != nil:
		state = "NOT VERIFIED"
	}
	head := c.Head
	if head == "" {
		head = "(none)"
	}
	run := c.RunID
	if run == "" {
		run = "(unknown)"
	}
	fmt.Fprintf(w, "ledger %s: run %s, %d lines, head %s: chain %s\n", cleanText(r.Ledger), cleanText(run), c.Lines, head, state)
	for _, h := range r.Heads {
		if h.OK {
			fmt.Fprintf(w, "head: as %s records\n", cleanText(h.Source))
		}
	}
	s := r.Signature
	switch s.State {
	case "": // the ledger could not be read
		return
	case SigVerified:
		fmt.Fprintf(w, "signature: verified with key %s\n", cleanText(s.KeySHA256))
	case SigNotChecked:
		fmt.Fprintf(w, "signature: signed by key %s, NOT CHECKED: give --public-key to check it\n", cleanText(s.KeySHA256))
	case SigUnsigned:
		// Only what the ledger says: its run-start records no signing key.
		fmt.Fprintln(w, "signature: none (the ledger's run-start records no signing key)")
	default:
		fmt.Fprintf(w, "signature: %s\n", strings.ToUpper(s.State))
	}
	if !objectsRead {
		fmt.Fprintf(w, "objects: %d recorded, not read back (give --dest to read them)\n", len(c.Objects))
		return
	}
	fmt.Fprintf(w, "objects: %d read back: %d ok, %d missing, %d mismatched, %d replaced, %d lock-changed, %d errors\n",
		len(r.Objects), counts[archive.VerifyOK], counts[archive.VerifyMissing], counts[archive.VerifyMismatch], counts[LedgerReplaced],
		counts[LedgerLockChanged], counts[archive.VerifyError])
}

// errString is err's message, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
