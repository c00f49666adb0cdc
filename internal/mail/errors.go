package mail

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// AuthError is a rejected SMTP AUTH. Its text names the settings to check
// because the person reading it is usually an operator looking at a failed
// readiness probe, not someone who knows the code.
type AuthError struct {
	Username  string
	Code      int  // the server's reply code, 0 if the client gave up first
	Temporary bool // 4xx, e.g. 454 "temporary authentication failure"
	// OAuthClient: the rejected token came from the SMTP_OAUTH_* client
	// credentials (by the time the error reaches a caller, a fresh one was
	// rejected too).
	OAuthClient bool
	Err         error
}

func (e *AuthError) Error() string {
	if e.Temporary {
		return fmt.Sprintf("SMTP authentication for user %q failed temporarily: %v", e.Username, e.Err)
	}
	if e.OAuthClient {
		return fmt.Sprintf("SMTP authentication failed for user %q with an access token from SMTP_OAUTH_TOKEN_URL (check SMTP_USERNAME, and that the SMTP_OAUTH_CLIENT_ID application may send as it with SMTP_OAUTH_SCOPE): %v", e.Username, e.Err)
	}
	return fmt.Sprintf("SMTP authentication failed for user %q (check SMTP_USERNAME / SMTP_PASSWORD): %v", e.Username, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

// SendError is the result of one message that the relay did not take.
type SendError struct {
	MessageID string // as given in Message.MessageID
	Code      int    // SMTP reply code (451, 550, ...); 0 when there was no reply (refused, timeout, dropped)
	Permanent bool   // see IsPermanent
	Err       error
}

func (e *SendError) Error() string {
	var ge *gomail.SendError
	if errors.As(e.Err, &ge) {
		// go-mail's text already names the command, the reply, the
		// recipients and the Message-ID.
		return "SMTP send failed: " + e.Err.Error()
	}
	if e.MessageID != "" {
		return fmt.Sprintf("SMTP send of %s failed: %v", e.MessageID, e.Err)
	}
	return "SMTP send failed: " + e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// InvalidMessageError is a message the sender refused to put on the wire
// (no recipient, a header with a line break, ...). Retrying cannot help.
type InvalidMessageError struct {
	MessageID string
	Reason    string
}

func (e *InvalidMessageError) Error() string {
	if e.MessageID == "" {
		return "invalid message: " + e.Reason
	}
	return fmt.Sprintf("invalid message %s: %s", e.MessageID, e.Reason)
}

// IsPermanent tells the outbox whether to give up on a message (true) or
// retry it with backoff (false).
//
// Permanent: any SMTP 5xx reply (550 recipient rejected, 552 too big, 554
// refused), an authentication failure, a message the sender refused to
// build, or an invalid configuration. Everything else — 4xx replies,
// connection refused, timeouts, dropped connections, TLS handshake problems,
// cancelled contexts — is temporary, because retrying later is the safe
// default when the cause is unknown: a wrongly temporary error costs a few
// retries, a wrongly permanent one loses an escalation.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Permanent
	}
	var ae *AuthError
	if errors.As(err, &ae) {
		return !ae.Temporary
	}
	var te *TokenError
	if errors.As(err, &te) {
		return !te.Temporary
	}
	var ie *InvalidMessageError
	if errors.As(err, &ie) {
		return true
	}
	var ce *configError
	if errors.As(err, &ce) {
		return true
	}
	if code := replyCode(err); code != 0 {
		return code >= 500
	}
	return false
}

// replyCode digs the SMTP reply code out of an error from go-mail. go-mail's
// SendError does not unwrap to the textproto.Error it holds, but it records
// the code (parsed from the reply text) in ErrorCode.
func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	var ge *gomail.SendError
	if errors.As(err, &ge) {
		if c := ge.ErrorCode(); c >= 400 && c < 600 {
			return c
		}
	}
	return 0
}

// configError wraps Validate's result so IsPermanent can recognise it.
type configError struct{ err error }

// Error is one line, so a start-up failure reads as one line too.
func (e *configError) Error() string {
	return "SMTP configuration: " + strings.ReplaceAll(e.err.Error(), "\n", "; ")
}
func (e *configError) Unwrap() error { return e.err }
