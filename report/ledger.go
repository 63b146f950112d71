package report

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// The custody ledger: one JSON line per fact of a run, each line carrying
// the SHA-256 of the line before it, so that an edited, deleted, reordered
// or inserted line breaks the chain at the line after it. The hash of the
// last line is the ledger's head; signing the head (Ed25519) signs the
// whole ledger.
//
//	{"seq":1,"time":"2026-12-07T01:02:03.456Z","prev":"000…000","type":"run-start","data":{…}}
//	{"seq":2,"time":"…","prev":"<sha256 of line 1>","type":"object","data":{…}}
//	…
//	{"seq":N,"time":"…","prev":"<sha256 of line N-1>","type":"run-end","data":{…}}
//
// A line's hash is the SHA-256 of its bytes without the newline.

// Ledger event types.
const (
	EventRunStart = "run-start" // tool, version, operator, host, options, input SHA-256
	EventAPICall  = "api-call"  // an API call that mattered: api, confUUID, request id, status
	EventLink     = "link"      // a download link issued or used
	EventObject   = "object"    // an object committed, as the store read it back
	EventCommit   = "commit"    // a conference's commit mark (sidecar) written
	EventDelete   = "delete"    // a recording deleted from the platform, and the answer
	EventRunEnd   = "run-end"   // counts and exit code: the last line
)

// zeroHash is the "prev" of the first line.
var zeroHash = strings.Repeat("0", 64)

// ledgerLine is one line of the ledger.
type ledgerLine struct {
	Seq  int             `json:"seq"`
	Time time.Time       `json:"time"`
	Prev string          `json:"prev"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// Ledger appends hash-chained lines to w. It is safe for concurrent use.
type Ledger struct {
	mu   sync.Mutex
	w    io.Writer
	seq  int
	head string
	err  error
	now  func() time.Time
}

// NewLedger starts a ledger on w.
func NewLedger(w io.Writer) *Ledger {
	return &Ledger{w: w, head: zeroHash, now: func() time.Time { return time.Now().UTC() }}
}

// Append writes one event. data is marshalled as the line's "data"; after
// a write error every later Append returns it.
func (l *Ledger) Append(typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("report: ledger %s: %w", typ, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	line, err := json.Marshal(ledgerLine{Seq: l.seq + 1, Time: l.now(), Prev: l.head, Type: typ, Data: raw})
	if err != nil {
		return fmt.Errorf("report: ledger %s: %w", typ, err)
	}
	if _, err := l.w.Write(append(line, '\n')); err != nil {
		l.err = fmt.Errorf("report: ledger: %w", err)
		return l.err
	}
	l.seq++
	l.head = lineHash(line)
	return nil
}

// Head is the hash of the last line written (64 zeros before the first).
func (l *Ledger) Head() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Lines is the number of lines written.
func (l *Ledger) Lines() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

func lineHash(line []byte) string {
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// LedgerObject is an "object" event: an object committed to the destination.
type LedgerObject struct {
	ConfUUID       string    `json:"confUUID"`
	Key            string    `json:"key"`
	URI            string    `json:"uri"`
	Bytes          int64     `json:"bytes"`
	SHA256         string    `json:"sha256"`
	PlatformSHA256 string    `json:"platformSha256,omitempty"`
	VersionID      string    `json:"versionId,omitempty"`
	LockMode       string    `json:"lockMode,omitempty"`
	RetainUntil    time.Time `json:"retainUntil,omitzero"`
	LegalHold      bool      `json:"legalHold,omitempty"`
	// Reused: an earlier, interrupted run stored it; this run re-hashed
	// its bytes and committed it with the conference instead of
	// downloading it again.
	Reused bool `json:"reused,omitempty"`
}

// LedgerBreak is the first line at which a ledger fails its check.
type LedgerBreak struct {
	Line   int // 1-based; 0 for the ledger as a whole
	Reason string
}

func (b *LedgerBreak) Error() string {
	if b.Line == 0 {
		return "ledger: " + b.Reason
	}
	return fmt.Sprintf("ledger line %d: %s", b.Line, b.Reason)
}

// LedgerCheck is what VerifyLedger found in a ledger whose chain holds.
type LedgerCheck struct {
	Lines int
	Head  string
	RunID string // from the run-start line
	// SignKeySHA256 is the signing key's fingerprint the run-start line
	// records: the run signed its ledger ("" when it says none).
	SignKeySHA256 string
	Ended         bool           // the last line is run-end
	Objects       []LedgerObject // every object event, in order
	// ObjectLines is the ledger line of each of Objects.
	ObjectLines []int
}

// maxLedgerLine bounds one line read back.
const maxLedgerLine = 1 << 20

// VerifyLedger re-checks a ledger line by line: each line parses, its seq
// follows the one before, its prev is the hash of the line before (64
// zeros for the first), and the last line is run-end. The first line that
// fails gives a *LedgerBreak naming it.
func VerifyLedger(r io.Reader) (LedgerCheck, error) {
	var c LedgerCheck
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLedgerLine)
	prev, lastType := zeroHash, ""
	for sc.Scan() {
		n := c.Lines + 1
		line := sc.Bytes()
		var l ledgerLine
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return c, &LedgerBreak{n, "not a ledger line: " + err.Error()}
		}
		switch {
		case l.Seq != n:
			return c, &LedgerBreak{n, fmt.Sprintf("seq %d where %d was expected: a line was deleted, inserted or moved", l.Seq, n)}
		case l.Prev != prev:
			return c, &LedgerBreak{n, fmt.Sprintf("prev %s is not the hash of line %d (%s): line %d was changed, or lines were deleted or moved", clipHash(l.Prev), n-1, clipHash(prev), n-1)}
		case lastType == EventRunEnd:
			return c, &LedgerBreak{n, "a line after run-end"}
		case n == 1 && l.Type != EventRunStart:
			return c, &LedgerBreak{n, fmt.Sprintf("the first line is %q, not run-start", l.Type)}
		}
		switch l.Type {
		case EventRunStart:
			var d struct {
				RunID   string `json:"runId"`
				SignKey string `json:"signKeySha256"`
			}
			if err := json.Unmarshal(l.Data, &d); err != nil {
				return c, &LedgerBreak{n, "run-start data: " + err.Error()}
			}
			c.RunID, c.SignKeySHA256 = d.RunID, d.SignKey
		case EventObject:
			var o LedgerObject
			if err := json.Unmarshal(l.Data, &o); err != nil {
				return c, &LedgerBreak{n, "object data: " + err.Error()}
			}
			c.Objects = append(c.Objects, o)
			c.ObjectLines = append(c.ObjectLines, n)
		}
		prev, lastType = lineHash(line), l.Type
		c.Lines = n
	}
	if err := sc.Err(); err != nil {
		return c, &LedgerBreak{c.Lines + 1, "unreadable: " + err.Error()}
	}
	c.Head = prev
	c.Ended = lastType == EventRunEnd
	if c.Lines == 0 {
		return c, &LedgerBreak{0, "empty"}
	}
	if !c.Ended {
		return c, &LedgerBreak{c.Lines, "the ledger ends without run-end: truncated, or the run was killed"}
	}
	return c, nil
}

func clipHash(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// LedgerSignature is the signature file stored beside a ledger
// (`<run id>.sig.json`): the head, how many lines it covers, the signer's
// key fingerprint and the Ed25519 signature of LedgerSignedMessage.
type LedgerSignature struct {
	RunID     string `json:"runId"`
	Head      string `json:"head"`
	Lines     int    `json:"lines"`
	Algorithm string `json:"algorithm"`   // "Ed25519"
	KeySHA256 string `json:"keySha256"`   // KeyFingerprint of the public key
	Signature string `json:"signature"`   // base64 (standard) of the 64-byte signature
	Message   string `json:"signedBytes"` // LedgerSignedMessage, for any verifier
}

// LedgerSignedMessage is what is signed: the run id, the head and the line
// count, one per line, after a context string.
func LedgerSignedMessage(runID, head string, lines int) string {
	return fmt.Sprintf("meetarchive custody ledger v1\nrun %s\nhead %s\nlines %d\n", runID, head, lines)
}

// SignLedger signs a ledger's head with key.
func SignLedger(key ed25519.PrivateKey, runID, head string, lines int) LedgerSignature {
	msg := LedgerSignedMessage(runID, head, lines)
	return LedgerSignature{
		RunID: runID, Head: head, Lines: lines, Algorithm: "Ed25519",
		KeySHA256: KeyFingerprint(key.Public().(ed25519.PublicKey)),
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, []byte(msg))),
		Message:   msg,
	}
}

// ErrBadSignature: a ledger signature that does not verify, or that is for
// another head, run or key.
var ErrBadSignature = errors.New("ledger signature does not verify")

// Verify checks s against a ledger check and a public key.
func (s LedgerSignature) Verify(pub ed25519.PublicKey, c LedgerCheck) error {
	switch {
	case s.Algorithm != "Ed25519":
		return fmt.Errorf("%w: algorithm %q", ErrBadSignature, s.Algorithm)
	case s.KeySHA256 != KeyFingerprint(pub):
		return fmt.Errorf("%w: signed by key %s, not by the key given (%s)", ErrBadSignature, s.KeySHA256, KeyFingerprint(pub))
	case s.Head != c.Head || s.Lines != c.Lines:
		return fmt.Errorf("%w: it signs head %s of %d lines; the ledger's head is %s after %d lines (lines were added, removed or changed after signing)",
			ErrBadSignature, clipHash(s.Head), s.Lines, clipHash(c.Head), c.Lines)
	case s.RunID != c.RunID:
		return fmt.Errorf("%w: it is for run %q, the ledger for run %q", ErrBadSignature, s.RunID, c.RunID)
	}
	sig, err := base64.StdEncoding.DecodeString(s.Signature)
	if err != nil || !ed25519.Verify(pub, []byte(LedgerSignedMessage(s.RunID, s.Head, s.Lines)), sig) {
		return ErrBadSignature
	}
	return nil
}

// KeyFingerprint names a public key without showing it: "SHA256:" and the
// unpadded base64 of the SHA-256 of its 32 bytes (as ssh-keygen -l does).
func KeyFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// ParsePrivateKey reads an Ed25519 private key in PEM (PKCS #8, as
// `openssl genpkey -algorithm ed25519` and `meetarchive keygen` write it).
// Errors never quote the key.
func ParsePrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" block (want PKCS #8 Ed25519: openssl genpkey -algorithm ed25519)")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, errors.New("not a PKCS #8 private key")
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s, not an Ed25519 key", keyKind(k))
	}
	return ed, nil
}

// ParsePublicKey reads an Ed25519 public key in PEM (PKIX "PUBLIC KEY", as
// `openssl pkey -pubout` and `meetarchive keygen` write it).
func ParsePublicKey(pemBytes []byte) (ed25519.PublicKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM \"PUBLIC KEY\" block (openssl pkey -in KEY -pubout)")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKIX public key: %w", err)
	}
	ed, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s, not an Ed25519 key", keyKind(k))
	}
	return ed, nil
}

// keyKind names a parsed key's algorithm for a person: "an RSA key".
func keyKind(k any) string {
	switch k.(type) {
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PrivateKey, *ecdsa.PublicKey:
		return "an ECDSA key"
	case *ecdh.PrivateKey, *ecdh.PublicKey:
		return "an X25519 (ECDH) key"
	default:
		return "a key of another algorithm"
	}
}

// MarshalKeyPair encodes a key pair as PEM: PKCS #8 for the private key,
// PKIX for the public one.
func MarshalKeyPair(priv ed25519.PrivateKey) (privPEM, pubPEM []byte, err error) {
	p, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	q, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p}), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: q}), nil
}
