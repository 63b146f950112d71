package archive

import (
	"mime"
	"strings"
)

// Object metadata keys the stores keep for themselves; a caller's
// Expect.Metadata cannot set them.
const (
	metaSHA256 = "sha256"      // our SHA-256 of the stream (S3: only when known before the upload)
	markerKey  = "archived-by" // every object Put stores carries archived-by=meetarchive
	metaConf   = "confuuid"    // the conference that owns an object (see ErrKeyTaken)

	markerValue = "meetarchive"
)

// normalizeMetadata returns the caller's metadata as both stores keep it:
// keys lower-cased, anything outside a-z, 0-9 and "-" in a key replaced by
// "-", empty and reserved keys dropped, values valid UTF-8. nil when nothing
// is left.
func normalizeMetadata(in map[string]string) map[string]string {
	var out map[string]string
	for k, v := range in {
		k = metadataKey(k)
		if k == "" || k == metaSHA256 || k == markerKey {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(in))
		}
		out[k] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return out
}

func metadataKey(k string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, k)
}

// wantConfUUID is the conference a Put stores for ("" if the caller did not say).
func wantConfUUID(want Expect) string {
	return normalizeMetadata(want.Metadata)[metaConf]
}

// otherConference reports whether stored metadata names a conference other
// than confUUID. Unknown on either side is not "other".
func otherConference(stored map[string]string, confUUID string) (string, bool) {
	owner := stored[metaConf]
	return owner, owner != "" && confUUID != "" && !strings.EqualFold(owner, confUUID)
}

// metadataValue is v as S3 user metadata can carry it: printable ASCII as
// is, anything else (and anything that would read as an encoded word) MIME
// Q-encoded; decodeMetadataValue reverses it.
func metadataValue(v string) string {
	if strings.Contains(v, "=?") {
		return mime.QEncoding.Encode("utf-8", v)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return mime.QEncoding.Encode("utf-8", strings.ToValidUTF8(v, "\uFFFD"))
		}
	}
	return v
}

func decodeMetadataValue(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	dec, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return dec
}

// readMetadata turns user metadata as stored back into Object.Metadata
// (values decoded, the store's own keys dropped); nil when nothing is left.
func readMetadata(stored map[string]string) map[string]string {
	var out map[string]string
	for k, v := range stored {
		k = strings.ToLower(k)
		if k == metaSHA256 || k == markerKey {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(stored))
		}
		out[k] = decodeMetadataValue(v)
	}
	return out
}
