package report

// LedgerInfo is where a run's custody ledger is kept and what its head is:
// summary.json's "ledger", the Summary sheet, summary.html and the
// attestation page show it. nil in a Summary when the run kept no ledger
// (a dry run, a report rebuilt from a journal of a run that kept none).
type LedgerInfo struct {
	URI          string `json:"uri"`                    // the ledger object in the destination
	Head         string `json:"head"`                   // SHA-256 of the last line
	Lines        int    `json:"lines"`                  // lines the head covers
	SignatureURI string `json:"signatureUri,omitempty"` // the LedgerSignature object beside it, when signed
	KeySHA256    string `json:"keySha256,omitempty"`    // KeyFingerprint of the signing key, when signing was asked
	// Error says what of the ledger was not stored in the destination (the
	// ledger, or its signature), redacted; its copy in --out stands.
	Error string `json:"error,omitempty"`
}

// ShardLedger is one shard's custody ledger in a merged report.
type ShardLedger struct {
	RunID string `json:"runId"`
	LedgerInfo
}
