package activities

import (
	"log/slog"

	"github.com/throughgate/throughgate/internal/postgres"
)

// Activities carries what the activities need.
type Activities struct {
	DB *postgres.DB
	// BaseURL is the web address of the API and pages, for links in emails.
	BaseURL string
	Logger  *slog.Logger
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}
