# Throughgate. `make run` starts the whole engine; `make test` runs every test.
# Both install or start what they need, or say what is missing.

export GOTOOLCHAIN := local
GO ?= go
BIN := bin/throughgate

.PHONY: run test build lint migrate bench deps clean

## run: the dev stack — PostgreSQL, Temporal, SMTP, worker and API in one process
run: deps build
	./$(BIN) dev

## test: every test, against a real PostgreSQL, Temporal server and SMTP server
test: deps
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
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

## deps: check Go, and install PostgreSQL's server programs and Chromium (for the browser tests) if they are missing
deps:
	@command -v $(GO) >/dev/null || { echo "Go is not installed: install Go 1.26.8 from https://go.dev/dl/"; exit 1; }
	@bash .ci/ensure-postgres
	@bash .ci/ensure-chromium

clean:
	rm -rf bin
