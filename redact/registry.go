package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// MinSecretLen is the length under which a value is not registered: a shorter
// one would scrub ordinary words.
const MinSecretLen = 6

// The registry's tiers, each bounded on its own so that many secrets of one
// kind never push out those of another: past its bound, a tier forgets the
// secret registered (or registered again) least recently.
const (
	tierCredential = iota // Add, AddCredentialPair: app keys, passwords, pre-issued tokens
	tierSession           // AddSession: access tokens, signatures
	tierTransient         // AddTransient: per-file download tokens
	tiers
)

var tierBound = [tiers]int{tierCredential: 64, tierSession: 256, tierTransient: 256}

// keyLen is how many leading bytes of a form index it (MinSecretLen: every
// form is at least as long as its secret).
const keyLen = MinSecretLen

// filterBits sizes the filter that lets String skip the index for almost
// every position of a text.
const filterBits = 16

// Add registers a credential (an app key, a password, a pre-issued token):
// from now on String scrubs it in every form. Values shorter than
// MinSecretLen, and values that would collide with Marker, are ignored.
// Registering a known secret again makes it the most recent. The 64 most
// recent credentials are kept.
func Add(secret string) { reg.add(secret, Forms(secret), tierCredential) }

// AddSession registers a secret made or obtained while running: an access
// token, a request signature. The 256 most recent are kept (tokens are
// replaced long before that many have been issued).
func AddSession(secret string) { reg.add(secret, Forms(secret), tierSession) }

// AddCredentialPair registers the password of an account, and the base64 of
// "account:password" that HTTP Basic authentication sends (which contains no
// base64 form of the password alone).
func AddCredentialPair(account, password string) {
	Add(password)
	if account == "" || len(password) < MinSecretLen {
		return
	}
	reg.add("pair\x00"+account+"\x00"+password, PairForms(account, password), tierCredential)
}

// AddTransient registers a short-lived secret such as a per-file download
// token. Only the 256 most recent are kept, so that a long run does not make
// String slower.
func AddTransient(secret string) { reg.add(secret, Forms(secret), tierTransient) }

// Forms lists the forms of secret that String scrubs once it is registered:
// raw, base64 (standard and URL alphabets, with and without padding), and each
// of these URL-escaped (query and path), JSON-escaped and HTML-escaped. Nil
// for a value shorter than MinSecretLen.
func Forms(secret string) []string {
	if len(secret) < MinSecretLen {
		return nil
	}
	return escapes(append([]string{secret}, base64s([]byte(secret))...))
}

// PairForms lists the forms of the base64 of "account:password" (see Forms).
func PairForms(account, password string) []string {
	if account == "" || len(password) < MinSecretLen {
		return nil
	}
	return escapes(base64s([]byte(account + ":" + password)))
}

func base64s(b []byte) []string {
	return []string{
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
	}
}

// escapes returns every base with its escaped variants, without duplicates.
func escapes(bases []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if len(s) >= MinSecretLen && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, b := range bases {
		add(b)
		q, p := url.QueryEscape(b), url.PathEscape(b)
		add(q)
		add(p)
		add(lowerHex(q))
		add(lowerHex(p))
		add(jsonEscape(b, true))
		add(jsonEscape(b, false))
		add(strings.ReplaceAll(jsonEscape(b, false), "/", `\/`))
		add(html.EscapeString(b))
	}
	return out
}

// jsonEscape is s as inside a JSON string (without the quotes).
func jsonEscape(s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s) // a string always encodes
	out := strings.TrimSuffix(buf.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(out, `"`), `"`)
}

// lowerHex lower-cases the hex digits of %XX escapes.
func lowerHex(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if 'A' <= b[j] && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

// collides reports whether a form would match the Marker that replaced it
// (whole, or as the cut-short start of the form at the end of a text), so that
// String would never stop replacing.
func collides(form string) bool {
	if strings.Contains(Marker, form) {
		return true
	}
	for k := keyLen; k <= min(len(form), len(Marker)); k++ {
		if strings.HasSuffix(Marker, form[:k]) {
			return true
		}
	}
	return false
}

// entry is one registered secret and its forms.
type entry struct {
	id    string
	forms []string
}

// registry holds the registered secrets. The index maps the first keyLen
// bytes of every form to the forms; the filter (bits, kept by counts) says
// which index keys may exist, so that a scan rarely touches the map.
type registry struct {
	mu     sync.RWMutex
	tiers  [tiers][]entry
	refs   map[string]int
	index  map[uint64][]string
	counts []uint32 // per filter bucket, how many index keys fall in it
	bits   []uint64 // bucket b has a key: bit b set (small: stays in cache)
}

var reg registry

func (r *registry) add(id string, forms []string, tier int) {
	forms = slices.DeleteFunc(slices.Clone(forms), collides)
	if len(forms) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refs == nil {
		r.refs = map[string]int{}
		r.index = map[uint64][]string{}
		r.counts = make([]uint32, 1<<filterBits)
		r.bits = make([]uint64, 1<<filterBits/64)
	}
	list, limit := &r.tiers[tier], tierBound[tier]
	for i, e := range *list {
		if e.id == id { // known: make it the most recent
			*list = append(append((*list)[:i:i], (*list)[i+1:]...), e)
			return
		}
	}
	if len(*list) >= limit {
		r.drop((*list)[0])
		*list = append((*list)[:0:0], (*list)[1:]...)
	}
	*list = append(*list, entry{id: id, forms: forms})
	for _, f := range forms {
		r.refs[f]++
		if r.refs[f] > 1 {
			continue
		}
		k := key(f)
		r.index[k] = append(r.index[k], f)
		b := bucket(k)
		r.counts[b]++
		r.bits[b/64] |= 1 << (b % 64)
	}
}

// drop forgets e's forms (those no other entry holds).
func (r *registry) drop(e entry) {
	for _, f := range e.forms {
		r.refs[f]--
		if r.refs[f] > 0 {
			continue
		}
		delete(r.refs, f)
		k := key(f)
		fs := r.index[k]
		for i, g := range fs {
			if g == f {
				fs = append(fs[:i:i], fs[i+1:]...)
				break
			}
		}
		if len(fs) == 0 {
			delete(r.index, k)
		} else {
			r.index[k] = fs
		}
		b := bucket(k)
		r.counts[b]--
		if r.counts[b] == 0 {
			r.bits[b/64] &^= 1 << (b % 64)
		}
	}
}

// find appends to spans every place s holds a registered form: whole, or cut
// short at the end of s or before an ellipsis.
func (r *registry) find(s string, spans []span) []span {
	if len(s) < keyLen {
		return spans
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.index) == 0 {
		return spans
	}
	for i := 0; i+keyLen <= len(s); i++ {
		k := key(s[i:])
		if b := bucket(k); r.bits[b/64]&(1<<(b%64)) == 0 {
			continue
		}
		best := 0
		for _, f := range r.index[k] {
			n := commonPrefix(s[i:], f)
			if n == len(f) || cutAt(s, i+n) {
				best = max(best, n)
			}
		}
		if best > 0 {
			spans = append(spans, span{i, i + best})
		}
	}
	return spans
}

// cutAt reports whether s ends at i, or an ellipsis follows i: a form that
// stops there was cut short.
func cutAt(s string, i int) bool {
	rest := s[i:]
	return rest == "" || strings.HasPrefix(rest, "...") || strings.HasPrefix(rest, "…")
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// key packs the first keyLen bytes of s (len(s) >= keyLen).
func key(s string) uint64 {
	var b [8]byte
	copy(b[:], s[:keyLen])
	return binary.LittleEndian.Uint64(b[:])
}

func bucket(k uint64) uint32 {
	return uint32((k * 0x9E3779B97F4A7C15) >> (64 - filterBits))
}
