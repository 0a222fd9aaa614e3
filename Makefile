# drcon: Docker + Registrator + Consul + consul-template + Nginx in one agent.
export GOTOOLCHAIN := local
GO ?= go
BIN := bin/drcon
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/drcon/drcon/cmd/drcon/internal/version.Version=$(VERSION)

.PHONY: build test unit lint demo bench fuzz clean

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/drcon

# The README's test command: vet, then every package with the race detector,
# integration tests included (they start their own Consul, nginx and
# containers; see integration/scripts/setup.sh).
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# Pure-logic packages only: no services needed.
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /integration)

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# The DR CoN stack on this machine; KEEP=1 leaves it running.
demo: build
	integration/demo/demo.sh

bench: build
	integration/bench/run.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime 60s ./config

clean:
	rm -rf bin
