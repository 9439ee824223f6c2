# AccessBot — build, run and test. `make run` and `make test` are all a fresh machine needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/accessbot
DATA ?= .data
# Packages that import msgraph-sdk-go (directly or through the wiring). They are compiled once, without -race,
# and never vetted with the SDK itself (DESIGN.md §7: the SDK costs minutes to type-check).
GRAPH_PKGS := ./internal/entitlement/graph/... ./internal/e2e/... ./cmd/...
LIGHT_PKGS = $(shell $(GO) list ./... | grep -v -e /internal/entitlement/graph -e /internal/e2e -e /cmd/)

.PHONY: all build run demo test test-light test-graph lint fmt bench bench-compare bench-go clean playground e2e cards

all: build

build:
	$(GO) build -o $(BIN) ./cmd/accessbot

## run: the demo — bot + embedded simulated tenants on loopback, ready for the Agents Playground.
run: build
	./$(BIN) demo --data $(DATA) $(ARGS)

## test: format and vet checks, then every test. Light packages with -race; the Graph-backed packages once,
## without -race. The PostgreSQL tests (storage contract, replicas) run when ACCESSBOT_TEST_DATABASE_URL is set.
test: lint test-light test-graph

test-light:
	@[ -n "$$ACCESSBOT_TEST_DATABASE_URL" ] || echo "PostgreSQL tests skipped: set ACCESSBOT_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/test?sslmode=disable to run them (.ci/run does)"
	$(GO) test -race -count=1 $(LIGHT_PKGS)

test-graph:
	$(GO) test -count=1 $(GRAPH_PKGS)

## lint: gofmt check + go vet on our packages (the Graph SDK itself is never vetted).
lint:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './scripts/*/node_modules/*')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: drive the real binary (accessbot demo with token validation on) with signed activities from 1, 8 and
## 32 clients and print one table (README "Reading make bench"). BENCH_ARGS adds flags (-duration 20s, -clients
## 1,8); ACCESSBOT_BENCH_DATABASE_URL (a PostgreSQL URL whose user may create databases) adds PostgreSQL rows.
ACCESSBOT_BENCH_DATABASE_URL ?=
bench: build
	$(GO) run ./cmd/accessbench -bin $(BIN) $(if $(ACCESSBOT_BENCH_DATABASE_URL),-database-url '$(ACCESSBOT_BENCH_DATABASE_URL)') $(BENCH_ARGS)

## bench-compare: the same load side by side against the Node reference bot in scripts/benchref (botbuilder
## 4.23.3, CloudAdapter, restify, file storage, auth on), alternating rows, and per client count the medians and
## their ratio (README "Reading make bench"). Installs the reference's npm packages when missing or older than its
## package-lock.json. Defaults: -clients 8 -rounds 5; BENCH_ARGS adds or overrides flags (-rounds 3 -duration 20s).
BENCHREF := scripts/benchref
bench-compare: build $(BENCHREF)/node_modules/.package-lock.json
	$(GO) run ./cmd/accessbench -bin $(BIN) -reference $(BENCHREF) -clients 8 -rounds 5 $(BENCH_ARGS)

# npm writes node_modules/.package-lock.json on every install: older than the lock file = stale. No install
# scripts are needed (restify's optional dtrace-provider would only try a native build).
$(BENCHREF)/node_modules/.package-lock.json: $(BENCHREF)/package.json $(BENCHREF)/package-lock.json
	cd $(BENCHREF) && npm ci --ignore-scripts --no-audit --no-fund

## bench-go: the Go micro-benchmarks (store turn writes, outbound encoding, JWT, …), printed as a table, then one
## message's state work on bbolt and PostgreSQL side by side (PostgreSQL when ACCESSBOT_TEST_DATABASE_URL is set).
bench-go:
	@$(GO) test -run '^$$' -bench . -benchmem $(LIGHT_PKGS) > /tmp/accessbot-bench.txt || { cat /tmp/accessbot-bench.txt; exit 1; }
	@awk 'function val(u,  i) { for (i = 3; i < NF; i++) if ($$(i+1) == u) return $$i; return "-" } \
	  BEGIN { printf "%-42s %12s %12s %10s\n", "benchmark", "ns/op", "B/op", "allocs/op" } \
	  /^pkg:/ { pkg = $$2; sub(".*/accessbot/", "", pkg) } \
	  /^Benchmark/ { printf "%-42s %12s %12s %10s\n", pkg "." substr($$1, 10), val("ns/op"), val("B/op"), val("allocs/op") } \
	  /^BenchmarkTurns\// { b = $$1; sub("^BenchmarkTurns/", "", b); sub("-[0-9]+$$", "", b); turns[b] = sprintf("%-12s %12s %12s", b, val("msgs/s"), val("p99-ms")) } \
	  END { printf "\nstate work per message (claim, audit entry, completion with the conversation reference; 16 concurrent per CPU):\n%-12s %12s %12s\n", "backend", "msgs/s", "p99 ms"; \
	    print turns["bbolt"]; \
	    if ("postgres" in turns) print turns["postgres"]; else print "postgres     skipped: set ACCESSBOT_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/test?sslmode=disable" }' /tmp/accessbot-bench.txt

## cards: validate every golden card with the official renderer and re-render docs/cards (npm + Chromium).
cards:
	cards/render.sh

## playground: the Microsoft 365 Agents Playground as PERSONA (requester | approver | guest | admin, or one of the
## generated people patti | fiona | isaiah | lynne | megan); PORT overrides its default port.
PERSONA ?= requester
playground:
	scripts/playground/run.sh $(PERSONA) $(PORT)

## e2e: opt-in end-to-end run of the whole story through Agents Playground instances (not part of `make test`;
## needs Node 20+ and npm; docs/PLAYGROUND.md). ARGS="--screenshots docs/playground" also saves each chat as PNG.
e2e:
	scripts/e2e.sh $(ARGS)

clean:
	rm -rf bin $(DATA)
