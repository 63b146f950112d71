package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
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

// verifyLedgers is verify --ledger: every ledger asked for, with its
// chain, signature and objects; what is wrong on stdout, one line each,
// then a few lines per ledger. Exit 1 when any ledger fails.
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
	opts.ReadOnly = true
	opts.Logger = console.SDKLogger{Log: log}
	tg, err := pipeline.ResolveLedgers(ctx, pipeline.LedgerQuery{Ledger: l.ledger, Signature: l.signature, Dest: dest}, opts)
	if tg.Store != nil {
		defer tg.Store.Close()
	}
	if err != nil {
		return err
	}
	if len(tg.Sources) == 0 {
		return failedf("verify: no custody ledger in %s (runs keep theirs under %s)", tg.Store.RootURI(), tg.Store.URI(pipeline.LedgerDir+"/"))
	}
	if l.head != "" {
		for i := range tg.Sources {
			tg.Sources[i].Heads = append(tg.Sources[i].Heads, pipeline.HeadClaim{Head: strings.ToLower(l.head), Source: "--head"})
		}
	}
	bad, unread := 0, 0 // ledgers found broken or tampered; ledgers that could not be read
	for _, src := range tg.Sources {
		if ctx.Err() != nil {
			return errInterrupted
		}
		log.Info("verifying ledger", "ledger", src.Name)
		var st pipeline.LedgerStore
		if tg.Store != nil {
			st = tg.Store
		}
		var prog *console.Progress
		res := pipeline.VerifyLedger(ctx, src, st, pub, pipeline.LedgerHooks{Objects: func(objs []report.LedgerObject) pipeline.Progress {
			prog = console.NewProgress(scr, log, len(objs), "objects", quiet, 5*time.Second)
			for _, o := range objs {
				prog.Estimate(o.Bytes) // one per object: the display averages over them
			}
			return prog
		}})
		if prog != nil {
			prog.Close()
		}
		if ctx.Err() != nil {
			return errInterrupted
		}
		switch {
		case res.Unreadable():
			unread++
		case !res.OK():
			bad++
		}
		pipeline.WriteLedgerResult(stdout, res, tg.Store != nil, quiet)
	}
	switch {
	case bad > 0 && unread > 0:
		return failedf("verify: %d of %d ledgers failed their check and %d could not be read (listed above)", bad, len(tg.Sources), unread)
	case bad > 0:
		return failedf("verify: %d of %d ledgers failed their check (listed above)", bad, len(tg.Sources))
	case unread > 0:
		return &fatalError{Err: fmt.Errorf("verify: %d of %d ledgers could not be read (listed above): nothing was found wrong, but they were not checked", unread, len(tg.Sources))}
	}
	return nil
}

// isHead tells a ledger head: 64 hex digits.
func isHead(v string) bool {
	b, err := hex.DecodeString(v)
	return err == nil && len(b) == 32
}
