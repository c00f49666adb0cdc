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

const importUsage = "usage: throughgate import cases FILE --by STAFF_ID [--dry-run]"

// runImport is `throughgate import cases FILE --by STAFF_ID [--dry-run]`:
// it loads a caseload CSV file (README.md, "Loading a caseload") as the
// member of staff named, within their scope and audited as theirs. With
// --dry-run it reports every row's problems, by line and column, and what
// would be opened; without, it starts the import (the workers open the
// rows in the background) and prints its progress until it is done. The
// other settings (DATABASE_URL, TEMPORAL_*) are read as for every command.
// Exit status: 0 when every row opened or was open already, 1 when some
// had problems or were refused (or on failure), 2 when the file or the
// command line is refused.
func runImport(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "cases" {
		fmt.Fprintln(stderr, importUsage)
		return 2
	}
	fs := flag.NewFlagSet("import cases", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o app.ImportOptions
	fs.StringVar(&o.By, "by", "", "the staff id of the person importing (audited; their scope applies)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check the file and report each row's problems; open nothing")
	// The file, our flags, then the usual settings.
	var own, rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch name := flagName(a); {
		case a == "" || a[0] != '-':
			if o.File != "" {
				fmt.Fprintln(stderr, importUsage)
				return 2
			}
			o.File = a
		case name == "by" || name == "dry-run":
			own = append(own, a)
			if name == "by" && !hasValue(a) && i+1 < len(args) {
				i++
				own = append(own, args[i])
			}
		default:
			rest = append(rest, a)
			if !hasValue(a) && i+1 < len(args) { // every setting takes a value
				i++
				rest = append(rest, args[i])
			}
		}
	}
	if err := fs.Parse(own); err != nil {
		return 2
	}
	if o.File == "" || o.By == "" {
		fmt.Fprintln(stderr, importUsage)
		return 2
	}
	cfg, err := config.Load("cases", rest, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate import cases: %v\n", err)
		return 2
	}
	logger := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := app.RunImportCases(ctx, cfg, logger, o, stdout)
	return importExit(res, err, stderr)
}

// importExit is the exit status of an import, saying why on stderr.
func importExit(res app.ImportOutcome, err error, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "throughgate import cases: %v\n", err)
		if e, ok := casework.ErrorOf(err); ok {
			for _, f := range e.Fields {
				fmt.Fprintf(stderr, "  %s: %s\n", f.Field, f.Message)
			}
			if e.Kind != casework.Unavailable {
				return 2
			}
		}
		return 1
	}
	if res.Problems {
		return 1
	}
	return 0
}
