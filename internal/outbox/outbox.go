// Package outbox delivers the emails the workflows raise. Raising an alarm
// writes a row to the outbox table (package activities); a Sender here
// claims due rows, renders them, sends them over SMTP and records every
// attempt.
//
// The guarantees, and where they come from:
//   - never lost: a row stays until it is sent or judged undeliverable;
//     temporary failures retry with exponential backoff and jitter, and
//     once the relay takes mail again after an outage the rows backed off
//     during it are due at once (noteRelay);
//   - never sent twice by two senders: rows are claimed with FOR UPDATE SKIP
//     LOCKED and a short lease (30 s) that the sender renews while it works
//     on them, and it puts no message on the wire without at least half a
//     lease in hand;
//   - the rows of a sender that died are claimable again when its lease
//     runs out, so another sender sends them within about a lease and a
//     poll of the death;
//   - a crash between sending and recording sends at most one duplicate,
//     and it carries the same Message-ID (one per row, fixed at its first
//     claim), so mail clients and audits can recognise it; a late record
//     from a sender that lost its lease changes nothing;
//   - SMTP_RATE is one limit for every sender on the database: each takes a
//     slot from PostgreSQL (postgres.TakeSendSlot) before each message.
package outbox

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"strings"
	"sync"
	"time"

	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
)

// Sender drains the outbox. Several may run at once, in one process or in
// many, against the same database. One Sender's Run or SendOnce calls must
// not overlap.
type Sender struct {
	DB   *postgres.DB
	Mail *tgmail.Sender
	// Name identifies this sender in the record of attempts (a random
	// suffix is added, so that a restarted process is another sender).
	Name string
	// From is the From address; its domain names the Message-IDs.
	From string
	// Batch is how many rows one claim takes and one SMTP connection sends
	// (at most what Rate lets go in a Lease).
	Batch int
	// Lease is how long a claimed row is this sender's unless it renews
	// it; it renews every third of a lease while it works on the rows. If
	// it dies, its rows are claimable again at most Lease after its last
	// renewal. Default 30 s.
	Lease time.Duration
	// Poll is how long to wait when the outbox is empty.
	Poll time.Duration
	// Rate is the most messages sent per RateWindow by every sender on
	// the database together (SMTP_RATE, per minute); 0 means no limit.
	// Messages leave at least RateWindow/Rate apart.
	Rate       int
	RateWindow time.Duration // default one minute
	// RetryBase is the first retry's delay; each later one doubles, up to
	// RetryMax, with ±20% jitter so a recovering server is not hit by a wave.
	RetryBase, RetryMax time.Duration
	// GiveUpAfter turns a row that has failed temporarily for this long
	// into an undeliverable one.
	GiveUpAfter time.Duration
	// Probe is how often a sender that found the relay unreachable, and
	// has nothing due, checks whether it is back (a connection and AUTH,
	// no message), so the emails backed off meanwhile need not wait for
	// one of them to come due first. Default 5 s.
	Probe  time.Duration
	Logger *slog.Logger

	id string // Name and a random suffix: this run's name in claims

	// relayDown is set when this sender's last batch found the relay
	// unreachable (relayTrouble) and nothing of it went; the next batch the
	// relay takes, or the first probe it answers, brings every backed-off
	// email forward (RetryNow).
	relayDown bool
	probed    time.Time // the last probe of a relay found down

	// crashBefore, in tests, runs before message i of a batch is put on
	// the wire, with the batch's lease; it may stop the renewals and
	// block, as a process that died there would.
	crashBefore func(i int, l *lease)
}

// rateKey names the row of postgres' outbox_rate the senders share.
const rateKey = "smtp"

// errLeaseLost stops a message going out when its row may no longer be
// this sender's: another sender may have taken it over.
var errLeaseLost = errors.New("the lease on the outbox row ran out before sending (lost touch with the database?); another sender will send it")

func (s *Sender) defaults() {
	if s.Batch <= 0 {
		s.Batch = 50
	}
	if s.Lease <= 0 {
		s.Lease = 30 * time.Second
	}
	if s.RateWindow <= 0 {
		s.RateWindow = time.Minute
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
	if s.Probe <= 0 {
		s.Probe = 5 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Name == "" {
		s.Name = "sender"
	}
	if s.id == "" {
		b := make([]byte, 4)
		_, _ = crand.Read(b)
		s.id = s.Name + "#" + hex.EncodeToString(b)
	}
}

// ID is the name this sender's claims and attempts carry.
func (s *Sender) ID() string {
	s.defaults()
	return s.id
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
	n := s.Batch
	if s.Rate > 0 {
		// No more than the rate lets go in a lease: a batch holds its rows
		// no longer than it must, and a slow rate does not keep one SMTP
		// connection idling between messages for many minutes.
		n = min(n, max(1, int(int64(s.Rate)*int64(s.Lease)/int64(s.RateWindow))))
	}
	claimedAt := time.Now()
	rows, err := s.DB.ClaimEmails(ctx, postgres.Claim{By: s.id, N: n, Lease: s.Lease, MessageIDDomain: s.domain()})
	if err != nil || len(rows) == 0 {
		if err == nil {
			s.probeRelay(ctx)
		}
		return 0, err
	}
	msgs := make([]tgmail.Message, 0, len(rows))
	sendable := make([]postgres.Claimed, 0, len(rows))
	for _, r := range rows {
		m, err := s.render(r)
		if err != nil {
			// A row that cannot be rendered will never send: say so at once.
			s.record(ctx, postgres.Outcome{ID: r.ID, Attempt: r.Attempts, Sender: s.id, MessageID: r.MessageID, Err: err, Permanent: true})
			continue
		}
		msgs = append(msgs, m)
		sendable = append(sendable, r)
	}
	if len(msgs) == 0 {
		return len(rows), nil
	}
	l := s.hold(sendable, claimedAt)
	defer l.stop()
	gate := func(ctx context.Context, i int) error {
		if s.crashBefore != nil {
			s.crashBefore(i, l)
		}
		if !l.holds(sendable[i].ID) {
			return errLeaseLost
		}
		if s.Rate > 0 {
			_, wait, err := s.DB.TakeSendSlot(ctx, rateKey, s.RateWindow/time.Duration(s.Rate))
			if err != nil {
				return fmt.Errorf("taking a slot of the shared SMTP_RATE: %w", err)
			}
			if err := sleep(ctx, wait); err != nil {
				return err
			}
			if !l.holds(sendable[i].ID) {
				return errLeaseLost
			}
		}
		return nil
	}
	start := time.Now()
	errs := s.Mail.SendGated(ctx, gate, msgs...)
	took := time.Since(start) / time.Duration(len(msgs))
	s.noteRelay(ctx, errs)
	for i, r := range sendable {
		o := postgres.Outcome{ID: r.ID, Attempt: r.Attempts, Sender: s.id, MessageID: msgs[i].MessageID, Err: errs[i], Took: took}
		if errors.Is(o.Err, errLeaseLost) {
			// Never on the wire; the row is, or soon will be, another
			// sender's to send.
			s.Logger.Warn("outbox: email left to another sender", "outbox_id", r.ID, "err", o.Err)
			continue
		}
		if o.Err != nil {
			o.Permanent = tgmail.IsPermanent(o.Err) || time.Since(r.CreatedAt) > s.GiveUpAfter
			o.RetryIn = s.backoff(r.Attempts)
			if ctx.Err() != nil && !o.Permanent {
				// Shutting down: let another sender have it at once.
				o.RetryIn = 0
			}
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

// noteRelay follows the relay's health from a batch's results. The
// backoff spares a relay that is struggling, but after a long outage it
// leaves the emails that failed during it waiting up to RetryMax more once
// the relay is back (the fault drill: nine minutes after a ten-minute
// outage). So when a batch gets through after one that found the relay
// unreachable, or a probe does (probeRelay), every email waiting out a
// backoff is made due now. Only
// relay-wide failures count: a recipient's own 4xx (a greylisting mailbox,
// a full one) keeps its backoff, or it would be retried with every batch.
func (s *Sender) noteRelay(ctx context.Context, errs []error) {
	sent, down := 0, false
	for _, err := range errs {
		switch {
		case err == nil:
			sent++
		case relayTrouble(err):
			down = true
		}
	}
	if sent == 0 {
		s.relayDown = s.relayDown || down
		return
	}
	if s.relayDown {
		s.relayBack(ctx)
	}
}

// probeRelay checks, at most every Probe, whether a relay found down
// takes connections again.
func (s *Sender) probeRelay(ctx context.Context) {
	if !s.relayDown || time.Since(s.probed) < s.Probe {
		return
	}
	s.probed = time.Now()
	if err := s.Mail.Check(ctx); err != nil {
		return
	}
	s.relayBack(ctx)
}

// relayBack makes every email backed off after a temporary failure due now.
func (s *Sender) relayBack(ctx context.Context) {
	s.relayDown = false
	n, err := s.DB.RetryNow(context.WithoutCancel(ctx))
	if err != nil {
		// The backoff still sends them, only later.
		s.Logger.Warn("outbox: the relay is back, but bringing the emails that failed meanwhile forward failed", "err", err)
		return
	}
	if n > 0 {
		s.Logger.Info("outbox: the relay is back; emails that failed meanwhile are due now", "emails", n)
	}
}

// relayTrouble says whether a temporary failure was the relay's rather
// than one recipient's: no reply at all (refused, timed out, dropped), 421
// (the service is closing), or a temporary failure to sign in or to get
// an OAuth token.
func relayTrouble(err error) bool {
	if tgmail.IsPermanent(err) || errors.Is(err, errLeaseLost) {
		return false
	}
	// Sign-in failures arrive wrapped in a SendError with the AUTH reply's
	// code, so they are looked for first.
	var ae *tgmail.AuthError
	if errors.As(err, &ae) {
		return ae.Temporary
	}
	var te *tgmail.TokenError
	if errors.As(err, &te) {
		return te.Temporary
	}
	var se *tgmail.SendError
	if errors.As(err, &se) {
		return se.Code == 0 || se.Code == 421
	}
	return false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// lease is a batch's hold on its rows: renewed every third of a lease
// until stop, and trusted only while at least half a lease is left, so a
// message put on the wire has that long to go before another sender could
// take its row over.
type lease struct {
	s       *Sender
	mu      sync.Mutex
	ids     []int64
	lost    map[int64]bool
	until   time.Time // the lease ends no earlier than this, on our clock
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// hold starts renewing the lease on rows claimed at claimedAt.
func (s *Sender) hold(rows []postgres.Claimed, claimedAt time.Time) *lease {
	l := &lease{s: s, lost: map[int64]bool{}, until: claimedAt.Add(s.Lease), done: make(chan struct{}), stopped: make(chan struct{})}
	for _, r := range rows {
		l.ids = append(l.ids, r.ID)
	}
	go l.renew()
	return l
}

func (l *lease) renew() {
	defer close(l.stopped)
	t := time.NewTicker(l.s.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
		}
		l.mu.Lock()
		var ids []int64
		for _, id := range l.ids {
			if !l.lost[id] {
				ids = append(ids, id)
			}
		}
		l.mu.Unlock()
		asked := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), l.s.Lease/3)
		renewed, err := l.s.DB.RenewClaims(ctx, l.s.id, ids, l.s.Lease)
		cancel()
		if err != nil {
			l.s.Logger.Warn("outbox: renewing the lease on a batch failed; will retry", "err", err)
			continue
		}
		kept := make(map[int64]bool, len(renewed))
		for _, id := range renewed {
			kept[id] = true
		}
		l.mu.Lock()
		for _, id := range ids {
			if !kept[id] {
				l.lost[id] = true
			}
		}
		l.until = asked.Add(l.s.Lease)
		l.mu.Unlock()
	}
}

// holds says whether the row may be put on the wire now.
func (l *lease) holds(id int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.lost[id] && time.Until(l.until) >= l.s.Lease/2
}

// stop ends the renewals (a sender that dies stops them too).
func (l *lease) stop() {
	l.once.Do(func() { close(l.done) })
	<-l.stopped
}

// record writes an outcome, even if ctx is ending: the email has gone (or
// not) whatever happens to this process now.
func (s *Sender) record(ctx context.Context, o postgres.Outcome) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.DB.RecordOutcome(rctx, o); err != nil {
		// The row stays 'sending' until its lease ends, then is sent
		// again (if it was sent) under the same Message-ID.
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

// domain is the right-hand side of the Message-IDs rows are given at their
// first claim, <outbox-ID@domain>: the From address's domain. The id is
// stored with the row, so a re-send after a crash, by whichever sender,
// carries the same one even if the setting changed in between.
func (s *Sender) domain() string {
	if a, err := mail.ParseAddress(s.From); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			return a.Address[i+1:]
		}
	}
	return "throughgate.invalid"
}

// errUnknownTemplate marks a row no template can render.
var errUnknownTemplate = errors.New("unknown email template")

// render turns a row into a message.
func (s *Sender) render(r postgres.Claimed) (tgmail.Message, error) {
	m := tgmail.Message{To: []string{r.Recipient}, MessageID: r.MessageID,
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
			m.Subject, m.Text, m.HTML, err = tgmail.RenderDigestOf(d)
		}
	case "account": // about the person's own account (casework's sign-in and staff changes)
		var a tgmail.Account
		if err = json.Unmarshal(r.Data, &a); err == nil {
			m.Subject, m.Text, m.HTML, err = tgmail.RenderAccount(a)
		}
	case "assigned": // a step or case given to someone (casework, issue 13)
		var a tgmail.Assigned
		if err = json.Unmarshal(r.Data, &a); err == nil {
			m.Subject, m.Text, m.HTML, err = tgmail.RenderAssigned(a)
		}
	case "partner-link": // a partner agency's one-time link (casework, issue 13)
		var p tgmail.PartnerLink
		if err = json.Unmarshal(r.Data, &p); err == nil {
			m.Subject, m.Text, m.HTML, err = tgmail.RenderPartnerLink(p)
		}
	case "partner-answered": // a partner answered through its link
		var p tgmail.PartnerAnswered
		if err = json.Unmarshal(r.Data, &p); err == nil {
			m.Subject, m.Text, m.HTML, err = tgmail.RenderPartnerAnswered(p)
		}
	default:
		err = fmt.Errorf("%w %q", errUnknownTemplate, r.Template)
	}
	return m, err
}
