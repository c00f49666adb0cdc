package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
)

// importService is the application service the worker's import activities
// open cases through: configured as the API's, so a case opened by an
// import is opened exactly as one opened by hand; and each batch waits for
// the workflows it started to run their first task, up to importPace, so
// that an import runs only a batch or two ahead of the workers.
func importService(db *postgres.DB, c client.Client, cfg config.Config) *casework.Service {
	return &casework.Service{DB: db, Temporal: c, Policy: cfg.Policy, Events: EventSettings(cfg), BaseURL: cfg.BaseURL,
		PartnerLinkDays: cfg.PartnerLinkDays, ImportPace: importPace}
}

// importPace bounds a batch's wait for its workflows: well within the
// batch activity's ten minutes, and long enough for a busy worker.
const importPace = 2 * time.Minute

// ImportOptions are `throughgate import cases`'s: the file, who imports
// it (audited, and their scope applies), and whether only to check it.
type ImportOptions struct {
	File   string
	By     string
	DryRun bool
	// Poll is how often progress is read and printed (0: every second).
	Poll time.Duration
}

// ImportOutcome says how an import went, for the command's exit status:
// whether any row had problems or was refused.
type ImportOutcome struct {
	Report   casework.ImportReport
	Problems bool
}

// RunImportCases is `throughgate import cases FILE --by STAFF_ID
// [--dry-run]` against DATABASE_URL and Temporal.
func RunImportCases(ctx context.Context, cfg config.Config, logger *slog.Logger, o ImportOptions, out io.Writer) (ImportOutcome, error) {
	db, c, release, err := connect(ctx, cfg, logger)
	if err != nil {
		return ImportOutcome{}, err
	}
	defer release()
	return ImportCases(ctx, importService(db, c, cfg), o, out)
}

// ImportCases checks a caseload file, and unless o.DryRun imports it: the
// rows open in the background (the ImportCases workflow, run by the
// workers), and this prints their progress until every row is dealt with,
// then the rows with problems. The import's rows and cases are the
// application service's (casework.CreateImport), as from the API.
func ImportCases(ctx context.Context, svc *casework.Service, o ImportOptions, out io.Writer) (ImportOutcome, error) {
	var res ImportOutcome
	p, err := svc.ImportAs(ctx, o.By)
	if err != nil {
		return res, err
	}
	data, err := readImportFile(o.File)
	if err != nil {
		return res, err
	}
	if o.DryRun {
		rep, err := svc.CheckImport(ctx, p, data)
		if err != nil {
			return res, err
		}
		fmt.Fprintln(out, "Dry run: nothing is opened.")
		printImportCheck(out, rep.Check, true)
		printImportRows(out, rep.Rows)
		return ImportOutcome{Report: rep, Problems: rep.Check.Invalid > 0}, nil
	}
	rep, _, err := svc.CreateImport(ctx, p, data, filepath.Base(o.File), "", true)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(out, "Import %s started.\n", rep.ID)
	printImportCheck(out, rep.Check, false)
	poll := o.Poll
	if poll <= 0 {
		poll = time.Second
	}
	began, last := time.Now(), -1
	for {
		if rep.Progress != nil && rep.Progress.Done != last {
			last = rep.Progress.Done
			rate := float64(rep.Progress.Opened) / time.Since(began).Seconds()
			fmt.Fprintf(out, "%s  %d of %d rows dealt with: %d opened, %d already open, %d refused (%.0f cases/s)\n",
				time.Now().Format("15:04:05"), rep.Progress.Done, rep.Progress.ToDo, rep.Progress.Opened,
				rep.Progress.AlreadyOpen, rep.Progress.Failed, rate)
		}
		if rep.Status == postgres.ImportDone {
			break
		}
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "Stopped watching: import %s goes on in the background.\n", rep.ID)
			return ImportOutcome{Report: rep}, ctx.Err()
		case <-time.After(poll):
		}
		if rep, err = svc.ImportStatus(ctx, p, rep.ID); err != nil {
			return res, err
		}
	}
	took := rep.FinishedAt.Sub(*rep.StartedAt)
	fmt.Fprintf(out, "Import %s done in %s: %d opened (%.1f cases/s), %d already open, %d refused, %d with problems.\n", rep.ID,
		took.Round(100*time.Millisecond), rep.Progress.Opened, float64(rep.Progress.Opened)/max(took.Seconds(), 0.001),
		rep.Progress.AlreadyOpen, rep.Progress.Failed, rep.Check.Invalid)
	problems := rep.Check.Invalid > 0 || rep.Progress.Failed > 0
	if problems {
		for _, status := range []string{postgres.RowInvalid, postgres.RowFailed} {
			q := casework.ImportRowQuery{Status: status, Limit: 1000}
			for {
				page, err := svc.ViewImport(ctx, p, rep.ID, q)
				if err != nil {
					return res, err
				}
				printImportRows(out, page.Rows)
				if page.NextAfter == 0 {
					break
				}
				q.After = page.NextAfter
			}
		}
	}
	return ImportOutcome{Report: rep, Problems: problems}, nil
}

// readImportFile reads the file, refusing one over the size an import takes
// before reading it.
func readImportFile(name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > casework.MaxImportBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB: split it into smaller files", name, casework.MaxImportBytes>>20)
	}
	return os.ReadFile(name)
}

func printImportCheck(out io.Writer, c casework.ImportCheck, dry bool) {
	verb := "to open"
	if dry {
		verb = "would open"
	}
	fmt.Fprintf(out, "%d rows: %d %s, %d already open (skipped), %d with problems (not opened).\n", c.Rows, c.WouldOpen, verb,
		c.AlreadyOpen, c.Invalid)
}

// printImportRows prints each row's problems, line and column first, and
// the rows already open.
func printImportRows(out io.Writer, rows []casework.ImportRowOutcome) {
	for _, r := range rows {
		switch r.Status {
		case postgres.RowAlreadyOpen:
			where := "a case you cannot see"
			if r.CaseID != "" {
				where = "case " + r.CaseID
			}
			fmt.Fprintf(out, "line %d: already open (%s)\n", r.Line, where)
		case postgres.RowInvalid, postgres.RowFailed:
			var parts []string
			for _, p := range r.Problems {
				parts = append(parts, casework.ProblemText(r.Line, p))
			}
			prefix := ""
			if r.Status == postgres.RowFailed {
				prefix = "refused: "
			}
			fmt.Fprintln(out, prefix+strings.Join(parts, "; "))
		}
	}
}
