package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	ledger, publicKey, signature string
}

func (l *verifyLedgerFlags) register(c *command) {
	c.fs.StringVar(&l.ledger, "ledger", "", "instead of --manifest: check custody ledgers, line by line, their signature and every object they record (read back at its recorded version and hashed): a run id (with --dest), all (every ledger in --dest), or a ledger file or URI (<dest>/_meetarchive/ledger/<run id>.jsonl, or a copy such as the report's ledger.jsonl, whose objects are read from --dest)")
	c.fs.StringVar(&l.publicKey, "public-key", "", "with --ledger: the Ed25519 public key (PEM, from keygen or openssl pkey -pubout) the ledger's signature must verify with; a ledger without a signature then fails")
	c.fs.StringVar(&l.signature, "signature", "", "with --ledger FILE: the ledger's signature file (default: the one beside the ledger in --dest, else FILE with .sig.json for .jsonl)")
}

// ledgerTarget is what verify --ledger checks: ledgers and the store
// their objects are read from.
type ledgerTarget struct {
	sources []pipeline.LedgerSource
	store   archive.Store // nil: objects are not read (a ledger file, no --dest)
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
	case l.signature != "" && (l.ledger == "all" || !isLedgerFile(l.ledger)):
		return usagef("verify: --signature goes with --ledger FILE (a ledger kept in --dest has its signature beside it)")
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
	tg, err := l.target(ctx, dest, opts)
	if tg.store != nil {
		defer tg.store.Close()
	}
	if err != nil {
		return err
	}
	bad := 0
	for _, src := range tg.sources {
		if ctx.Err() != nil {
			return errInterrupted
		}
		log.Info("verifying ledger", "ledger", src.Name)
		var st pipeline.LedgerStore
		if tg.store != nil {
			st = tg.store
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
		if !res.OK() {
			bad++
		}
		printLedgerResult(stdout, res, tg.store != nil, quiet)
	}
	if bad > 0 {
		return failedf("verify: %d of %d ledgers failed their check (listed above)", bad, len(tg.sources))
	}
	return nil
}

// isLedgerFile tells a ledger file or URI from a run id.
func isLedgerFile(v string) bool {
	return strings.HasSuffix(v, ".jsonl") || strings.ContainsAny(v, `/\`) || strings.HasPrefix(v, "s3://")
}

// target resolves --ledger and --dest into ledgers and a store.
func (l *verifyLedgerFlags) target(ctx context.Context, dest string, opts archive.Options) (ledgerTarget, error) {
	var tg ledgerTarget
	v := l.ledger
	open := func(d string) error {
		st, err := archive.Open(ctx, d, opts)
		if err != nil {
			return usagef("verify: --dest %s: %v", d, err)
		}
		tg.store = st
		return nil
	}
	if !isLedgerFile(v) { // a run id, or all
		if dest == "" {
			return tg, usagef("verify: --ledger %s needs --dest (the destination that keeps the ledger)", v)
		}
		if err := open(dest); err != nil {
			return tg, err
		}
		runs := []string{v}
		if v == "all" {
			var err error
			if runs, err = pipeline.LedgerRuns(ctx, tg.store); err != nil {
				return tg, &fatalError{Err: fmt.Errorf("verify: %w", err)}
			}
			if len(runs) == 0 {
				return tg, failedf("verify: no custody ledger in %s (runs keep theirs under %s)", tg.store.RootURI(), tg.store.URI(pipeline.LedgerDir+"/"))
			}
		}
		for _, r := range runs {
			tg.sources = append(tg.sources, pipeline.StoreLedger(tg.store, r))
		}
		return tg, nil
	}
	root, runID, inDest := pipeline.LedgerOfPath(v)
	if strings.HasPrefix(v, "s3://") {
		if !inDest {
			return tg, usagef("verify: --ledger %s: an s3:// ledger is <dest>/%s/<run id>.jsonl", v, pipeline.LedgerDir)
		}
		if dest != "" && strings.TrimSuffix(dest, "/") != strings.TrimSuffix(root, "/") {
			return tg, usagef("verify: --ledger %s is not in --dest %s", v, dest)
		}
		if err := open(root); err != nil {
			return tg, err
		}
		tg.sources = []pipeline.LedgerSource{pipeline.StoreLedger(tg.store, runID)}
		return tg, nil
	}
	if st, err := os.Stat(v); err != nil {
		return tg, fileError("verify", "ledger", v, err)
	} else if st.IsDir() {
		return tg, usagef("verify: --ledger %s is a directory, not a ledger file", v)
	}
	if l.signature != "" {
		if _, err := os.Stat(l.signature); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return tg, fileError("verify", "signature", l.signature, err)
		}
	}
	switch {
	case dest != "":
		if err := open(dest); err != nil {
			return tg, err
		}
	case inDest:
		if err := open(root); err != nil {
			return tg, err
		}
	}
	var st pipeline.LedgerStore
	if tg.store != nil {
		st = tg.store
	}
	tg.sources = []pipeline.LedgerSource{pipeline.FileLedger(v, l.signature, st)}
	return tg, nil
}

// printLedgerResult writes what is wrong with a ledger, one line each
// (status, where, what), then, unless quiet and it is intact, its
// summary lines.
func printLedgerResult(w io.Writer, r pipeline.LedgerResult, objectsRead, quiet bool) {
	line := func(status, where, msg string) {
		fmt.Fprintf(w, "%s\t%s\t%s\n", status, console.Text(where), console.Text(msg))
	}
	if b := r.Broken(); b != nil {
		where := r.Ledger
		if b.Line > 0 {
			where = fmt.Sprintf("%s line %d", r.Ledger, b.Line)
		}
		line("broken", where, b.Reason)
	} else if r.Err != nil {
		line("missing", r.Ledger, r.Err.Error())
	}
	switch r.Signature.State {
	case pipeline.SigBad, pipeline.SigMissing, pipeline.SigError:
		where := r.Signature.Where
		if where == "" {
			where = r.Ledger
		}
		line("signature-"+r.Signature.State, where, errString(r.Signature.Err))
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
	fmt.Fprintf(w, "ledger %s: run %s, %d lines, head %s: chain %s\n", console.Text(r.Ledger), console.Text(run), c.Lines, head, state)
	s := r.Signature
	switch s.State {
	case "": // the ledger could not be read
		return
	case pipeline.SigVerified:
		fmt.Fprintf(w, "signature: verified with key %s\n", console.Text(s.KeySHA256))
	case pipeline.SigNotChecked:
		fmt.Fprintf(w, "signature: present (key %s) but NOT CHECKED: give --public-key to check it\n", console.Text(s.KeySHA256))
	case pipeline.SigUnsigned:
		fmt.Fprintln(w, "signature: none (the run was not given --sign-key)")
	default:
		fmt.Fprintf(w, "signature: %s\n", strings.ToUpper(s.State))
	}
	if !objectsRead {
		fmt.Fprintf(w, "objects: %d recorded, not read back (give --dest to read them)\n", len(c.Objects))
		return
	}
	fmt.Fprintf(w, "objects: %d read back: %d ok, %d missing, %d mismatched, %d replaced, %d lock-changed, %d errors\n",
		len(r.Objects), counts[archive.VerifyOK], counts[archive.VerifyMissing], counts[archive.VerifyMismatch], counts[pipeline.LedgerReplaced],
		counts[pipeline.LedgerLockChanged], counts[archive.VerifyError])
}

// errString is err's message, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
