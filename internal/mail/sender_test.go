package mail_test

// Sender behaviour against the real development SMTP server over loopback.
// The basic send/auth/failure matrix lives in internal/devsmtp's tests; this
// file covers what is specific to the sender: batches with bad messages,
// rate limiting, cancellation, reconnecting, and rendered alerts end to end.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/internal/mail"
)

func startDev(t testing.TB, opts devsmtp.Options) *devsmtp.Server {
	t.Helper()
	opts.Addr = "127.0.0.1:0"
	srv, err := devsmtp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func configFor(t testing.TB, addr string, srv *devsmtp.Server) mail.Config {
	t.Helper()
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	return mail.Config{
		Host: host, Port: port,
		Auth: "plain", Username: "throughgate", Password: "dev",
		From: "Throughgate <noreply@throughgate.test>", ReplyTo: "resettlement@prison.test",
		RootCAs: srv.CertPool(), Timeout: 5 * time.Second,
	}
}

func mustSender(t testing.TB, cfg mail.Config) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msg(n int) mail.Message {
	return mail.Message{
		To:        []string{fmt.Sprintf("worker%d@prison.test", n)},
		Subject:   fmt.Sprintf("Due today: step %d for case 1042 — release in 9 days", n),
		Text:      "Please do the step.",
		HTML:      "<p>Please do the step.</p>",
		MessageID: fmt.Sprintf("<outbox-%d@throughgate>", n),
	}
}

func TestBadMessageDoesNotStopTheBatch(t *testing.T) {
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev"})
	s := mustSender(t, configFor(t, srv.Addr(), srv))

	bad := []mail.Message{
		{To: nil, Subject: "s", Text: "t"},
		{To: []string{"not an address"}, Subject: "s", Text: "t"},
		{To: []string{"a@b.test"}, Subject: "s\r\nBcc: victim@x.test", Text: "t"},
		{To: []string{"a@b.test"}, Subject: "s", Text: "t", Headers: map[string]string{"From": "boss@x.test"}},
		{To: []string{"a@b.test"}, Subject: "s", Text: "t", Headers: map[string]string{"X-Ok": "v\nBcc: x@y"}},
		{To: []string{"a@b.test"}, Subject: "s", Text: "t", MessageID: "<two words@x>"},
		{To: []string{"a@b.test"}, Subject: "s"},
	}
	batch := append([]mail.Message{msg(1)}, bad...)
	batch = append(batch, msg(2))
	errs := s.Send(context.Background(), batch...)
	if errs[0] != nil || errs[len(errs)-1] != nil {
		t.Fatalf("good messages failed: %v / %v", errs[0], errs[len(errs)-1])
	}
	for i := 1; i < len(errs)-1; i++ {
		var ie *mail.InvalidMessageError
		if !errors.As(errs[i], &ie) || !mail.IsPermanent(errs[i]) {
			t.Errorf("bad message %d: %v (want permanent InvalidMessageError)", i, errs[i])
		}
	}
	got := srv.Messages()
	if len(got) != 2 {
		t.Fatalf("server kept %d messages, want 2", len(got))
	}
	if !strings.Contains(string(got[0].Raw), "Reply-To: <resettlement@prison.test>") {
		t.Errorf("Reply-To missing:\n%s", got[0].Raw)
	}
	if srv.Connections() != 1 {
		t.Errorf("connections = %d", srv.Connections())
	}
}

func TestAllInvalidDoesNotConnect(t *testing.T) {
	srv := startDev(t, devsmtp.Options{})
	cfg := configFor(t, srv.Addr(), srv)
	cfg.Auth, cfg.Username, cfg.Password = "", "", ""
	s := mustSender(t, cfg)
	s.Send(context.Background(), mail.Message{Subject: "no recipient", Text: "x"})
	if srv.Connections() != 0 {
		t.Errorf("connected %d times for a batch with nothing to send", srv.Connections())
	}
}

func TestRateLimit(t *testing.T) {
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev"})
	cfg := configFor(t, srv.Addr(), srv)
	cfg.RatePerMinute = 600 // one every 100ms
	s := mustSender(t, cfg)
	start := time.Now()
	for i, err := range s.Send(context.Background(), msg(1), msg(2), msg(3), msg(4)) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if el := time.Since(start); el < 290*time.Millisecond {
		t.Errorf("4 messages at 600/min took %v, want >= 300ms", el)
	}
}

func TestCancelledContext(t *testing.T) {
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev"})
	cfg := configFor(t, srv.Addr(), srv)
	cfg.RatePerMinute = 60 // one a second: the second message waits
	s := mustSender(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	errs := s.Send(ctx, msg(1), msg(2), msg(3))
	if errs[0] != nil {
		t.Fatalf("first message: %v", errs[0])
	}
	for _, err := range errs[1:] {
		if err == nil || mail.IsPermanent(err) {
			t.Errorf("after the deadline: %v (want a temporary error)", err)
		}
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Send ignored the context for %v", el)
	}
}

// cutter is a TCP relay in front of the dev server whose connections the
// test can cut, to simulate a relay dropping an idle connection.
type cutter struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, x := range c.conns {
		x.Close()
	}
	c.conns = nil
}

func TestReconnectsWhenTheConnectionDrops(t *testing.T) {
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev"})
	relay := newCutter(t, srv.Addr())
	cfg := configFor(t, relay.ln.Addr().String(), srv)
	cfg.RatePerMinute = 200 // 300ms between messages: time to cut in between
	s := mustSender(t, cfg)

	go func() {
		deadline := time.Now().Add(5 * time.Second)
		for len(srv.Messages()) < 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		// The server stores a message just before its 250 reply; cutting at
		// once could lose that reply, which is the ambiguous case Send
		// rightly reports as a failure. Wait for the reply to get through,
		// then cut while the sender sits in its 300ms rate-limit gap.
		time.Sleep(100 * time.Millisecond)
		relay.cut()
	}()
	errs := s.Send(context.Background(), msg(1), msg(2), msg(3))
	for i, err := range errs {
		if err != nil {
			t.Errorf("message %d: %v", i+1, err)
		}
	}
	if n := srv.Connections(); n != 2 {
		t.Errorf("connections = %d, want 2 (one redial)", n)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("server kept %d messages, want 3 (none lost, none doubled)", n)
	}
}

// TestImplicitTLS puts a TLS-terminating relay (SMTPS, as on port 465) in
// front of the dev server, which speaks only STARTTLS.
func TestImplicitTLS(t *testing.T) {
	cert, pool := testCert(t)
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev"})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var handshakes atomic.Int32
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				if in.(*tls.Conn).Handshake() != nil {
					return
				}
				handshakes.Add(1)
				out, err := net.Dial("tcp", srv.Addr())
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in) }()
				_, _ = io.Copy(in, out)
			}()
		}
	}()

	cfg := configFor(t, ln.Addr().String(), srv)
	cfg.TLSMode, cfg.RootCAs = "implicit", pool
	s := mustSender(t, cfg)
	if errs := s.Send(context.Background(), msg(1), msg(2)); errs[0] != nil || errs[1] != nil {
		t.Fatalf("send over implicit TLS: %v", errs)
	}
	if handshakes.Load() != 1 || len(srv.Messages()) != 2 {
		t.Errorf("handshakes = %d, messages = %d; want 1 and 2", handshakes.Load(), len(srv.Messages()))
	}
	// The relay speaks plaintext to the dev server, so the server must not
	// have been asked for STARTTLS on top of the TLS connection.
	if srv.Messages()[0].TLS {
		t.Error("client did STARTTLS inside implicit TLS")
	}
}

func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:        true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestRenderedAlertEndToEnd(t *testing.T) {
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev", RequireTLS: true})
	s := mustSender(t, configFor(t, srv.Addr(), srv))
	subject, text, html, err := mail.RenderAlert(mail.Alert{
		Kind: "escalation", Level: 2, CaseRef: "1042", StepTitle: "Housing: duty to refer",
		Due: time.Now().AddDate(0, 0, -8), DaysOverdue: 8, DaysToRelease: 2, Severity: "critical",
		Action: "Make the referral today.", CaseURL: "https://throughgate.example/cases/c-7f3a",
		RecipientName: "Alex",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := mail.Message{To: []string{"head@prison.test"}, Subject: subject, Text: text, HTML: html, MessageID: "<outbox-7@throughgate>"}
	if errs := s.Send(context.Background(), m); errs[0] != nil {
		t.Fatal(errs[0])
	}
	got := srv.Messages()[0]
	if got.Subject != subject {
		t.Errorf("subject %q, want %q", got.Subject, subject)
	}
	if norm(got.Text) != norm(text) || norm(got.HTML) != norm(html) {
		t.Errorf("body changed in transit:\ntext %q\nwant %q", got.Text, text)
	}
}

func norm(s string) string { return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }

// BenchmarkSend measures messages per second to the local dev server with
// STARTTLS and AUTH PLAIN, as the outbox would send them: all b.N messages
// over one connection ("batched") against a new connection, TLS handshake
// and AUTH per message ("per-message").
func BenchmarkSend(b *testing.B) {
	srv := startDev(b, devsmtp.Options{Username: "throughgate", Password: "dev", RequireTLS: true})
	s := mustSender(b, configFor(b, srv.Addr(), srv))

	b.Run("batched", func(b *testing.B) {
		batch := make([]mail.Message, b.N)
		for i := range batch {
			batch[i] = msg(i)
		}
		before := srv.Connections()
		b.ResetTimer()
		errs := s.Send(context.Background(), batch...)
		b.StopTimer()
		for i, err := range errs {
			if err != nil {
				b.Fatalf("message %d: %v", i, err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(srv.Connections()-before), "conns")
	})
	b.Run("per-message", func(b *testing.B) {
		before := srv.Connections()
		m := msg(1)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if errs := s.Send(context.Background(), m); errs[0] != nil {
				b.Fatal(errs[0])
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(float64(srv.Connections()-before), "conns")
	})
}

// TestGateDecidesEachMessage: SendGated asks the gate once per message,
// on a live connection; a refusal fails that message only, temporarily,
// and the gate replaces the Sender's own rate limit.
func TestGateDecidesEachMessage(t *testing.T) {
	srv := startDev(t, devsmtp.Options{Username: "throughgate", Password: "dev"})
	cfg := configFor(t, srv.Addr(), srv)
	cfg.RatePerMinute = 60 // would hold three messages for two seconds
	s := mustSender(t, cfg)
	refused := errors.New("not this one")
	var asked []int
	start := time.Now()
	errs := s.SendGated(context.Background(), func(_ context.Context, i int) error {
		asked = append(asked, i)
		if srv.Connections() != 1 {
			t.Errorf("gate asked for message %d with %d connections open", i, srv.Connections())
		}
		if i == 1 {
			return refused
		}
		return nil
	}, msg(1), msg(2), msg(3))
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], refused) || mail.IsPermanent(errs[1]) {
		t.Errorf("errors %v; want the second refused, temporarily", errs)
	}
	if fmt.Sprint(asked) != "[0 1 2]" || len(srv.Messages()) != 2 {
		t.Errorf("gate asked for %v, %d delivered; want [0 1 2] and 2", asked, len(srv.Messages()))
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s: the local rate limit applied under a gate", el)
	}
}
