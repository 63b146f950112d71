package report

// SetLedger gives the summary Close writes its custody ledger (nil: none).
func (w *Writer) SetLedger(l *LedgerInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ledger = l
}

// FinalExitCode is the exit code Close(code) writes: code, or ExitFailures
// for ExitOK while a planned line has no row or the window's completeness
// is not complete. The ledger's run-end line records it before Close.
func (w *Writer) FinalExitCode(code int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.finalExitCode(code)
}

// finalExitCode is FinalExitCode with w.mu held.
func (w *Writer) finalExitCode(code int) int {
	if code == ExitOK && w.pending > 0 {
		return ExitFailures
	}
	return completenessExitCode(code, w.completeness)
}

// completenessExitCode is code, or ExitFailures for ExitOK when c (nil:
// no reconciliation) is not complete: a window with a recording not
// accounted for exits 1 (a run's report and a merged one alike).
func completenessExitCode(code int, c *Completeness) int {
	if code == ExitOK && c != nil && !c.Complete() {
		return ExitFailures
	}
	return code
}

// ledgerFields are the Summary sheet's and summary.html's lines about the
// run's custody ledger (none without one).
func ledgerFields(l *LedgerInfo) []summaryField {
	if l == nil {
		return nil
	}
	uri := l.URI
	if uri == "" {
		uri = "not stored in the destination (its copy: " + LedgerFile + " here)"
	}
	fs := []summaryField{
		{"custody ledger", uri, 0},
		{"ledger head (SHA-256)", l.Head, 0},
		{"ledger lines", l.Lines, 0},
	}
	if l.KeySHA256 != "" {
		sig := l.SignatureURI
		if sig == "" {
			sig = "not stored"
		}
		fs = append(fs,
			summaryField{"ledger signature", sig, 0},
			summaryField{"signing key (SHA-256)", l.KeySHA256, 0})
	}
	if l.Error != "" {
		fs = append(fs, summaryField{"ledger storing failed", l.Error, 0})
	}
	return fs
}

// RunID is the run's id, as its report states it.
func (w *Writer) RunID() string { return w.info.RunID }

// UnnamedGaps is how many recordings the window's recording list lost
// without naming them: its pages held fewer than it declared
// (FindingListShort). Only a list listed again can name them; a
// reconciliation that failed loses nothing of the list. 0 without a
// reconciliation.
func (w *Writer) UnnamedGaps() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.completeness == nil {
		return 0
	}
	n := 0
	for _, f := range w.completeness.Findings {
		if f.Code == FindingListShort {
			n += f.Unaccounted
		}
	}
	return n
}
