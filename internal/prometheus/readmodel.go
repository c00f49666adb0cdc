package prometheus

import (
	"context"
	"sort"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/throughgate/throughgate/internal/postgres"
)

// ReadModelTTL is how long one read of the read model's gauges serves
// scrapes: several Prometheus servers, or a fast scrape interval, then
// cost the database one read at most this often.
const ReadModelTTL = 15 * time.Second

// ReadModel registers the gauges read from PostgreSQL at scrape time:
// open cases by stage, stalled cases, overdue steps and the outbox's depth,
// oldest wait and undeliverable emails. read is postgres.DB's
// ReadModelMetrics; one read serves every scrape for ttl. When a read fails,
// throughgate_read_model_up is 0 and the other gauges are left out rather
// than reported stale.
func (r *Registry) ReadModel(read func(ctx context.Context, now time.Time) (postgres.ReadModelMetrics, error), ttl time.Duration) {
	r.reg.MustRegister(&readModel{read: read, ttl: ttl, registry: r, now: time.Now})
}

var (
	descUp = prom.NewDesc("throughgate_read_model_up",
		"1 when the last read of the read model's gauges succeeded, 0 when it failed (the other throughgate_cases_, _steps_ and _outbox_ gauges are then absent).", nil, nil)
	descOpen = prom.NewDesc("throughgate_cases_open",
		"Open cases by the stage their workflow last saved.", []string{"stage"}, nil)
	descStalled = prom.NewDesc("throughgate_cases_stalled",
		"Open cases their workflow marks stalled (no progress for the policy's stall period).", nil, nil)
	descOverdue = prom.NewDesc("throughgate_steps_overdue",
		"Open steps past their due instant, on open cases that are not paused.", nil, nil)
	descPending = prom.NewDesc("throughgate_outbox_pending_emails",
		"Emails in the outbox waiting to be sent (pending, retrying or claimed by a sender).", nil, nil)
	descOldest = prom.NewDesc("throughgate_outbox_oldest_pending_age_seconds",
		"How long the oldest email waiting to be sent has waited since it was raised; 0 when none waits.", nil, nil)
	descUndeliverable = prom.NewDesc("throughgate_outbox_undeliverable_emails",
		"Emails the sender gave up on (refused for good, or out of retries).", nil, nil)
)

// readModel is a collector that reads the database when scraped, at most
// once per ttl.
type readModel struct {
	read     func(ctx context.Context, now time.Time) (postgres.ReadModelMetrics, error)
	ttl      time.Duration
	registry *Registry
	now      func() time.Time

	mu     sync.Mutex
	readAt time.Time
	last   postgres.ReadModelMetrics
	err    error
}

func (c *readModel) Describe(ch chan<- *prom.Desc) {
	for _, d := range []*prom.Desc{descUp, descOpen, descStalled, descOverdue, descPending, descOldest, descUndeliverable} {
		ch <- d
	}
}

func (c *readModel) Collect(ch chan<- prom.Metric) {
	m, err := c.get()
	if err != nil {
		ch <- prom.MustNewConstMetric(descUp, prom.GaugeValue, 0)
		return
	}
	ch <- prom.MustNewConstMetric(descUp, prom.GaugeValue, 1)
	stages := make([]string, 0, len(m.OpenCases))
	for s := range m.OpenCases {
		stages = append(stages, s)
	}
	sort.Strings(stages)
	for _, s := range stages {
		ch <- prom.MustNewConstMetric(descOpen, prom.GaugeValue, float64(m.OpenCases[s]), s)
	}
	ch <- prom.MustNewConstMetric(descStalled, prom.GaugeValue, float64(m.StalledCases))
	ch <- prom.MustNewConstMetric(descOverdue, prom.GaugeValue, float64(m.OverdueSteps))
	ch <- prom.MustNewConstMetric(descPending, prom.GaugeValue, float64(m.OutboxPending))
	ch <- prom.MustNewConstMetric(descOldest, prom.GaugeValue, m.OutboxOldestPending.Seconds())
	ch <- prom.MustNewConstMetric(descUndeliverable, prom.GaugeValue, float64(m.OutboxUndeliverable))
}

// get returns the last read if it is fresh, or reads again. Concurrent
// scrapes wait for one read rather than each making their own.
func (c *readModel) get() (postgres.ReadModelMetrics, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.readAt.IsZero() && now.Sub(c.readAt) < c.ttl {
		return c.last, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.last, c.err = c.read(ctx, now)
	c.readAt = now
	if c.err != nil {
		c.registry.logger.Warn("metrics: reading the read model's gauges", "err", c.err)
	}
	return c.last, c.err
}
