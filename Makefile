# meetarchive: the two set-up commands are `make demo` and `make test`.
GO      ?= go
BIN     ?= ./meetarchive
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
PREFIX  ?= /usr/local
DESTDIR ?=

# make image: the OCI image archive, built without a daemon or registry
# (scripts/image). Every time in it is SOURCE_DATE_EPOCH (default: the
# commit's time), so the same commit gives the same digest.
IMAGE             ?= dist/meetarchive-image.tar
IMAGE_BIN         ?= dist/image/meetarchive
IMAGE_SOURCE      ?= $(shell git remote get-url origin 2>/dev/null)
IMAGE_LICENSES    ?= NOASSERTION
CA_CERTS          ?= /etc/ssl/certs/ca-certificates.crt
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: build install test lint demo bench s3-up s3-down fuzz clean image

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The binary into $(DESTDIR)$(PREFIX)/bin (PREFIX=$$HOME/.local for a user).
install: build
	install -d "$(DESTDIR)$(PREFIX)/bin"
	install -m 0755 $(BIN) "$(DESTDIR)$(PREFIX)/bin/meetarchive"

# The whole suite: vet, gofmt, then `go test -race` with a real S3 server
# (versitygw, installed into .bin/ on first use) started and stopped around it.
test:
	bash scripts/test.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	@test -x .bin/staticcheck || GOBIN=$(CURDIR)/.bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2 || echo "staticcheck could not be installed: skipped"
	@if [ -x .bin/staticcheck ]; then .bin/staticcheck ./...; fi

image:
	@test -s $(CA_CERTS) || { echo "$(CA_CERTS) is missing: apt-get install ca-certificates"; exit 1; }
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" -o $(IMAGE_BIN) .
	@echo "$(GO) run ./scripts/image --binary $(IMAGE_BIN) --version $(VERSION) --revision $(COMMIT) --created $(SOURCE_DATE_EPOCH) --out $(IMAGE)"
	@# not echoed: a git remote's URL may carry a token (the image's label drops it)
	@$(GO) run ./scripts/image --binary $(IMAGE_BIN) --certs $(CA_CERTS) --arch "$$($(GO) env GOARCH)" \
		--created $(SOURCE_DATE_EPOCH) --version "$(VERSION)" --revision "$(COMMIT)" \
		--source "$(IMAGE_SOURCE)" --licenses "$(IMAGE_LICENSES)" --out $(IMAGE)

demo: build
	$(BIN) demo

bench:
	bash scripts/bench.sh

s3-up:
	bash scripts/s3.sh up

s3-down:
	bash scripts/s3.sh down

fuzz:
	$(GO) test -run='^$$' -fuzz=Fuzz -fuzztime=30s ./export/

clean:
	rm -rf $(BIN) demo-output dist
