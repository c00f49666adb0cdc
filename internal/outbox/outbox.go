// Package outbox delivers the emails the workflows raise. Raising an alarm
// writes a row to the outbox table (package activities); a Sender here
// claims due rows, renders them, sends them over SMTP and records every
// attempt.
//
// The guarantees, and where they come from:
//   - never lost: a row stays until it is sent or judged undeliverable;
//     temporary failures retry with exponential backoff and jitter;
//   - never sent twice by two senders: rows are claimed with FOR UPDATE SKIP
//     LOCKED and a lease;
//   - a crash between sending and recording sends at most one duplicate,
//     and it carries the same Message-ID (one per row), so mail clients and
//     audits can recognise it.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"time"

	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Sender drains the outbox.
type Sender struct {
	DB   *postgres.DB
	Mail *tgmail.Sender
	// Name identifies this sender in the record of attempts.
	Name string
	// From is the From address; its domain names the Message-IDs.
	From string
	// Batch is how many rows one claim takes and one SMTP connection sends.
	Batch int
	// Lease is how long a claimed row is this sender's before another may
	// take it over (it must cover a batch's sending).
	Lease time.Duration
	// Poll is how long to wait when the outbox is empty.
	Poll time.Duration
	// RetryBase is the first retry's delay; each later one doubles, up to
	// RetryMax, with ±20% jitter so a recovering server is not hit by a wave.
	RetryBase, RetryMax time.Duration
	// GiveUpAfter turns a row that has failed temporarily for this long
	// into an undeliverable one.
	GiveUpAfter time.Duration
	Logger      *slog.Logger
}

func (s *Sender) defaults() {
	if s.Batch <= 0 {
		s.Batch = 50
	}
	if s.Lease <= 0 {
		s.Lease = 5 * time.Minute
	}
	if s.Poll <= 0 {
		s.Poll = time.Second
	}
	if s.RetryBase <= 0 {
		s.RetryBase = 30 * time.Second
	}
	if s.RetryMax <= 0 {
		s.RetryMax = 30 * time.Minute
	}
	if s.GiveUpAfter <= 0 {
		s.GiveUpAfter = 48 * time.Hour
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Name == "" {
		s.Name = "sender"
	}
}

// Run sends until ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	s.defaults()
	for {
		n, err := s.SendOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.Logger.Warn("outbox: claiming emails failed; will retry", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.Poll):
		}
	}
}

// SendOnce claims one batch, sends it over one connection and records the
// results. It returns how many rows it claimed.
func (s *Sender) SendOnce(ctx context.Context) (int, error) {
	s.defaults()
	rows, err := s.DB.ClaimEmails(ctx, s.Batch, s.Lease)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	msgs := make([]tgmail.Message, 0, len(rows))
	sendable := make([]postgres.Claimed, 0, len(rows))
	for _, r := range rows {
		m, err := s.render(r)
		if err != nil {
			// A row that cannot be rendered will never send: say so at once.
			s.record(ctx, postgres.Outcome{ID: r.ID, Sender: s.Name, MessageID: s.messageID(r), Err: err, Permanent: true})
			continue
		}
		msgs = append(msgs, m)
		sendable = append(sendable, r)
	}
	if len(msgs) == 0 {
		return len(rows), nil
	}
	start := time.Now()
	errs := s.Mail.Send(ctx, msgs...)
	took := time.Since(start) / time.Duration(len(msgs))
	for i, r := range sendable {
		o := postgres.Outcome{ID: r.ID, Sender: s.Name, MessageID: msgs[i].MessageID, Err: errs[i], Took: took}
		if o.Err != nil {
			o.Permanent = tgmail.IsPermanent(o.Err) || time.Since(r.CreatedAt) > s.GiveUpAfter
			o.RetryIn = s.backoff(r.Attempts)
			level := slog.LevelWarn
			if o.Permanent {
				level = slog.LevelError
			}
			s.Logger.Log(ctx, level, "outbox: email not sent", "outbox_id", r.ID, "case", r.CaseID, "kind", r.Kind,
				"attempt", r.Attempts, "permanent", o.Permanent, "retry_in", o.RetryIn.Round(time.Second), "err", o.Err)
		}
		s.record(ctx, o)
	}
	return len(rows), nil
}

// record writes an outcome, even if ctx is ending: the email has gone (or
// not) whatever happens to this process now.
func (s *Sender) record(ctx context.Context, o postgres.Outcome) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.DB.RecordOutcome(rctx, o); err != nil {
		// The row stays 'sending' until its lease ends, then is sent
		// again under the same Message-ID.
		s.Logger.Error("outbox: could not record an attempt; the email may be sent again", "outbox_id", o.ID, "err", err)
	}
}

// backoff is the delay before attempt n+1: RetryBase·2^(n-1), capped, ±20%.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.RetryBase
	for i := 1; i < attempts && d < s.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.RetryMax)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// messageID is the row's one Message-ID: a re-send after a crash carries the
// same one, so a duplicate is recognisable downstream.
func (s *Sender) messageID(r postgres.Claimed) string {
	domain := "throughgate.invalid"
	if a, err := mail.ParseAddress(s.From); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	return fmt.Sprintf("<outbox-%d@%s>", r.ID, domain)
}

// errUnknownTemplate marks a row no template can render.
var errUnknownTemplate = errors.New("unknown email template")

// render turns a row into a message.
func (s *Sender) render(r postgres.Claimed) (tgmail.Message, error) {
	m := tgmail.Message{To: []string{r.Recipient}, MessageID: s.messageID(r),
		Headers: map[string]string{"X-Throughgate-Kind": r.Kind}}
	var err error
	switch r.Template {
	case "alert":
		var a tgmail.Alert
		if err = json.Unmarshal(r.Data, &a); err == nil {
			m.Subject, m.Text, m.HTML, err = tgmail.RenderAlert(a)
		}
	case "digest":
		var d tgmail.Digest
		if err = json.Unmarshal(r.Data, &d); err == nil {
			m.Subject, m.Text, m.HTML, err = tgmail.RenderDigest(d.RecipientName, d.Items, d.Day)
		}
	default:
		err = fmt.Errorf("%w %q", errUnknownTemplate, r.Template)
	}
	return m, err
}
