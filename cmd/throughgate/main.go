// Command throughgate runs the Throughgate resettlement engine.
//
//	throughgate dev       everything in one process: embedded Temporal and SMTP servers, a private PostgreSQL unless DATABASE_URL is set (package devstack)
//	throughgate api       the HTTP API and pages against an external Temporal, PostgreSQL and SMTP relay (package app)
//	throughgate worker    the workflow worker and email sender against an external Temporal, PostgreSQL and SMTP relay (package app)
//	throughgate migrate   apply the database migrations (package app)
//	throughgate help      subcommands and every setting
//
// This file reads the settings and runs the subcommand; dev.go prints dev's
// banner. What each process is made of is wired in packages app and devstack.
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
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		cfg, err := config.Load(c.name, args[1:], os.Getenv)
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "throughgate %s: %v\n", c.name, err)
			return 2
		}
		logger := app.NewLogger(cfg.LogLevel)
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
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  help     show this text")
	fmt.Fprintln(w, "\nSettings (a flag wins over its environment variable, which wins over the default):")
	config.Help(w)
}
