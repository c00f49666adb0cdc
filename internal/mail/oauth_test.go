package mail_test

// The OAuth client credentials token source against a real HTTP token
// endpoint (httptest), and end to end against the development SMTP server,
// which takes XOAUTH2 and OAUTHBEARER with one accepted token.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/throughgate/throughgate/internal/devsmtp"
	"github.com/throughgate/throughgate/internal/mail"
)

// tokenServer is an OAuth 2.0 token endpoint for the client credentials
// grant. It checks each request as RFC 6749 §4.4 and §2.3.1 have it and
// answers with the next token from tokens (the last one repeats).
type tokenServer struct {
	*httptest.Server
	mu        sync.Mutex
	requests  int
	tokens    []string
	expiresIn any  // as sent: a number, a string, or nil for none
	bodyOnly  bool // refuse HTTP Basic; take the credentials in the body
	status    int  // answer every request with this error status, if set
	problems  []string
}

func newTokenServer(t *testing.T, expiresIn any, tokens ...string) *tokenServer {
	ts := &tokenServer{tokens: tokens, expiresIn: expiresIn}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		for _, p := range ts.problems {
			t.Errorf("token request: %s", p)
		}
	})
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.requests++
	problem := func(format string, args ...any) { ts.problems = append(ts.problems, fmt.Sprintf(format, args...)) }
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		problem("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		problem("form: %v", err)
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		problem("grant_type %q", g)
	}
	if s := r.PostForm.Get("scope"); s != "https://outlook.office365.com/.default" {
		problem("scope %q", s)
	}
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		// §2.3.1: each part was form-encoded before the pair was encoded.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	switch {
	case ts.status != 0:
		reply(ts.status, map[string]string{"error": "temporarily_unavailable"})
		return
	case basic && ts.bodyOnly:
		reply(http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "use client_secret_post"})
		return
	case id != "throughgate-app" || secret != "s3cret:&=":
		reply(http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "bad client credentials"})
		return
	}
	tok := ts.tokens[min(ts.requests, len(ts.tokens))-1]
	body := map[string]any{"access_token": tok, "token_type": "Bearer"}
	if ts.expiresIn != nil {
		body["expires_in"] = ts.expiresIn
	}
	reply(http.StatusOK, body)
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.requests
}

func credentials(ts *tokenServer) *mail.ClientCredentials {
	// The secret has characters Basic authentication must form-encode.
	return &mail.ClientCredentials{TokenURL: ts.URL + "/oauth2/v2.0/token", ClientID: "throughgate-app",
		ClientSecret: "s3cret:&=", Scope: "https://outlook.office365.com/.default"}
}

func TestClientCredentialsCachesUntilExpiry(t *testing.T) {
	ts := newTokenServer(t, 1, "tok-1", "tok-2", "tok-3")
	cc := credentials(ts)
	ctx := context.Background()
	expect := func(want string, requests int) {
		t.Helper()
		got, err := cc.Token(ctx)
		if err != nil || got != want || ts.count() != requests {
			t.Fatalf("Token = %q, %v after %d requests; want %q after %d", got, err, ts.count(), want, requests)
		}
	}
	expect("tok-1", 1) // the first call fetches
	expect("tok-1", 1) // the second uses the cache
	// expires_in 1: replaced a fifth of its lifetime early, at 0.8 s.
	time.Sleep(850 * time.Millisecond)
	expect("tok-2", 2)
	// A token the server rejected is dropped; a stale rejection is not.
	cc.Invalidate("tok-1")
	expect("tok-2", 2)
	cc.Invalidate("tok-2")
	expect("tok-3", 3)
}

func TestClientCredentialsWithoutLifetimeOrAsString(t *testing.T) {
	ts := newTokenServer(t, nil, "forever")
	cc := credentials(ts)
	for range 3 {
		if tok, err := cc.Token(context.Background()); err != nil || tok != "forever" {
			t.Fatalf("%q %v", tok, err)
		}
	}
	if ts.count() != 1 {
		t.Errorf("%d requests for a token with no expires_in, want 1 (kept until rejected)", ts.count())
	}
	ts2 := newTokenServer(t, "3599", "stringly")
	if tok, err := credentials(ts2).Token(context.Background()); err != nil || tok != "stringly" {
		t.Errorf(`expires_in "3599": %q %v`, tok, err)
	}
}

func TestClientCredentialsInTheBody(t *testing.T) {
	ts := newTokenServer(t, 3600, "t1", "t2", "t3")
	ts.bodyOnly = true
	cc := credentials(ts)
	if tok, err := cc.Token(context.Background()); err != nil || tok != "t2" || ts.count() != 2 {
		t.Fatalf("%q %v after %d requests; want t2 after Basic was refused and the body worked", tok, err, ts.count())
	}
	cc.Invalidate("t2")
	if tok, err := cc.Token(context.Background()); err != nil || tok != "t3" || ts.count() != 3 {
		t.Errorf("%q %v after %d requests; want t3 at once in the body", tok, err, ts.count())
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	ts := newTokenServer(t, 3600, "t")
	cc := credentials(ts)
	cc.ClientSecret = "wrong"
	_, err := cc.Token(context.Background())
	var te *mail.TokenError
	if !errors.As(err, &te) || te.Status != 401 || te.Code != "invalid_client" || !mail.IsPermanent(err) ||
		!strings.Contains(err.Error(), "SMTP_OAUTH_CLIENT_SECRET") {
		t.Errorf("wrong secret: %v (want a permanent TokenError naming the settings)", err)
	}
	ts.status = http.StatusServiceUnavailable
	if _, err := credentials(ts).Token(context.Background()); !errors.As(err, &te) || te.Status != 503 || mail.IsPermanent(err) {
		t.Errorf("503: %v (want a temporary TokenError)", err)
	}
	ts.Close()
	if _, err := credentials(ts).Token(context.Background()); !errors.As(err, &te) || te.Status != 0 || mail.IsPermanent(err) {
		t.Errorf("endpoint down: %v (want a temporary TokenError)", err)
	}
}

// TestOAuthSendWithFetchedTokens: the token endpoint's first token has been
// revoked (the SMTP server rejects it); the sender drops it, fetches a new
// one and sends on a second connection. The next send reuses the cached
// token, and a token near its expiry is replaced before it is presented.
func TestOAuthSendWithFetchedTokens(t *testing.T) {
	for _, auth := range []string{"xoauth2", "oauthbearer"} {
		t.Run(auth, func(t *testing.T) {
			srv := startDev(t, devsmtp.Options{Username: "throughgate@pvi.example.org", Password: "good-token", RequireTLS: true})
			ts := newTokenServer(t, 3600, "revoked-token", "good-token")
			cfg := configFor(t, srv.Addr(), srv)
			cc := credentials(ts)
			cfg.Auth, cfg.Username, cfg.Password = auth, "throughgate@pvi.example.org", ""
			cfg.OAuthTokenURL, cfg.OAuthClientID, cfg.OAuthClientSecret, cfg.OAuthScope = cc.TokenURL, cc.ClientID, cc.ClientSecret, cc.Scope
			s := mustSender(t, cfg)
			if errs := s.Send(context.Background(), msg(1)); errs[0] != nil {
				t.Fatalf("send: %v", errs[0])
			}
			if ts.count() != 2 || srv.Connections() != 2 || len(srv.Messages()) != 1 {
				t.Errorf("%d token requests, %d connections, %d messages; want 2, 2, 1", ts.count(), srv.Connections(), len(srv.Messages()))
			}
			if err := s.Check(context.Background()); err != nil {
				t.Errorf("Check: %v", err)
			}
			if errs := s.Send(context.Background(), msg(2)); errs[0] != nil || ts.count() != 2 {
				t.Errorf("second send: %v after %d token requests, want the cached token", errs[0], ts.count())
			}
		})
	}
	t.Run("expiring", func(t *testing.T) {
		srv := startDev(t, devsmtp.Options{Username: "throughgate@pvi.example.org", Password: "good-token", RequireTLS: true})
		ts := newTokenServer(t, 1, "good-token")
		cfg := configFor(t, srv.Addr(), srv)
		cc := credentials(ts)
		cfg.Auth, cfg.Username, cfg.Password = "xoauth2", "throughgate@pvi.example.org", ""
		cfg.OAuthTokenURL, cfg.OAuthClientID, cfg.OAuthClientSecret, cfg.OAuthScope = cc.TokenURL, cc.ClientID, cc.ClientSecret, cc.Scope
		s := mustSender(t, cfg)
		s.Send(context.Background(), msg(1))
		time.Sleep(850 * time.Millisecond)
		if errs := s.Send(context.Background(), msg(2)); errs[0] != nil || ts.count() != 2 || srv.Connections() != 2 {
			t.Errorf("after expiry: %v, %d token requests, %d connections; want a new token, no rejected AUTH", errs[0], ts.count(), srv.Connections())
		}
	})
	t.Run("rejected twice", func(t *testing.T) {
		srv := startDev(t, devsmtp.Options{Username: "throughgate@pvi.example.org", Password: "good-token", RequireTLS: true})
		ts := newTokenServer(t, 3600, "bad-1", "bad-2", "bad-3")
		cfg := configFor(t, srv.Addr(), srv)
		cc := credentials(ts)
		cfg.Auth, cfg.Username, cfg.Password = "oauthbearer", "throughgate@pvi.example.org", ""
		cfg.OAuthTokenURL, cfg.OAuthClientID, cfg.OAuthClientSecret, cfg.OAuthScope = cc.TokenURL, cc.ClientID, cc.ClientSecret, cc.Scope
		err := mustSender(t, cfg).Send(context.Background(), msg(1))[0]
		var ae *mail.AuthError
		if !errors.As(err, &ae) || !ae.OAuthClient || !mail.IsPermanent(err) || ts.count() != 2 || srv.Connections() != 2 {
			t.Errorf("%v after %d token requests and %d connections; want one retry, then a permanent AuthError", err, ts.count(), srv.Connections())
		}
	})
}
