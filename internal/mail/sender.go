package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// Message is one email as the outbox hands it over. Rendering (RenderAlert,
// RenderDigest) fills Subject, Text and HTML.
type Message struct {
	To      []string
	Subject string
	Text    string
	HTML    string
	// MessageID is chosen by the caller from the outbox row, e.g.
	// "<outbox-42@throughgate>", so that a message re-sent after an
	// ambiguous failure carries the same id and the recipient's mail system
	// (and the person) can recognise the duplicate. Angle brackets are
	// optional. Empty means a random id, which loses that property.
	MessageID string
	// Headers are extra header fields (e.g. "X-Throughgate-Case").
	// Address, identity and MIME headers are refused: they are set here.
	Headers map[string]string
}

// Sender delivers messages to one SMTP relay with go-mail. It is safe for
// concurrent use; each Send call uses its own connection and all calls share
// the rate limit.
type Sender struct {
	cfg     Config
	logger  *slog.Logger
	limiter *rate.Limiter // nil when unlimited
	tokens  TokenSource   // the access token, for xoauth2/oauthbearer
}

// NewSender checks the configuration and prepares a sender. It does not
// connect: use Check for that (the readiness probe does).
func NewSender(cfg Config, logger *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, &configError{err}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, logger: logger.With("component", "mail", "smtp_host", cfg.Host, "smtp_port", cfg.port())}
	if cfg.RatePerMinute > 0 {
		// Burst 1: "N per minute" is kept for any 60-second window, which is
		// what relays with per-minute quotas (Microsoft 365: 30/min) enforce.
		s.limiter = rate.NewLimiter(rate.Every(time.Minute/time.Duration(cfg.RatePerMinute)), 1)
	}
	switch cfg.auth() {
	case AuthXOAUTH2, AuthOAuthBearer:
		if cfg.OAuthTokenURL == "" {
			s.tokens = staticToken(cfg.Password)
			break
		}
		hc := cfg.OAuthHTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: cfg.timeout()}
		}
		s.tokens = &ClientCredentials{TokenURL: cfg.OAuthTokenURL, ClientID: cfg.OAuthClientID,
			ClientSecret: cfg.OAuthClientSecret, Scope: cfg.OAuthScope, HTTPClient: hc}
	}
	return s, nil
}

// RatePerMinute is the configured limit (SMTP_RATE); 0 means none.
func (s *Sender) RatePerMinute() int { return s.cfg.RatePerMinute }

// Check dials the relay and goes as far as a send would before MAIL FROM:
// EHLO, STARTTLS (or implicit TLS) with certificate verification, and AUTH;
// then QUIT. It returns the same errors Send would, so a readiness probe
// reports "SMTP authentication failed ... (check SMTP_USERNAME /
// SMTP_PASSWORD)" rather than a vague failure.
func (s *Sender) Check(ctx context.Context) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	return c.close()
}

// maxRedials bounds reconnects within one batch, so a relay that drops every
// connection costs a few attempts, not one per message.
const maxRedials = 2

// Send delivers msgs over one connection, in order, and returns one error per
// message (nil = the relay accepted it). A dial or authentication failure
// fails every message with the same error. If the connection drops between
// messages the batch reconnects (at most maxRedials times); a message that
// dropped before its content was sent is retried once on the new connection,
// one that dropped during or after its content is reported as a temporary
// failure, because it may have been delivered and the outbox's retry will
// carry the same Message-ID.
func (s *Sender) Send(ctx context.Context, msgs ...Message) []error {
	return s.SendGated(ctx, nil, msgs...)
}

// A Gate is asked once before message i of a batch goes on the wire, when
// the connection is ready, so that a wait it imposes is not lengthened by
// the dial and nothing it hands out is spent on a relay that cannot be
// reached. It may wait — the outbox takes a slot of the rate shared by
// every sender there — or refuse, and its error becomes that message's
// (temporary unless IsPermanent says otherwise).
type Gate func(ctx context.Context, i int) error

// SendGated is Send with a Gate asked before each message. A gate takes the
// place of this Sender's own RatePerMinute limit: pacing is then the
// gate's. A nil gate is Send.
func (s *Sender) SendGated(ctx context.Context, gate Gate, msgs ...Message) []error {
	errs := make([]error, len(msgs))
	built := make([]*gomail.Msg, len(msgs))
	pending := 0
	for i, m := range msgs {
		gm, err := s.build(m)
		if err != nil {
			errs[i] = err
			continue
		}
		built[i] = gm
		pending++
	}
	if pending == 0 {
		return errs
	}

	start := time.Now()
	var (
		c         *conn
		dials     int
		sent      int
		failed    int
		dialError error
	)
	defer func() {
		if c != nil {
			_ = c.close()
		}
		s.logger.Debug("SMTP batch done", "sent", sent, "failed", failed, "connections", dials,
			"duration", time.Since(start).Round(time.Millisecond))
	}()

	for i, gm := range built {
		if gm == nil {
			continue
		}
		id := msgs[i].MessageID
		fail := func(err error) {
			failed++
			errs[i] = wrapSendError(id, err)
			s.logger.Warn("SMTP send failed", "message_id", id, "permanent", IsPermanent(errs[i]), "err", err)
		}
		if dialError != nil {
			fail(dialError)
			continue
		}
		if err := ctx.Err(); err != nil {
			fail(err)
			continue
		}
		if s.limiter != nil && gate == nil {
			if err := s.limiter.Wait(ctx); err != nil {
				fail(fmt.Errorf("waiting for a send slot (SMTP_RATE_PER_MINUTE=%d): %w", s.cfg.RatePerMinute, err))
				continue
			}
		}
		gated := gate == nil
		for attempt := 0; ; attempt++ {
			if c == nil {
				if dials > maxRedials {
					dialError = errors.New("SMTP connection keeps dropping; giving up on the rest of the batch")
					fail(dialError)
					break
				}
				var err error
				dials++
				if c, err = s.dial(ctx); err != nil {
					c, dialError = nil, err
					fail(err)
					break
				}
			}
			if !gated {
				gated = true
				if err := gate(ctx, i); err != nil {
					fail(err)
					break
				}
			}
			err := c.gm.SendWithSMTPClient(c.sc, gm)
			if gm.IsDelivered() {
				// Accepted; an error here came from the RSET after it.
				// The message is sent, only the connection is suspect.
				if err != nil {
					c.abort()
					c = nil
				}
				sent++
				s.logger.Debug("SMTP message accepted", "message_id", id)
				break
			}
			if ctx.Err() != nil {
				fail(fmt.Errorf("%w (%v)", ctx.Err(), err))
				break
			}
			if connectionLost(err) {
				c.abort()
				c = nil
				if attempt == 0 && notYetTransmitted(err) {
					continue
				}
			}
			fail(err)
			break
		}
	}
	return errs
}

// wrapSendError attaches the message id and the classification once, so the
// outbox can read Code and Permanent without knowing go-mail.
func wrapSendError(id string, err error) error {
	var se *SendError
	var ie *InvalidMessageError
	if errors.As(err, &se) || errors.As(err, &ie) {
		return err
	}
	return &SendError{MessageID: id, Code: replyCode(err), Permanent: IsPermanent(err), Err: err}
}

// connectionLost is true when go-mail failed without an SMTP reply: the
// connection is gone (EOF, reset, timeout) and must not be reused.
func connectionLost(err error) bool {
	var ge *gomail.SendError
	if !errors.As(err, &ge) {
		return true
	}
	return ge.ErrorCode() == 0
}

// notYetTransmitted is true when the failure happened before DATA was
// accepted, so the relay cannot have the message and it is safe to retry
// at once.
func notYetTransmitted(err error) bool {
	var ge *gomail.SendError
	if !errors.As(err, &ge) {
		return false
	}
	switch ge.Reason {
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData:
		return true
	}
	return false
}

// conn is one live SMTP session: go-mail's client (configuration) and its
// smtp.Client (the connection), plus the raw socket so that a cancelled
// context can interrupt a blocked read, which go-mail cannot do.
type conn struct {
	gm     *gomail.Client
	sc     *smtp.Client
	mu     sync.Mutex
	raw    net.Conn
	stop   func() bool
	auth   *trackingAuth
	closed bool
}

func (c *conn) setRaw(nc net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.raw = nc
}

func (c *conn) closeRaw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil {
		_ = c.raw.Close()
	}
}

// abort drops a connection that has already failed. No QUIT: on a hung
// connection it would wait out another full timeout for nothing.
func (c *conn) abort() {
	c.closed = true
	if c.stop != nil {
		c.stop()
	}
	c.closeRaw()
}

// close says QUIT politely and then makes sure the socket is gone.
func (c *conn) close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.stop != nil {
		c.stop()
	}
	var err error
	if c.sc != nil {
		err = c.gm.CloseWithSMTPClient(c.sc)
	}
	c.closeRaw()
	return err
}

func (s *Sender) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName: strings.Trim(s.cfg.Host, "[]"),
		RootCAs:    s.cfg.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
}

// dial connects, greets, secures and authenticates. With OAuth client
// credentials a token the server rejects is dropped and the dial made once
// more with a fresh one: a token can be revoked, or expire early, before
// the cache would replace it.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	token := ""
	if s.tokens != nil {
		var err error
		if token, err = s.tokens.Token(ctx); err != nil {
			return nil, err
		}
	}
	c, err := s.dialWith(ctx, token)
	var ae *AuthError
	if _, fetched := s.tokens.(*ClientCredentials); fetched && errors.As(err, &ae) {
		s.logger.Info("SMTP server rejected the OAuth access token; fetching a new one", "err", err)
		s.tokens.Invalidate(token)
		if token, err = s.tokens.Token(ctx); err != nil {
			return nil, err
		}
		c, err = s.dialWith(ctx, token)
	}
	return c, err
}

// dialWith makes one connection, authenticating with token for the OAuth
// mechanisms. A new go-mail Client is made per connection: it is cheap, and
// it keeps per-connection state (the raw socket, the auth tracker) out of
// anything shared between goroutines.
func (s *Sender) dialWith(ctx context.Context, token string) (*conn, error) {
	c := &conn{}
	mode := s.cfg.mode()
	tlsCfg := s.tlsConfig()
	addr := net.JoinHostPort(strings.Trim(s.cfg.Host, "[]"), strconv.Itoa(s.cfg.port()))

	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port()),
		gomail.WithTimeout(s.cfg.timeout()),
		gomail.WithTLSConfig(tlsCfg),
		// go-mail sends NOOP before every message to test the connection;
		// the RSET it sends after each message already does that, and a
		// dead connection is handled by the retry in Send.
		gomail.WithoutNoop(),
		// Our own dialer keeps the socket: go-mail does not close it when
		// EHLO or STARTTLS fails, and cannot interrupt a blocked read.
		gomail.WithDialContextFunc(func(ctx context.Context, network, address string) (net.Conn, error) {
			d := &net.Dialer{}
			var nc net.Conn
			var err error
			if mode == TLSImplicit {
				nc, err = (&tls.Dialer{NetDialer: d, Config: tlsCfg}).DialContext(ctx, network, address)
			} else {
				nc, err = d.DialContext(ctx, network, address)
			}
			if err == nil {
				c.setRaw(nc)
			}
			return nc, err
		}),
	}
	switch mode {
	case TLSImplicit:
		// With a custom dialer go-mail does not do the TLS itself, but
		// WithSSL still stops it from trying STARTTLS on top.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if a := s.newAuth(token); a != nil {
		c.auth = a
		opts = append(opts, gomail.WithSMTPAuthCustom(a))
	}
	gm, err := gomail.NewClient(strings.Trim(s.cfg.Host, "[]"), opts...)
	if err != nil {
		return nil, &configError{err}
	}
	c.gm = gm

	sc, err := gm.DialToSMTPClientWithContext(ctx)
	if err != nil {
		c.closeRaw()
		return nil, s.dialError(ctx, addr, c, err)
	}
	c.sc = sc
	c.stop = context.AfterFunc(ctx, c.closeRaw)
	return c, nil
}

// dialError turns go-mail's dial errors into ones an operator can act on.
func (s *Sender) dialError(ctx context.Context, addr string, c *conn, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("SMTP connection to %s: %w (%v)", addr, ctx.Err(), err)
	}
	var ce *configError
	if errors.As(err, &ce) {
		return ce
	}
	if c.auth != nil && c.auth.started {
		if code := replyCode(err); code >= 400 {
			// The server's reply alone ("535 5.7.8 Authentication
			// failed") reads better than go-mail's wrapping around it.
			var reply error = err
			var tp *textproto.Error
			if errors.As(err, &tp) {
				reply = serverReply{tp}
			}
			_, fetched := s.tokens.(*ClientCredentials)
			return &AuthError{Username: s.cfg.Username, Code: code, Temporary: code < 500, OAuthClient: fetched, Err: reply}
		}
		return fmt.Errorf("SMTP connection to %s lost during authentication: %w", addr, err)
	}
	return fmt.Errorf("SMTP connection to %s failed%s: %w", addr, s.portHint(), err)
}

// portHint catches the usual port/mode mix-up, which otherwise shows up as
// a bare timeout (STARTTLS client waiting for a greeting an SMTPS server
// never sends) or a TLS record error.
func (s *Sender) portHint() string {
	switch p, m := s.cfg.port(), s.cfg.mode(); {
	case m == TLSStartTLS && p == 465:
		return " (port 465 normally means implicit TLS: try SMTP_TLS=implicit)"
	case m == TLSImplicit && (p == 587 || p == 25):
		return fmt.Sprintf(" (port %d normally means STARTTLS: try SMTP_TLS=starttls)", p)
	}
	return ""
}

// serverReply prints an SMTP reply as the server sent it. Since Go 1.26
// textproto.Error quotes the text (535 "5.7.8 ..."), which reads badly in
// an error meant for an operator.
type serverReply struct{ tp *textproto.Error }

func (r serverReply) Error() string {
	return fmt.Sprintf("%03d %s", r.tp.Code, strings.Join(strings.Fields(r.tp.Msg), " "))
}

func (r serverReply) Unwrap() error { return r.tp }

// newAuth returns the SMTP AUTH mechanism for the configuration, wrapped so
// that dialError can tell an authentication failure from a network one.
// token is the OAuth access token for XOAUTH2 and OAUTHBEARER.
func (s *Sender) newAuth(token string) *trackingAuth {
	host := strings.Trim(s.cfg.Host, "[]")
	// Validate allows plaintext only to a loopback host, so go-mail's own
	// "no password without TLS" guard may be relaxed there.
	insecure := s.cfg.mode() == TLSNone
	u, p := s.cfg.Username, s.cfg.Password
	switch s.cfg.auth() {
	case AuthPlain:
		return &trackingAuth{mech: "PLAIN", inner: smtp.PlainAuth("", u, p, host, insecure)}
	case AuthLogin:
		return &trackingAuth{mech: "LOGIN", inner: smtp.LoginAuth(u, p, host, insecure)}
	case AuthXOAUTH2:
		return &trackingAuth{mech: "XOAUTH2", inner: smtp.XOAuth2Auth(u, token)}
	case AuthOAuthBearer:
		return &trackingAuth{mech: sasl.OAuthBearer, inner: newOAuthBearerAuth(u, token, host, s.cfg.port())}
	}
	return nil
}

// trackingAuth records that AUTH began and checks that the server offers the
// mechanism, which go-mail skips for custom auth.
type trackingAuth struct {
	mech    string
	inner   smtp.Auth
	started bool
}

func (a *trackingAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	a.started = true
	if !slices.ContainsFunc(si.Auth, func(m string) bool { return strings.EqualFold(m, a.mech) }) {
		offered := strings.Join(si.Auth, " ")
		if offered == "" {
			offered = "none"
		}
		return "", nil, &configError{fmt.Errorf("SMTP server does not offer AUTH %s (it offers: %s): check SMTP_AUTH", a.mech, offered)}
	}
	return a.inner.Start(si)
}

func (a *trackingAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	return a.inner.Next(fromServer, more)
}

// oauthBearerAuth adapts go-sasl's OAUTHBEARER client (RFC 7628) to go-mail,
// which has XOAUTH2 but not the standard mechanism.
type oauthBearerAuth struct{ client sasl.Client }

func newOAuthBearerAuth(user, token, host string, port int) *oauthBearerAuth {
	return &oauthBearerAuth{client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{
		Username: user, Token: token, Host: host, Port: port,
	})}
}

func (a *oauthBearerAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return a.client.Start()
}

// Next answers the server's error challenge with the single ^A that RFC 7628
// §3.2.3 requires, so the server finishes with its failure reply (535) and
// that reply, not go-sasl's local error, reaches the operator.
func (a *oauthBearerAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	return []byte{0x01}, nil
}

// reservedHeaders are set by the sender itself; letting Message.Headers
// override them would allow spoofing From or breaking the MIME structure.
var reservedHeaders = map[string]bool{
	"from": true, "sender": true, "to": true, "cc": true, "bcc": true, "reply-to": true,
	"subject": true, "message-id": true, "date": true, "return-path": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true,
}

// build turns a Message into a go-mail Msg, refusing anything that would be
// malformed or let a value inject header lines.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	bad := func(format string, args ...any) error {
		return &InvalidMessageError{MessageID: m.MessageID, Reason: fmt.Sprintf(format, args...)}
	}
	if len(m.To) == 0 {
		return nil, bad("no recipient")
	}
	for _, to := range m.To {
		if _, err := netmail.ParseAddress(to); err != nil {
			return nil, bad("recipient %q is not a valid address: %v", to, err)
		}
	}
	if strings.TrimSpace(m.Subject) == "" {
		return nil, bad("empty subject")
	}
	if hasControl(m.Subject) {
		return nil, bad("subject contains a line break or control character")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, bad("no text or HTML body")
	}

	gm := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := gm.From(s.cfg.From); err != nil {
		return nil, &configError{fmt.Errorf("SMTP_FROM: %w", err)}
	}
	if s.cfg.ReplyTo != "" {
		if err := gm.ReplyTo(s.cfg.ReplyTo); err != nil {
			return nil, &configError{fmt.Errorf("SMTP_REPLY_TO: %w", err)}
		}
	}
	if err := gm.To(m.To...); err != nil {
		return nil, bad("recipients: %v", err)
	}
	gm.Subject(m.Subject)
	gm.SetDate()
	if m.MessageID != "" {
		id, err := bareMessageID(m.MessageID)
		if err != nil {
			return nil, bad("%v", err)
		}
		// go-mail adds the angle brackets itself.
		gm.SetMessageIDWithValue(id)
	}
	// RFC 3834: keeps out-of-office replies and vacation auto-responders from
	// answering a machine.
	gm.SetGenHeader("Auto-Submitted", "auto-generated")
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m.Headers[k]
		if !validFieldName(k) {
			return nil, bad("header name %q is not valid", k)
		}
		if reservedHeaders[strings.ToLower(k)] {
			return nil, bad("header %q is set by the sender and cannot be overridden", k)
		}
		if hasControl(v) {
			return nil, bad("header %q contains a line break or control character", k)
		}
		gm.SetGenHeader(gomail.Header(k), v)
	}

	switch {
	case m.Text != "" && m.HTML != "":
		gm.SetBodyString(gomail.TypeTextPlain, m.Text)
		gm.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		gm.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		gm.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	return gm, nil
}

// bareMessageID validates a Message-ID (RFC 5322 msg-id, with or without
// its angle brackets) and returns it without them.
func bareMessageID(id string) (string, error) {
	id = strings.TrimSpace(id)
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") {
		id = id[1 : len(id)-1]
	}
	left, right, ok := strings.Cut(id, "@")
	if !ok || left == "" || right == "" || strings.Contains(right, "@") || len(id) > 250 {
		return "", fmt.Errorf("Message-ID %q must look like <left@right>", id)
	}
	for _, r := range id {
		if r <= ' ' || r > '~' || r == '<' || r == '>' || r == '"' || r == '\\' || r == '(' || r == ')' || r == ',' || r == ';' || r == ':' {
			return "", fmt.Errorf("Message-ID %q contains %q, which a Message-ID cannot", id, r)
		}
	}
	return id, nil
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 33 || k[i] > 126 || k[i] == ':' {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}
