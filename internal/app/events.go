package app

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/throughgate/throughgate/internal/casework"
	"github.com/throughgate/throughgate/internal/config"
	"github.com/throughgate/throughgate/internal/postgres"
)

// EventSettings are the application service's settings of prison movement
// events, from the configuration (EVENT_SOURCES, EVENT_TEAMS,
// PRISONER_SEARCH_URL and PRISONER_SEARCH_TOKEN, EVENT_HOLD).
func EventSettings(cfg config.Config) casework.EventSettings {
	s := casework.EventSettings{Teams: cfg.EventTeams, Hold: cfg.EventHold}
	for _, src := range cfg.EventSources {
		s.Sources = append(s.Sources, casework.EventSource{Name: src.Name, Secret: src.Secret})
	}
	if cfg.PrisonerSearchURL != "" {
		s.Search = &casework.HTTPPrisonerSearch{URL: cfg.PrisonerSearchURL, Token: cfg.PrisonerSearchToken}
	}
	return s
}

// eventService is the application service the worker's sweep acts through.
func eventService(db *postgres.DB, c client.Client, cfg config.Config) *casework.Service {
	return &casework.Service{DB: db, Temporal: c, Policy: cfg.Policy, Events: EventSettings(cfg), BaseURL: cfg.BaseURL,
		PartnerLinkDays: cfg.PartnerLinkDays}
}

// sweepEvery is how often the worker looks at events still to be dealt
// with: held ones are tried again (and parked after EVENT_HOLD), and those
// whose processing failed on our side are retried.
const sweepEvery = time.Minute

// StartEventSweeper runs casework.Service.SweepEvents in the background
// every sweepEvery until the returned stop function is called. Several
// workers may run one: each event is processed under its person's lock,
// and an event another worker has dealt with is skipped.
func StartEventSweeper(svc *casework.Service, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(sweepEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := svc.SweepEvents(ctx)
			if err != nil && ctx.Err() == nil {
				// The error names events by id and says what failed; never the person.
				logger.Error("sweeping prison movement events", "err", err)
			}
			if n > 0 {
				logger.Info("prison movement events swept", "changed", n)
			}
		}
	}()
	return func() { cancel(); <-done }
}
