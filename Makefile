# Throughgate. `make run` starts the whole engine; `make test` runs every test.
# Both install or start what they need, or say what is missing.

export GOTOOLCHAIN := local
GO ?= go
BIN := bin/throughgate

.PHONY: run test build lint migrate bench deps go postgres chromium clean

## run: the dev stack — PostgreSQL, Temporal, SMTP, worker and API in one process
run: go postgres build
	./$(BIN) dev

## test: every test, against a real PostgreSQL, Temporal server and SMTP server
test: go postgres chromium
	$(GO) test -count=1 ./...

## build: the throughgate binary in bin/
build:
	$(GO) build -o $(BIN) ./cmd/throughgate

## lint: gofmt, go vet and Temporal's determinism checker over the workflows
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool workflowcheck ./workflows/...

## migrate: apply the database migrations to DATABASE_URL
migrate: build
	./$(BIN) migrate

## bench: the benchmarks, whose figures the notes quote
bench: go postgres
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
	rm -rf bin
