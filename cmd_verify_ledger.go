package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"time"

	"meetarchive/archive"
	"meetarchive/console"
	"meetarchive/pipeline"
	"meetarchive/report"
)

// verifyLedgerFlags are verify's custody-ledger flags: verify --ledger.
type verifyLedgerFlags struct {
	ledger, publicKey, signature, head string
}

func (l *verifyLedgerFlags) register(c *command) {
	c.fs.StringVar(&l.ledger, "ledger", "", "instead of --manifest: check custody ledgers, line by line, their signature and every object they record (read back at its recorded version and hashed): a run id (with --dest), all (every ledger in --dest), or a ledger file or URI (<dest>/_meetarchive/ledger/<run id>.jsonl, or a copy such as the report's ledger.jsonl, whose objects are read from --dest, or the report directory: its ledger.jsonl, checked against the head and key its summary.json records)")
	c.fs.StringVar(&l.publicKey, "public-key", "", "with --ledger: the Ed25519 public key (PEM, from keygen or openssl pkey -pubout) the ledger's signature must verify with; a ledger without a signature then fails")
	c.fs.StringVar(&l.head, "head", "", "with --ledger (one ledger): the head it must end at, 64 hex digits, as the run's summary.json and attestation.html record it; a ledger whose head differs fails (an unsigned ledger's last lines cannot then be changed unnoticed)")
	c.fs.StringVar(&l.signature, "signature", "", "with --ledger FILE: the ledger's signature file (default: the one beside the ledger in --dest, else FILE with .sig.json for .jsonl)")
}

// verifyLedgers is verify --ledger (pipeline.VerifyLedgers): every ledger
// asked for, with its chain, signature and objects; what is wrong on
// stdout, one line each, then a few lines per ledger. Exit 1 when any
// ledger fails.
func (l *verifyLedgerFlags) verifyLedgers(ctx context.Context, dest, manifest, sums, reportPath string, opts archive.Options, lf *logFlags, e env, quiet bool) error {
	switch {
	case manifest != "" || sums != "":
		return usagef("verify: --ledger checks ledgers; --manifest and --sums are other checks (run verify once for each)")
	case reportPath != "":
		return usagef("verify: --report goes with --manifest or --sums, not --ledger (whose findings are on stdout)")
	case l.signature != "" && (l.ledger == "all" || !pipeline.IsLedgerFile(l.ledger)):
		return usagef("verify: --signature goes with --ledger FILE (a ledger kept in --dest has its signature beside it)")
	case l.head != "" && l.ledger == "all":
		return usagef("verify: --head is the head of one ledger, not of --ledger all")
	case l.head != "" && !isHead(l.head):
		return usagef("verify: --head %q: want the ledger head's 64 hex digits (summary.json's ledger.head)", l.head)
	}
	var pub ed25519.PublicKey
	if l.publicKey != "" {
		b, err := os.ReadFile(l.publicKey)
		if err != nil {
			return fileError("verify", "public-key", l.publicKey, err)
		}
		if pub, err = report.ParsePublicKey(b); err != nil {
			return usagef("verify: --public-key %s: %v", l.publicKey, err)
		}
	}
	scr := console.NewScreen(e.stderr, quiet)
	log := lf.logger(scr.Or(e.stderr))
	stdout := scr.Above(e.stdout)
	opts.Logger = console.SDKLogger{Log: log}
	cfg := pipeline.VerifyLedgersConfig{
		Query: pipeline.LedgerQuery{Ledger: l.ledger, Signature: l.signature, Dest: dest},
		Head:  l.head, PublicKey: pub, Options: opts,
	}
	return pipeline.VerifyLedgers(ctx, cfg, pipeline.VerifyLedgersHooks{
		Log: log,
		Objects: func(objs []report.LedgerObject) pipeline.Progress {
			prog := console.NewProgress(scr, log, len(objs), "objects", quiet, 5*time.Second)
			for _, o := range objs {
				prog.Estimate(o.Bytes) // one per object: the display averages over them
			}
			return prog
		},
		Result: func(res pipeline.LedgerResult, objectsRead bool) {
			pipeline.WriteLedgerResult(stdout, res, objectsRead, quiet)
		},
	})
}

// isHead tells a ledger head: 64 hex digits.
func isHead(v string) bool {
	b, err := hex.DecodeString(v)
	return err == nil && len(b) == 32
}
