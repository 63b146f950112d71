# meetarchive: the two set-up commands are `make demo` and `make test`.
GO      ?= go
BIN     ?= ./meetarchive
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build test lint demo bench s3-up s3-down fuzz clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The whole suite: vet, gofmt, then `go test -race` with a real S3 server
# (versitygw, installed into .bin/ on first use) started and stopped around it.
test:
	bash scripts/test.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@test -x .bin/staticcheck || GOBIN=$(CURDIR)/.bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2 || echo "staticcheck could not be installed: skipped"
	@if [ -x .bin/staticcheck ]; then .bin/staticcheck ./...; fi

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
	rm -rf $(BIN) demo-output
