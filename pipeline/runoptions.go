package pipeline

import (
	"maps"
	"strconv"
	"strings"
	"time"

	"meetarchive/archive"
	"meetarchive/export"
	"meetarchive/redact"
	"meetarchive/report"
)

// ReportOptions are the options a run's report shows (RunConfig.Options):
// the key template, the client's link source, rate and file types, the
// job's knobs and the destination's retention and encryption.
func ReportOptions(keyTemplate string, c export.Config, job Options, a archive.Options) map[string]string {
	o := map[string]string{
		"keyTemplate": keyTemplate,
		"links":       string(c.Links),
		"concurrency": strconv.Itoa(job.Concurrency),
		"rate":        export.FormatRate(c.Rate),
		"dryRun":      strconv.FormatBool(job.DryRun),
		"force":       strconv.FormatBool(job.Force),
		"evidence":    strconv.FormatBool(job.Evidence),
	}
	if len(c.FileTypes) > 0 {
		o["fileTypes"] = strings.Join(c.FileTypes, ",")
	}
	if a.LockMode != "" {
		o["objectLockMode"] = a.LockMode
		if a.RetainDays > 0 {
			o["retention"] = strconv.Itoa(a.RetainDays) + " days"
		} else if !a.RetainUntil.IsZero() {
			o["retention"] = "until " + a.RetainUntil.Format(time.RFC3339)
		}
	}
	if a.LegalHold {
		o["legalHold"] = "true"
	}
	if a.SSE != "" {
		o["sse"] = a.SSE
	}
	if a.StorageClass != "" {
		o["storageClass"] = a.StorageClass
	}
	if job.DeleteAfter {
		o["deleteAfterArchive"] = "true"
	}
	maps.Copy(o, ConnectionOptions(c.BaseURL, a))
	return o
}

// ConnectionOptions are the report options that say how a command reached
// the Meeting API (api, when not the default) and the S3 destination (when
// flags said it): the attestation's commands repeat them. URLs keep no
// credential.
func ConnectionOptions(apiBase string, a archive.Options) map[string]string {
	o := map[string]string{}
	if apiBase != "" && strings.TrimSuffix(apiBase, "/") != export.DefaultBaseURL {
		o[report.OptionAPI] = redact.PageURL(apiBase)
	}
	if a.Endpoint != "" {
		o[report.OptionS3Endpoint] = redact.PageURL(a.Endpoint)
	}
	if a.Region != "" {
		o[report.OptionS3Region] = a.Region
	}
	if a.PathStyle {
		o[report.OptionS3PathStyle] = "true"
	}
	if a.Profile != "" {
		o[report.OptionS3Profile] = a.Profile
	}
	return o
}
