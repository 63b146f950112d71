package main

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"os"
	"os/user"
	"runtime/debug"

	"meetarchive/export"
	"meetarchive/pipeline"
)

// ledgerFlags are run's custody ledger flags. The key's path is not a
// secret; the key is, and is read only by signKey.
type ledgerFlags struct {
	SignKey  string
	Operator string
}

func (l *ledgerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.SignKey, "sign-key", "", "sign the run's custody ledger with this Ed25519 private key (PEM, PKCS #8: openssl genpkey -algorithm ed25519); the signature is stored beside the ledger in DEST/_meetarchive/ledger/")
	fs.StringVar(&l.Operator, "operator", "", "who runs the job, as the custody ledger and the summary record it (default: $USER)")
}

// signKey reads --sign-key: nil without one. Its errors are usage errors
// that name the file and never quote a byte of it.
func (l ledgerFlags) signKey() (ed25519.PrivateKey, error) {
	if l.SignKey == "" {
		return nil, nil
	}
	key, err := pipeline.ReadSignKey(l.SignKey)
	if err != nil {
		return nil, usagef("run: --sign-key %s: %v", l.SignKey, err)
	}
	return key, nil
}

// operator is who runs the job: --operator, else $USER, else the
// account's name.
func (l ledgerFlags) operator(getenv func(string) string) string {
	if l.Operator != "" {
		return l.Operator
	}
	if u := getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// buildCommit is the VCS revision the binary was built from ("" unknown).
func buildCommit() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}

// ledgerPlan is a run's custody ledger: the signing key, the operator,
// and, once archiveRun starts, the ledger (pipeline.RunConfig.Ledger).
type ledgerPlan struct {
	key      ed25519.PrivateKey
	operator string
	run      *pipeline.RunLedger
	// keyWarning says that --sign-key's file is readable by others (the
	// run logs it: ssh refuses such a key, we sign and warn).
	keyWarning string
}

// plan reads the ledger flags: a bad --sign-key is a usage error.
func (l ledgerFlags) plan(getenv func(string) string) (ledgerPlan, error) {
	key, err := l.signKey()
	if err != nil {
		return ledgerPlan{}, err
	}
	p := ledgerPlan{key: key, operator: l.operator(getenv)}
	if fi, err := os.Stat(l.SignKey); key != nil && err == nil && fi.Mode().Perm()&0o077 != 0 {
		p.keyWarning = fmt.Sprintf("--sign-key %s is readable by others (mode %04o): anyone who can read it can sign ledgers as this key; chmod 600 it", l.SignKey, fi.Mode().Perm())
	}
	return p, nil
}

// observer is the API client's Config.Observer: every call goes to the
// ledger (nil without one).
func (l ledgerPlan) observer() func(export.Call) {
	if l.run == nil {
		return nil
	}
	return l.run.Observe
}
