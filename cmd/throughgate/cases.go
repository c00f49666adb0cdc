package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
)

// runCases is `throughgate cases migrate-plan --to VERSION --by ADMIN
// [--establishment X] [--dry-run]`: it moves running cases to another
// version of the plan (docs/design.md, "Deadlines and re-planning"),
// reporting what each case gains or loses. The other settings (DATABASE_URL,
// TEMPORAL_*) are read as for every command.
func runCases(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "migrate-plan" {
		fmt.Fprintln(stderr, "usage: throughgate cases migrate-plan --to VERSION --by ADMIN_ID [--establishment CODE] [--dry-run]")
		return 2
	}
	fs := flag.NewFlagSet("cases migrate-plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var m casework.PlanMigration
	fs.IntVar(&m.To, "to", 0, "the plan version to move cases to")
	fs.StringVar(&m.By, "by", "", "the staff id of the administrator asking (audited)")
	fs.StringVar(&m.Establishment, "establishment", "", "only the cases at this prison (a code such as PVI)")
	fs.BoolVar(&m.DryRun, "dry-run", false, "report what each case would gain or lose; change nothing")
	// Our flags come first; the rest are the usual settings.
	var own, rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch name := flagName(a); name {
		case "to", "by", "establishment", "dry-run":
			own = append(own, a)
			if name != "dry-run" && !hasValue(a) && i+1 < len(args) {
				i++
				own = append(own, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	if err := fs.Parse(own); err != nil {
		return 2
	}
	cfg, err := config.Load("cases", rest, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate cases migrate-plan: %v\n", err)
		return 2
	}
	logger := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.RunMigratePlan(ctx, cfg, logger, m, stdout); err != nil {
		fmt.Fprintf(stderr, "throughgate cases migrate-plan: %v\n", err)
		if e, ok := casework.ErrorOf(err); ok && e.Kind == casework.Invalid {
			return 2
		}
		return 1
	}
	return 0
}

// flagName is the name of a command-line flag ("--to=2" → "to"), or "".
func flagName(a string) string {
	for len(a) > 0 && a[0] == '-' {
		a = a[1:]
	}
	for i := range len(a) {
		if a[i] == '=' {
			return a[:i]
		}
	}
	return a
}

func hasValue(a string) bool {
	for i := range len(a) {
		if a[i] == '=' {
			return true
		}
	}
	return false
}
