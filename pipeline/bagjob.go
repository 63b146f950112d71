package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"meetarchive/archive"
)

// BagConfig is the bag command's job, its flags checked.
type BagConfig struct {
	Manifest     string       // --manifest
	Out          string       // --out: the bag's directory, absent or empty
	Dest         string       // --dest: read the objects from here by their objectKey; "" each row's objectURI
	Selection    BagSelection // --uuids, --from, --to
	Organization string       // --organization
	Agent        string       // Bag-Software-Agent: the tool and its version
	Options      archive.Options
}

// BagHooks are a front end's view of the bag job.
type BagHooks struct {
	Log *slog.Logger // nil: none
	// Objects counts the objects as they are copied (Bag.Progress); a
	// Progress with a Close method is closed once they are.
	Objects func(objects []BagObject) Progress
	// Problem is each reason the plan cannot be bagged, Failure each
	// object that could not go into the bag, and NotWritten the line that
	// ends either list ("no bag written: ..."), before the error says so.
	Problem    func(problem string)
	Failure    func(f BagFailure)
	NotWritten func(line string)
}

// ExportBag is the bag command's job: plan the bag from the manifest
// (PlanBag) with the custody ledgers of its runs (BagRuns,
// BagStores.LedgerObjects), refuse it when anything chosen cannot be bagged, then write
// it (WriteBag), each object re-checked as it is copied. Its error says
// the exit code: a UsageError (a manifest unreadable, nothing chosen, --out
// not empty), a FailedError (problems or failed objects: no bag written),
// ErrInterrupted, or a FatalError.
func ExportBag(ctx context.Context, cfg BagConfig, hooks BagHooks) (BagResult, error) {
	log := hooks.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := cfg.Options
	opts.ReadOnly = true
	stores, err := NewBagStores(ctx, opts, cfg.Dest)
	if err != nil {
		return BagResult{}, err
	}
	defer stores.Close()
	plan, err := PlanBag(ctx, cfg.Manifest, cfg.Selection, stores.Resolve)
	if err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return BagResult{}, err
		}
		return BagResult{}, FileError("bag", "manifest", cfg.Manifest, err)
	}
	if len(plan.Conferences) == 0 {
		return BagResult{}, Usagef("bag: no conference of %s is chosen (see --uuids, --from, --to)", cfg.Manifest)
	}
	ids, runs := BagRuns(cfg.Manifest, log)
	ledgers, problems, err := stores.LedgerObjects(ctx, runs)
	if err != nil {
		return BagResult{}, err
	}
	plan.Objects = append(plan.Objects, ledgers...)
	plan.Problems = append(plan.Problems, problems...)
	if len(plan.Problems) > 0 {
		for _, p := range plan.Problems {
			if hooks.Problem != nil {
				hooks.Problem(p)
			}
			log.Error("bag: cannot bag", "problem", p)
		}
		notWritten(hooks, "no bag written: %d problems", len(plan.Problems))
		return BagResult{}, Failedf("bag: no bag written: %d problems (listed above)", len(plan.Problems))
	}
	for _, conf := range plan.NotArchived {
		log.Warn("bag: conference has nothing archived: the bag holds its manifest rows only", "confUUID", conf)
	}
	plan.Info = NewBagInfo(cfg.Organization, cfg.Agent, ids, runs)
	for _, r := range runs {
		if r.Ledger.SignatureURI != "" {
			log.Info("bag: the ledger's signature is checked against the run, head and line count it names, not against a key: the bag is not given the signer's public key",
				"run", r.RunID, "keySha256", r.Ledger.KeySHA256)
		}
	}
	if hooks.Objects != nil {
		plan.Progress = hooks.Objects(plan.Objects)
	}
	res, err := WriteBag(ctx, cfg.Out, plan.Bag)
	if c, ok := plan.Progress.(interface{ Close() }); ok {
		c.Close()
	}
	switch {
	case ctx.Err() != nil:
		return res, ErrInterrupted
	case errors.Is(err, ErrBagIncomplete):
		for _, fl := range res.Failures {
			if hooks.Failure != nil {
				hooks.Failure(fl)
			}
			log.Error("bag", "status", fl.Status, "object", fl.URI, "err", fl.Err)
		}
		notWritten(hooks, "no bag written: %d of %d objects failed", len(res.Failures), len(plan.Objects))
		return res, Failedf("bag: no bag written: %d of %d objects failed (listed above)", len(res.Failures), len(plan.Objects))
	case errors.Is(err, ErrBagExists):
		return res, Usagef("bag: --out %s is not empty: a bag goes into a new or empty directory", cfg.Out)
	case err != nil:
		return res, &FatalError{Err: err}
	}
	log.Info("bag written", "dir", absPath(res.Dir), "conferences", plan.Bagged, "files", res.Files, "bytes", res.Bytes)
	return res, nil
}

// absPath is p made absolute, p when it cannot be.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// notWritten is the hook's "no bag written" line.
func notWritten(hooks BagHooks, format string, a ...any) {
	if hooks.NotWritten != nil {
		hooks.NotWritten(fmt.Sprintf(format, a...))
	}
}
