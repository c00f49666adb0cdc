package devsmtp_test

// End-to-end tests: the real sender (internal/mail, go-mail) talks SMTP over
// loopback TCP to the real development server. Nothing is mocked.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/internal/mail"
)

func startServer(t *testing.T, opts devsmtp.Options) *devsmtp.Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	srv, err := devsmtp.Start(opts)
	if err != nil {
		t.Fatalf("start devsmtp: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// senderConfig is what `throughgate dev` would configure: STARTTLS required,
// the dev server's certificate trusted, nothing insecure.
func senderConfig(t *testing.T, srv *devsmtp.Server, auth, user, pass string) mail.Config {
	t.Helper()
	host, portStr, err := net.SplitHostPort(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	return mail.Config{
		Host: host, Port: port, TLSMode: "starttls",
		Auth: auth, Username: user, Password: pass,
		From:    "Throughgate <noreply@throughgate.test>",
		RootCAs: srv.CertPool(),
		Timeout: 5 * time.Second,
	}
}

func newSender(t *testing.T, cfg mail.Config) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(cfg, nil)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	return s
}

func testMessage(n int) mail.Message {
	return mail.Message{
		To:        []string{"worker@prison.test"},
		Subject:   fmt.Sprintf("Due in 3 days: step %d for case 1042", n),
		Text:      fmt.Sprintf("Plain body %d", n),
		HTML:      fmt.Sprintf("<p>HTML body %d</p>", n),
		MessageID: fmt.Sprintf("<outbox-%d@throughgate>", n),
	}
}

func sendOne(t *testing.T, s *mail.Sender, m mail.Message) error {
	t.Helper()
	errs := s.Send(context.Background(), m)
	if len(errs) != 1 {
		t.Fatalf("Send returned %d results for 1 message", len(errs))
	}
	return errs[0]
}

func TestSendWithEachAuthMechanism(t *testing.T) {
	for _, auth := range []string{"plain", "login", "xoauth2", "oauthbearer"} {
		t.Run(auth, func(t *testing.T) {
			srv := startServer(t, devsmtp.Options{Username: "throughgate", Password: "s3cret-or-token", RequireTLS: true})
			s := newSender(t, senderConfig(t, srv, auth, "throughgate", "s3cret-or-token"))
			if err := s.Check(context.Background()); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if err := sendOne(t, s, testMessage(1)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server kept %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if !m.TLS {
				t.Error("message arrived without TLS; STARTTLS was required")
			}
			if m.AuthUser != "throughgate" {
				t.Errorf("AuthUser = %q, want throughgate", m.AuthUser)
			}
			if m.From != "noreply@throughgate.test" || len(m.To) != 1 || m.To[0] != "worker@prison.test" {
				t.Errorf("envelope = %q -> %q", m.From, m.To)
			}
		})
	}
}

func TestWrongPasswordIsPermanentAndNamesTheSettings(t *testing.T) {
	for _, auth := range []string{"plain", "login", "xoauth2", "oauthbearer"} {
		t.Run(auth, func(t *testing.T) {
			srv := startServer(t, devsmtp.Options{Username: "throughgate", Password: "right", RequireTLS: true})
			s := newSender(t, senderConfig(t, srv, auth, "throughgate", "wrong"))

			err := sendOne(t, s, testMessage(1))
			if err == nil {
				t.Fatal("Send with a wrong password succeeded")
			}
			want := `SMTP authentication failed for user "throughgate" (check SMTP_USERNAME / SMTP_PASSWORD): 535`
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q\nwant it to contain %q", err, want)
			}
			if !mail.IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = false, want true", err)
			}
			var ae *mail.AuthError
			if !errors.As(err, &ae) || ae.Code != 535 {
				t.Errorf("want *mail.AuthError with code 535, got %#v", err)
			}

			// The readiness probe reports the same thing.
			cerr := s.Check(context.Background())
			if cerr == nil || !strings.Contains(cerr.Error(), want) || !mail.IsPermanent(cerr) {
				t.Errorf("Check error = %v", cerr)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server kept %d messages after failed auth", n)
			}
		})
	}
}

func TestInjectedFailures(t *testing.T) {
	cases := []struct {
		code      int
		permanent bool
	}{
		{451, false},
		{421, false},
		{550, true},
		{552, true},
	}
	for _, tc := range cases {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			srv := startServer(t, devsmtp.Options{Username: "u", Password: "p"})
			s := newSender(t, senderConfig(t, srv, "plain", "u", "p"))
			srv.FailNext(1, tc.code, "injected")

			errs := s.Send(context.Background(), testMessage(1), testMessage(2))
			if errs[0] == nil {
				t.Fatalf("message 1: want %d error, got nil", tc.code)
			}
			if got := mail.IsPermanent(errs[0]); got != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", errs[0], got, tc.permanent)
			}
			var se *mail.SendError
			if !errors.As(errs[0], &se) || se.Code != tc.code || se.MessageID != "<outbox-1@throughgate>" {
				t.Errorf("want *mail.SendError{Code: %d, MessageID: <outbox-1@throughgate>}, got %#v", tc.code, errs[0])
			}
			// One failure does not spoil the batch: the next message goes
			// through on the same connection.
			if errs[1] != nil {
				t.Errorf("message 2 after an injected failure: %v", errs[1])
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || msgs[0].MessageID != "<outbox-2@throughgate>" {
				t.Errorf("server kept %+v, want only outbox-2", msgs)
			}
			if srv.Connections() != 1 {
				t.Errorf("connections = %d, want 1", srv.Connections())
			}
		})
	}
}

func TestFailureAtData(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	s := newSender(t, senderConfig(t, srv, "", "", ""))
	// Two recipients consume two injected failures at RCPT; the third
	// lands on DATA of the next message.
	srv.FailNext(1, 451, "try later")
	m := testMessage(1)
	errs := s.Send(context.Background(), m)
	if errs[0] == nil || mail.IsPermanent(errs[0]) {
		t.Fatalf("want temporary error, got %v", errs[0])
	}
	// A retry with the same Message-ID succeeds and carries the same id.
	if errs := s.Send(context.Background(), m); errs[0] != nil {
		t.Fatalf("retry: %v", errs[0])
	}
	if got := srv.Messages()[0].MessageID; got != "<outbox-1@throughgate>" {
		t.Errorf("Message-ID after retry = %q", got)
	}
}

func TestConnectionRefusedIsTemporary(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	cfg := senderConfig(t, srv, "", "", "")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	s := newSender(t, cfg)
	errs := s.Send(context.Background(), testMessage(1), testMessage(2))
	for i, err := range errs {
		if err == nil {
			t.Fatalf("message %d sent to a closed server", i+1)
		}
		if mail.IsPermanent(err) {
			t.Errorf("IsPermanent(%v) = true for connection refused", err)
		}
		if !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("error %q does not say connection refused", err)
		}
	}
	if err := s.Check(context.Background()); err == nil || mail.IsPermanent(err) {
		t.Errorf("Check on closed server: %v", err)
	}
}

func TestBatchUsesOneConnection(t *testing.T) {
	srv := startServer(t, devsmtp.Options{Username: "u", Password: "p", RequireTLS: true})
	s := newSender(t, senderConfig(t, srv, "plain", "u", "p"))
	const n = 50
	batch := make([]mail.Message, n)
	for i := range batch {
		batch[i] = testMessage(i)
	}
	for i, err := range s.Send(context.Background(), batch...) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := srv.Connections(); got != 1 {
		t.Errorf("server saw %d connections for a batch of %d, want 1", got, n)
	}
	msgs := srv.Messages()
	if len(msgs) != n {
		t.Fatalf("server kept %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if want := fmt.Sprintf("<outbox-%d@throughgate>", i); m.MessageID != want {
			t.Errorf("message %d Message-ID = %q, want %q (in order)", i, m.MessageID, want)
		}
	}
}

func TestContentSurvivesTheRoundTrip(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	s := newSender(t, senderConfig(t, srv, "", "", ""))
	long := strings.Repeat("A long line that quoted-printable must soft-wrap. ", 6)
	m := mail.Message{
		To:        []string{"manager@prison.test", "head@prison.test"},
		Subject:   "[Critical] Escalation: Overdue 3 days: Housing — release in 2 days · £0",
		Text:      "Hello Sam,\n\nRent arrears: £120 — pay before release.\n" + long + "\n= sign and trailing space \n",
		HTML:      `<p>Hello Sam,</p><p>Rent arrears: <b>£120</b> — pay before release.</p><p>` + long + `</p>`,
		MessageID: "outbox-42@throughgate", // no brackets: the sender adds them
		Headers:   map[string]string{"X-Throughgate-Outbox": "42"},
	}
	if err := sendOne(t, s, m); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if got.MessageID != "<outbox-42@throughgate>" {
		t.Errorf("Message-ID = %q, want <outbox-42@throughgate>", got.MessageID)
	}
	if got.Subject != m.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, m.Subject)
	}
	if norm(got.Text) != norm(m.Text) {
		t.Errorf("Text = %q\nwant   %q", got.Text, m.Text)
	}
	if norm(got.HTML) != norm(m.HTML) {
		t.Errorf("HTML = %q\nwant   %q", got.HTML, m.HTML)
	}
	if len(got.To) != 2 {
		t.Errorf("To = %q", got.To)
	}
	if got.Date.IsZero() || time.Since(got.Date) > time.Minute {
		t.Errorf("Date = %v", got.Date)
	}
	raw := string(got.Raw)
	for _, h := range []string{"X-Throughgate-Outbox: 42", "Auto-Submitted: auto-generated", "multipart/alternative"} {
		if !strings.Contains(raw, h) {
			t.Errorf("raw message lacks %q", h)
		}
	}
	if strings.Contains(raw, "go-mail") {
		t.Error("raw message advertises the mail library (User-Agent/X-Mailer)")
	}
}

// norm makes line endings comparable: SMTP carries CRLF, Go strings LF.
func norm(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

func TestRequireTLSRefusesPlaintext(t *testing.T) {
	srv := startServer(t, devsmtp.Options{RequireTLS: true})
	cfg := senderConfig(t, srv, "", "", "")
	cfg.TLSMode, cfg.AllowInsecure = "none", true
	s := newSender(t, cfg)
	err := sendOne(t, s, testMessage(1))
	if err == nil || !strings.Contains(err.Error(), "530") {
		t.Fatalf("plaintext MAIL to a RequireTLS server: %v, want 530", err)
	}
	if !mail.IsPermanent(err) {
		t.Errorf("530 should be permanent: %v", err)
	}
}

func TestPlaintextToLoopbackWhenAllowed(t *testing.T) {
	srv := startServer(t, devsmtp.Options{Username: "u", Password: "p"})
	cfg := senderConfig(t, srv, "login", "u", "p")
	cfg.TLSMode, cfg.AllowInsecure = "none", true
	s := newSender(t, cfg)
	if err := sendOne(t, s, testMessage(1)); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages()[0]; m.TLS || m.AuthUser != "u" {
		t.Errorf("TLS=%v AuthUser=%q, want plaintext and authenticated", m.TLS, m.AuthUser)
	}
}

func TestOpenServerAcceptsAnyCredentials(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	s := newSender(t, senderConfig(t, srv, "login", "whoever", "whatever"))
	if err := sendOne(t, s, testMessage(1)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages()[0].AuthUser; got != "whoever" {
		t.Errorf("AuthUser = %q", got)
	}
}

func TestAuthRequiredWhenUsernameSet(t *testing.T) {
	srv := startServer(t, devsmtp.Options{Username: "u", Password: "p"})
	s := newSender(t, senderConfig(t, srv, "", "", ""))
	err := sendOne(t, s, testMessage(1))
	if err == nil || !strings.Contains(err.Error(), "530") || !mail.IsPermanent(err) {
		t.Fatalf("unauthenticated MAIL: %v, want permanent 530", err)
	}
}

func TestUntrustedCertificateIsRefused(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	cfg := senderConfig(t, srv, "", "", "")
	cfg.RootCAs = nil // system roots do not know the dev certificate
	s := newSender(t, cfg)
	err := s.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Check with an untrusted certificate: %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	_, err := devsmtp.Start(devsmtp.Options{Addr: srv.Addr()})
	want := fmt.Sprintf("smtp port %s is already in use: stop the other process or choose another with --smtp-addr / SMTP_ADDR", srv.Addr())
	if err == nil || err.Error() != want {
		t.Fatalf("second Start on %s: %v\nwant %q", srv.Addr(), err, want)
	}
	var pe *devsmtp.PortInUseError
	if !errors.As(err, &pe) {
		t.Errorf("want *devsmtp.PortInUseError, got %T", err)
	}
}

func TestMailboxJSON(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	s := newSender(t, senderConfig(t, srv, "", "", ""))
	for i, err := range s.Send(context.Background(), testMessage(1), testMessage(2)) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	web := httptest.NewServer(srv.Handler())
	defer web.Close()

	res, err := http.Get(web.URL + "/dev/mail.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var got []map[string]any
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2", len(got))
	}
	// Newest first.
	first := got[0]
	if first["message_id"] != "<outbox-2@throughgate>" || first["text"] != "Plain body 2" || first["html"] != "<p>HTML body 2</p>" {
		t.Errorf("first entry = %v", first)
	}
	for _, k := range []string{"id", "from", "to", "subject", "message_id", "date", "received", "text", "html"} {
		if _, ok := first[k]; !ok {
			t.Errorf("JSON entry lacks %q", k)
		}
	}
	if _, ok := first["Raw"]; ok {
		t.Error("JSON carries the raw message")
	}
}

func TestMailboxPageEscapes(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	s := newSender(t, senderConfig(t, srv, "", "", ""))
	m := testMessage(1)
	m.Subject = `<script>alert("subject")</script>`
	m.Text = `</pre><script>alert("text")</script>`
	m.HTML = `<img src=x onerror=alert(1)><script>alert("html")</script>`
	if err := sendOne(t, s, m); err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(srv.Handler())
	defer web.Close()

	res, err := http.Get(web.URL + "/dev/mail")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	page := string(body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if strings.Contains(page, "<script") {
		t.Errorf("page contains an unescaped <script>:\n%s", page)
	}
	if strings.Contains(page, "<img") {
		t.Errorf("page contains an unescaped <img>:\n%s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;subject&#34;)&lt;/script&gt;") {
		t.Errorf("escaped subject not found in page:\n%s", page)
	}
	if !strings.Contains(page, "<details>") || !strings.Contains(page, `sandbox=""`) {
		t.Error("page lacks the details element or the sandboxed iframe")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}

	res2, err := http.Post(web.URL+"/dev/mail", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST status = %d, want 405", res2.StatusCode)
	}
}

func TestEmptyMailbox(t *testing.T) {
	srv := startServer(t, devsmtp.Options{})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/dev/mail.json", nil))
	if got := strings.TrimSpace(rec.Body.String()); got != "[]" {
		t.Errorf("empty mailbox JSON = %q, want []", got)
	}
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/dev/mail", nil))
	if !strings.Contains(rec.Body.String(), "No messages yet") {
		t.Error("empty mailbox page does not say so")
	}
}
