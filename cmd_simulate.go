package main

import (
	"context"
	"fmt"
	"time"

	"meetarchive/console"
	"meetarchive/export/meetingtest"
)

// cmdSimulate serves the Meeting API simulator as a process.
func cmdSimulate(ctx context.Context, args []string, e env) error {
	c := newCommand("simulate", "--addr 127.0.0.1:8080 [dataset and fault options]",
		"Serve the Meeting API simulator (the one the tests and the demo use) until interrupted.", e.stderr)
	var (
		addr       string
		dataset    string
		gen        = meetingtest.GenerateConfig{Conferences: 0, FilesPerConference: 2, FileSize: 1 << 20}
		size       = byteSize(1 << 20)
		cfg        = meetingtest.Config{AppID: demoAppID, AppKey: demoAppKey}
		faults     meetingtest.FaultFlag
		mrate      byteSize
		missing    listFlag
		late       listFlag
		quotaModel string
	)
	fs := c.fs
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (keep it on loopback)")
	fs.StringVar(&dataset, "dataset", "", "dataset JSON file (see testdata/sample-dataset.json); default: the demo's sample, or a generated one with --conferences")
	fs.IntVar(&gen.Conferences, "conferences", 0, "generate this many conferences instead of a dataset file")
	fs.IntVar(&gen.FilesPerConference, "files-per-conference", gen.FilesPerConference, "with --conferences: files per conference")
	fs.Var(&size, "file-size", "with --conferences: size of each file (e.g. 1MiB)")
	fs.IntVar(&gen.Pending, "pending", 0, "with --conferences: how many are still transcoding")
	fs.IntVar(&gen.Unavailable, "unavailable", 0, "with --conferences: how many are not available")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of media bytes, generated datasets and faults")
	fs.StringVar(&cfg.AppID, "app-id", cfg.AppID, "App ID the simulator accepts")
	fs.StringVar(&cfg.AppKey, "sim-app-key", cfg.AppKey, "app key the simulator accepts (a simulator key, not a secret)")
	fs.StringVar(&cfg.Account, "account", "", "account name accepted by account authentication")
	fs.StringVar(&cfg.Password, "sim-password", "", "password accepted by account authentication")
	fs.DurationVar(&cfg.TokenLifetime, "token-lifetime", 12*time.Hour, "lifetime of issued access tokens")
	fs.DurationVar(&cfg.LinkLifetime, "link-lifetime", time.Hour, "lifetime of download tokens")
	fs.Float64Var(&cfg.RatePerAPI, "rate-per-api", 0, "enforced requests a second per API (429 + APIG.0308 above it); 0: not enforced")
	fs.BoolVar(&cfg.RecordInfo, "record-info", true, "serve the record info API (else it answers 404)")
	fs.Var(&mrate, "media-rate", "bytes a second per media response (slow media); 0: unlimited")
	fs.IntVar(&gen.CollidingNames, "colliding-names", 0, "with --conferences: how many have files whose names collide (0_0.mp4 as Hd, Sd and Aux, and \"0_0.mp4 \")")
	fs.IntVar(&cfg.QuotaPerAPI, "quota-per-api", 0, "enforce a quota shared by every client of the app ID: at most N calls of each API per --quota-window, advertised in X-APIG-Ratelimit-Api (429 + APIG.0308 above it); 0: none")
	fs.DurationVar(&cfg.QuotaWindow, "quota-window", meetingtest.DefaultQuotaWindow, "the --quota-per-api window (whole seconds)")
	fs.StringVar(&cfg.MediaURLs, "media-urls", meetingtest.MediaURLsPath, "shape of media links: path (/media/<conf>/<type>/<name>), query (/media/download?conf=&type=&file=<name>) or opaque (/media/download?id=...: no file name in the link)")
	fs.IntVar(&cfg.LinksMaxLimit, "links-max-limit", 0, "downloadurls: serve at most N links a page whatever limit is asked (0: the documented 500)")
	fs.StringVar(&quotaModel, "quota-model", meetingtest.QuotaFixed, "how a spent --quota-per-api comes back: fixed (fixed windows, all at once) or bucket (a token bucket refilled continuously, holding --quota-burst calls, shown per second in X-APIG-Ratelimit-Api-Allenv); per API after a comma: bucket,downloadurls=fixed")
	fs.IntVar(&cfg.QuotaBurst, "quota-burst", 0, "with --quota-model bucket: the most calls of one API at once; 0: one second's refill")
	fs.BoolVar(&cfg.IgnoreRange, "no-range", false, "the media host ignores Range requests and answers 200 with the whole file")
	fs.IntVar(&gen.Meetings, "meetings", 0, "with --conferences: how many meetings without a recording the history also lists")
	fs.DurationVar(&cfg.HistoryRetention, "history-retention", 0, "how long the meeting history keeps a meeting, from its start (0: six months, the platform's default; negative: for ever)")
	fs.IntVar(&cfg.HistoryMaxLimit, "history-max-limit", meetingtest.DefaultHistoryMaxLimit, "the history APIs serve at most N rows a page whatever limit is asked")
	fs.IntVar(&cfg.ListCountDelta, "list-count-delta", 0, "add N (may be negative) to the count the recording list declares, while its pages serve the true rows")
	fs.IntVar(&cfg.HistoryCountDelta, "history-count-delta", 0, "add N (may be negative) to the count the history list declares")
	fs.Var(&missing, "not-deployed", "comma list of APIs this deployment lacks (404 APIG.0101): details, list, downloadurls, recordinfo, delete, history, historydetail, attendees, ctlrecords")
	fs.Var(&late, "late-file", "comma list of files a conference gets after a first run archived it, each CONFUUID:TYPE/NAME[:BYTES] (TYPE Aux, Hd or Sd; default 1 MiB): added once the simulator has served a file of that conference in full, so the next run that asks for its links finds it (files added later)")
	fs.Var(&faults, "fault", "inject a fault, repeatable: ENDPOINT:KIND[:status=N][:retry-after=D][:latency=D][:times=N][:conf=UUID][:p=0.1][:at=N|random]; ENDPOINT auth, validate, refresh, logout, details, list, downloadurls, recordinfo, delete, media, play, history, historydetail, attendees, ctlrecords; KIND status, throttle, latency, truncate, html, badjson, reset, flip, echo (error bodies echo the request), stall (media: silent after at= bytes; with latency=D one byte every D), chunked, close (media: no Content-Length, chunked or ended by closing the connection; at= cuts them), omit (list, history: leave conf= out), otherconf, upperconf, noconf, noavailable, nodecode, badsha, negsize, endless, repeat, nohasrecord; at= breaks a media truncate or reset after N bytes")
	if err := c.parse(args, e.getenv); err != nil {
		return err
	}
	switch {
	case dataset != "":
		ds, err := meetingtest.LoadDataset(dataset)
		if err != nil {
			return fileError("simulate", "dataset", dataset, err)
		}
		cfg.Dataset = ds
	case gen.Conferences > 0:
		gen.FileSize = int64(size)
		gen.Seed = cfg.Seed
		gen.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		cfg.Dataset = meetingtest.Generate(gen)
	default:
		cfg.Dataset = meetingtest.SampleDataset()
	}
	model, perAPI, err := meetingtest.ParseQuotaModels(quotaModel)
	if err != nil {
		return usagef("simulate: --quota-model: %v", err)
	}
	cfg.QuotaModel, cfg.QuotaModels = model, perAPI
	cfg.MediaRate = int64(mrate)
	cfg.Faults = faults
	cfg.NotDeployed = missing
	for _, s := range late {
		l, err := meetingtest.ParseLateFile(s)
		if err != nil {
			return usagef("simulate: --late-file: %v", err)
		}
		cfg.LateFiles = append(cfg.LateFiles, l)
	}
	if err := cfg.Validate(); err != nil {
		return usagef("simulate: %v", err)
	}
	fmt.Fprintf(e.stdout, "simulating the Meeting API at http://%s with %d conferences\n", console.Text(addr), len(cfg.Dataset.Conferences))
	fmt.Fprintf(e.stdout, "  export MEETARCHIVE_API=http://%s MEETARCHIVE_APP_ID=%s MEETARCHIVE_APP_KEY=<the --sim-app-key value>\n", console.Text(addr), console.Text(cfg.AppID))
	if err := meetingtest.Serve(ctx, addr, cfg); err != nil && ctx.Err() == nil {
		return usagef("simulate: %v", err)
	}
	return nil
}
