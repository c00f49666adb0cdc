package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// TokenSource gives the OAuth 2.0 access token that AUTH XOAUTH2 and
// OAUTHBEARER present. The sender asks for a token before every connection
// and, when the server rejects one, calls Invalidate and asks once more.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Invalidate drops token if it is the one cached, so the next Token
	// call fetches a new one.
	Invalidate(token string)
}

// staticToken is SMTP_PASSWORD used as the access token: someone else
// keeps it fresh.
type staticToken string

func (t staticToken) Token(context.Context) (string, error) { return string(t), nil }
func (staticToken) Invalidate(string)                       {}

// ClientCredentials fetches access tokens with the OAuth 2.0 client
// credentials grant (RFC 6749 §4.4) — the way Microsoft 365 lets an
// application send as a mailbox without a person signing in — and caches
// each until shortly before it expires. It is safe for concurrent use;
// concurrent callers wait for one fetch rather than each making their own.
//
// The client authenticates to the token endpoint with HTTP Basic (RFC 6749
// §2.3.1, which every server must support); if the endpoint refuses that
// with 400 or 401 it tries once with client_id and client_secret in the
// form body instead, and keeps to whichever worked.
type ClientCredentials struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scope        string       // space-separated; "" asks for the client's default scopes
	HTTPClient   *http.Client // nil: a client with a 30-second timeout

	mu      sync.Mutex
	token   string
	expiry  time.Time // zero: the server gave no lifetime; kept until rejected
	inBody  bool      // send the client credentials in the form body, not Basic
	settled bool      // the client authentication style is known to work
}

// maxRefreshAhead caps how long before its expiry a token is replaced: a
// minute, or a fifth of the token's lifetime when that is shorter.
const maxRefreshAhead = time.Minute

// Token returns the cached token, or fetches a new one if there is none or
// it expires within the refresh margin.
func (c *ClientCredentials) Token(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.token != "" && (c.expiry.IsZero() || now.Before(c.expiry)) {
		return c.token, nil
	}
	return c.fetch(ctx)
}

// Invalidate forgets token if it is the cached one.
func (c *ClientCredentials) Invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token, c.expiry = "", time.Time{}
	}
}

// TokenError is a failed request to the OAuth token endpoint.
type TokenError struct {
	URL         string
	Status      int    // HTTP status; 0 when there was no answer
	Code        string // the OAuth error code ("invalid_client", ...), if given
	Description string
	Temporary   bool // no answer, 429 or 5xx: worth retrying later
	Err         error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fetching an SMTP OAuth access token from %s", e.URL)
	switch {
	case e.Status == 0:
		fmt.Fprintf(&b, " failed: %v", e.Err)
	default:
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
		if e.Description != "" {
			fmt.Fprintf(&b, " (%s)", e.Description)
		}
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	}
	if !e.Temporary {
		b.WriteString(" (check SMTP_OAUTH_TOKEN_URL, SMTP_OAUTH_CLIENT_ID, SMTP_OAUTH_CLIENT_SECRET and SMTP_OAUTH_SCOPE)")
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

// tokenResponse is RFC 6749 §5.1's successful response and §5.2's error.
type tokenResponse struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// fetch asks the token endpoint for a new token; c.mu is held.
func (c *ClientCredentials) fetch(ctx context.Context) (string, error) {
	tok, err := c.request(ctx, c.inBody)
	var te *TokenError
	if !c.settled && errors.As(err, &te) && (te.Status == http.StatusBadRequest || te.Status == http.StatusUnauthorized) {
		// Some servers take the client credentials only in the body.
		if tok2, err2 := c.request(ctx, !c.inBody); err2 == nil {
			c.inBody = !c.inBody
			tok, err = tok2, nil
		}
	}
	if err != nil {
		return "", err
	}
	c.settled = true
	return tok, nil
}

// request makes one token request and caches its answer.
func (c *ClientCredentials) request(ctx context.Context, inBody bool) (string, error) {
	fail := func(status int, err error) *TokenError {
		return &TokenError{URL: c.TokenURL, Status: status, Temporary: status == 0 || status == http.StatusTooManyRequests || status >= 500, Err: err}
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	if c.Scope != "" {
		form.Set("scope", c.Scope)
	}
	if inBody {
		form.Set("client_id", c.ClientID)
		form.Set("client_secret", c.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &configError{fmt.Errorf("SMTP_OAUTH_TOKEN_URL: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !inBody {
		// §2.3.1: each part is form-encoded before Basic encodes the pair.
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return "", fail(0, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fail(0, err)
	}
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		te := fail(resp.StatusCode, nil)
		if jerr == nil {
			te.Code, te.Description = tr.Error, tr.ErrorDescription
		}
		return "", te
	}
	if jerr != nil {
		return "", fail(resp.StatusCode, fmt.Errorf("the answer is not a token response: %w", jerr))
	}
	if tr.AccessToken == "" {
		return "", fail(resp.StatusCode, errors.New("the answer has no access_token"))
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", fail(resp.StatusCode, fmt.Errorf("token_type %q, want Bearer", tr.TokenType))
	}
	lifetime, err := expiresIn(tr.ExpiresIn)
	if err != nil {
		return "", fail(resp.StatusCode, err)
	}
	c.token, c.expiry = tr.AccessToken, time.Time{}
	if lifetime > 0 {
		// Counted from before the request, and replaced early, so a token
		// is never presented in its last moments.
		c.expiry = start.Add(lifetime - min(maxRefreshAhead, lifetime/5))
	}
	return c.token, nil
}

// expiresIn reads expires_in, which some servers send as a string.
func expiresIn(raw json.RawMessage) (time.Duration, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("expires_in %s is not a number of seconds", raw)
	}
	return time.Duration(n * float64(time.Second)), nil
}
