package activities

import (
	"log/slog"

	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/workflows"
)

// Activities carries what the activities need. Its methods are the
// activities of the workflows' contract, workflows.Activities; the worker
// registers the struct, and with it each method under its own name.
type Activities struct {
	DB *postgres.DB
	// BaseURL is the web address of the API and pages, for links in emails.
	BaseURL string
	Logger  *slog.Logger
	// RetentionYears is how long after closing a case keeps its person's
	// details and notes (RETENTION_YEARS); 0 keeps them for ever.
	RetentionYears int
}

// Activities implements the contract the workflows call.
var _ workflows.Activities = (*Activities)(nil)

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}
