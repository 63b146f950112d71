package pipeline

import "meetarchive/archive"

// Where a run's custody ledger is kept in the destination (the layout the
// run writes and verify --ledger reads).
const LedgerDir = archive.SidecarDir + "/ledger"

// LedgerKey is the key of run runID's ledger in the destination.
func LedgerKey(runID string) string { return LedgerDir + "/" + runID + ".jsonl" }

// LedgerSignatureKey is the key of its signature (a report.LedgerSignature).
func LedgerSignatureKey(runID string) string { return LedgerDir + "/" + runID + ".sig.json" }
