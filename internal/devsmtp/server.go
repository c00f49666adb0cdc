// Package devsmtp is the development SMTP server: a real SMTP server on
// loopback that accepts every message, keeps it in memory and shows it on a
// mailbox page (GET /dev/mail, GET /dev/mail.json).
//
// It exists so that the whole email path — the outbox sender in
// internal/mail, go-mail, STARTTLS, SMTP AUTH — runs for real in `throughgate
// dev` and in tests, with no external mail service and no mocks. Nothing it
// receives leaves the process.
//
// What a newcomer needs to know:
//
//   - Start listens at once (default 127.0.0.1:2525) and serves in the
//     background; Close stops it.
//   - Without Options.TLS it makes a throwaway self-signed certificate for
//     localhost/127.0.0.1/::1, so the sender can keep its production setting
//     (STARTTLS required, certificate verified) and trust CertPool() instead.
//   - With Options.Username set, AUTH PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER
//     are accepted for that user (for the OAuth mechanisms the token is
//     Options.Password) and MAIL is refused until the client authenticates.
//     With no Username, AUTH is optional and any credentials are accepted, so
//     a sender configured with a user still works against an open dev server.
//   - FailNext makes the next RCPT/DATA commands answer with a chosen code:
//     the way to test retries (451) and permanent failures (550) end to end.
//   - At most 10,000 messages are kept; the oldest are dropped first.
package devsmtp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// DefaultAddr is where the development SMTP server listens unless told
// otherwise. 2525 rather than 25 or 587 so it needs no privileges and does not
// collide with a local MTA.
const DefaultAddr = "127.0.0.1:2525"

// MaxMessages bounds memory: a dev stack left running for weeks must not grow
// without limit.
const MaxMessages = 10000

// maxMessageBytes is far above any reminder or digest; it stops a runaway
// client from filling memory 10,000 times over.
const maxMessageBytes = 5 << 20

// Options configures Start. The zero value is a usable dev server.
type Options struct {
	// Addr is host:port to listen on; default DefaultAddr. Use
	// "127.0.0.1:0" in tests to get a free port (see Server.Addr).
	Addr string
	// Username and Password are the only credentials accepted when Username
	// is set; AUTH is then required before MAIL. For XOAUTH2 and OAUTHBEARER
	// Password is the expected access token.
	Username, Password string
	// TLS is the certificate offered for STARTTLS. If nil, a self-signed
	// ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1 is generated.
	TLS *tls.Config
	// RequireTLS refuses AUTH and MAIL until the client has done STARTTLS,
	// the way a production relay behaves.
	RequireTLS bool
	// Logger receives one line per accepted message and protocol errors.
	// Nil discards.
	Logger *slog.Logger
}

// Message is one accepted message. From and To are the SMTP envelope (what
// the server was told in MAIL FROM / RCPT TO, so Bcc recipients appear);
// the rest comes from the message itself.
type Message struct {
	ID        int       `json:"id"`
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`    // RFC 2047 decoded
	MessageID string    `json:"message_id"` // as in the header, with angle brackets
	Date      time.Time `json:"date"`       // the Date header; zero if absent or unparsable
	Received  time.Time `json:"received"`
	Text      string    `json:"text"` // decoded text/plain part
	HTML      string    `json:"html"` // decoded text/html part
	Raw       []byte    `json:"-"`    // the message exactly as received
	AuthUser  string    `json:"auth_user,omitempty"`
	TLS       bool      `json:"tls"`
}

// Server is a running development SMTP server. Its methods are safe for
// concurrent use.
type Server struct {
	opts     Options
	logger   *slog.Logger
	smtp     *smtp.Server
	addr     string
	ln       net.Listener
	certPool *x509.CertPool
	conns    atomic.Int64
	serveErr chan error

	mu       sync.Mutex
	ring     []Message // ring buffer of at most MaxMessages
	head     int       // index of the oldest message when the ring is full
	nextID   int
	failLeft int
	failCode int
	failMsg  string
	closed   bool
}

// PortInUseError is returned by Start when the address is taken. Its text is
// written for the person running `throughgate dev`, who most often has a
// second copy running.
type PortInUseError struct {
	Addr string
	Err  error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("smtp port %s is already in use: stop the other process or choose another with --smtp-addr / SMTP_ADDR", e.Addr)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// Start listens on opts.Addr and serves SMTP in the background until Close.
// The listener is open when Start returns, so a client may connect at once.
func Start(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "devsmtp")

	s := &Server{opts: opts, logger: logger, nextID: 1, serveErr: make(chan error, 1)}

	tlsConfig := opts.TLS
	if tlsConfig == nil {
		cfg, pool, err := selfSignedTLS()
		if err != nil {
			return nil, fmt.Errorf("devsmtp: make self-signed certificate: %w", err)
		}
		tlsConfig, s.certPool = cfg, pool
	} else {
		s.certPool = poolFromConfig(tlsConfig)
	}

	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &PortInUseError{Addr: opts.Addr, Err: err}
		}
		return nil, fmt.Errorf("devsmtp: listen on %s: %w", opts.Addr, err)
	}
	s.addr = ln.Addr().String()
	s.ln = ln

	srv := smtp.NewServer(&backend{s: s})
	srv.Addr = s.addr
	srv.Domain = "localhost"
	srv.TLSConfig = tlsConfig
	// go-smtp's switch for "AUTH before STARTTLS" is exactly RequireTLS;
	// MAIL before STARTTLS is refused in the session.
	srv.AllowInsecureAuth = !opts.RequireTLS
	srv.MaxMessageBytes = maxMessageBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	srv.ErrorLog = slogPrintf{logger}
	s.smtp = srv

	go func() {
		s.serveErr <- srv.Serve(&countingListener{Listener: ln, n: &s.conns})
	}()
	logger.Info("development SMTP server listening", "addr", s.addr,
		"auth_required", opts.Username != "", "require_tls", opts.RequireTLS)
	return s, nil
}

// Addr is the address actually listened on (useful with port 0).
func (s *Server) Addr() string { return s.addr }

// CertPool holds the certificate the server presents on STARTTLS, for
// clients (tests, the dev stack's sender) to verify it against.
func (s *Server) CertPool() *x509.CertPool { return s.certPool }

// Connections counts TCP connections accepted since Start. Tests use it to
// prove that a batch travels over one connection.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Messages returns copies of the kept messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.snapshotLocked()
	for i := range out {
		out[i].To = append([]string(nil), out[i].To...)
		out[i].Raw = append([]byte(nil), out[i].Raw...)
	}
	return out
}

// snapshotLocked returns the messages oldest first, sharing their slices; the
// stored messages are never modified, so readers inside the package may use
// them without the deep copy that Messages makes.
func (s *Server) snapshotLocked() []Message {
	out := make([]Message, 0, len(s.ring))
	out = append(out, s.ring[s.head:]...)
	out = append(out, s.ring[:s.head]...)
	return out
}

// FailNext makes the next n RCPT or DATA commands (each one counts; a
// message with two recipients uses two) answer with code and msg instead of
// being accepted. Codes 4xx are temporary failures, 5xx permanent. msg may
// start with an enhanced status code ("5.1.1 No such user"). n <= 0 cancels.
func (s *Server) FailNext(n int, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 0 {
		n = 0
	}
	if code < 400 || code > 599 {
		code = 451 // only failure codes make sense here; a typo must not "succeed"
	}
	if msg == "" {
		msg = "Failure injected by devsmtp.FailNext"
	}
	s.failLeft, s.failCode, s.failMsg = n, code, msg
}

// Close stops listening and drops open connections. Kept messages stay
// readable. Calling Close twice is harmless.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.smtp.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	// go-smtp closes only the listeners Serve has registered; if Close comes
	// before the Serve goroutine got that far, the listener would stay open
	// and Serve would block in Accept for ever. Closing it here too is safe.
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	if serr := <-s.serveErr; serr != nil && err == nil {
		err = serr
	}
	return err
}

// takeFailure consumes one injected failure, if any is pending.
func (s *Server) takeFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft <= 0 {
		return nil
	}
	s.failLeft--
	return replyError(s.failCode, s.failMsg)
}

// replyError builds the SMTP reply for an injected failure. A message that
// starts with an enhanced status code ("5.1.1 No such user") keeps it;
// otherwise one is derived from the reply code's class.
func replyError(code int, msg string) *smtp.SMTPError {
	enh := smtp.EnhancedCode{code / 100, 0, 0}
	if first, rest, ok := strings.Cut(msg, " "); ok {
		var a, b, c int
		if n, err := fmt.Sscanf(first, "%d.%d.%d", &a, &b, &c); err == nil && n == 3 && a == code/100 {
			enh, msg = smtp.EnhancedCode{a, b, c}, rest
		}
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

func (s *Server) store(m Message) Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = s.nextID
	s.nextID++
	if len(s.ring) < MaxMessages {
		s.ring = append(s.ring, m)
	} else {
		s.ring[s.head] = m
		s.head = (s.head + 1) % MaxMessages
	}
	return m
}

// ---- SMTP backend and session ----

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

// session is created on EHLO and again after STARTTLS (go-smtp drops the
// pre-TLS session), so authentication never survives the TLS upgrade.
type session struct {
	s        *Server
	conn     *smtp.Conn
	authUser string
	authed   bool
	from     string
	to       []string
}

var (
	errTLSRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	errAuthNeeded  = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
)

func (se *session) isTLS() bool {
	_, ok := se.conn.TLSConnectionState()
	return ok
}

func (se *session) AuthMechanisms() []string {
	return []string{sasl.Plain, sasl.Login, "XOAUTH2", sasl.OAuthBearer}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	var srv sasl.Server
	switch mech {
	case sasl.Plain:
		srv = sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return smtp.ErrAuthFailed
			}
			return se.login(username, password)
		})
	case sasl.Login:
		srv = &loginServer{authenticate: se.login}
	case "XOAUTH2":
		srv = &xoauth2Server{authenticate: se.login}
	case sasl.OAuthBearer:
		srv = sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if se.login(o.Username, o.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		})
	default:
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return authFailedAs535{srv}, nil
}

// login checks credentials. Constant-time comparison costs nothing and keeps
// the dev server from being a bad example.
func (se *session) login(username, password string) error {
	want := se.s.opts
	if want.Username != "" {
		userOK := subtle.ConstantTimeCompare([]byte(username), []byte(want.Username)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(password), []byte(want.Password)) == 1
		if !userOK || !passOK {
			se.s.logger.Warn("SMTP authentication failed", "user", username)
			return smtp.ErrAuthFailed
		}
	}
	se.authUser, se.authed = username, true
	return nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.RequireTLS && !se.isTLS() {
		return errTLSRequired
	}
	if se.s.opts.Username != "" && !se.authed {
		return errAuthNeeded
	}
	se.from = from
	se.to = se.to[:0]
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := se.s.takeFailure(); err != nil {
		return err
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	if err := se.s.takeFailure(); err != nil {
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parseMessage(raw, se.s.logger)
	m.From = se.from
	m.To = append([]string(nil), se.to...)
	m.Received = time.Now().UTC()
	m.AuthUser = se.authUser
	m.TLS = se.isTLS()
	m = se.s.store(m)
	se.s.logger.Info("message received", "id", m.ID, "message_id", m.MessageID,
		"recipients", len(m.To), "bytes", len(raw))
	return nil
}

func (se *session) Reset() {
	se.from = ""
	se.to = se.to[:0]
}

func (se *session) Logout() error { return nil }

// ---- SASL servers go-sasl lacks ----

// loginServer is the server side of AUTH LOGIN, which go-sasl no longer
// ships (it kept only the client). LOGIN is obsolete but still the mechanism
// some relays and Outlook-era clients use, so the dev server must speak it.
type loginServer struct {
	step         int
	username     string
	authenticate func(username, password string) error
}

func (a *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch a.step {
	case 0:
		a.step = 1
		if response == nil { // no initial response: ask for the user name
			return []byte("Username:"), false, nil
		}
		a.username = string(response)
		a.step = 2
		return []byte("Password:"), false, nil
	case 1:
		a.username = string(response)
		a.step = 2
		return []byte("Password:"), false, nil
	case 2:
		a.step = 3
		return nil, true, a.authenticate(a.username, string(response))
	default:
		return nil, true, sasl.ErrUnexpectedClientResponse
	}
}

// xoauth2Server is Google's and Microsoft's pre-standard OAuth mechanism
// (user=...^Aauth=Bearer ...^A^A). On failure it sends the JSON error
// challenge, waits for the client's empty reply, then fails, as the real
// services do.
type xoauth2Server struct {
	failed       bool
	authenticate func(username, token string) error
}

func (a *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	if a.failed {
		return nil, true, smtp.ErrAuthFailed
	}
	if response == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for _, field := range strings.Split(string(response), "\x01") {
		if v, ok := strings.CutPrefix(field, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(field, "auth="); ok {
			if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
				token = v[7:]
			}
		}
	}
	if user == "" || token == "" || a.authenticate(user, token) != nil {
		a.failed = true
		return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	return nil, true, nil
}

// authFailedAs535 turns any SASL error into 535 5.7.8. go-smtp answers a
// plain Go error from a SASL server with 454 (temporary), which would tell
// the sender to retry a wrong OAuth token forever.
type authFailedAs535 struct{ sasl.Server }

func (a authFailedAs535) Next(response []byte) ([]byte, bool, error) {
	challenge, done, err := a.Server.Next(response)
	if err != nil {
		var smtpErr *smtp.SMTPError
		if !errors.As(err, &smtpErr) {
			err = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed: " + err.Error()}
		}
	}
	return challenge, done, err
}

// ---- plumbing ----

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// slogPrintf adapts go-smtp's Printf-style error log to slog.
type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, v ...any) {
	p.l.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (p slogPrintf) Println(v ...any) {
	p.l.Warn(strings.TrimSpace(fmt.Sprintln(v...)))
}

// selfSignedTLS makes a short-lived certificate for the loopback names. It is
// its own root, so a client that trusts the returned pool verifies the
// server normally instead of switching verification off.
func selfSignedTLS() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"Throughgate development SMTP server"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pool, nil
}

// poolFromConfig trusts the top certificate of each chain in a caller's
// config. It is a convenience for tests; a caller with a real CA passes that
// CA to its clients directly.
func poolFromConfig(cfg *tls.Config) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range cfg.Certificates {
		if len(c.Certificate) == 0 {
			continue
		}
		if top, err := x509.ParseCertificate(c.Certificate[len(c.Certificate)-1]); err == nil {
			pool.AddCert(top)
		}
	}
	return pool
}

// ensure the interfaces go-smtp looks for are implemented.
var (
	_ smtp.Session     = (*session)(nil)
	_ smtp.AuthSession = (*session)(nil)
)
