package pipeline

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"strings"

	"meetarchive/archive"
	"meetarchive/report"
)

// VerifyLedgersConfig is verify --ledger's job, its flags checked.
type VerifyLedgersConfig struct {
	Query     LedgerQuery       // --ledger, --signature, --dest
	Head      string            // --head: the head every ledger must end at (one ledger); "" none
	PublicKey ed25519.PublicKey // --public-key, read; nil none
	Options   archive.Options   // the destination's options; opened read-only
}

// VerifyLedgersHooks are a front end's view of verify --ledger.
type VerifyLedgersHooks struct {
	Log *slog.Logger // "verifying ledger", one line each; nil: none
	// Objects counts a ledger's objects as they are read back
	// (LedgerHooks.Objects); a Progress with a Close method is closed
	// once the ledger is checked.
	Objects func(objects []report.LedgerObject) Progress
	// Result receives each ledger's result once it is checked (not when
	// a signal stopped it); objectsRead says whether objects were read
	// (a store to read them from: WriteLedgerResult's).
	Result func(res LedgerResult, objectsRead bool)
}

// VerifyLedgers is verify --ledger: every ledger cfg names, with its
// chain, its heads, its signature and its objects (VerifyLedger), one
// after the other. Its error says the exit code: ErrInterrupted; a
// FailedError when no ledger was found or some failed their check; a
// FatalError when none failed but some could not be read; the error of
// ResolveLedgers.
func VerifyLedgers(ctx context.Context, cfg VerifyLedgersConfig, hooks VerifyLedgersHooks) error {
	log := hooks.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := cfg.Options
	opts.ReadOnly = true
	tg, err := ResolveLedgers(ctx, cfg.Query, opts)
	if tg.Store != nil {
		defer tg.Store.Close()
	}
	if err != nil {
		return err
	}
	if len(tg.Sources) == 0 {
		return Failedf("verify: no custody ledger in %s (runs keep theirs under %s)", tg.Store.RootURI(), tg.Store.URI(LedgerDir+"/"))
	}
	if cfg.Head != "" {
		for i := range tg.Sources {
			tg.Sources[i].Heads = append(tg.Sources[i].Heads, HeadClaim{Head: strings.ToLower(cfg.Head), Source: "--head"})
		}
	}
	var st LedgerStore // nil, not a nil *Store: objects are not read
	if tg.Store != nil {
		st = tg.Store
	}
	bad, unread := 0, 0 // ledgers found broken or tampered; ledgers that could not be read
	for _, src := range tg.Sources {
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		log.Info("verifying ledger", "ledger", src.Name)
		var prog Progress
		res := VerifyLedger(ctx, src, st, cfg.PublicKey, LedgerHooks{Objects: func(objs []report.LedgerObject) Progress {
			if hooks.Objects != nil {
				prog = hooks.Objects(objs)
			}
			return prog
		}})
		if c, ok := prog.(interface{ Close() }); ok {
			c.Close()
		}
		if ctx.Err() != nil {
			return ErrInterrupted
		}
		switch {
		case res.Unreadable():
			unread++
		case !res.OK():
			bad++
		}
		if hooks.Result != nil {
			hooks.Result(res, tg.Store != nil)
		}
	}
	return ledgersOutcome(len(tg.Sources), bad, unread)
}

// ledgersOutcome is the error of verifying n ledgers, bad of them found
// broken or tampered and unread not read.
func ledgersOutcome(n, bad, unread int) error {
	switch {
	case bad > 0 && unread > 0:
		return Failedf("verify: %d of %d ledgers failed their check and %d could not be read (listed above)", bad, n, unread)
	case bad > 0:
		return Failedf("verify: %d of %d ledgers failed their check (listed above)", bad, n)
	case unread > 0:
		return &FatalError{Err: fmt.Errorf("verify: %d of %d ledgers could not be read (listed above): nothing was found wrong, but they were not checked", unread, n)}
	}
	return nil
}
