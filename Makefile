# drcon: Docker + Registrator + Consul + consul-template + Nginx in one agent.
export GOTOOLCHAIN := local
GO ?= go
BIN := bin/drcon
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/drcon/drcon/cmd/drcon/internal/version.Version=$(VERSION)

.PHONY: build test unit lint demo demo-stop bench fuzz clean

# A static binary (no cgo), as HashiCorp builds consul-template's releases:
# it runs in an image FROM scratch, and it maps no libc (1.5-2 MB less RSS).
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/drcon

# The README's test command: vet, then every package with the race detector,
# integration tests included (they start their own Consul, nginx and
# containers; see integration/scripts/setup.sh).
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

# Pure-logic packages only: no services needed.
unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /integration)

# gofmt, vet, staticcheck, and deadcode (no function that nothing calls,
# tests included).
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@test -z "$$($(GO) run golang.org/x/tools/cmd/deadcode@v0.52.0 -test ./... | tee /dev/stderr)"

# The DR CoN stack on this machine (integration/demo): installs what is
# missing, runs Consul, nginx and drcon with examples/drcon.hcl, scales a
# demo service under a request loop and prints what the loop saw, then stops
# everything. KEEP=1 leaves the stack running; make demo-stop stops it.
demo: build
	integration/scripts/setup.sh
	$(GO) build -o bin/drcon-demo ./integration/demo/cmd/demo
	bin/drcon-demo -drcon $(BIN) $(if $(filter 1,$(KEEP)),-keep)

demo-stop:
	$(GO) build -o bin/drcon-demo ./integration/demo/cmd/demo
	bin/drcon-demo -stop

# Every benchmark, with a summary (integration/bench/run.sh).
bench: build
	integration/bench/run.sh

# Each fuzz target for FUZZTIME (go test runs their seeds in make test too):
# configs, queries, templates, container settings, Consul's health answers.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./template/dep
	$(GO) test -run '^$$' -fuzz FuzzTemplate -fuzztime $(FUZZTIME) ./template
	$(GO) test -run '^$$' -fuzz FuzzBuildServices -fuzztime $(FUZZTIME) ./jobs/register
	$(GO) test -run '^$$' -fuzz FuzzDecodeHealth -fuzztime $(FUZZTIME) ./template/consul

clean:
	rm -rf bin
