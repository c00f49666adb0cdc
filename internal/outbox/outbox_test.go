package outbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/devsmtp"
	tgmail "github.com/throughgate/throughgate/internal/mail"
	"github.com/throughgate/throughgate/internal/pgcluster"
	"github.com/throughgate/throughgate/internal/postgres"
	"github.com/throughgate/throughgate/resettlement"
)

// These tests run the sender against a real PostgreSQL (a private cluster)
// and the real development SMTP server over STARTTLS with AUTH.

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var (
	clusterOnce sync.Once
	cluster     *pgcluster.Cluster
	clusterErr  error
	dbSeq       int
	dbMu        sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		cluster.Stop(context.Background())
	}
	os.Exit(code)
}

// newDB returns a migrated database of its own on the package's cluster.
func newDB(t testing.TB) *postgres.DB {
	t.Helper()
	clusterOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outbox-pg-")
		if err != nil {
			clusterErr = err
			return
		}
		os.Chmod(dir, 0o755)
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cluster, clusterErr = pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(dir, "pg"), Port: port})
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	dbMu.Lock()
	dbSeq++
	name := fmt.Sprintf("outbox_%d", dbSeq)
	dbMu.Unlock()
	ctx := context.Background()
	if err := cluster.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, cluster.URL(name))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	// A case to hang emails on.
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
	rows, err := db.ClaimEmails(context.Background(), 10, time.Second)
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
