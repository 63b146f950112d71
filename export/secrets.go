package export

// No secret (app key, password, access token, download token, token= query
// values, HMAC signature) appears in an error, a log line or the %v of any
// type of this package: File.String and Credentials.String omit them, and
// every message from the server goes through package redact before it is
// cut. NewClient registers the credentials with redact, and the client
// registers every signature and access token it makes or obtains and every
// download token it uses, so that redact.String finds them in any text of
// the process, in any form (raw, base64, escaped), named or not.

import (
	"net/url"

	"meetarchive/redact"
)

// registerCredentials tells the redactor every secret of cr, so that no
// message of any package can carry them in any form (raw, base64, escaped).
func registerCredentials(cr Credentials) {
	redact.Add(cr.AppKey)
	redact.AddCredentialPair(cr.Account, cr.Password)
	redact.Add(cr.Token)
}

// registerLink tells the redactor the download token of f: its
// Authorization token, and the values of its URL's token-like parameters
// (token=, onceToken=, ...). Download tokens are many and short-lived: the
// redactor keeps only the most recent ones.
func registerLink(f File) {
	redact.AddTransient(f.Token)
	u, err := url.Parse(f.URL)
	if err != nil {
		return
	}
	for k, vs := range u.Query() {
		if !secretParam(k) {
			continue
		}
		for _, v := range vs {
			redact.AddTransient(v)
		}
	}
}

// secretParam reports whether a query parameter's name says it holds a
// secret (token, onceToken, access_token, signature, X-Amz-Signature, sig...).
func secretParam(name string) bool {
	return redact.String(name+"=x") != name+"=x"
}
