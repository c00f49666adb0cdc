//go:build !dev

// The production build: without the build tag dev, the binary leaves out
// the dev stack — the embedded Temporal server, the private PostgreSQL and
// the development SMTP server — and so links no go.temporal.io/server.
// dev.go, built with -tags dev (`make run`), has the real runDev.

package main

import (
	"context"
	"log/slog"

	"github.com/throughgate/throughgate/internal/config"
)

// runDev is nil in this build: run answers `throughgate dev` with noDevStack.
var runDev func(context.Context, config.Config, *slog.Logger) error

// buildNote ends `throughgate version`'s line.
const buildNote = ""
