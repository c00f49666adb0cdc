// Command throughgate runs the Throughgate resettlement engine.
//
//	throughgate dev       everything in one process: embedded Temporal and SMTP servers, a private PostgreSQL unless DATABASE_URL is set (package devstack)
//	throughgate api       the HTTP API and pages against an external Temporal, PostgreSQL and SMTP relay (package app)
//	throughgate worker    the workflow worker and email sender against an external Temporal, PostgreSQL and SMTP relay (package app)
//	throughgate migrate   apply the database migrations (package app)
//	throughgate cases migrate-plan   move running cases to another plan version (cases.go)
//	throughgate import cases FILE   load a caseload CSV file, or check it with --dry-run (imports.go)
//	throughgate healthcheck URL     a container health check (healthcheck.go)
//	throughgate audit verify        check the audit log's hash chain (audit.go)
//	throughgate holidays check FILE compare a GOV.UK bank-holiday feed with the built-in one (holidays.go)
//	throughgate version   which build this is
//	throughgate help      subcommands and every setting
//
// This file reads the settings and runs the subcommand; dev.go prints dev's
// banner. What each process is made of is wired in packages app and devstack.
//
// `dev` is built only with the build tag dev (`make run`, or
// `go build -tags dev ./cmd/throughgate`): it links the Temporal server,
// which the production binary — api, worker, migrate; `make build` and
// deploy/Dockerfile — leaves out. Without the tag, nodev.go stands in for
// dev.go and `throughgate dev` says how to get it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/config"
)

var commands = []struct {
	name, summary string
	run           func(ctx context.Context, cfg config.Config, logger *slog.Logger) error
}{
	{"dev", "run everything in one process: a private PostgreSQL (unless DATABASE_URL is set), an embedded Temporal server, a development SMTP server, the worker and the API", runDev},
	{"api", "run the HTTP API against TEMPORAL_ADDRESS, DATABASE_URL and the SMTP relay", app.RunAPI},
	{"worker", "run the workflow worker against TEMPORAL_ADDRESS and DATABASE_URL", app.RunWorker},
	{"migrate", "apply the embedded database migrations to DATABASE_URL", app.RunMigrate},
}

// noDevStack answers `throughgate dev` in a binary built without the dev stack.
const noDevStack = "this binary was built without the dev stack (the embedded Temporal server, private PostgreSQL and development SMTP server): " +
	"use `make run`, or build with `go build -tags dev -o bin/throughgate-dev ./cmd/throughgate`"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "help" && args[1] == "--markdown" {
		config.MarkdownTable(stdout)
		return 0
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintf(stdout, "throughgate %s (%s %s/%s%s)\n", app.Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, buildNote)
		return 0
	}
	switch args[0] {
	case "holidays": // no settings: see holidays.go
		return runHolidays(args[1:], stdout, stderr)
	case "healthcheck": // no settings: see healthcheck.go
		return runHealthcheck(args[1:], stdout, stderr)
	case "cases": // flags of its own, then the settings: see cases.go
		return runCases(args[1:], stdout, stderr)
	case "audit": // verify, then the settings: see audit.go
		return runAudit(args[1:], stdout, stderr)
	case "import": // cases FILE, flags of its own, then the settings: see imports.go
		return runImport(args[1:], stdout, stderr)
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		if c.run == nil {
			fmt.Fprintf(stderr, "throughgate %s: %s\n", c.name, noDevStack)
			return 2
		}
		cfg, err := config.Load(c.name, args[1:], os.LookupEnv)
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "throughgate %s: %v\n", c.name, err)
			return 2
		}
		logger := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
		slog.SetDefault(logger)
		fmt.Fprintf(stderr, "throughgate %s starting with:\n", c.name)
		cfg.Print(stderr, c.name)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		go func() {
			// After the first signal, a second one kills at once.
			<-ctx.Done()
			stop()
		}()
		if err := c.run(ctx, cfg, logger); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "throughgate %s: %v\n", c.name, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "throughgate: unknown command %q (try `throughgate help`)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Throughgate: every release from prison a durable workflow that never forgets a deadline.")
	fmt.Fprintln(w, "\nUsage: throughgate <command> [--flag value ...]\n\nCommands:")
	for _, c := range commands {
		summary := c.summary
		if c.run == nil {
			summary += " (not in this build: `make run`, or build with -tags dev)"
		}
		fmt.Fprintf(w, "  %-8s %s\n", c.name, summary)
	}
	fmt.Fprintln(w, "  holidays check FILE  compare FILE, a download of https://www.gov.uk/bank-holidays.json, with the built-in bank holidays (exit 0 same, 1 changed, 2 bad input)")
	fmt.Fprintln(w, "  cases migrate-plan --to VERSION --by ADMIN_ID [--establishment CODE] [--dry-run]  move running cases to another plan version, reporting what each gains or loses")
	fmt.Fprintln(w, "  import cases FILE --by STAFF_ID [--dry-run]  load a caseload CSV file as STAFF_ID (their scope, audited as theirs): --dry-run reports each row's problems by line and column; without it the cases open in the background, with progress (exit 0 every row opened or open already, 1 some not, 2 a refused file or command line)")
	fmt.Fprintln(w, "  healthcheck URL      exit 0 if URL (a /healthz) answers 2xx, else 1: for container health checks")
	fmt.Fprintln(w, "  audit verify         check the audit log's hash chain in DATABASE_URL: \"ok N rows\" (exit 0) or the first broken row (exit 1; 2 if it cannot be read)")
	fmt.Fprintln(w, "  version  print which build this is")
	fmt.Fprintln(w, "  help     show this text (help --markdown: the settings as a Markdown table)")
	fmt.Fprintln(w, "\nSettings (a flag wins over its environment variable, which wins over the default):")
	config.Help(w)
}
