package archive_test

import (
	"strings"
	"testing"
	"time"

	"meetarchive/archive"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	future := time.Now().Add(24 * time.Hour)
	tests := []struct {
		name  string
		opts  archive.Options
		field string // "" = valid
	}{
		{"zero", archive.Options{}, ""},
		{"everything", archive.Options{Endpoint: "https://s3.example.com", Region: "eu-west-1", PathStyle: true,
			PartSize: 64 << 20, PartConcurrency: 8, MaxUploads: 2, LockMode: "COMPLIANCE", RetainDays: 365, LegalHold: true,
			SSE: "aws:kms", SSEKMSKeyID: "arn:aws:kms:eu-west-1:1:key/x", StorageClass: "STANDARD_IA"}, ""},
		{"governance lower case until", archive.Options{LockMode: "governance", RetainUntil: future}, ""},
		{"legal hold alone", archive.Options{LegalHold: true}, ""},
		{"endpoint scheme", archive.Options{Endpoint: "ftp://x"}, "Endpoint"},
		{"endpoint no host", archive.Options{Endpoint: "http://"}, "Endpoint"},
		{"endpoint with credentials", archive.Options{Endpoint: "http://user:pw@host"}, "Endpoint"},
		{"part size small", archive.Options{PartSize: 1 << 20}, "PartSize"},
		{"part size huge", archive.Options{PartSize: 6 << 30}, "PartSize"},
		{"part concurrency negative", archive.Options{PartConcurrency: -1}, "PartConcurrency"},
		{"max uploads negative", archive.Options{MaxUploads: -2}, "MaxUploads"},
		{"memory negative", archive.Options{Memory: -1}, "Memory"},
		{"memory below two parts", archive.Options{Memory: 12 << 20}, "Memory"},
		{"memory two parts", archive.Options{Memory: 16 << 20}, ""},
		{"lock mode unknown", archive.Options{LockMode: "FOREVER", RetainDays: 1}, "LockMode"},
		{"lock mode without retention", archive.Options{LockMode: "COMPLIANCE"}, "RetainDays"},
		{"retention without lock mode", archive.Options{RetainDays: 3}, "LockMode"},
		{"retain until without lock mode", archive.Options{RetainUntil: future}, "LockMode"},
		{"both retentions", archive.Options{LockMode: "COMPLIANCE", RetainDays: 3, RetainUntil: future}, "RetainDays"},
		{"negative days", archive.Options{LockMode: "COMPLIANCE", RetainDays: -3}, "RetainDays"},
		{"retain until past", archive.Options{LockMode: "GOVERNANCE", RetainUntil: time.Now().Add(-time.Hour)}, "RetainUntil"},
		{"sse unknown", archive.Options{SSE: "rot13"}, "SSE"},
		{"kms key without kms", archive.Options{SSE: "AES256", SSEKMSKeyID: "k"}, "SSEKMSKeyID"},
		{"storage class", archive.Options{StorageClass: "standard ia"}, "StorageClass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.field != "" && err == nil:
				t.Errorf("Validate() = nil, want an error naming %s", tc.field)
			case tc.field != "" && !strings.Contains(err.Error(), tc.field+":"):
				t.Errorf("Validate() = %v, want it to name %s", err, tc.field)
			}
		})
	}
}

func TestMemoryBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts archive.Options
		want int64
	}{
		{"defaults: 4 uploads x 2 x 8 MiB", archive.Options{}, 4 * 2 * 8 << 20},
		{"from max uploads and part size", archive.Options{PartSize: 16 << 20, PartConcurrency: 2, MaxUploads: 1}, 32 << 20},
		{"memory given", archive.Options{Memory: 100 << 20}, 96 << 20},
		{"memory given, whole parts", archive.Options{Memory: 30 << 20, PartSize: 10 << 20}, 30 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.opts.MemoryBudget(); got != tc.want {
				t.Errorf("MemoryBudget() = %d, want %d", got, tc.want)
			}
		})
	}
}
