package outbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/devsmtp"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/internal/postgres/pgtest"
	"github.com/throughgate/throughgate/resettlement"
)

// These tests run the sender against a real PostgreSQL (a private cluster)
// and the real development SMTP server over STARTTLS with AUTH.

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMain(m *testing.M) { pgtest.Main(m) }

// newDB returns a migrated database of its own (package pgtest), with a
// case to hang emails on.
func newDB(t testing.TB) *postgres.DB {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	if _, _, err := db.CreateCase(ctx, postgres.NewCase{ID: "k3m9x2p4qa", Person: postgres.Person{PrisonNumber: "A1234BC", Booking: "1",
		GivenName: "Sam", FamilyName: "Example", DateOfBirth: resettlement.D(1990, 5, 17)}, OpenedBy: "officer-1", Establishment: "PVI",
		Team: "pvi-resettlement", ReceivedOn: resettlement.D(2026, 11, 1)}); err != nil {
		t.Fatal(err)
	}
	return db
}

func startSMTP(t testing.TB, addr string) *devsmtp.Server {
	t.Helper()
	s, err := devsmtp.Start(devsmtp.Options{Addr: addr, Username: "tg", Password: "secret", RequireTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newSender(t testing.TB, db *postgres.DB, smtp *devsmtp.Server, name string) *Sender {
	t.Helper()
	host, port, _ := net.SplitHostPort(smtp.Addr())
	p, _ := strconv.Atoi(port)
	m, err := tgmail.NewSender(tgmail.Config{Host: host, Port: p, TLSMode: "starttls", Auth: "plain", Username: "tg",
		Password: "secret", From: "Throughgate <throughgate@pvi.example.org>", RootCAs: smtp.CertPool(), Timeout: 2 * time.Second}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return &Sender{DB: db, Mail: m, Name: name, From: "throughgate@pvi.example.org", Lease: 2 * time.Second,
		RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond, Logger: quiet}
}

// enqueue writes n reminder rows for distinct steps.
func enqueue(t testing.TB, db *postgres.DB, n int) {
	t.Helper()
	days := 9
	for i := range n {
		_, err := db.EnqueueEmail(context.Background(), postgres.Email{CaseID: "k3m9x2p4qa", AlarmKey: fmt.Sprintf("c0/step-%d/2026-12-01/due", i),
			Recipient: "olu.officer@pvi.example.org", RecipientID: "officer-1", Kind: "due", Template: "alert",
			Data: tgmail.Alert{Kind: "reminder", CaseRef: "k3m9x2p4qa", StepTitle: "Housing: duty to refer", Due: time.Now().Add(-72 * time.Hour),
				DaysOverdue: 3, DaysToRelease: days, Severity: "high", Action: "Refer.", CaseURL: "http://127.0.0.1:8080/cases/k3m9x2p4qa"}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// drain runs SendOnce until the outbox has nothing due, for up to a deadline.
func drain(t testing.TB, s *Sender, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		n, err := s.SendOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && pending(t, s.DB) == 0 {
			return
		}
		if n == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("outbox not drained within %s", within)
}

func pending(t testing.TB, db *postgres.DB) int {
	rows, err := db.CaseEmails(context.Background(), "k3m9x2p4qa")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.State == "pending" || r.State == "sending" {
			n++
		}
	}
	return n
}

func states(t testing.TB, db *postgres.DB) map[string]int {
	rows, err := db.CaseEmails(context.Background(), "k3m9x2p4qa")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, r := range rows {
		m[r.State]++
	}
	return m
}

// perMessageID counts deliveries of each Message-ID.
func perMessageID(s *devsmtp.Server) map[string]int {
	m := map[string]int{}
	for _, msg := range s.Messages() {
		m[msg.MessageID]++
	}
	return m
}

func TestSendsEachRowOnceWithItsMessageID(t *testing.T) {
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	enqueue(t, db, 3)
	drain(t, newSender(t, db, smtp, "a"), 10*time.Second)
	msgs := smtp.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "[Critical] Overdue 3 days: Housing: duty to refer for case k3m9x2p4qa — release in 9 days" &&
		m.Subject != "Overdue 3 days: Housing: duty to refer for case k3m9x2p4qa — release in 9 days" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.MessageID == "" || m.Text == "" || m.HTML == "" || !m.TLS || m.AuthUser != "tg" {
		t.Errorf("message %+v", m)
	}
	for id, n := range perMessageID(smtp) {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if got := states(t, db); got["sent"] != 3 {
		t.Errorf("states %v", got)
	}
	// A second pass finds nothing to send.
	if n, _ := newSender(t, db, smtp, "a").SendOnce(context.Background()); n != 0 {
		t.Errorf("claimed %d sent rows again", n)
	}
}

func TestSMTPDownThenBack(t *testing.T) {
	db := newDB(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	smtp := startSMTP(t, "127.0.0.1:0")
	s := newSender(t, db, smtp, "a")
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	down, err := tgmail.NewSender(tgmail.Config{Host: host, Port: p, TLSMode: "starttls", Auth: "plain", Username: "tg", Password: "secret",
		From: "throughgate@pvi.example.org", RootCAs: smtp.CertPool(), Timeout: time.Second}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Mail = down
	enqueue(t, db, 5)
	for range 3 {
		s.SendOnce(context.Background())
		time.Sleep(250 * time.Millisecond)
	}
	if got := states(t, db); got["pending"] != 5 {
		t.Fatalf("while down: %v, want all 5 pending", got)
	}
	back := startSMTP(t, addr)
	s.Mail = newSender(t, db, back, "a").Mail
	drain(t, s, 10*time.Second)
	if n := len(back.Messages()); n != 5 {
		t.Errorf("%d delivered after the server came back, want 5", n)
	}
	for id, n := range perMessageID(back) {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	rows, _ := db.CaseEmails(context.Background(), "k3m9x2p4qa")
	attempts, _ := db.Attempts(context.Background(), rows[0].ID)
	if len(attempts) < 2 || attempts[0].Outcome != "retry" || attempts[len(attempts)-1].Outcome != "sent" {
		t.Errorf("attempts %+v", attempts)
	}
}

func TestTemporaryThenSuccess(t *testing.T) {
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	smtp.FailNext(2, 451, "try again later")
	enqueue(t, db, 1)
	drain(t, newSender(t, db, smtp, "a"), 10*time.Second)
	if got := perMessageID(smtp); len(got) != 1 {
		t.Fatalf("deliveries %v", got)
	}
	rows, _ := db.CaseEmails(context.Background(), "k3m9x2p4qa")
	if rows[0].State != "sent" || rows[0].Attempts != 3 {
		t.Errorf("state %s after %d attempts, want sent after 3", rows[0].State, rows[0].Attempts)
	}
}

// TestRelayBackBringsBackedOffEmailsForward: emails that failed while the
// relay was unreachable wait out a backoff (here an hour); the first email
// the relay takes once it is back makes them due, and they go at once.
func TestRelayBackBringsBackedOffEmailsForward(t *testing.T) {
	db := newDB(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	smtp := startSMTP(t, "127.0.0.1:0")
	s := newSender(t, db, smtp, "a")
	s.RetryBase, s.RetryMax = time.Hour, time.Hour
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	down, err := tgmail.NewSender(tgmail.Config{Host: host, Port: p, TLSMode: "starttls", Auth: "plain", Username: "tg", Password: "secret",
		From: "throughgate@pvi.example.org", RootCAs: smtp.CertPool(), Timeout: time.Second}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Mail = down
	enqueue(t, db, 5)
	if n, err := s.SendOnce(context.Background()); n != 5 || err != nil {
		t.Fatalf("claimed %d (%v), want 5", n, err)
	}
	if n, _ := s.SendOnce(context.Background()); n != 0 || pending(t, db) != 5 {
		t.Fatalf("while down: claimed %d again, %d pending; want 0 and 5 backed off", n, pending(t, db))
	}

	back := startSMTP(t, addr)
	s.Mail = newSender(t, db, back, "a").Mail
	enqueue(t, db, 6) // the five again (already there) and a new one, due now
	drain(t, s, 10*time.Second)
	if n := len(back.Messages()); n != 6 {
		t.Errorf("%d delivered after the relay came back, want 6", n)
	}
	for id, n := range perMessageID(back) {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// TestRelayBackIsNoticedWithNothingDue: when every email is backed off, a
// sender that found the relay down probes it, and the probe it answers
// brings them forward — no new email needed to find the relay back.
func TestRelayBackIsNoticedWithNothingDue(t *testing.T) {
	db := newDB(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	smtp := startSMTP(t, "127.0.0.1:0")
	s := newSender(t, db, smtp, "a")
	s.RetryBase, s.RetryMax, s.Probe = time.Hour, time.Hour, 100*time.Millisecond
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	down, err := tgmail.NewSender(tgmail.Config{Host: host, Port: p, TLSMode: "starttls", Auth: "plain", Username: "tg", Password: "secret",
		From: "throughgate@pvi.example.org", RootCAs: smtp.CertPool(), Timeout: time.Second}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Mail = down
	enqueue(t, db, 3)
	if n, _ := s.SendOnce(context.Background()); n != 3 {
		t.Fatalf("claimed %d, want 3", n)
	}
	time.Sleep(150 * time.Millisecond)
	if n, _ := s.SendOnce(context.Background()); n != 0 || pending(t, db) != 3 { // probes a relay still down
		t.Fatalf("while down: claimed %d, %d pending; want 0 and 3 backed off", n, pending(t, db))
	}

	back := startSMTP(t, addr)
	s.Mail = newSender(t, db, back, "a").Mail
	drain(t, s, 5*time.Second)
	if n := len(back.Messages()); n != 3 {
		t.Errorf("%d delivered after the relay came back, want 3", n)
	}
}

// TestRecipientsTemporaryFailureKeepsItsBackoff: a 4xx for one recipient
// (a greylisting or full mailbox) is not the relay failing, so the emails
// the relay takes meanwhile do not bring that one forward.
func TestRecipientsTemporaryFailureKeepsItsBackoff(t *testing.T) {
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	s := newSender(t, db, smtp, "a")
	s.RetryBase, s.RetryMax = time.Hour, time.Hour
	smtp.FailNext(1, 451, "mailbox busy, try later")
	enqueue(t, db, 2)
	if n, err := s.SendOnce(context.Background()); n != 2 || err != nil {
		t.Fatalf("claimed %d (%v), want 2", n, err)
	}
	enqueue(t, db, 3)
	if n, err := s.SendOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("claimed %d (%v), want the new one only", n, err)
	}
	if n, _ := s.SendOnce(context.Background()); n != 0 {
		t.Errorf("the email a recipient deferred was claimed again before its backoff")
	}
	if got := states(t, db); got["sent"] != 2 || got["pending"] != 1 {
		t.Errorf("states %v, want 2 sent and 1 pending", got)
	}
}

func TestPermanentFailureIsUndeliverableWithoutRetry(t *testing.T) {
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	smtp.FailNext(1, 550, "no such mailbox")
	enqueue(t, db, 1)
	s := newSender(t, db, smtp, "a")
	drain(t, s, 5*time.Second)
	time.Sleep(300 * time.Millisecond) // longer than any retry delay
	if n, _ := s.SendOnce(context.Background()); n != 0 {
		t.Errorf("an undeliverable row was claimed again")
	}
	rows, _ := db.CaseEmails(context.Background(), "k3m9x2p4qa")
	if rows[0].State != "undeliverable" || rows[0].Attempts != 1 {
		t.Errorf("state %s after %d attempts", rows[0].State, rows[0].Attempts)
	}
	u, err := db.UndeliverableEmails(context.Background(), []string{"pvi-resettlement"})
	if err != nil || len(u) != 1 || u[0].Error == "" {
		t.Errorf("managers' view: %+v %v", u, err)
	}
}

// TestCrashBetweenSendAndRecord: a sender claims rows and sends them, then
// dies before recording (here: its process stops after the two calls
// SendOnce makes first). When the lease runs out another sender takes the
// rows over and sends them again — once more, with the same Message-IDs.
func TestCrashBetweenSendAndRecord(t *testing.T) {
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	enqueue(t, db, 4)
	crashed := newSender(t, db, smtp, "crashed")
	rows, err := db.ClaimEmails(context.Background(), postgres.Claim{By: "crashed", N: 10, Lease: time.Second, MessageIDDomain: crashed.domain()})
	if err != nil || len(rows) != 4 {
		t.Fatalf("claim: %v %d", err, len(rows))
	}
	var msgs []tgmail.Message
	for _, r := range rows {
		m, err := crashed.render(r)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	for _, err := range crashed.Mail.Send(context.Background(), msgs...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Within the lease nobody else may take them.
	survivor := newSender(t, db, smtp, "survivor")
	if n, _ := survivor.SendOnce(context.Background()); n != 0 {
		t.Fatalf("took over %d rows inside the lease", n)
	}
	time.Sleep(1100 * time.Millisecond)
	drain(t, survivor, 10*time.Second)
	for id, n := range perMessageID(smtp) {
		if n != 2 {
			t.Errorf("%s delivered %d times, want exactly one duplicate", id, n)
		}
	}
	if len(perMessageID(smtp)) != 4 {
		t.Errorf("%d distinct Message-IDs, want 4", len(perMessageID(smtp)))
	}
}

func TestTwoSendersNeverSendARowTwice(t *testing.T) {
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	enqueue(t, db, 200)
	var wg sync.WaitGroup
	for _, name := range []string{"one", "two"} {
		s := newSender(t, db, smtp, name)
		s.Batch = 10
		wg.Go(func() { drain(t, s, 30*time.Second) })
	}
	wg.Wait()
	got := perMessageID(smtp)
	if len(got) != 200 {
		t.Errorf("%d distinct messages, want 200", len(got))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// waitUntil polls cond every 10 ms until it holds or within passes.
func waitUntil(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runSender runs s until the test ends.
func runSender(t testing.TB, s *Sender) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestDeadSendersRowsGoOutWithinALease: a sender claims six rows, sends
// three and dies before recording anything (its lease renewals stop and it
// never comes back). A live sender, polling all along, takes the rows over
// once the lease runs out and sends all six: the three the dead one sent go
// out once more with the same Message-IDs, the others once. The lease here
// is one second (30 s in production); the measured recovery, from the
// death to the last row recorded as sent, is about a lease (1.03–1.06 s
// measured) and must stay under two.
func TestDeadSendersRowsGoOutWithinALease(t *testing.T) {
	const leaseFor = time.Second
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	enqueue(t, db, 6)

	dying := newSender(t, db, smtp, "dying")
	dying.Lease = leaseFor
	died := make(chan time.Time, 1)
	revive := make(chan struct{})
	var reviveOnce sync.Once
	t.Cleanup(func() { reviveOnce.Do(func() { close(revive) }) })
	dying.crashBefore = func(i int, l *lease) {
		if i == 3 {
			l.stop() // renewals end with the process
			died <- time.Now()
			<-revive
		}
	}
	dyingDone := make(chan struct{})
	go func() { defer close(dyingDone); dying.SendOnce(context.Background()) }()
	diedAt := <-died
	if n := len(smtp.Messages()); n != 3 {
		t.Fatalf("%d messages out before the death, want 3", n)
	}

	survivor := newSender(t, db, smtp, "survivor")
	survivor.Lease, survivor.Poll = leaseFor, 20*time.Millisecond
	// Another From domain: the Message-IDs were fixed at the first claim.
	survivor.From = "throughgate@elsewhere.example.org"
	runSender(t, survivor)
	waitUntil(t, "all six rows sent", 10*time.Second, func() bool { return states(t, db)["sent"] == 6 })
	recovered := time.Since(diedAt)
	t.Logf("the dead sender's rows were all sent %s after it died (lease %s, poll %s)",
		recovered.Round(time.Millisecond), leaseFor, survivor.Poll)
	if recovered > 2*leaseFor {
		t.Errorf("recovery took %s, want under %s", recovered, 2*leaseFor)
	}

	// The dead sender wakes (as a stalled process might) and records what
	// it did: its records change nothing, and it sends nothing more.
	reviveOnce.Do(func() { close(revive) })
	<-dyingDone
	got := perMessageID(smtp)
	twice := 0
	for id, n := range got {
		if !strings.HasSuffix(id, "@pvi.example.org>") {
			t.Errorf("Message-ID %s: not the one fixed at the first claim", id)
		}
		switch n {
		case 1:
		case 2:
			twice++
		default:
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if len(got) != 6 || twice != 3 {
		t.Errorf("%d Message-IDs, %d of them twice; want 6 and 3 (one duplicate for each email out at the death)", len(got), twice)
	}
	rows, _ := db.CaseEmails(context.Background(), "k3m9x2p4qa")
	for _, r := range rows {
		if r.State != "sent" || r.Attempts != 2 {
			t.Errorf("row %d: %s after %d claims, want sent after 2", r.ID, r.State, r.Attempts)
		}
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox_attempts where sender = $1`, dying.ID()); n != 3 {
		t.Errorf("the dead sender recorded %d attempts, want the 3 it made", n)
	}
	if n := pgtest.Int(t, db, `select count(*) from outbox where claimed_by is not null or claimed_until is not null`); n != 0 {
		t.Errorf("%d rows still claimed", n)
	}
}

// TestSharedRateAcrossSenders: two senders, each allowed the whole rate,
// together keep to it, because both take their slots from PostgreSQL (the
// exact spacing of slots is TestSendSlotsSharedAndSpaced's, in package
// postgres). The
// rate here is 5 a second (SMTP_RATE is per minute; the window is a
// setting for this test). The lease is shorter than a batch takes, so the
// senders must renew their leases or steal each other's rows.
func TestSharedRateAcrossSenders(t *testing.T) {
	const (
		rate   = 5
		window = time.Second
		emails = 20
	)
	db := newDB(t)
	smtp := startSMTP(t, "127.0.0.1:0")
	enqueue(t, db, emails)
	start := time.Now()
	for _, name := range []string{"one", "two"} {
		s := newSender(t, db, smtp, name)
		s.Rate, s.RateWindow, s.Lease, s.Poll = rate, window, 600*time.Millisecond, 20*time.Millisecond
		runSender(t, s)
	}
	waitUntil(t, "all sent", 30*time.Second, func() bool { return states(t, db)["sent"] == emails })
	took := time.Since(start)

	var at []time.Time
	for _, m := range smtp.Messages() {
		at = append(at, m.Received)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < window; j++ {
			n++
		}
		most = max(most, n)
	}
	span := at[len(at)-1].Sub(at[0])
	t.Logf("%d emails by two senders in %s (first to last delivery %s); at most %d in any %s window, limit %d",
		len(at), took.Round(time.Millisecond), span.Round(time.Millisecond), most, window, rate)
	// Slots are window/rate apart on PostgreSQL's clock, so at most rate
	// of them fall in any window; a delivery lags its slot by a few
	// milliseconds (more for the first of a batch, which dials), so
	// arrivals can show one more at a window's edge — never two.
	if most > rate+1 {
		t.Errorf("%d emails in one %s window, limit %d", most, window, rate)
	}
	// Two separate limits would let them through in half the time.
	if want := time.Duration(emails-1) * window / rate; span < want-window/rate/2 {
		t.Errorf("first to last delivery %s, want at least %s at %d per %s", span, want, rate, window)
	}
	for id, n := range perMessageID(smtp) {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if n := pgtest.Int(t, db, `select count(distinct sender) from outbox_attempts`); n != 2 {
		t.Errorf("%d senders sent, want both", n)
	}
}

// BenchmarkSend measures sending through the outbox to the local SMTP
// server: claim, render, send over STARTTLS with AUTH, record.
func BenchmarkSend(b *testing.B) {
	for _, batch := range []int{1, 50} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db := newDB(b)
			smtp := startSMTP(b, "127.0.0.1:0")
			s := newSender(b, db, smtp, "bench")
			s.Batch = batch
			enqueue(b, db, b.N)
			b.ResetTimer()
			start := time.Now()
			drain(b, s, 10*time.Minute)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			if n := len(smtp.Messages()); n != b.N {
				b.Fatalf("%d delivered, want %d", n, b.N)
			}
		})
	}
}

// Which temporary failures are the relay's (and bring the backed-off
// emails forward once it takes mail again) and which one recipient's.
func TestRelayTrouble(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused, no reply", &tgmail.SendError{Err: errors.New("connect: connection refused")}, true},
		{"421 closing", &tgmail.SendError{Code: 421, Err: errors.New("421 service not available")}, true},
		{"temporary sign-in failure", &tgmail.SendError{Code: 454, Err: &tgmail.AuthError{Code: 454, Temporary: true}}, true},
		{"sign-in refused for good", &tgmail.SendError{Code: 535, Permanent: true, Err: &tgmail.AuthError{Code: 535}}, false},
		{"mailbox busy", &tgmail.SendError{Code: 451, Err: errors.New("451 try later")}, false},
		{"mailbox full", &tgmail.SendError{Code: 452, Err: errors.New("452 full")}, false},
		{"no such mailbox", &tgmail.SendError{Code: 550, Permanent: true, Err: errors.New("550 no such user")}, false},
		{"lease lost", &tgmail.SendError{Err: errLeaseLost}, false},
	} {
		if got := relayTrouble(c.err); got != c.want {
			t.Errorf("%s: relayTrouble = %v, want %v", c.name, got, c.want)
		}
	}
}
