# Throughgate. `make run` starts the whole engine; `make test` runs every test.
# Both install or start what they need, or say what is missing.

export GOTOOLCHAIN := local
GO ?= go
# The production binary (api, worker, migrate) and the one with the dev stack
# (`dev` too: the embedded Temporal server, PostgreSQL and SMTP server), built
# from the same cmd/throughgate with the build tag dev.
BIN := bin/throughgate
DEV_BIN := bin/throughgate-dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/throughgate/throughgate/internal/app.version=$(VERSION)

.PHONY: run test drill build build-dev image lint migrate bench bench-go deps go postgres chromium clean

## run: the dev stack — PostgreSQL, Temporal, SMTP, worker and API in one process
run: go postgres build-dev
	./$(DEV_BIN) dev

## test: every test, against a real PostgreSQL, Temporal server and SMTP server
## (drill/ runs one full case through the separated topology of deploy/compose.yaml)
test: go postgres chromium
	$(GO) vet -tags dev ./cmd/throughgate
	$(GO) test -count=1 -timeout 45m ./...

## drill: the fault drill on the separated topology — a worker, the SMTP relay, PostgreSQL,
## Temporal and the API broken in turn with cases in flight — and its table (about 25 minutes;
## DRILL_SMTP_OUTAGE=2m for a shorter relay outage)
drill: go postgres
	$(GO) test -count=1 -tags drill -run '^TestFaultDrill$$' -v -timeout 90m ./drill

## build: the production binary in bin/throughgate — api, worker, migrate; no Temporal server inside
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/throughgate

## build-dev: the binary with the dev stack in bin/throughgate-dev (what `make run` runs)
build-dev:
	$(GO) build -tags dev -ldflags '$(LDFLAGS)' -o $(DEV_BIN) ./cmd/throughgate

## image: the container image of the production binary (deploy/Dockerfile)
image:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) -t throughgate:$(VERSION) .

## lint: gofmt, go vet and Temporal's determinism checker over the workflows
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags dev ./cmd/throughgate
	$(GO) vet -tags drill ./drill
	$(GO) tool workflowcheck ./workflows/...

## migrate: apply the database migrations to DATABASE_URL
migrate: build
	./$(BIN) migrate

## bench: issue 11's benchmarks at full size, one table (README, "Performance"; about two hours).
## BENCH_SCENARIO=board (or onboard, caseload, temporal; comma-separated) runs some; BENCH_N=2000 a
## quick run (figures, no verdicts). Exits 1 if a figure misses its target.
BENCH_SCENARIO ?=
BENCH_N ?= 0
bench: go postgres build-dev
	$(GO) run ./bench -bin $(DEV_BIN) -n $(BENCH_N) $(if $(BENCH_SCENARIO),-scenario $(BENCH_SCENARIO))

## bench-go: the Go benchmarks (outbox throughput, working-day arithmetic, the list and board at 10,000)
bench-go: go postgres
	$(GO) test -run '^$$' -bench . -benchmem ./...

## deps: everything the tests need
deps: go postgres chromium

go:
	@command -v $(GO) >/dev/null || { echo "Go is not installed: install Go 1.26.8 from https://go.dev/dl/"; exit 1; }

# PostgreSQL's server programs, for dev's private cluster (installed with apt-get if missing).
postgres:
	@bash .ci/ensure-postgres

# Chromium, for the browser tests (installed with apt-get if missing).
chromium:
	@bash .ci/ensure-chromium

clean:
	rm -rf bin .cache
