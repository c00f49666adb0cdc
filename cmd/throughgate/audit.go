package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/throughgate/throughgate/internal/app"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Exit codes of `throughgate audit verify`.
const (
	auditOK     = 0 // the chain holds
	auditBroken = 1 // a row does not follow from the one before
	auditFailed = 2 // bad arguments or settings, or the database could not be read
)

// runAudit is `throughgate audit verify [settings]`: it recomputes the
// audit log's hash chain (postgres.VerifyAudit) in DATABASE_URL and prints
// "ok N rows" with the last row's hash, which an operator may record
// elsewhere to catch a chain rewritten from some row on, or the first
// broken row and why.
func runAudit(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: throughgate audit verify [--database-url URL]")
		return auditFailed
	}
	cfg, err := config.Load("audit", args[1:], os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate audit verify: %v\n", err)
		return auditFailed
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stderr, "throughgate audit verify: DATABASE_URL is required (the database whose audit log to check)")
		return auditFailed
	}
	logger := app.NewLogger(cfg.LogLevel, cfg.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := app.OpenDB(ctx, cfg.DatabaseURL, false, logger)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate audit verify: %v\n", err)
		return auditFailed
	}
	defer db.Close()
	v, err := db.VerifyAudit(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "throughgate audit verify: %v\n", err)
		return auditFailed
	}
	return printVerification(v, stdout)
}

// printVerification reports what VerifyAudit found and answers the exit code.
func printVerification(v postgres.AuditVerification, stdout io.Writer) int {
	if v.OK() {
		fmt.Fprintf(stdout, "ok %d rows; last row %d, hash %s\n", v.Rows, v.LastID, hex.EncodeToString(v.LastHash))
		return auditOK
	}
	if e := v.Broken; e != nil {
		// A changed row may hold anything: shown encoded, as Audit writes.
		fmt.Fprintf(stdout, "broken at row %d (%s actor=%s action=%s case=%s detail=%s remote=%s): %s\n",
			e.ID, e.At.UTC().Format(time.RFC3339Nano), postgres.AuditText(e.Actor), postgres.AuditText(e.Action),
			postgres.AuditText(e.CaseID), postgres.AuditText(e.Detail), postgres.AuditText(e.Remote), v.Reason)
	} else {
		fmt.Fprintf(stdout, "broken: %s\n", v.Reason)
	}
	fmt.Fprintf(stdout, "%d rows checked\n", v.Rows)
	return auditBroken
}
